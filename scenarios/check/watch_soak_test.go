package check_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/check"
	"promotesim/scenarios/hazard"
	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/swarm"
)

// TestSoakWatchInvisible is TestCheckerWatchIsInvisible's end-to-end half
// at scale (make soak): the swarm worlds of seeds 1..N
// (PROMOTESIM_SOAK_WATCH_SEEDS, default 20000), each in profile v15 and in
// the fixed profile, a seed's hazard taken in turn from none and every
// hazard, end with the same trace hash, step count and first failing
// claim with the per-step checkers' watch as without it, and no node's
// watched values move while its wake condition stands untouched.
func TestSoakWatchInvisible(t *testing.T) {
	n := fixture.SoakSeeds(t, "PROMOTESIM_SOAK_WATCH_SEEDS", 20000)
	names := append([]string{""}, hazard.Names()...)
	worlds, caught := 0, 0
	for seed := uint64(1); seed <= n; seed++ {
		hz := names[seed%uint64(len(names))]
		for _, fixed := range []bool{false, true} {
			sw, err := swarm.DeriveSwarm(seed, swarm.Base{Hazard: hz, Fixed: fixed})
			require.NoError(t, err)
			if requireWatchInvisible(t, sw, fmt.Sprintf("seed %d hazard %q fixed %v", seed, hz, fixed)) {
				caught++
			}
			worlds++
		}
	}
	require.Greater(t, caught, worlds/20, "too few violations for the comparison to mean much")
	t.Logf("%d worlds, %d of them failing, the same with the watch as without it", worlds, caught)
}

// requireWatchInvisible runs sw with the watch off and on (verifying
// untouched nodes) and requires the same end; it reports whether the world
// failed.
func requireWatchInvisible(t *testing.T, sw swarm.Swarm, what string) bool {
	t.Helper()
	plain, _ := runWatched(t, sw, func(k *check.Checks) { check.SetWatchOff(k) })
	watched, wk := runWatched(t, sw, check.VerifyTouches)
	require.NoError(t, check.WatchErr(wk), what)
	require.Equal(t, plain.Hash, watched.Hash, what)
	require.Equal(t, plain.Steps, watched.Steps, what)
	require.Equal(t, plain.Violation == nil, watched.Violation == nil, what)
	if plain.Violation == nil {
		return false
	}
	require.Equal(t, plain.Violation.Checker, watched.Violation.Checker, what)
	return true
}
