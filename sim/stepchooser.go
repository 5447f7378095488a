package sim

// StepChooser is a Chooser that also sees whose steps the scheduler's
// candidates are. The scheduler asks it, instead of Choose, for the one
// choice of site "sched" (which enabled step runs next) whenever there are at
// least two candidates; every other site still goes through Choose and
// Chance. Its answer is an index into the same candidate list Choose would
// index (oldest-waiting first), so a run under any StepChooser, recorded by a
// Recorder, replays under Scripted unchanged, and choice 0 is still the
// boring FIFO step a shrinker moves toward.
type StepChooser interface {
	Chooser
	// ChooseStep returns an index in [0, e.Len()); e.Len() >= 2.
	ChooseStep(site Site, e Enabled) int
}

// ChooseStep asks c for the scheduling choice among e: through ChooseStep
// when c is a StepChooser, through Choose otherwise. A Chooser that wraps
// another (a recorder, a counter) calls it so the inner strategy keeps
// seeing the candidates.
func ChooseStep(c Chooser, site Site, e Enabled) int {
	if sc, ok := c.(StepChooser); ok {
		return sc.ChooseStep(site, e)
	}
	return c.Choose(site, e.Len())
}

// Enabled is a read-only view of the scheduler's candidates for the step
// about to run, valid only during ChooseStep. It is a value holding the
// scheduler, so asking allocates nothing.
type Enabled struct{ s *Scheduler }

// Len returns the number of candidates.
func (e Enabled) Len() int { return len(e.s.cands) }

// Actor returns the actor candidate i is a step of.
func (e Enabled) Actor(i int) ActorID { return e.s.cands[i].actor }

// Message reports whether candidate i delivers a message or a timer (rather
// than being the actor's internal step).
func (e Enabled) Message(i int) bool { return e.s.cands[i].msg >= 0 }

// From returns the sender of candidate i's message (External for posted
// ones, the actor itself for a timer); for an internal step, the actor.
func (e Enabled) From(i int) ActorID {
	c := e.s.cands[i]
	if c.msg < 0 {
		return c.actor
	}
	return e.s.heads[c.msg].from
}

// Last returns the actor that ran the previous step, or -1 before the
// first: running any other actor's step while one of Last's is enabled is a
// preemption.
func (e Enabled) Last() ActorID { return e.s.last }

// Has reports whether actor a has a candidate.
func (e Enabled) Has(a ActorID) bool {
	for i := range e.s.cands {
		if e.s.cands[i].actor == a {
			return true
		}
	}
	return false
}

// Step returns the number of steps run so far.
func (e Enabled) Step() uint64 { return e.s.step }

// Last returns the actor that ran the previous step, or -1 before the first.
func (s *Scheduler) Last() ActorID { return s.last }

// MsgHasher is implemented by messages that hash themselves cheaply;
// StateHash hashes the others by their String.
type MsgHasher interface{ Hash() uint64 }

// StateHash hashes the scheduler's share of a world's state for a state
// search (Search's fingerprint): every actor's name, liveness and hold, the
// actor that ran last (a preemption bound depends on it), and every message
// in flight with its sender, receiver, kind and time left before it is due.
// It leaves out what only renumbers the candidates without changing what can
// happen (the least-recently-run order, the interleaving of different
// channels in send order, absolute time and step numbers), so two states
// that differ only there hash equal: the search explores every candidate
// index from both, whatever their order. Actors' own state is the caller's
// to add.
func (s *Scheduler) StateHash() uint64 {
	h := mix64(uint64(int64(s.last)) ^ 0x5C4ED)
	for i := range s.actors {
		sl := &s.actors[i]
		v := fnv64(sl.name)
		if sl.alive {
			v ^= 1
		}
		if sl.held {
			v ^= 2
		}
		h = mix64(h ^ v)
	}
	// Channels and timers are summed, so the order of heads does not
	// matter; within a channel the messages hash in order.
	var sum uint64
	for i := range s.heads {
		p := &s.heads[i]
		if p.ch < 0 {
			sum += s.hashPending(p, 0)
			continue
		}
		q := &s.chans[p.ch]
		c := s.hashPending(p, 0)
		for j := q.off; j < len(q.wait); j++ {
			c = s.hashPending(&q.wait[j], c)
		}
		sum += c
	}
	return mix64(h ^ sum)
}

func (s *Scheduler) hashPending(p *pending, h uint64) uint64 {
	left := uint64(0)
	if p.at > s.now {
		left = uint64(p.at - s.now)
	}
	var mh uint64
	if mhr, ok := p.m.(MsgHasher); ok {
		mh = mhr.Hash()
	} else {
		mh = fnv64(p.m.String())
	}
	v := uint64(uint32(p.from))<<32 | uint64(uint32(p.to))
	if p.timer {
		v ^= 1 << 63
	}
	return mix64(h ^ mix64(v) ^ mix64(left+0x9E37) ^ mh)
}
