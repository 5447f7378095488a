package sim

import (
	"slices"
	"strings"
)

// Wake conditions: how collect avoids asking every actor Ready every step.
//
// Most processes are not ready most of the time, and what they wait for
// changes rarely: a signal or a timer (a message, which collect sees
// without asking the actor), or a value in their node's shared memory that
// another process's step moves. A Sleeper names the shared-memory
// conditions its Ready reads; collect then keeps its last answer until the
// actor takes a step or one of those conditions is touched, and asks again
// only then. The candidates and their order are exactly what asking every
// actor every step gives (the least-recently-run walk is unchanged; only
// the answers are remembered), so every recorded schedule replays as
// before. Config.CheckWakes asks every Sleeper anyway and fails the run
// when a remembered answer is stale: a process whose Ready reads something
// it did not name.
//
// Who touches a condition:
//   - a step of a Sleeper touches every condition it names as written
//     (it may have changed what the others waiting there read);
//   - a step of an actor that is not a Sleeper, Add, Kill, the start of
//     Run/RunUntil and an exported Step touch them all: code outside the
//     actors (a script's operator procedure between runs, a test poking
//     a process) may have changed anything, and a Sleeper's own state is
//     changed only in its steps or by those;
//   - a step that changes another condition's memory names it with
//     Ctx.Touch.

// Cond is a named shared-memory condition (Scheduler.Cond).
type Cond int32

// Sleeper is an Actor that names what its Ready reads besides its own
// state, and what its steps may change that others' Ready read. WakeOn is
// asked once, when the actor is added, and must not change.
type Sleeper interface {
	Actor
	// WakeOn names through w the conditions Ready reads (w.Reads: a
	// node's shared memory, "n2") and those its steps touch (w.Writes).
	// Naming nothing to read says Ready reads only the actor's own
	// state, which only its own steps change.
	WakeOn(w *Wakes)
}

// Wakes collects a Sleeper's conditions while it is added (Sleeper.WakeOn).
type Wakes struct{ reads, writes []string }

// Reads names conditions the actor's Ready reads.
func (w *Wakes) Reads(names ...string) { w.reads = append(w.reads, names...) }

// Writes names conditions the actor's steps may change.
func (w *Wakes) Writes(names ...string) { w.writes = append(w.writes, names...) }

// answer is a Sleeper's remembered Ready: none (ask it), or the answer it
// gave since which nothing it reads was touched.
type answer uint8

const (
	answerUnknown answer = iota
	answerNo
	answerYes
)

// wakeState is the scheduler's part of the mechanism: the conditions, and
// for each the live Sleepers whose Ready reads it. A touch forgets their
// answers at once, so collect's test of an answer is one flag in the slot.
type wakeState struct {
	conds    map[string]Cond // looked up only, when an actor is added
	names    []string        // by Cond
	readers  [][]ActorID     // by Cond: the live Sleepers reading it, in no order
	pool     []Cond          // every Sleeper's conditions (slot.wake)
	scratch  Wakes           // addWake's, reused
	check    bool            // Config.CheckWakes
	sleepers int             // Sleepers ever added
	// touches counts, by Cond, the touches of each condition, and all
	// those of every condition at once (TouchAll, a step of an actor that
	// is not a Sleeper): Touches.
	touches []uint64
	all     uint64
}

// Cond returns the condition registered under name, registering it on
// first use.
func (s *Scheduler) Cond(name string) Cond {
	w := &s.wake
	if k, ok := w.conds[name]; ok {
		return k
	}
	if w.conds == nil {
		w.conds = make(map[string]Cond)
	}
	k := Cond(len(w.names))
	w.conds[name] = k
	w.names = append(w.names, name)
	w.readers = append(w.readers, nil)
	w.touches = append(w.touches, 0)
	return k
}

// Touches is how often condition k was touched so far: by a step of an
// actor that names it as written, by Ctx.Touch, or by everything being
// touched at once (TouchAll, a step of an actor that is not a Sleeper,
// Add, Kill, the start of Run). A caller that saw the same count before
// knows that no step since changed the memory behind k, as far as the
// Sleepers' declarations say: scenarios/check's watch skips comparing an
// untouched node's shared memory so.
func (s *Scheduler) Touches(k Cond) uint64 { return s.wake.touches[k] + s.wake.all }

