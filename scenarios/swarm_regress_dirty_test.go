package scenarios

import (
	"testing"

	"promotesim/scenarios/swarm"

	"github.com/stretchr/testify/require"
)

// A backend waits for LogIndex room while saving is stalled; once it may go
// on, it inserts its page record and indexes it, which flushes WAL to save
// the full memtables, and that fsync fails: the backend PANICs. Before the
// fix the buffer was changed and marked dirty only after indexing, so in the
// step before the postmaster reaped the PANIC the bgwriter saw no dirty
// buffer and published the insert position as the consistent LSN, past a
// record whose change was in no buffer and not on storage (explore seeds
// 349845, 384647 and 570276, ConsistentLSNDurable). The page is now changed
// and dirtied before anything after the WAL insert can fail, as heap_insert
// does with MarkBufferDirty inside its critical section before XLogInsert.
func TestPageDirtyBeforeIndexingCanPanic(t *testing.T) {
	for _, seed := range []uint64{349845, 384647, 570276} {
		sw, err := swarm.DeriveSwarm(seed, swarm.Base{})
		require.NoError(t, err)
		o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
		require.NoError(t, err)
		require.Nil(t, o.Violation, "seed %d: %s", seed, failureIf(o))
	}
}
