package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/script"
	"promotesim/sim"
)

// Failures found by the per-scheduler soaks (explore -sched pct|preempt|
// swarm -seeds 100000 -keep-going).

// v15-fixed seed 8790 under -sched pct (LogicalSlotsSurvive): with the WAL
// written behind, pg_create_logical_replication_slot started the slot at
// the insert position, past the flushed WAL, and told the client so; the
// next get_changes decodes to the flushed end and moved the slot back
// below what the client was told (its save failed, so memory kept the
// lower value). PolarDB's ReplicationSlotReserveWal flushes the WAL up to
// the slot's start (LogStandbySnapshot, then XLogFlush) before the slot is
// persisted. The world seed 8790 derived under pct is
// testdata/regressions/logical-slot-start-flushed-8790-pct.txt
// (TestRegressions); this is the path itself.
func TestLogicalSlotStartsAtFlushedWAL(t *testing.T) {
	r := script.NewRunner(8790, sim.LevelStory, sim.FormatText)
	fixture.RunLines(t, r, `cluster nodes=2 pages=4 pool=6 queue=64 logindex-mem=4 table-size=64 batch=4 workers=2 sessions=3 fence=none profile=v15-fixed wal-write-behind=true seed=8790 sched=fifo budget=2000
submit node=1 page=1 slot=3 count=6
run steps=19`)
	n1 := r.C.Node(1)
	require.Less(t, n1.WAL.FlushedLSN(), n1.WAL.InsertLSN(), "the story needs WAL inserted and not yet flushed")
	fixture.RunLines(t, r, `create-logical-slot node=1 name=l2`)
	sl, ok := n1.LogicalSlot("l2")
	require.True(t, ok)
	require.LessOrEqual(t, sl.ConfirmedFlush, n1.WAL.FlushedLSN(), "the slot starts within the durable WAL")
	fixture.RunLines(t, r, `fault node=1 kind=io-error op=write path= count=1
logical-get-changes node=1 name=l2
run steps=1
check logical-slot node=1 name=l2
check all`)
}

// The same creation when that flush fails: XLogFlush's failure is the
// session's PANIC (XLogWrite, issue_xlog_fsync), the creation reports the
// error and tells the client of no slot, and the postmaster's crash
// handling takes v15-fixed's node down (restart_after_crash off); an
// injected fault excuses the PANIC (NoUnexpectedExit).
func TestLogicalSlotCreationFlushFailurePanics(t *testing.T) {
	r := script.NewRunner(8790, sim.LevelStory, sim.FormatText)
	fixture.RunLines(t, r, `cluster nodes=2 pages=4 pool=6 queue=64 logindex-mem=4 table-size=64 batch=4 workers=2 sessions=3 fence=none profile=v15-fixed wal-write-behind=true seed=8790 sched=fifo budget=2000
submit node=1 page=1 slot=3 count=6
run steps=19
fault node=1 kind=io-error op=write path= count=1`)
	n1 := r.C.Node(1)
	require.Less(t, n1.WAL.FlushedLSN(), n1.WAL.InsertLSN(), "the story needs WAL inserted and not yet flushed")
	out, err := r.Exec("create-logical-slot node=1 name=l2")
	require.NoError(t, err)
	require.Contains(t, out, "error: ")
	require.Contains(t, out, "injected I/O error")
	_, ok := n1.LogicalSlot("l2")
	require.False(t, ok, "a failed creation leaves no slot in memory")
	require.Empty(t, r.C.Journal.LogicalSlots, "the client was told of no slot")
	fixture.RunLines(t, r, `run steps=50
check all`)
	require.False(t, r.C.Op.Alive(n1), "the session's PANIC takes the node down")
}
