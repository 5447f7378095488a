package sim_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"promotesim/sim"
)

// pingPong builds two actors that bounce a ball rounds times.
func pingPong(s *sim.Scheduler, rounds int) (ping, pong sim.ActorID) {
	hits := 0
	bounce := func(c *sim.Ctx, m sim.Msg) {
		hits++
		c.Log("hit", sim.Str("ball", m.String()), sim.Int("n", int64(hits)))
		if hits < 2*rounds {
			to := ping
			if c.Self() == ping {
				to = pong
			}
			c.Send(to, m)
		}
	}
	ping = s.Add(&toy{name: "ping", recv: bounce})
	pong = s.Add(&toy{name: "pong", recv: bounce})
	s.Post(ping, msg("ball"))
	return ping, pong
}

func TestPingPong(t *testing.T) {
	s := sim.New(sim.Config{Seed: 1})
	pingPong(s, 3)
	r := s.Run(100)
	if !r.Quiescent || r.Violation != nil || r.Steps != 6 {
		t.Fatalf("run: %v", r)
	}
	want := []string{
		"     1      0 ping           hit                    ball=ball n=1",
		"     2      1 pong           hit                    ball=ball n=2",
		"     3      2 ping           hit                    ball=ball n=3",
		"     4      3 pong           hit                    ball=ball n=4",
		"     5      4 ping           hit                    ball=ball n=5",
		"     6      5 pong           hit                    ball=ball n=6",
	}
	if got := s.Trace().Tail(-1); !slices.Equal(got, want) {
		t.Fatalf("trace:\n%s", strings.Join(got, "\n"))
	}
	if s.Now() != 6 || s.StepNo() != 6 || s.Pending() != 0 {
		t.Fatalf("now %d step %d pending %d", s.Now(), s.StepNo(), s.Pending())
	}
}

func TestCounterQuiescesAndBudget(t *testing.T) {
	s := sim.New(sim.Config{})
	s.Add(worker("w", 5))
	if r := s.Run(3); r.Quiescent || r.Steps != 3 || r.String() != "3 steps, budget exhausted" {
		t.Fatalf("first run: %v", r)
	}
	if r := s.Run(10); !r.Quiescent || r.Steps != 2 || r.String() != "2 steps, quiescent" {
		t.Fatalf("second run: %v", r)
	}
	if ran, v := s.Step(); ran || v != nil {
		t.Fatal("a quiescent world took a step")
	}
	// RunUntil stops when the condition holds, checked before each step.
	s2 := sim.New(sim.Config{})
	s2.Add(worker("w", 5))
	r := s2.RunUntil(func() bool { return s2.StepNo() == 2 }, 10)
	if !r.Done || r.Steps != 2 || r.String() != "2 steps, done" {
		t.Fatalf("RunUntil: %v", r)
	}
}

func TestTimersAndIdleJump(t *testing.T) {
	s := sim.New(sim.Config{})
	var got []string
	a := s.Add(&toy{name: "a", recv: func(c *sim.Ctx, m sim.Msg) {
		got = append(got, fmt.Sprintf("%s@%d", m, c.Now()))
		if m == msg("start") {
			c.Wake(msg("long"), 10)
			c.Wake(msg("short"), 3) // set later, fires first
			c.Send(c.Self(), msg("self"))
		}
	}})
	s.Post(a, msg("start"))
	r := s.Run(100)
	want := []string{"start@0", "self@1", "short@3", "long@10"}
	if !r.Quiescent || !slices.Equal(got, want) {
		t.Fatalf("got %v (%v), want %v", got, r, want)
	}
	if s.Now() != 11 {
		t.Fatalf("time %d after the last timer, want 11", s.Now())
	}
	// Only the idle world jumps: a busy actor keeps time moving one tick per step.
	s2 := sim.New(sim.Config{Chooser: sim.NewScripted()})
	var at sim.Time = -1
	id := s2.Add(&toy{name: "t", recv: func(c *sim.Ctx, m sim.Msg) { at = c.Now() }})
	s2.Add(worker("busy", 8))
	s2.PostAfter(id, msg("timer"), 5)
	s2.Run(100)
	if at != 5 {
		t.Fatalf("timer fired at %d, want 5", at)
	}
}

