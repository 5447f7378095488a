package swarm

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/shmem"
)

// A v15-fixed world with every faithful switch is the v15 world of its
// seed: the same options, commands, steps, trace and verdict (the
// configuration test in shmem says the same of the node's flags; this says
// nothing else in a world depends on the profile's name).
func TestAllFaithfulSwitchesRunV15Worlds(t *testing.T) {
	all := strings.Join(shmem.FaithfulNames(), ",")
	failed := 0
	for seed := uint64(80); seed < 110; seed++ {
		v15, err := DeriveSwarm(seed, Base{})
		require.NoError(t, err)
		fx, err := DeriveSwarm(seed, Base{Fixed: true, Faithful: all})
		require.NoError(t, err)
		a, err := RunSwarm(v15, RunConfig{})
		require.NoError(t, err)
		b, err := RunSwarm(fx, RunConfig{})
		require.NoError(t, err)
		require.Equal(t, a.Actions, b.Actions, "seed %d", seed)
		require.Equal(t, a.Steps, b.Steps, "seed %d", seed)
		require.Equal(t, a.Hash, b.Hash, "seed %d", seed)
		require.Equal(t, a.Violation == nil, b.Violation == nil, "seed %d", seed)
		if a.Violation != nil {
			failed++
			require.Equal(t, a.Violation.Checker, b.Violation.Checker)
			require.Equal(t, a.Violation.Step, b.Violation.Step)
		}
	}
	require.Positive(t, failed, "the range holds v15 failures to compare")
}
