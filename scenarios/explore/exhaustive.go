package explore

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"time"

	"promotesim/scenarios/check"
	"promotesim/scenarios/cluster"
	"promotesim/scenarios/hazard"
	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
	"promotesim/shmem"
	"promotesim/sim"
)

// The exhaustive check (the explorer's model check) is a stateful search
// (sim.Search) of a small world's whole promote window: the world boots,
// takes its writes and stops its primary under the FIFO schedule; from the
// promote request on, every choice with two or more options is explored
// (which process steps next, and any fault or chance), depth first, with no
// FIFO tail, until the window ends: the promoted node's BGW is back in
// POLAR_BG_REDO_NOT_START and a write on the new primary has been answered.
// The safety checkers run after every step; the whole-state checks (crash
// recovery from storage) run once the window has closed. A fingerprint of
// the whole world after each step (fingerprint.go, compiled per type in
// fingerprint_fast.go) prunes states explored before, and -preemptions K
// bounds the search CHESS style where the full space is too big. The
// world is built and run to the promote once; every run of the search
// starts from a deep copy of it (clone.go) and replays its branch's prefix
// of choices from there.

// ExhaustiveConfig configures a check.
type ExhaustiveConfig struct {
	Base swarm.Base
	// BoundPreemptions bounds every schedule to Preemptions preemptions
	// (switching away from a process that could go on); unset, none.
	BoundPreemptions bool
	Preemptions      int
	// MaxStates and Budget stop a search that would take too long (0: no
	// limit); the result then says it is incomplete.
	MaxStates int
	Budget    time.Duration
	// StopAtFirst ends the search at the first failing schedule (else it
	// explores on and keeps the shortest).
	StopAtFirst bool
	// Iterate searches at bounds 0, 1, 2, ... in turn (BoundPreemptions
	// and Preemptions are then ignored): a failure needing few preemptions
	// is found before the search drowns in the larger bounds' states.
	Iterate bool
	// Workers splits each search between this many goroutines (0 or 1:
	// one, and the counts are the same on every run; parallel.go says
	// what varies with more).
	Workers int
	// Reverse tries every choice's options last to first (sim.Search's
	// Reverse): the same space in another order, which a sound
	// fingerprint stores the same states of (a test's, not the CLI's).
	Reverse bool
	// WindowDepth, if set, bounds every schedule to this many steps past
	// the promote request (sim.Search's MaxDepth): a smaller space that is
	// still searched whole, for tests.
	WindowDepth int
	// record, if set, receives every state the search stores (tests
	// compare the stored sets of two searches).
	record *recordedStates
}

// Round is one search of an iterated check: its bound and what it found.
type Round struct {
	Preemptions int
	Bounded     bool
	Report      sim.SearchReport
	Elapsed     time.Duration
}

// windowBudget bounds the steps of each wait of the window; a schedule that
// starves the promote past it is counted as stuck, not failed (liveness is
// the explorer's business; this check is about safety).
const windowBudget = 3000

