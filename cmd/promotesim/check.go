package main

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"

	"promotesim/scenarios/check"
	"promotesim/scenarios/cluster"
	"promotesim/scenarios/explore"
	"promotesim/scenarios/hazard"
	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
)

func runCheck(args []string, stdout, stderr io.Writer) error {
	cfg, outDir, jsonOut, err := parseCheckFlags(args, stderr)
	if err != nil {
		return err
	}
	note := hazardProfileNote(cfg.Base)
	tuneSearchGC()
	// Ctrl-C ends the search; the report so far is printed, saying
	// "interrupted" (exit status 130).
	ctx, stop := interruptible()
	defer stop()
	res, err := explore.CheckExhaustive(ctx, cfg)
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
		if err := printCheckJSON(stdout, cfg, res, path, cxErr); err != nil {
			return err
		}
	} else {
		if note != "" {
			fmt.Fprintln(stdout, note)
		}
		printCheck(stdout, cfg, res, path, cxErr)
	}
	switch {
	case res.Interrupted:
		return errInterrupted
	case res.Shortest != nil:
		return errViolationReported
	}
	return nil
}

// parseCheckFlags reads and checks check's flags.
func parseCheckFlags(args []string, stderr io.Writer) (cfg explore.ExhaustiveConfig, outDir string, jsonOut bool, err error) {
	fs := newFlags("check", "check -exhaustive [-preemptions K|none|auto] [-workers K] [-profile v15|v15-fixed|v11|v11-fixed] [-fence none|epoch|detect] [-hazard NAME] [-max-states N] [-budget D] [-stop-at-first] [-json]", stderr)
	exhaustive := fs.Bool("exhaustive", false, "search every schedule of a small world's promote window (stateful: revisited states are pruned)")
	pre := fs.String("preemptions", "auto", "bound every schedule to K preemptions, CHESS style: a number K, none (the whole space: too big to finish in minutes), or auto (K = 0, 1, 2, ... in turn until a failure or the budget)")
	bf := addBaseFlags(fs, "hazard under test (promotesim hazards lists them)")
	maxStates := fs.Int("max-states", 0, "stop after this many distinct states (0: no limit; the report says it is incomplete)")
	budget := fs.Duration("budget", time.Minute, "stop after this wall time (0: no limit)")
	first := fs.Bool("stop-at-first", false, "stop at the first failing schedule (default: search on and keep the shortest)")
	out := fs.String("out", defaultCxDir, "directory for the counterexample script")
	js := fs.Bool("json", false, "print a machine-readable JSON report")
	workers := fs.Int("workers", 1, "goroutines searching at once, 1..1024 (0: every core); with more than one, transitions, runs and where a budget cuts vary from run to run, a complete search's distinct states do not")
	if err = parse(fs, args, 0); err != nil {
		return
	}
	if !*exhaustive {
		err = usageErr("say -exhaustive (the one check there is: every schedule of a small world's promote window)")
		return
	}
	k, iterate := -1, false
	switch *pre {
	case "auto":
		iterate = true
	case "none":
	default:
		if n, perr := strconv.Atoi(*pre); perr == nil && n >= 0 {
			k = n
		} else {
			err = usageErr("-preemptions %q: want a number K >= 0, none or auto", *pre)
			return
		}
	}
	switch {
	case *maxStates < 0:
		err = usageErr("-max-states %d: want a positive number (or 0)", *maxStates)
	case *budget < 0:
		err = usageErr("-budget %v: want a positive duration", *budget)
	case *workers < 0 || *workers > 1024:
		err = usageErr("-workers %d: want 1..1024, or 0 for every core", *workers)
	}
	if *workers == 0 {
		*workers = runtime.GOMAXPROCS(0)
	}
	if err == nil {
		err = checkDir("out", *out)
	}
	if err != nil {
		return
	}
	base, _, err := bf.base(false)
	if err != nil {
		return
	}
	if base.Hunt != "" {
		// A hunt biases the swarm's planner; the check's world has none.
		return cfg, "", false, usageErr("-hunt biases the explorer's seeded worlds; the exhaustive check runs one fixed world (drop -hunt)")
	}
	if !setFlags(fs)["profile"] {
		base = explore.HazardBase(base)
	}
	cfg = explore.ExhaustiveConfig{Base: base, BoundPreemptions: k >= 0, Preemptions: max(k, 0), MaxStates: *maxStates,
		Budget: *budget, StopAtFirst: *first, Iterate: iterate, Workers: *workers}
	return cfg, *out, *js, nil
}

// hazardProfileNote says why a check runs a hazard on a profile other
// than the default one ("" when it does not).
func hazardProfileNote(b swarm.Base) string {
	hz, err := hazard.Lookup(b.Hazard)
	if b.Hazard == "" || err != nil || !hz.Fixed || !b.Fixed {
		return ""
	}
	return fmt.Sprintf("note: hazard %s runs on profile %s, the profile its catch needs (a guard of PolarDB's masks it otherwise; -profile overrides)",
		b.Hazard, cluster.ProfileName(b.Profile, b.Fixed))
}

