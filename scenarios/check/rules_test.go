package check_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/postmaster"
	"promotesim/scenarios/check"
	"promotesim/scenarios/cluster"
	"promotesim/scenarios/internal/fixture"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// saboteur is a test actor that breaks one rule as its one step: the
// wrong write, transition or acknowledgement a buggy process would make.
// The step it ran in is the step the rule broke.
type saboteur struct {
	do    func()
	armed bool
	at    uint64
}

func (s *saboteur) Name() string              { return "test/saboteur" }
func (s *saboteur) Ready() bool               { return s.armed }
func (s *saboteur) Receive(*sim.Ctx, sim.Msg) {}
func (s *saboteur) Step(c *sim.Ctx) {
	s.armed, s.at = false, c.StepNo()
	s.do()
}

// sabotage adds a saboteur that runs do as its step, and returns the
// condition "it has run".
func sabotage(c *cluster.Cluster, do func()) func() bool {
	s := &saboteur{do: do, armed: true}
	c.S.Add(s)
	return func() bool { return s.at != 0 }
}

// ruleRow is one row of the rule table in doc.go: a rule of
// docs/model.md, the claim that judges it in the step it breaks, and a
// world in which something breaks it (setup returns the cluster and a
// condition that turns true in the breaking step).
type ruleRow struct {
	name    string
	section string
	claim   string
	setup   func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool)
}

// requireFiresInStep steps c one step at a time until a violation, and
// requires that it names claim and happened in the very step broke()
// first held in.
func requireFiresInStep(t *testing.T, c *cluster.Cluster, k *check.Checks, claim string, broke func() bool) {
	t.Helper()
	var at uint64
	for i := 0; i < 5000; i++ {
		ok, v := c.S.Step()
		if at == 0 && broke() {
			at = c.S.StepNo()
		}
		if v != nil {
			require.NotZero(t, at, "violation before the rule was broken: %v", v)
			require.Equal(t, claim, v.Checker, "%v", v)
			require.Equal(t, at, v.Step, "the claim fires in the step the rule broke: %v", v)
			require.True(t, check.IsClaim(v.Checker))
			t.Logf("step %d: %v", at, v.Err)
			require.NotZero(t, exercised(k, claim), "a claim that fires compared something: its sometimes count")
			return
		}
		require.True(t, ok, "the world went idle before %s fired (broken at step %d)", claim, at)
	}
	t.Fatalf("%s did not fire in 5000 steps (broken at step %d)", claim, at)
}

// pageImage is a marshalled page with the given LSN.
func pageImage(lsn storage.LSN) []byte {
	p := storage.Page{LSN: lsn}
	b := make([]byte, storage.BlockSize)
	p.Marshal(b)
	return b
}

// settled is a default cluster after one commit, settled.
func settled(t *testing.T, mod func(*cluster.Options)) (*cluster.Cluster, *check.Checks) {
	c, k := fixture.NewCluster(t, mod)
	fixture.Commit(t, c, 1, 0, 0)
	fixture.Settle(t, c)
	return c, k
}

