package script

import (
	"testing"

	"promotesim/sim"

	"github.com/stretchr/testify/require"
)

// Whether a promote is still under way does not depend on who asked while
// the node was read-write: a promote that finished stays finished across a
// crash reinitialisation of the node (restart_after_crash under v15), for
// a runner that looked in between (as the swarm's planner does between its
// actions) and for one that did not (a replay of the same commands). The
// two used to disagree: the look deleted the finished request, and without
// it the reinitialised node, read-only again for a while, looked asked to
// promote (F7's hunt, v15 seed 8628, replayed to PromoteCompletes where
// the world had PrimaryServes).
func TestPromotingIsAFactOfTheNode(t *testing.T) {
	run := func(look bool) bool {
		r := NewRunner(1, sim.LevelStory, sim.FormatText)
		for _, line := range []string{"cluster nodes=2 pages=4 profile=v15", "write node=1 page=0", "stop node=1 mode=fast", "promote node=2",
			"run-until read-write node=2 budget=400"} {
			_, err := r.Exec(line)
			require.NoError(t, err, line)
		}
		if look {
			require.False(t, r.Promoting(2), "read-write: the promote is finished")
		}
		for _, line := range []string{"kill node=2 proc=bgwriter", "run steps=3"} {
			_, err := r.Exec(line)
			require.NoError(t, err, line)
		}
		require.False(t, r.C.Node(2).ReadWrite, "the reinitialisation is still under way")
		return r.Promoting(2)
	}
	require.False(t, run(true))
	require.False(t, run(false))
}

// A second crash reinitialisation before the first one's startup opened
// WAL again still finds the promoted node a primary: the node type comes
// from files (replica.signal is gone), not from the fresh memory (which
// brought v15 seed 8628's promoted node back as a replica on its
// read-write mount).
func TestReinitTwiceKeepsPrimary(t *testing.T) {
	r := NewRunner(1, sim.LevelStory, sim.FormatText)
	for _, line := range []string{"cluster nodes=2 pages=4 profile=v15", "stop node=1 mode=fast", "promote node=2",
		"run-until read-write node=2 budget=400"} {
		_, err := r.Exec(line)
		require.NoError(t, err, line)
	}
	n := r.C.Node(2)
	primary, err := n.Reinit()
	require.NoError(t, err)
	require.True(t, primary)
	require.False(t, n.Primary, "fresh shared memory")
	primary, err = n.Reinit()
	require.NoError(t, err)
	require.True(t, primary, "still no replica.signal")
}