// Touch says the memory behind condition k changed outside the steps of
// the actors that name it as written: its readers are asked Ready again.
func (s *Scheduler) Touch(k Cond) {
	s.wake.touches[k]++
	for _, id := range s.wake.readers[k] {
		s.actors[id].answer = answerUnknown
	}
}

// TouchAll makes collect ask every actor Ready again: what code outside
// the actors does (an operator procedure changing shared memory) needs no
// other declaration, since Run, RunUntil and Step call it first.
func (s *Scheduler) TouchAll() {
	s.wake.all++
	if s.wake.sleepers == 0 {
		return // nothing remembered: a world of plain actors pays nothing
	}
	for i := range s.actors {
		s.actors[i].answer = answerUnknown
	}
}

// Touch says this step changed the memory behind condition k, which the
// running actor does not name as written (another node's shared memory).
func (c *Ctx) Touch(k Cond) { c.s.Touch(k) }

// Cond returns the condition registered under name (Scheduler.Cond).
func (c *Ctx) Cond(name string) Cond { return c.s.Cond(name) }

// addWake records a new actor's conditions.
func (s *Scheduler) addWake(id ActorID) {
	sl := &s.actors[id]
	sp, ok := sl.a.(Sleeper)
	if !ok {
		return
	}
	sl.sleeper = true
	s.wake.sleepers++
	w := &s.wake.scratch // reused: adding a process allocates nothing here
	w.reads, w.writes = w.reads[:0], w.writes[:0]
	sp.WakeOn(w)
	reads, writes := w.reads, w.writes
	if len(reads) > 255 || len(writes) > 255 {
		Failf("sim: %s names %d conditions to read and %d to write, at most 255 each", sl.name, len(reads), len(writes))
	}
	sl.wake, sl.nr, sl.nw = int32(len(s.wake.pool)), uint8(len(reads)), uint8(len(writes))
	for _, name := range reads {
		k := s.Cond(name)
		s.wake.pool = append(s.wake.pool, k)
		s.wake.readers[k] = append(s.wake.readers[k], id)
	}
	for _, name := range writes {
		s.wake.pool = append(s.wake.pool, s.Cond(name))
	}
}

// readsOf and writesOf are a Sleeper's conditions.
func (s *Scheduler) readsOf(sl *slot) []Cond { return s.wake.pool[sl.wake : sl.wake+int32(sl.nr)] }
func (s *Scheduler) writesOf(sl *slot) []Cond {
	return s.wake.pool[sl.wake+int32(sl.nr) : sl.wake+int32(sl.nr)+int32(sl.nw)]
}

// killWake takes a dead actor off its conditions' readers.
func (s *Scheduler) killWake(id ActorID) {
	for _, k := range s.readsOf(&s.actors[id]) {
		rs := s.wake.readers[k]
		if i := slices.Index(rs, id); i >= 0 {
			rs[i] = rs[len(rs)-1]
			s.wake.readers[k] = rs[:len(rs)-1]
		}
	}
}

// ask asks a Sleeper Ready and remembers the answer until something it
// reads is touched.
func (s *Scheduler) ask(sl *slot) bool {
	r := sl.a.Ready()
	sl.answer = answerNo
	if r {
		sl.answer = answerYes
	}
	return r
}

// checkKnown fails the run when a remembered answer is stale.
func (s *Scheduler) checkKnown(sl *slot) {
	if got := sl.a.Ready(); got != (sl.answer == answerYes) {
		names := make([]string, sl.nr)
		for i, k := range s.readsOf(sl) {
			names[i] = s.wake.names[k]
		}
		Failf("sim: %s's Ready became %t with none of its wake conditions [%s] touched: it reads memory it does not name, or a step changed memory it did not say it writes",
			sl.name, got, strings.Join(names, " "))
	}
}

// ranWake is the bookkeeping after actor sl's step: its answer is
// forgotten and what it writes touched; an actor that is not a Sleeper
// touches everything.
func (s *Scheduler) ranWake(sl *slot) {
	if !sl.sleeper {
		s.wake.all++
		for i := range s.actors {
			s.actors[i].answer = answerUnknown
		}
		return
	}
	sl.answer = answerUnknown // a step changes the actor's own state
	for _, k := range s.writesOf(sl) {
		s.Touch(k)
	}
}
