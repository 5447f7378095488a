package check_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/postmaster"
	"promotesim/scenarios/check"
	"promotesim/scenarios/cluster"
	"promotesim/scenarios/hazard"
	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// step takes up to n steps and returns the violation, if any; if the
// world went idle first, the per-step checkers run once more on it.
func step(c *cluster.Cluster, k *check.Checks, n int) error {
	if v := c.S.Run(n).Violation; v != nil {
		return v
	}
	return k.RunStep()
}

func TestClaimsCatalogue(t *testing.T) {
	c, _ := fixture.NewCluster(t, nil)
	var perStep []string
	for _, cl := range check.Claims() {
		require.NotEmpty(t, cl.Text)
		if cl.PerStep() {
			perStep = append(perStep, cl.Name)
		}
	}
	require.Equal(t, perStep, c.S.Checkers().Names(), "every per-step claim is registered, in catalogue order")
	require.Len(t, check.ClaimIDs, check.NClaims)
	for i, cl := range check.Claims() {
		id, ok := check.ClaimIDs[cl.Name]
		require.True(t, ok, cl.Name)
		require.Equal(t, i, id, "%s's counter index is its catalogue position", cl.Name)
	}
	require.True(t, check.IsClaim("CrashRecovers"))
	require.False(t, check.IsClaim("NoFuturePage"))
}

func TestChecksHoldOnCleanRun(t *testing.T) {
	c, k := fixture.NewCluster(t, nil)
	for i := 0; i < 20; i++ {
		fixture.Commit(t, c, 1, i%8, i%storage.PageSlots)
	}
	fixture.Settle(t, c)
	require.NoError(t, c.Read(2, 3))
	require.NoError(t, c.Read(1, 3))
	require.NoError(t, step(c, k, 200))
	require.NoError(t, k.RunAll())
}

func TestSingleWriterFires(t *testing.T) {
	c, k := fixture.NewCluster(t, nil)
	fixture.Commit(t, c, 1, 0, 0)
	fixture.Settle(t, c)
	// A host nobody runs takes the writer role by force, as a promote's
	// remount does; the old primary keeps writing (fence none).
	m, err := c.Dev.Mount(100, storage.MountReadOnly)
	require.NoError(t, err)
	require.NoError(t, m.RemountRW())
	require.NoError(t, c.Write(1, postmaster.Txn{Writes: []postmaster.Write{{Page: 1, Slot: 1, Value: 77}}}))
	v := step(c, k, 200)
	fixture.RequireViolation(t, v, "SingleWriter", "n1 wrote pg_wal/", "without the writer role", "the writer is n100 (epoch 3)")
}

func TestSingleWriterSilentWhenFenced(t *testing.T) {
	c, k := fixture.NewCluster(t, func(o *cluster.Options) { o.Fence = storage.FenceEpoch })
	fixture.Commit(t, c, 1, 0, 0)
	fixture.Settle(t, c)
	m, err := c.Dev.Mount(100, storage.MountReadOnly)
	require.NoError(t, err)
	require.NoError(t, m.RemountRW())
	require.NoError(t, c.Write(1, postmaster.Txn{Writes: []postmaster.Write{{Page: 1, Slot: 1, Value: 77}}}))
	// The displaced writer's WAL write is refused: it PANICs (fencing is
	// an excused reason) and nothing it did reaches storage.
	require.NoError(t, step(c, k, 300))
	require.False(t, c.Op.Alive(c.Node(1)))
	require.Zero(t, c.Dev.StaleCount())
	exits := check.ExitsOf(k, c.Node(1))
	require.True(t, strings.Contains(exits[len(exits)-1].Err, storage.ErrFenced.Error()))
}

