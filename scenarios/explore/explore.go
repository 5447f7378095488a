package explore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"promotesim/scenarios/check"
	"promotesim/scenarios/hazard"
	"promotesim/scenarios/swarm"
	"promotesim/sim"
)

// The explorer (TigerBeetle's VOPR run on every core): one seeded swarm
// world per goroutine, seeds handed out in order from one counter. What it
// reports never depends on how many workers ran: the failure it reports is
// the lowest failing seed of the seeds it handed out, and once a seed fails
// no higher seed is handed out, so every seed below it always runs to its
// end. Worlds keep only the scheduler's bounded trace ring; a trace is
// written out only when a failing seed is replayed.

// ExploreConfig says which worlds to run and how.
type ExploreConfig struct {
	// Base fixes every world's profile, fence mode and hazard.
	Base swarm.Base
	// FirstSeed is the first seed of the range.
	FirstSeed uint64
	// Seeds bounds the range to [FirstSeed, FirstSeed+Seeds); 0 leaves it
	// open (Duration must then be set).
	Seeds uint64
	// Duration stops handing out seeds after this much wall time (0: no
	// limit). Worlds already running finish.
	Duration time.Duration
	// Workers is how many worlds run at once (0: GOMAXPROCS).
	Workers int
	// Shard and Shards split a seed range across machines: this run takes
	// the seeds s of the range with s mod Shards == Shard (Shards 0 or 1:
	// every seed).
	Shard, Shards uint64
	// KeepGoing runs every seed of the range even after a failure (counting
	// them all); otherwise no seed above the lowest failing one is started.
	KeepGoing bool
	// Determinism runs every seed twice and compares the traces step by
	// step (a failure is a world whose two runs differ).
	Determinism bool
	// NoControl turns off the control runs: with a protocol hazard set, a
	// failing seed's recorded commands are replayed under its schedule
	// without the hazard, and if they fail the same way there too it is a
	// background failure (a bug or false alarm
	// of the model itself), counted but not blamed on the hazard.
	NoControl bool
	// Progress, when set, is called with running totals every
	// ProgressEvery (default 500ms) from one goroutine.
	Progress      func(ExploreStats)
	ProgressEvery time.Duration
}

// ExploreStats are the running totals of an explore.
type ExploreStats struct {
	Worlds     uint64 `json:"worlds"`
	Steps      uint64 `json:"steps"`
	Violations uint64 `json:"violations"`
	// Background counts failing seeds that failed the same way without
	// the hazard (control runs; not in Violations).
	Background   uint64        `json:"background"`
	MarksReached int           `json:"marks_reached"`
	Elapsed      time.Duration `json:"elapsed_ns"`
	Workers      int           `json:"workers"`
}

// WorldsPerSec is the explore's world rate.
func (s ExploreStats) WorldsPerSec() float64 { return rate(float64(s.Worlds), s.Elapsed) }

// StepsPerSec is the explore's simulated step rate, all workers together.
func (s ExploreStats) StepsPerSec() float64 { return rate(float64(s.Steps), s.Elapsed) }

// StepsPerSecPerCore divides StepsPerSec by the workers that ran.
func (s ExploreStats) StepsPerSecPerCore() float64 {
	if s.Workers == 0 {
		return 0
	}
	return s.StepsPerSec() / float64(s.Workers)
}

func rate(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return n / d.Seconds()
}

// Failure is one failing seed: its world's outcome with the violation, or
// the error that kept the world from running, or the difference between
// two runs of it (determinism mode).
type Failure struct {
	Swarm   swarm.Swarm
	Outcome swarm.Outcome
	// Err is set when the world could not be built or run at all.
	Err error
	// Diff is set when two runs of the seed differ (Determinism).
	Diff *DeterminismDiff
	// Index is the seed's position among this run's seeds (1 = the first),
	// and Found the wall time into the explore when it finished.
	Index uint64
	Found time.Duration
}

// slim drops what only the reported failure needs: the action list, the
// marks and the violation's trace tail and error chain (which may hold on
// to the world's memory), keeping the verdict as text.
func (f *Failure) slim() {
	o := &f.Outcome
	if v := o.Violation; v != nil {
		o.Violation = &sim.Violation{Checker: v.Checker, Step: v.Step, Time: v.Time, Seed: v.Seed, Err: errors.New(v.Err.Error())}
	}
	o.Actions, o.Marks, o.Exercised = nil, nil, nil
	if f.Err != nil {
		f.Err = errors.New(f.Err.Error())
	}
}