var ruleRows = []ruleRow{
	{"single-writer", "§3", "SingleWriter", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n1 := c.Node(1)
		m, err := c.Dev.Mount(100, storage.MountReadOnly)
		require.NoError(t, err)
		return c, k, sabotage(c, func() {
			// Another host takes the writer role by force; the old
			// primary writes on (fence none).
			require.NoError(t, m.RemountRW())
			require.NoError(t, n1.Mount.WriteAt(n1.RelPath(), pageImage(storage.InvalidLSN), 7*storage.BlockSize))
		})
	}},
	{"replica-dirties", "§5", "ReplicaWritesNothing", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n2 := c.Node(2)
		require.NoError(t, c.Read(2, 0))
		require.NoError(t, step(c, k, 50))
		id, ok := n2.Pool.Lookup(n2.Page(0))
		require.True(t, ok)
		return c, k, sabotage(c, func() { require.NoError(t, n2.Pool.MarkDirty(id, n2.ReplayLSN)) })
	}},
	{"replica-writes-page", "§5", "ReplicaWritesNothing", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n2 := c.Node(2)
		return c, k, sabotage(c, func() {
			// Writer role taken, role not switched: still a replica.
			require.NoError(t, n2.Mount.RemountRW())
			require.NoError(t, n2.Mount.WriteAt(n2.RelPath(), pageImage(storage.InvalidLSN), 5*storage.BlockSize))
		})
	}},
	{"wal-before-data", "§5", "WALBeforeData", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n1 := c.Node(1)
		return c, k, sabotage(c, func() {
			// A page carrying an LSN past the flushed WAL.
			lsn := n1.WAL.FlushedLSN() + 0x40
			require.NoError(t, n1.Mount.WriteAt(n1.RelPath(), pageImage(lsn), 3*storage.BlockSize))
		})
	}},
	{"page-rewound", "§2", "StoredPageNeverGoesBack", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n1 := c.Node(1)
		return c, k, sabotage(c, func() {
			// An older image of page 0 over the one the bgwriter wrote.
			require.NoError(t, n1.Mount.WriteAt(n1.RelPath(), pageImage(logindex.FirstLSN), 0))
		})
	}},
	{"reused-page-rewound", "§2", "StoredPageNeverGoesBack", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		// A reused page's init image is the one rewind the claim accepts,
		// and only from a node in recovery regenerating the page
		// (rewindByInit): the same image written back by a primary in
		// production, whose crash would read it and not redo what it
		// replaced, still breaks the rule.
		c, k := fixture.NewCluster(t, nil)
		n1 := c.Node(1)
		v := postmaster.MakeValue(n1.NextXID, 1)
		acks := len(c.Journal.Acks)
		require.NoError(t, c.Write(1, postmaster.Txn{Writes: []postmaster.Write{{Page: 0, Slot: 1, Value: v, Init: true}}}))
		r := c.S.RunUntil(func() bool { return len(c.Journal.Acks) > acks }, 5000)
		require.Nil(t, r.Violation)
		require.True(t, r.Done, "%v", r)
		fixture.Settle(t, c)
		init := n1.WAL.InsertLSN()
		img := make([]byte, storage.BlockSize)
		_, err := n1.Mount.ReadAt(n1.RelPath(), img, 0)
		require.NoError(t, err)
		pg, err := storage.UnmarshalPage(img)
		require.NoError(t, err)
		require.NotZero(t, pg.LSN, "the init record's page reached storage")
		fixture.Commit(t, c, 1, 0, 2)
		fixture.Settle(t, c)
		require.Greater(t, n1.WAL.InsertLSN(), init)
		require.False(t, n1.InRecovery)
		return c, k, sabotage(c, func() {
			require.NoError(t, n1.Mount.WriteAt(n1.RelPath(), img, 0))
		})
	}},
	{"flush-gate", "§5", "NoFuturePageWritten", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n1, n2 := c.Node(1), c.Node(2)
		require.True(t, n2.Accepting)
		c.S.Hold(n2.Procs.Startup) // n2 stops replaying
		fixture.Commit(t, c, 1, 1, 0)
		require.Greater(t, n1.WAL.FlushedLSN(), n2.ReplayLSN)
		return c, k, sabotage(c, func() {
			// WAL before data holds; the gate does not.
			require.NoError(t, n1.Mount.WriteAt(n1.RelPath(), pageImage(n1.WAL.FlushedLSN()), 3*storage.BlockSize))
		})
	}},
	{"logindex-by-replica", "§4", "LogIndexSavedAfterWAL", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n2 := c.Node(2)
		return c, k, sabotage(c, func() {
			require.NoError(t, n2.Mount.RemountRW())
			p := logindex.TablePath(99)
			require.NoError(t, n2.Mount.Create(p))
			require.NoError(t, n2.Mount.WriteAt(p, make([]byte, 8), 0))
		})
	}},
	{"logindex-before-wal", "§4", "LogIndexSavedAfterWAL", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n1 := c.Node(1)
		return c, k, sabotage(c, func() {
			m := n1.Index.Saved()
			m.MaxTableID++
			m.MaxLSN = n1.WAL.FlushedLSN() + 0x100
			writeMeta(t, n1.Mount, m)
		})
	}},
	{"logindex-meta-back", "§4", "LogIndexMetaMonotone", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := fixture.NewCluster(t, nil)
		n1 := c.Node(1)
		for i := 0; n1.Index.Saved().MaxTableID < 2; i++ {
			require.Less(t, i, 400, "no LogIndex table saved")
			fixture.Commit(t, c, 1, i%8, i%storage.PageSlots)
		}
		fixture.Settle(t, c)
		return c, k, sabotage(c, func() {
			m := n1.Index.Saved()
			m.MaxTableID--
			writeMeta(t, n1.Mount, m)
		})
	}},
	{"wal-overwritten", "§7", "NoWALBelowOldEnd", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := fixture.NewCluster(t, nil)
		a := fixture.Commit(t, c, 1, 0, 0)
		fixture.Commit(t, c, 1, 1, 0)
		fixture.Settle(t, c)
		require.NoError(t, k.O.Sync())
		rec, ok := k.O.CommitRecord(a.XID, a.CommitEnd)
		require.True(t, ok)
		n1 := c.Node(1)
		return c, k, sabotage(c, func() {
			over := logindex.Record{Type: logindex.RecAbort, XID: a.XID, Prev: rec.Prev}
			b, err := over.Encode(nil)
			require.NoError(t, err)
			seg := c.NodeConfig(1).LogIndex.WALSegmentSize
			name := logindex.SegmentName(logindex.SegNo(rec.Start, seg), seg)
			require.NoError(t, n1.Mount.WriteAt(name, b, logindex.SegOffset(rec.Start, seg)))
			require.NoError(t, n1.Mount.Sync(name))
		})
	}},
	{"wal-segment-removed", "§4", "WALRetained", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, func(o *cluster.Options) { o.Standbys = 1 })
		n3 := c.Node(3)
		require.True(t, n3.WAL.FlushedLSN().Valid(), "the standby received WAL")
		// Removed behind the checkpointer's back (a restartpoint moves the
		// redo in the step it recycles, which the watch follows), hence
		// the watch is off.
		check.SetWatchOff(k)
		return c, k, sabotage(c, func() {
			size := n3.Cfg.LogIndex.WALSegmentSize
			require.NoError(t, n3.Mount.Remove(logindex.SegmentName(logindex.SegNo(n3.Control.Redo, size), size)))
		})
	}},
	{"ack-not-durable", "§2", "CommitDurable", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n1 := c.Node(1)
		return c, k, sabotage(c, func() {
			// A commit acknowledged with its record written, not flushed.
			xid := n1.NextXID + 10
			rec := logindex.Record{Type: logindex.RecCommit, XID: xid}
			require.NoError(t, n1.WAL.Insert(&rec))
			require.NoError(t, n1.WAL.Write(rec.End))
			c.Journal.Acks = append(c.Journal.Acks, postmaster.Ack{XID: xid, Node: 1, CommitEnd: rec.End, Step: c.S.StepNo()})
		})
	}},
	{"flush-list-order", "§5", "FlushListOrdered", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Settle(t, c)
		n1 := c.Node(1)
		c.S.Hold(n1.Procs.BGWriter)
		c.S.Hold(n1.Procs.Checkpointer)
		fixture.Commit(t, c, 1, 0, 0)
		require.NoError(t, n1.Pool.MarkDirty(mustBuffer(t, c, n1, 1), n1.WAL.InsertLSN()))
		ids := n1.Pool.FlushList(nil)
		require.Len(t, ids, 2)
		// The pool refuses an out-of-order append (PolarDB's PANIC), so
		// only a write behind its back can break the order; it bypasses
		// the flush generation the watch follows, hence the watch is off.
		check.SetWatchOff(k)
		return c, k, sabotage(c, func() { n1.Pool.Get(ids[1]).OldestLSN = 8 })
	}},
	{"consistent-back", "§5", "ConsistentLSNMonotone", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n1 := c.Node(1)
		c.S.Hold(n1.Procs.BGWriter)
		id := mustBuffer(t, c, n1, 0)
		return c, k, sabotage(c, func() {
			// Dirtied with an oldest LSN the published one passed.
			require.NoError(t, n1.Pool.MarkDirty(id, n1.Pool.ConsistentLSN()-8))
			n1.UpdateConsistentLSN(c.S)
		})
	}},
	{"consistent-not-durable", "§5", "ConsistentLSNDurable", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n1 := c.Node(1)
		c.S.Hold(n1.Procs.BGWriter)
		c.S.Hold(n1.Procs.Checkpointer)
		fixture.Commit(t, c, 1, 4, 2)
		id := mustBuffer(t, c, n1, 4)
		return c, k, sabotage(c, func() {
			// The page's write is lost: cleaned without I/O.
			n1.Pool.MarkClean(id)
			n1.UpdateConsistentLSN(c.S)
		})
	}},
	{"checkpoint-redo-ahead", "§5", "CheckpointRedo", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n1 := c.Node(1)
		return c, k, sabotage(c, func() {
			rec := logindex.Record{Type: logindex.RecCheckpoint, Redo: n1.Pool.ConsistentLSN() + 0x100}
			require.NoError(t, n1.WAL.Insert(&rec))
			require.NoError(t, n1.WAL.Flush(rec.End))
		})
	}},
	{"checkpoint-redo-back", "§5", "CheckpointRedo", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n1 := c.Node(1)
		return c, k, sabotage(c, func() {
			ctl := n1.Control
			ctl.Redo = 0x10
			require.NoError(t, shmem.WriteControl(n1.Mount, ctl))
		})
	}},
	{"checkpoint-in-waiting-reset", "§5", "NoCheckpointInWaitingReset", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n1 := c.Node(1)
		require.Equal(t, shmem.BGRedoNotStart, n1.BGW.State())
		c.S.Hold(n1.Procs.BGW)
		return c, k, sabotage(c, func() {
			// The BGW acknowledges a promote (a legal move) and a
			// checkpointer that ignores its state checkpoints in the
			// same critical section, with a legal redo.
			n1.BGW.EnterWaitingReset()
			rec := logindex.Record{Type: logindex.RecCheckpoint, Redo: n1.Pool.ConsistentLSN()}
			require.NoError(t, n1.WAL.Insert(&rec))
			require.NoError(t, n1.WAL.Flush(rec.End))
		})
	}},
	{"bgw-illegal-move", "§6", "BGWLegalTransitions", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n2 := c.Node(2)
		require.Equal(t, shmem.BGReplicaBufReplaying, n2.BGW.State())
		// Startup's reset from the wrong state (skip-wait-reset's move).
		return c, k, sabotage(c, func() { n2.BGW.Reset(n2.ReplayLSN, n2.ReplayLSN) })
	}},
	{"replay-point-back", "§6", "ReplayPointMonotone", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n2 := c.Node(2)
		require.Greater(t, n2.BGW.ReplayPoint(), logindex.FirstLSN)
		c.S.Hold(n2.Procs.BGW)
		return c, k, sabotage(c, func() {
			b := shmem.NewBGW()
			b.StartReplicaBufReplaying(logindex.FirstLSN)
			n2.BGW = b // same state and counters, replay point lower
		})
	}},
	{"fake-oldest-back", "§6", "FakeOldestMonotone", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n2 := promoteN2(t, c)
		require.Greater(t, n2.BGW.FakeOldest(), logindex.FirstLSN)
		return c, k, sabotage(c, func() {
			// The same history of states, resets and replay point, but a
			// fake oldest LSN lower than the one already handed out.
			b := shmem.NewBGW()
			b.StartReplicaBufReplaying(logindex.FirstLSN)
			b.EnterWaitingReset()
			b.Reset(logindex.FirstLSN, n2.BGW.PromoteEnd)
			b.Advance(n2.BGW.ReplayPoint())
			b.FinishPromote()
			b.CheckpointRequested = false
			n2.BGW = b
		})
	}},
	{"replica-clog-skipped", "§4", "ReplicaClogReplayed", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n2 := c.Node(2)
		c.S.Hold(n2.Procs.Startup)
		a := fixture.Commit(t, c, 1, 1, 0)
		require.Less(t, n2.ReplayLSN, a.CommitEnd)
		return c, k, sabotage(c, func() {
			// Startup consumes the commit record without replaying it
			// into the local clog cache.
			n2.ReplayLSN = a.CommitEnd
		})
	}},
	{"clog-not-copied", "§7", "ClogCopiedAtPromote", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		return promoteWithout(t, "skip-clog-copy")
	}},
	{"slots-not-reloaded", "§7", "SlotsReloadedAtPromote", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		return promoteWithout(t, "skip-slot-reload")
	}},
	{"backend-at-remount", "§7", "NoBackendAtRemount", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		// The postmaster does not wait for the sessions it SIGTERMed
		// (no-backend-wait's order); one of them has not yet handled the
		// signal when the remount takes the writer role.
		c, k := settled(t, func(o *cluster.Options) { o.Hazard = "no-backend-wait" })
		n2 := c.Node(2)
		require.NotEmpty(t, n2.Procs.Backends, "the replica serves sessions")
		c.S.Hold(n2.Procs.Backends[0])
		require.NoError(t, c.Stop(1, false))
		r := c.S.RunUntil(func() bool { return !c.Op.Alive(c.Node(1)) }, 2000)
		require.Nil(t, r.Violation)
		require.NoError(t, c.Promote(2))
		return c, k, func() bool { return n2.Mount.Writer() }
	}},
	{"promote-replay-start", "§7", "PromoteReplayStart", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		// V11's start, min(old consistent LSN, replay point), in V15's
		// order (replay-from-old-consistent): the reset's step.
		c, k, _ := promoteWithout(t, "replay-from-old-consistent")
		n2 := c.Node(2)
		return c, k, func() bool { return n2.BGW.Resets() > 0 }
	}},
	{"wrong-redo", "§2", "BuffersMatchOracle", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		a := fixture.Commit(t, c, 1, 1, 2)
		fixture.Settle(t, c)
		n2 := c.Node(2)
		require.NoError(t, c.Read(2, 0))
		require.NoError(t, step(c, k, 50))
		id, ok := n2.Pool.Lookup(n2.Page(0))
		require.True(t, ok)
		return c, k, sabotage(c, func() {
			// Redo applies page 1's record to page 0's buffer.
			pg := n2.Pool.Modify(id)
			pg.Slots[2] = a.Writes[0].Value
			pg.LSN = a.CommitEnd
		})
	}},
	{"replica-read-wrong", "§2", "ReplicaReadsMatchOracle", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n2 := c.Node(2)
		return c, k, sabotage(c, func() {
			// A read served with a page the oracle does not have there.
			var p storage.Page
			p.Slots[3] = 99
			c.Journal.Reads = append(c.Journal.Reads, postmaster.ReadResult{Node: 2, Page: n2.Page(0), Content: p, At: n2.ReplayLSN,
				Began: c.S.StepNo(), Step: c.S.StepNo()})
		})
	}},
	{"primary-read-stale", "§2", "ReadsReflectAcked", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := settled(t, nil)
		n1 := c.Node(1)
		require.NoError(t, k.O.Sync())
		return c, k, sabotage(c, func() {
			// A read served below an acknowledged commit.
			c.Journal.Reads = append(c.Journal.Reads, postmaster.ReadResult{Node: 1, Page: n1.Page(0), At: logindex.FirstLSN, Primary: true,
				Began: c.S.StepNo(), Step: c.S.StepNo()})
		})
	}},
	{"unexpected-panic", "§5", "NoUnexpectedExit", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Settle(t, c)
		n1 := c.Node(1)
		c.S.Hold(n1.Procs.BGWriter)
		c.S.Hold(n1.Procs.Checkpointer)
		fixture.Commit(t, c, 1, 0, 0)
		ids := n1.Pool.FlushList(nil)
		require.Len(t, ids, 1)
		// The tail's oldest LSN far ahead: the next append is PolarDB's
		// flush-list PANIC (issue #487), which its backend exits with.
		check.SetWatchOff(k) // written behind the pool's back, as in flush-list-order
		n1.Pool.Get(ids[0]).OldestLSN = n1.WAL.InsertLSN() + 0x1000
		require.NoError(t, c.Write(1, postmaster.Txn{Writes: []postmaster.Write{{Page: 1, Slot: 0, Value: 5}}}))
		exits := len(check.ExitsOf(k, n1))
		return c, k, func() bool { return len(check.ExitsOf(k, n1)) > exits }
	}},
	{"prepared-lost", "§2", "PreparedSurvives", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := fixture.NewCluster(t, nil)
		e := prepare(t, c, 0, 0, "a")
		fixture.Settle(t, c)
		return c, k, sabotage(c, func() { c.Node(1).TwoPhase.Remove(e.XID) })
	}},
	{"decided-twice", "§2", "TwoPhaseDecidedOnce", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := fixture.NewCluster(t, nil)
		e := prepare(t, c, 0, 0, "a")
		finish(t, c, "a", true)
		fixture.Settle(t, c)
		return c, k, sabotage(c, func() {
			insertFlushed(t, c, logindex.Record{Type: logindex.RecAbortPrepared, XID: e.XID})
		})
	}},
	{"prepared-visible", "§2", "PreparedInvisible", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := fixture.NewCluster(t, nil)
		prepare(t, c, 0, 1, "a")
		require.NoError(t, c.Read(1, 0))
		require.NoError(t, step(c, k, 100))
		require.NotEmpty(t, c.Journal.Reads)
		return c, k, sabotage(c, func() {
			// A read that saw the prepared row, as if it were committed.
			r := c.Journal.Reads[len(c.Journal.Reads)-1]
			r.Visible[1] = true
			c.Journal.Reads = append(c.Journal.Reads, r)
		})
	}},
	{"logical-slot-behind", "§7", "LogicalSlotsSurvive", func(t *testing.T) (*cluster.Cluster, *check.Checks, func() bool) {
		c, k := fixture.NewCluster(t, nil)
		fixture.Commit(t, c, 1, 0, 0)
		sl, err := c.Op.CreateLogicalSlot(c.Node(1), "l1")
		require.NoError(t, err)
		c.Journal.LogicalSlots = append(c.Journal.LogicalSlots, postmaster.LogicalSlotAck{Name: "l1", Node: 1,
			Restart: sl.Restart, ConfirmedFlush: sl.ConfirmedFlush})
		require.NoError(t, step(c, k, 10))
		return c, k, sabotage(c, func() {
			// The client is told a position the slot does not hold.
			c.Journal.LogicalSlots = append(c.Journal.LogicalSlots, postmaster.LogicalSlotAck{Name: "l1", Node: 1,
				Restart: sl.Restart, ConfirmedFlush: sl.ConfirmedFlush + 8})
		})
	}},
}

