package scenarios

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
	"promotesim/sim"
	"promotesim/storage"
)

// A read served on a primary at its insert position, whose WAL was not yet
// on storage, waits for that WAL before ReadsReflectAcked compares it with
// the oracle. A child's PANIC then makes the postmaster reinitialise shared
// memory (restart_after_crash, profile v15): the unwritten WAL is gone and
// crash recovery hands the same positions to other records. The checker
// used to keep waiting on the same node instance and then compared the old
// read with the new records (v15 seeds 12514 and 19546, ReadsReflectAcked:
// "got lsn=0/0 ..., the oracle has lsn=0/A8"); it now drops a pending read
// whose node was reinitialised (shmem.Node.Reinits), as it does when the
// node dies.
func TestPendingReadDroppedAtReinit(t *testing.T) {
	for seed, classes := range map[uint64]string{ // determinism:ok each seed is its own subtest
		12514: "abort,read,io-error,checkpoint,lag-promote",
		19546: "abort,read,stop,crash,restart,io-error,kill",
	} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			sw := pinnedWorld(t, seed, swarm.Base{}, classes)
			o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
			require.NoError(t, err)
			require.Contains(t, o.Marks, "postmaster/restart-after-crash", "the world still reinitialises")
			require.Nil(t, o.Violation, "%v", o.Violation)
		})
	}
}

// A prewarm replica woken at hot standby in its final read takes
// replayed_oldest_lsn = the replay end (polar_logindex_wakeup_bg_replay);
// the reset then stores the checkpoint redo (polar_reset_bg_replayed_lsn),
// moving it back. The model's reset only raised it, so the bgwriter
// published the replay end as the consistent LSN above changes ONLINE_PROMOTE
// had not replayed (ConsistentLSNDurable, v15 seeds 10226 and 12113). With
// the store as PolarDB makes it, FakeOldestMonotone (the intended machine)
// reports the move back instead (docs/findings.md F4) and no data claim
// fires.
func TestPrewarmResetStoresRedo(t *testing.T) {
	for seed, classes := range map[uint64]string{ // determinism:ok each seed is its own subtest
		10226: "abort,read,crash,restart,latency,pause,kill,pending-promote,lag-promote",
		12113: "read,crash,io-error,latency,pause,pending-promote",
	} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			sw := pinnedWorld(t, seed, swarm.Base{}, classes)
			o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
			require.NoError(t, err)
			require.NotNil(t, o.Violation)
			require.Equal(t, "FakeOldestMonotone", o.Violation.Checker, "%v", o.Violation)
		})
	}
}

// The pending-promote class restarts a replica and promotes it one step
// later, before its postmaster has run (so before the node is InRecovery).
// The runner did not count that node as promoting, and the planner
// promoted a second replica at once; the first, resumed later, wrote its
// clog copy with a mount another promote had superseded (v15-fixed seed
// 37516, SingleWriter, found by explore -profile v15-fixed -seed 20001
// -seeds 20000). A promote of a started replica now counts.
func TestPromoteOfStartingReplicaCounts(t *testing.T) {
	sw := pinnedWorld(t, 37516, swarm.Base{Fixed: true}, "abort,stop,crash,restart,pause,stall-save,kill,pending-promote")
	o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
	require.NoError(t, err)
	require.Nil(t, o.Violation, "%v", o.Violation)
	promotes := 0
	for _, a := range o.Actions {
		if _, ok := a.(script.Promote); ok {
			promotes++
		}
	}
	require.GreaterOrEqual(t, promotes, 1)
}

// pinnedWorld is seed's world with the action classes it had when the
// regression was found (classes, as ParseClasses reads them). ClassStandby,
// ClassTwoPhase and ClassLogical were added to the class draw before issue
// 10's classes, so a seed now draws its kill, pending-promote and
// lag-promote bits from the positions after theirs: the seed alone no
// longer derives the world. These worlds had no standby.
func pinnedWorld(t *testing.T, seed uint64, base swarm.Base, classes string) swarm.Swarm {
	t.Helper()
	sw, err := swarm.DeriveSwarm(seed, base)
	require.NoError(t, err)
	sw.Classes, err = swarm.ParseClasses(classes)
	require.NoError(t, err)
	sw.Opts.Standbys = 0
	sw.Opts.WALWriteBehind = sw.Classes&swarm.ClassTornWAL != 0
	return sw
}

// pg_ctl promote right after pg_ctl start (ClassPendingPromote): the
// SIGUSR1 reached the postmaster before its first step, which took it as
// "not in recovery", cleared the promote file and dropped it; the world's
// operator waited for a promote that never came (v15-fixed seed 89, fence
// epoch, PromoteCompletes, TestSwarmCleanV15Fixed after the twophase and
// logical classes joined the class draw). PostmasterMain blocks signals
// until its children are forked, so the signal waits and is handled then.
func TestPromoteBeforePostmasterStartIsKept(t *testing.T) {
	sw := pinnedWorld(t, 89, swarm.Base{Fixed: true, Fence: storage.FenceEpoch}, "read,stop,restart,pause,stall-save,checkpoint,logical,pending-promote,lag-promote")
	var trace strings.Builder
	o, err := swarm.RunSwarm(sw, swarm.RunConfig{Out: &trace, Level: sim.LevelStory})
	require.NoError(t, err)
	require.Nil(t, o.Violation, "%v", o.Violation)
	require.NotContains(t, trace.String(), `promote-ignored        why="not in recovery"`)
	require.Contains(t, o.Marks, "startup/promote-before-hot-standby")
}

// A promoted standby (n3, its own disk and timeline) commits xid 3 while
// the shared primary prepares its own xid 3 (gid g1); n3's read of its own
// row was judged against the shared history's prepared transaction
// (v15-fixed seed 3955, PreparedInvisible, once lag-promote and twophase
// met in one world). A promoted standby's reads are its own history's.
func TestPromotedStandbyReadIsNotSharedPrepared(t *testing.T) {
	sw, err := swarm.DeriveSwarm(3955, swarm.Base{Fixed: true})
	require.NoError(t, err)
	require.NotZero(t, sw.Classes&swarm.ClassTwoPhase)
	require.NotZero(t, sw.Opts.Standbys)
	o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
	require.NoError(t, err)
	require.Nil(t, o.Violation, "%v", o.Violation)
}
