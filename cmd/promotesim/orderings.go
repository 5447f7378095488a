package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"promotesim/scenarios/explore"
	"promotesim/scenarios/order"
	"promotesim/scenarios/swarm"
	"promotesim/shmem"
	"promotesim/sim"
)

// defaultOrderingsBudgets are make orderings' seeds per variant for each
// seeded scheduler, and defaultOrderingsStates the exhaustive check's
// state cap: measured to finish both profiles within 30 minutes on 2
// cores (README, "The ordering study", gives the timing). Uniform keeps
// the study's first budget; pct and preempt, which break the same
// variants, get less.
var defaultOrderingsBudgets = []order.SchedBudget{{Sched: order.SchedUniform, Seeds: 5000}, {Sched: order.SchedPCT, Seeds: 1000}, {Sched: order.SchedPreempt, Seeds: 1000}}

const (
	defaultOrderingsStates = 2000
	// orderingsPreemptions is the exhaustive check's bound: none, the
	// bound whose whole space the clean model's window fits in.
	orderingsPreemptions = 0
)

// defaultOrderingsDir keeps an exploratory study's counterexamples out of
// the source tree; -report puts them next to the report.
var defaultOrderingsDir = filepath.Join(os.TempDir(), "promotesim", "orderings")

// orderingsFlags are the orderings command's parsed flags.
type orderingsFlags struct {
	profiles []shmem.Profile
	// budgets are the seeded schedulers to run with their seeds (with
	// -duration, their Seeds are 0); states the exhaustive check's cap (0:
	// it does not run).
	budgets        []order.SchedBudget
	states         int
	first          uint64
	duration       time.Duration
	workers        int
	shard, shards  uint64
	jsonOut        bool
	out, report    string
	shrinkAttempts int
	interrupted    bool // SIGINT cut the study short (the JSON says so)
	// control caches, per profile, the checker PolarDB's order fails
	// under the exhaustive check ("" when it holds): its control run.
	control map[shmem.Profile]*string
}

// runOrderings is the ordering study (issue 14): every generated variant
// of the promote order through the swarm, classified.
func runOrderings(args []string, stdout, stderr io.Writer) error {
	of, err := parseOrderingsFlags(args, stderr)
	if err != nil {
		return err
	}
	tuneGC()
	if of.report != "" {
		if err := cleanCounterexamples(of.out); err != nil {
			return err
		}
	}
	// Ctrl-C stops the study after the variant running: the results so
	// far are printed, saying "interrupted" (exit 130); no report is
	// written, since a partial one would not be the study's.
	ctx, stop := interruptible()
	defer stop()
	start := time.Now()
	var results []order.Result
	var all []order.Variant
	for _, p := range of.profiles {
		all = append(all, order.Generate(p)...)
	}
	term := isTerminal(stderr)
	run := func(vs []order.Variant, phase string) error {
		for k, v := range vs {
			if uint64(k)%of.shards != of.shard {
				continue
			}
			if interrupted(ctx) {
				return nil
			}
			rs, err := runVariant(ctx, of, v)
			if err != nil {
				return err
			}
			if interrupted(ctx) {
				return nil // rs ran on fewer seeds than asked: not a result
			}
			if term {
				c := order.Combine(rs)[0]
				fmt.Fprintf(stderr, "\r\033[K%s [%d/%d %s] %s %s: %s %s", phase, k+1, len(vs), time.Since(start).Round(time.Second), c.Profile, c.ID, c.Class, c.Checker)
			}
			results = append(results, rs...)
		}
		return nil
	}
	if err := run(all, "variants"); err != nil {
		return err
	}
	// The follow-ups depend on what broke and what held: a shard follows
	// up only the variants it ran itself.
	var more []order.Variant
	combined := order.Combine(results)
	for _, p := range of.profiles {
		more = append(more, order.Refine(p, combined)...)
		more = append(more, order.Pairs(p, combined)...)
	}
	if err := run(more, "follow-ups"); err != nil {
		return err
	}
	if term {
		fmt.Fprintf(stderr, "\r\033[Korderings: %d variants in %s\n", len(results), time.Since(start).Round(time.Second))
	}
	if interrupted(ctx) {
		return printOrderingsInterrupted(of, results, stdout)
	}
	return writeOrderings(of, results, stdout)
}

