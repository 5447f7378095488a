package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"promotesim/scenarios/cluster"
	"promotesim/scenarios/explore"
	"promotesim/scenarios/hazard"
	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// defaultCxDir is where counterexamples are written unless -out says
// otherwise: outside the source tree, so an exploratory run never leaves
// untracked files among the committed counterexamples. A counterexample
// worth keeping is copied into scenarios/testdata/counterexamples, where
// TestCounterexamples replays it.
var defaultCxDir = filepath.Join(os.TempDir(), "promotesim", "counterexamples")

// baseFlags are the flags that fix every world: profile, fence, hazard,
// and (for the seeded commands, explore and replay) the scheduling
// strategy.
type baseFlags struct {
	profile, fence, hazard, sched, faithful, hunt *string
}

// defaultSched is -sched's default (see README, "Scheduling strategies",
// for the measurements that chose it).
const defaultSched = "uniform"

func addBaseFlags(fs *flag.FlagSet, hazardHelp string) baseFlags {
	return baseFlags{
		profile: fs.String("profile", "v15", "promote order, as PolarDB's code does it or with the model's fixes: v15, v15-fixed, v11 or v11-fixed"),
		fence:   fs.String("fence", "none", "fencing of the shared device: none, epoch or detect (detect needs -profile v11)"),
		hazard:  fs.String("hazard", "", hazardHelp),
		faithful: fs.String("faithful", "", "with a fixed profile: these points as PolarDB's code does them, comma-separated ("+
			strings.Join(shmem.FaithfulNames(), ", ")+"): a hunt for what PolarDB's other findings mask"),
		hunt: fs.String("hunt", "", "bias the worlds toward a story without planting a hazard ("+
			strings.Join(swarm.HuntNames(), ", ")+"; default: the -hazard's own hunt)"),
	}
}

// addSchedFlag adds -sched to a seeded command's base flags.
func addSchedFlag(fs *flag.FlagSet, b *baseFlags) {
	b.sched = fs.String("sched", defaultSched, "scheduling strategy: uniform, pct[:d=N][,steps=N], preempt[:k=N][,p=A/B][,steps=N], or swarm (each seed derives one)")
}

// base parses the flags; allowAll accepts -hazard all (returned as
// all=true with an empty hazard).
func (b baseFlags) base(allowAll bool) (swarm.Base, bool, error) {
	var out swarm.Base
	var err error
	if b.sched != nil {
		if out.Sched, err = sim.ParseStrategy(*b.sched); err != nil {
			return out, false, usageErr("-sched: %v", err)
		}
	}
	if out.Profile, out.Fixed, err = cluster.ParseProfile(*b.profile); err != nil {
		return out, false, usageErr("-profile %q: want %s", *b.profile, strings.Join(cluster.ProfileNames(), ", "))
	}
	if out.Fence, err = storage.ParseFenceMode(*b.fence); err != nil {
		return out, false, usageErr("-fence %q: want none, epoch or detect", *b.fence)
	}
	if err := b.faithfulBase(&out); err != nil {
		return out, false, err
	}
	if b.hunt != nil && *b.hunt != "" {
		if !slices.Contains(swarm.HuntNames(), *b.hunt) {
			return out, false, usageErr("-hunt %q: want one of %s", *b.hunt, strings.Join(swarm.HuntNames(), ", "))
		}
		out.Hunt = *b.hunt
	}
	if *b.hazard == "all" {
		if !allowAll {
			return out, false, usageErr("-hazard all is for explore; name one hazard (promotesim hazards lists them)")
		}
		if _, err := swarm.DeriveSwarm(1, out); err != nil {
			return out, false, usageErr("%v", err)
		}
		return out, true, nil
	}
	if *b.hazard != "" {
		if _, err := hazard.Lookup(*b.hazard); err != nil {
			return out, false, usageErr("-hazard: %v (or all; promotesim hazards lists them)", err)
		}
		out.Hazard = *b.hazard
	}
	if _, err := swarm.DeriveSwarm(1, out); err != nil {
		return out, false, usageErr("%v", err)
	}
	return out, false, nil
}

