package sim_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"promotesim/sim"
	"promotesim/sim/simtest"
)

// vec is the whole state of a toy shared-memory model: a few small ints.
type vec [8]int8

func (v vec) hash() uint64 {
	h := uint64(14695981039346656037)
	for _, b := range v {
		h = (h ^ uint64(uint8(b))) * 1099511628211
	}
	return h
}

// model is a toy concurrent program over a shared vec: n processes, each
// enabled when its guard holds, each step one atomic action with one or two
// outcomes (a fault, a coin). The same functions drive the actors the search
// explores and the brute-force search it is compared with.
type model struct {
	n        int
	init     vec
	enabled  func(v vec, i int) bool
	outcomes func(v vec, i int) int // 1 or 2; 2 asks the Chooser's Chance
	step     func(v vec, i, outcome int) vec
	bad      func(v vec) bool // the claim; nil for none
}

var errBad = errors.New("bad state")

// modelWorld is the model run by actors in a scheduler.
type modelWorld struct {
	s *sim.Scheduler
	v *vec
}

func (m *model) world(ch sim.Chooser) *modelWorld {
	s := sim.New(sim.Config{Chooser: ch, Trace: sim.TraceConfig{Ring: -1}})
	w := &modelWorld{s: s, v: new(vec)}
	*w.v = m.init
	for i := range m.n {
		s.Add(&toy{
			name:  "p" + strconv.Itoa(i),
			ready: func() bool { return m.enabled(*w.v, i) },
			step: func(c *sim.Ctx) {
				o := 0
				if m.outcomes != nil && m.outcomes(*w.v, i) == 2 && c.Chance(c.Site("coin"), sim.Per(1, 2)) {
					o = 1
				}
				*w.v = m.step(*w.v, i, o)
			},
		})
	}
	if m.bad != nil {
		s.Checkers().Add("claim", func() error {
			if m.bad(*w.v) {
				return errBad
			}
			return nil
		})
	}
	return w
}

// search returns the engine over m; withLast folds the actor that ran last
// into the fingerprint (what a preemption bound needs).
func (m *model) search(withLast bool) *sim.Search[*modelWorld] {
	return &sim.Search[*modelWorld]{
		New:  m.world,
		Step: func(w *modelWorld) (bool, *sim.Violation) { return w.s.Step() },
		Fingerprint: func(w *modelWorld) uint64 {
			if withLast {
				return w.v.hash() ^ w.s.StateHash()
			}
			return w.v.hash()
		},
	}
}

// brute is the reference: a breadth-first search of the model's abstract
// graph over (state, last process, preemptions, depth), with the same
// preemption rule and bounds, counting distinct (state[, last]) pairs,
// the edges of an unbounded search, and the depth of the shallowest bad
// state.
type bruteResult struct {
	states, edges, badDepth int
	decisions               int // distinct expanded keys with two or more processes enabled
}

type bruteNode struct {
	v         vec
	last, pre int
	depth     int
}

func (m *model) brute(k, maxDepth int, withLast bool) bruteResult {
	type key struct {
		v    vec
		last int
	}
	keyOf := func(v vec, last int) key {
		if !withLast {
			last = 0
		}
		return key{v, last}
	}
	type best struct{ depth, pre int }
	seen := map[key][]best{}
	res := bruteResult{badDepth: -1}
	queue := []bruteNode{{v: m.init, last: -1}}
	seen[keyOf(m.init, -1)] = []best{{0, 0}}
	decided := map[key]bool{}
	for len(queue) > 0 {
		nd := queue[0]
		queue = queue[1:]
		if maxDepth > 0 && nd.depth >= maxDepth {
			continue
		}
		if on := 0; true {
			for i := range m.n {
				if m.enabled(nd.v, i) {
					on++
				}
			}
			if on >= 2 {
				decided[keyOf(nd.v, nd.last)] = true
			}
		}
		lastOn := nd.last >= 0 && m.enabled(nd.v, nd.last)
		for i := range m.n {
			if !m.enabled(nd.v, i) {
				continue
			}
			pre := nd.pre
			if lastOn && i != nd.last {
				pre++
			}
			if k >= 0 && pre > k {
				continue
			}
			outs := 1
			if m.outcomes != nil {
				outs = m.outcomes(nd.v, i)
			}
			for o := range outs {
				res.edges++
				nv := m.step(nd.v, i, o)
				if m.bad != nil && m.bad(nv) {
					if res.badDepth < 0 {
						res.badDepth = nd.depth + 1
					}
					continue
				}
				kk := keyOf(nv, i)
				d, p := nd.depth+1, pre
				if maxDepth == 0 {
					d = 0
				}
				if k < 0 {
					p = 0
				}
				dominated := false
				for _, b := range seen[kk] {
					if b.depth <= d && b.pre <= p {
						dominated = true
					}
				}
				if dominated {
					continue
				}
				seen[kk] = append(seen[kk], best{d, p})
				queue = append(queue, bruteNode{v: nv, last: i, pre: pre, depth: nd.depth + 1})
			}
		}
	}
	res.states = len(seen)
	res.decisions = len(decided)
	return res
}

