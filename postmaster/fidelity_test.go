package postmaster

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/shmem"
	"promotesim/startup"
	"promotesim/storage"
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
	return pendingPromoteWorldOpts(t, seed, o, k)
}

func pendingPromoteWorldOpts(t *testing.T, seed uint64, o worldOpts, k int) (*world, *shmem.Node) {
	t.Helper()
	w := newWorld(t, seed, o)
	for i := 0; i < k; i++ {
		w.writeN(1, i, 1)
		w.await(fmt.Sprintf("%d acks", i+1), func() bool { return w.acks(1) == i+1 })
	}
	p := w.node(1)
	require.NoError(t, w.op().Stop(p, false))
	w.await("n1 stopped", func() bool { return !w.op().Alive(p) })
	w.nodes, w.next = append(w.nodes, nil), append(w.next, 0)
	w.boot(2, RoleReplica)
	r := w.node(2)
	w.await("n2 startup forked", func() bool { return r.Procs.Startup != shmem.NoProc })
	require.NoError(t, w.op().Promote(r))
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

// TestPendingPromotePrewarmHangs: with polar_enable_replica_prewarm the
// wake-up writes PARALLEL_REPLAYING instead; the BGW then replays in
// parallel on a node that is still a replica, and startup still waits for
// WAITING_RESET for ever.
func TestPendingPromotePrewarmHangs(t *testing.T) {
	hung := 0
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			o := defaultWorldOpts()
			o.replicas, o.faithful, o.prewarm = 0, true, true
			w, r := pendingPromoteWorldOpts(t, seed, o, int(seed%3))
			res := w.s.RunUntil(func() bool { return promoted(r) }, budget)
			require.Nil(t, res.Violation)
			if res.Done {
				return
			}
			require.Equal(t, startup.StateWaitReset, startupState(w, r), "%s", w.log.tail(20))
			require.Equal(t, shmem.BGParallelReplaying, r.BGW.State())
			require.False(t, r.Primary)
			hung++
		})
	}
	require.Positive(t, hung)
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
	require.NoError(t, w.op().Stop(p, false))
	w.await("n1 stopped", func() bool { return !w.op().Alive(p) })
	require.NoError(t, w.op().Promote(r))
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

// controlWindow returns n2's control-window events of a promote.
func controlWindow(t *testing.T, w *world) (inProd, role, reset, done event) {
	t.Helper()
	return w.log.first(t, "n2/startup", "in-production"), w.log.first(t, "n2/startup", "role-switch"),
		w.log.first(t, "n2/startup", "reset-bgw"), w.log.first(t, "n2/startup", "recovery-done")
}

// TestControlWindowSteps pins point 5 of issue 10: under
// Fidelity.ControlWindowSteps the control-file window is four steps (in
// production and the local control file, node type primary, BGW reset,
// recovery done), other processes run between them, and while the node is
// primary with the BGW still in WAITING_RESET the bgwriter keeps the
// consistent LSN (update_consistent_lsn_delta's hold). The fixed model does
// the window in one step.
func TestControlWindowSteps(t *testing.T) {
	between, held := 0, 0
	for seed := uint64(1); seed <= 16; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			o := defaultWorldOpts()
			o.faithful = true
			w := newWorld(t, seed, o)
			w.writeN(1, 0, 6)
			w.await("6 acks", func() bool { return w.acks(1) == 6 })
			p, r := w.node(1), w.node(2)
			w.await("replica caught up", func() bool { return r.ReplayLSN >= p.WAL.FlushedLSN() })
			require.NoError(t, w.op().Stop(p, false))
			w.await("n1 stopped", func() bool { return !w.op().Alive(p) })
			require.NoError(t, w.op().Promote(r))
			var before storage.LSN
			w.s.Checkers().Add("hold", func() error {
				if !r.Primary || !r.InRecovery || r.BGW.State() != shmem.BGWaitingReset {
					before = r.Pool.ConsistentLSN()
					return nil
				}
				held++
				if r.Pool.ConsistentLSN() != before {
					return fmt.Errorf("consistent LSN moved %v -> %v with the BGW in WAITING_RESET", before, r.Pool.ConsistentLSN())
				}
				return nil
			})
			w.await("n2 promoted", func() bool { return promoted(r) })
			inProd, role, reset, done := controlWindow(t, w)
			require.Less(t, inProd.step, role.step)
			require.Less(t, role.step, reset.step)
			require.Less(t, reset.step, done.step)
			for _, e := range w.log.events {
				if e.idx > reset.idx && e.idx < done.idx && e.actor != "n2/startup" && e.actor != "n2/postmaster" {
					between++
					break
				}
			}
		})
	}
	require.Positive(t, held, "no step was taken between node type primary and the BGW reset")
	require.Positive(t, between, "no seed ran another process between the BGW reset and recovery done")
}

