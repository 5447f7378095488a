package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// groupMem is the shared memory of one group of sleepy actors (a node's).
type groupMem struct {
	n    int
	cond string
}

// sleepy is a Sleeper whose Ready reads its group's memory and its own
// work; its steps change both, sometimes another group's memory too
// (naming it with Ctx.Touch), send messages, spawn and kill. A liar reads
// another group's memory without naming it: the wake check must catch it.
type sleepy struct {
	name  string
	g     *groupMem
	other *groupMem // read by a liar's Ready, written by anyone's steps
	all   []*groupMem
	work  int
	mod   int
	liar  bool
	ownly bool // names nothing to read: Ready reads its work only
	r     *Rand
}

func (a *sleepy) Name() string { return a.name }

func (a *sleepy) Ready() bool {
	if a.ownly {
		return a.work > 0
	}
	if a.liar && a.other.n%3 == 0 {
		return true
	}
	return a.work > 0 || a.g.n%a.mod == 0
}

func (a *sleepy) WakeOn(w *Wakes) {
	if !a.ownly {
		w.Reads(a.g.cond)
	}
	w.Writes(a.g.cond)
}

func (a *sleepy) Step(c *Ctx)           { a.act(c) }
func (a *sleepy) Receive(c *Ctx, _ Msg) { a.work += a.r.Intn(3); a.act(c) }

func (a *sleepy) act(c *Ctx) {
	if a.work > 0 {
		a.work--
	}
	a.g.n += a.r.Intn(3)
	c.Log("act", Int("mem", int64(a.g.n)), Int("work", int64(a.work)))
	s := c.s
	switch a.r.Intn(8) {
	case 0:
		// Another node's memory, named as the one place it changed.
		o := a.all[a.r.Intn(len(a.all))]
		o.n++
		c.Touch(c.Cond(o.cond))
	case 1:
		c.Send(ActorID(a.r.Intn(len(s.actors))), note("m"))
	case 2:
		c.Wake(note("t"), Time(a.r.Intn(5)))
	case 3:
		if len(s.actors) < 20 && a.r.Chance(Per(1, 3)) {
			c.Spawn(newSleepy(a.r.Fork(fmt.Sprint(len(s.actors))), len(s.actors), a.all, false))
		} else if a.r.Chance(Per(1, 6)) {
			c.Kill(ActorID(a.r.Intn(len(s.actors))))
		}
	}
}

func newSleepy(r *Rand, i int, all []*groupMem, liar bool) *sleepy {
	a := &sleepy{name: fmt.Sprintf("a%d", i), g: all[r.Intn(len(all))], other: all[r.Intn(len(all))],
		all: all, work: r.Intn(6), mod: 2 + r.Intn(3), liar: liar, r: r}
	a.ownly = !liar && r.Chance(Per(1, 4))
	return a
}

// sleepyWorld builds a world of sleepy actors in three groups.
func sleepyWorld(seed uint64, liar, check bool) (*Scheduler, []*groupMem) {
	r := NewRand(seed)
	s := New(Config{Seed: seed, Trace: TraceConfig{Ring: -1}, CheckWakes: check})
	all := []*groupMem{{cond: "g0"}, {cond: "g1"}, {cond: "g2"}}
	for i := range 2 + r.Intn(8) {
		s.Add(newSleepy(r.Fork(fmt.Sprint(i)), i, all, liar && i == 0))
	}
	return s, all
}

// The remembered answers give collect exactly the candidates, in exactly
// the order, that asking every actor every step gives (naiveCollect asks
// Ready itself), through steps, messages, timers, spawns, kills, holds,
// touches named in a step and changes made between runs (TouchAll).
func TestWakeCollectMatchesNaive(t *testing.T) {
	steps, remembered := 0, 0
	for seed := range uint64(400) {
		s, all := sleepyWorld(seed, false, false)
		r := NewRand(seed ^ 0xABC)
		for run := 0; run < 8; run++ {
			// Between runs, outside the actors: the next run's start
			// forgets every answer.
			all[r.Intn(len(all))].n++
			if id := ActorID(r.Intn(len(s.actors))); r.Chance(Per(1, 4)) {
				s.actors[id].held = !s.actors[id].held
			}
			for range 3 {
				s.PostAfter(ActorID(r.Intn(len(s.actors))), note("ext"), Time(r.Intn(4)))
			}
			s.TouchAll()
			for range 60 {
				s.collect()
				want, _, _ := naiveCollect(s)
				if !slices.Equal(s.cands, want) {
					t.Fatalf("seed %d step %d: collect %v, naive %v", seed, s.step, s.cands, want)
				}
				for i := range s.actors {
					if s.actors[i].answer != answerUnknown {
						remembered++
					}
				}
				if ran, v := stepInRun(s); !ran || v != nil {
					break
				}
				steps++
			}
		}
	}
	t.Logf("%d steps, %d remembered", steps, remembered)
	if steps < 50000 || remembered < 5*steps {
		t.Fatalf("weak test: %d steps, %d remembered answers used", steps, remembered)
	}
}

// A Sleeper that reads memory it does not name is caught by the wake check
// in the step its remembered answer goes stale; without the check it
// silently changes the schedule (which is why the check exists).
func TestWakeCheckCatchesUndeclaredRead(t *testing.T) {
	caught, diverged := 0, 0
	for seed := range uint64(100) {
		s, _ := sleepyWorld(seed, true, true)
		res := s.Run(400)
		if v := res.Violation; v != nil {
			if v.Checker != "assert" || !strings.Contains(v.Error(), "a0's Ready became") {
				t.Fatalf("seed %d: %v", seed, v)
			}
			caught++
		}
		plain, _ := sleepyWorld(seed, true, false)
		for range 400 {
			plain.collect()
			want, _, _ := naiveCollect(plain)
			if !slices.Equal(plain.cands, want) {
				diverged++
				break
			}
			if ran, _ := stepInRun(plain); !ran {
				break
			}
		}
	}
	t.Logf("caught %d diverged %d", caught, diverged)
	if caught < 20 || diverged < 20 {
		t.Fatalf("the liar was caught in %d worlds and changed the schedule in %d of 100", caught, diverged)
	}
	if caught < diverged {
		t.Fatalf("the liar changed the schedule in %d worlds, the check caught %d", diverged, caught)
	}
}