// faithfulBase reads -faithful into out, whose profile is already read.
func (b baseFlags) faithfulBase(out *swarm.Base) error {
	if b.faithful == nil || *b.faithful == "" {
		return nil
	}
	canon, err := shmem.ParseFaithful(*b.faithful)
	if err != nil {
		return usageErr("-faithful: %v", err)
	}
	if !out.Fixed {
		return usageErr("-faithful undoes corrections of a fixed profile: give -profile v15-fixed or v11-fixed (%s is PolarDB's code throughout)",
			cluster.ProfileName(out.Profile, out.Fixed))
	}
	out.Faithful = canon
	return nil
}

func parseShard(s string) (uint64, uint64, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.ParseUint(a, 10, 64)
	n, err2 := strconv.ParseUint(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || n == 0 || i >= n {
		return 0, 0, usageErr("-shard %q: want i/n with 0 <= i < n, e.g. 0/4", s)
	}
	return i, n, nil
}

// tuneGC trades memory for speed in the long-running commands
// (explore.GCPercent says why and how much).
func tuneGC() { explore.TuneGC(explore.GCPercent) }

// tuneSearchGC is tuneGC for check -exhaustive (explore.SearchGCPercent).
// A soft limit of 1 GiB keeps a long unbounded search, whose stored
// states grow the live heap, from growing the heap 20-fold unchecked.
func tuneSearchGC() {
	explore.TuneGC(explore.SearchGCPercent)
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}

// isTerminal reports whether w is a terminal (progress lines go only there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// exploreFlags are explore's parsed flags.
type exploreFlags struct {
	cfg              explore.ExploreConfig
	sc               explore.ShrinkConfig
	all              bool
	trials           int
	outDir           string
	jsonOut, verbose bool
}

func runExplore(args []string, stdout, stderr io.Writer) error {
	ef, err := parseExploreFlags(args, stderr)
	if err != nil {
		return err
	}
	tuneGC()
	term := isTerminal(stdout) && !ef.jsonOut
	if ef.all {
		return huntAll(ef.cfg, ef.sc, ef.trials, ef.outDir, ef.jsonOut, term, stdout)
	}
	cfg := ef.cfg
	if term {
		cfg.Progress = func(s explore.ExploreStats) {
			fmt.Fprintf(stdout, "\r\033[K%s", progressLine(s))
		}
	}
	// Ctrl-C stops handing out seeds; the worlds running finish and the
	// summary is printed, saying "interrupted" (exit status 130).
	ctx, stop := interruptible()
	defer stop()
	res, err := explore.Explore(ctx, cfg)
	if term {
		fmt.Fprint(stdout, "\r\033[K")
	}
	if err != nil {
		return err
	}
	cx, path, cxErr := shrinkFirst(res, ef, stdout)
	finding := findingLine(res.First, cfg.Base)
	if ef.jsonOut {
		if err := writeJSON(stdout, exploreJSON(cfg, res, cx, path, cxErr, finding, ef.verbose)); err != nil {
			return err
		}
	} else {
		if f := res.First; f != nil {
			printFailure(stdout, f, finding, cx, path, cxErr)
		}
		printSummary(stdout, cfg, res, ef.verbose)
	}
	switch {
	case res.Interrupted:
		return errInterrupted
	case res.First != nil:
		return errViolationReported
	}
	return nil
}

// parseExploreFlags reads and checks explore's flags.
func parseExploreFlags(args []string, stderr io.Writer) (*exploreFlags, error) {
	fs := newFlags("explore", "explore [-seeds N | -duration D] [-seed S] [-workers K] [-profile v15|v15-fixed|v11|v11-fixed] [-fence none|epoch|detect] [-hazard NAME|all] [-sched STRATEGY] [-shard i/n] [-json]", stderr)
	seeds := fs.Uint64("seeds", 0, "run this many seeds, at least 1 (the range -seed .. -seed+N-1; leave it out for a time budget)")
	duration := fs.Duration("duration", 0, "stop starting worlds after this positive wall time (default 20s when -seeds is not given, no limit when it is; per hazard with -hazard all)")
	first := fs.Uint64("seed", 1, "first seed of the range")
	workers := fs.Int("workers", 0, "worlds run at once, 1..1024 (0, the default: every core)")
	bf := addBaseFlags(fs, "hazard under test (promotesim hazards lists them), or all for the hazard table")
	addSchedFlag(fs, &bf)
	shard := fs.String("shard", "0/1", "run only the seeds s with s mod n == i (split a range across machines)")
	jsonOut := fs.Bool("json", false, "print a machine-readable JSON report instead of text")
	keepGoing := fs.Bool("keep-going", false, "run every seed even after a failure (count them all; report the lowest)")
	determinism := fs.Bool("determinism", false, "run every seed twice and report the first step where the traces differ")
	outDir := fs.String("out", defaultCxDir, "directory for counterexample scripts")
	shrinkTime := fs.Duration("shrink-time", 30*time.Second, "wall-time budget for shrinking one counterexample")
	shrinkAttempts := fs.Int("shrink-attempts", 4000, "replay budget for shrinking one counterexample")
	trials := fs.Int("trials", 1, "with -hazard all: explore each hazard from this many seed ranges (medians in the table)")
	noControl := fs.Bool("no-control", false, "with a hazard: do not rerun failing seeds without it (a failure that happens without the hazard too is then blamed on it)")
	verbose := fs.Bool("v", false, "also print peak memory (VmHWM) and every mark reached")
	if err := parse(fs, args, 0); err != nil {
		return nil, err
	}
	base, all, err := bf.base(true)
	if err != nil {
		return nil, err
	}
	if all && base.Hunt != "" {
		// Each hazard of the table is hunted with its own bias.
		return nil, usageErr("-hunt does not go with -hazard all (each hazard's hunt is its own)")
	}
	si, sn, err := parseShard(*shard)
	if err != nil {
		return nil, err
	}
	if err := checkExploreCounts(setFlags(fs), *seeds, *first, *duration, *workers, *outDir); err != nil {
		return nil, err
	}
	switch {
	case *shrinkTime <= 0:
		return nil, usageErr("-shrink-time %v: want a positive duration", *shrinkTime)
	case *shrinkAttempts <= 0:
		return nil, usageErr("-shrink-attempts %d: want a positive number", *shrinkAttempts)
	case *trials < 1 || *trials > 1000:
		return nil, usageErr("-trials %d: want 1..1000", *trials)
	case *trials > 1 && !all:
		return nil, usageErr("-trials is for -hazard all")
	case *determinism && all:
		return nil, usageErr("-determinism and -hazard all do not go together")
	}
	if *seeds == 0 && *duration == 0 {
		*duration = 20 * time.Second
	}
	return &exploreFlags{
		cfg: explore.ExploreConfig{Base: base, FirstSeed: *first, Seeds: *seeds, Duration: *duration, Workers: *workers,
			Shard: si, Shards: sn, KeepGoing: *keepGoing, Determinism: *determinism, NoControl: *noControl},
		sc:  explore.ShrinkConfig{Budget: *shrinkTime, Attempts: *shrinkAttempts, Control: !*noControl},
		all: all, trials: *trials, outDir: *outDir, jsonOut: *jsonOut, verbose: *verbose,
	}, nil
}

// checkExploreCounts rejects explore's zero and nonsense counts (issue 15:
// `-seeds 0` and `-duration 0` used to run the 20 s default silently).
func checkExploreCounts(set map[string]bool, seeds, first uint64, duration time.Duration, workers int, outDir string) error {
	if err := positiveIfSet(set, "seeds", seeds, "leave -seeds out to run for -duration"); err != nil {
		return err
	}
	if err := durationIfSet(set, "duration", duration, "leave -duration out for no time limit with -seeds"); err != nil {
		return err
	}
	if err := seedRange(first, seeds); err != nil {
		return err
	}
	if err := checkWorkers(workers); err != nil {
		return err
	}
	return checkDir("out", outDir)
}

// shrinkFirst shrinks the lowest failing world (a violation, not a
// determinism difference) and saves it as a counterexample file; the
// options are printed first, while shrinking runs.
func shrinkFirst(res *explore.ExploreResult, ef *exploreFlags, stdout io.Writer) (*explore.Counterexample, string, error) {
	f := res.First
	if f == nil {
		return nil, "", nil
	}
	if f.Outcome.Violation == nil || f.Diff != nil {
		if !ef.jsonOut {
			fmt.Fprintf(stdout, "FAILING SEED %s\n", f.Swarm)
		}
		return nil, "", nil
	}
	c := explore.FromOutcome(f.Outcome)
	if !ef.jsonOut {
		fmt.Fprintf(stdout, "FAILING SEED %s\n", f.Swarm)
	}
	var cxErr error
	if res.Interrupted {
		// Ctrl-C asked to stop: the failing world is written unshrunk
		// rather than kept running for the shrink budget.
		cxErr = fmt.Errorf("not shrunk: interrupted")
	} else if sx, err := explore.Shrink(c, ef.sc); err != nil {
		cxErr = err
	} else {
		c = sx
	}
	path, err := explore.SaveCounterexample(ef.outDir, &c)
	if err != nil {
		cxErr = fmt.Errorf("writing the counterexample: %w", err)
		path = ""
	}
	return &c, path, cxErr
}

// errViolationReported is the exit status 1 of a run whose report is
// already printed.
var errViolationReported = fmt.Errorf("%w", errFound)

func progressLine(s explore.ExploreStats) string {
	return fmt.Sprintf("%s: %d worlds (%.0f/s), %s steps (%s/s), %d violations, %d/%d marks",
		s.Elapsed.Round(time.Second), s.Worlds, s.WorldsPerSec(), human(float64(s.Steps)), human(s.StepsPerSec()),
		s.Violations, s.MarksReached, len(explore.KnownMarks()))
}

// human prints a count with a k/M suffix.
func human(x float64) string {
	switch {
	case x >= 1e9:
		return fmt.Sprintf("%.2fG", x/1e9)
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 1e4:
		return fmt.Sprintf("%.1fk", x/1e3)
	}
	return fmt.Sprintf("%.0f", x)
}

func baseText(b swarm.Base) string {
	h := b.Hazard
	if h == "" {
		h = "-"
	}
	p, f := "v15", "none"
	if b.Profile != 0 {
		p = cluster.ProfileName(b.Profile, b.Fixed)
	}
	if b.Fence != 0 {
		f = b.Fence.String()
	}
	out := fmt.Sprintf("profile %s, fence %s, hazard %s", p, f, h)
	if b.Faithful != "" {
		out += ", faithful " + b.Faithful
	}
	if b.Hunt != "" {
		out += ", hunt " + b.Hunt
	}
	if b.Sched.Kind != sim.Uniform {
		out += ", sched " + b.Sched.String()
	}
	return out
}

func printSummary(w io.Writer, cfg explore.ExploreConfig, res *explore.ExploreResult, verbose bool) {
	fmt.Fprintf(w, "explore: %d worlds, %s steps in %v on %d workers: %.0f worlds/s, %s steps/s per core\n",
		res.Worlds, human(float64(res.Steps)), res.Elapsed.Round(time.Millisecond), res.Workers, res.WorldsPerSec(), human(res.StepsPerSecPerCore()))
	shards := cfg.Shards
	if shards == 0 {
		shards = 1
	}
	fmt.Fprintf(w, "  seeds %d..%d (shard %d/%d), %s", cfg.FirstSeed, res.LastSeed, cfg.Shard, shards, baseText(cfg.Base))
	if cfg.Determinism {
		fmt.Fprint(w, ", every seed run twice")
	}
	fmt.Fprintln(w)
	printInterrupted(w, res)
	printDeterminism(w, cfg, res)
	fmt.Fprintf(w, "  violations: %d", res.Violations)
	if res.First != nil {
		fmt.Fprintf(w, " (lowest failing seed %d, %s)", res.First.Swarm.Seed, res.First.Checker())
	}
	fmt.Fprintln(w)
	if res.Background > 0 {
		fmt.Fprintf(w, "  background: %d failing seeds failed the same way without the hazard (not counted above; the model's own failures)\n", res.Background)
	}
	if res.Violations > 1 {
		byChecker := res.ByChecker
		var names []string
		for n := range byChecker { // sorted below
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool {
			a, b := byChecker[names[i]], byChecker[names[j]]
			return a > b || (a == b && names[i] < names[j])
		})
		var parts []string
		for _, n := range names {
			parts = append(parts, fmt.Sprintf("%s %d", n, byChecker[n]))
		}
		fmt.Fprintf(w, "  by checker: %s\n", strings.Join(parts, ", "))
		for i, f := range res.Failures {
			if i == 20 {
				fmt.Fprintf(w, "    ... and %d more\n", res.Violations-20)
				break
			}
			fmt.Fprintf(w, "    seed %d: %s\n", f.Swarm.Seed, f.Checker())
		}
	}
	printExercised(w, res, verbose)
	printMarks(w, baseText(cfg.Base), res.Marks, explore.UnreachableMarks(cfg.Base))
	if verbose {
		fmt.Fprintf(w, "  marks: %s\n", strings.Join(res.Marks, ", "))
		if rss := explore.PeakRSS(); rss > 0 {
			fmt.Fprintf(w, "  peak RSS (VmHWM): %.1f MiB\n", float64(rss)/(1<<20))
		}
	}
}

// printMarks prints the marks line of the summary (explore's and merge's):
// how many of the marks the run could reach it reached, the ones it
// missed, then the known marks it cannot reach (unreachable: mark to why,
// explore.UnreachableMarks of the run's base).
func printMarks(w io.Writer, base string, reached []string, unreachable map[string]string) {
	known := explore.KnownMarks()
	got := map[string]bool{} // looked up only
	for _, m := range reached {
		got[m] = true
	}
	var missing, cannot []string
	for _, m := range known {
		switch {
		case got[m]:
		case unreachable[m] != "":
			cannot = append(cannot, m)
		default:
			missing = append(missing, m)
		}
	}
	fmt.Fprintf(w, "  marks reached: %d/%d", len(known)-len(missing)-len(cannot), len(known)-len(cannot))
	if len(cannot) > 0 {
		fmt.Fprintf(w, " reachable in this run (%d known)", len(known))
	}
	if len(missing) > 0 {
		fmt.Fprintf(w, " (not reached: %s)", strings.Join(missing, ", "))
	}
	fmt.Fprintln(w)
	if len(cannot) > 0 {
		fmt.Fprintf(w, "  marks this run cannot reach (%s):\n", base)
		for _, m := range cannot {
			fmt.Fprintf(w, "    %s: %s\n", m, unreachable[m])
		}
	}
}

// printExercised prints the claims no world exercised (their sometimes
// count stayed zero: they judged nothing in this run); verbose, every
// claim's count.
func printExercised(w io.Writer, res *explore.ExploreResult, verbose bool) {
	fmt.Fprintf(w, "  claims exercised: %d/%d", len(res.Exercised)-len(res.NeverExercised), len(res.Exercised))
	if len(res.NeverExercised) > 0 {
		fmt.Fprintf(w, " (never exercised: %s)", strings.Join(res.NeverExercised, ", "))
	}
	fmt.Fprintln(w)
	if verbose {
		parts := make([]string, len(res.Exercised))
		for i, e := range res.Exercised {
			parts[i] = fmt.Sprintf("%s %d", e.Name, e.Count)
		}
		fmt.Fprintf(w, "  claim checks: %s\n", strings.Join(parts, ", "))
	}
}

func printFailure(w io.Writer, f *explore.Failure, finding string, cx *explore.Counterexample, path string, cxErr error) {
	sw := f.Swarm
	switch {
	case f.Diff != nil:
		fmt.Fprintf(w, "checker: %s (seed %d)\n  %s\n", explore.CheckDeterminism, sw.Seed, f.Diff)
		fmt.Fprintf(w, "reproduce: go run ./cmd/promotesim explore -determinism -seeds 1 -seed %d%s\n", sw.Seed, explore.SwarmFlags(sw))
		return
	case f.Outcome.Violation == nil:
		fmt.Fprintf(w, "seed %d could not run: %v\n", sw.Seed, f.Err)
		fmt.Fprintf(w, "reproduce: go run ./cmd/promotesim replay -seed %d%s\n", sw.Seed, explore.SwarmFlags(sw))
		return
	}
	v := f.Outcome.Violation
	fmt.Fprintf(w, "checker: %s, seed %d, step %d\n", v.Checker, sw.Seed, v.Step)
	fmt.Fprint(w, indent(v.Report(), "  "))
	if finding != "" {
		fmt.Fprintln(w, finding)
	}
	if cx != nil {
		printCounterexample(w, cx)
	}
	if cxErr != nil {
		fmt.Fprintf(w, "counterexample: %v\n", cxErr)
	}
	if path != "" {
		fmt.Fprintf(w, "written: %s\n", path)
		fmt.Fprintf(w, "reproduce: %s\n", explore.ReproduceCommand(path))
	}
	fmt.Fprintf(w, "the whole world: go run ./cmd/promotesim replay -seed %d%s\n", sw.Seed, explore.SwarmFlags(sw))
}

func printCounterexample(w io.Writer, cx *explore.Counterexample) {
	what := "counterexample"
	if cx.Shrink.Attempts > 0 {
		what = "shrunk counterexample"
	}
	fmt.Fprintf(w, "%s: %d actions (%d external)", what, len(cx.Actions), cx.External())
	if cx.Shrink.Attempts > 0 {
		fmt.Fprintf(w, " [%s]", cx.Shrink)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  %s\n", cx.Cluster)
	for _, a := range cx.Actions {
		fmt.Fprintf(w, "  %s\n", a)
	}
	if cx.Scripted {
		fmt.Fprintf(w, "  scheduler choices: %s\n", explore.ScheduleString(cx.Schedule))
	} else {
		fmt.Fprintln(w, "  scheduler choices: the seeded random schedule of the cluster line")
	}
	if cx.Violation != nil {
		first, _, _ := strings.Cut(cx.Violation.Error(), "\n")
		fmt.Fprintf(w, "  => %s\n", first)
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, "\n"+prefix) + "\n"
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

type jsonCounterexample struct {
	Checker   string   `json:"checker"`
	Seed      uint64   `json:"seed"`
	Cluster   string   `json:"cluster"`
	Actions   []string `json:"actions"`
	External  int      `json:"external_actions"`
	Schedule  string   `json:"schedule,omitempty"`
	Violation string   `json:"violation"`
	Path      string   `json:"path,omitempty"`
	Reproduce string   `json:"reproduce,omitempty"`
	Shrink    string   `json:"shrink,omitempty"`
	Error     string   `json:"error,omitempty"`
}

func cxJSON(cx *explore.Counterexample, path string, cxErr error) *jsonCounterexample {
	if cx == nil {
		return nil
	}
	j := &jsonCounterexample{Checker: cx.Checker, Seed: cx.Seed, Cluster: cx.Cluster.String(), Actions: script.Lines(cx.Actions), External: cx.External(), Path: path}
	if cx.Scripted {
		j.Schedule = explore.ScheduleString(cx.Schedule)
	}
	if cx.Violation != nil {
		j.Violation = cx.Violation.Error()
	}
	if path != "" {
		j.Reproduce = explore.ReproduceCommand(path)
	}
	if cx.Shrink.Attempts > 0 {
		j.Shrink = cx.Shrink.String()
	}
	if cxErr != nil {
		j.Error = cxErr.Error()
	}
	return j
}

func exploreJSON(cfg explore.ExploreConfig, res *explore.ExploreResult, cx *explore.Counterexample, path string, cxErr error, finding string, verbose bool) any {
	out := struct {
		exploreReport
		Interrupted bool             `json:"interrupted"`
		Determinism *jsonDeterminism `json:"determinism,omitempty"`
	}{
		exploreReport: exploreReport{Model: cluster.ModelVersion, Base: baseText(cfg.Base), FirstSeed: cfg.FirstSeed, LastSeed: res.LastSeed,
			Shard: fmt.Sprintf("%d/%d", cfg.Shard, max(cfg.Shards, 1)), Worlds: res.Worlds, Steps: res.Steps,
			ElapsedSec: res.Elapsed.Seconds(), Workers: res.Workers, StepsPerSec: res.StepsPerSec(), StepsPerCore: res.StepsPerSecPerCore(),
			Violations: res.Violations, Background: res.Background, ByChecker: res.ByChecker, MarksReached: res.Marks, MarksKnown: len(explore.KnownMarks()),
			MarksUnreachable: explore.UnreachableMarks(cfg.Base), Counterexample: cxJSON(cx, path, cxErr), Run: runOptions(cfg), Exhausted: res.Exhausted},
		Interrupted: res.Interrupted, Determinism: determinismOf(cfg, res),
	}
	if out.MarksReached == nil {
		out.MarksReached = []string{}
	}
	out.Exercised = map[string]uint64{}
	for _, e := range res.Exercised {
		out.Exercised[e.Name] = e.Count
	}
	out.NeverExercised = append([]string{}, res.NeverExercised...)
	if verbose {
		out.PeakRSS = explore.PeakRSS()
	}
	for _, f := range res.Failures {
		j := failureJSON{Seed: f.Swarm.Seed, Options: f.Swarm.String(), Checker: f.Checker(),
			Replay: fmt.Sprintf("go run ./cmd/promotesim replay -seed %d%s", f.Swarm.Seed, explore.SwarmFlags(f.Swarm))}
		switch {
		case f.Diff != nil:
			j.Error = f.Diff.String()
		case f.Outcome.Violation != nil:
			j.Step, j.Error = f.Outcome.Violation.Step, f.Outcome.Violation.Err.Error()
		case f.Err != nil:
			j.Error = f.Err.Error()
		}
		if f == res.First {
			j.Finding = strings.TrimPrefix(finding, "finding: ")
		}
		out.Failures = append(out.Failures, j)
	}
	return out
}

// huntAll is explore -hazard all: the table of every hazard.
func huntAll(cfg explore.ExploreConfig, sc explore.ShrinkConfig, trials int, outDir string, jsonOut, term bool, stdout io.Writer) error {
	hc := explore.HuntConfig{Explore: cfg, Shrink: sc, Trials: trials}
	if term {
		hc.Progress = func(r explore.HuntResult) {
			fmt.Fprintf(stdout, "\r\033[K%s: %s", r.Hazard, map[bool]string{true: "caught, shrunk", false: "not caught"}[r.Caught])
		}
	}
	start := time.Now()
	ctx, stop := interruptible()
	defer stop()
	rows, err := explore.HuntHazards(ctx, hc)
	intr := interrupted(ctx)
	if term {
		fmt.Fprint(stdout, "\r\033[K")
	}
	if err != nil {
		return err
	}
	paths, errs := saveHunt(rows, outDir)
	missed := 0
	for _, r := range rows {
		if !r.Caught {
			missed++
		}
	}
	if jsonOut {
		if err := printHuntJSON(stdout, cfg, trials, start, missed, intr, rows, paths); err != nil {
			return err
		}
	} else {
		printHuntTable(stdout, cfg, trials, start, missed, rows, paths, errs)
	}
	if intr {
		// The table's "not caught" rows may only be hazards the interrupt
		// cut short: not reported as misses.
		if !jsonOut {
			fmt.Fprintln(stdout, "  interrupted (SIGINT): the table is incomplete")
		}
		return errInterrupted
	}
	if missed > 0 {
		return fmt.Errorf("%d hazards not caught: the checkers missed them (or the budget was too small)", missed)
	}
	return nil
}

// saveHunt writes every hazard's counterexample and returns their paths
// (by row; "" when none) and the errors met.
func saveHunt(rows []explore.HuntResult, outDir string) ([]string, []string) {
	paths := make([]string, len(rows))
	var errs []string
	for i := range rows {
		r := &rows[i]
		if r.Counterexample == nil || r.ShrinkErr != nil {
			if r.ShrinkErr != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", r.Hazard, r.ShrinkErr))
			}
			continue
		}
		p, err := explore.SaveCounterexample(outDir, r.Counterexample)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: writing the counterexample: %v", r.Hazard, err))
			continue
		}
		paths[i] = p
	}
	return paths, errs
}

func printHuntJSON(stdout io.Writer, cfg explore.ExploreConfig, trials int, start time.Time, missed int, intr bool, rows []explore.HuntResult, paths []string) error {
	type row struct {
		explore.HuntResult
		Actions        int                 `json:"counterexample_actions,omitempty"`
		External       int                 `json:"counterexample_external,omitempty"`
		Counterexample *jsonCounterexample `json:"counterexample,omitempty"`
	}
	out := struct {
		Model   string  `json:"model_version"`
		Base    string  `json:"base"`
		Trials  int     `json:"trials"`
		Elapsed float64 `json:"elapsed_s"`
		Missed  int     `json:"not_caught"`
		Intr    bool    `json:"interrupted"`
		Hazards []row   `json:"hazards"`
	}{Model: cluster.ModelVersion, Base: baseText(cfg.Base), Trials: trials, Elapsed: time.Since(start).Seconds(), Missed: missed, Intr: intr}
	for i, r := range rows {
		j := row{HuntResult: r}
		if cx := r.Counterexample; cx != nil {
			j.Actions, j.External = len(cx.Actions), cx.External()
			j.Counterexample = cxJSON(cx, paths[i], r.ShrinkErr)
		}
		out.Hazards = append(out.Hazards, j)
	}
	return writeJSON(stdout, out)
}

func printHuntTable(stdout io.Writer, cfg explore.ExploreConfig, trials int, start time.Time, missed int, rows []explore.HuntResult, paths, errs []string) {
	fmt.Fprintf(stdout, "%-32s %-6s %-24s %6s %9s %5s  %s\n", "hazard", "caught", "checker", "seeds", "time", "bkgd", "counterexample: actions, external")
	for i, r := range rows {
		caught, checker, seeds, tm, cxs := "NO", "-", "-", "-", "-"
		if r.Caught {
			caught, checker = "yes", r.Checker
			seeds = strconv.FormatUint(r.MedianSeeds, 10)
			tm = r.MedianTime.Round(time.Millisecond).String()
			if cx := r.Counterexample; cx != nil {
				cxs = fmt.Sprintf("%d, %d", len(cx.Actions), cx.External())
				if paths[i] != "" {
					cxs += "  " + paths[i]
				}
			}
		}
		fmt.Fprintf(stdout, "%-32s %-6s %-24s %6s %9s %5d  %s\n", r.Hazard, caught, checker, seeds, tm, r.Background, cxs)
	}
	how := "seeds and time to the first failing seed"
	if trials > 1 {
		how = fmt.Sprintf("medians over %d trials of seeds and time to the first failing seed", trials)
	}
	fmt.Fprintf(stdout, "%d of %d hazards caught (%s; %s) in %v\n", len(rows)-missed, len(rows), how, baseText(swarm.Base{Profile: cfg.Base.Profile, Fixed: cfg.Base.Fixed, Fence: cfg.Base.Fence, Sched: cfg.Base.Sched}), time.Since(start).Round(time.Millisecond))
	for _, e := range errs {
		fmt.Fprintf(stdout, "  %s\n", e)
	}
	fmt.Fprintln(stdout, "  bkgd: failing seeds that failed the same way without the hazard (control runs), not counted as detections")
}

// printInterrupted says that SIGINT cut the run short: the counts cover
// only the worlds that ran, not the range or budget asked for.
func printInterrupted(w io.Writer, res *explore.ExploreResult) {
	if res.Interrupted {
		fmt.Fprintf(w, "  interrupted (SIGINT): stopped handing out seeds after %d worlds; the run is incomplete\n", res.Worlds)
	}
}

// jsonDeterminism is -determinism's verdict in the JSON report.
type jsonDeterminism struct {
	// Checked: every world of the run was run twice and compared.
	Checked bool `json:"checked"`
	// Worlds is how many worlds were re-run; Diverged how many of them
	// differed between their two runs (Seed is the lowest, Step its first
	// differing step).
	Worlds   uint64 `json:"worlds_rerun"`
	Diverged uint64 `json:"diverged"`
	Seed     uint64 `json:"seed,omitempty"`
	Step     uint64 `json:"step,omitempty"`
}

// determinismOf reads -determinism's verdict from the run's failures (nil
// without -determinism).
func determinismOf(cfg explore.ExploreConfig, res *explore.ExploreResult) *jsonDeterminism {
	if !cfg.Determinism {
		return nil
	}
	d := &jsonDeterminism{Checked: true, Worlds: res.Worlds, Diverged: res.ByChecker[explore.CheckDeterminism]}
	for _, f := range res.Failures {
		if f.Diff != nil {
			d.Seed, d.Step = f.Swarm.Seed, f.Diff.Step
			break
		}
	}
	return d
}

// printDeterminism is -determinism's verdict as one explicit line.
func printDeterminism(w io.Writer, cfg explore.ExploreConfig, res *explore.ExploreResult) {
	d := determinismOf(cfg, res)
	switch {
	case d == nil:
	case d.Diverged == 0:
		fmt.Fprintf(w, "  determinism: %d worlds re-run, no divergence\n", d.Worlds)
	default:
		fmt.Fprintf(w, "  determinism: %d worlds re-run, %d DIVERGED (lowest seed %d, from step %d)\n", d.Worlds, d.Diverged, d.Seed, d.Step)
	}
}
