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
		res, err := CheckExhaustive(context.Background(), ExhaustiveConfig{Base: swarm.Base{Hazard: c.hazard},
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