// counters: n processes, process i counts v[i] up to max; with coin, a step
// may add 2 (capped).
func counters(n, max int, coin bool) *model {
	m := &model{
		n:       n,
		enabled: func(v vec, i int) bool { return int(v[i]) < max },
		step: func(v vec, i, o int) vec {
			v[i] = int8(min(int(v[i])+1+o, max))
			return v
		},
	}
	if coin {
		m.outcomes = func(vec, int) int { return 2 }
	}
	return m
}

func pow(a, b int) int {
	r := 1
	for range b {
		r *= a
	}
	return r
}

// N independent counters to M: (M+1)^N states and N·M·(M+1)^(N-1) edges,
// every state stored once, every edge run once past its prefix.
func TestSearchCountersExact(t *testing.T) {
	for _, c := range []struct{ n, m int }{{1, 3}, {2, 2}, {3, 2}, {2, 5}, {4, 2}} {
		m := counters(c.n, c.m, false)
		rep, err := m.search(false).Run()
		if err != nil {
			t.Fatal(err)
		}
		states := pow(c.m+1, c.n)
		edges := c.n * c.m * pow(c.m+1, c.n-1)
		if rep.States != states || rep.Transitions != edges || !rep.Complete || rep.Ended != 1 || rep.Failures != 0 || rep.MaxDepth != c.n*c.m {
			t.Fatalf("%d counters to %d: %v, ended %d; want %d states, %d transitions", c.n, c.m, rep, rep.Ended, states, edges)
		}
		if b := m.brute(-1, 0, false); b.states != states || b.edges != edges {
			t.Fatalf("brute force: %+v", b)
		}
	}
}

// The search agrees with brute force on every small model and bound: the
// same distinct states, with a preemption bound, a depth bound, and faults.
func TestSearchMatchesBruteForce(t *testing.T) {
	simtest.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 3).Draw(t, "n")
		mx := rapid.IntRange(1, 3).Draw(t, "max")
		coin := rapid.Bool().Draw(t, "coin")
		k := rapid.IntRange(-1, 2).Draw(t, "preemptions")
		depth := rapid.IntRange(0, n*mx).Draw(t, "depth")
		withLast := k >= 0 || rapid.Bool().Draw(t, "withLast")
		m := counters(n, mx, coin)
		s := m.search(withLast)
		s.Preemptions, s.BoundPreemptions, s.MaxDepth = k, k >= 0, depth
		rep, err := s.Run()
		if err != nil {
			t.Fatal(err)
		}
		b := m.brute(k, depth, withLast)
		if rep.States != b.states || !rep.Complete {
			t.Fatalf("search %v; brute force %d states", rep, b.states)
		}
		if k < 0 && depth == 0 && !coin && rep.Transitions != b.edges {
			t.Fatalf("search %v; brute force %d edges", rep, b.edges)
		}
	})
}

