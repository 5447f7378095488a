package startup_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/startup"
	"promotesim/storage"
)

// A replica indexes the WAL between the primary's last saved LogIndex table
// and its redo pointer before catching up (reindex.go): its LogIndex then
// holds every unsaved record, as the primary's does, and not only those
// after the checkpoint it started from.
func TestReplicaIndexesFromLastSavedTable(t *testing.T) {
	for _, save := range []bool{false, true} {
		w := newWorld(t, worldOpts{scripted: true, noSave: !save, table: 4})
		w.writeSome(5)
		w.checkpoint()
		w.writeSome(1)
		saved := w.pix.Saved().MaxLSN
		if save {
			require.True(t, saved.Valid(), "tables of four entries: ten page records fill two")
			require.Less(t, saved, w.redo)
		} else {
			require.False(t, saved.Valid())
		}
		w.startReplica()
		w.run(1000, w.inState(startup.StateStreaming))
		require.Equal(t, w.pwal.FlushedLSN(), w.n.ReplayLSN)
		require.Equal(t, w.redo, w.proc.Redo(), "replay starts at the redo pointer")
		from := max(saved, logindex.FirstLSN)
		for b := range w.cfg.Pages {
			pg := storage.PageID{Rel: rel, Block: storage.BlockNo(b)}
			want := w.pageRecs(pg, from+1, w.redo)
			got, err := w.n.Index.History(nil, pg, from, w.redo-1)
			require.NoError(t, err)
			// A replica's LogIndex also finds saved tables, so compare only
			// what follows the last saved table.
			var unsaved []storage.LSN
			for _, l := range got {
				if l > saved {
					unsaved = append(unsaved, l)
				}
			}
			require.Equal(t, want, unsaved, "save=%v page %v: records below redo after the last saved table", save, pg)
		}
	}
}

// SIGUSR2 while the replica still indexes below its redo pointer is kept and
// acted on once catch-up begins: the catch-up reading becomes P1.
func TestPromoteWhileReindexing(t *testing.T) {
	w := newWorld(t, worldOpts{scripted: true, noSave: true})
	w.writeSome(4)
	w.checkpoint()
	w.writeSome(2)
	w.startReplica()
	w.run(100, w.inState(startup.StateReindex))
	w.promote(true)
	w.run(1000, w.exited)
	require.Equal(t, uint64(1), w.s.Marks().Count("startup/promote-before-hot-standby"))
	require.Zero(t, w.s.Marks().Count("startup/hot-standby"))
	w.assertPromoted(t)
	require.Equal(t, shmem.ExitNormal, w.exits.Of(w.n)[0].Kind)
}
