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
	// CheckWakes builds the next cluster's scheduler in its wake-check
	// mode (sim.Config.CheckWakes): a test's proof that every process
	// names what its Ready reads.
	CheckWakes bool
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

// Exec parses one script line and runs it (Parse, then Run).
func (r *Runner) Exec(line string) (string, error) {
	cmd, err := Parse(line)
	if err != nil {
		return "", err
	}
	return r.Run(cmd)
}

// Run runs one command and returns what it printed: the trace its steps
// produced, then its own result.
func (r *Runner) Run(cmd Command) (string, error) {
	if _, ok := cmd.(Cluster); !ok && r.C == nil {
		return "", fmt.Errorf("%s: no cluster yet (start with 'cluster')", Verb(cmd))
	}
	res, err := cmd.run(r)
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