func TestReplicaWritesNothingFires(t *testing.T) {
	t.Run("dirty buffer", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Commit(t, c, 1, 2, 0)
		fixture.Settle(t, c)
		n2 := c.Node(2)
		require.NoError(t, c.Read(2, 2))
		require.NoError(t, step(c, k, 50))
		id, ok := n2.Pool.Lookup(n2.Page(2))
		require.True(t, ok)
		require.NoError(t, n2.Pool.MarkDirty(id, n2.ReplayLSN))
		fixture.RequireViolation(t, k.RunStep(), "ReplicaWritesNothing", "replica n2 has 1 dirty buffers", "page 1/2")
	})
	t.Run("data page", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Commit(t, c, 1, 2, 0)
		fixture.Settle(t, c)
		n2 := c.Node(2)
		// n2 takes the writer role but has not switched role: it is still
		// a replica in archive recovery and may write no data page.
		require.NoError(t, n2.Mount.RemountRW())
		var p storage.Page
		var b [storage.BlockSize]byte
		p.Marshal(b[:])
		require.NoError(t, n2.Mount.WriteAt(n2.RelPath(), b[:], 5*storage.BlockSize))
		fixture.RequireViolation(t, k.RunAll(), "ReplicaWritesNothing", "replica n2 wrote base/1")
	})
}

func TestNoWALBelowOldEndFires(t *testing.T) {
	c, k := fixture.NewCluster(t, nil)
	a := fixture.Commit(t, c, 1, 0, 0)
	fixture.Commit(t, c, 1, 1, 0)
	fixture.Settle(t, c)
	require.NoError(t, k.O.Sync())
	end := k.O.End()
	// The writer inserts a record at an acknowledged commit's position,
	// below the end of valid WAL.
	rec, ok := k.O.CommitRecord(a.XID, a.CommitEnd)
	require.True(t, ok)
	over := logindex.Record{Type: logindex.RecAbort, XID: a.XID, Prev: rec.Prev}
	b, err := over.Encode(nil)
	require.NoError(t, err)
	n1 := c.Node(1)
	seg := c.NodeConfig(1).LogIndex.WALSegmentSize
	name := logindex.SegmentName(logindex.SegNo(rec.Start, seg), seg)
	require.NoError(t, n1.Mount.WriteAt(name, b, logindex.SegOffset(rec.Start, seg)))
	require.NoError(t, n1.Mount.Sync(name))
	v := k.RunAll()
	fixture.RequireViolation(t, v, "NoWALBelowOldEnd", "n1 overwrote WAL record commit "+rec.Start.String(), "below the end of valid WAL "+end.String())
	lost := k.O.Lost()
	require.NotEmpty(t, lost)
	require.True(t, lost[0].Overwritten)
}

// fixedProfile: the model's stricter profile (v15-fixed), where a child's
// PANIC takes the node down instead of restarting it (v15's
// restart_after_crash, shmem.Fidelity.RestartAfterCrash).
func fixedProfile(o *cluster.Options) { o.Fixed = true }

func TestUnsyncedWALRetractedByCrash(t *testing.T) {
	c, k := fixture.NewCluster(t, fixedProfile)
	fixture.Commit(t, c, 1, 0, 0)
	fixture.Settle(t, c)
	o := k.O
	require.NoError(t, o.Sync())
	end := o.End()
	// WAL is written but its sync fails: the primary PANICs (an injected
	// fault: excused) with the record visible on storage but not durable.
	c.Dev.InjectError(storage.FaultSpec{Op: storage.OpSync, Host: 1, PathPrefix: "pg_wal/", Count: 1})
	require.NoError(t, c.Write(1, postmaster.Txn{Writes: []postmaster.Write{{Page: 3, Slot: 1, Value: 5}}}))
	r := c.S.RunUntil(func() bool { return !c.Op.Alive(c.Node(1)) }, 2000)
	require.Nil(t, r.Violation)
	require.True(t, r.Done)
	require.Greater(t, o.End(), end, "the unsynced record is valid WAL while it is visible")
	// The crash drops it: a retraction, not an overwrite.
	require.NoError(t, c.Crash(1))
	require.NoError(t, o.SyncFull())
	require.Equal(t, end, o.End())
	lost := o.Lost()
	require.NotEmpty(t, lost)
	for _, l := range lost {
		require.False(t, l.Overwritten)
	}
	require.NoError(t, k.RunAll())
}