func TestDelayedMessagesKeepChannelOrder(t *testing.T) {
	s := sim.New(sim.Config{})
	var got []string
	b := s.Add(logger("b", &got))
	s.Add(&toy{name: "a", ready: func() bool { return len(got) == 0 && s.Pending() == 0 }, step: func(c *sim.Ctx) {
		c.SendAfter(b, msg("slow"), 10)
		c.SendAfter(b, msg("fast"), 1) // same channel: waits for slow
		c.Send(b, msg("now"))
	}})
	r := s.Run(100)
	if !r.Quiescent || !slices.Equal(got, []string{"slow", "fast", "now"}) {
		t.Fatalf("got %v (%v)", got, r)
	}
	if s.Now() != 13 {
		t.Fatalf("now %d, want 13", s.Now())
	}
}

func TestKillDropsMessages(t *testing.T) {
	s := sim.New(sim.Config{})
	var gotB, gotC []string
	var b, c sim.ActorID
	b = s.Add(&toy{name: "b", recv: func(x *sim.Ctx, m sim.Msg) {
		gotB = append(gotB, m.String())
		x.Send(c, msg("from-b"))
	}})
	c = s.Add(logger("c", &gotC))
	s.Post(b, msg("one"))
	if ran, _ := s.Step(); !ran {
		t.Fatal("no step")
	}
	s.Post(b, msg("two"))
	s.PostAfter(b, msg("later"), 50)
	s.Kill(b)
	if s.Alive(b) || !s.Alive(c) {
		t.Fatal("Alive")
	}
	r := s.Run(100)
	if !r.Quiescent || !slices.Equal(gotB, []string{"one"}) || !slices.Equal(gotC, []string{"from-b"}) {
		t.Fatalf("b got %v, c got %v (%v)", gotB, gotC, r)
	}
	if s.Now() != 2 {
		t.Fatalf("the dropped timer moved time to %d", s.Now())
	}
	tail := strings.Join(s.Trace().Tail(-1), "\n")
	if !strings.Contains(tail, "drop") || !strings.Contains(tail, "msg=two") || !strings.Contains(tail, "msg=later") {
		t.Fatalf("no drop events in the trace:\n%s", tail)
	}
}

func TestFIFOPerChannelReorderAcrossChannels(t *testing.T) {
	// Three messages on a->r and three on b->r, under many schedules: each
	// channel stays in order, and some schedule interleaves them.
	interleaved := false
	for seed := range uint64(50) {
		s := sim.New(sim.Config{Seed: seed})
		var got []string
		r := s.Add(logger("r", &got))
		for _, name := range []string{"a", "b"} {
			sent := false
			s.Add(&toy{name: name, ready: func() bool { return !sent }, step: func(c *sim.Ctx) {
				sent = true
				for i := range 3 {
					c.Send(r, msg(fmt.Sprintf("%s%d", name, i)))
				}
			}})
		}
		s.Run(100)
		var fromA, fromB []string
		for _, m := range got {
			if m[0] == 'a' {
				fromA = append(fromA, m)
			} else {
				fromB = append(fromB, m)
			}
		}
		if !slices.Equal(fromA, []string{"a0", "a1", "a2"}) || !slices.Equal(fromB, []string{"b0", "b1", "b2"}) {
			t.Fatalf("seed %d: channel order broken: %v", seed, got)
		}
		if got[0][0] != got[1][0] || got[1][0] != got[2][0] {
			interleaved = true
		}
	}
	if !interleaved {
		t.Fatal("no seed interleaved the two channels")
	}
	// A script reorders across channels: b's message overtakes a's.
	s := sim.New(sim.Config{Chooser: sim.NewScripted(1, 1)})
	var got []string
	r := s.Add(logger("r", &got))
	s.Post(r, msg("ext"))
	s.Add(&toy{name: "b", recv: func(c *sim.Ctx, m sim.Msg) { c.Send(r, m) }})
	s.Post(1, msg("via-b"))
	s.Run(10)
	if !slices.Equal(got, []string{"via-b", "ext"}) {
		t.Fatalf("got %v", got)
	}
}

