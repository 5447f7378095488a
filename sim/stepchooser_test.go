package sim_test

import (
	"testing"

	"promotesim/sim"
)

// peek records the candidate view of every scheduling choice and takes the
// last candidate.
type peek struct {
	sim.Chooser
	seen [][4]int // per candidate: actor, from, message, last
}

func (p *peek) ChooseStep(_ sim.Site, e sim.Enabled) int {
	for i := range e.Len() {
		m := 0
		if e.Message(i) {
			m = 1
		}
		p.seen = append(p.seen, [4]int{int(e.Actor(i)), int(e.From(i)), m, int(e.Last())})
	}
	return e.Len() - 1
}

// Enabled shows each candidate's actor, sender and kind, oldest first, and
// the actor that ran last; Recorder forwards it and records the index.
func TestEnabledView(t *testing.T) {
	p := &peek{Chooser: sim.NewScripted()}
	rec := &sim.Recorder{Inner: p}
	s := sim.New(sim.Config{Chooser: rec})
	a := s.Add(worker("a", 1))
	b := s.Add(&toy{name: "b"})
	s.Post(b, msg("x"))
	s.Step()
	// Both have waited since step 0; a delivery goes before an internal
	// step of the same age.
	want := [][4]int{
		{int(b), int(sim.External), 1, -1}, // the posted message
		{int(a), int(a), 0, -1},            // a's internal step
	}
	if len(p.seen) != 2 || p.seen[0] != want[0] || p.seen[1] != want[1] {
		t.Fatalf("seen %v, want %v", p.seen, want)
	}
	if len(rec.Choices) != 1 || rec.Choices[0] != 1 || s.Last() != a {
		t.Fatalf("recorded %v, last %d", rec.Choices, s.Last())
	}
}

// StateHash sees messages in flight, their time left, liveness and the last
// actor, and not what only renumbers candidates (absolute time, the order
// of different channels).
func TestStateHash(t *testing.T) {
	build := func(order bool, delay sim.Time) *sim.Scheduler {
		s := sim.New(sim.Config{Chooser: sim.NewScripted()})
		x := s.Add(&toy{name: "x"})
		y := s.Add(&toy{name: "y"})
		if order {
			s.Post(x, msg("1"))
			s.Post(y, msg("2"))
		} else {
			s.Post(y, msg("2"))
			s.Post(x, msg("1"))
		}
		s.PostAfter(x, msg("late"), delay)
		return s
	}
	h := build(true, 5).StateHash()
	if build(false, 5).StateHash() != h {
		t.Fatal("the order of two channels changed the hash")
	}
	if build(true, 6).StateHash() == h {
		t.Fatal("a later delivery did not change the hash")
	}
	s := build(true, 5)
	s.Kill(1)
	if s.StateHash() == h {
		t.Fatal("a dead actor did not change the hash")
	}
	s = build(true, 5)
	s.Step() // delivers one message: fewer in flight, a last actor
	if s.StateHash() == h {
		t.Fatal("a step did not change the hash")
	}
}
