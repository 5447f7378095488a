package explore

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"promotesim/scenarios/cluster"
	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
	"promotesim/sim"
)

// A regression script is a failure once found, kept for good: the cluster
// line, every command after it and every scheduler choice (the
// counterexample format, scenarios/testdata/regressions/*.txt), plus what
// it guards and the outcome it must have ("# expect: none" or the checker
// that must fire). A regression pinned as DeriveSwarm(seed) guards only as
// long as the planner and traffic draw the same world from that seed; a
// script does not depend on them. Only the outcome is replayed and
// compared (TestRegressions), not the trace, so trace wording cannot make
// it stale.

// RecordRegression turns a world's outcome into a regression script's
// content: its commands as recorded, its seeded schedule replaced by the
// choices it made (sim.Recorder), and the cluster line switched to FIFO
// past them, as the shrinker's record step does. ch is a fresh copy of the
// chooser that ran o (nil: the cluster line's own seeded schedule). It
// fails when the scripted replay does not end as the world did.
func RecordRegression(o swarm.Outcome, ch sim.Chooser) (Counterexample, error) {
	cx := FromOutcome(o)
	if cx.Swarm.Opts.Nodes == 0 {
		cx.Options = "" // not a derived world: nothing to say where it came from
	}
	if ch == nil {
		ch = cx.Cluster.Chooser(cx.Seed)
	}
	rec := &sim.Recorder{Inner: ch}
	got, err := replayGuarded(cx.Cluster, cx.Actions, cx.Seed, swarm.RunConfig{Chooser: rec})
	if err != nil {
		return cx, err
	}
	cx.Scripted, cx.Schedule = true, trimZeros(rec.Choices)
	if cx.Cluster.Seeded() {
		cx.Cluster.Sched = "fifo"
	}
	again, err := cx.Run(swarm.RunConfig{})
	if err != nil {
		return cx, err
	}
	if outcomeName(got.Violation) != outcomeName(o.Violation) || outcomeName(again.Violation) != outcomeName(o.Violation) {
		return cx, fmt.Errorf("seed %d: the recorded script ends in %s (seeded replay %s), the world in %s",
			cx.Seed, outcomeName(again.Violation), outcomeName(got.Violation), outcomeName(o.Violation))
	}
	return cx, nil
}

// outcomeName is "none" or the checker that fired: a regression's expect.
func outcomeName(v *sim.Violation) string {
	if v == nil {
		return "none"
	}
	return v.Checker
}

// WriteRegression writes cx as a regression script: guards (prose: what
// the file guards and where it came from) as comments, the header the
// replay reads, then each command with an empty expected output.
func WriteRegression(w io.Writer, cx Counterexample, guards, expect string) error {
	if strings.TrimSpace(guards) == "" || expect == "" {
		return fmt.Errorf("a regression script needs what it guards and its expected outcome")
	}
	var b strings.Builder
	b.WriteString("# Regression script (scenarios/testdata/regressions/README.md).\n#\n")
	writeComment(&b, strings.TrimSpace(guards))
	b.WriteString("#\n")
	checker := cx.Checker
	if checker == "" {
		checker = expect
	}
	fmt.Fprintf(&b, "# expect: %s\n# checker: %s\n# seed: %d\n", expect, checker, cx.Seed)
	if cx.Options != "" {
		fmt.Fprintf(&b, "# options: %s\n", cx.Options)
	}
	fmt.Fprintf(&b, "# model-version: %s\n", cluster.ModelVersion)
	if cx.Scripted {
		fmt.Fprintf(&b, "# schedule: %s\n", ScheduleString(cx.Schedule))
	}
	b.WriteString("# Test: go test ./scenarios -run TestRegressions\n\n")
	for _, cmd := range append([]script.Command{cx.Cluster}, cx.Actions...) {
		fmt.Fprintf(&b, "%s\n----\n\n", cmd)
	}
	_, err := io.WriteString(w, strings.TrimRight(b.String(), "\n")+"\n")
	return err
}

// SaveRegression records o (run by a fresh copy of ch, nil: its cluster
// line's schedule) and writes it to path (its directory created).
func SaveRegression(path string, o swarm.Outcome, ch sim.Chooser, guards string) error {
	cx, err := RecordRegression(o, ch)
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := WriteRegression(&b, cx, guards, outcomeName(o.Violation)); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// RegressionResult is the verdict of one regression script: the outcome
// its header expects ("none" or a checker), the violation the replay met,
// and the marks it requires that the run did not record.
type RegressionResult struct {
	Expect       string
	V            *sim.Violation
	MissingMarks []string
}

// Holds reports whether the replay ended as the file expects and passed
// through every mark it requires.
func (r RegressionResult) Holds() bool {
	return len(r.MissingMarks) == 0 && outcomeName(r.V) == r.Expect
}

// IsRegression reports whether a parsed script is a regression script: a
// counterexample-format file whose header says "# expect: ...".
func IsRegression(sf *script.File) bool { return len(headerValues(sf, "expect")) > 0 }

// RunRegression replays a regression script (its commands and schedule;
// liveness and the whole-state checks included) and compares only the
// outcome with its header, never the trace: "# expect:" names it and every
// "# requires-mark:" line a mark the run must record (so a script that no
// longer reaches the path it guards fails too). TestRegressions and
// promotesim run FILE both judge a regression file here.
func RunRegression(sf *script.File) (RegressionResult, error) {
	var rr RegressionResult
	expect := headerValues(sf, "expect")
	if len(expect) != 1 || expect[0] == "" {
		return rr, fmt.Errorf("%s: a regression script needs exactly one '# expect: none|CHECKER' line", sf.Path)
	}
	rr.Expect = expect[0]
	f, err := counterexampleOf(sf)
	if err != nil {
		return rr, err
	}
	cl, ok := f.Commands[0].(script.Cluster)
	if !ok {
		return rr, fmt.Errorf("%s: the first command is not a cluster line", sf.Path)
	}
	cx := Counterexample{Cluster: cl, Actions: f.Commands[1:], Scripted: f.Header.Scripted,
		Schedule: f.Header.Schedule, Seed: f.Header.Seed, Checker: f.Header.Checker}
	o, err := cx.Run(swarm.RunConfig{})
	if err != nil {
		return rr, err
	}
	rr.V = o.Violation
	for _, m := range headerValues(sf, "requires-mark") {
		if !slices.Contains(o.Marks, m) {
			rr.MissingMarks = append(rr.MissingMarks, m)
		}
	}
	return rr, nil
}

// headerValues are the values of a file's "# key: value" header lines.
func headerValues(sf *script.File, key string) []string {
	var out []string
	for _, c := range sf.Comments {
		if v, ok := strings.CutPrefix(strings.TrimSpace(c.Text), "# "+key+":"); ok {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}
