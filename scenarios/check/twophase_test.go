package check_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/postmaster"
	"promotesim/scenarios/cluster"
	"promotesim/scenarios/internal/fixture"
	"promotesim/shmem"
)

// prepare prepares a one-write transaction on n1 and returns its event.
func prepare(t *testing.T, c *cluster.Cluster, page, slot int, gid string) postmaster.TwoPhaseEvent {
	t.Helper()
	ev := len(c.Journal.TwoPhase)
	require.NoError(t, c.Write(1, postmaster.Txn{Writes: []postmaster.Write{{Page: page, Slot: uint8(slot)}}, GID: gid}))
	r := c.S.RunUntil(func() bool { return len(c.Journal.TwoPhase) > ev }, 5000)
	require.Nil(t, r.Violation)
	require.True(t, r.Done, "%v", r)
	return c.Journal.TwoPhase[len(c.Journal.TwoPhase)-1]
}

// finish runs COMMIT PREPARED (or ROLLBACK PREPARED) of gid on n1.
func finish(t *testing.T, c *cluster.Cluster, gid string, commit bool) postmaster.TwoPhaseEvent {
	t.Helper()
	ev := len(c.Journal.TwoPhase)
	require.NoError(t, c.FinishPrepared(1, gid, commit))
	r := c.S.RunUntil(func() bool { return len(c.Journal.TwoPhase) > ev }, 5000)
	require.Nil(t, r.Violation)
	require.True(t, r.Done, "%v", r)
	return c.Journal.TwoPhase[len(c.Journal.TwoPhase)-1]
}

func TestTwoPhaseChecksHoldOnCleanRun(t *testing.T) {
	c, k := fixture.NewCluster(t, nil)
	a := prepare(t, c, 0, 0, "a")
	prepare(t, c, 1, 0, "b")
	fixture.Commit(t, c, 1, 2, 0)
	require.Equal(t, postmaster.TwoPhaseCommitted, finish(t, c, "a", true).Kind)
	require.Equal(t, postmaster.TwoPhaseRolledBack, finish(t, c, "b", false).Kind)
	fixture.Settle(t, c)
	require.NoError(t, c.Read(1, 0))
	require.NoError(t, c.Read(2, 0))
	require.NoError(t, step(c, k, 200))
	require.NoError(t, k.RunAll())
	require.Equal(t, shmem.XactCommitted, c.Node(1).Clog.Get(a.XID))
	require.Equal(t, 0, c.Node(1).TwoPhase.Len())
	// A second COMMIT PREPARED finds no such transaction, and a gid in use
	// refuses PREPARE and rolls the transaction back.
	errs := len(c.Journal.Errors)
	require.NoError(t, c.FinishPrepared(1, "a", true))
	prepare(t, c, 3, 0, "c")
	require.NoError(t, c.Write(1, postmaster.Txn{Writes: []postmaster.Write{{Page: 3, Slot: 1}}, GID: "c"}))
	r := c.S.RunUntil(func() bool { return len(c.Journal.Errors) >= errs+2 }, 5000)
	require.True(t, r.Done, "%v", r)
	require.Contains(t, c.Journal.Errors[errs].Err, `prepared transaction does not exist: "a"`)
	require.Contains(t, c.Journal.Errors[errs+1].Err, `transaction identifier "c" is already in use`)
	// A replica refuses it (PreventCommandDuringRecovery).
	require.NoError(t, c.FinishPrepared(2, "c", true))
	r = c.S.RunUntil(func() bool { return len(c.Journal.Errors) >= errs+3 }, 5000)
	require.True(t, r.Done, "%v", r)
	require.Contains(t, c.Journal.Errors[errs+2].Err, "cannot execute COMMIT PREPARED during recovery")
	require.NoError(t, step(c, k, 200))
	require.NoError(t, k.RunAll())
}

func TestPreparedSurvivesFires(t *testing.T) {
	t.Run("lost from the primary", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		e := prepare(t, c, 0, 0, "a")
		require.NoError(t, k.RunStep())
		c.Node(1).TwoPhase.Remove(e.XID)
		fixture.RequireViolation(t, k.RunStep(), "PreparedSurvives", "gid a", "is not prepared on the primary n1")
	})
	t.Run("committed without a record", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		e := prepare(t, c, 0, 0, "a")
		require.NoError(t, k.RunStep())
		c.Node(1).Clog.Set(e.XID, shmem.XactCommitted)
		fixture.RequireViolation(t, k.RunStep(), "PreparedSurvives", "is committed in the clog of n1", "no COMMIT/ROLLBACK PREPARED")
	})
	t.Run("record not in the WAL", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		e := prepare(t, c, 0, 0, "a")
		e.End += 8
		c.Journal.TwoPhase = append(c.Journal.TwoPhase, e)
		fixture.RequireViolation(t, k.RunStep(), "PreparedSurvives", "acknowledged PREPARE of xid", "is not in the valid WAL")
	})
}

