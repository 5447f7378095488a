package swarm

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/sim"
)

// -sched swarm: each seed derives its strategy from its own fork, so the
// options, classes and program length are the ones the seed derives under
// a fixed strategy, and the derived strategies cover all three kinds.
func TestSwarmDerivesStrategyPerSeed(t *testing.T) {
	kinds := map[sim.StrategyKind]int{} // counted only
	for seed := uint64(1); seed <= 60; seed++ {
		fixed, err := DeriveSwarm(seed, Base{})
		require.NoError(t, err)
		sw, err := DeriveSwarm(seed, Base{Sched: sim.Strategy{Kind: sim.Swarm}})
		require.NoError(t, err)
		require.Equal(t, fixed.Opts, sw.Opts, "seed %d", seed)
		require.Equal(t, fixed.Classes, sw.Classes, "seed %d", seed)
		require.Equal(t, fixed.Actions, sw.Actions, "seed %d", seed)
		require.NotEqual(t, sim.Swarm, sw.Sched.Kind, "a world's strategy is concrete")
		require.NoError(t, sw.Sched.Validate())
		require.Equal(t, "random", fixed.Cluster().Sched, "uniform worlds keep their old cluster line")
		again, err := DeriveSwarm(seed, Base{Sched: sim.Strategy{Kind: sim.Swarm}})
		require.NoError(t, err)
		require.Equal(t, sw.Sched, again.Sched, "derivation is deterministic")
		kinds[sw.Sched.Kind]++
	}
	require.Len(t, kinds, 3, "uniform, pct and preempt all derived: %v", kinds)
}

// A world under a strategy records it in its cluster line, so replaying
// the line and the commands (what a counterexample file holds) repeats the
// run byte for byte; the strategy really changes the schedule; and the
// shrinker's wrapping (a capped recorder) does not hide the candidates
// from it: the run is the same.
func TestStrategyWorldReplays(t *testing.T) {
	differs := 0
	for _, text := range []string{"pct:d=3,steps=500", "preempt:k=2,steps=500"} {
		st, err := sim.ParseStrategy(text)
		require.NoError(t, err)
		for seed := uint64(1); seed <= 3; seed++ {
			sw, err := DeriveSwarm(seed, Base{Sched: st})
			require.NoError(t, err)
			require.Equal(t, text, sw.Cluster().Sched)
			o, err := RunSwarm(sw, RunConfig{})
			require.NoError(t, err)
			back, err := Replay(o.Cluster, o.Actions, seed, RunConfig{})
			require.NoError(t, err)
			require.Equal(t, o.Hash, back.Hash, "%s seed %d: the replay repeats the run", text, seed)
			rec := &sim.Recorder{Inner: o.Cluster.Chooser(seed)}
			wrapped, err := Replay(o.Cluster, o.Actions, seed, RunConfig{Chooser: &sim.Capped{Inner: rec, Max: 1 << 30}})
			require.NoError(t, err)
			require.Equal(t, o.Hash, wrapped.Hash, "%s seed %d: a wrapped strategy still sees the candidates", text, seed)
			scripted, err := Replay(o.Cluster, o.Actions, seed, RunConfig{Chooser: sim.NewScripted(rec.Choices...)})
			require.NoError(t, err)
			require.Equal(t, o.Hash, scripted.Hash, "%s seed %d: its recorded choices replay under Scripted", text, seed)
			uni, err := DeriveSwarm(seed, Base{})
			require.NoError(t, err)
			u, err := RunSwarm(uni, RunConfig{})
			require.NoError(t, err)
			if u.Hash != o.Hash {
				differs++
			}
		}
	}
	require.Positive(t, differs, "a strategy changes some seed's schedule")
}

// Seed 2080 under -sched swarm (preempt:k=1,steps=5000) was a false
// alarm of PrimaryServes: the walk starved n1's postmaster, so an
// immediate stop sat unhandled for 3,000 steps, the stop command's wait
// gave up, and the liveness phase picked n1, about to go down, as its
// primary. Liveness now lets a pending stop finish and schedules fairly.
func TestSwarmSeed2080PendingStop(t *testing.T) {
	sw, err := DeriveSwarm(2080, Base{Sched: sim.Strategy{Kind: sim.Swarm}})
	require.NoError(t, err)
	require.Equal(t, "preempt:k=1,steps=5000", sw.Sched.String())
	o, err := RunSwarm(sw, RunConfig{})
	require.NoError(t, err)
	require.Nil(t, o.Violation, "%v", o.Violation)
}
