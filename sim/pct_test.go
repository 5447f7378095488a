package sim_test

import (
	"strconv"
	"testing"

	"pgregory.net/rapid"

	"promotesim/sim"
	"promotesim/sim/simtest"
)

// watch forwards to its inner chooser and counts the preemptions it made:
// decisions that ran another actor while the last one had a step enabled.
type watch struct {
	sim.Chooser
	preemptions, decisions int
}

func (w *watch) ChooseStep(site sim.Site, e sim.Enabled) int {
	v := sim.ChooseStep(w.Chooser, site, e)
	w.decisions++
	if last := e.Last(); last >= 0 && e.Has(last) && e.Actor(v) != last {
		w.preemptions++
	}
	return v
}

// workers runs n actors of m internal steps each under c; it returns the
// schedule as actor indices.
func workers(c sim.Chooser, n, m int) []int {
	s := sim.New(sim.Config{Chooser: c, Trace: sim.TraceConfig{Ring: -1}})
	var order []int
	for i := range n {
		done := 0
		s.Add(&toy{name: "w" + strconv.Itoa(i), ready: func() bool { return done < m }, step: func(*sim.Ctx) {
			done++
			order = append(order, i)
		}})
	}
	if r := s.Run(n*m + 1); !r.Quiescent {
		panic(r.String())
	}
	return order
}

// PCT preempts only at its d-1 change points (no actor is spawned here), and
// the walk at most k times: a bound on every seed, not on average.
func TestStrategiesBoundPreemptions(t *testing.T) {
	simtest.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(2, 4).Draw(t, "actors")
		m := rapid.IntRange(1, 12).Draw(t, "steps")
		d := rapid.IntRange(1, 4).Draw(t, "d")
		seed := rapid.Uint64().Draw(t, "seed")
		bound := n * m // the estimate covers the run: no uniform tail
		var st sim.Strategy
		if rapid.Bool().Draw(t, "pct") {
			st = sim.Strategy{Kind: sim.PCTKind, Depth: d, Steps: bound}
		} else {
			st = sim.Strategy{Kind: sim.PreemptKind, Preemptions: d - 1, Steps: bound, P: sim.Per(1, 2)}
		}
		w := &watch{Chooser: sim.NewChooser(st, seed)}
		order := workers(w, n, m)
		if len(order) != n*m {
			t.Fatalf("%d steps", len(order))
		}
		if w.preemptions > d-1 {
			t.Fatalf("%v: %d preemptions in %v", st, w.preemptions, order)
		}
		if p, ok := w.Chooser.(*sim.Preempt); ok && p.Preemptions() != w.preemptions {
			t.Fatalf("walk counted %d preemptions, made %d", p.Preemptions(), w.preemptions)
		}
	})
}

// PCT with d=1 runs actors one after another, highest priority first; over
// seeds every actor is sometimes first (the priorities are random).
func TestPCTDepthOneIsSequential(t *testing.T) {
	first := map[int]int{}
	for seed := range uint64(200) {
		order := workers(sim.NewChooser(sim.Strategy{Kind: sim.PCTKind, Depth: 1, Steps: 100}, seed), 3, 4)
		for i := 1; i < len(order); i++ {
			if order[i] != order[i-1] && i%4 != 0 {
				t.Fatalf("seed %d: switched mid-run: %v", seed, order)
			}
		}
		first[order[0]]++
	}
	for a := range 3 {
		if first[a] < 40 {
			t.Errorf("actor %d first in %d of 200 seeds", a, first[a])
		}
	}
}

// PCT's change points: d-1 of them, distinct, ascending, within the bound,
// and a change point lowers the actor that would have run below every other.
func TestPCTChangePoints(t *testing.T) {
	for seed := range uint64(100) {
		p := sim.NewPCT(sim.NewRandom(seed), sim.NewRand(seed), 4, 10)
		cp := p.ChangePoints()
		if len(cp) != 3 {
			t.Fatalf("seed %d: %v", seed, cp)
		}
		for i, c := range cp {
			if c < 1 || c > 10 || i > 0 && cp[i-1] >= c {
				t.Fatalf("seed %d: change points %v", seed, cp)
			}
		}
	}
	// More change points than decisions: every decision is one.
	if cp := sim.NewPCT(sim.NewRandom(1), sim.NewRand(1), 9, 3).ChangePoints(); len(cp) != 3 {
		t.Fatalf("change points %v", cp)
	}
	// Two always-ready actors of 3 steps, d=2 over 6 decisions: a change
	// point at decision 2 or 3 preempts the actor that went first (it still
	// has steps); one at decision 1 lowers the favourite before anything
	// ran (the other simply goes first); a later one is never reached
	// (after 3 decisions one actor is done and nothing is left to choose).
	for seed := range uint64(60) {
		p := sim.NewPCT(sim.NewRandom(seed), sim.NewRand(seed), 2, 6)
		w := &watch{Chooser: p}
		order := workers(w, 2, 3)
		want := 0
		if c := p.ChangePoints()[0]; c == 2 || c == 3 {
			want = 1
		}
		if w.preemptions != want {
			t.Fatalf("seed %d, change point %v: %d preemptions: %v", seed, p.ChangePoints(), w.preemptions, order)
		}
	}
}

