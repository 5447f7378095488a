package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/script"
	"promotesim/sim"
	"promotesim/storage"
)

// A replica read loads page 2 from storage and fails replaying it (the
// primary's bgwriter is paused, so storage has no version of the page): the WAL
// of the record it must apply cannot be read (an injected I/O error). The
// client gets the error; the buffer must not stay in the pool as a valid
// page, because it holds storage without the record. The primary then
// changes the page again, and the replica's BGW, which replays records on
// pooled pages only, would apply the newer record on top of that image:
// page LSN past the missing change, so no later replay could fill it.
// Before the fix the second read served slot 2 without slot 1 at the right
// page LSN (swarm seeds 9053, 12638, 4444 with fence none, 3384 and 10201
// with fence epoch: ReplicaReadsMatchOracle, and CrashRecovers where the
// replica was then promoted and wrote the gap to storage).
func TestFailedReplicaReadDropsItsBuffer(t *testing.T) {
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	fixture.RunLines(t, r, `
		cluster nodes=2 pages=4
		pause node=1 proc=bgwriter
		write node=1 page=2 slot=1
		run-until caught-up node=2
		fault node=2 kind=io-error op=read path=pg_wal/ count=1`)
	out, err := r.Exec("read node=2 page=2")
	require.NoError(t, err)
	require.Contains(t, out, "injected I/O error", "the read fails replaying the record")
	n2 := r.C.Node(2)
	page := n2.Page(2)
	_, pooled := n2.Pool.Lookup(page)
	require.False(t, pooled, "the failed read leaves no buffer (AbortBufferIO: !BM_VALID)")

	fixture.RunLines(t, r, `
		write node=1 page=2 slot=2
		run-until caught-up node=2
		run steps=50`)
	out, err = r.Exec("read node=2 page=2")
	require.NoError(t, err, "every checker holds, ReplicaReadsMatchOracle included")
	reads := r.C.Journal.Reads
	require.NotEmpty(t, reads, out)
	last := reads[len(reads)-1]
	require.Equal(t, storage.HostID(2), last.Node)
	require.True(t, last.Visible[1], "slot 1's change is in the page: %s", out)
	require.True(t, last.Visible[2], "slot 2's change is in the page: %s", out)
}