// Checker names what failed: the violated checker, "Determinism", or
// "error".
func (f *Failure) Checker() string {
	switch {
	case f.Diff != nil:
		return CheckDeterminism
	case f.Outcome.Violation != nil:
		return f.Outcome.Violation.Checker
	}
	return "error"
}

// CheckDeterminism names a failure of the determinism self-check.
const CheckDeterminism = "Determinism"

// CheckPanic names a Go panic inside a world (a programmer error that is
// not an assertion): reported, replayed and shrunk like any violation.
const CheckPanic = "panic"

// ExploreResult is what an explore found.
type ExploreResult struct {
	ExploreStats
	// First is the lowest failing seed (nil: none failed).
	First *Failure
	// Failures lists the failing seeds found, lowest first (with
	// KeepGoing, the lowest MaxFailuresKept of the range; Violations and
	// ByChecker count them all).
	Failures  []*Failure
	ByChecker map[string]uint64
	// Marks are the coverage marks reached by any world, sorted.
	Marks []string
	// Exercised sums every world's claim counts, in catalogue order;
	// NeverExercised names the claims no world exercised (they judged
	// nothing in this run, however green it is).
	Exercised      []check.Exercise
	NeverExercised []string
	// Seeds is the range that was handed out: FirstSeed.. up to LastSeed.
	LastSeed uint64
	// Exhausted: the seed range (not the time budget) ended the run.
	Exhausted bool
	// Interrupted: the context was cancelled (SIGINT in the CLI) while
	// seeds were still to be handed out; the counts cover only the worlds
	// that ran, and the range was not finished.
	Interrupted bool
}

// seedRange enumerates the seeds of one shard of a range.
type seedRange struct {
	first, end uint64 // end 0: open
	step       uint64
}

func newSeedRange(cfg ExploreConfig) (seedRange, error) {
	n := cfg.Shards
	if n == 0 {
		n = 1
	}
	if cfg.Shard >= n {
		return seedRange{}, fmt.Errorf("shard %d/%d: want a shard below %d", cfg.Shard, n, n)
	}
	r := seedRange{step: n}
	if cfg.Seeds > 0 {
		r.end = cfg.FirstSeed + cfg.Seeds
		if r.end < cfg.FirstSeed {
			return seedRange{}, fmt.Errorf("seed range %d+%d overflows", cfg.FirstSeed, cfg.Seeds)
		}
	}
	r.first = cfg.FirstSeed + (cfg.Shard+n-cfg.FirstSeed%n)%n
	return r, nil
}

// seed returns the k-th seed (from 0) and whether it is in the range.
func (r seedRange) seed(k uint64) (uint64, bool) {
	s := r.first + k*r.step
	if s < r.first || (r.end != 0 && s >= r.end) {
		return 0, false
	}
	return s, true
}

// Explore runs seeded worlds until the range or the time budget ends (or,
// without KeepGoing, a seed fails).
func Explore(ctx context.Context, cfg ExploreConfig) (*ExploreResult, error) {
	x, err := newExplorer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	stopProgress := x.startProgress()
	g, gctx := errgroup.WithContext(ctx)
	for w := 0; w < x.workers; w++ {
		g.Go(func() error { return x.work(gctx) })
	}
	err = g.Wait()
	stopProgress()
	if err != nil {
		return nil, err
	}
	return x.result(), nil
}

// explorer is one Explore run's shared state: the seed counter the
// workers take from, the counters and the failures found.
type explorer struct {
	ctx      context.Context
	cfg      ExploreConfig
	rng      seedRange
	workers  int
	start    time.Time
	deadline time.Time

	next       atomic.Uint64 // index of the next seed to hand out
	worlds     atomic.Uint64
	steps      atomic.Uint64
	violations atomic.Uint64
	background atomic.Uint64
	lowest     atomic.Uint64 // lowest failing index + 1 (0: none)
	handed     atomic.Uint64 // highest index handed out + 1
	exhausted  atomic.Bool
	cut        atomic.Bool // the context stopped the hand-out
	nMarks     atomic.Int64

	mu        sync.Mutex
	marks     map[string]bool // looked up; listed sorted
	exercised []check.Exercise
	failures  []*Failure
	full      *Failure // the lowest failure so far, the only one kept whole
	byChecker map[string]uint64
}

