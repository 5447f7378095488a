package sim

// Preempt is a bounded-preemption random walk in the style of CHESS
// (Musuvathi and Qadeer, PLDI 2007): the actor that ran the previous step
// keeps running while it has an enabled step; with probability P, and at
// most K times in a run, the walk preempts it and runs a uniformly chosen
// step of another actor instead. When the last actor has nothing enabled
// (it waits for a message, a timer, a lock) the switch is free and uniform.
// Most concurrency bugs need few preemptions, and a walk that rarely
// preempts lets one actor run far ahead, which the uniform scheduler almost
// never does.
//
// Like PCT it counts only decisions with two or more candidates, and after
// Steps of them it leaves scheduling to the inner chooser's uniform draw (a
// long tail stays fair). Every other site is the inner chooser's.
type Preempt struct {
	inner     Chooser
	r         *Rand
	k         int
	p         Prob
	steps     int
	used      int
	decisions int
}

// NewPreempt returns a walk with at most k preemptions, each decision
// preempting with probability p, over an estimated steps decisions, drawing
// from r and leaving every other choice to inner.
func NewPreempt(inner Chooser, r *Rand, k int, p Prob, steps int) *Preempt {
	if k < 0 || steps < 1 || p.Den == 0 || p.Num > p.Den {
		Failf("sim: preemption walk k=%d p=%d/%d over %d steps", k, p.Num, p.Den, steps)
	}
	return &Preempt{inner: inner, r: r, k: k, p: p, steps: steps}
}

// Choose implements Chooser: the inner chooser's.
func (w *Preempt) Choose(site Site, n int) int { return w.inner.Choose(site, n) }

// Chance implements Chooser: the inner chooser's.
func (w *Preempt) Chance(site Site, pr Prob) bool { return w.inner.Chance(site, pr) }

// Preemptions returns how many preemptions the walk has made.
func (w *Preempt) Preemptions() int { return w.used }

// ChooseStep implements StepChooser.
func (w *Preempt) ChooseStep(site Site, e Enabled) int {
	w.decisions++
	if w.decisions > w.steps {
		return ChooseStep(w.inner, site, e)
	}
	n, last := e.Len(), e.Last()
	own := 0
	for i := range n {
		if e.Actor(i) == last {
			own++
		}
	}
	switch {
	case own == 0:
		return w.r.Intn(n) // the last actor is blocked: a free switch
	case own < n && w.used < w.k && w.r.Chance(w.p):
		w.used++
		return nth(e, last, false, w.r.Intn(n-own))
	}
	return nth(e, last, true, w.r.Intn(own))
}

// nth returns the index of the j-th candidate that is (mine) or is not
// (!mine) a step of actor a.
func nth(e Enabled, a ActorID, mine bool, j int) int {
	for i := range e.Len() {
		if (e.Actor(i) == a) == mine {
			if j == 0 {
				return i
			}
			j--
		}
	}
	Failf("sim: no candidate %d", j)
	return 0
}
