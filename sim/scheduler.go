package sim

import (
	"fmt"
	"slices"
)

// Config configures a Scheduler.
type Config struct {
	// Seed is the run's one root seed; every stream and every option of a
	// seeded run derives from it.
	Seed uint64
	// Chooser decides which enabled step runs next and every other choice;
	// nil means a Random driver seeded from Seed.
	Chooser Chooser
	// Trace configures the trace (output sink, level, ring). A zero Ring
	// keeps TailLines events: what a violation reports.
	Trace TraceConfig
	// TailLines is how many trace lines a violation carries (0: 24).
	TailLines int
	// CheckWakes asks every Sleeper Ready at every step, as if it named
	// nothing, and fails the run (an "assert" violation) when its
	// remembered answer differs: a test mode that proves the actors'
	// wake conditions complete (wake.go).
	CheckWakes bool
}

type slot struct {
	// The fields collect's walk reads come first, and the slot is one
	// 64-byte cache line: collect visits every live actor every step.
	a          Actor
	lastRun    uint64
	prev, next ActorID // neighbours in the scheduler's least-recently-run list; -1 at the ends
	chans      int32   // the first channel this actor receives on; -1 if none
	wake       int32   // a Sleeper's conditions: wakeState.pool[wake:], nr read then nw written
	nr, nw     uint8
	alive      bool
	held       bool   // paused by Hold: no steps, messages wait
	sleeper    bool   // a Sleeper: Ready is remembered (wake.go)
	answer     answer // a Sleeper's remembered Ready (wake.go)
	name       string
}

type pending struct {
	seq      uint64
	sentStep uint64
	from, to ActorID
	at       Time
	m        Msg
	timer    bool  // a Wake: ordered by deadline, outside the channel's FIFO
	ch       int32 // index into Scheduler.chans; -1 for a timer
}

// channel is one (sender, receiver) pair; messages on it arrive in order.
// Its oldest pending message is in Scheduler.heads (only it may be
// delivered); the ones behind it wait here, in send order, so collect never
// looks at them.
type channel struct {
	from, to ActorID
	n        int       // pending messages on the channel, the head included
	wait     []pending // behind the head: wait[off:]
	off      int
	next     int32 // the receiver's next channel; -1 at the end
}

// candidate is one enabled step: an actor's internal step or the delivery of
// the oldest message on one (sender, receiver) channel.
type candidate struct {
	since uint64 // step since which it has waited: smaller is older
	msg   int    // index into heads, or -1 for an internal step
	actor ActorID
	seq   uint64
}

func (c candidate) before(d candidate) bool {
	if c.since != d.since {
		return c.since < d.since
	}
	if (c.msg >= 0) != (d.msg >= 0) {
		return c.msg >= 0 // a delivered signal runs before the next loop turn
	}
	if c.msg >= 0 {
		return c.seq < d.seq
	}
	return c.actor < d.actor
}

// Scheduler owns virtual time and runs one step at a time: it asks the Chooser
// which enabled step runs, runs it as one atomic critical section, then runs
// every registered checker. Candidates are ordered oldest-waiting first, so
// choice 0 is fair FIFO, the boring schedule that shrinking moves toward.
// Messages on one (sender, receiver) channel are delivered in order (a
// SendAfter holds back later messages on its channel until it is delivered);
// messages on different channels may be reordered by the Chooser. Timers
// (Wake) are not a channel: each fires at its own deadline.
type Scheduler struct {
	seed      uint64
	now       Time
	step      uint64
	seq       uint64
	actors    []slot
	heads     []pending // every timer and every channel's oldest message, in send order
	chans     []channel
	npending  int       // messages in flight: heads and the ones waiting behind them
	dropped   []pending // scratch of dropDead
	cands     []candidate
	merged    []candidate
	mayDrop   bool    // a message to a dead actor may be pending: collect drops it
	lruHead   ActorID // least recently run actor; -1 when there are none
	lruTail   ActorID // most recently run (or added) actor
	nextAt    Time    // set by collect: earliest future delivery, if hasNext
	hasNext   bool
	chooser   Chooser
	stepCh    StepChooser // chooser, when it wants to see whose steps the candidates are
	schedSite Site
	last      ActorID // the actor that ran the previous step; -1 before the first
	trace     *Trace
	marks     Marks
	checkers  Checkers
	observers []Observer // Observe, Report
	sites     Sites
	root      *Rand
	ctx       Ctx
	tail      int
	wake      wakeState
	inRun     bool // in RunUntil's loop: Step need not forget remembered answers
}

