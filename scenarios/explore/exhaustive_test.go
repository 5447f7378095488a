package explore

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/swarm"
	"promotesim/sim"
)

// The stateful search catches each hazard the issue names, on the default
// small world, and writes a file whose replay fails the same way:
// insert-lsn-during-promote and reset-after-recovery-done on the FIFO
// branch, skip-wait-reset on the non-preemptive one (the startup process
// running on while the BGW has not handled its signal).
func TestExhaustiveCatchesHazards(t *testing.T) {
	cases := []struct {
		hazard, checker string
		bound           bool
	}{
		{"insert-lsn-during-promote", "ConsistentLSNDurable", false},
		{"reset-after-recovery-done", "ConsistentLSNDurable", false},
		{"skip-wait-reset", "BGWLegalTransitions", true},
	}
	for _, c := range cases {
		res, err := CheckExhaustive(context.Background(), ExhaustiveConfig{Base: swarm.Base{Hazard: c.hazard, Fixed: true},
			BoundPreemptions: c.bound, StopAtFirst: true, MaxStates: 5000})
		require.NoError(t, err)
		require.NotNil(t, res.Shortest, "%s not caught: %v", c.hazard, res.Search)
		require.Equal(t, c.checker, res.Shortest.Checker, c.hazard)
		require.Equal(t, c.hazard, res.Shortest.Hazard)
		path, err := SaveCounterexample(t.TempDir(), res.Shortest)
		require.NoError(t, err)
		f, err := ReadCounterexample(path)
		require.NoError(t, err)
		v := f.Replay(nil, sim.LevelStory, sim.FormatText)
		require.NotNil(t, v, "%s: the file does not fail on replay", c.hazard)
		require.Equal(t, c.checker, v.Checker)
	}
}

// The clean model holds on every non-preemptive schedule of the window
// searched within a budget of states, and the search really branches:
// more than one schedule closes the window, and states repeat (pruned).
func TestExhaustiveCleanHolds(t *testing.T) {
	res, err := CheckExhaustive(context.Background(), ExhaustiveConfig{BoundPreemptions: true, MaxStates: 1500})
	require.NoError(t, err)
	require.Nil(t, res.Shortest, "the clean model fails: %v", res.Search)
	require.GreaterOrEqual(t, res.Search.States, 1500)
	require.Greater(t, res.Closed, 1)
	require.Positive(t, res.Search.Revisits)
	require.Greater(t, res.WindowSteps, 20, "the search reaches through the window")
}

// The fingerprint is a function of the state: the same world built twice
// hashes the same, and a step that changes it changes the hash.
func TestFingerprintFollowsState(t *testing.T) {
	res := &ExhaustiveResult{}
	res.Cluster, res.Before, res.Promote = ExhaustiveWorld(swarm.Base{})
	a, err := buildExWorld(res, sim.NewScripted(), nil)
	require.NoError(t, err)
	b, err := buildExWorld(res, sim.NewScripted(), nil)
	require.NoError(t, err)
	hs := newStateHasher()
	fa := hs.worldFingerprint(a.r, 0, nil)
	require.Equal(t, fa, hs.worldFingerprint(a.r, 0, nil), "hashing does not change the state")
	require.Equal(t, fa, hs.worldFingerprint(b.r, 0, nil), "two builds of one world")
	require.NotEqual(t, fa, hs.worldFingerprint(a.r, 1, nil), "the window's phase is state")
	a.exec(res.Promote)
	a.r.C.S.Run(3)
	require.NotEqual(t, fa, hs.worldFingerprint(a.r, 0, nil), "a promote changes the state")
}

// probeLeaves records every fingerprint leaf at each scheduling decision
// of a FIFO run (choice 0 each time).
type probeLeaves struct {
	sim.Chooser
	w     **exWorld
	hs    *stateHasher
	snaps []map[string]uint64
}

func (p *probeLeaves) ChooseStep(_ sim.Site, _ sim.Enabled) int {
	m := map[string]uint64{}
	p.hs.worldFingerprint((*p.w).r, (*p.w).phase, m)
	p.snaps = append(p.snaps, m)
	return 0
}