// newExplorer checks the configuration and sets a run up.
func newExplorer(ctx context.Context, cfg ExploreConfig) (*explorer, error) {
	if cfg.Seeds == 0 && cfg.Duration <= 0 {
		return nil, fmt.Errorf("explore: give a number of seeds or a duration")
	}
	rng, err := newSeedRange(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := swarm.DeriveSwarm(cfg.FirstSeed, cfg.Base); err != nil {
		return nil, err
	}
	x := &explorer{ctx: ctx, cfg: cfg, rng: rng, workers: cfg.Workers, start: time.Now(),
		marks: map[string]bool{}, byChecker: map[string]uint64{}}
	if x.workers <= 0 {
		x.workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Duration > 0 {
		x.deadline = x.start.Add(cfg.Duration)
	}
	return x, nil
}

func (x *explorer) stats() ExploreStats {
	return ExploreStats{Worlds: x.worlds.Load(), Steps: x.steps.Load(), Violations: x.violations.Load(), Background: x.background.Load(),
		MarksReached: int(x.nMarks.Load()), Elapsed: time.Since(x.start), Workers: x.workers}
}

// take hands out the next seed (its index and value), or reports that no
// more should start.
func (x *explorer) take() (uint64, uint64, bool) {
	if x.ctx.Err() != nil {
		x.cut.Store(true)
		return 0, 0, false
	}
	if !x.deadline.IsZero() && time.Now().After(x.deadline) {
		return 0, 0, false
	}
	k := x.next.Add(1) - 1
	if l := x.lowest.Load(); !x.cfg.KeepGoing && l != 0 && k >= l {
		return 0, 0, false
	}
	s, ok := x.rng.seed(k)
	if !ok {
		x.exhausted.Store(true)
		return 0, 0, false
	}
	for {
		h := x.handed.Load()
		if k+1 <= h || x.handed.CompareAndSwap(h, k+1) {
			break
		}
	}
	return k, s, true
}

// startProgress reports the counters every ProgressEvery, if asked, until
// the returned stop is called.
func (x *explorer) startProgress() (stop func()) {
	if x.cfg.Progress == nil {
		return func() {}
	}
	every := x.cfg.ProgressEvery
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				x.cfg.Progress(x.stats())
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// work is one worker: it runs seeds until take says stop.
func (x *explorer) work(gctx context.Context) error {
	for {
		if gctx.Err() != nil {
			x.cut.Store(x.ctx.Err() != nil)
			return nil
		}
		k, seed, ok := x.take()
		if !ok {
			return nil
		}
		sw, err := swarm.DeriveSwarm(seed, x.cfg.Base)
		if err != nil {
			return err
		}
		f := runSeed(sw, x.cfg.Determinism)
		if !x.cfg.NoControl && f.Outcome.Violation != nil && f.Diff == nil && Controllable(sw.Base.Hazard) {
			if failsWithoutHazard(f.Outcome) {
				x.background.Add(1)
				f.Outcome.Violation = nil
			}
		}
		x.worlds.Add(1)
		x.steps.Add(f.Outcome.Steps)
		x.record(k, f)
	}
}

// record takes one world's marks and, if it failed, its failure.
func (x *explorer) record(k uint64, f *Failure) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.addExercised(f.Outcome.Exercised)
	for _, m := range f.Outcome.Marks {
		if !x.marks[m] {
			x.marks[m] = true
			x.nMarks.Add(1)
		}
	}
	if f.Err == nil && f.Diff == nil && f.Outcome.Violation == nil {
		return
	}
	f.Index, f.Found = k+1, time.Since(x.start)
	// Only the lowest failure keeps its whole outcome (its actions, for
	// shrinking); the others keep their verdict, so memory stays flat
	// however many fail.
	if x.full == nil || f.Index < x.full.Index {
		if x.full != nil {
			x.full.slim()
		}
		x.full = f
	} else {
		f.slim()
	}
	x.byChecker[f.Checker()]++
	x.failures = keepLowest(x.failures, f, MaxFailuresKept)
	x.violations.Add(1)
	for {
		l := x.lowest.Load()
		if (l != 0 && l <= k+1) || x.lowest.CompareAndSwap(l, k+1) {
			break
		}
	}
}

// addExercised adds one world's claim counts (x.mu held).
func (x *explorer) addExercised(e []check.Exercise) {
	if x.exercised == nil {
		x.exercised = check.NoExercise()
	}
	for i := range e {
		x.exercised[i].Count += e[i].Count
	}
}

// result is what the run found, independent of the workers' timing.
func (x *explorer) result() *ExploreResult {
	res := &ExploreResult{ExploreStats: x.stats(), Exhausted: x.exhausted.Load(), Interrupted: x.cut.Load(), ByChecker: x.byChecker}
	failures := x.failures
	if !x.cfg.KeepGoing && len(failures) > 0 {
		// Seeds above the lowest failure that were already running when it
		// was found: dropped, so the report does not depend on timing.
		failures = failures[:1]
		res.Violations = 1
		res.ByChecker = map[string]uint64{failures[0].Checker(): 1}
	}
	res.Failures = failures
	if len(failures) > 0 {
		res.First = failures[0]
	}
	for m := range x.marks { // determinism:ok sorted below
		res.Marks = append(res.Marks, m)
	}
	sort.Strings(res.Marks)
	res.MarksReached = len(res.Marks)
	res.Exercised = x.exercised
	if res.Exercised == nil {
		res.Exercised = check.NoExercise()
	}
	for _, e := range res.Exercised {
		if e.Count == 0 {
			res.NeverExercised = append(res.NeverExercised, e.Name)
		}
	}
	if h := x.handed.Load(); h > 0 {
		res.LastSeed, _ = x.rng.seed(h - 1)
	}
	return res
}

// Controllable reports whether a control run can tell a hazard's failures
// from background ones: a protocol hazard changes a step of the model and
// nothing in the plan, so the same seed without it runs the same plan up
// to where the hazard makes a difference. Plan hazards (promote while the
// primary writes, the trigger file) are the plan itself.
func Controllable(hzName string) bool {
	h, err := hazard.Lookup(hzName)
	return err == nil && !h.KeepPrimaryRunning && !h.TriggerFile
}

// failsWithoutHazard replays a failing world's recorded commands under its
// seeded schedule without its hazard and reports whether the same checker
// fires there too: the control the shrinker keeps to as well. (Running the
// seed afresh without the hazard would let the planner draw another
// program from the cluster it sees, so a failure of the model's own that
// the hazard's shifted timing exposed would be blamed on the hazard.)
func failsWithoutHazard(o swarm.Outcome) bool {
	cl := o.Cluster
	cl.Opts.Hazard = ""
	c, err := replayGuarded(cl, o.Actions, o.Swarm.Seed, swarm.RunConfig{})
	return err == nil && c.Violation != nil && c.Violation.Checker == o.Violation.Checker
}

// MaxFailuresKept bounds the failures an explore lists (the lowest seeds),
// so a long run with many failures keeps its memory flat.
const MaxFailuresKept = 100

// keepLowest inserts f into the list sorted by Index, keeping the lowest n.
func keepLowest(list []*Failure, f *Failure, n int) []*Failure {
	i := sort.Search(len(list), func(i int) bool { return list[i].Index > f.Index })
	if i >= n {
		return list
	}
	list = append(list, nil)
	copy(list[i+1:], list[i:])
	list[i] = f
	if len(list) > n {
		list[n] = nil
		list = list[:n]
	}
	return list
}

// runSeed runs one world (twice in determinism mode). A Go panic inside the
// world is caught and reported as a violation of CheckPanic, so one broken
// world does not take the explorer down.
func runSeed(sw swarm.Swarm, determinism bool) *Failure {
	f := &Failure{Swarm: sw}
	if !determinism {
		f.Outcome, f.Err = runGuarded(sw, swarm.RunConfig{})
		return f
	}
	f.Outcome, f.Diff, f.Err = CheckDeterminismOf(sw)
	return f
}

// runGuarded runs a world, turning a Go panic into a CheckPanic violation.
func runGuarded(sw swarm.Swarm, cfg swarm.RunConfig) (o swarm.Outcome, err error) {
	defer func() {
		if e := recover(); e != nil {
			o = swarm.Outcome{Swarm: sw, Cluster: sw.Cluster(),
				Violation: &sim.Violation{Checker: CheckPanic, Seed: sw.Seed, Err: fmt.Errorf("%v\n%s", e, debug.Stack())}}
			err = nil
		}
	}()
	return swarm.RunSwarm(sw, cfg)
}

// DeterminismDiff says where two runs of one seed parted.
type DeterminismDiff struct {
	// Step is the first step whose trace events differ (per-step hashes
	// of every event, at detail level, recorded in the first run).
	Step uint64
	// First and Second are the first differing trace lines ("" when a run
	// ended there).
	First, Second string
	// Hash1 and Hash2 are the two runs' trace hashes.
	Hash1, Hash2 uint64
}

func (d *DeterminismDiff) String() string {
	return fmt.Sprintf("the two runs differ from step %d (trace hashes %016x and %016x)\n  run 1: %s\n  run 2: %s",
		d.Step, d.Hash1, d.Hash2, orEnd(d.First), orEnd(d.Second))
}

func orEnd(s string) string {
	if s == "" {
		return "(the run ended here)"
	}
	return s
}

// stepHasher is a trace sink that keeps, for every trace line, its step
// number and the running hash of all lines so far: enough to find the first
// step at which a second run parts from the first without keeping either
// trace. The trace writes one line per call.
type stepHasher struct {
	steps  []uint64
	hashes []uint64
	h      uint64
	// compare: check each line against ref as it comes, and keep the
	// first line that differs.
	ref     *stepHasher
	diffAt  int // index of the first differing line (-1: none yet)
	diffTxt string
	// capture: keep the text of line number want (a third run fetching
	// the first run's line).
	want    int
	capture string
}

func newStepHasher() *stepHasher { return &stepHasher{h: 14695981039346656037, diffAt: -1, want: -1} }

func (s *stepHasher) Write(p []byte) (int, error) {
	line := strings.TrimRight(string(p), "\n")
	step, _ := strconv.ParseUint(strings.TrimSpace(strings.Fields(line + " x")[0]), 10, 64)
	for i := 0; i < len(line); i++ {
		s.h = (s.h ^ uint64(line[i])) * 1099511628211
	}
	s.h = (s.h ^ '\n') * 1099511628211
	i := len(s.hashes)
	if i == s.want {
		s.capture = line
	}
	s.steps = append(s.steps, step)
	s.hashes = append(s.hashes, s.h)
	if s.ref != nil && s.diffAt < 0 && (i >= len(s.ref.hashes) || s.ref.hashes[i] != s.h) {
		s.diffAt, s.diffTxt = i, line
	}
	return len(p), nil
}

// CheckDeterminismOf runs the world of sw twice and compares the two
// traces event by event (every event at detail level, hashed per line with
// its step). It returns the first run's outcome and the difference, if any.
func CheckDeterminismOf(sw swarm.Swarm) (swarm.Outcome, *DeterminismDiff, error) {
	h1 := newStepHasher()
	o1, err := runGuarded(sw, swarm.RunConfig{Out: h1, Level: sim.LevelDetail})
	if err != nil {
		return o1, nil, err
	}
	h2 := newStepHasher()
	h2.ref = h1
	o2, err := runGuarded(sw, swarm.RunConfig{Out: h2, Level: sim.LevelDetail})
	if err != nil {
		return o1, nil, err
	}
	if h2.diffAt < 0 && len(h2.hashes) < len(h1.hashes) {
		h2.diffAt = len(h2.hashes) // the second run stopped short
	}
	if h2.diffAt < 0 && o1.Hash == o2.Hash {
		return o1, nil, nil
	}
	d := &DeterminismDiff{Hash1: o1.Hash, Hash2: o2.Hash, Second: h2.diffTxt}
	if i := h2.diffAt; i >= 0 {
		if i < len(h1.steps) {
			d.Step = h1.steps[i]
			// The first run's line: run it a third time to fetch just that
			// line (its trace was not kept).
			h3 := newStepHasher()
			h3.want = i
			if _, err := runGuarded(sw, swarm.RunConfig{Out: h3, Level: sim.LevelDetail}); err == nil {
				d.First = h3.capture
			}
		} else if i < len(h2.steps) {
			d.Step = h2.steps[i]
		}
	} else {
		d.Step = o1.Steps
	}
	return o1, d, nil
}

// PeakRSS returns the process's peak resident set size in bytes (VmHWM of
// /proc/self/status; 0 where that is not available).
func PeakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			fs := strings.Fields(v)
			if len(fs) == 2 && fs[1] == "kB" {
				n, err := strconv.ParseUint(fs[0], 10, 64)
				if err == nil {
					return n * 1024
				}
			}
		}
	}
	return 0
}

