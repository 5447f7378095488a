package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"promotesim/scenarios/check"
	"promotesim/scenarios/cluster"
	"promotesim/scenarios/explore"
	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
)

func runCheck(args []string, stdout, stderr io.Writer) error {
	cfg, outDir, jsonOut, err := parseCheckFlags(args, stderr)
	if err != nil {
		return err
	}
	tuneGC()
	res, err := explore.CheckExhaustive(context.Background(), cfg)
	if err != nil {
		return err
	}
	var path string
	var cxErr error
	if res.Shortest != nil {
		path, cxErr = explore.SaveCounterexample(outDir, res.Shortest)
		if cxErr != nil {
			path = ""
		}
	}
	if jsonOut {
		if err := printCheckJSON(stdout, cfg.Base, res, path, cxErr); err != nil {
			return err
		}
	} else {
		printCheck(stdout, cfg.Base, res, path, cxErr)
	}
	if res.Shortest != nil {
		return errViolationReported
	}
	return nil
}

// parseCheckFlags reads and checks check's flags.
func parseCheckFlags(args []string, stderr io.Writer) (cfg explore.ExhaustiveConfig, outDir string, jsonOut bool, err error) {
	fs := newFlags("check", "check -exhaustive [-depth D] [-profile v15|v15-fixed|v11|v11-fixed] [-fence none|epoch|detect] [-hazard NAME] [-workers K] [-max-runs N] [-budget D] [-json]", stderr)
	exhaustive := fs.Bool("exhaustive", false, "enumerate every interleaving of a small world through the promote window")
	depth := fs.Int("depth", 9, "choices enumerated per run, from the promote on (choices beyond it are 0)")
	bf := addBaseFlags(fs, "hazard under test (promotesim hazards lists them)")
	workers := fs.Int("workers", 0, "enumerators run at once, split by the first choice (default: every core)")
	maxRuns := fs.Int("max-runs", 0, "stop after this many schedules (0: no limit; the report says it is incomplete)")
	budget := fs.Duration("budget", 0, "stop after this wall time (0: no limit)")
	out := fs.String("out", defaultCxDir, "directory for the counterexample script")
	js := fs.Bool("json", false, "print a machine-readable JSON report")
	if err = parse(fs, args, 0); err != nil {
		return
	}
	if !*exhaustive {
		err = usageErr("say -exhaustive (the one check there is: every interleaving of a small world)")
		return
	}
	switch {
	case *depth < 1 || *depth > 30:
		err = usageErr("-depth %d: want 1..30", *depth)
	case *workers < 0:
		err = usageErr("-workers %d: want a positive number (or 0 for every core)", *workers)
	case *maxRuns < 0:
		err = usageErr("-max-runs %d: want a positive number (or 0)", *maxRuns)
	case *budget < 0:
		err = usageErr("-budget %v: want a positive duration", *budget)
	}
	if err != nil {
		return
	}
	base, _, err := bf.base(false)
	if err != nil {
		return
	}
	cfg = explore.ExhaustiveConfig{Base: base, Depth: *depth, Workers: *workers, MaxRuns: *maxRuns, Budget: *budget}
	return cfg, *out, *js, nil
}

func printCheckJSON(stdout io.Writer, base swarm.Base, res *explore.ExhaustiveResult, path string, cxErr error) error {
	out := struct {
		Model          string              `json:"model_version"`
		Base           string              `json:"base"`
		Depth          int                 `json:"depth"`
		Cluster        string              `json:"cluster"`
		Actions        []string            `json:"actions"`
		Schedules      int                 `json:"schedules"`
		Truncated      int                 `json:"truncated"`
		States         int                 `json:"distinct_end_states"`
		MidStates      int                 `json:"distinct_states_at_read_write"`
		Steps          uint64              `json:"steps"`
		Failing        int                 `json:"failing_schedules"`
		Complete       bool                `json:"complete"`
		ElapsedSec     float64             `json:"elapsed_s"`
		Counterexample *jsonCounterexample `json:"counterexample,omitempty"`
	}{cluster.ModelVersion, baseText(base), res.Depth, res.Cluster.String(), script.Lines(res.Actions), res.Runs, res.Truncated, res.States, res.MidStates, res.Steps,
		res.Failing, !res.Incomplete, res.Elapsed.Seconds(), cxJSON(res.Shortest, path, cxErr)}
	return writeJSON(stdout, out)
}

func printCheck(stdout io.Writer, base swarm.Base, res *explore.ExhaustiveResult, path string, cxErr error) {
	fmt.Fprintf(stdout, "exhaustive check, depth %d, %s\n", res.Depth, baseText(base))
	fmt.Fprintf(stdout, "  world: %s\n", res.Cluster)
	fmt.Fprintf(stdout, "         %s\n", strings.Join(script.Lines(res.Actions), "; "))
	fmt.Fprintf(stdout, "  %d schedules (%d reached the depth bound and ran on FIFO), %s steps in %v\n",
		res.Runs, res.Truncated, human(float64(res.Steps)), res.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(stdout, "  distinct states: %d when n2 opened read-write, %d at the end\n", res.MidStates, res.States)
	if res.Incomplete {
		fmt.Fprintln(stdout, "  INCOMPLETE: -max-runs or -budget stopped the enumeration")
	}
	if res.Shortest == nil {
		what := "every"
		if res.Incomplete {
			what = "every enumerated"
		}
		fmt.Fprintf(stdout, "  the safety checkers (%d per step) and the whole-state checks held on %s schedule\n", perStepClaims(), what)
		return
	}
	fmt.Fprintf(stdout, "  %d schedules FAIL; the one that fails soonest:\n", res.Failing)
	printCounterexample(stdout, res.Shortest)
	if cxErr != nil {
		fmt.Fprintf(stdout, "counterexample: %v\n", cxErr)
	}
	if path != "" {
		fmt.Fprintf(stdout, "written: %s\nreproduce: %s\n", path, explore.ReproduceCommand(path))
	}
}

func perStepClaims() int {
	n := 0
	for _, c := range check.Claims() {
		if c.PerStep() {
			n++
		}
	}
	return n
}
