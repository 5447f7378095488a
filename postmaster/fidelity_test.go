package postmaster

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/shmem"
	"promotesim/startup"
)

// Issue 10: PolarDB 15 as its code behaves (shmem.FaithfulV15), next to the
// model's fixed behaviour (the zero shmem.Fidelity).

// pendingPromoteWorld writes k commits on n1, stops it, boots n2 as a
// replica and promotes it as soon as its postmaster is in recovery, before
// startup reaches hot standby (PolarDB's test 003_promote_replica_pending).
func pendingPromoteWorld(t *testing.T, seed uint64, faithful bool, k int) (*world, *shmem.Node) {
	t.Helper()
	o := defaultWorldOpts()
	o.replicas, o.faithful = 0, faithful
	w := newWorld(t, seed, o)
	for i := 0; i < k; i++ {
		w.writeN(1, i, 1)
		w.await(fmt.Sprintf("%d acks", i+1), func() bool { return w.acks(1) == i+1 })
	}
	p := w.node(1)
	require.NoError(t, Stop(w.s, p, false))
	w.await("n1 stopped", func() bool { return !Alive(w.s, p) })
	w.nodes, w.next = append(w.nodes, nil), append(w.next, 0)
	w.boot(2, RoleReplica)
	r := w.node(2)
	w.await("n2 startup forked", func() bool { return r.Procs.Startup != shmem.NoProc })
	require.NoError(t, Promote(w.s, r))
	return w, r
}

// startupState is the state of n's startup process (StateExited once gone).
func startupState(w *world, n *shmem.Node) startup.State {
	if n.Procs.Startup == shmem.NoProc || !w.s.Alive(n.Procs.Startup) {
		return startup.StateExited
	}
	return w.s.Actor(n.Procs.Startup).(*startup.Process).State()
}

// promoted reports whether n finished online promote.
func promoted(n *shmem.Node) bool {
	return n.ReadWrite && !n.InRecovery && n.BGW.State() == shmem.BGRedoNotStart
}

// TestPendingPromoteFaithfulHangs pins point 1 of issue 10. A replica
// promoted before hot standby reaches it in the final read; in PolarDB 15
// CheckRecoveryConsistency then calls polar_logindex_wakeup_bg_replay, which
// writes REPLICA_BUF_REPLAYING unconditionally. When the BGW handled SIGUSR2
// first, that overwrites WAITING_RESET, the BGW's polar_online_promoting
// flag keeps it from acknowledging again, and startup waits in
// polar_wait_logindex_bg_stop_replay for ever. When the BGW handles SIGUSR2
// after hot standby, promote completes. The fixed model completes always.
func TestPendingPromoteFaithfulHangs(t *testing.T) {
	hung, done := 0, 0
	for seed := uint64(1); seed <= 24; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w, r := pendingPromoteWorld(t, seed, true, int(seed%3))
			res := w.s.RunUntil(func() bool { return promoted(r) }, budget)
			require.Nil(t, res.Violation)
			overwrote := 0
			for _, e := range w.log.find("n2/startup", "hot-standby-in-final-read") {
				if strings.Contains(e.line, "bgw-was=POLAR_BG_WAITING_RESET") {
					overwrote++
				}
			}
			if res.Done {
				require.Zero(t, overwrote, "promote finished although WAITING_RESET was overwritten")
				if len(w.log.find("n2/startup", "hot-standby-in-final-read")) > 0 {
					done++ // hot standby in the final read, before the BGW took SIGUSR2
				}
				return
			}
			require.Equal(t, 1, overwrote, "no overwrite, yet no promote:\n%s", w.log.tail(30))
			require.Equal(t, startup.StateWaitReset, startupState(w, r))
			require.Equal(t, shmem.BGReplicaBufReplaying, r.BGW.State())
			require.NotEmpty(t, w.log.find("n2/bgw", "enter-waiting-reset"))
			hung++
		})
	}
	require.Positive(t, hung, "no seed let the BGW take SIGUSR2 before hot standby")
	require.Positive(t, done, "no seed reached hot standby before the BGW took SIGUSR2")
}

// TestPendingPromoteFixedCompletes: the same worlds under the fixed model
// always promote (hot standby is never entered after SIGUSR2).
func TestPendingPromoteFixedCompletes(t *testing.T) {
	for seed := uint64(1); seed <= 24; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w, r := pendingPromoteWorld(t, seed, false, int(seed%3))
			w.await("n2 promoted", func() bool { return promoted(r) })
			require.Empty(t, w.log.find("n2/startup", "hot-standby-in-final-read"))
		})
	}
}

// promoteCheckpoint promotes n2 of a one-replica world after writes on
// n1 and returns the first checkpoint story n2 writes after the BGW
// finished online promote.
func promoteCheckpoint(t *testing.T, seed uint64, faithful bool) (*world, event) {
	t.Helper()
	o := defaultWorldOpts()
	o.faithful = faithful
	w := newWorld(t, seed, o)
	w.writeN(1, 0, 6)
	w.await("6 acks", func() bool { return w.acks(1) == 6 })
	p, r := w.node(1), w.node(2)
	w.await("replica caught up", func() bool { return r.ReplayLSN >= p.WAL.FlushedLSN() })
	require.NoError(t, Stop(w.s, p, false))
	w.await("n1 stopped", func() bool { return !Alive(w.s, p) })
	require.NoError(t, Promote(w.s, r))
	w.await("n2 promoted", func() bool { return promoted(r) })
	fin := w.log.first(t, "n2/bgw", "promote-finished")
	w.await("n2 checkpoint", func() bool {
		for _, e := range w.log.find("n2/checkpointer", "checkpoint") {
			if e.idx > fin.idx {
				return true
			}
		}
		return false
	})
	for _, e := range w.log.find("n2/checkpointer", "checkpoint") {
		if e.idx > fin.idx {
			return w, e
		}
	}
	panic("unreachable")
}

// TestPromoteCheckpointForced pins point 3 of issue 10: with
// Fidelity.ForceCheckpointAfterPromote the checkpoint the BGW requests after
// online promote is a full one (forced=true: redo at the insert position,
// every buffer dirty before it written first); without it, a lazy one at
// the consistent LSN.
func TestPromoteCheckpointForced(t *testing.T) {
	for _, seed := range seeds[:4] {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w, e := promoteCheckpoint(t, seed, true)
			require.Contains(t, e.line, "forced=true", e.line)
			require.NotEmpty(t, w.log.find("n2/checkpointer", "checkpoint-start"))
			w, e = promoteCheckpoint(t, seed, false)
			require.NotContains(t, e.line, "forced=true", e.line)
			require.Empty(t, w.log.find("n2/checkpointer", "checkpoint-start"))
		})
	}
}
