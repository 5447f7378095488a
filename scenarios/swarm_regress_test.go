package scenarios

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/explore"
	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/oracle"
	"promotesim/scenarios/script"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// Regression stories for false alarms the clean swarm found (profile v15,
// no hazard). Each is the smallest script that showed the fault before its
// fix; the safety checkers run after every step, so a script that runs
// without error holds every claim.

// A replica read on slow storage is issued before the primary writes the
// page twice, flushes it and checkpoints (its shutdown checkpoint truncates
// LogIndex below the new redo), and completes after. The read's data is
// what storage holds when it completes (the newest version), replayed from
// the truncation point on. Before the fix the copy was taken when the read
// was issued and replay started at the truncation point, past the two
// records it lacked: the replica served page 2 at 0/90 where the oracle has
// 0/120 (swarm seed 44, ReplicaReadsMatchOracle).
func TestReplicaReadOutlivesTruncation(t *testing.T) {
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	fixture.RunLines(t, r, `
		cluster nodes=2 pages=4
		write node=1 page=2 slot=1
		run-until caught-up node=2
		fault node=2 kind=latency ticks=400
		submit-read node=2 page=2
		run steps=5
		write node=1 page=2 slot=2
		write node=1 page=2 slot=3
		stop node=1 mode=fast
		run steps=600`)
	reads := r.C.Journal.Reads
	require.NotEmpty(t, reads)
	last := reads[len(reads)-1]
	require.Equal(t, storage.HostID(2), last.Node)
	require.Equal(t, storage.LSN(0x120), last.Content.LSN, "the slow read serves the page as of its replay position")
	for s := 1; s <= 3; s++ {
		require.True(t, last.Visible[s], "slot %d's commit is visible", s)
	}
}

// A primary restarting from shared storage loads its replicas' slots
// (StartupReplicationSlots), so its flush gate holds from its first page
// write. Here replica n2's replay is frozen at 0/A8: before the fix the
// restarted n1 had no slots and flushed page 0 at 0/138, and n2 read that
// future page (swarm seed 404, ReplicaReadsMatchOracle).
func TestRestartedPrimaryKeepsFlushGate(t *testing.T) {
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	fixture.RunLines(t, r, `
		cluster nodes=2 pages=4
		write node=1 page=0 slot=0
		run-until caught-up node=2
		pause node=2 proc=startup
		write node=1 page=0 slot=1
		crash node=1
		start node=1 role=primary
		run-until read-write node=1
		write node=1 page=0 slot=2
		run steps=300
		submit-read node=2 page=0
		run steps=50`)
	out, err := r.Exec("slots node=1")
	require.NoError(t, err)
	require.Contains(t, out, "replica1")
	n1, n2 := r.C.Node(1), r.C.Node(2)
	require.Positive(t, n1.Pool.FlushLen(), "page 0 stays dirty: the gate holds it")
	reads := r.C.Journal.Reads
	require.NotEmpty(t, reads)
	require.LessOrEqual(t, reads[len(reads)-1].Content.LSN, n2.ReplayLSN, "no future page")
}

// Under fencing an operator may promote n3 while the old primary n1 still
// runs. n2 must follow n3 (primary_conninfo now names it): before the fix it
// stayed with n1's walsender and never heard of n3's WAL, and n3 then wrote
// pages past it (swarm seed 1190, ReplicaReadsMatchOracle).
func TestReplicaFollowsPromotedNodeWhileOldPrimaryRuns(t *testing.T) {
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	fixture.RunLines(t, r, `
		cluster nodes=3 pages=4 fence=epoch
		writes node=1 count=3
		run-until caught-up node=2
		promote node=3
		run-until read-write node=3
		writes node=3 count=2
		run steps=400`)
	n1, n2, n3 := r.C.Node(1), r.C.Node(2), r.C.Node(3)
	require.True(t, n1.ReadWrite, "the old primary still runs (nothing made it write)")
	p := r.C.Primary()
	require.NotNil(t, p)
	require.Equal(t, storage.HostID(3), p.Cfg.Host, "the primary is the node holding the writer role")
	require.Equal(t, n3.WAL.FlushedLSN(), n2.ReplayLSN, "n2 replays the new primary's WAL")
}

