package sim_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/sim"
)

func TestCappedPanicsPastMax(t *testing.T) {
	c := &sim.Capped{Inner: sim.NewScripted(1, 1, 1), Max: 2}
	site := sim.Site{}
	require.Equal(t, 0, c.Choose(site, 1), "a forced choice is not counted")
	require.False(t, c.Chance(site, sim.Per(0, 1)), "never is not counted")
	require.Equal(t, 1, c.Choose(site, 3))
	require.Equal(t, 1, c.Choose(site, 3))
	require.PanicsWithValue(t, sim.TooManyChoices{}, func() { c.Choose(site, 3) })
}

func TestGateAnswersZeroWhileClosed(t *testing.T) {
	g := &sim.Gate{Inner: sim.NewScripted(2, 1)}
	site := sim.Site{}
	require.Equal(t, 0, g.Choose(site, 3))
	require.False(t, g.Chance(site, sim.Per(1, 2)))
	g.Open = true
	require.Equal(t, 2, g.Choose(site, 3), "the inner chooser's first answer, not consumed while closed")
	require.True(t, g.Chance(site, sim.Per(1, 2)))
}

func TestPinnedPinsTheFirstRealChoice(t *testing.T) {
	p := &sim.Pinned{First: 1, Inner: sim.NewScripted(2)}
	site := sim.Site{}
	require.Equal(t, 0, p.Choose(site, 1))
	require.False(t, p.Done)
	require.Equal(t, 1, p.Choose(site, 4))
	require.True(t, p.Done)
	require.Equal(t, 4, p.Width)
	require.Equal(t, 2, p.Choose(site, 4), "later choices go to the inner chooser")
	require.True(t, p.Chance(site, sim.Per(1, 1)), "always stays always")

	out := &sim.Pinned{First: 5, Inner: sim.NewScripted()}
	require.Equal(t, 2, out.Choose(site, 3), "beyond the width: the last option, and the caller stops")
	require.Equal(t, 3, out.Width)
}

// Every wrapper is a StepChooser that forwards the candidate view: a
// strategy inside still sees the actors (here a peek chooser that records
// the view and takes the last candidate), rather than being asked Choose.
func TestWrappersForwardChooseStep(t *testing.T) {
	wraps := map[string]func(inner sim.Chooser) sim.Chooser{
		"capped": func(in sim.Chooser) sim.Chooser { return &sim.Capped{Inner: in, Max: 100} },
		"gate":   func(in sim.Chooser) sim.Chooser { return &sim.Gate{Inner: in, Open: true} },
		"pinned": func(in sim.Chooser) sim.Chooser { return &sim.Pinned{First: 0, Inner: in} },
	}
	for _, name := range []string{"capped", "gate", "pinned"} {
		p := &peek{Chooser: sim.NewScripted()}
		w := wraps[name](p)
		if _, ok := w.(sim.StepChooser); !ok {
			t.Fatalf("%s is not a StepChooser", name)
		}
		s := sim.New(sim.Config{Chooser: w})
		s.Add(worker("a", 3))
		s.Add(worker("b", 3))
		for range 4 {
			s.Step()
		}
		if len(p.seen) == 0 {
			t.Fatalf("%s: the inner chooser never saw a candidate view", name)
		}
	}
	// A closed gate answers 0 without asking.
	p := &peek{Chooser: sim.NewScripted()}
	s := sim.New(sim.Config{Chooser: &sim.Gate{Inner: p}})
	s.Add(worker("a", 3))
	s.Add(worker("b", 3))
	s.Step()
	s.Step()
	if len(p.seen) != 0 {
		t.Fatalf("a closed gate asked its inner chooser: %v", p.seen)
	}
	// Capped counts scheduling choices too.
	c := &sim.Capped{Inner: &peek{Chooser: sim.NewScripted()}, Max: 1}
	s = sim.New(sim.Config{Chooser: c})
	s.Add(worker("a", 5))
	s.Add(worker("b", 5))
	defer func() {
		if recover() != (sim.TooManyChoices{}) {
			t.Fatal("Capped did not count scheduling choices")
		}
	}()
	for range 10 {
		s.Step()
	}
}

// Fair leaves scheduling to the strategy until GoFair, then to Uniform,
// and FindFair reaches it through the harness wrappers.
func TestFairSwitchesToUniform(t *testing.T) {
	strat := &peek{Chooser: sim.NewScripted()}
	uni := &peek{Chooser: sim.NewScripted()}
	f := &sim.Fair{Inner: strat, Uniform: uni}
	rec := &sim.Recorder{Inner: &sim.Capped{Inner: &sim.Gate{Inner: f, Open: true}, Max: 100}}
	if sim.FindFair(rec) != f {
		t.Fatal("FindFair does not see through Recorder, Capped and Gate")
	}
	if sim.FindFair(sim.NewScripted()) != nil {
		t.Fatal("FindFair found a Fair in a plain chooser")
	}
	s := sim.New(sim.Config{Chooser: rec})
	s.Add(worker("a", 5))
	s.Add(worker("b", 5))
	s.Step()
	s.Step()
	if len(strat.seen) == 0 || len(uni.seen) != 0 {
		t.Fatalf("before GoFair: strategy saw %d, uniform %d", len(strat.seen), len(uni.seen))
	}
	n := len(strat.seen)
	sim.FindFair(rec).GoFair()
	s.Step()
	s.Step()
	if len(strat.seen) != n || len(uni.seen) == 0 {
		t.Fatalf("after GoFair: strategy saw %d more, uniform %d", len(strat.seen)-n, len(uni.seen))
	}
}
