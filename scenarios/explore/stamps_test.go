package explore

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/swarm"
	"promotesim/sim"
)

// stampProbe takes the compiled fingerprint at every scheduling decision
// and counts those in which a stamp field held a value collectStamps did
// not gather (the fingerprint then fell back to absolute steps).
type stampProbe struct {
	sim.Chooser
	w              **exWorld
	hs             *stateHasher
	rng            *sim.Rand
	taken, missing int
}

func (p *stampProbe) ChooseStep(_ sim.Site, e sim.Enabled) int {
	if w := *p.w; w != nil && w.r.C != nil {
		p.hs.fastWorldFingerprint(w.r, w.phase)
		p.taken++
		if p.hs.absolute {
			p.missing++
		}
	}
	return int(p.rng.Uint64() % uint64(e.Len()))
}

// collectStamps gathers every stamp the stamp fields hold, along random
// schedules of the window on both profiles the hazards use: a holder it
// misses costs the search its merges of paths of different lengths.
func TestStampsAllGathered(t *testing.T) {
	for _, base := range []swarm.Base{{}, {Hazard: "reset-after-recovery-done", Fixed: true}} {
		res := &ExhaustiveResult{}
		res.Cluster, res.Before, res.Promote = ExhaustiveWorld(base)
		taken := 0
		for seed := range uint64(30) {
			var w *exWorld
			p := &stampProbe{Chooser: sim.NewScripted(), w: &w, hs: newStateHasher(), rng: sim.NewRand(seed)}
			w, err := buildExWorld(res, p, nil)
			require.NoError(t, err)
			driveWindow(w, res)
			require.Zero(t, p.missing, "seed %d: %d of %d decisions held a stamp not gathered", seed, p.missing, p.taken)
			taken += p.taken
		}
		require.Greater(t, taken, 300, "the probe saw the window's decisions")
	}
}
