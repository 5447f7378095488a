package bgw

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/shmem"
	"promotesim/sim"
)

// TestFaithfulPromotingFlag pins point 1 of issue 10 on the BGW side
// (shmem.Fidelity.UncheckedBGWState): after SIGUSR2 put the BGW in
// WAITING_RESET, startup's hot-standby wake-up (polar_logindex_wakeup_bg_replay)
// overwrites it with REPLICA_BUF_REPLAYING, and a second SIGUSR2 is ignored
// because polar_online_promoting is still set, so WAITING_RESET never comes
// back. With the fixed model's state check, the same second SIGUSR2 would be
// taken (REPLICA_BUF_REPLAYING accepts it), and the wake-up itself is an
// assertion failure.
func TestFaithfulPromotingFlag(t *testing.T) {
	cfg := shmem.DefaultConfig(2)
	cfg.Fidelity = shmem.FaithfulV15()
	w := newWorld(t, cfg)
	w.change(1, 0, 0, 10)
	w.checkpoint()
	w.change(2, 1, 0, 20)
	w.replica(sim.NewScripted(), 1)
	n := w.n
	require.True(t, n.BGW.Unchecked())
	w.promote()
	w.runUntilState(shmem.BGWaitingReset, 5)

	n.BGW.WakeupBGReplay(n.ReplayLSN, false)
	require.Equal(t, shmem.BGReplicaBufReplaying, n.BGW.State(), "an unchecked store overwrites WAITING_RESET")
	require.Equal(t, n.ReplayLSN, n.BGW.ReplayPoint())
	_, from, to := n.BGW.Transitions()
	require.Equal(t, shmem.BGWaitingReset, from)
	require.False(t, shmem.LegalBGWTransition(from, to), "the checkers, not the BGW, see the illegal transition")

	w.s.Post(w.bgwID, shmem.SIGUSR2)
	w.run(20, func() bool { return n.BGW.State() == shmem.BGWaitingReset })
	require.Equal(t, shmem.BGReplicaBufReplaying, n.BGW.State(), "polar_online_promoting ignores the second SIGUSR2")
	require.Contains(t, w.trace.String(), "ignore-promote-signal")

	// The reset still works from any state, and finishing the promote
	// clears the flag: a later SIGUSR2 is taken again.
	w.reset(w.redo)
	w.runUntilState(shmem.BGRedoNotStart, 2000)
	require.False(t, w.b.promoting)
}

// TestFixedWakeupAsserts: without UncheckedBGWState the wake-up is not a
// path the model takes; calling it is an assertion failure.
func TestFixedWakeupAsserts(t *testing.T) {
	b := shmem.NewBGW()
	require.Panics(t, func() { b.WakeupBGReplay(0x100, false) })
}