func TestCommitDurableFires(t *testing.T) {
	t.Run("not in WAL", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		a := fixture.Commit(t, c, 1, 0, 0)
		c.Journal.Acks = append(c.Journal.Acks, postmaster.Ack{XID: a.XID + 40, Node: 1, CommitEnd: a.CommitEnd + 0x800, Step: c.S.StepNo()})
		fixture.RequireViolation(t, k.RunStep(), "CommitDurable", "acknowledged commit of xid", "valid WAL ends at")
	})
	t.Run("not durable", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Commit(t, c, 1, 0, 0)
		fixture.Settle(t, c)
		n1 := c.Node(1)
		// A commit record written but never synced: visible on storage,
		// gone in a crash. Acknowledging it breaks synchronous commit.
		xid := n1.NextXID + 10
		rec := logindex.Record{Type: logindex.RecCommit, XID: xid}
		require.NoError(t, n1.WAL.Insert(&rec))
		require.NoError(t, n1.WAL.Write(rec.End))
		ack := postmaster.Ack{XID: xid, Node: 1, CommitEnd: rec.End, Step: c.S.StepNo()}
		// Given now, the acknowledging node's own view already refutes it.
		c.Journal.Acks = append(c.Journal.Acks, ack)
		fixture.RequireViolation(t, k.RunStep(), "CommitDurable", "acknowledged xid", "above its flushed WAL")
		// Seen later (Step in the past), only storage can tell: the record
		// is valid WAL, but not durable.
		c2, k2 := fixture.NewCluster(t, nil)
		fixture.Commit(t, c2, 1, 0, 0)
		fixture.Settle(t, c2)
		n1 = c2.Node(1)
		rec = logindex.Record{Type: logindex.RecCommit, XID: xid}
		require.NoError(t, n1.WAL.Insert(&rec))
		require.NoError(t, n1.WAL.Write(rec.End))
		c2.Journal.Acks = append(c2.Journal.Acks, postmaster.Ack{XID: xid, Node: 1, CommitEnd: rec.End, Step: 1})
		require.NoError(t, k2.RunStep(), "the record is in the valid WAL on storage")
		fixture.RequireViolation(t, k2.RunAll(), "CommitDurable", "is not durable", "the durable WAL ends at "+rec.Start.String())
	})
}

func TestFlushListOrderedFires(t *testing.T) {
	c, k := fixture.NewCluster(t, nil)
	fixture.Settle(t, c)
	n1 := c.Node(1)
	c.S.Hold(n1.Procs.BGWriter)
	fixture.Commit(t, c, 1, 0, 0)
	fixture.Commit(t, c, 1, 1, 0)
	ids := n1.Pool.FlushList(nil)
	require.Len(t, ids, 2)
	n1.Pool.Get(ids[1]).OldestLSN = 8 // below the head: out of order
	fixture.RequireViolation(t, k.RunStep(), "FlushListOrdered", "n1 flush list out of order at position 1")
}

func TestConsistentLSNMonotoneFires(t *testing.T) {
	c, k := fixture.NewCluster(t, nil)
	fixture.Commit(t, c, 1, 0, 0)
	fixture.Settle(t, c)
	n1 := c.Node(1)
	c.S.Hold(n1.Procs.BGWriter)
	// A clean page is marked dirty with an oldest LSN the published
	// consistent LSN already passed: the next publication regresses.
	id, ok := n1.Pool.Lookup(n1.Page(0))
	require.True(t, ok)
	pub := n1.Pool.ConsistentLSN()
	require.NoError(t, n1.Pool.MarkDirty(id, pub-8))
	n1.UpdateConsistentLSN(c.S)
	fixture.RequireViolation(t, k.RunStep(), "ConsistentLSNMonotone", "n1 consistent LSN regression: raw "+(pub-8).String()+" below published "+pub.String())
}

