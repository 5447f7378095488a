package scenarios

import (
	"testing"

	"promotesim/scenarios/swarm"

	"github.com/stretchr/testify/require"
)

// Seed 587 (found when standbys, prepared transactions, page reuse and torn
// WAL first ran together): n1's shutdown checkpoint wrote the state file of
// prepared transaction g1; n2, promoted, learned g1 from WAL, so its own
// checkpoint rewrote the file, the sync of that rewrite failed on an
// injected fault and the fixed model removed the "leftover", which was n1's
// good file. n1, restarted, recovered from a redo above the PREPARE and lost
// g1 (PreparedSurvives). The fixed model now keeps a valid file of the same
// gid instead of rewriting it; PolarDB's O_TRUNC rewrite
// (Fidelity.TwoPhaseFileLeftOnWriteError) still destroys it.
// seed587Classes are the classes seed 587 drew in the build that found it
// (before the classes added after checkpoint drew from streams of their
// own); the world of the seed with them on is the one that failed.
const seed587Classes = swarm.ClassStandby | swarm.ClassTwoPhase | swarm.ClassReuse | swarm.ClassTornWAL

func TestFailedStateFileRewriteKeepsTheGoodFile(t *testing.T) {
	sw, err := swarm.DeriveSwarm(587, swarm.Base{With: seed587Classes})
	require.NoError(t, err)
	o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
	require.NoError(t, err)
	require.Nil(t, o.Violation, "seed 587: %s", failureIf(o))
	require.Contains(t, o.Marks, "postmaster/twophase-state-file-written", "the world wrote a state file")
}
