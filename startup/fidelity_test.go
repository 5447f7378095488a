package startup_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/startup"
	"promotesim/storage"
)

// TestFaithfulCheckBeforeRestartpoint pins point 4 of issue 10
// (Fidelity.CheckEndBeforeRestartpoint): PolarDB 15 runs
// polar_check_before_promote in FinishWalRecovery before the restartpoint
// and the wait for the BGW. An old primary that writes again while startup
// waits in P3 is then not caught: startup opens its WAL at E and writes its
// end-of-recovery record over the old primary's record there. The fixed
// order (TestRecordAfterEndPanics) PANICs instead.
func TestFaithfulCheckBeforeRestartpoint(t *testing.T) {
	w := newWorld(t, worldOpts{scripted: true, fidelity: shmem.Fidelity{CheckEndBeforeRestartpoint: true}})
	w.writeSome(3)
	w.startReplica()
	w.run(500, w.inState(startup.StateStreaming))
	w.promote(false)
	w.run(500, w.inState(startup.StateEndOfWAL))
	w.run(1, nil)
	require.Equal(t, startup.StateRestartpoint, w.proc.State(), "the end check comes before P2")
	w.run(500, w.inState(startup.StateWaitReset))
	end, last := w.proc.End()
	w.stopped = false // it was never really stopped
	w.writeSome(1)
	var rec logindex.Record
	require.NoError(t, w.n.Reader.Read(end, last, &rec), "the old primary's record is at E")
	require.NoError(t, w.n.Index.SetWritable())
	w.n.BGW.EnterWaitingReset()
	w.run(500, w.exited)
	require.Empty(t, w.exits.Of(w.n)[:len(w.exits.Of(w.n))-1])
	require.Equal(t, shmem.ExitNormal, w.exits.Of(w.n)[len(w.exits.Of(w.n))-1].Kind, "no PANIC: %v", w.exits.Of(w.n))
	require.False(t, w.n.InRecovery)
	require.Greater(t, w.n.WAL.InsertLSN(), end, "the new primary's WAL starts at E, over the old primary's record")
}

// resetWorld streams a replica that caches page 0, then lets the primary
// change page 0 (the pooled copy becomes outdated) and checkpoint, so at
// promote the restartpoint's redo is above both the pooled page's LSN and
// the BGW replay point: polar_reset_bg_replayed_lsn must evict it.
func resetWorld(t *testing.T, fid shmem.Fidelity, pin bool) (*world, storage.BufferID) {
	t.Helper()
	w := newWorld(t, worldOpts{scripted: true, fidelity: fid})
	w.writeSome(2)
	w.startReplica()
	w.run(500, w.inState(startup.StateStreaming))
	id, _, err := w.n.Buffer(w.s, storage.PageID{Rel: rel, Block: 0})
	require.NoError(t, err)
	w.txn([]int{0}, false)
	w.checkpoint()
	w.run(500, w.drained)
	require.True(t, w.n.Pool.Get(id).Outdated)
	if pin {
		w.n.Pool.Pin(id) // a reader promote did not wait for
	}
	w.promote(true)
	w.run(2000, w.exited)
	return w, id
}

// TestFaithfulResetEvictPanics pins point 2's reset side
// (Fidelity.PromoteReplayFromConsistent): polar_online_promote_evict_buffer
// PANICs when an outdated buffer below the redo cannot be evicted (here: a
// pin), where the fixed model skips it; unpinned, it is evicted in both.
func TestFaithfulResetEvictPanics(t *testing.T) {
	faithful := shmem.Fidelity{PromoteReplayFromConsistent: true}
	w, _ := resetWorld(t, faithful, true)
	last := w.exits.Of(w.n)[len(w.exits.Of(w.n))-1]
	require.Equal(t, shmem.ExitPANIC, last.Kind)
	require.Contains(t, last.Err, "failed to evict buffer")

	w, id := resetWorld(t, shmem.Fidelity{}, true)
	require.Equal(t, shmem.ExitNormal, w.exits.Of(w.n)[len(w.exits.Of(w.n))-1].Kind)
	require.True(t, w.n.Pool.Get(id).Valid, "the fixed model skips the pinned buffer")

	for _, fid := range []shmem.Fidelity{faithful, {}} {
		w, _ = resetWorld(t, fid, false)
		require.Equal(t, shmem.ExitNormal, w.exits.Of(w.n)[len(w.exits.Of(w.n))-1].Kind)
		_, pooled := w.n.Pool.Lookup(storage.PageID{Rel: rel, Block: 0})
		require.False(t, pooled, "the stale copy is evicted")
	}
}

// TestFaithfulFinalReadStopsAtError pins point 4's end of WAL
// (Fidelity.FinalReadEndsAtFailedRead with CheckEndBeforeRestartpoint): a
// read error in the final read ends recovery there, and
// polar_check_before_promote, finding the valid record that follows, PANICs
// ("is not the last valid record's EndRecPtr", PolarDB's test 013 path). The
// fixed model retries the read and promotes.
func TestFaithfulFinalReadStopsAtError(t *testing.T) {
	for _, faithful := range []bool{true, false} {
		var fid shmem.Fidelity
		if faithful {
			fid = shmem.Fidelity{FinalReadEndsAtFailedRead: true, CheckEndBeforeRestartpoint: true}
		}
		w := newWorld(t, worldOpts{scripted: true, fidelity: fid})
		w.writeSome(2)
		w.startReplica()
		w.run(500, w.inState(startup.StateStreaming))
		w.connected = false // the rest reaches storage only: the final read must read it
		w.writeSome(2)
		w.promote(true)
		w.run(500, w.inState(startup.StateFinalReplay))
		w.dev.InjectError(storage.FaultSpec{Op: storage.OpRead, Host: w.n.Cfg.Host, PathPrefix: "pg_wal/", Count: 1})
		w.run(2000, w.exited)
		last := w.exits.Of(w.n)[len(w.exits.Of(w.n))-1]
		if faithful {
			require.Equal(t, shmem.ExitPANIC, last.Kind)
			require.Contains(t, last.Err, "record after end of recovery")
			require.Contains(t, w.trace.String(), "final-read-failed")
			continue
		}
		require.Equal(t, shmem.ExitNormal, last.Kind, "%v", last)
		end, _ := w.proc.End()
		require.Equal(t, w.pwal.FlushedLSN(), end, "the fixed final read reaches the end of WAL")
	}
}