func TestChoiceZeroIsFairFIFO(t *testing.T) {
	s := sim.New(sim.Config{Chooser: sim.NewScripted()}) // every choice 0
	var order []string
	for _, name := range []string{"a", "b", "c"} {
		s.Add(&toy{name: name, ready: func() bool { return len(order) < 9 }, step: func(c *sim.Ctx) {
			order = append(order, name)
		}})
	}
	s.Run(100)
	if got := strings.Join(order, ""); got != "abcabcabc" {
		t.Fatalf("choice 0 ran %s, want round robin", got)
	}
	// A message that has waited as long as an internal step goes first; an
	// older internal step goes before a newer message.
	s = sim.New(sim.Config{Chooser: sim.NewScripted()})
	order = order[:0]
	x := s.Add(&toy{name: "x", ready: func() bool { return len(order) < 4 },
		step: func(c *sim.Ctx) { order = append(order, "x.step") },
		recv: func(c *sim.Ctx, m sim.Msg) { order = append(order, "x."+m.String()) }})
	s.Post(x, msg("m"))
	s.Run(100)
	if got := strings.Join(order, " "); got != "x.m x.step x.step x.step" {
		t.Fatalf("order %s", got)
	}
}

func TestCheckerViolation(t *testing.T) {
	s := sim.New(sim.Config{Seed: 77, TailLines: 2})
	s.Add(worker("w", 10))
	steps := 0
	s.Checkers().Add("StepsBelowFour", func() error {
		steps++
		if s.StepNo() >= 4 {
			return fmt.Errorf("step %d", s.StepNo())
		}
		return nil
	})
	s.Checkers().Add("Second", func() error { return nil })
	if got := s.Checkers().Names(); !slices.Equal(got, []string{"StepsBelowFour", "Second"}) {
		t.Fatalf("names %v", got)
	}
	r := s.Run(100)
	v := r.Violation
	if v == nil || r.Steps != 4 || steps != 4 {
		t.Fatalf("run: %v after %d checks", r, steps)
	}
	if v.Checker != "StepsBelowFour" || v.Step != 4 || v.Seed != 77 || v.Time != 4 {
		t.Fatalf("violation %+v", v)
	}
	want := []string{
		"     3      2 w              work                   i=3",
		"     4      3 w              work                   i=4",
	}
	if !slices.Equal(v.Tail, want) {
		t.Fatalf("tail %q", v.Tail)
	}
	if v.Error() != "violation of StepsBelowFour at step 4 (seed 77): step 4" {
		t.Fatalf("Error() = %q", v.Error())
	}
	rep := v.Report()
	if !strings.HasPrefix(rep, "VIOLATION StepsBelowFour\n  step 4, time 4, seed 77\n  step 4\n  trace tail:\n") || !strings.Contains(rep, want[1]) {
		t.Fatalf("report:\n%s", rep)
	}
	if !strings.Contains(r.String(), "violation of StepsBelowFour") {
		t.Fatalf("result %v", r)
	}
	mustPanic(t, "twice", func() { s.Checkers().Add("Second", nil) })
}

// A group runs its checkers as one function and is named like Add of each
// in turn: order, the failing member's name, and duplicates.
func TestCheckerGroup(t *testing.T) {
	s := sim.New(sim.Config{Seed: 5})
	s.Add(worker("w", 10))
	var ran []string
	s.Checkers().Add("First", func() error { ran = append(ran, "First"); return nil })
	s.Checkers().AddGroup([]string{"A", "B", "C"}, func() (int, error) {
		ran = append(ran, "group")
		if s.StepNo() == 3 {
			return 1, fmt.Errorf("b at %d", s.StepNo())
		}
		return 0, nil
	})
	s.Checkers().Add("Last", func() error { ran = append(ran, "Last"); return nil })
	if got := s.Checkers().Names(); !slices.Equal(got, []string{"First", "A", "B", "C", "Last"}) {
		t.Fatalf("names %v", got)
	}
	r := s.Run(100)
	if r.Violation == nil || r.Violation.Checker != "B" || r.Steps != 3 {
		t.Fatalf("run: %v", r)
	}
	want := []string{"First", "group", "Last", "First", "group", "Last", "First", "group"}
	if !slices.Equal(ran, want) {
		t.Fatalf("ran %v", ran)
	}
	mustPanic(t, "twice", func() { s.Checkers().AddGroup([]string{"D", "C"}, nil) })
	mustPanic(t, "empty", func() { s.Checkers().AddGroup(nil, nil) })
}