func TestConsistentLSNDurableFires(t *testing.T) {
	c, k := fixture.NewCluster(t, nil)
	fixture.Commit(t, c, 1, 0, 0)
	fixture.Settle(t, c)
	n1 := c.Node(1)
	c.S.Hold(n1.Procs.BGWriter)
	a := fixture.Commit(t, c, 1, 4, 2)
	// The page's write is "lost": the buffer is cleaned without I/O, so
	// the consistent LSN passes a change storage does not have.
	id, ok := n1.Pool.Lookup(n1.Page(4))
	require.True(t, ok)
	n1.Pool.MarkClean(id)
	n1.UpdateConsistentLSN(c.S)
	v := k.RunStep()
	fixture.RequireViolation(t, v, "ConsistentLSNDurable", "page 4: storage lsn 0/0 < change end", "below consistent "+n1.Pool.ConsistentLSN().String()+" on n1")
	require.Less(t, a.CommitEnd, n1.Pool.ConsistentLSN()+1)
}

func TestCheckpointRedoFires(t *testing.T) {
	t.Run("redo above consistent", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Commit(t, c, 1, 0, 0)
		fixture.Settle(t, c)
		n1 := c.Node(1)
		// A checkpointer that takes its redo past the consistent LSN.
		redo := n1.Pool.ConsistentLSN() + 0x100
		rec := logindex.Record{Type: logindex.RecCheckpoint, Redo: redo}
		require.NoError(t, n1.WAL.Insert(&rec))
		require.NoError(t, n1.WAL.Flush(rec.End))
		fixture.RequireViolation(t, k.RunStep(), "CheckpointRedo",
			"checkpoint record at "+rec.Start.String()+" written by n1 has redo "+redo.String()+" above its consistent LSN")
	})
	t.Run("redo of no checkpoint", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Commit(t, c, 1, 0, 0)
		fixture.Settle(t, c)
		n1 := c.Node(1)
		ctl := n1.Control
		ctl.Redo = n1.Pool.ConsistentLSN()
		require.NoError(t, shmem.WriteControl(n1.Mount, ctl))
		fixture.RequireViolation(t, k.RunStep(), "CheckpointRedo", "redo "+ctl.Redo.String()+" is not the redo of its checkpoint at "+ctl.CheckPoint.String())
	})
	t.Run("backwards", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Commit(t, c, 1, 0, 0)
		fixture.Settle(t, c)
		n1 := c.Node(1)
		ctl := n1.Control
		ctl.Redo = 0x10
		require.NoError(t, shmem.WriteControl(n1.Mount, ctl))
		fixture.RequireViolation(t, k.RunStep(), "CheckpointRedo", "redo moved back from", "to 0/10")
	})
}

func TestBGWCheckersFire(t *testing.T) {
	t.Run("illegal transition", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Settle(t, c)
		n2 := c.Node(2)
		require.Equal(t, shmem.BGReplicaBufReplaying, n2.BGW.State())
		// Startup's reset forced from the wrong state (as a hazard would).
		n2.BGW.Reset(n2.ReplayLSN, n2.ReplayLSN)
		fixture.RequireViolation(t, k.RunStep(), "BGWLegalTransitions", "n2 BGW moved POLAR_BG_REPLICA_BUF_REPLAYING -> POLAR_BG_ONLINE_PROMOTE")
	})
	t.Run("replay point back", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Commit(t, c, 1, 0, 0)
		fixture.Settle(t, c)
		n2 := c.Node(2)
		require.Greater(t, n2.BGW.ReplayPoint(), logindex.FirstLSN)
		b := shmem.NewBGW()
		b.StartReplicaBufReplaying(logindex.FirstLSN)
		n2.BGW = b // same state and counters, replay point lower
		fixture.RequireViolation(t, k.RunStep(), "ReplayPointMonotone", "n2 BGW replay point moved back", "without a reset")
	})
	t.Run("fake oldest back", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Commit(t, c, 1, 0, 0)
		fixture.Settle(t, c)
		require.NoError(t, c.Stop(1, false))
		r := c.S.RunUntil(func() bool { return !c.Op.Alive(c.Node(1)) }, 2000)
		require.Nil(t, r.Violation)
		require.NoError(t, c.Promote(2))
		n2 := c.Node(2)
		r = c.S.RunUntil(func() bool { return n2.ReadWrite && n2.BGW.State() == shmem.BGRedoNotStart }, 5000)
		require.Nil(t, r.Violation)
		require.True(t, r.Done)
		require.Greater(t, n2.BGW.FakeOldest(), logindex.FirstLSN)
		// The same history of states, resets and replay point, but a fake
		// oldest LSN lower than the one already handed out.
		b := shmem.NewBGW()
		b.StartReplicaBufReplaying(logindex.FirstLSN)
		b.EnterWaitingReset()
		b.Reset(logindex.FirstLSN, n2.BGW.PromoteEnd)
		b.Advance(n2.BGW.ReplayPoint())
		b.FinishPromote()
		b.CheckpointRequested = false
		n2.BGW = b
		fixture.RequireViolation(t, k.RunStep(), "FakeOldestMonotone", "n2 fake oldest LSN decreased", "to "+logindex.FirstLSN.String())
	})
}

