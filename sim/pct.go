package sim

import "slices"

// PCT is the probabilistic concurrency testing scheduler of Burckhardt,
// Kothari, Musuvathi and Nagarakatte (ASPLOS 2010), as awslabs/shuttle's
// PctScheduler runs it: every actor gets a random priority, the enabled step
// of the highest-priority actor runs, and at d-1 change points, drawn
// uniformly over the first Steps scheduling decisions, the actor about to
// run drops to a priority below every other (the j-th change point to d-j).
// A bug of depth d (d ordering constraints) is then found with probability at
// least 1/(n·k^(d-1)) per run, n actors, k decisions; under the uniform
// scheduler a bug that needs one actor to stay ahead for m steps is 2^-m
// rare.
//
// Priorities are a hash of (stream seed, actor id), so they cost no state and
// an actor spawned later (a restarted process) gets its own random priority,
// as a new task does in shuttle. Among one actor's candidates (its internal
// step, messages from several senders, timers) a second, fixed per-run hash
// of (actor, sender) picks, so runs differ in which input an actor takes
// first. Decisions are counted only where there is a choice (two or more
// candidates). After Steps decisions PCT stops interfering and the inner
// chooser's uniform draw decides, so a long liveness phase after the window
// of interest stays fair instead of starving every low-priority actor.
//
// Every other site (faults, chances, worker picks) is the inner chooser's.
type PCT struct {
	inner     Chooser
	seed      uint64 // priorities: hash of (seed, actor)
	depth     int
	steps     int
	change    []int // decision numbers of the change points, ascending
	next      int   // the next change point in change
	lowered   []lowered
	prio      []uint64 // by actor: the current priority; 0 until first asked
	decisions int
}

type lowered struct {
	actor ActorID
	prio  uint64
}

// NewPCT returns a PCT scheduler with depth d (d-1 change points) over an
// estimated steps scheduling decisions, drawing its priorities and change
// points from r and leaving every other choice to inner.
func NewPCT(inner Chooser, r *Rand, d, steps int) *PCT {
	if d < 1 || steps < 1 {
		Failf("sim: PCT depth %d over %d steps", d, steps)
	}
	p := &PCT{inner: inner, seed: r.Fork("priorities").Seed(), depth: d, steps: steps}
	cr := r.Fork("change-points")
	for len(p.change) < d-1 && len(p.change) < steps {
		c := 1 + cr.Intn(steps)
		if !slices.Contains(p.change, c) {
			p.change = append(p.change, c)
		}
	}
	slices.Sort(p.change)
	p.lowered = make([]lowered, 0, d)
	return p
}

// Choose implements Chooser: the inner chooser's.
func (p *PCT) Choose(site Site, n int) int { return p.inner.Choose(site, n) }

// Chance implements Chooser: the inner chooser's.
func (p *PCT) Chance(site Site, pr Prob) bool { return p.inner.Chance(site, pr) }

// ChooseStep implements StepChooser: the step of the highest-priority
// enabled actor, after applying a change point that falls on this decision.
func (p *PCT) ChooseStep(site Site, e Enabled) int {
	p.decisions++
	if p.decisions > p.steps {
		return ChooseStep(p.inner, site, e)
	}
	best := p.pick(e)
	for p.next < len(p.change) && p.change[p.next] == p.decisions {
		p.next++
		p.lower(e.Actor(best), uint64(p.depth-p.next))
		best = p.pick(e)
	}
	return best
}

// ChangePoints returns the decisions at which priorities change (for tests
// and the explorer's report).
func (p *PCT) ChangePoints() []int { return slices.Clone(p.change) }

// Priority returns actor a's current priority; higher runs first.
func (p *PCT) Priority(a ActorID) uint64 {
	if int(a) < len(p.prio) && p.prio[a] != 0 {
		return p.prio[a]
	}
	for _, l := range p.lowered {
		if l.actor == a {
			return l.prio
		}
	}
	// Initial priorities have the top bit set: above every lowered one
	// (those are below d). They are cached by actor: a step ranks every
	// candidate, and a hash each would cost more than the rest of PCT.
	v := mix64(p.seed^uint64(uint32(a))) | 1<<63
	for len(p.prio) <= int(a) {
		p.prio = append(p.prio, 0)
	}
	p.prio[a] = v
	return v
}

func (p *PCT) lower(a ActorID, prio uint64) {
	if int(a) < len(p.prio) {
		p.prio[a] = 0 // the lowered list now decides
	}
	for i := range p.lowered {
		if p.lowered[i].actor == a {
			p.lowered[i].prio = prio
			return
		}
	}
	p.lowered = append(p.lowered, lowered{a, prio})
}

// pick returns the candidate of the highest-priority actor; among its
// candidates, the one whose (actor, sender) lane hashes highest; ties (the
// same lane: only timers of one actor) go to the oldest.
func (p *PCT) pick(e Enabled) int {
	best, bestPrio, bestLane := -1, uint64(0), uint64(0)
	var cur ActorID = -1
	var curPrio uint64
	for i := range e.Len() {
		a := e.Actor(i)
		if a != cur {
			cur, curPrio = a, p.Priority(a)
		}
		switch {
		case best < 0 || curPrio > bestPrio:
			best, bestPrio, bestLane = i, curPrio, 0
			if i+1 < e.Len() {
				bestLane = p.lane(a, e, i) // only ties with its own steps need it
			}
		case curPrio == bestPrio:
			if lane := p.lane(a, e, i); lane > bestLane {
				best, bestLane = i, lane
			}
		}
	}
	return best
}

func (p *PCT) lane(a ActorID, e Enabled, i int) uint64 {
	from := uint64(uint32(e.From(i)))
	if !e.Message(i) {
		from = 1 << 40 // the internal step is its own lane
	}
	return mix64(p.seed ^ 0x1A4E ^ uint64(uint32(a))<<44 ^ from)
}