func TestAssertInStepIsViolation(t *testing.T) {
	s := sim.New(sim.Config{Seed: 3})
	n := 0
	s.Add(&toy{name: "w", ready: func() bool { return true }, step: func(c *sim.Ctx) {
		n++
		c.Log("step", sim.Int("n", int64(n)))
		sim.Assertf(n < 3, "n reached %d", n)
	}})
	r := s.Run(100)
	v := r.Violation
	if v == nil || v.Checker != "assert" || v.Step != 3 || v.Seed != 3 {
		t.Fatalf("run: %v", r)
	}
	var ae *sim.AssertionError
	if !errors.As(v, &ae) || ae.Msg != "n reached 3" || ae.Error() != "assertion failed: n reached 3" {
		t.Fatalf("err %v", v.Err)
	}
	if len(v.Tail) != 3 || !strings.HasSuffix(v.Tail[2], "n=3") {
		t.Fatalf("tail %q", v.Tail)
	}
	// Any other panic is not a finding of the model: it propagates.
	s2 := sim.New(sim.Config{})
	s2.Add(&toy{name: "p", ready: func() bool { return true }, step: func(*sim.Ctx) { panic("boom") }})
	defer func() {
		if e := recover(); e != "boom" {
			t.Fatalf("recovered %v", e)
		}
	}()
	s2.Run(1)
	t.Fatal("unreachable")
}

func TestSchedulerMisuse(t *testing.T) {
	s := sim.New(sim.Config{})
	a := s.Add(worker("a", 1))
	mustPanic(t, "post to nobody", func() { s.Post(5, msg("x")) })
	mustPanic(t, "negative delay", func() { s.PostAfter(a, msg("x"), -1) })
	mustPanic(t, "kill nobody", func() { s.Kill(-3) })
	if s.Name(sim.External) != "ext" || s.Name(a) != "a" || s.Actor(a).Name() != "a" {
		t.Fatal("names")
	}
	s2 := sim.New(sim.Config{Chooser: badChooser{}})
	s2.Add(worker("a", 1))
	s2.Add(worker("b", 1))
	if r := s2.Run(5); r.Violation == nil || !strings.Contains(r.Violation.Err.Error(), "chooser returned 2 of 2") {
		t.Fatalf("bad chooser: %v", r)
	}
}

type badChooser struct{}

func (badChooser) Choose(_ sim.Site, n int) int       { return n }
func (badChooser) Chance(_ sim.Site, _ sim.Prob) bool { return false }

func TestSeededRunsDifferAndRepeat(t *testing.T) {
	run := func(seed uint64) uint64 {
		s := sim.New(sim.Config{Seed: seed})
		for _, n := range []string{"a", "b", "c"} {
			s.Add(worker(n, 5))
		}
		s.Run(100)
		return s.Trace().Hash()
	}
	if h1, h2 := run(1), run(1); h1 != h2 {
		t.Fatal("same seed, different hash")
	}
	if run(1) == run(2) && run(2) == run(3) {
		t.Fatal("seeds do not change the schedule")
	}
}

