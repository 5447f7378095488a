package sim_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/sim"
)

// spy is a step chooser that picks by a seeded stream and remembers the
// scheduler's last choice: its value and the Enabled view it was made
// from (each candidate's actor, and whether it delivers a message).
type spy struct {
	inner  *sim.Random
	n, v   int
	actors []sim.ActorID
	msgs   []bool
}

func (s *spy) Choose(site sim.Site, n int) int { return s.inner.Choose(site, n) }

func (s *spy) ChooseStep(site sim.Site, e sim.Enabled) int {
	s.n, s.v = e.Len(), s.inner.Choose(site, e.Len())
	s.actors, s.msgs = s.actors[:0], s.msgs[:0]
	for i := range e.Len() {
		s.actors = append(s.actors, e.Actor(i))
		s.msgs = append(s.msgs, e.Message(i))
	}
	return s.v
}

func (s *spy) Chance(site sim.Site, p sim.Prob) bool { return s.inner.Chance(site, p) }

// Candidates lists exactly the candidates Step chooses among, in choice
// order (entry for entry the Enabled view a StepChooser gets), and changes
// nothing: a world observed before every step (timers, messages, held and
// killed actors) runs as one that is not, hash for hash.
func TestCandidatesAreWhatStepChoosesFrom(t *testing.T) {
	build := func(ch sim.Chooser) (*sim.Scheduler, *[]sim.ActorID) {
		s := sim.New(sim.Config{Seed: 7, Chooser: ch})
		ran := &[]sim.ActorID{}
		ids := make([]sim.ActorID, 0, 5)
		for i := range 5 {
			n := 0
			a := &toy{name: "a" + string(rune('0'+i)),
				ready: func() bool { return n < 40 && n%3 != 2 },
				step: func(c *sim.Ctx) {
					*ran = append(*ran, c.Self())
					n++
					c.Send(ids[(i+1)%5], msg("ping"))
					if n%2 == 0 {
						c.Wake(msg("tick"), 3)
					}
				}}
			a.recv = func(c *sim.Ctx, m sim.Msg) {
				*ran = append(*ran, c.Self())
				if m.String() == "tick" {
					n++
				}
			}
			ids = append(ids, s.Add(a))
		}
		return s, ran
	}
	sp := &spy{inner: sim.NewRandom(7)}
	s, ran := build(sp)
	checked := 0
	for step := 0; step < 400; step++ {
		if step == 20 {
			s.Hold(2)
		}
		if step == 40 {
			s.Kill(3)
		}
		if step == 60 {
			s.Release(2)
		}
		en := s.Candidates()
		sp.n = 1
		before := len(*ran)
		ok, v := s.Step()
		require.Nil(t, v)
		if !ok {
			require.Empty(t, en, "quiescent but Candidates listed %v", en)
			break
		}
		require.Len(t, en, sp.n, "step %d: Candidates %v", step, en)
		pick := 0
		if sp.n > 1 {
			pick = sp.v
			for i, c := range en {
				require.Equal(t, sp.actors[i], c.Actor, "step %d: candidate %d's actor", step, i)
				require.Equal(t, sp.msgs[i], c.Msg != "", "step %d: candidate %d delivers a message", step, i)
			}
		}
		require.Greater(t, len(*ran), before)
		require.Equal(t, en[pick].Actor, (*ran)[len(*ran)-1], "step %d ran another candidate than Candidates()[%d]", step, pick)
		checked++
	}
	require.Greater(t, checked, 50)
	// Observing changes nothing: the same world without Candidates.
	s2, _ := build(&spy{inner: sim.NewRandom(7)})
	for step := 0; step < 400; step++ {
		if step == 20 {
			s2.Hold(2)
		}
		if step == 40 {
			s2.Kill(3)
		}
		if step == 60 {
			s2.Release(2)
		}
		if ok, _ := s2.Step(); !ok {
			break
		}
	}
	require.Equal(t, s2.Trace().Hash(), s.Trace().Hash())
	require.Equal(t, s2.StepNo(), s.StepNo())
}
