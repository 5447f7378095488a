package sim_test

import (
	"errors"
	"fmt"
	"testing"

	"promotesim/sim"
)

// lockWorld is the racy lock of ExampleSearch: two processes each read
// the flag, then set it.
type lockWorld struct {
	s    *sim.Scheduler
	pc   [2]int
	flag bool
}

// lockSearch is ExampleSearch's search and the world builder it uses.
func lockSearch() (*sim.Search[*lockWorld], func(sim.Chooser) *lockWorld) {
	build := func(ch sim.Chooser) *lockWorld {
		w := &lockWorld{s: sim.New(sim.Config{Chooser: ch})}
		for i := range 2 {
			w.s.Add(&toy{
				name:  fmt.Sprint("p", i),
				ready: func() bool { return w.pc[i] == 0 && !w.flag || w.pc[i] == 1 },
				step: func(*sim.Ctx) {
					if w.pc[i] == 1 {
						w.flag = true
					}
					w.pc[i]++
				},
			})
		}
		w.s.Checkers().Add("Mutex", func() error {
			if w.pc[0] == 2 && w.pc[1] == 2 {
				return errors.New("both hold the lock")
			}
			return nil
		})
		return w
	}
	return &sim.Search[*lockWorld]{
		New:  build,
		Step: func(w *lockWorld) (bool, *sim.Violation) { return w.s.Step() },
		Fingerprint: func(w *lockWorld) uint64 {
			h := w.s.StateHash() // messages, liveness, the last actor
			for _, pc := range w.pc {
				h = h*31 + uint64(pc)
			}
			if w.flag {
				h++
			}
			return h
		},
		MaxDepth: 10, // a bound also makes the shortest failure the shallowest
	}, build
}

// A search plugs in a world it can rebuild from a Chooser, a step, and a
// fingerprint of everything the future depends on. Here two processes each
// take two steps of a racy lock (read the flag, then set it); the claim is
// that they are never both past their set.
func ExampleSearch() {
	search, build := lockSearch()
	rep, err := search.Run()
	if err != nil {
		panic(err)
	}
	fmt.Println(rep)
	fmt.Println("replay:", rep.Shortest, "->", build(sim.NewScripted(rep.Shortest...)).s.Run(100))
	// Output:
	// 9 states, 12 transitions (6 replayed), 6 runs, depth 4, 2 failing runs, shortest 4 steps: Mutex
	// replay: [0 0 0] -> 4 steps, violation of Mutex at step 4 (seed 0): both hold the lock
}

// TestSearchFindsRacyLock asserts what ExampleSearch prints: the search is
// complete, finds the race, and its shortest failing script replays to the
// same violation in as many steps.
func TestSearchFindsRacyLock(t *testing.T) {
	search, build := lockSearch()
	rep, err := search.Run()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failures == 0 || rep.Violation == nil || rep.Violation.Checker != "Mutex" {
		t.Fatalf("the race was not found: %v", rep)
	}
	if rep.States != 9 || rep.ShortestSteps != 4 || !rep.Complete {
		t.Fatalf("want a complete search of 9 states with a 4-step failure, got %v (complete %v)", rep, rep.Complete)
	}
	res := build(sim.NewScripted(rep.Shortest...)).s.Run(100)
	if res.Violation == nil || res.Violation.Checker != "Mutex" || res.Violation.Step != uint64(rep.ShortestSteps) {
		t.Fatalf("replay of %v: %v, want Mutex at step %d", rep.Shortest, res, rep.ShortestSteps)
	}
}
