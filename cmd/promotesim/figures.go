package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"

	"promotesim/scenarios/cluster"
	"promotesim/scenarios/explore"
	"promotesim/scenarios/swarm"
	"promotesim/shmem"
	"promotesim/storage"
)

// The figures command (make figures) measures what the README quotes and
// writes it to docs/figures.md, so a figure that drifts from the code is
// seen: deterministic counts are compared with a fresh run by
// TestFiguresMatchDocs, timings carry the machine and command they were
// measured with.

// figure is one measured line of docs/figures.md.
type figure struct {
	// Key names the figure (the README and the test refer to it).
	Key string
	// Value is the measurement; Timing marks one that depends on the
	// machine (never compared by a test).
	Value  string
	Timing bool
	// Command reproduces it.
	Command string
}

// countSpec is one explore whose failing-seed count is a figure.
type countSpec struct {
	key   string
	base  swarm.Base
	flags string // the CLI flags of base, for the command column
	first uint64
	seeds uint64
	// timed adds the run's speed (and peak memory) as timing figures.
	timed bool
}

// figureSpecs are the explorer figures; quick keeps the ones cheap enough
// for make test (TestFiguresMatchDocs), which docs/figures.md carries too.
func figureSpecs(quick bool) []countSpec {
	// v11-fixed: the README's v11 findings were measured when "v11" named
	// today's v11-fixed (issue 10 renamed the profiles).
	v11 := func(f storage.FenceMode) swarm.Base {
		return swarm.Base{Profile: shmem.ProfileV11, Fixed: true, Fence: f}
	}
	specs := []countSpec{
		{key: "v11-fixed-none-1-300", base: v11(storage.FenceNone), flags: "-profile v11-fixed -fence none", first: 1, seeds: 300},
		{key: "v11-fixed-epoch-1-300", base: v11(storage.FenceEpoch), flags: "-profile v11-fixed -fence epoch", first: 1, seeds: 300},
	}
	if quick {
		return specs
	}
	return append(specs,
		countSpec{key: "v11-fixed-none-1-5000", base: v11(storage.FenceNone), flags: "-profile v11-fixed -fence none", first: 1, seeds: 5000},
		countSpec{key: "v11-fixed-epoch-1-5000", base: v11(storage.FenceEpoch), flags: "-profile v11-fixed -fence epoch", first: 1, seeds: 5000},
		countSpec{key: "v15-1-3000", base: swarm.Base{Profile: shmem.ProfileV15}, flags: "-profile v15", first: 1, seeds: 3000},
		countSpec{key: "v15-fixed-1-5000", base: swarm.Base{Profile: shmem.ProfileV15, Fixed: true}, flags: "-profile v15-fixed", first: 1, seeds: 5000, timed: true},
	)
}

// exhaustiveStates bounds the exhaustive figure: the full window does not
// finish in minutes, a fixed state count makes the counts deterministic.
const exhaustiveStates = 1000