// insertFlushed writes rec through n1's WAL and makes it durable.
func insertFlushed(t *testing.T, c *cluster.Cluster, rec logindex.Record) {
	t.Helper()
	w := c.Node(1).WAL
	require.NoError(t, w.Insert(&rec))
	require.NoError(t, w.Flush(rec.End))
}

func TestTwoPhaseDecidedOnceFires(t *testing.T) {
	t.Run("committed twice in the WAL", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		e := prepare(t, c, 0, 0, "a")
		finish(t, c, "a", true)
		require.NoError(t, k.RunStep())
		insertFlushed(t, c, logindex.Record{Type: logindex.RecAbortPrepared, XID: e.XID})
		fixture.RequireViolation(t, k.RunStep(), "TwoPhaseDecidedOnce", "gid a decided 2 times", "commits 1, rollbacks 1")
	})
	t.Run("decided without a prepare", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		a := fixture.Commit(t, c, 1, 0, 0)
		insertFlushed(t, c, logindex.Record{Type: logindex.RecCommitPrepared, XID: a.XID + 100})
		fixture.RequireViolation(t, k.RunStep(), "TwoPhaseDecidedOnce", "which the WAL never prepared")
	})
	t.Run("gid prepared twice", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		prepare(t, c, 0, 0, "a")
		require.NoError(t, k.RunStep())
		insertFlushed(t, c, logindex.Record{Type: logindex.RecPrepare, XID: 90, GID: "a"})
		fixture.RequireViolation(t, k.RunStep(), "TwoPhaseDecidedOnce", "gid a prepared by xid 90 while xid 1 still holds it")
	})
	t.Run("both outcomes acknowledged", func(t *testing.T) {
		c, k := fixture.NewCluster(t, nil)
		prepare(t, c, 0, 0, "a")
		e := finish(t, c, "a", true)
		require.NoError(t, k.RunStep())
		e.Kind = postmaster.TwoPhaseRolledBack
		c.Journal.TwoPhase = append(c.Journal.TwoPhase, e)
		fixture.RequireViolation(t, k.RunStep(), "TwoPhaseDecidedOnce", "acknowledged rolled-back", "already acknowledged committed")
	})
}

func TestPreparedInvisibleFires(t *testing.T) {
	c, k := fixture.NewCluster(t, nil)
	e := prepare(t, c, 0, 1, "a")
	require.NoError(t, c.Read(1, 0))
	require.NoError(t, step(c, k, 100))
	reads := c.Journal.Reads
	require.NotEmpty(t, reads)
	r := reads[len(reads)-1]
	require.Equal(t, e.XID, postmaster.ValueXID(r.Content.Slots[1]))
	require.False(t, r.Visible[1], "a prepared row is invisible")
	r.Visible[1] = true
	c.Journal.Reads = append(c.Journal.Reads, r)
	fixture.RequireViolation(t, k.RunStep(), "PreparedInvisible", "sees slot 1 of prepared transaction", "gid a")
}

func TestLogicalSlotsSurviveFires(t *testing.T) {
	c, k := fixture.NewCluster(t, nil)
	fixture.Commit(t, c, 1, 0, 0)
	sl, err := c.Op.CreateLogicalSlot(c.Node(1), "l1")
	require.NoError(t, err)
	c.Journal.LogicalSlots = append(c.Journal.LogicalSlots, postmaster.LogicalSlotAck{Name: "l1", Node: 1,
		Restart: sl.Restart, ConfirmedFlush: sl.ConfirmedFlush})
	require.NoError(t, step(c, k, 10))
	fixture.Commit(t, c, 1, 1, 0)
	_, sl, _, err = c.Op.LogicalGetChanges(c.Node(1), "l1")
	require.NoError(t, err)
	// The client is told a position the slot does not hold.
	c.Journal.LogicalSlots = append(c.Journal.LogicalSlots, postmaster.LogicalSlotAck{Name: "l1", Node: 1,
		Restart: sl.Restart, ConfirmedFlush: sl.ConfirmedFlush + 8})
	fixture.RequireViolation(t, k.RunStep(), "LogicalSlotsSurvive", "logical slot on the primary n1 is l1", "behind restart=", "acknowledged by n1")
}