// A depth bound must not let a state first reached by a long path hide the
// states beyond it from a shorter path (the budget is folded into pruning).
// p0 counts v0 from 0 to 5; p1, only at the start, jumps v0 to 3. Depth
// first takes choice 0 (p0) first, so under MaxDepth 4 it stores 3 at depth
// 3 and is cut at 4; p1's path reaches 3 at depth 1 and must explore on to 5.
func TestSearchDepthBoundIsSound(t *testing.T) {
	m := &model{
		n: 2,
		enabled: func(v vec, i int) bool {
			if i == 0 {
				return v[0] < 5
			}
			return v[0] == 0
		},
		step: func(v vec, i, _ int) vec {
			if i == 0 {
				v[0]++
			} else {
				v[0] = 3
			}
			return v
		},
	}
	for d := 1; d <= 6; d++ {
		s := m.search(false)
		s.MaxDepth = d
		rep, err := s.Run()
		if err != nil {
			t.Fatal(err)
		}
		reach := map[int]bool{} // 0..d by p0 alone; 3..d+2 after p1's jump
		for x := 0; x <= min(d, 5); x++ {
			reach[x] = true
		}
		for x := 3; x <= min(d+2, 5); x++ {
			reach[x] = true
		}
		want := len(reach)
		if b := m.brute(-1, d, false); rep.States != want || b.states != want || !rep.Complete {
			t.Fatalf("depth %d: %v; brute force %d; want %d states", d, rep, b.states, want)
		}
	}
}

// mutex is a two-process lock; racy makes the test and the set two steps
// (the planted bug). v[i] is process i's pc: 0 test, 1 set, 2 critical
// section, 3 release, then back to 0; v[2] is the lock. Both at pc 2 is
// the violation.
func mutex(racy bool) *model {
	return &model{
		n:       2,
		enabled: func(v vec, i int) bool { return v[i] != 0 || v[2] == 0 },
		step: func(v vec, i, _ int) vec {
			switch v[i] {
			case 0:
				if racy {
					v[i] = 1
				} else {
					v[i], v[2] = 2, 1 // an atomic test-and-set
				}
			case 1:
				v[i], v[2] = 2, 1
			case 2:
				v[i] = 3
			case 3:
				v[i], v[2] = 0, 0
			}
			return v
		},
		bad: func(v vec) bool { return v[0] == 2 && v[1] == 2 },
	}
}

// The planted bug is found, the failing script replays under Scripted to the
// same violation at the same step, and with a depth bound (which makes the
// search keep the shallowest) it is as short as brute force's.
func TestSearchFindsMutexBug(t *testing.T) {
	m := mutex(true)
	s := m.search(false)
	s.MaxDepth = 40
	rep, err := s.Run()
	if err != nil {
		t.Fatal(err)
	}
	b := m.brute(-1, 40, false)
	if rep.Violation == nil || rep.Violation.Checker != "claim" || rep.ShortestSteps != 4 || b.badDepth != 4 || !rep.Complete {
		t.Fatalf("search %v; brute force bad at depth %d", rep, b.badDepth)
	}
	if rep.States != b.states {
		t.Fatalf("search %d states, brute force %d", rep.States, b.states)
	}
	w := m.world(sim.NewScripted(rep.Shortest...))
	r := w.s.Run(100)
	if r.Violation == nil || r.Violation.Checker != "claim" || r.Steps != rep.ShortestSteps {
		t.Fatalf("replay of %v: %v", rep.Shortest, r)
	}
	// StopAtFirst ends at the first failure found.
	s.StopAtFirst = true
	first, _ := s.Run()
	if first.Failures != 1 || first.Complete {
		t.Fatalf("StopAtFirst: %v", first)
	}
	// The correct lock holds, over its whole (cyclic) space.
	good := mutex(false)
	rep, err = good.search(false).Run()
	if b := good.brute(-1, 0, false); err != nil || rep.Violation != nil || !rep.Complete || rep.States != b.states {
		t.Fatalf("atomic lock: %v (%v); brute force %d states", rep, err, b.states)
	}
}