// New returns a scheduler with no actors.
func New(cfg Config) *Scheduler {
	s := &Scheduler{seed: cfg.Seed, chooser: cfg.Chooser, root: NewRand(cfg.Seed), tail: cfg.TailLines, lruHead: -1, lruTail: -1, last: -1}
	if s.chooser == nil {
		s.chooser = NewRandom(cfg.Seed)
	}
	s.stepCh, _ = s.chooser.(StepChooser)
	if s.tail == 0 {
		s.tail = 24
	}
	if cfg.Trace.Ring == 0 {
		// Violations are the ring's only reader; every world building a
		// ring of the Trace default cost more than its tail was worth.
		cfg.Trace.Ring = s.tail
	}
	s.trace = NewTrace(cfg.Trace)
	s.wake.check = cfg.CheckWakes
	s.schedSite = s.sites.Get("sched")
	s.ctx.s = s
	return s
}

// Seed returns the run's root seed.
func (s *Scheduler) Seed() uint64 { return s.seed }

// Now returns virtual time.
func (s *Scheduler) Now() Time { return s.now }

// StepNo returns how many steps have run.
func (s *Scheduler) StepNo() uint64 { return s.step }

// Trace returns the run's trace.
func (s *Scheduler) Trace() *Trace { return s.trace }

// Marks returns the run's coverage marks.
func (s *Scheduler) Marks() *Marks { return &s.marks }

// Checkers returns the registry run after every step.
func (s *Scheduler) Checkers() *Checkers { return &s.checkers }

// Chooser returns the run's chooser.
func (s *Scheduler) Chooser() Chooser { return s.chooser }

// Site returns the choice site registered under label.
func (s *Scheduler) Site(label string) Site { return s.sites.Get(label) }

// Rand returns a stream forked from the root seed by label (for deriving a
// seeded run's options; actors' choices go through the Chooser instead).
func (s *Scheduler) Rand(label string) *Rand { return s.root.Fork(label) }

// Add registers an actor; it may take steps from now on.
func (s *Scheduler) Add(a Actor) ActorID {
	id := ActorID(len(s.actors))
	if s.actors == nil {
		s.actors = make([]slot, 0, 32) // a cluster's processes, without regrowing
	}
	s.actors = append(s.actors, slot{a: a, name: a.Name(), alive: true, lastRun: s.step, prev: -1, next: -1, chans: -1})
	s.addWake(id)
	s.pushBack(id)
	s.TouchAll()
	return id
}

// The least-recently-run list keeps the actors ordered by (lastRun, id):
// an actor moves to the back when it runs, and an added actor starts at the
// back with lastRun equal to the current step, which no actor in front of it
// exceeds and whose ties it loses by its larger id. So collect reads the
// internal-step candidates already in order.

func (s *Scheduler) pushBack(id ActorID) {
	sl := &s.actors[id]
	sl.prev, sl.next = s.lruTail, -1
	if s.lruTail >= 0 {
		s.actors[s.lruTail].next = id
	} else {
		s.lruHead = id
	}
	s.lruTail = id
}

func (s *Scheduler) moveToBack(id ActorID) {
	if s.lruTail == id {
		return
	}
	s.unlink(id)
	s.pushBack(id)
}