// After Steps decisions both strategies leave scheduling to the uniform
// draw, so a long run of always-ready actors is interleaved again.
func TestStrategiesUniformTail(t *testing.T) {
	for _, st := range []sim.Strategy{{Kind: sim.PCTKind, Depth: 1, Steps: 5}, {Kind: sim.PreemptKind, Steps: 5}} {
		w := &watch{Chooser: sim.NewChooser(st, 7)}
		workers(w, 2, 100)
		if w.preemptions < 20 {
			t.Errorf("%v: %d preemptions in 200 steps", st, w.preemptions)
		}
	}
}

// A walk with k=0 never preempts; with the last actor blocked its switch is
// free and uniform.
func TestPreemptFreeSwitch(t *testing.T) {
	for seed := range uint64(50) {
		w := &watch{Chooser: sim.NewChooser(sim.Strategy{Kind: sim.PreemptKind, Steps: 1000}, seed)}
		order := workers(w, 3, 5)
		if w.preemptions != 0 {
			t.Fatalf("seed %d: %d preemptions: %v", seed, w.preemptions, order)
		}
	}
}

// starve is a bug of depth 1 that needs one actor to stay ahead: it fails
// when worker a finishes all its m steps before worker b takes any. Uniform
// finds it with probability 2^-m; PCT with d=1 half the time.
func starve(c sim.Chooser, m int) bool {
	s := sim.New(sim.Config{Chooser: c, Trace: sim.TraceConfig{Ring: -1}})
	a, b := 0, 0
	s.Add(&toy{name: "a", ready: func() bool { return a < m }, step: func(*sim.Ctx) { a++ }})
	s.Add(&toy{name: "b", ready: func() bool { return b < m }, step: func(*sim.Ctx) { b++ }})
	s.Checkers().Add("starve", func() error {
		if a == m && b == 0 {
			return errStarved
		}
		return nil
	})
	return s.Run(4*m).Violation != nil
}

type starvedErr struct{}

func (starvedErr) Error() string { return "a finished before b started" }

var errStarved = starvedErr{}

func TestPCTFindsWhatUniformMisses(t *testing.T) {
	count := func(st sim.Strategy) int {
		n := 0
		for seed := range uint64(400) {
			if starve(sim.NewChooser(st, seed), 20) {
				n++
			}
		}
		return n
	}
	uni := count(sim.Strategy{Kind: sim.Uniform})
	pct := count(sim.Strategy{Kind: sim.PCTKind, Depth: 1, Steps: 100})
	walk := count(sim.Strategy{Kind: sim.PreemptKind, Preemptions: 1, Steps: 100})
	t.Logf("starvation found in 400 seeds: uniform %d, pct:d=1 %d, preempt:k=1 %d", uni, pct, walk)
	if uni != 0 || pct < 150 || walk < 100 {
		t.Fatalf("uniform %d, pct %d, preempt %d of 400", uni, pct, walk)
	}
}

// Under PCT the faults a seed draws come from the same per-site streams as
// under uniform: a world whose schedule has a single option draws the same.
func TestStrategiesKeepFaultStreams(t *testing.T) {
	draw := func(c sim.Chooser) []int {
		var got []int
		s := sim.New(sim.Config{Chooser: c})
		n := 0
		s.Add(&toy{name: "one", ready: func() bool { return n < 20 }, step: func(x *sim.Ctx) {
			n++
			got = append(got, x.Choose(x.Site("pick"), 5))
			if x.Chance(x.Site("fault"), sim.Per(1, 3)) {
				got = append(got, -1)
			}
		}})
		s.Run(100)
		return got
	}
	for seed := range uint64(10) {
		want := draw(sim.NewRandom(seed))
		for _, text := range strategyTexts {
			if got := draw(sim.NewChooser(mustStrategy(t, text), seed)); !equalInts(got, want) {
				t.Fatalf("%s seed %d: %v, uniform %v", text, seed, got, want)
			}
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