// mustBuffer returns the buffer of page on n, loading it.
func mustBuffer(t *testing.T, c *cluster.Cluster, n *shmem.Node, page int) storage.BufferID {
	t.Helper()
	id, _, err := n.Buffer(c.S, n.Page(page))
	require.NoError(t, err)
	return id
}

// writeMeta writes m as the LogIndex meta through mount m.
func writeMeta(t *testing.T, mnt *storage.Mount, m logindex.SavedMeta) {
	t.Helper()
	var b [logindex.MetaSize]byte
	logindex.EncodeMeta(b[:], m)
	if !mnt.Exists(logindex.MetaPath) {
		require.NoError(t, mnt.Create(logindex.MetaPath))
	}
	require.NoError(t, mnt.WriteAt(logindex.MetaPath, b[:], 0))
	require.NoError(t, mnt.Sync(logindex.MetaPath))
}

// promoteN2 stops n1 and promotes n2 until the BGW is done.
func promoteN2(t *testing.T, c *cluster.Cluster) *shmem.Node {
	t.Helper()
	require.NoError(t, c.Stop(1, false))
	r := c.S.RunUntil(func() bool { return !c.Op.Alive(c.Node(1)) }, 2000)
	require.Nil(t, r.Violation)
	require.NoError(t, c.Promote(2))
	n2 := c.Node(2)
	r = c.S.RunUntil(func() bool { return n2.ReadWrite && n2.BGW.State() == shmem.BGRedoNotStart }, 5000)
	require.Nil(t, r.Violation)
	require.True(t, r.Done)
	return n2
}

