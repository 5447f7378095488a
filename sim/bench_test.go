package sim_test

import (
	"strconv"
	"testing"

	"promotesim/sim"
)

// idle is an always-ready actor whose step does nothing: a scheduler step
// with it is pure kernel overhead.
type idle struct{ name string }

func (a *idle) Name() string              { return a.name }
func (a *idle) Ready() bool               { return true }
func (a *idle) Step(*sim.Ctx)             {}
func (a *idle) Receive(*sim.Ctx, sim.Msg) {}

// bouncer sends every message it receives on to its peer, forever.
type bouncer struct {
	name string
	peer sim.ActorID
}

func (a *bouncer) Name() string                  { return a.name }
func (a *bouncer) Ready() bool                   { return false }
func (a *bouncer) Step(*sim.Ctx)                 {}
func (a *bouncer) Receive(c *sim.Ctx, m sim.Msg) { c.Send(a.peer, m) }

func step(b *testing.B, s *sim.Scheduler) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		if ran, v := s.Step(); !ran || v != nil {
			b.Fatal("world stopped")
		}
	}
}

// BenchmarkStepEmpty is our physical limit: 8 always-ready actors doing
// nothing, a Random chooser picking among 8 candidates every step. Every
// later ratio (a cluster step, a whole promote) is measured against it.
func BenchmarkStepEmpty(b *testing.B) {
	s := sim.New(sim.Config{Seed: 1})
	for i := range 8 {
		s.Add(&idle{name: "idle" + strconv.Itoa(i)})
	}
	step(b, s)
}

// BenchmarkStepEmptyFIFO is the same world under the boring schedule.
func BenchmarkStepEmptyFIFO(b *testing.B) {
	s := sim.New(sim.Config{Chooser: sim.NewScripted()})
	for i := range 8 {
		s.Add(&idle{name: "idle" + strconv.Itoa(i)})
	}
	step(b, s)
}

// BenchmarkStepPingPong delivers one message per step between two actors.
func BenchmarkStepPingPong(b *testing.B) {
	s := sim.New(sim.Config{Seed: 1})
	x, y := &bouncer{name: "ping"}, &bouncer{name: "pong"}
	x.peer, y.peer = s.Add(y), s.Add(x)
	s.Post(x.peer, msg("ball"))
	step(b, s)
}

// BenchmarkStepInFlight64 keeps 64 messages in flight among 8 actors, so
// collect scans a busy pending list with several messages per channel.
func BenchmarkStepInFlight64(b *testing.B) {
	s := sim.New(sim.Config{Seed: 1})
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

func BenchmarkTraceEmit4(b *testing.B) {
	tr := sim.NewTrace(sim.TraceConfig{})
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		i++
		tr.Emit(i, sim.Time(i), sim.LevelStep, "n2/bgw", "replay",
			sim.LSNField("lsn", i), sim.Uint("block", 7), sim.Str("state", "replaying"), sim.Bool("ok", true))
	}
}

func BenchmarkRandUint64(b *testing.B) {
	r := sim.NewRand(1)
	b.ReportAllocs()
	var sink uint64
	for b.Loop() {
		sink += r.Uint64()
	}
	if sink == 1 {
		b.Log(sink)
	}
}

// The benchmarks above are the physical limit later ratios are measured
// against; this pins their premise: a steady-state step, a message step and a
// trace event allocate nothing.
func TestHotPathsDoNotAllocate(t *testing.T) {
	s := sim.New(sim.Config{Seed: 1, Trace: sim.TraceConfig{Ring: 64}})
	for i := 0; i < 8; i++ {
		s.Add(&idle{name: "idle"})
	}
	s.Run(100) // warm up slices
	if a := testing.AllocsPerRun(1000, func() { s.Step() }); a != 0 {
		t.Fatalf("empty-actor step allocates %.1f times", a)
	}
	tr := sim.NewTrace(sim.TraceConfig{Ring: 64})
	if a := testing.AllocsPerRun(1000, func() {
		tr.Emit(1, 1, sim.LevelStep, "n1/bgw", "replay", sim.Int("a", 1), sim.Str("b", "x"), sim.LSNField("c", 0x1A8), sim.Bool("d", true))
	}); a != 0 {
		t.Fatalf("trace emit allocates %.1f times", a)
	}
}