func TestReadCheckersFire(t *testing.T) {
	t.Run("replica", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Commit(t, c, 1, 2, 1)
		fixture.Settle(t, c)
		n2 := c.Node(2)
		require.NoError(t, c.Read(2, 2))
		require.NoError(t, step(c, k, 50))
		id, ok := n2.Pool.Lookup(n2.Page(2))
		require.True(t, ok)
		n2.Pool.Modify(id).Slots[3] = 99 // a corrupt cached copy
		require.NoError(t, c.Read(2, 2))
		fixture.RequireViolation(t, step(c, k, 50), "ReplicaReadsMatchOracle", "n2 read page 2 at replay position", "the oracle has")
	})
	t.Run("primary content", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Commit(t, c, 1, 2, 1)
		fixture.Settle(t, c)
		n1 := c.Node(1)
		id, ok := n1.Pool.Lookup(n1.Page(2))
		require.True(t, ok)
		n1.Pool.Modify(id).Slots[3] = 99
		require.NoError(t, c.Read(1, 2))
		fixture.RequireViolation(t, step(c, k, 50), "ReadsReflectAcked", "n1 read page 2 at insert position", "the oracle has")
	})
	t.Run("acked invisible", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		a := fixture.Commit(t, c, 1, 2, 1)
		fixture.Settle(t, c)
		c.Node(1).Clog.Set(a.XID, shmem.XactAborted) // the clog lost an acknowledged commit
		require.NoError(t, c.Read(1, 2))
		fixture.RequireViolation(t, step(c, k, 50), "ReadsReflectAcked", "invisible, though xid", "was acknowledged")
	})
}

func TestNoUnexpectedExitFires(t *testing.T) {
	t.Run("flush list PANIC", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Settle(t, c)
		n1 := c.Node(1)
		c.S.Hold(n1.Procs.BGWriter)
		fixture.Commit(t, c, 1, 0, 0)
		ids := n1.Pool.FlushList(nil)
		require.Len(t, ids, 1)
		// The tail's oldest LSN is far ahead, so the next dirtied buffer's
		// append is out of order: PolarDB's PANIC (issue #487).
		n1.Pool.Get(ids[0]).OldestLSN = n1.WAL.InsertLSN() + 0x1000
		require.NoError(t, c.Write(1, postmaster.Txn{Writes: []postmaster.Write{{Page: 1, Slot: 0, Value: 5}}}))
		fixture.RequireViolation(t, step(c, k, 100), "NoUnexpectedExit", "PANIC", "flush list out of order")
	})
	t.Run("injected fault is excused", func(t *testing.T) {
		c, k := fixture.NewCluster(t, fixedProfile)
		fixture.Settle(t, c)
		c.Dev.InjectError(storage.FaultSpec{Op: storage.OpWrite, Host: 1, PathPrefix: "pg_wal/", Count: 1})
		require.NoError(t, c.Write(1, postmaster.Txn{Writes: []postmaster.Write{{Page: 1, Slot: 0, Value: 5}}}))
		require.NoError(t, step(c, k, 200))
		n1 := c.Node(1)
		require.False(t, c.Op.Alive(n1))
		exits := check.ExitsOf(k, n1)
		require.Contains(t, exits[len(exits)-1].Err, storage.ErrInjectedIO.Error())
	})
}