// knownMarks are the coverage marks the model can hit (every literal
// Ctx.Mark call; TestKnownMarksMatchSource keeps the list honest). The
// explorer reports how many of them its worlds reached.
var knownMarks = []string{
	"bgw/dispatch-queue-full",
	"bgw/evict-instead-of-replay",
	"bgw/iterator-truncated",
	"bgw/online-promote-dispatch",
	"bgw/parallel-replaying",
	"bgw/promote-finished",
	"bgw/replay-init-record",
	"bgw/standby-online-promote",
	"bgw/worker-buffers-busy",
	"postmaster/backend-replay-during-online-promote",
	"postmaster/die-during-replica-read",
	"postmaster/future-page",
	"postmaster/logindex-full-wait",
	"postmaster/new-write-before-bgw-replayed-page",
	"postmaster/page-reuse-during-online-promote",
	"postmaster/polar-worker-weak-ref-evicted",
	"postmaster/queue-overflow",
	"postmaster/restart-after-crash",
	"postmaster/restart-after-kill-9",
	"postmaster/standby-promote",
	"postmaster/standby-wal-received",
	"postmaster/standby-write-page",
	"postmaster/twophase-state-file-written",
	"postmaster/wal-recycled",
	"postmaster/wal-write-partial",
	"postmaster/write-during-online-promote",
	"startup/final-read-failed",
	"startup/hot-standby",
	"startup/hot-standby-in-final-read",
	"startup/memtable-ring-full",
	"startup/overwrite-contrecord",
	"startup/prewarm-parallel-replaying",
	"startup/promote-before-hot-standby",
	"startup/promote-queue-not-caught-up",
	"startup/promote-wrote-twophase-files",
	"startup/queue-gap",
	"startup/queue-overflow-storage-read",
	"startup/recover-prepared-at-crash-recovery",
	"startup/recover-prepared-at-promote",
	"startup/reset-evicted-above-redo",
	"startup/reset-evicted-stale",
	"startup/reset-without-waiting-reset",
	"startup/standby-consistent",
	"startup/standby-promote",
	"startup/standby-trigger-file",
	"startup/trigger-file-wait",
	"startup/waiting-reset-overwritten",
}

