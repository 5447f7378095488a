package sim

import "slices"

// Read-only views of the scheduler for observers outside the model (the
// step-through viewer): they change nothing, draw nothing and emit nothing,
// so a run observed through them keeps its trace byte for byte. Nothing in
// the model calls them; they cost nothing when unused.

// Candidate is one step the scheduler could take next: an actor's internal
// step, or the delivery of message Msg to it. It is the same candidate an
// Enabled view shows a StepChooser while the step is being chosen, but
// copied out, so it can be kept after the step (Enabled is valid only
// during ChooseStep).
type Candidate struct {
	Actor ActorID
	Name  string
	Msg   string // "" for an internal step
}

// NumActors returns how many actors were ever added (ids 0..n-1, dead ones
// included).
func (s *Scheduler) NumActors() int { return len(s.actors) }

// Candidates lists the steps the next Step could take, in the order the
// Chooser indexes them (the order of the Enabled view the next ChooseStep
// gets): choice i runs Candidates()[i]. It mirrors collect without its
// side effects: messages to dead actors (which collect would drop) are
// skipped, and when nothing is due now it lists what is due at the next
// deadline (where Step would jump).
func (s *Scheduler) Candidates() []Candidate {
	var cands []candidate
	due := func(at Time) []candidate {
		var out []candidate
		for i := range s.heads {
			p := &s.heads[i]
			if sl := &s.actors[p.to]; sl.held || !sl.alive {
				continue
			}
			if p.at <= at {
				out = append(out, candidate{since: p.sentStep, msg: i, actor: p.to, seq: p.seq})
			}
		}
		return out
	}
	cands = due(s.now)
	for id := s.lruHead; id >= 0; id = s.actors[id].next {
		sl := &s.actors[id]
		if sl.alive && !sl.held && sl.a.Ready() {
			cands = append(cands, candidate{since: sl.lastRun, msg: -1, actor: id})
		}
	}
	if len(cands) == 0 {
		var next Time
		found := false
		for i := range s.heads {
			p := &s.heads[i]
			if sl := &s.actors[p.to]; sl.held || !sl.alive {
				continue
			}
			if !found || p.at < next {
				next, found = p.at, true
			}
		}
		if found {
			cands = due(next)
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		switch {
		case a.before(b):
			return -1
		case b.before(a):
			return 1
		}
		return 0
	})
	out := make([]Candidate, len(cands))
	for i, c := range cands {
		out[i] = Candidate{Actor: c.actor, Name: s.actors[c.actor].name}
		if c.msg >= 0 {
			out[i].Msg = s.heads[c.msg].m.String()
		}
	}
	return out
}