// measureFigures runs every figure's measurement.
func measureFigures(ctx context.Context, quick bool) ([]figure, error) {
	var out []figure
	for _, s := range figureSpecs(quick) {
		fs, err := measureCount(ctx, s)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	fs, err := measureExhaustive(ctx)
	if err != nil {
		return nil, err
	}
	out = append(out, fs...)
	if !quick {
		for _, c := range []struct{ preemptions, workers int }{{0, 1}, {0, 2}, {1, 2}} {
			if fs, err = measureExhaustiveComplete(ctx, c.preemptions, c.workers); err != nil {
				return nil, err
			}
			out = append(out, fs...)
		}
	}
	return out, nil
}

// measureCount runs one seed range with -keep-going: the failing count and
// its checkers are deterministic (every seed runs, whatever the timing).
func measureCount(ctx context.Context, s countSpec) ([]figure, error) {
	cfg := explore.ExploreConfig{Base: s.base, FirstSeed: s.first, Seeds: s.seeds, KeepGoing: true}
	res, err := explore.Explore(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("figure %s: %w", s.key, err)
	}
	if res.Interrupted {
		return nil, errInterrupted
	}
	cmd := fmt.Sprintf("bin/promotesim explore %s -seed %d -seeds %d -keep-going", s.flags, s.first, s.seeds)
	val := fmt.Sprintf("%d of %d worlds fail%s; %d steps", res.Violations, res.Worlds, byCheckerText(res.ByChecker), res.Steps)
	out := []figure{{Key: s.key, Value: val, Command: cmd}}
	if s.timed {
		out = append(out, figure{Key: s.key + "-speed", Timing: true, Command: cmd + " -v",
			Value: fmt.Sprintf("%.1f s on %d workers: %.0f worlds/s, %s steps/s per core; peak RSS (VmHWM of the figures process so far) %.1f MiB",
				res.Elapsed.Seconds(), res.Workers, res.WorldsPerSec(), human(res.StepsPerSecPerCore()), float64(explore.PeakRSS())/(1<<20))})
	}
	return out, nil
}

// byCheckerText lists the failures by checker, most first (" (A 3, B 1)").
func byCheckerText(m map[string]uint64) string {
	if len(m) == 0 {
		return ""
	}
	names := make([]string, 0, len(m))
	for n := range m { // sorted below
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		return m[names[i]] > m[names[j]] || (m[names[i]] == m[names[j]] && names[i] < names[j])
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, m[n])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// measureExhaustive is check -exhaustive on its default world, bounded to
// exhaustiveStates distinct states at preemption bound 0.
func measureExhaustive(ctx context.Context) ([]figure, error) {
	cfg := explore.ExhaustiveConfig{BoundPreemptions: true, Preemptions: 0, MaxStates: exhaustiveStates}
	res, err := explore.CheckExhaustive(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("figure exhaustive: %w", err)
	}
	if res.Interrupted {
		return nil, errInterrupted
	}
	r := res.Search
	cmd := fmt.Sprintf("bin/promotesim check -exhaustive -preemptions 0 -max-states %d -budget 0", exhaustiveStates)
	verdict := "every checker held"
	if res.Shortest != nil {
		verdict = fmt.Sprintf("%d runs fail", r.Failures)
	}
	return []figure{
		{Key: "exhaustive-p0", Command: cmd, Value: fmt.Sprintf("%d distinct states, %d transitions, %d runs, %d windows closed, %d stuck; %s",
			r.States, r.Transitions, r.Runs, res.Closed, res.Stuck, verdict)},
		{Key: "exhaustive-p0-speed", Command: cmd, Timing: true,
			Value: fmt.Sprintf("%.1f s: %s states/s", res.Elapsed.Seconds(), human(res.StatesPerSec()))},
	}, nil
}

// measureExhaustiveComplete is the whole search of the default world
// (profile v15, as check's flags default to) at a preemption bound: at
// bound 0 the figure README sets beside Spin's on its twin. On more than
// one worker the runs and replayed steps vary from run to run
// (parallel.go), so those are timings only.
func measureExhaustiveComplete(ctx context.Context, preemptions, workers int) ([]figure, error) {
	cfg := explore.ExhaustiveConfig{Base: swarm.Base{Profile: shmem.ProfileV15}, BoundPreemptions: true, Preemptions: preemptions, Workers: workers}
	key := fmt.Sprintf("exhaustive-p%d-complete", preemptions)
	cmd := fmt.Sprintf("bin/promotesim check -exhaustive -preemptions %d -budget 0", preemptions)
	if workers > 1 {
		key, cmd = fmt.Sprintf("%s-w%d", key, workers), fmt.Sprintf("%s -workers %d", cmd, workers)
	}
	res, err := explore.CheckExhaustive(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("figure %s: %w", key, err)
	}
	if res.Interrupted {
		return nil, errInterrupted
	}
	r := res.Search
	verdict := "every checker held"
	if res.Shortest != nil {
		verdict = fmt.Sprintf("%d runs fail", r.Failures)
	}
	if !r.Complete {
		verdict += ", incomplete"
	}
	value := fmt.Sprintf("%d distinct states, %d transitions (%d steps replayed), %d runs, depth %d steps past the promote, %d windows closed; %s",
		r.States, r.Transitions, r.Replayed, r.Runs, res.WindowSteps, res.Closed, verdict)
	speed := fmt.Sprintf("%.1f s: %s states/s", res.Elapsed.Seconds(), human(res.StatesPerSec()))
	if workers > 1 {
		// A timing: the distinct states and transitions repeat on any
		// number of workers, but runs and replayed steps depend on who
		// got where first (parallel.go), so the row is the speed.
		return []figure{{Key: key + "-speed", Command: cmd, Timing: true,
			Value: fmt.Sprintf("%s, %d distinct states on %d workers; %s", speed, r.States, workers, verdict)}}, nil
	}
	return []figure{
		{Key: key, Command: cmd, Value: value},
		{Key: key + "-speed", Command: cmd, Timing: true, Value: speed},
	}, nil
}

// writeFigures writes docs/figures.md: one table row per figure.
func writeFigures(w io.Writer, figs []figure, took time.Duration) {
	host, _ := os.Hostname()
	fmt.Fprintf(w, "# Measured figures\n\nWritten by `make figures` (`bin/promotesim figures -o docs/figures.md`), model %s, in %v.\n",
		cluster.ModelVersion, took.Round(time.Second))
	fmt.Fprintf(w, "Machine: %s/%s, %d CPUs (GOMAXPROCS %d), host %s, %s.\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), host, runtime.Version())
	fmt.Fprintln(w, "Counts are deterministic: `TestFiguresMatchDocs` (cmd/promotesim) recomputes the cheap ones")
	fmt.Fprintln(w, "(`quick` below) and fails if they differ from this file. Timings depend on the machine and its load.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| figure | kind | value | command |")
	fmt.Fprintln(w, "|---|---|---|---|")
	quick := map[string]bool{} // looked up only
	for _, s := range figureSpecs(true) {
		quick[s.key] = true
	}
	quick["exhaustive-p0"] = true
	for _, f := range figs {
		kind := "count"
		switch {
		case f.Timing:
			kind = "timing"
		case quick[f.Key]:
			kind = "count, quick"
		}
		fmt.Fprintf(w, "| %s | %s | %s | `%s` |\n", f.Key, kind, f.Value, f.Command)
	}
}

// runFigures is `promotesim figures [-o FILE]`.
func runFigures(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("figures", "figures [-o FILE] [-quick]", stderr)
	out := fs.String("o", "", "write the markdown here (make figures: docs/figures.md); default stdout")
	quick := fs.Bool("quick", false, "only the cheap deterministic counts (what TestFiguresMatchDocs recomputes)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	tuneGC()
	ctx, stop := interruptible()
	defer stop()
	start := time.Now()
	figs, err := measureFigures(ctx, *quick)
	if err != nil {
		if interrupted(ctx) {
			fmt.Fprintln(stdout, "figures: interrupted (SIGINT); nothing written")
			return errInterrupted
		}
		return err
	}
	var b strings.Builder
	writeFigures(&b, figs, time.Since(start))
	if *out == "" {
		_, err = io.WriteString(stdout, b.String())
		return err
	}
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%d figures)\n", *out, len(figs))
	return nil
}