// TestControlWindowOneStep: the fixed model's window is one step.
func TestControlWindowOneStep(t *testing.T) {
	w := promoteWorld(t, 1, shmem.ProfileV15)
	role, reset, done := w.log.first(t, "n2/startup", "role-switch"), w.log.first(t, "n2/startup", "reset-bgw"),
		w.log.first(t, "n2/startup", "recovery-done")
	require.Equal(t, role.step, reset.step)
	require.Equal(t, reset.step, done.step)
	require.Empty(t, w.log.find("n2/startup", "in-production"))
}

// crashAfterPromote promotes n2, writes on it, then fails its next data
// write so the process writing it (bgwriter, checkpointer or a backend
// evicting) PANICs: PolarDB's test 002_promote_kill kills the bgwriter of a
// promoted node.
func crashAfterPromote(t *testing.T, seed uint64, faithful bool) (*world, *shmem.Node, storage.Epoch) {
	return crashAfterPromoteN(t, seed, faithful, 1)
}

// crashAfterPromoteN fails the next k WAL writes of n2 (several children
// may PANIC before the postmaster reaps the first).
func crashAfterPromoteN(t *testing.T, seed uint64, faithful bool, k int) (*world, *shmem.Node, storage.Epoch) {
	t.Helper()
	o := defaultWorldOpts()
	o.faithful = faithful
	w := newWorld(t, seed, o)
	w.writeN(1, 0, 4)
	w.await("4 acks", func() bool { return w.acks(1) == 4 })
	p, r := w.node(1), w.node(2)
	w.await("replica caught up", func() bool { return r.ReplayLSN >= p.WAL.FlushedLSN() })
	require.NoError(t, w.op().Stop(p, false))
	w.await("n1 stopped", func() bool { return !w.op().Alive(p) })
	require.NoError(t, w.op().Promote(r))
	w.await("n2 promoted", func() bool { return promoted(r) && len(r.Procs.Backends) == o.sessions })
	_, epoch, _ := w.dev.Writer()
	w.dev.InjectError(storage.FaultSpec{Op: storage.OpWrite, Host: 2, PathPrefix: "pg_wal/", Count: k})
	w.writeN(2, 4, 4)
	w.await("a PANIC on n2", func() bool {
		for _, e := range w.exits.Of(r) {
			if e.Kind == shmem.ExitPANIC {
				return true
			}
		}
		return false
	})
	return w, r, epoch
}

// TestRestartAfterCrashRemountsNothing pins point 6 of issue 10
// (Fidelity.RestartAfterCrash): a child PANIC on a promoted node makes the
// postmaster reinitialise; the node comes back a primary through crash
// recovery on the same read-write mount (no remount: the device's writer
// epoch is unchanged) and serves writes again. The fixed model takes the
// node down.
func TestRestartAfterCrashRemountsNothing(t *testing.T) {
	for _, seed := range seeds[:4] {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w, r, epoch := crashAfterPromote(t, seed, true)
			w.await("n2 read-write again", func() bool {
				return len(w.log.find("n2/postmaster", "reinitialise")) > 0 && r.ReadWrite && !r.InRecovery
			})
			require.Contains(t, w.log.first(t, "n2/postmaster", "reinitialise").line, "role=primary")
			host, e, ok := w.dev.Writer()
			require.True(t, ok)
			require.Equal(t, storage.HostID(2), host)
			require.Equal(t, epoch, e, "no remount after the crash")
			require.NotEmpty(t, w.log.find("n2/startup", "crash-recovery"), "crash recovery ran")
			before := w.acks(2)
			w.writeN(2, 8, 2)
			w.await("writes after the restart", func() bool { return w.acks(2) == before+2 })

			w, r, _ = crashAfterPromote(t, seed, false)
			w.await("n2 down", func() bool { return !w.op().Alive(r) })
			require.Empty(t, w.log.find("n2/postmaster", "reinitialise"))
		})
	}
}

