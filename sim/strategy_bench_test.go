package sim_test

import (
	"strconv"
	"testing"

	"promotesim/sim"
)

// longRun is an estimate no benchmark reaches, so PCT and the walk decide
// every step (no uniform tail).
const longRun = 1 << 30

func idleWorld(c sim.Chooser) *sim.Scheduler {
	s := sim.New(sim.Config{Seed: 1, Chooser: c})
	for i := range 8 {
		s.Add(&idle{name: "idle" + strconv.Itoa(i)})
	}
	return s
}

// BenchmarkStepEmptyPCT is BenchmarkStepEmpty under PCT (d=3): the per-step
// cost of ranking 8 candidates by priority instead of one uniform draw.
func BenchmarkStepEmptyPCT(b *testing.B) {
	step(b, idleWorld(sim.NewChooser(sim.Strategy{Kind: sim.PCTKind, Depth: 3, Steps: longRun}, 1)))
}

// BenchmarkStepEmptyPreempt is BenchmarkStepEmpty under the walk (k=2).
func BenchmarkStepEmptyPreempt(b *testing.B) {
	step(b, idleWorld(sim.NewChooser(sim.Strategy{Kind: sim.PreemptKind, Preemptions: 2, Steps: longRun}, 1)))
}

// BenchmarkStepInFlight64PCT is BenchmarkStepInFlight64 under PCT: message
// candidates, whose lanes PCT hashes by sender.
func BenchmarkStepInFlight64PCT(b *testing.B) {
	s := sim.New(sim.Config{Seed: 1, Chooser: sim.NewChooser(sim.Strategy{Kind: sim.PCTKind, Depth: 3, Steps: longRun}, 1)})
	const n = 8
	bs := make([]*bouncer, n)
	for i := range bs {
		bs[i] = &bouncer{name: "b" + strconv.Itoa(i)}
		s.Add(bs[i])
	}
	for i := range bs {
		bs[i].peer = sim.ActorID((i + 1) % n)
	}
	for i := range 64 {
		s.Post(sim.ActorID(i%n), msg("m"))
	}
	step(b, s)
}

// The strategies keep the kernel's zero-allocation pin: a steady-state step
// under PCT or the walk allocates nothing.
func TestStrategyStepsDoNotAllocate(t *testing.T) {
	for _, st := range []sim.Strategy{
		{Kind: sim.PCTKind, Depth: 3, Steps: longRun},
		{Kind: sim.PreemptKind, Preemptions: 2, Steps: longRun, P: sim.Per(1, 4)},
		{Kind: sim.PCTKind, Depth: 3, Steps: 50}, // into the uniform tail
	} {
		s := idleWorld(sim.NewChooser(st, 1))
		s.Run(100) // warm up slices, spend the change points
		if a := testing.AllocsPerRun(1000, func() { s.Step() }); a != 0 {
			t.Fatalf("%v: a step allocates %.1f times", st, a)
		}
	}
}

func benchSearch(b *testing.B, m *model, k int) { benchSearchWith(b, m.search, k) }

func benchSearchWith(b *testing.B, mk func(bool) *sim.Search[*modelWorld], k int) {
	b.ReportAllocs()
	var rep sim.SearchReport
	for b.Loop() {
		s := mk(k >= 0)
		s.Preemptions, s.BoundPreemptions = k, k >= 0
		var err error
		if rep, err = s.Run(); err != nil || !rep.Complete {
			b.Fatal(rep, err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(rep.States), "states")
	b.ReportMetric(float64(rep.States)/sec, "states/s")
	b.ReportMetric(float64(rep.Transitions+rep.Replayed)/sec, "steps/s")
}

// BenchmarkSearchCounters: 4 counters to 4, 625 states, 2000 transitions.
func BenchmarkSearchCounters(b *testing.B) { benchSearch(b, counters(4, 4, false), -1) }

// BenchmarkSearchPeterson: Peterson's lock, unbounded and with 2 preemptions.
func BenchmarkSearchPeterson(b *testing.B)   { benchSearch(b, peterson(false), -1) }
func BenchmarkSearchPetersonK2(b *testing.B) { benchSearch(b, peterson(false), 2) }

// BenchmarkSearchCountersDrive is BenchmarkSearchCounters with the world
// driving itself (fingerprints at decisions only).
func BenchmarkSearchCountersDrive(b *testing.B) { benchSearchWith(b, counters(4, 4, false).drive, -1) }
