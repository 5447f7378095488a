package sim

import "fmt"

// Search is a stateful explicit-state search of one world: depth first over
// its choice sequences (every scheduling choice and every fault or chance
// with two or more options), with no FIFO tail. It never copies a world
// itself: to explore a branch it asks New for the initial world and
// replays the branch's prefix of choices, so a world is anything the
// caller can build from a Chooser and step deterministically (New may
// build it afresh, or copy one built once: scenarios/explore does). After every step past the
// replayed prefix it takes the world's Fingerprint; a state already explored
// with at least as much budget left is not explored again.
//
// The budget folded into that pruning is what makes it sound under bounds:
// a state first reached at depth 9 and later at depth 4 is explored again
// (MaxDepth left more room the second time), and likewise for preemptions
// used; a state is skipped only when a stored visit had no more steps and no
// more preemptions spent. With neither bound, every state is explored once.
//
// Preemptions (with BoundPreemptions) bounds the search CHESS style: switching away from the actor
// that ran the previous step while it has an enabled step costs one
// preemption; with the bound spent, only that actor's steps are tried (a
// switch from a blocked actor is free). The Fingerprint must then cover the
// actor that ran last (Scheduler.StateHash does).
//
// A search can be split between goroutines without sim having any: Split
// and Frontier cut it at a depth of choices and hand each deeper run out as
// a prefix, a search with Prefix explores one such subtree, and a shared
// Visited (its locking the caller's) prunes across all of them. Only a
// search that goes on to explore under a state stores it, and a subtree's
// search stores nothing while it replays its prefix, so the states stored
// are the whole search's whatever order the subtrees run in
// (TestSearchSplitMatchesWhole); scenarios/explore's parallel check runs
// them on workers.
//
// No sleep sets or partial-order reduction: the scheduler cannot tell that
// two steps are independent. Actors share state it never sees (Ctx.Actor,
// shared memory, the simulated device), each step ticks the virtual clock
// actors read, and Ready depends on that shared state; a reduction built on
// the scheduler's knowledge alone would cut interleavings that differ. State
// caching already merges the diamonds of commuting steps at their common
// state; what it cannot save is the transitions into them.
type Search[W any] struct {
	// New builds the world at its initial state, deciding every choice by ch.
	New func(ch Chooser) W
	// Step takes one step: false when the world has ended (its window is
	// over, or it is quiescent), and a violation when a claim failed. A
	// failed assertion (an *AssertionError panic) is a violation "assert".
	Step func(w W) (bool, *Violation)
	// Drive, instead of Step, runs a whole world its own way (a script of
	// commands that step the scheduler inside) and returns the violation it
	// ended in, or nil. The search then takes the fingerprint at every
	// scheduling decision (a step with two or more candidates) rather than
	// after every step, measures depth in the scheduler's steps, and ends a
	// run it prunes by a panic of its own: Drive must let a panic it does
	// not own pass (as Scheduler.RunUntil does). Set exactly one of the two.
	Drive func(w W) *Violation
	// Fingerprint hashes the world's whole state: everything its future
	// depends on, and nothing else (not step numbers, not absolute time).
	Fingerprint func(w W) uint64
	// MaxDepth bounds the steps of a run; 0 means none.
	MaxDepth int
	// BoundPreemptions bounds each run to Preemptions preemptions (0: only
	// non-preemptive schedules); unset, the zero value, means no bound.
	BoundPreemptions bool
	Preemptions      int
	// MaxStates and MaxTransitions end the search when reached; 0: none.
	MaxStates, MaxTransitions int
	// StopAtFirst ends the search at the first violation (else it goes on
	// and keeps the shortest).
	StopAtFirst bool
	// Stop, if set, is asked between runs; true ends the search (a
	// wall-clock deadline: sim itself has no clock).
	Stop func(r *SearchReport) bool
	// Visited, if set, is the store of explored states the search prunes
	// by (else a map of its own). A parallel driver shares one between
	// searches of disjoint subtrees (Prefix), from its own goroutines: sim
	// has none, so the store's locking is the driver's.
	Visited Visited
	// Prefix, if set, confines the search to the subtree under these
	// first choices: they are replayed (not explored, not stored) and never
	// backtracked.
	Prefix []int
	// Split and Frontier cut the search into subtrees for a parallel
	// driver: with Split > 0 a driven run (Drive) that reaches a
	// scheduling decision past the replayed prefix after Split or more
	// choices hands Frontier the choices so far and ends there, storing
	// nothing at that decision: a search with that Prefix explores it.
	Split    int
	Frontier func(prefix []int)
	// Reverse tries every choice's options from the last to the first: the
	// same space in another order. A sound fingerprint stores the same
	// states either way (scenarios/explore tests that it does).
	Reverse bool
}

