package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/hazard"
	"promotesim/scenarios/swarm"
	"promotesim/shmem"
	"promotesim/sim"
)

// wakeBases are the worlds the wake check runs: both profiles as PolarDB
// has them and fixed, every hazard, and each scheduling strategy.
func wakeBases(t *testing.T) []swarm.Base {
	bases := []swarm.Base{
		{Profile: shmem.ProfileV15}, {Profile: shmem.ProfileV15, Fixed: true},
		{Profile: shmem.ProfileV11}, {Profile: shmem.ProfileV11, Fixed: true},
	}
	for _, name := range []string{"pct:d=3", "preempt:k=2"} {
		st, err := sim.ParseStrategy(name)
		require.NoError(t, err)
		bases = append(bases, swarm.Base{Profile: shmem.ProfileV15, Fixed: true, Sched: st})
	}
	for _, hz := range hazard.All() {
		bases = append(bases, swarm.Base{Profile: hz.Profile, Fixed: true, Hazard: hz.Name})
	}
	return bases
}

// Every process names what its Ready reads (sim.Sleeper): in the wake-check
// mode the scheduler asks every process Ready at every step anyway and
// fails the world on a remembered answer that differs from a fresh one, so
// a process that reads memory it does not name is caught here, in the step
// its answer goes stale. The check only adds calls to Ready, which change
// nothing: each world also ends with the trace hash and step count it has
// without the check.
func TestWakeConditionsComplete(t *testing.T) {
	seeds := uint64(40)
	if testing.Short() {
		seeds = 8
	}
	worlds, steps := 0, uint64(0)
	for _, base := range wakeBases(t) {
		for seed := uint64(1); seed <= seeds; seed++ {
			sw, err := swarm.DeriveSwarm(seed, base)
			require.NoError(t, err)
			checked, err := swarm.RunSwarm(sw, swarm.RunConfig{CheckWakes: true})
			require.NoError(t, err)
			if v := checked.Violation; v != nil && strings.Contains(v.Error(), "wake conditions") {
				t.Fatalf("%+v seed %d: %v", base, seed, v)
			}
			plain, err := swarm.RunSwarm(sw, swarm.RunConfig{})
			require.NoError(t, err)
			require.Equal(t, plain.Hash, checked.Hash, "%+v seed %d: the wake check changed the trace", base, seed)
			require.Equal(t, plain.Steps, checked.Steps)
			worlds++
			steps += checked.Steps
		}
	}
	t.Logf("%d worlds, %d steps checked", worlds, steps)
}