// ExhaustiveWorld is the world a check explores: two nodes, two pages, a
// couple of writes (one committed and streamed, one in flight), the
// primary stopped immediately; then the window: the replica promoted, a
// wait until it serves read-write, a write on it, and a wait until its BGW
// is back in NOT_START and the write is answered. It returns the commands
// before the window (run FIFO) and the window's promote command.
func ExhaustiveWorld(base swarm.Base) (clusterCmd script.Cluster, before []script.Command, promote script.Command) {
	b := swarm.Base{Profile: base.Profile, Fixed: base.Fixed, Fence: base.Fence, Hazard: base.Hazard, Faithful: base.Faithful}
	sw := swarm.Swarm{Seed: 1, Base: b, Opts: cluster.DefaultOptions()}
	o := &sw.Opts
	o.Nodes, o.Pages, o.PoolFrames, o.QueueBuffers, o.LogIndexMem, o.TableSize = 2, 2, 4, 16, 2, 8
	o.BatchSize, o.ReplayWorkers, o.Sessions = 2, 1, 1
	o.DeviceBlocks = 512
	if b.Profile != 0 {
		o.Profile = b.Profile
	}
	if b.Fence != 0 {
		o.Fence = b.Fence
	}
	o.Hazard, o.Fixed, o.Faithful = b.Hazard, b.Fixed, b.Faithful
	clusterCmd = sw.Cluster()
	clusterCmd.Sched = "fifo"
	promote = script.Promote{Node: 2}
	if hz, err := hazard.Lookup(b.Hazard); err == nil && hz.TriggerFile {
		promote = script.Trigger{Node: 2}
	}
	before = []script.Command{
		script.Submit{Node: 1, Page: 0, Slot: 0},
		script.Run{Steps: 40},
		script.Submit{Node: 1, Page: 1, Slot: 1},
		script.Run{Steps: 3},
		script.Stop{Node: 1, Mode: "immediate"},
	}
	return clusterCmd, before, promote
}

// ExhaustiveResult is what a check found.
type ExhaustiveResult struct {
	// Search is the last round's report; Rounds every round's.
	Search sim.SearchReport
	Rounds []Round
	// WindowSteps is the deepest step explored, counted from the promote
	// request; PromoteStep is the step the window opened at.
	WindowSteps int
	PromoteStep uint64
	// Closed counts schedules that reached the window's end; Stuck the ones
	// whose window did not finish within windowBudget steps of a wait.
	Closed, Stuck int
	// Shortest is the failing schedule with the fewest steps, as a file
	// `promotesim replay -script` replays.
	Shortest *Counterexample
	Elapsed  time.Duration
	// Interrupted: the context was cancelled (SIGINT in the CLI) before
	// the search ended on its own; Search.Complete is then false.
	Interrupted bool
	Cluster     script.Cluster
	Before      []script.Command
	Promote     script.Command
}

// StatesPerSec is the distinct states stored per second of the search.
func (r *ExhaustiveResult) StatesPerSec() float64 { return r.Search.PerSecond(r.Elapsed.Seconds()) }

// exWorld is one run of the search: a runner whose chooser is the search's
// behind a gate opened at the promote, the window's phase (which command
// runs: part of the state, since what the driver does next depends on it)
// and the commands it ran (a failing run's become the counterexample).
type exWorld struct {
	r     *script.Runner
	x     *Replayer
	gate  *sim.Gate
	phase int
	// answered is the clients' answers before the window's write: the
	// window ends after one more, so it is the driver's state too.
	answered int
	ran      []script.Command
	// pre is the violation the FIFO part before the window ran into.
	pre *sim.Violation
	// tally counts the windows closed and stuck: the search's, shared by
	// its runs (set on each copy; a copy's own would be a copy).
	tally *windowTally
}

// windowTally counts how a search's runs ended their window.
type windowTally struct{ closed, stuck int }

func (w *exWorld) count(closed bool) {
	switch {
	case w.tally == nil:
	case closed:
		w.tally.closed++
	default:
		w.tally.stuck++
	}
}