// Visited stores explored states: Visit records an exploration of state fp
// reached after depth steps and pre preemptions (zero for a bound that is
// not set) and returns false when a stored one had at least as much budget
// left (the state need not be explored again); Len is the number of
// distinct states stored.
type Visited interface {
	Visit(fp uint64, depth, pre int32) bool
	Len() int
}

// VisitedMap is the Visited a search uses by default. It is not safe for
// concurrent use.
type VisitedMap struct {
	m map[uint64][]visit // looked up only, never iterated
}

// NewVisitedMap returns an empty store.
func NewVisitedMap() *VisitedMap { return &VisitedMap{m: make(map[uint64][]visit)} }

// Len is the number of distinct states stored.
func (v *VisitedMap) Len() int { return len(v.m) }

// Visit records a visit and keeps, per state, only the visits no other
// dominates (a Pareto set of budgets spent: almost always one entry).
func (v *VisitedMap) Visit(fp uint64, depth, pre int32) bool {
	nv := visit{depth: depth, pre: pre}
	old := v.m[fp]
	for _, o := range old {
		if o.depth <= nv.depth && o.pre <= nv.pre {
			return false
		}
	}
	kept := old[:0]
	for _, o := range old {
		if o.depth < nv.depth || o.pre < nv.pre {
			kept = append(kept, o)
		}
	}
	v.m[fp] = append(kept, nv)
	return true
}

// SearchReport is what a search found and how much of the space it saw.
type SearchReport struct {
	States      int // distinct fingerprints stored
	Transitions int // steps run past a replayed prefix: the edges explored
	Replayed    int // steps re-run to reach a prefix (the price of not copying worlds)
	Runs        int // worlds built
	MaxDepth    int // the deepest step explored
	Revisits    int // runs ended at a state already explored with as much budget
	Ended       int // runs in which the world ended
	Truncated   int // runs cut by MaxDepth
	Preempted   int // alternatives skipped because the preemption bound was spent
	Failures    int // runs that ended in a violation
	Split       int // runs handed to Frontier (Split) rather than explored
	// Shortest is the choice script of the failing run with the fewest
	// steps (NewScripted(Shortest...) replays it), ShortestSteps its steps
	// and Violation what it broke.
	Shortest      []int
	ShortestSteps int
	Violation     *Violation
	// Complete is true when every branch within the bounds was explored
	// (no budget, Stop or StopAtFirst ended it early).
	Complete bool
}

func (r SearchReport) String() string {
	s := fmt.Sprintf("%d states, %d transitions (%d replayed), %d runs, depth %d", r.States, r.Transitions, r.Replayed, r.Runs, r.MaxDepth)
	if r.Truncated > 0 || r.Preempted > 0 {
		s += fmt.Sprintf(", %d runs cut by depth, %d branches by preemptions", r.Truncated, r.Preempted)
	}
	if !r.Complete {
		s += ", incomplete"
	}
	if r.Violation != nil {
		s += fmt.Sprintf(", %d failing runs, shortest %d steps: %s", r.Failures, r.ShortestSteps, r.Violation.Checker)
	}
	return s
}

// NondeterministicWorld is the error of a search whose world did not repeat
// itself: replaying a prefix of choices met a different number of options.
type NondeterministicWorld struct{ Msg string }

func (e *NondeterministicWorld) Error() string { return "sim: nondeterministic world: " + e.Msg }

// visit is one stored exploration of a state: the steps and preemptions
// spent to reach it (zero for a bound that is not set).
type visit struct{ depth, pre int32 }

