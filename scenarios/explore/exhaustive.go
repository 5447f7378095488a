package explore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"promotesim/scenarios/check"
	"promotesim/scenarios/cluster"
	"promotesim/scenarios/hazard"
	"promotesim/scenarios/oracle"
	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
	"promotesim/sim"
	"promotesim/storage"
)

// Exhaustive exploration of a small world (the explorer's model check):
// every interleaving of the promote window, up to a bound on branching
// choices, with the safety checkers after every step. The world boots and
// takes its writes under the FIFO schedule; from the promote on, every
// choice with more than one option is enumerated (sim.Enumerator), depth
// first, and choices beyond the depth bound are 0. Each run ends when the
// promoted node has finished its promote (the BGW back in
// POLAR_BG_REDO_NOT_START) and the whole-state checks hold.

// ExhaustiveConfig configures a check.
type ExhaustiveConfig struct {
	Base swarm.Base
	// Depth bounds the enumerated choices per run (0: 6).
	Depth int
	// Workers split the enumeration by the first choice (0: GOMAXPROCS).
	Workers int
	// MaxRuns and Budget stop an enumeration that would take too long
	// (0: no limit); the result then says it is incomplete.
	MaxRuns int
	Budget  time.Duration
}

// ExhaustiveWorld is the world a check enumerates: two nodes, two pages,
// a couple of writes (one committed and streamed, one in flight), the
// primary stopped immediately, then the replica promoted, and a write on
// the new primary while its BGW may still replay. openAt is the index of
// the first action whose choices are enumerated (the promote).
func ExhaustiveWorld(base swarm.Base) (clusterCmd script.Cluster, actions []script.Command, openAt int) {
	b := swarm.Base{Profile: base.Profile, Fixed: base.Fixed, Fence: base.Fence, Hazard: base.Hazard}
	sw := swarm.Swarm{Seed: 1, Base: b, Opts: cluster.DefaultOptions()}
	o := &sw.Opts
	o.Nodes, o.Pages, o.PoolFrames, o.QueueBuffers, o.LogIndexMem, o.TableSize = 2, 2, 4, 16, 2, 8
	o.BatchSize, o.ReplayWorkers, o.Sessions = 2, 1, 1
	if b.Profile != 0 {
		o.Profile = b.Profile
	}
	if b.Fence != 0 {
		o.Fence = b.Fence
	}
	o.Hazard, o.Fixed = b.Hazard, b.Fixed
	clusterCmd = sw.Cluster()
	clusterCmd.Sched = "fifo"
	var promote script.Command = script.Promote{Node: 2}
	if hz, err := hazard.Lookup(b.Hazard); err == nil && hz.TriggerFile {
		promote = script.Trigger{Node: 2}
	}
	actions = []script.Command{
		script.Submit{Node: 1, Page: 0, Slot: 0},
		script.Run{Steps: 40},
		script.Submit{Node: 1, Page: 1, Slot: 1},
		script.Run{Steps: 3},
		script.Stop{Node: 1, Mode: "immediate"},
		promote,
		script.RunUntil{Cond: "read-write", Node: 2, Budget: 3000, HasBudget: true},
		script.Submit{Node: 2, Page: 0, Slot: 2},
		script.RunUntil{Cond: "bgw-not-start", Node: 2, Budget: 3000, HasBudget: true},
		script.Run{Steps: 40},
	}
	return clusterCmd, actions, 5
}

// ExhaustiveResult is what a check found.
type ExhaustiveResult struct {
	Depth     int
	Runs      int
	Truncated int // runs that hit the depth bound (the rest ran FIFO)
	// States counts distinct end states (a fingerprint of every node's
	// status, the journal, the relation on storage and the end of WAL);
	// MidStates the distinct states when the promoted node opened
	// read-write (where the BGW may still be replaying).
	States    int
	MidStates int
	Steps     uint64
	// Failing counts runs with a violation; Shortest is the one that
	// failed soonest (fewest steps, then the lowest schedule).
	Failing  int
	Shortest *Counterexample
	// Incomplete says MaxRuns or Budget stopped the enumeration.
	Incomplete bool
	Elapsed    time.Duration
	Cluster    script.Cluster
	Actions    []script.Command
}