// CheckExhaustive searches the window of ExhaustiveWorld: once, or with
// Iterate at preemption bounds 0, 1, 2, ... (iterative context bounding,
// as CHESS does) until a bound finds a failure, a budget ends it, or a
// bound cuts no branch (its space is the whole space).
func CheckExhaustive(ctx context.Context, cfg ExhaustiveConfig) (*ExhaustiveResult, error) {
	if cfg.Base.Hazard != "" {
		if _, err := hazard.Lookup(cfg.Base.Hazard); err != nil {
			return nil, err
		}
	}
	if cfg.BoundPreemptions && cfg.Preemptions < 0 {
		return nil, fmt.Errorf("exhaustive: a preemption bound of %d", cfg.Preemptions)
	}
	res := &ExhaustiveResult{}
	res.Cluster, res.Before, res.Promote = ExhaustiveWorld(cfg.Base)
	start := time.Now()
	hasher := newStateHasher()
	for k := 0; ; k++ {
		round := cfg
		if cfg.Iterate {
			round.BoundPreemptions, round.Preemptions = true, k
		}
		res.Closed, res.Stuck = 0, 0
		t0 := time.Now()
		rep, err := searchRound(ctx, round, res, hasher, start)
		if err != nil {
			return nil, err
		}
		res.Search = rep
		res.Rounds = append(res.Rounds, Round{Preemptions: round.Preemptions, Bounded: round.BoundPreemptions, Report: rep, Elapsed: time.Since(t0)})
		if !cfg.Iterate || rep.Violation != nil || !rep.Complete || rep.Preempted == 0 {
			break
		}
	}
	res.Elapsed = time.Since(start)
	res.Interrupted = ctx.Err() != nil && !res.Search.Complete
	rep := res.Search
	if rep.MaxDepth > int(res.PromoteStep) {
		res.WindowSteps = rep.MaxDepth - int(res.PromoteStep)
	}
	if rep.Violation != nil {
		res.Shortest = exhaustiveCounterexample(res, cfg, rep.Shortest)
	}
	return res, nil
}

// searchRound is one search of the window under cfg's bound: by one
// searcher, or split between cfg.Workers (parallel.go).
func searchRound(ctx context.Context, cfg ExhaustiveConfig, res *ExhaustiveResult, hasher *stateHasher, start time.Time) (sim.SearchReport, error) {
	stop := func() bool { return ctx.Err() != nil || (cfg.Budget > 0 && time.Since(start) > cfg.Budget) }
	if cfg.Workers > 1 {
		return searchParallel(cfg, res, stop)
	}
	sr, err := newSearcher(res, hasher)
	if err != nil {
		return sim.SearchReport{}, err
	}
	srch := sr.search(cfg, res, stop)
	rep, err := srch.Run()
	if err == nil {
		err = sr.buildErr
	}
	res.Closed, res.Stuck = sr.tally.closed, sr.tally.stuck
	return rep, err
}

// searcher is what one search needs of its own: a template to copy runs
// from (a copier copies one world at a time), a hasher (its walk keeps
// per-call state) and the tally of its windows.
type searcher struct {
	tmpl     *exTemplate
	hasher   *stateHasher
	tally    windowTally
	buildErr error
	// prev is the previous run's world: dead when the search asks for the
	// next (a run's world is not used after its run), so its memory is
	// reused, unless its run failed (a violation may point into it).
	prev *exWorld
}

func newSearcher(res *ExhaustiveResult, hasher *stateHasher) (*searcher, error) {
	tmpl, err := exhaustiveTemplate(res)
	if err != nil {
		return nil, err
	}
	return &searcher{tmpl: tmpl, hasher: hasher}, nil
}

// search is the Search of the window by sr, ended early by stop (a
// deadline, a cancelled context, another searcher's first failure).
func (sr *searcher) search(cfg ExhaustiveConfig, res *ExhaustiveResult, stop func() bool) sim.Search[*exWorld] {
	return sim.Search[*exWorld]{
		New: func(ch sim.Chooser) *exWorld {
			if p := sr.prev; p != nil && p.x.V == nil && p.pre == nil {
				sr.tmpl.cp.release()
			}
			w, err := sr.tmpl.instance(ch)
			sr.prev = w
			if err != nil && sr.buildErr == nil {
				sr.buildErr = err
			}
			if w != nil {
				w.tally = &sr.tally
			}
			return w
		},
		Drive:            func(w *exWorld) *sim.Violation { return driveWindow(w, res) },
		Fingerprint:      func(w *exWorld) uint64 { return sr.hasher.fastWorldFingerprint(w.r, w.phase<<16|w.answered) },
		BoundPreemptions: cfg.BoundPreemptions,
		Preemptions:      cfg.Preemptions,
		MaxStates:        cfg.MaxStates,
		MaxDepth:         windowDepth(cfg, res),
		Visited:          cfg.record.wrap(nil),
		StopAtFirst:      cfg.StopAtFirst,
		Reverse:          cfg.Reverse,
		Stop:             func(*sim.SearchReport) bool { return sr.buildErr != nil || stop() },
	}
}

