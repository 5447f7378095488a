package scenarios

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
)

// The swarm's standbys (ClassStandby) are promoted, by pg_ctl and by the
// trigger file, written to, crashed and started again as their disk's
// primary, and every such world stays clean: PolarDB's tests 007 and
// 101-105 as seeded worlds. The counts make sure the generator is not
// vacuous. The worlds run v15-fixed: no violation is the claim, and v15's
// findings (docs/findings.md) may end a world early.
func TestSwarmStandbyWorlds(t *testing.T) {
	seeds := uint64(300)
	if testing.Short() {
		seeds = 100
	}
	var worlds, promoted, triggered, restartedPrimary, acked int
	for seed := uint64(1); seed <= seeds; seed++ {
		sw, err := swarm.DeriveSwarm(seed, swarm.Base{Fixed: true})
		require.NoError(t, err)
		if sw.Classes&swarm.ClassStandby == 0 {
			continue
		}
		require.Positive(t, sw.Opts.Standbys, "seed %d: ClassStandby without a standby", seed)
		o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
		require.NoError(t, err)
		if o.Violation != nil {
			t.Fatalf("standby world fails:\n%s", failure(o))
		}
		worlds++
		if slices.Contains(o.Marks, "startup/standby-promote") {
			promoted++
		}
		if slices.Contains(o.Marks, "startup/standby-trigger-file") {
			triggered++
		}
		for _, c := range o.Actions {
			if s, ok := c.(script.Start); ok && s.Role == "primary" && int(s.Node) > sw.Opts.Nodes {
				restartedPrimary++
			}
			if s, ok := c.(script.Submit); ok && int(s.Node) > sw.Opts.Nodes {
				acked++
			}
		}
	}
	t.Logf("%d standby worlds: %d promoted a standby, %d by the trigger file, %d restarts of a promoted standby, %d write commands to one",
		worlds, promoted, triggered, restartedPrimary, acked)
	require.Greater(t, worlds, int(seeds)/4)
	require.Greater(t, promoted, worlds/3)
	require.Positive(t, triggered)
	require.Positive(t, restartedPrimary)
	require.Positive(t, acked)
}