// peterson is Peterson's algorithm: v[0], v[1] the pcs, v[2], v[3] the
// flags, v[4] turn. pc 0 raise flag, 1 give turn, 2 wait (disabled until the
// other's flag is down or the turn is ours), 3 critical, 4 lower the flag.
// broken gives the turn before raising the flag: the textbook bug.
func peterson(broken bool) *model {
	return &model{
		n: 2,
		enabled: func(v vec, i int) bool {
			j := 1 - i
			return v[i] != 2 || v[2+j] == 0 || int(v[4]) == i
		},
		step: func(v vec, i, _ int) vec {
			j := 1 - i
			switch {
			case v[i] == 0 && !broken, v[i] == 1 && broken:
				v[2+i] = 1
			case v[i] == 1 && !broken, v[i] == 0 && broken:
				v[4] = int8(j)
			case v[i] == 4:
				v[2+i] = 0
				v[i] = 0
				return v
			}
			v[i]++
			return v
		},
		bad: func(v vec) bool { return v[0] == 3 && v[1] == 3 },
	}
}

func TestSearchPeterson(t *testing.T) {
	for _, broken := range []bool{false, true} {
		m := peterson(broken)
		for _, k := range []int{-1, 0, 1, 2} {
			s := m.search(k >= 0)
			s.Preemptions, s.BoundPreemptions = k, k >= 0
			rep, err := s.Run()
			b := m.brute(k, 0, k >= 0)
			if err != nil || !rep.Complete || rep.States != b.states {
				t.Fatalf("broken %v k %d: %v (%v); brute force %d states", broken, k, rep, err, b.states)
			}
			if found, want := rep.Violation != nil, b.badDepth >= 0; found != want {
				t.Fatalf("broken %v k %d: found %v, brute force %v", broken, k, found, want)
			}
			if broken && k < 0 && rep.Violation == nil {
				t.Fatalf("the broken Peterson lock passed: %v", rep)
			}
			if !broken && rep.Violation != nil {
				t.Fatalf("Peterson failed: %v", rep)
			}
		}
	}
}

// Budgets end the search early and say so.
func TestSearchBudgets(t *testing.T) {
	m := counters(3, 3, false)
	for _, s := range []*sim.Search[*modelWorld]{
		func() *sim.Search[*modelWorld] { s := m.search(false); s.MaxStates = 10; return s }(),
		func() *sim.Search[*modelWorld] { s := m.search(false); s.MaxTransitions = 10; return s }(),
		func() *sim.Search[*modelWorld] {
			s := m.search(false)
			s.Stop = func(r *sim.SearchReport) bool { return r.Runs >= 3 }
			return s
		}(),
	} {
		rep, err := s.Run()
		if err != nil || rep.Complete || rep.States >= 64 {
			t.Fatalf("%v (%v)", rep, err)
		}
	}
}

// A world that does not repeat itself is reported, not explored.
func TestSearchNondeterministicWorld(t *testing.T) {
	runs := 0
	s := &sim.Search[*modelWorld]{
		New: func(ch sim.Chooser) *modelWorld {
			runs++
			return counters(1+runs%2, 2, false).world(ch) // one or two actors
		},
		Step:        func(w *modelWorld) (bool, *sim.Violation) { return w.s.Step() },
		Fingerprint: func(w *modelWorld) uint64 { return w.v.hash() },
	}
	_, err := s.Run()
	var nd *sim.NondeterministicWorld
	if !errors.As(err, &nd) {
		t.Fatalf("error %v", err)
	}
}

// A failed assertion in a step is a violation of "assert".
func TestSearchAssertIsViolation(t *testing.T) {
	m := counters(2, 2, false)
	s := m.search(false)
	s.Step = func(w *modelWorld) (bool, *sim.Violation) {
		sim.Assertf(w.v[0]+w.v[1] < 3, "sum %d", w.v[0]+w.v[1])
		return w.s.Step()
	}
	rep, err := s.Run()
	if err != nil || rep.Violation == nil || rep.Violation.Checker != "assert" || rep.ShortestSteps != 4 {
		t.Fatalf("%v (%v)", rep, err)
	}
	if got := fmt.Sprint(rep); got == "" {
		t.Fatal("empty report")
	}
}

// mailWorld: senders a and b each send two numbered messages to r, which
// logs what it receives. Channels are FIFO, so r's final log is one of the
// C(4,2) = 6 merges of a1 a2 with b1 b2, and the search ends once in each.
type mailWorld struct {
	s   *sim.Scheduler
	log string
}