// windowDepth is the search's MaxDepth for cfg.WindowDepth: the driven
// search counts the scheduler's steps, the FIFO part's included.
func windowDepth(cfg ExhaustiveConfig, res *ExhaustiveResult) int {
	if cfg.WindowDepth <= 0 {
		return 0
	}
	return int(res.PromoteStep) + cfg.WindowDepth
}

// recordedStates is every state a search stored, for tests: the searches
// of one space in any order, on any number of workers, must store the
// same set.
type recordedStates struct {
	mu  sync.Mutex
	fps map[uint64]bool // looked up only
}

// wrap returns v (a new map when nil) recording into r, or v itself when
// r is nil.
func (r *recordedStates) wrap(v sim.Visited) sim.Visited {
	if v == nil {
		v = sim.NewVisitedMap()
	}
	if r == nil {
		return v
	}
	return recordingVisited{v, r}
}

type recordingVisited struct {
	sim.Visited
	r *recordedStates
}

func (v recordingVisited) Visit(fp uint64, depth, pre int32) bool {
	ok := v.Visited.Visit(fp, depth, pre)
	if ok {
		v.r.mu.Lock()
		v.r.fps[fp] = true
		v.r.mu.Unlock()
	}
	return ok
}

// exhaustiveTemplate builds the world up to the promote once; every run of
// the search starts from a copy of it (a FIFO part that failed is copied
// with its violation, which ends each run at once).
func exhaustiveTemplate(res *ExhaustiveResult) (*exTemplate, error) {
	w, err := buildExWorld(res, nil, nil)
	if err != nil {
		return nil, err
	}
	t, err := newTemplate(w)
	if err != nil {
		return nil, fmt.Errorf("exhaustive: %w", err)
	}
	return t, nil
}

// buildExWorld builds the world and runs the part before the window, FIFO
// (the gate is closed: ch is not asked). A recorder, when given, goes
// outside the gate: it records the closed gate's zeros too, so its script
// replays under a plain Scripted chooser, which has no gate.
func buildExWorld(res *ExhaustiveResult, ch sim.Chooser, rec *sim.Recorder) (*exWorld, error) {
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	r.Quiet = true
	g := &sim.Gate{Inner: ch}
	r.Chooser = g
	if rec != nil {
		rec.Inner = g
		r.Chooser = rec
	}
	w := &exWorld{r: r, x: &Replayer{R: r}, gate: g}
	w.x.Exec(res.Cluster)
	if w.x.V == nil && r.C == nil {
		return nil, fmt.Errorf("exhaustive: the world does not build: %s", res.Cluster)
	}
	for _, cmd := range res.Before {
		if w.x.V != nil {
			break
		}
		w.exec(cmd)
	}
	w.pre = w.x.V
	if r.C != nil {
		res.PromoteStep = r.C.S.StepNo()
	}
	return w, nil
}

func (w *exWorld) exec(cmd script.Command) {
	w.ran = append(w.ran, cmd)
	w.x.Exec(cmd)
}