// Liveness after the same story, with the new primary stopped: the
// operator must not keep the displaced n1 (it would be turned away at its
// first write, and it lacks n3's commits). Before the fix the phase kept n1
// and either reported convergence on a primary missing acknowledged commits
// or, once n1's bgwriter was fenced, never converged (swarm seed 87,
// PrimaryServes).
func TestLivenessSkipsDisplacedPrimary(t *testing.T) {
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	fixture.RunLines(t, r, `
		cluster nodes=3 pages=4 fence=epoch
		writes node=1 count=3
		run-until caught-up node=3
		promote node=3
		run-until read-write node=3
		writes node=3 count=2
		stop node=3 mode=fast
		liveness`)
	p := r.C.Primary()
	require.NotNil(t, p)
	require.NotEqual(t, storage.HostID(1), p.Cfg.Host, "the displaced old primary is not kept")
	require.True(t, p.Mount.Writer())
	_, err := r.Exec(fmt.Sprintf("check acked-visible node=%d", p.Cfg.Host))
	require.NoError(t, err)
}

// Liveness while a primary is in crash recovery: it holds the writer role
// but is still in recovery. Before the fix the operator took it for a
// replica, promoted another replica past it, and once its recovery ended
// it wrote WAL without the writer role (SingleWriter; the
// hazard no-backend-wait swarm reported it).
func TestLivenessWaitsForPrimaryInCrashRecovery(t *testing.T) {
	exercised := 0
	for seed := uint64(1); seed <= 12; seed++ {
		r := script.NewRunner(seed, sim.LevelStory, sim.FormatText)
		lines := `
			cluster nodes=3 pages=4 sched=random
			writes node=1 count=3
			stop node=1 mode=immediate
			start node=1 role=primary
			run steps=3`
		fixture.RunLines(t, r, lines)
		n1 := r.C.Node(1)
		if !n1.InRecovery || n1.Procs.Startup == shmem.NoProc || !r.C.S.Alive(n1.Procs.Startup) {
			continue // this schedule finished (or never began) recovery already
		}
		exercised++
		fixture.RunLines(t, r, "pause node=1 proc=startup\nliveness")
		p := r.C.Primary()
		require.NotNil(t, p, "seed %d", seed)
		require.Equal(t, storage.HostID(1), p.Cfg.Host, "seed %d: the recovering primary is the one kept", seed)
		for _, h := range r.C.Hosts() {
			if n := r.C.Node(h); n != p {
				require.True(t, n.InRecovery, "seed %d: %v is a replica", seed, h)
			}
		}
	}
	require.Positive(t, exercised, "no schedule caught n1 in crash recovery")
}

// pg_ctl promote on a node started as primary, caught in crash recovery:
// crash recovery is not standby mode, so the signal is ignored and the
// node comes up read-write by itself. Before the fix the postmaster began
// an online promote on it (remount, SIGUSR2 to a crash-recovery startup)
// and some schedules left it with service closed for good
// (TestClusterProperties, PrimaryServes).
func TestPromoteIgnoredInCrashRecovery(t *testing.T) {
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	fixture.RunLines(t, r, `
		cluster nodes=2 pages=2
		writes node=1 count=2
		crash node=1
		crash node=2
		start node=2 role=primary`)
	n2 := r.C.Node(2)
	for i := 0; i < 20 && !n2.InRecovery; i++ {
		fixture.RunLines(t, r, "run steps=1")
	}
	require.True(t, n2.InRecovery, "n2 is in crash recovery")
	fixture.RunLines(t, r, "pause node=2 proc=startup")
	out, err := r.Exec("promote node=2")
	require.NoError(t, err)
	out2, err := r.Exec("run steps=20")
	require.NoError(t, err)
	require.Contains(t, out+out2, "promote-ignored")
	require.NotContains(t, out+out2, "promote-begin")
	fixture.RunLines(t, r, "resume node=2 proc=startup\nrun-until read-write node=2\ncheck acked-visible node=2")
}

