package sim

import "strings"

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
	// WakeOn names the conditions Ready reads (reads: a node's shared
	// memory, "n2") and those its steps touch (writes). Naming nothing
	// to read says Ready reads only the actor's own state, which only
	// its own steps change.
	WakeOn() (reads, writes []string)
}

// wakeState is the scheduler's part of the mechanism: a logical clock of
// touches, each condition's last touch and the last touch of them all.
type wakeState struct {
	conds  map[string]Cond // looked up only, when an actor is added
	names  []string        // by Cond
	condAt []uint64        // clock of each condition's last touch
	clock  uint64          // counts touches; starts at 1
	allAt  uint64          // clock of the last touch of every condition
	check  bool            // Config.CheckWakes
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
	w.condAt = append(w.condAt, w.clock)
	return k
}

// Touch says the memory behind condition k changed outside the steps of
// the actors that name it: they are asked Ready again.
func (s *Scheduler) Touch(k Cond) {
	s.wake.clock++
	s.wake.condAt[k] = s.wake.clock
}

// TouchAll makes collect ask every actor Ready again: what code outside
// the actors does (an operator procedure changing shared memory) needs no
// other declaration, since Run, RunUntil and Step call it first.
func (s *Scheduler) TouchAll() {
	s.wake.clock++
	s.wake.allAt = s.wake.clock
}

// Touch says this step changed the memory behind condition k, which the
// running actor does not name (another node's shared memory).
func (c *Ctx) Touch(k Cond) { c.s.Touch(k) }

// Cond returns the condition registered under name (Scheduler.Cond).
func (c *Ctx) Cond(name string) Cond { return c.s.Cond(name) }

// addWake records a new actor's conditions.
func (s *Scheduler) addWake(sl *slot) {
	sp, ok := sl.a.(Sleeper)
	if !ok {
		return
	}
	sl.sleeper = true
	reads, writes := sp.WakeOn()
	all := make([]Cond, len(reads)+len(writes)) // one allocation for both
	for i, name := range reads {
		all[i] = s.Cond(name)
	}
	for i, name := range writes {
		all[len(reads)+i] = s.Cond(name)
	}
	sl.wake, sl.writes = all[:len(reads):len(reads)], all[len(reads):]
}

// ready is collect's Ready: a Sleeper's remembered answer while it holds.
func (s *Scheduler) ready(sl *slot) bool {
	if !sl.sleeper {
		return sl.a.Ready()
	}
	if s.fresh(sl) {
		if s.wake.check {
			s.checkFresh(sl)
		}
		return sl.ready
	}
	sl.ready = sl.a.Ready()
	sl.readyAt = s.wake.clock
	return sl.ready
}

// fresh reports whether sl's remembered answer still holds: given since
// the last touch of every condition it names. readyAt 0 is no answer (the
// clock starts at 1).
func (s *Scheduler) fresh(sl *slot) bool {
	w := &s.wake
	if sl.readyAt < w.allAt {
		return false
	}
	for _, k := range sl.wake {
		if w.condAt[k] > sl.readyAt {
			return false
		}
	}
	return true
}

// checkFresh fails the run when a remembered answer is stale.
func (s *Scheduler) checkFresh(sl *slot) {
	if got := sl.a.Ready(); got != sl.ready {
		names := make([]string, len(sl.wake))
		for i, k := range sl.wake {
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
		s.TouchAll()
		return
	}
	sl.readyAt = 0
	for _, k := range sl.writes {
		s.Touch(k)
	}
}
