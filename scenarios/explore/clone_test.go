package explore

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/swarm"
	"promotesim/sim"
)

// listChooser answers every choice from a fixed list, cyclically: a chooser
// with state of its own, which a copy of the world copies with it.
type listChooser struct {
	choices []int
	pos     int
}

func (c *listChooser) next(n int) int {
	v := c.choices[c.pos%len(c.choices)] % n
	c.pos++
	return v
}

func (c *listChooser) Choose(_ sim.Site, n int) int { return c.next(n) }
func (c *listChooser) Chance(_ sim.Site, p sim.Prob) bool {
	return p.Num > 0 && c.next(int(p.Den)) < int(p.Num)
}
func (c *listChooser) ChooseStep(_ sim.Site, e sim.Enabled) int { return c.next(e.Len()) }

// outcome is everything a finished run shows: its trace's hash and length,
// its step, its violation and the commands it ran.
func outcome(w *exWorld, v *sim.Violation) string {
	s := w.r.C.S
	return fmt.Sprintf("trace %x/%d step %d phase %d violation %v ran %v", s.Trace().Hash(), s.Trace().Count(), s.StepNo(), w.phase, v, w.ran)
}

// A copy of a world continues byte for byte as the original does: copied
// at the promote or k steps into the window, under many schedules, both
// reach the same trace (hash and length), step, violation and commands,
// and the same fingerprint on the way; and a copy shares nothing with its
// original (running the copy leaves the original's fingerprint alone).
func TestCloneContinuesIdentically(t *testing.T) {
	for _, hz := range []string{"", "skip-wait-reset"} {
		res := &ExhaustiveResult{}
		res.Cluster, res.Before, res.Promote = ExhaustiveWorld(swarm.Base{Hazard: hz, Fixed: hz != ""})
		cp, hs := newCopier(), newStateHasher()
		for seed := range uint64(30) {
			rng := sim.NewRand(seed + 1)
			ch := &listChooser{}
			for range 64 {
				ch.choices = append(ch.choices, int(rng.Uint64()%7))
			}
			w, err := buildExWorld(res, ch, nil)
			require.NoError(t, err)
			if seed%2 == 1 { // k steps into the window
				w.gate.Open = true
				w.exec(res.Promote)
				w.phase = 1
				w.r.C.S.Run(int(seed))
			}
			c, err := cloneWorld(cp, w)
			require.NoError(t, err)
			require.NotSame(t, w.r.C.S, c.r.C.S)
			fp := hs.fastWorldFingerprint(w.r, w.phase)
			require.Equal(t, fp, hs.fastWorldFingerprint(c.r, c.phase), "seed %d: the copy's state", seed)
			var vc *sim.Violation
			if seed%2 == 1 {
				vc = c.r.C.S.Run(300).Violation
			} else {
				vc = driveWindow(c, res)
			}
			require.Equal(t, fp, hs.fastWorldFingerprint(w.r, w.phase), "seed %d: running the copy changed the original", seed)
			var vw *sim.Violation
			if seed%2 == 1 {
				vw = w.r.C.S.Run(300).Violation
			} else {
				vw = driveWindow(w, res)
			}
			require.Equal(t, outcome(w, vw), outcome(c, vc), "seed %d hazard %q", seed, hz)
		}
	}
}
