package scenarios

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/swarm"
	"promotesim/sim"
)

// A backend on the promoted n2 inserts its commit record, then PANICs when
// XLogFlush fails on an injected write (seed 80683) or sync (seed 90391)
// error, before the clog says committed. Before the fix its exit cleared
// DelayChkpt, so n2's checkpointer, not yet killed by the postmaster's crash
// handling, checkpointed with its redo past the commit record (its flush
// wrote the record too) and a clog without the xid: crash recovery from
// that redo never replays the commit (CrashRecovers, "xid 14 after crash
// recovery from redo 0/470 to 0/490: committed=false, the WAL says
// committed=true"). A PANIC skips ProcKill, so the flag stays set and
// CreateCheckPoint waits until the node goes down.
//
// Still seed-pinned: it rebuilds the world the seeds had (classes and
// issue-10 paths removed) and asserts the story in its trace, so it fails
// loudly if the planner stops producing it; a script of it is a TODO
// (testdata/regressions/README.md).
func TestPanicInCommitKeepsDelayChkpt(t *testing.T) {
	for _, seed := range []uint64{80683, 90391} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			// Found before classes reuse and torn-wal existed.
			sw, err := swarm.DeriveSwarm(seed, swarm.Base{Fixed: true, Without: swarm.ClassReuse | swarm.ClassTornWAL})
			require.NoError(t, err)
			// The programs these seeds had when the bug was found: classes
			// added since change the program of the seeds that draw them;
			// a child PANIC takes the node down in v15-fixed (v15 restarts
			// it, restart_after_crash).
			sw = sw.WithoutIssueTenPaths()
			sw.Classes &^= swarm.ClassTwoPhase | swarm.ClassLogical
			var trace bytes.Buffer
			out, err := swarm.RunSwarm(sw, swarm.RunConfig{Out: &trace, Level: sim.LevelStory, SkipLiveness: true})
			require.NoError(t, err)
			require.Nil(t, out.Violation)
			// The world still reaches the story: a backend PANICs on its
			// commit's WAL flush and n2 goes down.
			require.Contains(t, trace.String(), "n2/backend")
			require.Contains(t, trace.String(), "injected I/O error")
			require.Contains(t, trace.String(), "n2/postmaster  child-panic")
		})
	}
}