// The shutdown checkpoint's LogIndex meta write is created but its sync
// fails: the checkpointer PANICs and the crash drops the write, leaving a
// meta file of the right size full of zeros. A restart must read that as
// "nothing saved yet" (the create was durable, the first write was not);
// before the fix it failed with a corrupt meta and no primary ever came
// back (rapid, TestClusterProperties: PrimaryServes).
func TestRestartAfterLostLogIndexMeta(t *testing.T) {
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	fixture.RunLines(t, r, `
		cluster nodes=2 pages=2 pool=3 queue=3 logindex-mem=4 table-size=8 batch=1 workers=1 sessions=2 fence=none profile=v15 seed=1
		crash node=2
		fault node=1 kind=io-error op=sync path=pg_logindex/
		stop node=1 mode=fast
		crash node=1
		liveness`)
	require.NotNil(t, r.C.Primary(), "a primary serves after the liveness phase")
}

// Replica n2's startup is paused while n1 writes about forty transactions:
// the primary saves LogIndex tables 1-3, n2 indexes through its queue and
// storage only later and reuses its two memtables on the primary's meta
// alone, so its table catalogue stops at table 1 (its BGW looked that up
// once). n1 stops; liveness promotes n2. The BGW's online-promote replay
// walks LogIndex from the redo pointer; before the fix its LSN iterator ran
// off the end of the catalogue (table 1 ends at 0/240) straight to the
// memtables (0/4E0 on), skipping table 2. Page 5's only late record
// (0/408-0/438) is in table 2, so page 5 was never replayed and the
// consistent LSN passed it while storage held page 5 at 0/168 (swarm seed
// 7880, ConsistentLSNDurable). The iterator now walks table ids as
// polar_log_index_lsn_iterator_next does. The commands and scheduler choices
// are the shrunk counterexample's.
func TestPromotedBGWReplaysUncataloguedTables(t *testing.T) {
	schedule, err := explore.ParseSchedule("0 0 1 1 0*19 4 0*24 2 1*3 0 0 2 0*4 1 0*4 2 0*25 1 1 0*37 3 7 5 0 4 6 1 5 1 7 0 0 6 7")
	require.NoError(t, err)
	r := script.NewRunner(7880, sim.LevelStory, sim.FormatText)
	r.Chooser = sim.NewScripted(schedule...)
	fixture.RunLines(t, r, `
		cluster nodes=2 pages=6 pool=7 queue=9 logindex-mem=2 table-size=8 batch=1 workers=1 sessions=3 fence=none profile=v15 seed=7880 sched=fifo
		pause node=2 proc=startup
		submit node=1 page=2 slot=1 count=9
		run steps=129
		submit node=1 page=0 slot=2 count=7
		submit node=1 page=0 slot=2 count=25
		resume node=2 proc=startup
		run steps=49
		pause node=2 proc=startup
		run steps=104
		stop node=1 mode=immediate
		liveness`)
	p := r.C.Primary()
	require.NotNil(t, p)
	require.Equal(t, storage.HostID(2), p.Cfg.Host, "liveness promoted n2")
	require.GreaterOrEqual(t, p.Pool.ConsistentLSN(), storage.LSN(0x438), "the consistent LSN passed page 5's change")
	require.NoError(t, r.K.Full())
	// Page 5 on storage carries its last change (0/408, ending 0/438).
	m, ok := r.C.Dev.Mounted(oracle.ObserverHost)
	require.True(t, ok, "the checkers' observer mount")
	var b [storage.BlockSize]byte
	_, err = m.ReadAt(p.RelPath(), b[:], 5*storage.BlockSize)
	require.NoError(t, err)
	pg, err := storage.UnmarshalPage(b[:])
	require.NoError(t, err)
	require.GreaterOrEqual(t, pg.LSN, storage.LSN(0x438))
}