// unlink takes id out of the least-recently-run list.
func (s *Scheduler) unlink(id ActorID) {
	sl := &s.actors[id]
	if sl.prev >= 0 {
		s.actors[sl.prev].next = sl.next
	} else {
		s.lruHead = sl.next
	}
	if sl.next >= 0 {
		s.actors[sl.next].prev = sl.prev
	} else {
		s.lruTail = sl.prev
	}
	sl.prev, sl.next = -1, -1
}

// Kill stops an actor: it takes no more steps and messages to it are dropped
// (a crashed process). Messages it already sent stay in flight. A dead actor
// leaves the least-recently-run list (it is never a candidate again), so
// collect's walk stays as long as the live actors, however many processes
// crashes and restarts have left behind; the order of the others is unchanged.
func (s *Scheduler) Kill(id ActorID) {
	s.check(id)
	if sl := &s.actors[id]; sl.alive {
		sl.alive = false
		s.unlink(id)
		s.killWake(id)
	}
	s.mayDrop = true
	s.TouchAll()
}

// Hold pauses an actor: it takes no steps and receives no messages (they
// wait, in order) until Release. Scripts use it the way PolarDB's tests use
// injection points ("BGW paused before WAITING_RESET").
func (s *Scheduler) Hold(id ActorID) { s.check(id); s.actors[id].held = true }

// Release resumes an actor paused by Hold.
func (s *Scheduler) Release(id ActorID) { s.check(id); s.actors[id].held = false }

// Held reports whether the actor is paused.
func (s *Scheduler) Held(id ActorID) bool { s.check(id); return s.actors[id].held }

// Alive reports whether the actor may still take steps.
func (s *Scheduler) Alive(id ActorID) bool { s.check(id); return s.actors[id].alive }

// Name returns the actor's name.
func (s *Scheduler) Name(id ActorID) string {
	if id == External {
		return "ext"
	}
	s.check(id)
	return s.actors[id].name
}

// Actor returns the actor registered as id.
func (s *Scheduler) Actor(id ActorID) Actor { s.check(id); return s.actors[id].a }

// check fails on an id no actor has. It is on the hot path (every send,
// Alive and Held): one unsigned compare (a negative id wraps past the
// end) small enough to inline, the failure out of line in noActor.
func (s *Scheduler) check(id ActorID) {
	if uint(id) >= uint(len(s.actors)) {
		noActor(id)
	}
}

//go:noinline
func noActor(id ActorID) { Failf("sim: no actor %d", id) }

// Post delivers m to actor to from outside the world (an operator command).
func (s *Scheduler) Post(to ActorID, m Msg) { s.send(External, to, m, 0, false) }

// PostAfter delivers m from outside no earlier than delay ticks from now.
func (s *Scheduler) PostAfter(to ActorID, m Msg, delay Time) {
	s.send(External, to, m, delay, false)
}

// Pending returns how many messages are in flight.
func (s *Scheduler) Pending() int { return s.npending }

// Emit writes a trace event on behalf of a named party outside the actors
// (the scenario narrator, an operator).
func (s *Scheduler) Emit(who string, level Level, verb string, f ...Field) {
	s.trace.Emit(s.step, s.now, level, who, verb, f...)
}

func (s *Scheduler) send(from, to ActorID, m Msg, delay Time, timer bool) {
	s.check(to)
	if delay < 0 {
		Failf("sim: negative delay %d", delay)
	}
	if !s.actors[to].alive {
		s.mayDrop = true
	}
	s.seq++
	s.npending++
	p := pending{seq: s.seq, sentStep: s.step, from: from, to: to, at: s.now + delay, m: m, timer: timer, ch: -1}
	if !timer {
		p.ch = s.channelOf(from, to)
		q := &s.chans[p.ch]
		q.n++
		if q.n > 1 {
			// An older message is pending on the channel: this one waits
			// behind it.
			q.wait = append(q.wait, p)
			return
		}
	}
	// The newest message: send order puts it last.
	s.heads = append(s.heads, p)
}