// TestRestartAfterCrashOnce: when several children PANIC before the
// postmaster reaps the first, the exits of children the reinitialisation
// already ended are only reaped: one reinitialisation, and the node comes
// back as what it was (a second one on the fresh shared memory would take it
// for a replica: explorer seed 22501 before the fix).
func TestRestartAfterCrashOnce(t *testing.T) {
	several := 0
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w, r, _ := crashAfterPromoteN(t, seed, true, 2)
			w.await("reinitialise", func() bool { return len(w.log.find("n2/postmaster", "reinitialise")) > 0 })
			w.dev.ClearFaults() // what is left of the fault must not fail the restart itself
			w.await("n2 read-write again", func() bool {
				return len(w.log.find("n2/postmaster", "reinitialise")) > 0 && r.ReadWrite && !r.InRecovery
			})
			panics := 0
			for _, e := range w.exits.Of(r) {
				if e.Kind == shmem.ExitPANIC {
					panics++
				}
			}
			if panics > 1 {
				several++
			}
			require.Len(t, w.log.find("n2/postmaster", "reinitialise"), 1)
			require.True(t, r.Primary)
		})
	}
	require.Positive(t, several, "no seed had two PANICs before the reinitialisation")
}

// TestPromoteOneShotAfterCrash pins the rest of point 6
// (Fidelity.PromoteOneShot with RestartAfterCrash): a child crash during
// the promote, before startup opened its own WAL, restarts the node as a
// replica (its replica signal file is still there); received_promote stays
// set, so the operator's second pg_ctl promote is ignored and the node stays
// a replica until its postmaster restarts.
func TestPromoteOneShotAfterCrash(t *testing.T) {
	stuck := 0
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			o := defaultWorldOpts()
			o.faithful = true
			w := newWorld(t, seed, o)
			w.writeN(1, 0, 4)
			w.await("4 acks", func() bool { return w.acks(1) == 4 })
			p, r := w.node(1), w.node(2)
			require.NoError(t, w.op().Stop(p, false))
			w.await("n1 stopped", func() bool { return !w.op().Alive(p) })
			require.NoError(t, w.op().Promote(r))
			w.await("SIGUSR2 sent", func() bool { return len(w.log.find("n2/postmaster", "sigusr2")) > 0 })
			// The BGW's LogIndex meta read on SIGUSR2 fails: it PANICs.
			w.dev.InjectError(storage.FaultSpec{Op: storage.OpRead, Host: 2, PathPrefix: "pg_logindex/", Count: 1})
			res := w.s.RunUntil(func() bool { return len(w.log.find("n2/postmaster", "reinitialise")) > 0 }, budget)
			require.Nil(t, res.Violation)
			if !res.Done || !strings.Contains(w.log.first(t, "n2/postmaster", "reinitialise").line, "role=replica") {
				return // the crash came too late (or not at all) for this seed
			}
			w.await("n2 read-only again", func() bool { return r.Accepting && !r.ReadWrite })
			require.NoError(t, w.op().Promote(r))
			w.run(2000)
			require.False(t, r.Primary, "the second promote was taken")
			require.True(t, r.InRecovery)
			require.NotEmpty(t, w.log.find("n2/postmaster", "promote-ignored"))
			require.Contains(t, w.log.find("n2/postmaster", "promote-ignored")[0].line, "received_promote")
			stuck++
		})
	}
	require.Positive(t, stuck, "no seed crashed the promote early enough")
}
