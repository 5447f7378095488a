package scenarios

import (
	"testing"

	"promotesim/scenarios/swarm"

	"github.com/stretchr/testify/require"
)

// An injected I/O error fails the sync of the new primary's LogIndex meta
// write during a checkpoint (the checkpointer PANICs); the rebuilt old
// primary starts as a replica and reads that meta, still visible but not
// durable; then the new primary's host crashes. The replica read the meta
// on the shared media, so the crash leaves it (storage.Device.Crash): the
// replica's BGW must not find a meta that went back. Before that rule the
// crash dropped the write, the BGW PANICked ("meta went back") and
// NoUnexpectedExit excused it as the fault's doing (explore seed 543724).
func TestReplicaReadMetaSurvivesCrashAfterFailedSync(t *testing.T) {
	sw, err := swarm.DeriveSwarm(543724, swarm.Base{})
	require.NoError(t, err)
	o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
	require.NoError(t, err)
	require.Nil(t, o.Violation, "%s", failureIf(o))
}
