package simtest

import (
	"pgregory.net/rapid"

	"promotesim/sim"
)

// Rapid is a sim.Chooser whose every choice is a rapid draw labelled by its
// site. rapid shrinks draws toward 0, and choice 0 is the boring one (the
// step that waited longest, no fault), so a failing property shrinks to a
// short, mostly-FIFO schedule with few faults.
type Rapid struct {
	t    *rapid.T
	gens map[int]*rapid.Generator[int] // by width; looked up, never iterated
}

// NewRapid returns a Chooser drawing from t.
func NewRapid(t *rapid.T) *Rapid { return &Rapid{t: t, gens: make(map[int]*rapid.Generator[int])} }

func (r *Rapid) gen(n int) *rapid.Generator[int] {
	g, ok := r.gens[n]
	if !ok {
		g = rapid.IntRange(0, n-1)
		r.gens[n] = g
	}
	return g
}

// Choose implements sim.Chooser: a draw in [0, n), shrinking toward 0. A
// choice with one option draws nothing, so it does not perturb shrinking.
func (r *Rapid) Choose(site sim.Site, n int) int {
	if n < 1 {
		sim.Failf("simtest: Choose(%s, %d)", site.Label, n)
	}
	if n == 1 {
		return 0
	}
	return r.gen(n).Draw(r.t, site.Label)
}

// Chance implements sim.Chooser. It draws v in [0, Den) and answers
// v >= Den-Num, so the answer is true for Num of the Den values and shrinking
// (v toward 0) moves toward false: the fault disappears. rapid biases its draws
// toward small and edge values, so the frequency of true only roughly follows
// p. Impossible and certain events draw nothing.
func (r *Rapid) Chance(site sim.Site, p sim.Prob) bool {
	if p.Num == 0 {
		return false
	}
	if p.Num >= p.Den {
		return true
	}
	d := int(p.Den)
	return r.gen(d).Draw(r.t, site.Label) >= d-int(p.Num)
}