func TestCrashRecoversFires(t *testing.T) {
	t.Run("redo too far ahead", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Commit(t, c, 1, 0, 0)
		fixture.Settle(t, c)
		n1 := c.Node(1)
		c.S.Hold(n1.Procs.BGWriter)
		fixture.Commit(t, c, 1, 5, 3)
		require.NoError(t, k.O.Sync())
		// A redo pointer past a change storage does not have: crash
		// recovery skips it for good.
		ctl := n1.Control
		ctl.Redo = k.O.End()
		require.NoError(t, shmem.WriteControl(n1.Mount, ctl))
		fixture.RequireViolation(t, k.Full(), "CrashRecovers", "page 5 after crash recovery from redo "+ctl.Redo.String(), "the oracle has")
	})
	t.Run("clog lost", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		a := fixture.Commit(t, c, 1, 0, 0)
		fixture.Settle(t, c)
		n1 := c.Node(1)
		ctl := n1.Control
		ctl.Redo = n1.Pool.ConsistentLSN()
		require.NoError(t, shmem.WriteControl(n1.Mount, ctl))
		var empty shmem.Clog
		empty.Set(a.XID, shmem.XactInProgress)
		require.NoError(t, shmem.WriteClog(n1.Mount, &empty))
		fixture.RequireViolation(t, k.Full(), "CrashRecovers", "committed=false, the WAL says committed=true")
	})
	t.Run("clean", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		for i := 0; i < 12; i++ {
			fixture.Commit(t, c, 1, i%8, i%4)
		}
		require.NoError(t, k.Full())
		fixture.Settle(t, c)
		require.NoError(t, k.Full())
	})
}

func TestAckedVisibleFires(t *testing.T) {
	c, k := fixture.NewCluster(t, nil)
	a := fixture.Commit(t, c, 1, 0, 0)
	fixture.Settle(t, c)
	bogus := a
	bogus.Writes = []postmaster.Write{{Page: 6, Slot: 2, Value: postmaster.MakeValue(a.XID, 9)}}
	c.Journal.Acks = append(c.Journal.Acks, bogus)
	fixture.RequireViolation(t, k.Full(), "AckedVisible", "page 6 slot 2", "is not in the WAL before its commit")
}

// TestCheckersRestartAtReinit: a crash reinitialisation (kill -9 of the
// primary's bgwriter, postmaster.c HandleChildCrash with
// restart_after_crash) rebuilds shared memory in the same node instance,
// so the new pool's consistent LSN starts below the old one and the new
// BGW's transition count at zero. The checkers must start over there
// (shmem.Node.Reinits), not report a regression.
func TestCheckersRestartAtReinit(t *testing.T) {
	c, k := fixture.NewCluster(t, nil)
	fixture.Commit(t, c, 1, 0, 0)
	fixture.Commit(t, c, 1, 1, 0)
	fixture.Settle(t, c)
	n1 := c.Node(1)
	require.NoError(t, k.RunAll())
	before := n1.Pool.ConsistentLSN()
	require.NotZero(t, before, "the consistent LSN moved before the kill")
	require.NoError(t, c.Kill(1, "bgwriter"))
	r := c.S.RunUntil(func() bool { return n1.Reinits == 1 && n1.ReadWrite }, 5000)
	require.Nil(t, r.Violation)
	require.True(t, r.Done, "n1 restarted read-write")
	require.Less(t, n1.Pool.ConsistentLSN(), before, "the rebuilt pool starts below: a checker keyed by the instance alone would see a regression")
	require.NoError(t, k.RunAll())
	fixture.Commit(t, c, 1, 2, 0)
	fixture.Settle(t, c)
	require.NoError(t, k.RunAll())
}