// channelOf returns the index of the channel from sender to receiver,
// creating it on first use. A receiver hears from few senders, so a walk of
// its own chain of channels beats a map.
func (s *Scheduler) channelOf(from, to ActorID) int32 {
	sl := &s.actors[to]
	for ch := sl.chans; ch >= 0; ch = s.chans[ch].next {
		if s.chans[ch].from == from {
			return ch
		}
	}
	ch := int32(len(s.chans))
	s.chans = append(s.chans, channel{from: from, to: to, next: sl.chans})
	sl.chans = ch
	return ch
}

func (s *Scheduler) emit(self ActorID, level Level, verb string, f []Field) {
	s.trace.Emit(s.step, s.now, level, s.actors[self].name, verb, f...)
}

// collect fills s.cands with the enabled steps, oldest first, and sets
// nextAt to the earliest time a not-yet-due message or timer becomes
// deliverable. Only timers and channel heads can be delivered, and s.heads
// holds exactly those in send order, which is (sentStep, seq) order; the
// least-recently-run list is (lastRun, id) order; so collect reads two
// sorted sequences and merges them: no sorting, and no allocation once the
// scratch slices have grown.
func (s *Scheduler) collect() {
	s.collectMsgs()
	nm := len(s.cands)
	if s.wake.sleepers == 0 {
		// No Sleepers: every actor is asked, as ever (the empty-actor
		// benchmark's kernel, which the world step is measured against).
		for id := s.lruHead; id >= 0; {
			sl := &s.actors[id]
			if sl.alive && !sl.held && sl.a.Ready() {
				s.cands = append(s.cands, candidate{since: sl.lastRun, msg: -1, actor: id})
			}
			id = sl.next
		}
	} else {
		s.collectSleepers()
	}
	if nm > 0 && nm < len(s.cands) {
		s.merge(nm)
	}
}

// collectSleepers is collect's walk when some actors are Sleepers: their
// remembered answers stand in for Ready (wake.go). Most live actors are
// Sleepers known not to be ready, so that case is the walk's first test,
// and the walk keeps the slots and candidates in locals (one test and one
// load an actor: the walk is the kernel's largest cost per step).
func (s *Scheduler) collectSleepers() {
	if s.wake.check {
		s.collectChecked()
		return
	}
	acts, cands := s.actors, s.cands
	for id := s.lruHead; id >= 0; {
		cur := id
		sl := &acts[cur]
		id = sl.next
		if sl.answer == answerNo || !sl.alive || sl.held {
			continue
		}
		r := sl.answer == answerYes
		if !sl.sleeper {
			r = sl.a.Ready()
		} else if sl.answer == answerUnknown {
			r = s.ask(sl)
		}
		if r {
			cands = append(cands, candidate{since: sl.lastRun, msg: -1, actor: cur})
		}
	}
	s.cands = cands
}

// collectChecked is collectSleepers in the wake-check mode: every
// remembered answer is compared with a fresh one (checkKnown).
func (s *Scheduler) collectChecked() {
	for id := s.lruHead; id >= 0; {
		sl := &s.actors[id]
		if sl.alive && !sl.held {
			var r bool
			switch {
			case !sl.sleeper:
				r = sl.a.Ready()
			case sl.answer != answerUnknown:
				s.checkKnown(sl)
				r = sl.answer == answerYes
			default:
				r = s.ask(sl)
			}
			if r {
				s.cands = append(s.cands, candidate{since: sl.lastRun, msg: -1, actor: id})
			}
		}
		id = sl.next
	}
}