// Run searches until every branch is explored or a budget ends it. The only
// errors are a world that is not deterministic and a Search missing a
// function.
func (s *Search[W]) Run() (rep SearchReport, err error) {
	defer func() {
		if e := recover(); e != nil {
			nd, ok := e.(*NondeterministicWorld)
			if !ok {
				panic(e)
			}
			err = nd
		}
	}()
	if s.New == nil || s.Fingerprint == nil || (s.Step == nil) == (s.Drive == nil) {
		return rep, fmt.Errorf("sim: a search needs New, Fingerprint and exactly one of Step and Drive")
	}
	if s.BoundPreemptions && s.Preemptions < 0 {
		return rep, fmt.Errorf("sim: a preemption bound of %d", s.Preemptions)
	}
	st := &searchState{k: -1, rep: &rep, rev: s.Reverse}
	if s.BoundPreemptions {
		st.k = s.Preemptions
	}
	var seen Visited = s.Visited
	if seen == nil {
		seen = NewVisitedMap()
	}
	st.floor = len(s.Prefix)
	for first := true; ; first = false {
		if !first && s.budgetSpent(&rep) {
			return rep, nil
		}
		run := s.run
		if s.Drive != nil {
			run = s.runDrive
		}
		if stop := run(st, seen, first); stop {
			return rep, nil
		}
		if !st.backtrack() {
			rep.Complete = true
			return rep, nil
		}
	}
}

func (s *Search[W]) budgetSpent(rep *SearchReport) bool {
	return (s.MaxStates > 0 && rep.States >= s.MaxStates) ||
		(s.MaxTransitions > 0 && rep.Transitions >= s.MaxTransitions) ||
		(s.Stop != nil && s.Stop(rep))
}

// run builds the world, replays the prefix up to the branch just advanced,
// and explores on from it (choosing the first allowed option at every new
// choice) until the world ends, a state repeats, the depth bound cuts it or
// a claim fails. It returns true when the search must stop (StopAtFirst).
func (s *Search[W]) run(st *searchState, seen Visited, first bool) bool {
	rep := st.rep
	div := st.replayEnd(s.Prefix) // the node just advanced; replay ends past it
	st.pos, st.pre = 0, 0
	rep.Runs++
	w := s.New(searchChooser{st, s.Prefix})
	if first && len(s.Prefix) == 0 {
		s.visit(seen, s.Fingerprint(w), 0, 0)
		rep.States = seen.Len()
	}
	for depth := 0; ; {
		if s.MaxDepth > 0 && depth >= s.MaxDepth {
			rep.Truncated++
			return false
		}
		ran, v := s.step(w)
		if !ran {
			if st.pos <= div {
				panic(&NondeterministicWorld{Msg: fmt.Sprintf("the world ended after %d choices of a %d-choice prefix", st.pos, div+1)})
			}
			rep.Ended++
			return false
		}
		depth++
		if st.pos <= div {
			if v != nil {
				panic(&NondeterministicWorld{Msg: fmt.Sprintf("replaying a %d-choice prefix failed %s at step %d, which an earlier run passed", div+1, v.Checker, depth)})
			}
			rep.Replayed++
			continue
		}
		rep.Transitions++
		rep.MaxDepth = max(rep.MaxDepth, depth)
		if v != nil {
			s.fail(st, v, depth)
			return s.StopAtFirst
		}
		if !s.visit(seen, s.Fingerprint(w), depth, st.pre) {
			rep.Revisits++
			return false
		}
		rep.States = seen.Len()
	}
}

func (s *Search[W]) fail(st *searchState, v *Violation, depth int) {
	rep := st.rep
	rep.Failures++
	if rep.Violation == nil || depth < rep.ShortestSteps {
		rep.Shortest = st.script()
		rep.ShortestSteps = depth
		rep.Violation = v
	}
}

// visit records an exploration of state fp reached after depth steps and
// pre preemptions; false when a stored one had at least as much budget left.
func (s *Search[W]) visit(seen Visited, fp uint64, depth, pre int) bool {
	var d, p int32
	if s.MaxDepth > 0 {
		d = int32(depth)
	}
	if s.BoundPreemptions {
		p = int32(pre)
	}
	return seen.Visit(fp, d, p)
}

func (s *Search[W]) step(w W) (ran bool, v *Violation) {
	defer func() {
		if e := recover(); e != nil {
			ae, ok := e.(*AssertionError)
			if !ok {
				panic(e)
			}
			ran, v = true, &Violation{Checker: "assert", Err: ae}
		}
	}()
	return s.Step(w)
}

// PerSecond returns the distinct states stored per second of a search that
// took secs seconds (sim has no clock: the caller times the search).
func (r SearchReport) PerSecond(secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(r.States) / secs
}