// KnownMarks lists the coverage marks the model can hit, sorted.
func KnownMarks() []string { return append([]string(nil), knownMarks...) }

// HuntConfig configures explore -hazard all: one explore per hazard (and
// per trial), each until its first failing seed, then shrinking.
type HuntConfig struct {
	// Explore is the per-trial explore (its Base.Hazard is replaced).
	Explore ExploreConfig
	Shrink  ShrinkConfig
	// Hazards to hunt (nil: the whole catalogue).
	Hazards []string
	// Trials explores each hazard from Trials different first seeds
	// (FirstSeed + k*TrialStride) for a median time to first detection.
	Trials int
	// Progress is told when a hazard's hunt ends.
	Progress func(HuntResult)
}

// TrialStride separates the seed ranges of a hunt's trials.
const TrialStride = 1_000_003

// HuntResult is one hazard's row of the table.
type HuntResult struct {
	Hazard string `json:"hazard"`
	Caught bool   `json:"caught"`
	// Checker is the claim that caught it (the first trial's).
	Checker string `json:"checker,omitempty"`
	Seed    uint64 `json:"seed,omitempty"`
	// Per trial: seeds run until the first failing one (inclusive) and
	// wall time to it; 0 where the trial did not catch it.
	Seeds []uint64        `json:"seeds_to_detection"`
	Times []time.Duration `json:"times_to_detection_ns"`
	// Medians over the trials that caught it.
	MedianSeeds uint64        `json:"median_seeds"`
	MedianTime  time.Duration `json:"median_time_ns"`
	Worlds      uint64        `json:"worlds"`
	Steps       uint64        `json:"steps"`
	// Background counts failing seeds that failed the same way without
	// the hazard (not detections).
	Background uint64 `json:"background"`
	// Counterexample is the first trial's, shrunk.
	Counterexample *Counterexample `json:"-"`
	ShrinkErr      error           `json:"-"`
	Failure        *Failure        `json:"-"`
}