func TestSearchMessages(t *testing.T) {
	ends := map[string]bool{}
	s := &sim.Search[*mailWorld]{
		New: func(ch sim.Chooser) *mailWorld {
			w := &mailWorld{s: sim.New(sim.Config{Chooser: ch, Trace: sim.TraceConfig{Ring: -1}})}
			r := w.s.Add(&toy{name: "r", recv: func(_ *sim.Ctx, m sim.Msg) { w.log += m.String() }})
			for _, name := range []string{"a", "b"} {
				sent := 0
				w.s.Add(&toy{name: name, ready: func() bool { return sent < 2 }, step: func(c *sim.Ctx) {
					sent++
					c.Send(r, msg(name+strconv.Itoa(sent)))
				}})
			}
			return w
		},
		Step: func(w *mailWorld) (bool, *sim.Violation) {
			ran, v := w.s.Step()
			if !ran {
				ends[w.log] = true
			}
			return ran, v
		},
		Fingerprint: func(w *mailWorld) uint64 { return w.s.StateHash() ^ fnv(w.log) },
	}
	rep, err := s.Run()
	if err != nil || !rep.Complete || rep.Ended != 6 || len(ends) != 6 {
		t.Fatalf("%v (%v), ended %d: %v", rep, err, rep.Ended, ends)
	}
	for log := range ends { // determinism:ok checked one by one
		if strings.Index(log, "a1") > strings.Index(log, "a2") || strings.Index(log, "b1") > strings.Index(log, "b2") {
			t.Fatalf("channel order broken: %s", log)
		}
	}
}

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// A claim that fails while a prefix is replayed, after passing when the
// prefix was first explored, is a nondeterministic world too.
func TestSearchNondeterministicClaim(t *testing.T) {
	runs := 0
	m := counters(2, 2, false)
	s := m.search(false)
	s.New = func(ch sim.Chooser) *modelWorld {
		runs++
		w := m.world(ch)
		again := runs > 1
		w.s.Checkers().Add("flaky", func() error {
			if again {
				return errBad
			}
			return nil
		})
		return w
	}
	_, err := s.Run()
	var nd *sim.NondeterministicWorld
	if !errors.As(err, &nd) || !strings.Contains(err.Error(), "flaky") {
		t.Fatalf("error %v", err)
	}
}

// drive is the model's search in Drive mode: the world runs itself.
func (m *model) drive(withLast bool) *sim.Search[*modelWorld] {
	s := m.search(withLast)
	s.Step = nil
	s.Drive = func(w *modelWorld) *sim.Violation { return w.s.Run(100000).Violation }
	return s
}

// Driven, the search sees the world only at its scheduling decisions: it
// stores exactly brute force's states with two or more steps enabled.
func TestSearchDriveMatchesBruteForce(t *testing.T) {
	simtest.Check(t, func(t *rapid.T) {
		m, k, depth, withLast := drawCounters(t)
		s := m.drive(withLast)
		s.Preemptions, s.BoundPreemptions, s.MaxDepth = k, k >= 0, depth
		rep, err := s.Run()
		if err != nil {
			t.Fatal(err)
		}
		if b := m.brute(k, depth, withLast); rep.States != b.decisions || !rep.Complete {
			t.Fatalf("search %v; brute force %d decision states", rep, b.decisions)
		}
	})
}