// collectMsgs is collect's first half: s.cands gets the due deliveries,
// nextAt the earliest future one.
func (s *Scheduler) collectMsgs() {
	s.cands = s.cands[:0]
	s.hasNext = false
	if s.mayDrop {
		s.mayDrop = false
		s.dropDead()
	}
	for i := range s.heads {
		p := &s.heads[i]
		if s.actors[p.to].held {
			continue // a paused process receives nothing until released
		}
		if p.at <= s.now {
			s.cands = append(s.cands, candidate{since: p.sentStep, msg: i, actor: p.to, seq: p.seq})
		} else if !s.hasNext || p.at < s.nextAt {
			s.nextAt, s.hasNext = p.at, true
		}
	}
}

// dropDead drops every pending message to a dead actor (a crashed process
// never sees messages sent to it), tracing each drop in send order.
func (s *Scheduler) dropDead() {
	n := 0
	for i := range s.heads {
		p := &s.heads[i]
		if s.actors[p.to].alive {
			if n != i {
				s.heads[n] = *p
			}
			n++
			continue
		}
		s.dropped = append(s.dropped, *p)
		if p.ch >= 0 {
			// The whole channel goes: its receiver is dead.
			q := &s.chans[p.ch]
			s.dropped = append(s.dropped, q.wait[q.off:]...)
			clear(q.wait)
			q.wait, q.off, q.n = q.wait[:0], 0, 0
		}
	}
	clear(s.heads[n:]) // release references
	s.heads = s.heads[:n]
	if len(s.dropped) == 0 {
		return
	}
	slices.SortFunc(s.dropped, func(a, b pending) int {
		if a.seq < b.seq {
			return -1
		}
		return 1 // seqs are unique
	})
	for i := range s.dropped {
		p := &s.dropped[i]
		s.trace.Emit(s.step, s.now, LevelDetail, s.actors[p.to].name, "drop", Str("msg", p.m.String()))
	}
	s.npending -= len(s.dropped)
	clear(s.dropped)
	s.dropped = s.dropped[:0]
}

// deliver takes heads[i] out of flight; the next message on its channel, if
// any, becomes a head at its place in send order.
func (s *Scheduler) deliver(i int) pending {
	p := s.heads[i]
	s.npending--
	if p.ch >= 0 {
		q := &s.chans[p.ch]
		q.n--
		if q.n > 0 {
			next := q.wait[q.off]
			q.wait[q.off] = pending{}
			q.off++
			if q.off == len(q.wait) {
				q.wait, q.off = q.wait[:0], 0
			} else if q.off >= 32 && 2*q.off >= len(q.wait) {
				// A channel that never drains would grow wait forever.
				k := copy(q.wait, q.wait[q.off:])
				clear(q.wait[k:])
				q.wait, q.off = q.wait[:k], 0
			}
			// next was sent after p: its place is at i or later.
			j := i + 1
			for j < len(s.heads) && s.heads[j].seq < next.seq {
				j++
			}
			copy(s.heads[i:j-1], s.heads[i+1:j])
			s.heads[j-1] = next
			return p
		}
	}
	copy(s.heads[i:], s.heads[i+1:])
	s.heads[len(s.heads)-1] = pending{}
	s.heads = s.heads[:len(s.heads)-1]
	return p
}

// merge merges the sorted runs s.cands[:nm] and s.cands[nm:].
func (s *Scheduler) merge(nm int) {
	msgs, acts := s.cands[:nm], s.cands[nm:]
	out := s.merged[:0]
	i, j := 0, 0
	for i < len(msgs) && j < len(acts) {
		if acts[j].before(msgs[i]) {
			out = append(out, acts[j])
			j++
		} else {
			out = append(out, msgs[i])
			i++
		}
	}
	out = append(out, msgs[i:]...)
	out = append(out, acts[j:]...)
	s.merged, s.cands = s.cands, out
}

