package explore

import (
	"slices"
	"sync"
	"sync/atomic"

	"promotesim/sim"
)

// The exhaustive check on several cores. One goroutine searches the
// window's first splitAt choices (sim.Search's Split) and hands every run
// that reaches that depth to a queue as a prefix of choices; workers take
// prefixes and search each one's subtree to the end (Search.Prefix). All of
// them prune by one store of explored states, behind a lock, so a state is
// explored once whichever goroutine reaches it first. That keeps the search
// what the one-goroutine search is: a state is stored only by a search that goes on to
// explore everything under it within the bounds (or re-explores it when it
// comes back with more budget left), as in the one-goroutine search, and a
// subtree's search replays its prefix without storing anything on the way
// (TestSearchSplitMatchesWhole in sim pins that the stored states are the
// whole search's, in any order of the subtrees).
//
// What varies from run to run is only what depends on who got there first:
// runs and replayed steps (the split's runs end at splitAt and are run
// again as prefixes), where a -max-states or -budget cut lands, and, among
// failing runs of the same length, which one is reported (the shortest is
// kept, ties broken by the smaller choice script). The distinct states do
// not: the bound-0 search of the default world stores 22,086 on one worker
// and on each of two runs of two (and 40,309 transitions each time).
// They once varied by a few (67,157-67,162), because the fingerprint
// hashed the step stamps the model keeps as plain numbers, without the
// step (fingerprint.go, stamps.go): it merged states whose futures differ,
// and which of them was explored first decided what lay beyond. TestExhaustiveStatesIndependentOfOrder
// pins the stored set for 1 and 2 workers and for every choice's options
// tried in reverse, and TestFingerprintCollisionsShareFutures checks that
// schedules meeting at one fingerprint go on alike.

// splitAt is the number of choices the splitting search explores itself
// before handing a run's prefix out: deep enough for a few hundred
// subtrees to balance two to a few dozen workers, shallow enough that the
// split itself is a small part of the search.
const splitAt = 10

// lockedVisited is a sim.Visited shared by goroutines: stores sharded by
// fingerprint, each behind its own lock, so two workers seldom wait on one
// another, and a count of distinct states read without a lock (a search
// reads it after every state it stores).
type lockedVisited struct {
	shards [64]visitedShard
	n      atomic.Int64
}

type visitedShard struct {
	mu sync.Mutex
	m  *sim.VisitedMap
	_  [40]byte // a cache line each: the shards' locks do not share one
}

func newLockedVisited() *lockedVisited {
	v := &lockedVisited{}
	for i := range v.shards {
		v.shards[i].m = sim.NewVisitedMap()
	}
	return v
}

func (v *lockedVisited) Visit(fp uint64, depth, pre int32) bool {
	sh := &v.shards[fp>>58]
	sh.mu.Lock()
	n := sh.m.Len()
	ok := sh.m.Visit(fp, depth, pre)
	grew := sh.m.Len() - n
	sh.mu.Unlock()
	v.n.Add(int64(grew))
	return ok
}

func (v *lockedVisited) Len() int { return int(v.n.Load()) }

// parallelRound is one search split between workers: the shared store,
// the queue of subtrees and what the searches found, merged.
type parallelRound struct {
	seen  *lockedVisited
	queue chan []int
	stop  atomic.Bool // a failure with StopAtFirst, or a build error
	mu    sync.Mutex
	rep   sim.SearchReport
	tally windowTally
	err   error
	// stopAtFirst: a failure ends the round (cfg.StopAtFirst).
	stopAtFirst bool
}

// searchParallel searches the window with cfg.Workers goroutines, plus the
// one that splits the search (it mostly waits on the queue).
func searchParallel(cfg ExhaustiveConfig, res *ExhaustiveResult, stop func() bool) (sim.SearchReport, error) {
	// Every searcher is built here, one after another: building runs the
	// world to the promote and writes res.PromoteStep.
	searchers := make([]*searcher, cfg.Workers+1)
	for i := range searchers {
		sr, err := newSearcher(res, newStateHasher())
		if err != nil {
			return sim.SearchReport{}, err
		}
		searchers[i] = sr
	}
	pr := &parallelRound{seen: newLockedVisited(), queue: make(chan []int, 1<<12), stopAtFirst: cfg.StopAtFirst}
	pr.rep.Complete = true
	halt := func() bool {
		return pr.stop.Load() || stop() || (cfg.MaxStates > 0 && pr.seen.Len() >= cfg.MaxStates)
	}
	var wg sync.WaitGroup
	for _, sr := range searchers[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for prefix := range pr.queue {
				if halt() {
					pr.merge(sim.SearchReport{}, sr, false, nil)
					continue // drain: the splitter must not block
				}
				pr.subtree(cfg, res, sr, halt, prefix)
			}
		}()
	}
	pr.split(cfg, res, searchers[0], halt)
	close(pr.queue)
	wg.Wait()
	for _, sr := range searchers {
		pr.tally.closed += sr.tally.closed
		pr.tally.stuck += sr.tally.stuck
	}
	res.Closed, res.Stuck = pr.tally.closed, pr.tally.stuck
	pr.rep.States = pr.seen.Len()
	return pr.rep, pr.err
}

// split runs the splitting search: the first splitAt choices of every
// schedule, each deeper run handed to the queue.
func (pr *parallelRound) split(cfg ExhaustiveConfig, res *ExhaustiveResult, sr *searcher, halt func() bool) {
	s := sr.search(cfg, res, halt)
	s.Visited, s.Split = cfg.record.wrap(pr.seen), splitAt
	s.Frontier = func(prefix []int) { pr.queue <- prefix }
	rep, err := s.Run()
	pr.merge(rep, sr, true, err)
}

// subtree searches one prefix's subtree.
func (pr *parallelRound) subtree(cfg ExhaustiveConfig, res *ExhaustiveResult, sr *searcher, halt func() bool, prefix []int) {
	s := sr.search(cfg, res, halt)
	s.Visited, s.Prefix = cfg.record.wrap(pr.seen), prefix
	rep, err := s.Run()
	pr.merge(rep, sr, true, err)
}

// merge adds one search's report; ran is false for a subtree skipped
// because the round was already stopping (it leaves the round incomplete).
func (pr *parallelRound) merge(rep sim.SearchReport, sr *searcher, ran bool, err error) {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if err == nil {
		err = sr.buildErr
	}
	if err != nil && pr.err == nil {
		pr.err = err
		pr.stop.Store(true)
	}
	r := &pr.rep
	r.Complete = r.Complete && ran && rep.Complete
	r.Transitions += rep.Transitions
	r.Replayed += rep.Replayed
	r.Runs += rep.Runs
	r.Revisits += rep.Revisits
	r.Ended += rep.Ended
	r.Truncated += rep.Truncated
	r.Preempted += rep.Preempted
	r.Failures += rep.Failures
	r.Split += rep.Split
	r.MaxDepth = max(r.MaxDepth, rep.MaxDepth)
	if rep.Violation == nil {
		return
	}
	if r.Violation == nil || rep.ShortestSteps < r.ShortestSteps ||
		rep.ShortestSteps == r.ShortestSteps && slices.Compare(rep.Shortest, r.Shortest) < 0 {
		r.Shortest, r.ShortestSteps, r.Violation = rep.Shortest, rep.ShortestSteps, rep.Violation
	}
	if pr.stopAtFirst {
		pr.stop.Store(true)
	}
}