func TestMarksAndSites(t *testing.T) {
	s := sim.New(sim.Config{})
	s.Add(&toy{name: "m", recv: func(c *sim.Ctx, m sim.Msg) {
		c.Mark("rare/" + m.String())
		if x1, x2 := c.Site("x"), c.Site("x"); x1 != x2 || x1 == c.Site("y") {
			t.Error("sites")
		}
	}})
	s.Post(0, msg("b"))
	s.Post(0, msg("a"))
	s.Post(0, msg("b"))
	s.Run(10)
	if s.Marks().Count("rare/b") != 2 || !slices.Equal(s.Marks().Names(), []string{"rare/a", "rare/b"}) {
		t.Fatalf("marks %v", s.Marks().Names())
	}
	var all sim.Marks
	all.Merge(s.Marks())
	all.Merge(s.Marks())
	if all.Count("rare/a") != 2 {
		t.Fatal("merge")
	}
	if s.Site("sched").ID != 0 {
		t.Fatal("the scheduler's site is the first")
	}
}

// mustPanic requires f to panic with an *sim.AssertionError.
func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if _, ok := recover().(*sim.AssertionError); !ok {
			t.Fatalf("%s: want an *AssertionError panic", what)
		}
	}()
	f()
}

// spawner forks one child on its first step and exits on its second; the
// child counts its own steps. Spawned actors run from the next step on, and
// an exited actor takes no more steps and loses its messages.
type spawner struct {
	steps int
	child sim.ActorID
	kid   *counter
}

type counter struct{ n, limit int }

func (k *counter) Name() string                  { return "kid" }
func (k *counter) Ready() bool                   { return k.n < k.limit }
func (k *counter) Step(c *sim.Ctx)               { k.n++ }
func (k *counter) Receive(c *sim.Ctx, m sim.Msg) {}
func (p *spawner) Name() string                  { return "parent" }
func (p *spawner) Ready() bool                   { return p.steps < 3 }
func (p *spawner) Receive(c *sim.Ctx, m sim.Msg) { panic("parent got a message after exiting") }
func (p *spawner) Step(c *sim.Ctx) {
	p.steps++
	switch p.steps {
	case 1:
		p.kid = &counter{limit: 2}
		p.child = c.Spawn(p.kid)
	case 2:
		c.Send(c.Self(), spawnMsg("late")) // dropped: the parent exits first
		c.Exit()
	}
}

type spawnMsg string

func (m spawnMsg) String() string { return string(m) }

func TestSpawnAndExit(t *testing.T) {
	s := sim.New(sim.Config{Seed: 1, Chooser: sim.NewScripted()})
	p := &spawner{}
	id := s.Add(p)
	r := s.Run(100)
	if r.Violation != nil || !r.Quiescent {
		t.Fatalf("run: %v", r)
	}
	if p.steps != 2 || p.kid.n != 2 || s.Alive(id) || !s.Alive(p.child) {
		t.Fatalf("parent steps %d (want 2), kid steps %d (want 2), parent alive %v, kid alive %v",
			p.steps, p.kid.n, s.Alive(id), s.Alive(p.child))
	}
}

// A held actor neither steps nor receives; its messages wait in order and
// are delivered after Release.
func TestHoldRelease(t *testing.T) {
	s := sim.New(sim.Config{Seed: 1, Chooser: sim.NewScripted()})
	k := &counter{limit: 3}
	id := s.Add(k)
	s.Hold(id)
	if r := s.Run(10); !r.Quiescent || k.n != 0 {
		t.Fatalf("held actor stepped: %v, n=%d", r, k.n)
	}
	s.Release(id)
	if r := s.Run(10); !r.Quiescent || k.n != 3 {
		t.Fatalf("released actor: %v, n=%d (want 3)", r, k.n)
	}
}

// TestUnknownActorFails pins the inlined id check: a negative id (which the
// unsigned compare wraps) and one past the last actor both fail loudly.
func TestUnknownActorFails(t *testing.T) {
	s := sim.New(sim.Config{Seed: 1})
	s.Add(&idle{name: "a"})
	if !s.Alive(0) {
		t.Fatal("actor 0 not alive")
	}
	for _, id := range []sim.ActorID{-1, 1, 1 << 20} {
		func() {
			defer func() {
				want := fmt.Sprintf("sim: no actor %d", id)
				if e, ok := recover().(*sim.AssertionError); !ok || e.Msg != want {
					t.Errorf("Alive(%d): got %v, want the failure %q", id, e, want)
				}
			}()
			s.Alive(id)
		}()
	}
}
