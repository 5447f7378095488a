package sim_test

import (
	"errors"
	"fmt"

	"promotesim/sim"
)

// A search plugs in a world it can rebuild from a Chooser, a step, and a
// fingerprint of everything the future depends on. Here two processes each
// take two steps of a racy lock (read the flag, then set it); the claim is
// that they are never both past their set.
func ExampleSearch() {
	type world struct {
		s    *sim.Scheduler
		pc   [2]int
		flag bool
	}
	build := func(ch sim.Chooser) *world {
		w := &world{s: sim.New(sim.Config{Chooser: ch})}
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
	search := &sim.Search[*world]{
		New:  build,
		Step: func(w *world) (bool, *sim.Violation) { return w.s.Step() },
		Fingerprint: func(w *world) uint64 {
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
	}
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