// Every scenario script runs clean with the checkers on (TestScripts), and
// at its end the full checks hold too, except a finding's script: its
// expected output records the violation PolarDB's behaviour runs into
// (docs/findings.md), and that violation must still happen.
func TestScriptsEndClean(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "scripts", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			cmds := fixture.ScriptCommands(t, path)
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			want := findingClaim(string(raw))
			r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
			got := ""
			for _, cmd := range cmds {
				_, err := r.Exec(cmd)
				var v *sim.Violation
				if errors.As(err, &v) && got == "" && want != "" {
					got = v.Checker
					continue
				}
				require.False(t, errors.As(err, &v), "%s: %v", cmd, err)
			}
			require.Equal(t, want, got, "the violation the script records")
			if want != "" {
				return // the finding's world is not expected to end clean
			}
			out, err := r.Exec("check all")
			require.NoError(t, err)
			require.Contains(t, out, "all checks hold")
		})
	}
}

// findingClaim is the claim named by the first "error: violation of"
// line of a script's expected output ("" for none).
func findingClaim(text string) string {
	const marker = "error: violation of "
	i := strings.Index(text, marker)
	if i < 0 {
		return ""
	}
	rest := text[i+len(marker):]
	return rest[:strings.IndexByte(rest, ' ')]
}

// TestCheckerScripts runs the scripts of testdata/checkers: scenarios whose
// point is what a checker reports (datadriven, like TestScripts; rewrite
// with -rewrite and read the diff).
func TestCheckerScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "checkers", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				out, err := r.Exec(fixture.Line(d))
				if err != nil {
					if out != "" {
						out += "\n"
					}
					out += "error: " + err.Error()
				}
				if out == "" {
					return ""
				}
				return out + "\n"
			})
		})
	}
}

// BenchmarkStepWithCheckers measures a scheduler step of a default cluster
// under a steady write and read workload (a transaction on the primary
// after every answer, a replica read after every fourth), with every
// per-step checker on and off. The shared device never frees WAL, so the
// world is rebuilt (timer stopped) every worldSteps steps.
func BenchmarkStepWithCheckers(b *testing.B) {
	const worldSteps = 50000
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var c *cluster.Cluster
			var k *check.Checks
			var acks, reads, i, left int
			post := func() {
				i++
				_ = c.Write(1, postmaster.Txn{Writes: []postmaster.Write{{Page: i % 8, Slot: uint8(i % 4), Value: postmaster.MakeValue(c.Node(1).NextXID, 1)}}})
				if i%4 == 0 {
					_ = c.Read(2, i%8)
				}
			}
			steps := 0
			for b.Loop() {
				if left == 0 {
					b.StopTimer()
					c, k = fixture.NewCluster(b, func(o *cluster.Options) { o.DeviceBlocks = 1 << 16 })
					k.Off = !on
					acks, reads, left = len(c.Journal.Acks), len(c.Journal.Reads), worldSteps
					post()
					b.StartTimer()
				}
				left--
				if ok, v := c.S.Step(); v != nil {
					b.Fatal(v.Report())
				} else if !ok {
					post()
				}
				steps++
				if len(c.Journal.Acks) != acks || len(c.Journal.Reads) != reads {
					acks, reads = len(c.Journal.Acks), len(c.Journal.Reads)
					post()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
		})
	}
}

// BenchmarkFullCheck measures Checks.Full (crash image, offline recovery,
// acknowledged commits) on a default cluster after 200 commits.
func BenchmarkFullCheck(b *testing.B) {
	b.ReportAllocs()
	c, k := fixture.NewCluster(b, nil)
	for i := 0; i < 200; i++ {
		fixture.Commit(b, c, 1, i%8, i%4)
	}
	fixture.Settle(b, c)
	for b.Loop() {
		if err := k.Full(); err != nil {
			b.Fatal(err)
		}
	}
}

// runWatched runs one swarm world with the per-step checkers' watch set up
// by knobs, and returns its outcome and its checks.
func runWatched(t *testing.T, sw swarm.Swarm, knobs func(*check.Checks)) (swarm.Outcome, *check.Checks) {
	t.Helper()
	w, err := swarm.NewWorld(sw, swarm.RunConfig{})
	require.NoError(t, err)
	k := w.R.K
	knobs(k)
	return w.Run(), k
}