// Driven, the search finds the racy lock's bug and the broken Peterson's,
// holds on the correct ones, and its shortest script replays.
func TestSearchDriveFindsBugs(t *testing.T) {
	for _, c := range []struct {
		name string
		m    *model
		bad  bool
	}{{"racy lock", mutex(true), true}, {"atomic lock", mutex(false), false}, {"peterson", peterson(false), false}, {"broken peterson", peterson(true), true}} {
		for _, k := range []int{-1, 1} {
			s := c.m.drive(k >= 0)
			s.Preemptions, s.BoundPreemptions, s.MaxDepth = k, k >= 0, 60
			rep, err := s.Run()
			b := c.m.brute(k, 60, k >= 0)
			found := b.badDepth >= 0 // the racy lock needs two preemptions
			if err != nil || !rep.Complete || (rep.Violation != nil) != found || rep.States != b.decisions || found && !c.bad || k < 0 && found != c.bad {
				t.Fatalf("%s k=%d: %v (%v); brute force %d decision states, bad at %d", c.name, k, rep, err, b.decisions, b.badDepth)
			}
			if !found {
				continue
			}
			if rep.ShortestSteps != b.badDepth {
				t.Fatalf("%s k=%d: shortest %d steps, brute force %d", c.name, k, rep.ShortestSteps, b.badDepth)
			}
			w := c.m.world(sim.NewScripted(rep.Shortest...))
			if r := w.s.Run(1000); r.Violation == nil || r.Steps != rep.ShortestSteps {
				t.Fatalf("%s: replay of %v: %v", c.name, rep.Shortest, r)
			}
		}
	}
}

func TestSearchNeedsItsFunctions(t *testing.T) {
	m := counters(2, 2, false)
	s := m.search(false)
	s.Drive = func(*modelWorld) *sim.Violation { return nil } // both set
	if _, err := s.Run(); err == nil || !strings.Contains(err.Error(), "exactly one of Step and Drive") {
		t.Fatalf("error %v", err)
	}
	s = m.search(false)
	s.Fingerprint = nil
	if _, err := s.Run(); err == nil {
		t.Fatal("no error without a fingerprint")
	}
}

func TestSearchRejectsNegativeBound(t *testing.T) {
	s := counters(2, 2, false).search(true)
	s.BoundPreemptions, s.Preemptions = true, -1
	if _, err := s.Run(); err == nil || !strings.Contains(err.Error(), "preemption bound of -1") {
		t.Fatalf("error %v", err)
	}
}

// splitSearch runs m's driven search as a parallel driver would, one
// subtree after another: a search cut at split choices hands out its
// frontier, and a search per frontier prefix explores it, every one
// pruning by one shared store. order permutes the subtrees (a parallel
// driver runs them in any order). It returns the shared store's size, the
// frontier's length, whether every search completed, and the shortest
// failing run over all of them.
func splitSearch(m *model, k, depth, split int, withLast bool, order func(n int) []int) (states, frontier int, complete bool, shortest int, script []int, err error) {
	seen := sim.NewVisitedMap()
	var prefixes [][]int
	s := m.drive(withLast)
	s.Preemptions, s.BoundPreemptions, s.MaxDepth = k, k >= 0, depth
	s.Visited, s.Split = seen, split
	s.Frontier = func(p []int) { prefixes = append(prefixes, p) }
	rep, err := s.Run()
	if err != nil {
		return
	}
	complete, shortest, script = rep.Complete, rep.ShortestSteps, rep.Shortest
	if rep.Split != len(prefixes) {
		return 0, 0, false, 0, nil, fmt.Errorf("report says %d split, %d handed out", rep.Split, len(prefixes))
	}
	for _, i := range order(len(prefixes)) {
		sub := m.drive(withLast)
		sub.Preemptions, sub.BoundPreemptions, sub.MaxDepth = k, k >= 0, depth
		sub.Visited, sub.Prefix = seen, prefixes[i]
		r, err := sub.Run()
		if err != nil {
			return 0, 0, false, 0, nil, err
		}
		complete = complete && r.Complete
		if r.Violation != nil && (script == nil || r.ShortestSteps < shortest) {
			shortest, script = r.ShortestSteps, r.Shortest
		}
	}
	return seen.Len(), len(prefixes), complete, shortest, script, nil
}

// Split into subtrees run in any order over one shared store, the driven
// search stores exactly the states the whole search does (brute force's
// decision states), within any bound.
func TestSearchSplitMatchesWhole(t *testing.T) {
	simtest.Check(t, func(t *rapid.T) {
		m, k, depth, withLast := drawCounters(t)
		split := rapid.IntRange(1, 5).Draw(t, "split")
		order := func(n int) []int { return rapid.Permutation(seq(n)).Draw(t, "order") }
		states, _, complete, _, _, err := splitSearch(m, k, depth, split, withLast, order)
		if err != nil {
			t.Fatal(err)
		}
		if b := m.brute(k, depth, withLast); states != b.decisions || !complete {
			t.Fatalf("split search %d states (complete %v); brute force %d decision states", states, complete, b.decisions)
		}
	})
}

