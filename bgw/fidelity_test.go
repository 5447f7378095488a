package bgw

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
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

// TestFaithfulSkipFlushedSeeds: under Fidelity.PromoteReplayFromConsistent
// ONLINE_PROMOTE's workers skip records below the old primary's consistent
// LSN for pages not in the pool (polar_xlog_need_replay's BUF_IS_FLUSHED)
// and apply only each task's own record. With an honest consistent LSN
// (storage really has every change below it) every page still ends equal to
// applying all WAL, and some seed skips.
func TestFaithfulSkipFlushedSeeds(t *testing.T) {
	skipped := 0
	for seed := uint64(1); seed <= 60; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := randomWorld(t, seed)
			w.cfg.Fidelity = shmem.FaithfulV15()
			r := sim.NewRand(seed ^ 0xc0)
			// Storage gets every page as of now: every LSN up to the end
			// is an honest consistent LSN.
			for i := range w.state {
				w.writePage(i)
			}
			end := w.wal.InsertLSN()
			w.replica(sim.NewRandom(seed), seed)
			n := w.n
			for i := range r.Intn(n.Cfg.PoolFrames + 1) {
				w.load((i*5+int(seed))%n.Cfg.Pages, w.redo)
			}
			n.PrimaryConsistent = w.redo + storage.LSN(r.Intn(int(end-w.redo)+1))
			n.BGW.StartReplicaBufReplaying(w.redo)
			w.promote()
			w.runUntilState(shmem.BGWaitingReset, 50)
			w.reset(w.redo)
			w.runUntilState(shmem.BGRedoNotStart, 20000)
			w.requireOracle()
			skipped += strings.Count(w.trace.String(), " skip-flushed ")
		})
	}
	require.Positive(t, skipped, "no seed skipped a flushed record")
}

// TestFaithfulSkipFlushedTrustsConsistent: the skip trusts the consistent
// LSN. Where storage lacks a change below it (polar_reset_bg_replayed_lsn's
// own comment: it may exceed the page LSN on storage when the old primary
// was in crash recovery), the faithful BGW leaves the change out; the fixed
// model, replaying from the redo, restores it.
func TestFaithfulSkipFlushedTrustsConsistent(t *testing.T) {
	for _, faithful := range []bool{true, false} {
		t.Run(fmt.Sprint("faithful=", faithful), func(t *testing.T) {
			cfg := shmem.DefaultConfig(2)
			if faithful {
				cfg.Fidelity = shmem.FaithfulV15()
			}
			w := newWorld(t, cfg)
			w.change(1, 0, 0, 10, 1, 0, 11)
			w.checkpoint()
			w.change(2, 0, 1, 20) // page 0 changes; storage never gets it
			w.change(2, 1, 1, 21)
			w.writePage(1)
			w.replica(sim.NewRandom(3), 3)
			n := w.n
			n.PrimaryConsistent = w.wal.InsertLSN() // claims storage has everything
			n.BGW.StartReplicaBufReplaying(w.redo)
			w.promote()
			w.runUntilState(shmem.BGWaitingReset, 50)
			w.reset(w.redo)
			w.runUntilState(shmem.BGRedoNotStart, 2000)
			want := w.oracle()
			got, pooled := w.current(0)
			if !faithful {
				require.Equal(t, want[0], got, "the fixed model replays page 0 from the redo")
				return
			}
			require.False(t, pooled)
			require.NotEqual(t, want[0], got, "the faithful BGW skipped page 0's change below the consistent LSN")
			require.Contains(t, w.trace.String(), "skip-flushed")
		})
	}
}