// promoteWithout promotes n2 with one promote step switched off (the
// hazard hz's ordering): n1 commits, n2 replays it, n1 stops immediately (no
// checkpoint writes its clog), n2 is promoted. The rule breaks in the
// step of n2's role switch.
func promoteWithout(t *testing.T, hz string) (*cluster.Cluster, *check.Checks, func() bool) {
	c, k := fixture.NewCluster(t, func(o *cluster.Options) { o.Hazard = hz })
	fixture.Settle(t, c)
	a := fixture.Commit(t, c, 1, 0, 0)
	n2 := c.Node(2)
	r := c.S.RunUntil(func() bool { return n2.ReplayLSN >= a.CommitEnd }, 2000)
	require.Nil(t, r.Violation)
	require.NoError(t, c.Stop(1, true))
	r = c.S.RunUntil(func() bool { return !c.Op.Alive(c.Node(1)) }, 2000)
	require.Nil(t, r.Violation)
	require.NoError(t, c.Promote(2))
	return c, k, func() bool { return n2.Primary }
}

// TestRulesFireInTheirStep: every row of doc.go's rule table breaks its
// rule once and sees its claim fire in that very step.
func TestRulesFireInTheirStep(t *testing.T) {
	for _, row := range ruleRows {
		t.Run(row.name, func(t *testing.T) {
			c, k, broke := row.setup(t)
			requireFiresInStep(t, c, k, row.claim, broke)
		})
	}
}