// runVariant runs one variant under every scheduler of the study.
func runVariant(ctx context.Context, of *orderingsFlags, v order.Variant) ([]order.Result, error) {
	var out []order.Result
	for _, b := range of.budgets {
		r, err := runSeeded(ctx, of, v, b)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if of.states > 0 {
		r, err := runExhaustive(ctx, of, v)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// runSeeded runs one variant through the swarm under one seeded
// scheduler with control runs, and shrinks and writes its first failure.
func runSeeded(ctx context.Context, of *orderingsFlags, v order.Variant, b order.SchedBudget) (order.Result, error) {
	r := order.NewResult(v, b.Sched)
	if r.Class == order.CannotRun {
		return r, nil
	}
	st, err := sim.ParseStrategy(b.Sched)
	if err != nil {
		return r, err
	}
	// The fixed model (-fixed profiles): under PolarDB's faithful v15 the
	// baseline itself fails on many seeds (docs/findings.md F1–F4), which the
	// control-run rule would discard, leaving less evidence per variant.
	// Every action class runs, page reuse included: its one open failure,
	// StoredPageNeverGoesBack in about 1 of 10,000 reuse worlds, was a
	// checker false alarm, fixed (docs/findings.md N-reuse).
	cfg := explore.ExploreConfig{Base: swarm.Base{Profile: v.Profile, Fixed: true, Hazard: v.Name(), Sched: st}, FirstSeed: of.first,
		Seeds: b.Seeds, Duration: of.duration, Workers: of.workers}
	res, err := explore.Explore(ctx, cfg)
	if err != nil {
		return r, fmt.Errorf("variant %s %s under %s: %w", r.Profile, r.ID, b.Sched, err)
	}
	r.Worlds, r.Steps, r.Background, r.Marks = res.Worlds, res.Steps, res.Background, res.Marks
	f := res.First
	if f == nil {
		r.Class = order.Holds
		return r, nil
	}
	r.Class, r.Seed, r.SeedsToDetection, r.DetectNanos = order.Breaks, f.Swarm.Seed, f.Index, int64(f.Found)
	if f.Outcome.Violation == nil || f.Diff != nil {
		r.Checker, r.ShrinkNote = "world error", fmt.Sprint(f.Err)
		if f.Diff != nil {
			r.Checker, r.ShrinkNote = "determinism", "two runs differ"
		}
		return r, nil
	}
	r.Checker, r.Message = f.Checker(), f.Outcome.Violation.Err.Error()
	order.Attribute(&r)
	cx := explore.FromOutcome(f.Outcome)
	// A wall-time budget would make the shrunk script depend on the
	// machine: the attempt count bounds it instead.
	if sx, err := explore.Shrink(cx, explore.ShrinkConfig{Budget: time.Hour, Attempts: of.shrinkAttempts, Control: !v.Plan()}); err != nil {
		r.ShrinkNote = "not shrunk: " + err.Error()
	} else {
		cx = sx
	}
	saveCounterexample(of, &r, &cx)
	return r, nil
}

// saveCounterexample writes a breaking result's script, named by the
// profile, variant, scheduler and checker.
func saveCounterexample(of *orderingsFlags, r *order.Result, cx *explore.Counterexample) {
	path := filepath.Join(of.out, fmt.Sprintf("%s-%s-%s-%s.txt", r.Profile, strings.ReplaceAll(r.ID, ":", "_"), r.Sched, r.Checker))
	if err := writeCounterexampleFile(path, cx); err != nil {
		r.ShrinkNote = "not written: " + err.Error()
		return
	}
	r.Counterexample = path
}

// runExhaustive runs one variant through the exhaustive check of the
// small world, bounded to orderingsPreemptions preemptions and of.states
// distinct states (deterministic: no wall-time budget), stopping at the
// first failing schedule, which is already the search's shortest run.
func runExhaustive(ctx context.Context, of *orderingsFlags, v order.Variant) (order.Result, error) {
	r := order.NewResult(v, order.SchedExhaustive)
	if r.Class == order.CannotRun {
		return r, nil
	}
	if v.Plan() {
		// ExhaustiveWorld stops the old primary itself: a variant of the
		// operator's plan is not a variant of that world.
		r.Class, r.Reason = order.CannotRun, "the exhaustive world stops the primary itself"
		return r, nil
	}
	control, err := exhaustiveControl(ctx, of, v.Profile)
	if err != nil {
		return r, err
	}
	res, err := checkOrdering(ctx, of, v.Profile, v.Name())
	if err != nil {
		return r, fmt.Errorf("variant %s %s, exhaustive: %w", r.Profile, r.ID, err)
	}
	rep := res.Search
	r.States, r.Worlds, r.Steps = rep.States, uint64(rep.Runs), uint64(rep.Transitions)
	if res.Shortest == nil {
		r.Class = order.Holds
		return r, nil
	}
	if res.Shortest.Checker == control {
		// PolarDB's order fails the same way under the same search: a
		// background failure, as the swarm's control runs count them.
		r.Class, r.Background = order.Holds, 1
		return r, nil
	}
	r.Class, r.Checker, r.Seed, r.SeedsToDetection = order.Breaks, res.Shortest.Checker, 1, uint64(rep.Runs)
	if res.Shortest.Violation != nil {
		r.Message = res.Shortest.Violation.Err.Error()
	}
	order.Attribute(&r)
	saveCounterexample(of, &r, res.Shortest)
	return r, nil
}

// checkOrdering is the study's exhaustive check of one hazard ("" for
// PolarDB's order) on a profile's fixed model.
func checkOrdering(ctx context.Context, of *orderingsFlags, p shmem.Profile, hz string) (*explore.ExhaustiveResult, error) {
	return explore.CheckExhaustive(ctx, explore.ExhaustiveConfig{Base: swarm.Base{Profile: p, Fixed: true, Hazard: hz},
		BoundPreemptions: true, Preemptions: orderingsPreemptions, MaxStates: of.states, StopAtFirst: true})
}

// exhaustiveControl is the checker PolarDB's own order fails under the
// study's exhaustive search of a profile ("" when it holds), searched
// once per profile.
func exhaustiveControl(ctx context.Context, of *orderingsFlags, p shmem.Profile) (string, error) {
	if c := of.control[p]; c != nil {
		return *c, nil
	}
	res, err := checkOrdering(ctx, of, p, "")
	if err != nil {
		return "", fmt.Errorf("exhaustive control run of %v: %w", p, err)
	}
	c := ""
	if res.Shortest != nil {
		c = res.Shortest.Checker
	}
	if of.control == nil {
		of.control = map[shmem.Profile]*string{}
	}
	of.control[p] = &c
	return c, nil
}

func writeCounterexampleFile(path string, cx *explore.Counterexample) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b strings.Builder
	if err := explore.WriteCounterexample(&b, cx, path); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(shrinkTime.ReplaceAllString(b.String(), "$1")), 0o644)
}

// shrinkTime matches the wall time on a counterexample's "shrunk" line,
// dropped so the study's files depend only on its budget.
var shrinkTime = regexp.MustCompile(`(?m)^(# shrunk: .* replays) in [0-9.]+[a-zµ]+`)

// cleanCounterexamples removes the scripts of an earlier study, so the
// report's directory holds exactly what this run links.
func cleanCounterexamples(dir string) error {
	old, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	return nil
}

// writeOrderings prints the results (text or JSON) and writes the report.
func writeOrderings(of *orderingsFlags, results []order.Result, stdout io.Writer) error {
	if of.report != "" {
		cfg := order.ReportConfig{Command: orderingsCommand(of), FirstSeed: of.first, Budgets: of.budgets,
			States: of.states, Preemptions: orderingsPreemptions,
			Link: func(path string) string {
				rel, err := filepath.Rel(filepath.Dir(of.report), path)
				if err != nil {
					return path
				}
				return filepath.ToSlash(rel)
			}}
		if err := os.WriteFile(of.report, order.Report(cfg, results), 0o644); err != nil {
			return err
		}
	}
	if of.jsonOut {
		return writeJSON(stdout, struct {
			Budgets     []order.SchedBudget `json:"budgets"`
			States      int                 `json:"exhaustive_states"`
			First       uint64              `json:"first_seed"`
			Interrupted bool                `json:"interrupted"`
			Results     []order.Result      `json:"results"`
		}{of.budgets, of.states, of.first, of.interrupted, results})
	}
	for _, r := range results {
		line := fmt.Sprintf("%-4s %-48s %-10s %-10s", r.Profile, r.ID, r.Sched, r.Class)
		switch r.Class {
		case order.Breaks:
			line += fmt.Sprintf(" %s seed %d after %d seeds, %s  %s", r.Checker, r.Seed, r.SeedsToDetection,
				time.Duration(r.DetectNanos).Round(time.Millisecond), r.Counterexample)
		case order.Holds:
			line += fmt.Sprintf(" %d worlds, %d steps, %d marks, %d background", r.Worlds, r.Steps, len(r.Marks), r.Background)
			if r.Sched == order.SchedExhaustive {
				line += fmt.Sprintf(", %d states", r.States)
			}
		case order.CannotRun:
			line += " " + r.Reason
		}
		fmt.Fprintln(stdout, line)
	}
	return nil
}

// orderingsCommand is the command the report says regenerates it: make
// orderings for the default study, else the flags that made it.
func orderingsCommand(of *orderingsFlags) string {
	if of.first == 1 && of.states == defaultOrderingsStates && slices.Equal(of.budgets, defaultOrderingsBudgets) {
		return "make orderings"
	}
	var scheds, budgets []string
	for _, b := range of.budgets {
		scheds = append(scheds, b.Sched)
		budgets = append(budgets, fmt.Sprintf("%s=%d", b.Sched, b.Seeds))
	}
	if of.states > 0 {
		scheds = append(scheds, order.SchedExhaustive)
	}
	cmd := fmt.Sprintf("go run ./cmd/promotesim orderings -sched %s", strings.Join(scheds, ","))
	if len(budgets) > 0 {
		cmd += " -budget " + strings.Join(budgets, ",")
	}
	if of.states > 0 {
		cmd += fmt.Sprintf(" -max-states %d", of.states)
	}
	return cmd + fmt.Sprintf(" -seed %d -report %s", of.first, of.report)
}

// printOrderingsInterrupted prints the variants finished before SIGINT
// and says the study is incomplete; -report is not written.
func printOrderingsInterrupted(of *orderingsFlags, results []order.Result, stdout io.Writer) error {
	partial := *of
	partial.report, partial.interrupted = "", true
	if err := writeOrderings(&partial, results, stdout); err != nil {
		return err
	}
	if !of.jsonOut {
		fmt.Fprintf(stdout, "orderings: interrupted (SIGINT) after %d variants; the study is incomplete", len(results))
		if of.report != "" {
			fmt.Fprintf(stdout, ", %s not written", of.report)
		}
		fmt.Fprintln(stdout)
	}
	return errInterrupted
}

// parseOrderingsFlags reads and checks the orderings command's flags.
func parseOrderingsFlags(args []string, stderr io.Writer) (*orderingsFlags, error) {
	fs := newFlags("orderings", "orderings [-profile v15|v11|all] [-sched LIST] [-budget N|SCHED=N,... | -duration D] [-max-states N] [-seed S] [-json] [-shard i/n] [-report FILE] [-out DIR]", stderr)
	profile := fs.String("profile", "all", "profiles to study: v15, v11 or all")
	sched := fs.String("sched", strings.Join(order.Scheds(), ","), "schedulers, comma separated: uniform, pct and preempt (the swarm's strategies at their default parameters) and exhaustive (the exhaustive check of the small world)")
	budget := fs.String("budget", "", fmt.Sprintf("seeds per variant of each seeded scheduler: N for all, or SCHED=N,... (default %s unless -duration is given)", budgetsText(defaultOrderingsBudgets)))
	duration := fs.Duration("duration", 0, "positive wall time per variant and seeded scheduler instead of a seed budget (the result then depends on the machine)")
	states := fs.Int("max-states", defaultOrderingsStates, "the exhaustive check's distinct states per variant, at least 1 (preemption bound 0)")
	first := fs.Uint64("seed", 1, "first seed of each variant's range")
	workers := fs.Int("workers", 0, "worlds run at once, 1..1024 (0, the default: every core)")
	shard := fs.String("shard", "0/1", "run only the variants k with k mod n == i")
	jsonOut := fs.Bool("json", false, "print the results as JSON")
	report := fs.String("report", "", "write the markdown report here (counterexamples then go to its directory's orderings/)")
	out := fs.String("out", "", "directory for counterexample scripts (default "+defaultOrderingsDir+", or next to -report)")
	attempts := fs.Int("shrink-attempts", 300, "replays to shrink one counterexample")
	if err := parse(fs, args, 0); err != nil {
		return nil, err
	}
	of := &orderingsFlags{first: *first, duration: *duration, workers: *workers, jsonOut: *jsonOut, report: *report,
		out: *out, shrinkAttempts: *attempts}
	var err error
	if of.profiles, err = parseOrderingsProfile(*profile); err != nil {
		return nil, err
	}
	if of.shard, of.shards, err = parseShard(*shard); err != nil {
		return nil, err
	}
	if of.budgets, of.states, err = parseOrderingsScheds(*sched, *budget, *states, *duration > 0); err != nil {
		return nil, err
	}
	if err := checkOrderingsCounts(of, setFlags(fs), *duration, *workers); err != nil {
		return nil, err
	}
	switch {
	case *budget != "" && *duration > 0:
		return nil, usageErr("-budget and -duration do not go together")
	case *attempts <= 0:
		return nil, usageErr("-shrink-attempts %d: want a positive number", *attempts)
	case *report != "" && *duration > 0:
		return nil, usageErr("-report needs a seed budget (-budget), not -duration: the report must not depend on the machine")
	case *report != "" && of.shards > 1:
		return nil, usageErr("-report needs every variant: drop -shard")
	}
	if of.out == "" {
		of.out = defaultOrderingsDir
		if of.report != "" {
			of.out = filepath.Join(filepath.Dir(of.report), "orderings")
		}
	}
	return of, nil
}

func parseOrderingsProfile(text string) ([]shmem.Profile, error) {
	if text == "all" {
		return order.Profiles(), nil
	}
	p, err := shmem.ParseProfile(text)
	if err != nil {
		return nil, usageErr("-profile %q: want v15, v11 or all", text)
	}
	return []shmem.Profile{p}, nil
}

// parseOrderingsScheds reads -sched's list and -budget (N for every
// seeded scheduler, or SCHED=N pairs; a seeded scheduler it leaves out
// gets make orderings' budget, and with -duration none has a count).
func parseOrderingsScheds(list, budget string, states int, timed bool) ([]order.SchedBudget, int, error) {
	def := map[string]uint64{}
	for _, b := range defaultOrderingsBudgets {
		def[b.Sched] = b.Seeds
	}
	if timed {
		clear(def)
	}
	var all uint64
	given := map[string]uint64{}
	var named []string // given's keys, in -budget's order
	if budget != "" && !strings.Contains(budget, "=") {
		n, err := strconv.ParseUint(budget, 10, 64)
		if err == nil && n == 0 {
			return nil, 0, usageErr("-budget 0: want at least 1 (leave -budget out for %s)", budgetsText(defaultOrderingsBudgets))
		}
		if errors.Is(err, strconv.ErrRange) {
			return nil, 0, usageErr("-budget %q: value out of range", budget)
		}
		if err != nil {
			return nil, 0, usageErr("-budget %q: want a positive number of seeds, or SCHED=N,... (leave -budget out for %s)", budget, budgetsText(defaultOrderingsBudgets))
		}
		all = n
	} else if budget != "" {
		for _, kv := range strings.Split(budget, ",") {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseUint(v, 10, 64)
			if !slices.Contains(order.Scheds(), k) || k == order.SchedExhaustive || err != nil || n == 0 || given[k] > 0 {
				return nil, 0, usageErr("-budget %q: want SCHED=N with SCHED one of uniform, pct, preempt (each once) and N at least 1", budget)
			}
			given[k] = n
			named = append(named, k)
		}
	}
	var out []order.SchedBudget
	exhaustive := false
	for _, name := range strings.Split(list, ",") {
		switch {
		case !slices.Contains(order.Scheds(), name):
			return nil, 0, usageErr("-sched %q: unknown scheduler %q (want a list of %s)", list, name, strings.Join(order.Scheds(), ", "))
		case name == order.SchedExhaustive:
			exhaustive = true
			continue
		}
		n := def[name]
		if all > 0 {
			n = all
		} else if given[name] > 0 {
			n = given[name]
		}
		if slices.ContainsFunc(out, func(b order.SchedBudget) bool { return b.Sched == name }) {
			return nil, 0, usageErr("-sched %q: %s twice", list, name)
		}
		out = append(out, order.SchedBudget{Sched: name, Seeds: n})
	}
	for _, k := range named {
		if !slices.ContainsFunc(out, func(b order.SchedBudget) bool { return b.Sched == k }) {
			return nil, 0, usageErr("-budget %q: %s is not in -sched %q", budget, k, list)
		}
	}
	if states <= 0 {
		return nil, 0, usageErr("-max-states %d: want at least 1", states)
	}
	if !exhaustive {
		states = 0
	}
	return out, states, nil
}

// budgetsText renders budgets as -budget takes them.
func budgetsText(bs []order.SchedBudget) string {
	var parts []string
	for _, b := range bs {
		parts = append(parts, fmt.Sprintf("%s=%d", b.Sched, b.Seeds))
	}
	return strings.Join(parts, ",")
}

// checkOrderingsCounts rejects the study's nonsense counts: a -duration
// 0, seed ranges past the largest seed, a bad worker count.
func checkOrderingsCounts(of *orderingsFlags, set map[string]bool, duration time.Duration, workers int) error {
	if err := durationIfSet(set, "duration", duration, "or give -budget N"); err != nil {
		return err
	}
	for _, b := range of.budgets {
		if err := seedRange(of.first, b.Seeds); err != nil {
			return err
		}
	}
	return checkWorkers(workers)
}
