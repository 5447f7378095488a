package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
	"promotesim/sim"
)

// TestReplicaIndexedUnsyncedWALSurvivesPrimaryCrash replays the shrunk
// program and schedule of TestClusterProperties' failure (rapid fail file
// TestClusterProperties-20261202060357-20713): n1's WAL sync fails and its
// walwriter PANICs, leaving the record at 0/60 on storage but not durable;
// n2, rebuilt, catches up from storage and indexes it; then n1's host
// crashes, and the liveness phase promotes n2. Before the fix the crash
// dropped the record n2 had read, so n2's BGW, replaying page 1/0 from
// LogIndex after promote, PANICked on a zero-length record at 0/60
// (NoUnexpectedExit). A write another host read is on the shared media; a
// crash of its writer leaves it (storage.Device.Crash). The FIFO version of
// the story is TestReplicaReadUnsyncedWALThenPrimaryCrash. Both run
// v15-fixed, as TestClusterProperties does: under v15 the walwriter's PANIC
// makes n1's postmaster reinitialise and restart (restart_after_crash)
// instead of leaving n1 down.
func TestReplicaIndexedUnsyncedWALSurvivesPrimaryCrash(t *testing.T) {
	lines := []string{
		"cluster nodes=2 pages=2 pool=3 queue=3 logindex-mem=4 table-size=8 batch=1 workers=1 sessions=2 fence=none profile=v15-fixed seed=1 sched=fifo",
		"fault node=1 kind=io-error op=sync path=",
		"stop node=2 mode=fast",
		"rebuild node=2",
		"submit node=1 page=0 slot=0 abort=true count=1",
		"run steps=17",
		"crash node=1",
		"run steps=200",
		"check all",
		"liveness",
	}
	// The rapid run's scheduler choices, in order (every later choice is 0).
	schedule := []int{1, 1, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0}
	cmds := make([]script.Command, len(lines))
	for i, l := range lines {
		c, err := script.Parse(l)
		require.NoError(t, err, l)
		cmds[i] = c
	}
	cl, ok := cmds[0].(script.Cluster)
	require.True(t, ok)
	var trace strings.Builder
	o, err := swarm.Replay(cl, cmds[1:], 1, swarm.RunConfig{Chooser: sim.NewScripted(schedule...), Out: &trace, Level: sim.LevelStory})
	require.NoError(t, err)
	require.Nil(t, o.Violation, "%s", failureIf(o))
	out := trace.String()
	require.Contains(t, out, "replayed=0/90", "n2 indexed the record at 0/60 before n1's crash")
	require.Contains(t, out, "n2/bgw         promote-finished", "n2's BGW replayed it after promote")
}

// TestReplicaReadUnsyncedWALThenPrimaryCrash is the story of
// TestReplicaIndexedUnsyncedWALSurvivesPrimaryCrash under the FIFO schedule.
// n1's walwriter writes the record of n1's first transaction to shared
// storage, its fsync fails (an injected I/O error) and it PANICs: n1 is down,
// its host is not, and the record is on storage but not durable. n2, rebuilt
// as a replica, catches up from storage to the end of valid WAL and so reads
// and indexes that record (replayed=0/90). Then n1's host loses power. The
// bytes n2 read were on the shared media (PFS does direct I/O; no host has a
// cache of its own), so the crash cannot take them back: they stay, pending
// until a sync. n2 is promoted: its final replay finds the old end where it
// left off (0/90), end-of-recovery goes there, and page 1/0 carries the
// record at 0/60. Before the fix the crash dropped every unsynced write of
// n1's, the record with it, and n2's end-of-recovery write zeroed the hole
// below the end it had read (NoWALBelowOldEnd).
func TestReplicaReadUnsyncedWALThenPrimaryCrash(t *testing.T) {
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	fixture.RunLines(t, r, `
		cluster nodes=2 pages=2 profile=v15-fixed
		fault node=1 kind=io-error op=sync path=pg_wal/
		stop node=2 mode=fast
		run-until stopped node=2
		submit node=1 page=0 slot=0 count=1
		run-until stopped node=1`)
	require.Equal(t, "0/90", r.C.Node(1).WAL.WrittenLSN().String(), "n1 wrote the record")
	require.Equal(t, "0/60", r.C.Node(1).WAL.FlushedLSN().String(), "n1 did not sync it")
	fixture.RunLines(t, r, `
		rebuild node=2
		run-until hot-standby node=2`)
	require.Equal(t, "0/90", r.C.Node(2).ReplayLSN.String(), "n2 read the unsynced record")
	fixture.RunLines(t, r, `
		crash node=1
		promote node=2
		run-until read-write node=2
		check all`)
	out, err := r.Exec("read node=2 page=0")
	require.NoError(t, err)
	require.Contains(t, out, "lsn=0/90", "page 1/0 has the record at 0/60-0/90")
}