func boundText(cfg explore.ExhaustiveConfig) string {
	if cfg.Iterate {
		return "preemption bounds 0, 1, 2, ... in turn"
	}
	if cfg.BoundPreemptions {
		return fmt.Sprintf("at most %d preemptions", cfg.Preemptions)
	}
	return "no preemption bound"
}

func printCheckJSON(stdout io.Writer, cfg explore.ExhaustiveConfig, res *explore.ExhaustiveResult, path string, cxErr error) error {
	r := res.Search
	pre := -1
	if n := len(res.Rounds); n > 0 && res.Rounds[n-1].Bounded {
		pre = res.Rounds[n-1].Preemptions
	}
	out := struct {
		Model          string              `json:"model_version"`
		Base           string              `json:"base"`
		Preemptions    int                 `json:"preemptions"`
		Cluster        string              `json:"cluster"`
		Before         []string            `json:"before_window"`
		Promote        string              `json:"promote"`
		States         int                 `json:"distinct_states"`
		Transitions    int                 `json:"transitions"`
		Replayed       int                 `json:"replayed_steps"`
		Runs           int                 `json:"runs"`
		Revisits       int                 `json:"revisits"`
		WindowSteps    int                 `json:"depth_from_promote"`
		Closed         int                 `json:"windows_closed"`
		Stuck          int                 `json:"windows_stuck"`
		Failing        int                 `json:"failing_runs"`
		Complete       bool                `json:"complete"`
		Interrupted    bool                `json:"interrupted"`
		ElapsedSec     float64             `json:"elapsed_s"`
		StatesPerSec   float64             `json:"states_per_s"`
		Workers        int                 `json:"workers"`
		Subtrees       int                 `json:"subtrees"`
		Counterexample *jsonCounterexample `json:"counterexample,omitempty"`
	}{cluster.ModelVersion, baseText(cfg.Base), pre, res.Cluster.String(), script.Lines(res.Before), res.Promote.String(),
		r.States, r.Transitions, r.Replayed, r.Runs, r.Revisits, res.WindowSteps, res.Closed, res.Stuck, r.Failures, r.Complete, res.Interrupted,
		res.Elapsed.Seconds(), res.StatesPerSec(), max(cfg.Workers, 1), r.Split, cxJSON(res.Shortest, path, cxErr)}
	return writeJSON(stdout, out)
}

func printCheck(stdout io.Writer, cfg explore.ExhaustiveConfig, res *explore.ExhaustiveResult, path string, cxErr error) {
	r := res.Search
	fmt.Fprintf(stdout, "exhaustive check (stateful search of the promote window, %s), %s\n", boundText(cfg), baseText(cfg.Base))
	fmt.Fprintf(stdout, "  world: %s\n", res.Cluster)
	fmt.Fprintf(stdout, "         %s; then the window: %s, until n2 serves read-write, a write on n2, until n2's BGW is in NOT_START and the write is answered\n",
		strings.Join(script.Lines(res.Before), "; "), res.Promote)
	if len(res.Rounds) > 1 {
		for _, rd := range res.Rounds {
			fmt.Fprintf(stdout, "  at most %d preemptions: %s in %v\n", rd.Preemptions, rd.Report, rd.Elapsed.Round(time.Millisecond))
		}
		fmt.Fprintln(stdout, "  the last round:")
	}
	fmt.Fprintf(stdout, "  %d distinct states, %d transitions (%d steps replayed to reach them), %d runs, %d revisits pruned, in %v: %s states/s\n",
		r.States, r.Transitions, r.Replayed, r.Runs, r.Revisits, res.Elapsed.Round(time.Millisecond), human(res.StatesPerSec()))
	fmt.Fprintf(stdout, "  depth: %d steps past the promote request; %d schedules closed the window, %d got stuck (a wait ran out of its budget)\n",
		res.WindowSteps, res.Closed, res.Stuck)
	if r.Preempted > 0 {
		fmt.Fprintf(stdout, "  %d branches cut by the preemption bound\n", r.Preempted)
	}
	if cfg.Workers > 1 {
		fmt.Fprintf(stdout, "  %d workers searched %d subtrees (the schedules' first choices, split off by one more)\n", cfg.Workers, r.Split)
	}
	switch {
	case res.Interrupted:
		fmt.Fprintln(stdout, "  INCOMPLETE: interrupted (SIGINT) before the search ended")
	case !r.Complete:
		fmt.Fprintln(stdout, "  INCOMPLETE: -max-states, -budget or -stop-at-first ended the search early")
	}
	if res.Shortest == nil {
		what := "every schedule of the window"
		if !r.Complete {
			what = "every schedule searched"
		}
		fmt.Fprintf(stdout, "  the safety checkers (%d per step) and the whole-state checks held on %s\n", perStepClaims(), what)
		return
	}
	fmt.Fprintf(stdout, "  %d runs FAIL; the shortest (%d steps):\n", r.Failures, r.ShortestSteps)
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