// No leaf of the fingerprint is a counter: along a FIFO run of the window
// no field takes a new value at most decisions, as a step number, a
// sequence number or an absolute time would (each would make every state
// distinct and the search prune nothing). A new such field fails here;
// leave it out in skipFields, after checking no step depends on it.
func TestFingerprintHasNoCounters(t *testing.T) {
	res := &ExhaustiveResult{}
	res.Cluster, res.Before, res.Promote = ExhaustiveWorld(swarm.Base{})
	var w *exWorld
	p := &probeLeaves{Chooser: sim.NewScripted(), w: &w, hs: newStateHasher()}
	w, err := buildExWorld(res, p, nil)
	require.NoError(t, err)
	require.Nil(t, driveWindow(w, res))
	require.Greater(t, len(p.snaps), 10)
	values := map[string]map[uint64]bool{} // looked up only
	for _, snap := range p.snaps {
		for k, v := range snap { // determinism:ok only counted
			if values[k] == nil {
				values[k] = map[uint64]bool{}
			}
			values[k][v] = true
		}
	}
	require.Greater(t, len(values), 100, "the walk reaches the world's fields")
	for k, vs := range values { // determinism:ok a failure names any one
		require.LessOrEqual(t, len(vs), len(p.snaps)/2, "%s changes at almost every decision: a counter?", k)
	}
}

// fastCheck is a chooser that, at every scheduling decision, compares the
// compiled fingerprint with the reflective one and then picks a candidate
// by a seeded generator.
type fastCheck struct {
	sim.Chooser
	w        **exWorld
	ref, hs  *stateHasher
	rng      *sim.Rand
	compared int
	t        *testing.T
}

func (p *fastCheck) ChooseStep(_ sim.Site, e sim.Enabled) int {
	w := *p.w
	if w != nil && w.r.C != nil {
		ref := p.ref.worldFingerprint(w.r, w.phase, nil)
		require.Equal(p.t, ref, p.hs.fastWorldFingerprint(w.r, w.phase), "decision %d", p.compared)
		p.compared++
	}
	return int(p.rng.Uint64() % uint64(e.Len()))
}

// The compiled fingerprint is the reflective one, bit for bit, at every
// scheduling decision of random schedules of the window (so the search's
// states, counted by either, are the same), and it is faster.
func TestFastFingerprintMatchesReflective(t *testing.T) {
	res := &ExhaustiveResult{}
	res.Cluster, res.Before, res.Promote = ExhaustiveWorld(swarm.Base{})
	ref, hs := newStateHasher(), newStateHasher()
	total := 0
	for seed := range uint64(40) {
		var w *exWorld
		p := &fastCheck{Chooser: sim.NewScripted(), w: &w, ref: ref, hs: hs, rng: sim.NewRand(seed), t: t}
		w, err := buildExWorld(res, p, nil)
		require.NoError(t, err)
		driveWindow(w, res)
		total += p.compared
	}
	require.Greater(t, total, 400)
}

// Split between workers, the search still catches a hazard with a file
// that replays, holds on the clean model within a budget of states, and
// counts what it split off; the race detector (make race) runs it with
// the workers sharing their store.
func TestExhaustiveParallel(t *testing.T) {
	res, err := CheckExhaustive(context.Background(), ExhaustiveConfig{Base: swarm.Base{Hazard: "skip-wait-reset", Fixed: true},
		BoundPreemptions: true, StopAtFirst: true, MaxStates: 20000, Workers: 2})
	require.NoError(t, err)
	require.NotNil(t, res.Shortest, "skip-wait-reset not caught on 2 workers: %v", res.Search)
	require.Equal(t, "BGWLegalTransitions", res.Shortest.Checker)
	path, err := SaveCounterexample(t.TempDir(), res.Shortest)
	require.NoError(t, err)
	f, err := ReadCounterexample(path)
	require.NoError(t, err)
	v := f.Replay(nil, sim.LevelStory, sim.FormatText)
	require.NotNil(t, v, "the file does not fail on replay")
	require.Equal(t, "BGWLegalTransitions", v.Checker)

	res, err = CheckExhaustive(context.Background(), ExhaustiveConfig{BoundPreemptions: true, MaxStates: 3000, Workers: 2})
	require.NoError(t, err)
	require.Nil(t, res.Shortest, "the clean model fails on 2 workers: %v", res.Search)
	require.GreaterOrEqual(t, res.Search.States, 3000)
	require.Positive(t, res.Search.Split, "nothing was split off")
	require.Positive(t, res.Closed)
	require.False(t, res.Search.Complete, "a search cut by -max-states is not complete")
}
