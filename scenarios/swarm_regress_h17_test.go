package scenarios

import (
	"testing"

	"promotesim/scenarios/swarm"

	"github.com/stretchr/testify/require"
)

// An injected I/O error fails the sync of the new primary's LogIndex meta
// write during a checkpoint (the checkpointer PANICs); the rebuilt old
// primary starts as a replica and reads that meta, still visible but not
// durable; then the new primary's host crashes and drops the write. The
// replica's BGW rereads a meta that went back and PANICs: the fault made
// it, and NoUnexpectedExit excuses it (explore seed 543724).
func TestMetaWentBackAfterFailedMetaSyncIsExcused(t *testing.T) {
	sw, err := swarm.DeriveSwarm(543724, swarm.Base{})
	require.NoError(t, err)
	o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
	require.NoError(t, err)
	require.Nil(t, o.Violation, "%s", failureIf(o))
}
