package scenarios

import (
	"testing"

	"promotesim/scenarios/swarm"

	"github.com/stretchr/testify/require"
)

// The primary's walwriter PANICs on an injected WAL write error after
// writing only the first WAL page of a record (wal-write-behind); crash
// recovery finds that aborted contrecord and writes OVERWRITE_CONTRECORD at
// the missing page. The replicas, waiting at the aborted record's start,
// must take the overwrite record the walsender streams next although it
// starts past the position they expect, and read the gap from storage,
// where the reader skips the aborted record (explore seeds 1426, 2060 and
// 2758 once stalled there: ReplicasCatchUp). The walwriter has changed
// since (it syncs a partial write), so these seeds now run other worlds;
// testdata/scripts/torn_wal_crash_recovery.txt pins the path itself.
func TestReplicasFollowOverwriteContrecord(t *testing.T) {
	for _, seed := range []uint64{1426, 2060, 2758} {
		// Found with torn-wal on; the class draws are no longer those of
		// that build (classes were added since), so it is turned on here.
		sw, err := swarm.DeriveSwarm(seed, swarm.Base{Fixed: true, With: swarm.ClassTornWAL})
		require.NoError(t, err)
		require.True(t, sw.Opts.WALWriteBehind, "seed %d runs torn-wal", seed)
		o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
		require.NoError(t, err)
		require.Nil(t, o.Violation, "seed %d: %s", seed, failureIf(o))
	}
}

// Once the walwriter syncs a partial write, the flushed LSN can lie inside
// a record. The walsender then sent a replica the meta of the record
// at its position although its end was past the flush (seed 2221: after a
// power loss took the continuation, the promoted replica had replayed an
// aborted record and inserted below the old end, NoWALBelowOldEnd); it
// now sends a record only once all of it is flushed. And a crash recovery
// took stale bytes of an older WAL at its end of WAL for an aborted
// contrecord (seed 3733: CrashRecovers); a whole header must now link
// back to the last record, as ValidXLogRecordHeader requires.
//
// Seed 13793: a rebuilt replica's catch-up replayed WAL the new primary had
// written but not synced, and the power loss that then dropped it left the
// replica past the end of valid WAL (ReplicaReadsMatchOracle); written WAL
// now survives a power loss, as on PFS (cluster.walCrashKeep).
func TestTornWALRegressions(t *testing.T) {
	for _, seed := range []uint64{1944, 2221, 3733, 4035, 13793} {
		sw, err := swarm.DeriveSwarm(seed, swarm.Base{})
		require.NoError(t, err)
		o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
		require.NoError(t, err)
		require.Nil(t, o.Violation, "seed %d: %s", seed, failureIf(o))
	}
}
