package startup_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/startup"
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
	require.Empty(t, w.n.Exits[:len(w.n.Exits)-1])
	require.Equal(t, shmem.ExitNormal, w.n.Exits[len(w.n.Exits)-1].Kind, "no PANIC: %v", w.n.Exits)
	require.False(t, w.n.InRecovery)
	require.Greater(t, w.n.WAL.InsertLSN(), end, "the new primary's WAL starts at E, over the old primary's record")
}