// driveWindow runs the window under the search's choices, then closes the
// gate and runs the whole-state checks. The search's own panic (a pruned
// or cut run) passes through: nothing here recovers.
func driveWindow(w *exWorld, res *ExhaustiveResult) *sim.Violation {
	if w.pre != nil {
		return w.pre
	}
	w.gate.Open = true
	steps := []func() bool{
		func() bool { w.exec(res.Promote); return true },
		func() bool {
			return w.waitFor(func() bool { n := w.r.C.Node(2); return n.ReadWrite && script.Serving(n) })
		},
		func() bool { w.exec(script.Submit{Node: 2, Page: 0, Slot: 2}); return true },
		func() bool {
			j := w.r.C.Journal
			w.answered = len(j.Acks) + len(j.Errors)
			return w.waitFor(func() bool {
				n := w.r.C.Node(2)
				return n.BGW.State() == shmem.BGRedoNotStart && n.Primary && !n.InRecovery && len(j.Acks)+len(j.Errors) > w.answered
			})
		},
	}
	for _, st := range steps {
		if !st() {
			w.count(false)
			return w.x.V
		}
		if w.x.V != nil {
			return w.x.V
		}
		w.phase++
	}
	w.count(true)
	w.gate.Open = false
	w.phase++
	w.exec(script.Run{Steps: 40})
	if w.x.V == nil {
		w.exec(script.FullCheckCmd{})
	}
	return w.x.V
}

// waitFor runs until cond holds, within windowBudget steps, recording the
// wait as the run steps=N it took (a counterexample replays it so). It
// returns false when the budget ran out first.
func (w *exWorld) waitFor(cond func() bool) bool {
	s := w.r.C.S
	before := s.StepNo()
	r := s.RunUntil(cond, windowBudget)
	if n := int(s.StepNo() - before); n > 0 {
		w.ran = append(w.ran, script.Run{Steps: n})
	}
	if r.Violation != nil {
		w.x.V = r.Violation
		return true
	}
	return r.Done
}

// exhaustiveCounterexample replays the shortest failing choice script once
// more, recording every choice of the whole run (the gate's closed ones as
// the zeros a Scripted replay consumes) and the commands it ran, and makes
// it a file a replay repeats.
func exhaustiveCounterexample(res *ExhaustiveResult, cfg ExhaustiveConfig, shortest []int) *Counterexample {
	rec := &sim.Recorder{Inner: sim.NewScripted(shortest...)}
	var w *exWorld
	var v *sim.Violation
	func() {
		defer func() {
			if e := recover(); e != nil {
				if ae, ok := e.(*sim.AssertionError); ok {
					v = &sim.Violation{Checker: "assert", Seed: 1, Err: ae}
					return
				}
				panic(e)
			}
		}()
		var err error
		if w, err = buildExWorld(res, rec.Inner, rec); err != nil {
			return
		}
		v = driveWindow(w, &ExhaustiveResult{Promote: res.Promote})
	}()
	if w == nil || v == nil {
		v = res.Search.Violation
	}
	cx := &Counterexample{Cluster: res.Cluster, Scripted: true, Schedule: trimZeros(rec.Choices), Seed: 1, Checker: v.Checker,
		Hazard: cfg.Base.Hazard, Source: "exhaustive", Violation: v,
		Options: fmt.Sprintf("exhaustive check (stateful search of the promote window): %s", res.Cluster)}
	if w != nil {
		cx.Actions = w.ran
		if w.r.C != nil {
			cx.Steps = w.r.C.S.StepNo()
		}
	}
	if o, err := cx.Run(swarm.RunConfig{}); err == nil && o.Violation != nil {
		cx.Actions, cx.Violation, cx.Steps = o.Actions, o.Violation, o.Steps
	}
	return cx
}

// SortedCheckers lists the per-step checkers a cluster runs (for reports).
func SortedCheckers() []string {
	var out []string
	for _, c := range check.Claims() {
		out = append(out, c.Name)
	}
	sort.Strings(out)
	return out
}

// schedulerActors returns the actors a scheduler runs. sim exposes them
// one id at a time but not how many there are; the fingerprint reads the
// count from the scheduler's actor table by reflection (read only).
func schedulerActors(s *sim.Scheduler) []sim.Actor {
	tbl := reflect.ValueOf(s).Elem().FieldByName("actors")
	out := make([]sim.Actor, tbl.Len())
	for i := range out {
		out[i] = s.Actor(sim.ActorID(i))
	}
	return out
}