type exhaustiveRun struct {
	v      *sim.Violation
	steps  uint64
	fp     uint64 // the end state
	mid    uint64 // the state when the promoted node opened read-write
	choice []int
}

// CheckExhaustive enumerates the world of ExhaustiveWorld.
func CheckExhaustive(ctx context.Context, cfg ExhaustiveConfig) (*ExhaustiveResult, error) {
	if cfg.Depth <= 0 {
		cfg.Depth = 6
	}
	if cfg.Base.Hazard != "" {
		if _, err := hazard.Lookup(cfg.Base.Hazard); err != nil {
			return nil, err
		}
	}
	e := &enumeration{ctx: ctx, cfg: cfg, start: time.Now(), workers: cfg.Workers,
		states: map[uint64]bool{}, midStates: map[uint64]bool{}}
	e.cluster, e.actions, e.openAt = ExhaustiveWorld(cfg.Base)
	if e.workers <= 0 {
		e.workers = runtime.GOMAXPROCS(0)
	}
	e.res = &ExhaustiveResult{Depth: cfg.Depth, Cluster: e.cluster, Actions: e.actions}
	// Worker w enumerates the subtrees whose first choice is w, w+W, ...
	// (pinned), each with an enumerator one choice shallower.
	g, _ := errgroup.WithContext(ctx)
	for w := 0; w < e.workers; w++ {
		g.Go(func() error { return e.worker(w) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	res := e.res
	res.States = len(e.states)
	res.MidStates = len(e.midStates)
	res.Elapsed = time.Since(e.start)
	if e.shortest != nil {
		res.Shortest = e.counterexample()
	}
	return res, nil
}

// enumeration is one CheckExhaustive run's shared state.
type enumeration struct {
	ctx     context.Context
	cfg     ExhaustiveConfig
	start   time.Time
	workers int
	cluster script.Cluster
	actions []script.Command
	openAt  int

	mu        sync.Mutex
	res       *ExhaustiveResult
	states    map[uint64]bool // counted only
	midStates map[uint64]bool // counted only
	shortest  *exhaustiveRun
}

// halted reports (under mu) whether to stop before another run.
func (e *enumeration) halted() bool {
	res, cfg := e.res, e.cfg
	if e.ctx.Err() != nil || (cfg.Budget > 0 && time.Since(e.start) > cfg.Budget) || (cfg.MaxRuns > 0 && res.Runs >= cfg.MaxRuns) {
		res.Incomplete = true
		return true
	}
	return false
}

// count adds one run to the result.
func (e *enumeration) count(run *exhaustiveRun) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.res.Runs++
	e.res.Steps += run.steps
	e.states[run.fp] = true
	if run.mid != 0 {
		e.midStates[run.mid] = true
	}
	recordFailure(e.res, &e.shortest, run)
}

// worker enumerates the subtrees whose first choice is w, w+W, ...
func (e *enumeration) worker(w int) error {
	for first := w; ; first += e.workers {
		en := sim.NewEnumerator(e.cfg.Depth - 1)
		width := 0
		for c := en.Next(); c != nil; c = en.Next() {
			e.mu.Lock()
			halt := e.halted()
			e.mu.Unlock()
			if halt {
				return nil
			}
			p := &sim.Pinned{First: first, Inner: c}
			run, err := exhaustiveOnce(e.cluster, e.actions, e.openAt, p)
			if err != nil {
				return err
			}
			if !p.Done {
				// No choice with two options at all: one run is the whole
				// tree, and worker 0 counts it.
				if w == 0 && first == 0 {
					e.count(run)
				}
				return nil
			}
			if width = p.Width; first >= width {
				return nil // this worker's share is empty
			}
			e.count(run)
		}
		e.mu.Lock()
		e.res.Truncated += en.Truncated()
		e.mu.Unlock()
		if first+e.workers >= width {
			return nil
		}
	}
}

// counterexample is the shortest failing run as a replayable file.
func (e *enumeration) counterexample() *Counterexample {
	sh := e.shortest
	cx := &Counterexample{Cluster: e.cluster, Actions: e.actions, Scripted: true, Schedule: trimZeros(sh.choice),
		Seed: 1, Checker: sh.v.Checker, Hazard: e.cfg.Base.Hazard, Source: "exhaustive", Violation: sh.v, Steps: sh.steps,
		Options: fmt.Sprintf("exhaustive check, depth %d: %s", e.cfg.Depth, e.cluster)}
	// The actions after the failing one never ran: drop them.
	if o, err := cx.Run(swarm.RunConfig{}); err == nil && o.Violation != nil {
		cx.Actions = o.Actions
	}
	return cx
}

func recordFailure(res *ExhaustiveResult, shortest **exhaustiveRun, run *exhaustiveRun) {
	if run.v == nil {
		return
	}
	res.Failing++
	s := *shortest
	if s == nil || run.v.Step < s.v.Step || (run.v.Step == s.v.Step && lessInts(run.choice, s.choice)) {
		*shortest = run
	}
}

func lessInts(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// exhaustiveOnce runs the world once under chooser ch (opened at the
// promote), recording every choice so a failure replays as a script.
func exhaustiveOnce(clusterLine script.Cluster, actions []script.Command, openAt int, ch sim.Chooser) (run *exhaustiveRun, err error) {
	g := &sim.Gate{Inner: ch}
	rec := &sim.Recorder{Inner: g}
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	r.Quiet = true
	r.Chooser = rec
	run = &exhaustiveRun{}
	defer func() {
		if e := recover(); e != nil {
			var ae *sim.AssertionError
			if er, ok := e.(error); ok && errors.As(er, &ae) {
				run.v = &sim.Violation{Checker: "assert", Seed: 1, Err: ae}
				run.choice = rec.Choices
				err = nil
				return
			}
			panic(e)
		}
	}()
	x := &Replayer{R: r}
	x.Exec(clusterLine)
	if x.V == nil && r.C == nil {
		return nil, fmt.Errorf("exhaustive: the world does not build: %s", clusterLine)
	}
	for i, cmd := range actions {
		if x.V != nil {
			break
		}
		if i == openAt {
			g.Open = true
		}
		x.Exec(cmd)
		if i == openAt+1 && x.V == nil && r.C != nil {
			run.mid = fingerprint(r)
		}
	}
	if x.V == nil {
		x.Exec(script.FullCheckCmd{})
	}
	run.v = x.V
	run.choice = append([]int(nil), rec.Choices...)
	if r.C != nil {
		run.steps = r.C.S.StepNo()
		run.fp = fingerprint(r)
	}
	return run, nil
}

// fingerprint hashes a world's end state: every node's status line (role,
// mount, service, BGW state and the LSNs that matter), the clients'
// journal, the relation's pages on storage and the end of valid WAL.
func fingerprint(r *script.Runner) uint64 {
	h := fnv.New64a()
	c := r.C
	c.Status(h)
	j := c.Journal
	fmt.Fprintf(h, "acks=%d errors=%d reads=%d\n", len(j.Acks), len(j.Errors), len(j.Reads))
	for _, a := range j.Acks {
		fmt.Fprintf(h, "%d/%v;", a.XID, a.CommitEnd)
	}
	if r.K != nil && r.K.O != nil {
		fmt.Fprintf(h, "end=%v\n", r.K.O.End())
	}
	if m, ok := c.Dev.Mounted(oracle.ObserverHost); ok {
		buf := make([]byte, c.Opts.Pages*storage.BlockSize)
		n, _ := m.ReadAt(fmt.Sprintf("base/%d", c.NodeConfig(1).Rel), buf, 0)
		h.Write(buf[:n])
	}
	return h.Sum64()
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