// TestRuleTableIsDocumented: doc.go's rule table is ruleRows, and every
// per-step claim of the catalogue has a row.
func TestRuleTableIsDocumented(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	re := regexp.MustCompile(`(?m)^//\s+(§\d+)\s+(.+?)\s+(\w+)\s+([a-z0-9-]+)\s*$`)
	var got, want []string
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		got = append(got, m[1]+" "+m[3]+" "+m[4])
	}
	for _, r := range ruleRows {
		want = append(want, r.section+" "+r.claim+" "+r.name)
	}
	require.Equal(t, want, got, "doc.go's rule table lists ruleRows in order (section, claim, test row)")
	tested := map[string]bool{}
	for _, r := range ruleRows {
		tested[r.claim] = true
	}
	for _, cl := range check.Claims() {
		if cl.PerStep() {
			require.True(t, tested[cl.Name], "per-step claim %s has no row breaking its rule", cl.Name)
		}
	}
	require.True(t, strings.Contains(string(b), "TestRulesFireInTheirStep"))
}

// exercised is claim's sometimes count in k.
func exercised(k *check.Checks, claim string) uint64 {
	for _, e := range k.Exercised() {
		if e.Name == claim {
			return e.Count
		}
	}
	panic("no claim " + claim)
}

// The sometimes counts say what a world exercised: a one-node world has
// no replica, so the replica claims judged nothing there, while the
// writer's claims did; a promote exercises the promote claims.
func TestClaimsExercised(t *testing.T) {
	c, k := fixture.NewCluster(t, func(o *cluster.Options) { o.Nodes = 1 })
	for i := 0; i < 10; i++ {
		fixture.Commit(t, c, 1, i%8, 0)
	}
	require.NoError(t, c.Read(1, 0))
	require.NoError(t, step(c, k, 300))
	require.NoError(t, k.RunAll())
	for _, name := range []string{"ReplicaWritesNothing", "NoFuturePageWritten", "ReplicaReadsMatchOracle", "ClogCopiedAtPromote", "SlotsReloadedAtPromote"} {
		require.Zero(t, exercised(k, name), "%s has no replica to judge", name)
	}
	for _, name := range []string{"SingleWriter", "WALBeforeData", "CommitDurable", "FlushListOrdered", "ConsistentLSNDurable", "ReadsReflectAcked", "CrashRecovers", "AckedVisible"} {
		require.NotZero(t, exercised(k, name), "%s judged the writer's work", name)
	}

	c2, k2 := settled(t, nil)
	promoteN2(t, c2)
	for _, name := range []string{"ReplicaWritesNothing", "ClogCopiedAtPromote", "SlotsReloadedAtPromote", "BGWLegalTransitions", "FakeOldestMonotone", "NoBackendAtRemount", "PromoteReplayStart"} {
		require.NotZero(t, exercised(k2, name), "%s judged the promote", name)
	}
}
