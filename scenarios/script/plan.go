package script

import (
	"fmt"

	"promotesim/scenarios/hazard"
	"promotesim/storage"
)

// The plan verbs of hazard scripts take their form from the plan switches
// of the cluster's hazard (Options.Hazard), so the same script with
// hazard= removed follows the right plan:
//
//	plan-stop node=N [mode=fast|immediate]  pg_ctl stop of the old primary
//	                                         before the promote; nothing under
//	                                         KeepPrimaryRunning
//	plan-promote node=N                      pg_ctl promote; the trigger file
//	                                         under TriggerFile
//
// Each prints "plan: " and the command it ran, then that command's output.

// PlanStop is the plan's stop of the old primary.
type PlanStop struct{ Stop Stop }

// PlanPromote is the plan's promote.
type PlanPromote struct{ Node storage.HostID }

func parsePlanStop(_ string, a args) (Command, error) {
	c, err := parseStop("stop", a)
	if err != nil {
		return nil, err
	}
	return PlanStop{Stop: c.(Stop)}, nil
}

func parsePlanPromote(verb string, a args) (Command, error) {
	h, err := a.node(verb)
	if err != nil {
		return nil, err
	}
	return PlanPromote{Node: h}, nil
}

func (c PlanStop) String() string {
	l := newLine("plan-stop").node(c.Stop.Node)
	if c.Stop.Mode != "" {
		l.kv("mode", c.Stop.Mode)
	}
	return l.String()
}

func (c PlanPromote) String() string { return newLine("plan-promote").node(c.Node).String() }

// planHazard is the hazard of the cluster (the zero Hazard for none).
func (r *Runner) planHazard() (hazard.Hazard, error) {
	if r.C.Opts.Hazard == "" {
		return hazard.Hazard{}, nil
	}
	return hazard.Lookup(r.C.Opts.Hazard)
}

func (c PlanStop) run(r *Runner) (string, error) {
	hz, err := r.planHazard()
	if err != nil {
		return "", err
	}
	if hz.KeepPrimaryRunning {
		return fmt.Sprintf("plan: %v keeps running (%s)", c.Stop.Node, hz.Name), nil
	}
	return r.runPlanned(c.Stop)
}

func (c PlanPromote) run(r *Runner) (string, error) {
	hz, err := r.planHazard()
	if err != nil {
		return "", err
	}
	if hz.TriggerFile {
		return r.runPlanned(Trigger(c))
	}
	return r.runPlanned(Promote(c))
}

// runPlanned runs the command a plan verb stands for, printing it first.
func (r *Runner) runPlanned(cmd Command) (string, error) {
	out, err := r.Run(cmd)
	plan := "plan: " + cmd.String()
	if out != "" {
		plan += "\n" + out
	}
	return plan, err
}