// Step runs one step. It returns false when nothing can run now or later
// (quiescent), and a violation when a checker failed after the step.
// Called from outside Run, where the caller may have changed anything
// since the last step, it has every actor asked Ready afresh (TouchAll);
// inside Run's loop nothing runs between two steps but the checkers and
// the done condition, which change nothing.
func (s *Scheduler) Step() (bool, *Violation) {
	if !s.inRun {
		s.TouchAll()
	}
	s.collect()
	if len(s.cands) == 0 {
		// Idle: jump to the next deliverable message or timer, if any. Only
		// channel heads count: a message behind an undelivered one on its
		// channel cannot be delivered at its own time.
		if !s.hasNext {
			return false, nil
		}
		next := s.nextAt
		s.now = next
		// No step ran and actors cannot see virtual time, so no actor
		// became ready: only deliveries can be due now.
		s.collectMsgs()
		if len(s.cands) == 0 {
			Failf("sim: timer at %d enabled nothing", next)
		}
	}
	i := 0
	if len(s.cands) > 1 {
		if s.stepCh != nil {
			i = s.stepCh.ChooseStep(s.schedSite, Enabled{s})
		} else {
			i = s.chooser.Choose(s.schedSite, len(s.cands))
		}
		if i < 0 || i >= len(s.cands) {
			Failf("sim: chooser returned %d of %d", i, len(s.cands))
		}
	}
	c := s.cands[i]
	s.step++
	s.ctx.self = c.actor
	s.last = c.actor
	sl := &s.actors[c.actor]
	sl.lastRun = s.step
	s.moveToBack(c.actor)
	if c.msg >= 0 {
		p := s.deliver(c.msg)
		sl.a.Receive(&s.ctx, p.m)
	} else {
		sl.a.Step(&s.ctx)
	}
	if s.wake.sleepers > 0 {
		s.ranWake(&s.actors[c.actor]) // a Spawn in the step may have moved the slots
	}
	s.now++
	if name, err := s.checkers.Run(); err != nil {
		return true, s.violation(name, err)
	}
	return true, nil
}

// Violation builds a report for a check made outside the per-step checkers
// (a liveness phase, a whole-state check at a crash point): same fields,
// same trace tail.
func (s *Scheduler) Violation(name string, err error) *Violation { return s.violation(name, err) }

func (s *Scheduler) violation(name string, err error) *Violation {
	return &Violation{Checker: name, Step: s.step, Time: s.now, Seed: s.seed, Err: err, Tail: s.trace.Tail(s.tail)}
}

// Result says how a Run ended.
type Result struct {
	Steps     int        // steps taken by this call
	Quiescent bool       // nothing left to run
	Done      bool       // the stop condition held
	Violation *Violation // a checker or assertion failed
}

// Run takes steps until the world is quiescent, a violation occurs, or
// budget steps were taken.
func (s *Scheduler) Run(budget int) Result { return s.RunUntil(nil, budget) }

// RunUntil takes steps until done returns true (checked before each step),
// the world is quiescent, a violation occurs, or budget steps were taken.
// A failed Assertf in a step becomes a violation of checker "assert".
func (s *Scheduler) RunUntil(done func() bool, budget int) (r Result) {
	defer func() {
		s.inRun = false
		if e := recover(); e != nil {
			ae, ok := e.(*AssertionError)
			if !ok {
				panic(e)
			}
			r.Violation = s.violation("assert", ae)
		}
	}()
	s.TouchAll() // the caller may have changed anything since the last step
	s.inRun = true
	for r.Steps < budget {
		if done != nil && done() {
			r.Done = true
			return r
		}
		ran, v := s.Step()
		if !ran {
			r.Quiescent = true
			return r
		}
		r.Steps++
		if v != nil {
			r.Violation = v
			return r
		}
	}
	if done != nil && done() {
		r.Done = true
	}
	return r
}

func (r Result) String() string {
	switch {
	case r.Violation != nil:
		return fmt.Sprintf("%d steps, %v", r.Steps, r.Violation)
	case r.Done:
		return fmt.Sprintf("%d steps, done", r.Steps)
	case r.Quiescent:
		return fmt.Sprintf("%d steps, quiescent", r.Steps)
	}
	return fmt.Sprintf("%d steps, budget exhausted", r.Steps)
}
