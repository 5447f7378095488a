package script

import (
	"fmt"
	"strings"

	"promotesim/scenarios/hazard"
)

// ExecPlan runs one line of a hazard script. Two operator verbs take their
// form from the plan switches of the cluster's hazard (Options.Hazard), so
// the same script with hazard= removed follows the right plan:
//
//	plan-stop node=N [mode=fast|immediate]  pg_ctl stop of the old primary
//	                                         before the promote; nothing under
//	                                         KeepPrimaryRunning
//	plan-promote node=N                      pg_ctl promote; the trigger file
//	                                         under TriggerFile
//
// Every other line goes to Exec unchanged.
func (r *Runner) ExecPlan(line string) (string, error) {
	cmd, a, err := ParseLine(line)
	if err != nil {
		return "", err
	}
	if cmd != "plan-stop" && cmd != "plan-promote" {
		return r.Exec(line)
	}
	if r.C == nil {
		return "", fmt.Errorf("%s: no cluster yet (start with 'cluster')", cmd)
	}
	var hz hazard.Hazard
	if r.C.Opts.Hazard != "" {
		if hz, err = hazard.Lookup(r.C.Opts.Hazard); err != nil {
			return "", err
		}
	}
	switch cmd {
	case "plan-stop":
		h, err := a.node(cmd, "mode")
		if err != nil {
			return "", err
		}
		if hz.KeepPrimaryRunning {
			return fmt.Sprintf("plan: %v keeps running (%s)", h, hz.Name), nil
		}
		line = "stop" + strings.TrimPrefix(line, "plan-stop")
	default:
		if _, err := a.node(cmd); err != nil {
			return "", err
		}
		verb := "promote"
		if hz.TriggerFile {
			verb = "trigger"
		}
		line = verb + strings.TrimPrefix(line, "plan-promote")
	}
	out, err := r.Exec(line)
	plan := "plan: " + line
	if out != "" {
		plan += "\n" + out
	}
	return plan, err
}