// Split, the search still finds the broken locks' bugs at brute force's
// shortest depth, with a script that replays, and holds on the correct ones.
func TestSearchSplitFindsBugs(t *testing.T) {
	for _, c := range []struct {
		name string
		m    *model
	}{{"racy lock", mutex(true)}, {"atomic lock", mutex(false)}, {"peterson", peterson(false)}, {"broken peterson", peterson(true)}} {
		for _, split := range []int{1, 3, 6} {
			reverse := func(n int) []int { r := seq(n); slices.Reverse(r); return r }
			states, frontier, complete, shortest, script, err := splitSearch(c.m, -1, 60, split, false, reverse)
			b := c.m.brute(-1, 60, false)
			if err != nil || !complete || states != b.decisions || (script != nil) != (b.badDepth >= 0) || frontier == 0 && b.decisions > 1 {
				t.Fatalf("%s split %d: %d states (%d subtrees, complete %v, %v); brute force %d, bad at %d", c.name, split, states, frontier, complete, err, b.decisions, b.badDepth)
			}
			if script == nil {
				continue
			}
			if shortest != b.badDepth {
				t.Fatalf("%s split %d: shortest %d steps, brute force %d", c.name, split, shortest, b.badDepth)
			}
			w := c.m.world(sim.NewScripted(script...))
			if r := w.s.Run(1000); r.Violation == nil || r.Steps != shortest {
				t.Fatalf("%s split %d: replay of %v: %v", c.name, split, script, r)
			}
		}
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// drawCounters draws a counters model and the bounds its search runs
// under: a preemption bound k (-1: none), a depth bound, and whether the
// fingerprint covers the actor that ran last (a preemption bound needs it).
func drawCounters(t *rapid.T) (m *model, k, depth int, withLast bool) {
	n := rapid.IntRange(1, 3).Draw(t, "n")
	mx := rapid.IntRange(1, 3).Draw(t, "max")
	coin := rapid.Bool().Draw(t, "coin")
	k = rapid.IntRange(-1, 2).Draw(t, "preemptions")
	depth = rapid.IntRange(0, n*mx).Draw(t, "depth")
	withLast = k >= 0 || rapid.Bool().Draw(t, "withLast")
	return counters(n, mx, coin), k, depth, withLast
}

// Reversed (every choice's options tried last to first), the search and
// the driven search store exactly brute force's states within any bound,
// and a failing run's script replays under Scripted.
func TestSearchReverseMatchesBrute(t *testing.T) {
	simtest.Check(t, func(t *rapid.T) {
		m, k, depth, withLast := drawCounters(t)
		b := m.brute(k, depth, withLast)
		s := m.search(withLast)
		d := m.drive(withLast)
		for _, x := range []*sim.Search[*modelWorld]{s, d} {
			x.Preemptions, x.BoundPreemptions, x.MaxDepth, x.Reverse = k, k >= 0, depth, true
		}
		rep, err := s.Run()
		if err != nil || !rep.Complete || rep.States != b.states {
			t.Fatalf("reversed search: %v (%v); brute force %d states", rep, err, b.states)
		}
		rep, err = d.Run()
		if err != nil || !rep.Complete || rep.States != b.decisions {
			t.Fatalf("reversed driven search: %v (%v); brute force %d decision states", rep, err, b.decisions)
		}
	})
	for _, m := range []*model{mutex(true), peterson(true)} {
		s := m.search(false)
		s.Reverse, s.MaxDepth = true, 60
		rep, err := s.Run()
		if err != nil || rep.Violation == nil {
			t.Fatalf("reversed search missed the bug: %v (%v)", rep, err)
		}
		if r := m.world(sim.NewScripted(rep.Shortest...)).s.Run(1000); r.Violation == nil || r.Steps != rep.ShortestSteps {
			t.Fatalf("replay of %v: %v, want a violation at step %d", rep.Shortest, r, rep.ShortestSteps)
		}
	}
}