// Without Sleepers nothing is remembered, and with them the wake check
// changes nothing but its extra Ready calls: same trace either way.
func TestWakeCheckChangesNothing(t *testing.T) {
	for seed := range uint64(50) {
		a, _ := sleepyWorld(seed, false, false)
		b, _ := sleepyWorld(seed, false, true)
		ra, rb := a.Run(500), b.Run(500)
		if ra.Violation != nil || rb.Violation != nil {
			t.Fatalf("seed %d: %v / %v", seed, ra.Violation, rb.Violation)
		}
		if ra.Steps != rb.Steps || a.trace.Hash() != b.trace.Hash() {
			t.Fatalf("seed %d: %d steps hash %x, checked %d steps hash %x", seed, ra.Steps, a.trace.Hash(), rb.Steps, b.trace.Hash())
		}
	}
}

// collect's walk reads one slot per live actor every step; a slot is one
// cache line, and a field added to it should keep it so.
func TestSlotIsOneCacheLine(t *testing.T) {
	if n := unsafe.Sizeof(slot{}); n > 64 {
		t.Fatalf("a scheduler slot is %d bytes, more than a 64-byte cache line", n)
	}
}

// turnTaker is a Sleeper that takes its turn at a shared counter: ready
// when the counter names it, its step passes the turn on.
type turnTaker struct {
	name  string
	turn  *int
	me, n int
}

func (a *turnTaker) Name() string      { return a.name }
func (a *turnTaker) Ready() bool       { return *a.turn%a.n == a.me }
func (a *turnTaker) WakeOn(w *Wakes)   { w.Reads("turn"); w.Writes("turn") }
func (a *turnTaker) Step(*Ctx)         { *a.turn++ }
func (a *turnTaker) Receive(*Ctx, Msg) {}

// quietTaker reads a counter of its own that no step touches.
type quietTaker struct{ turnTaker }

func (a *quietTaker) WakeOn(w *Wakes) { w.Reads("quiet") }

// Remembering answers costs no allocation: a steady-state run of Sleepers
// (asked, remembered, touched, forgotten every step) allocates nothing,
// as the empty-actor step does (TestHotPathsDoNotAllocate).
func TestWakeRunDoesNotAllocate(t *testing.T) {
	s := New(Config{Seed: 1})
	turn := 0
	for i := range 8 {
		s.Add(&turnTaker{name: fmt.Sprintf("t%d", i), turn: &turn, me: i, n: 8})
	}
	// Eight more that wait on a counter no step moves: their answers
	// are remembered throughout.
	quiet := 1
	for i := range 8 {
		s.Add(&quietTaker{turnTaker{name: fmt.Sprintf("q%d", i), turn: &quiet, me: 0, n: 2}})
	}
	s.Run(100) // warm up slices
	before := turn
	if a := testing.AllocsPerRun(1000, func() { s.Run(10) }); a != 0 {
		t.Fatalf("a run of Sleepers allocates %.1f times", a)
	}
	if turn-before < 10000 {
		t.Fatalf("the turn moved %d times in 1001 runs of 10 steps", turn-before)
	}
}

// stepInRun takes one step as Run's loop does: remembered answers stand.
func stepInRun(s *Scheduler) (bool, *Violation) {
	s.inRun = true
	defer func() { s.inRun = false }()
	return s.Step()
}

// Touches moves whenever the memory behind a condition may have changed
// (a step of an actor that writes it, Ctx.Touch, everything touched at
// once) and stands otherwise: along sleepy worlds, a group's memory never
// changes while its condition's count stands, the count does stand across
// steps of other groups' actors, and TouchAll moves every count.
func TestTouchesCountsEveryChange(t *testing.T) {
	var stood, moved int
	for seed := range uint64(30) {
		s, all := sleepyWorld(seed+1, false, false)
		conds := make([]Cond, len(all))
		for i, g := range all {
			conds[i] = s.Cond(g.cond)
		}
		counts := make([]uint64, len(all))
		mems := make([]int, len(all))
		look := func() {
			for i := range all {
				counts[i], mems[i] = s.Touches(conds[i]), all[i].n
			}
		}
		look()
		for step := range 300 {
			if ok, v := stepInRun(s); !ok || v != nil {
				break
			}
			for i, g := range all {
				switch c := s.Touches(conds[i]); {
				case c == counts[i]:
					stood++
					if g.n != mems[i] {
						t.Fatalf("seed %d step %d: %s's memory moved %d -> %d with its touch count standing at %d", seed, step, g.cond, mems[i], g.n, c)
					}
				case c < counts[i]:
					t.Fatalf("seed %d step %d: %s's touch count fell", seed, step, g.cond)
				default:
					moved++
				}
			}
			look()
		}
		s.TouchAll()
		for i := range all {
			if s.Touches(conds[i]) == counts[i] {
				t.Fatalf("seed %d: TouchAll left %s's count at %d", seed, all[i].cond, counts[i])
			}
		}
	}
	if stood < 1000 || moved < 1000 {
		t.Fatalf("weak test: a count stood %d times and moved %d times", stood, moved)
	}
}
