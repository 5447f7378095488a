package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/script"
	"promotesim/sim"
	"promotesim/storage"
)

// Liveness stories the clean swarm found in fence mode epoch (profile v15,
// no hazard), with the checkers running after every step.

// A primary whose LogIndex saving is stalled indexes ten page records that
// no table saves; its replica n2 indexes them too. A fast stop checkpoints
// past them and the primary restarts from shared storage (the stall is gone
// with the old instance). Seven more records then fill n2's memtable ring
// (2 x 8 entries): it can reuse a memtable only once the primary saves a
// table at or past it. Before the fix the restarted primary indexed only
// from its redo pointer, so it held seven entries, saved nothing, and n2
// waited for ever (swarm seed 7161, ReplicasCatchUp). Now crash recovery
// indexes from the last saved table, as PolarDB's startup reads WAL from the
// LogIndex meta's start_lsn, and saves the tables it fills.
func TestRestartedPrimaryIndexesUnsavedLogIndex(t *testing.T) {
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	fixture.RunLines(t, r, `
		cluster nodes=2 pages=4 logindex-mem=2 table-size=8
		stall-save node=1
		writes node=1 count=10
		run-until caught-up node=2
		stop node=1 mode=fast
		start node=1 role=primary
		run-until read-write node=1
		writes node=1 count=7
		run steps=300`)
	n1, n2 := r.C.Node(1), r.C.Node(2)
	require.True(t, n1.Index.Saved().MaxLSN.Valid(), "the restarted primary saved the tables it filled")
	require.Equal(t, n1.WAL.FlushedLSN(), n2.ReplayLSN, "n2 is not stuck on a full memtable ring")
	out, err := r.Exec("liveness")
	require.NoError(t, err)
	require.Contains(t, out, "cluster converged")
}

// The same gap through online promote: n1 stalls saving, n2 indexes its
// twenty page records from the start, n3 is rebuilt after a checkpoint and
// indexes only what follows its redo pointer, then n3 is promoted (under
// fencing the operator leaves n1 running for now). n2's ring (2 x 12
// entries) fills with five more records. Before the fix n3's LogIndex
// lacked the records below its redo pointer, never filled a table and never
// saved one, and n2 stalled through the liveness phase. Now a replica, like
// a primary, indexes from the last saved table before it catches up.
func TestPromotedReplicaIndexesUnsavedLogIndex(t *testing.T) {
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	fixture.RunLines(t, r, `
		cluster nodes=3 pages=4 logindex-mem=2 table-size=12 fence=epoch
		stall-save node=1
		writes node=1 count=20
		run-until caught-up node=2
		run steps=300
		crash node=3
		rebuild node=3
		run-until caught-up node=3
		promote node=3
		run-until read-write node=3
		writes node=3 count=5
		run steps=300`)
	n2, n3 := r.C.Node(2), r.C.Node(3)
	require.Greater(t, n3.Index.Saved().MaxLSN, storage.LSN(0x450), "n3 saved a table past its redo pointer")
	require.Equal(t, n3.WAL.FlushedLSN(), n2.ReplayLSN, "n2 is not stuck on a full memtable ring")
	out, err := r.Exec("liveness")
	require.NoError(t, err)
	require.Contains(t, out, "cluster converged")
}

// A child PANICs on an injected WAL write error while its postmaster is
// paused, so the exit is not reaped when the liveness phase heals every
// fault. Before the fix the operator picked n1, still alive and read-write,
// as the primary; its postmaster then reaped the PANIC and took n1 down,
// and the phase waited 20000 steps for a primary that was gone (swarm seeds
// 11760 and 15528, PrimaryServes). Now the phase lets every postmaster reap
// its exited children before it plans: n1 goes down and n2 is promoted.
// (In v15-fixed: there a child PANIC takes the node down; v15 restarts it,
// restart_after_crash.)
func TestLivenessReapsExitedChildrenFirst(t *testing.T) {
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	fixture.RunLines(t, r, `
		cluster nodes=2 pages=4 fence=epoch profile=v15-fixed
		writes node=1 count=2
		run-until caught-up node=2
		pause node=1 proc=postmaster
		pause node=2 proc=startup
		fault node=1 kind=io-error op=write path=pg_wal/ count=1
		submit node=1 page=0 slot=1
		run steps=100`)
	n1 := r.C.Node(1)
	require.True(t, r.C.Op.Alive(n1) && n1.ReadWrite, "n1 still looks like a serving primary")
	require.True(t, r.Unreaped(n1), "its walwriter exited and is not reaped")
	out, err := r.Exec("liveness")
	require.NoError(t, err)
	require.Contains(t, out, "n1/postmaster  child-panic")
	require.Contains(t, out, "n2/operator    pg_ctl-promote")
	require.Contains(t, out, "cluster converged")
	p := r.C.Primary()
	require.NotNil(t, p)
	require.Equal(t, storage.HostID(2), p.Cfg.Host)
}