// A per-step checker is skipped on a step that moved none of the watched
// groups it names (claimWatch) since the checkers last all passed. That
// must be invisible: every world, clean or caught by a hazard, ends the
// same with the watch as without it; and wherever a checker is skipped
// (a whole step, or one claim on a step that ran others), running it
// anyway passes and leaves the checkers' and the oracle's memory as it
// was. And a node whose wake condition no step touched (sim's Touches)
// has its watched values where they were: the watch does not compare them.
func TestCheckerWatchIsInvisible(t *testing.T) {
	var worlds, skips, skipped, caught int
	run := func(sw swarm.Swarm) {
		what := fmt.Sprintf("seed %d hazard %q", sw.Seed, sw.Opts.Hazard)
		plain, _ := runWatched(t, sw, func(k *check.Checks) { check.SetWatchOff(k) })
		watched, wk := runWatched(t, sw, check.VerifyTouches)
		require.NoError(t, check.WatchErr(wk), "%s: a node's memory moved with its wake condition untouched", what)
		require.Equal(t, plain.Hash, watched.Hash, what)
		require.Equal(t, plain.Steps, watched.Steps, what)
		require.Equal(t, plain.Violation == nil, watched.Violation == nil, what)
		if plain.Violation != nil {
			require.Equal(t, plain.Violation.Error(), watched.Violation.Error(), what)
			caught++
		}
		runWatched(t, sw, func(k *check.Checks) {
			check.OnSkip(k, func(i int) {
				before := check.MemoryOf(k)
				var err error
				what := fmt.Sprintf("%s step %d", what, check.StepNo(k))
				if i < 0 {
					skips++
					err = check.RunPerStep(k)
				} else {
					skipped++
					what += " claim " + check.PerStepName(i)
					err = check.RunOne(k, i)
				}
				require.NoError(t, err, "%s: a checker fails on a step the watch skips it", what)
				require.Equal(t, before, check.MemoryOf(k), "%s: the checker's memory moved on a step the watch skips it", what)
			})
		})
		worlds++
	}
	for seed := uint64(1); seed <= 40; seed++ {
		sw, err := swarm.DeriveSwarm(seed, swarm.Base{})
		require.NoError(t, err)
		run(sw)
	}
	for _, hz := range hazard.Names() {
		for seed := uint64(1); seed <= 6; seed++ {
			sw, err := swarm.DeriveSwarm(seed, swarm.Base{Hazard: hz})
			require.NoError(t, err)
			run(sw)
		}
	}
	// The comparison means something only if steps were skipped and
	// hazards were caught.
	require.Greater(t, skips, 10*worlds, "too few skipped steps")
	require.Greater(t, skipped, 100*worlds, "too few claims skipped on the steps that ran some")
	require.Greater(t, caught, 10, "too few violations")
	t.Logf("%d worlds, %d steps skipped whole, %d claims skipped on the others, %d violations", worlds, skips, skipped, caught)
}

// The watch compares a touched node's values in place (sameNode): every
// field of its watched values must count there, in states all along
// clean and hazardous worlds (every 25th step the checkers skip whole).
func TestSameNodeSeesEveryField(t *testing.T) {
	looked := 0
	for seed := uint64(1); seed <= 8; seed++ {
		for _, hz := range []string{"", "skip-wait-reset", "no-backend-wait"} {
			sw, err := swarm.DeriveSwarm(seed, swarm.Base{Hazard: hz})
			require.NoError(t, err)
			n := 0
			runWatched(t, sw, func(k *check.Checks) {
				check.OnSkip(k, func(i int) {
					if n++; i < 0 && n%25 == 0 {
						looked++
						require.Empty(t, check.SameNodeMisses(k), "seed %d hazard %q step %d: sameNode misses a change of these fields", seed, hz, check.StepNo(k))
					}
				})
			})
		}
	}
	require.Greater(t, looked, 100, "too few states looked at")
}
