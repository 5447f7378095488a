package script

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"promotesim/scenarios/check"
	"promotesim/scenarios/cluster"
	"promotesim/sim"
)

// Runner executes scenario commands against a cluster, one line at a time:
// a verb, then key=value arguments. Every command prints the story-level
// trace its steps produced, then its own result, so a script reads as a
// narrated walkthrough. The script tests (testdata/*.txt) and the demos both
// drive a Runner.
type Runner struct {
	C *cluster.Cluster
	// K are the cluster's oracle and checkers (check.Install).
	K      *check.Checks
	seed   uint64
	level  sim.Level
	format sim.Format
	out    bytes.Buffer // the trace sink; drained after each command
	// Budget bounds every run-until (steps).
	Budget int
	// Quiet drops the trace instead of printing it (explorer worlds keep
	// only the scheduler's ring for violation reports).
	Quiet bool
	// Chooser, when set, drives the next cluster's schedule whatever its
	// sched= says (a recorder for shrinking, a rapid-backed chooser).
	Chooser sim.Chooser
	// world is the explorer's bookkeeping (promotes requested), nil in
	// plain scripts until a world command needs it.
	world *worldState
	// TraceTo, when set, receives the trace directly instead of the
	// per-command buffer (a replay printing its whole trace).
	TraceTo io.Writer
}

// NewRunner returns a runner whose clusters trace at level in format.
func NewRunner(seed uint64, level sim.Level, format sim.Format) *Runner {
	if level == 0 {
		level = sim.LevelStory
	}
	if format == 0 {
		format = sim.FormatText
	}
	return &Runner{seed: seed, level: level, format: format, Budget: 50000}
}

// Exec runs one command and returns what it printed.
func (r *Runner) Exec(line string) (string, error) {
	cmd, a, err := ParseLine(line)
	if err != nil {
		return "", err
	}
	var res string
	if cmd != "cluster" && r.C == nil {
		return "", fmt.Errorf("%s: no cluster yet (start with 'cluster')", cmd)
	}
	switch cmd {
	case "cluster":
		res, err = r.cluster(a)
	case "write", "abort":
		res, err = r.write(cmd, a)
	case "writes":
		res, err = r.writes(a)
	case "read":
		res, err = r.read(a)
	case "promote", "trigger", "crash", "rebuild":
		res, err = r.nodeOp(cmd, a)
	case "stop":
		res, err = r.stop(a)
	case "start":
		res, err = r.start(a)
	case "drop-slot":
		res, err = r.dropSlot(a)
	case "run":
		res, err = r.run(a)
	case "run-until":
		res, err = r.runUntil(a)
	case "status":
		res, err = r.status(a)
	case "slots":
		res, err = r.slots(a)
	case "stat-replication":
		res, err = r.statReplication(a)
	case "check":
		res, err = r.check(a)
	case "plan-stop", "plan-promote":
		return r.ExecPlan(line)
	case "submit":
		res, err = r.submit(a)
	case "submit-read":
		res, err = r.submitRead(a)
	case "fault":
		res, err = r.fault(a)
	case "heal":
		res, err = r.heal(a)
	case "liveness":
		res, err = r.liveness(a)
	case "pause", "resume":
		res, err = r.pause(cmd, a)
	case "stall-save", "resume-save":
		res, err = r.stallSave(cmd, a)
	case "checkpoint":
		res, err = r.checkpoint(a)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	trace := r.drain()
	switch {
	case trace != "" && res != "":
		return trace + "\n" + res, err
	case trace != "":
		return trace, err
	}
	return res, err
}

func (r *Runner) drain() string {
	s := strings.TrimRight(r.out.String(), "\n")
	r.out.Reset()
	return s
}