// HuntHazards explores every hazard until it is caught (or its budget
// ends), then shrinks each hazard's first counterexample; shrinking runs
// one hazard per worker.
func HuntHazards(ctx context.Context, cfg HuntConfig) ([]HuntResult, error) {
	names := cfg.Hazards
	if names == nil {
		names = hazard.Names()
	}
	trials := max(cfg.Trials, 1)
	out := make([]HuntResult, len(names))
	for i, name := range names {
		if _, err := hazard.Lookup(name); err != nil {
			return nil, err
		}
		r := HuntResult{Hazard: name}
		for k := 0; k < trials; k++ {
			ec := cfg.Explore
			ec.Base.Hazard = name
			ec.Base = HazardBase(ec.Base)
			ec.FirstSeed = cfg.Explore.FirstSeed + uint64(k)*TrialStride
			ec.KeepGoing = false
			ec.Progress = nil
			res, err := Explore(ctx, ec)
			if err != nil {
				return nil, err
			}
			r.Worlds += res.Worlds
			r.Steps += res.Steps
			r.Background += res.Background
			if res.First == nil {
				r.Seeds = append(r.Seeds, 0)
				r.Times = append(r.Times, 0)
				continue
			}
			r.Seeds = append(r.Seeds, res.First.Index)
			r.Times = append(r.Times, res.First.Found)
			if !r.Caught {
				r.Caught, r.Checker, r.Seed, r.Failure = true, res.First.Checker(), res.First.Swarm.Seed, res.First
			}
		}
		r.MedianSeeds, r.MedianTime = medians(r.Seeds, r.Times)
		out[i] = r
	}
	// Shrink the counterexamples, one hazard per worker.
	workers := cfg.Explore.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g, _ := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i := range out {
		r := &out[i]
		if r.Failure == nil {
			if cfg.Progress != nil {
				cfg.Progress(*r)
			}
			continue
		}
		g.Go(func() error {
			cx := FromOutcome(r.Failure.Outcome)
			if r.Failure.Outcome.Violation == nil {
				r.ShrinkErr = fmt.Errorf("seed %d: %v", r.Seed, r.Failure.Err)
			} else if sx, err := Shrink(cx, ShrinkConfig{Budget: cfg.Shrink.Budget, Attempts: cfg.Shrink.Attempts, Control: !cfg.Explore.NoControl}); err != nil {
				r.ShrinkErr = err
				r.Counterexample = &cx
			} else {
				r.Counterexample = &sx
			}
			if cfg.Progress != nil {
				cfg.Progress(*r)
			}
			return nil
		})
	}
	return out, g.Wait()
}

// medians of the trials that caught the hazard.
func medians(seeds []uint64, times []time.Duration) (uint64, time.Duration) {
	var ss []uint64
	var ts []time.Duration
	for i := range seeds {
		if seeds[i] != 0 {
			ss = append(ss, seeds[i])
			ts = append(ts, times[i])
		}
	}
	if len(ss) == 0 {
		return 0, 0
	}
	sort.Slice(ss, func(i, j int) bool { return ss[i] < ss[j] })
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ss[len(ss)/2], ts[len(ts)/2]
}

// HazardBase gives b's hazard the profile its catch needs: the hazard's
// own profile (hazard.Hazard.Profile), and the -fixed variant where a
// guard PolarDB's code really has masks the wrong order in the faithful
// profile (hazard.Hazard.Fixed: reset-after-recovery-done). The hazard
// table uses it always, check -exhaustive when -profile is not given. A
// base without a (known) hazard is returned as it is.
func HazardBase(b swarm.Base) swarm.Base {
	hz, err := hazard.Lookup(b.Hazard)
	if b.Hazard == "" || err != nil {
		return b
	}
	if hz.Profile != 0 {
		b.Profile = hz.Profile
	}
	if hz.Fixed {
		b.Fixed = true
	}
	return b
}
