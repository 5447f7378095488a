package logindex

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/storage"
)

// A record whose first WAL page is written and whose continuation page is
// not is an aborted contrecord (missingContrecPtr = that page); once an
// OVERWRITE_CONTRECORD naming it is written at that page, readers skip the
// aborted record and the WAL goes on from the overwrite record.
func TestAbortedContrecordSkippedAfterOverwrite(t *testing.T) {
	_, vol, _ := newDevice(t)
	cfg := DefaultConfig()
	w, err := NewWAL(vol, cfg, FirstLSN, storage.InvalidLSN)
	require.NoError(t, err)
	pg := storage.PageID{Rel: 1, Block: 0}
	var recs []Record
	for w.InsertLSN() < 2*WALPageSize-8 {
		r := Record{Type: RecPage, XID: 1, Changes: []Change{{Page: pg, Slot: 0, Value: 1}}}
		require.NoError(t, w.Insert(&r))
		recs = append(recs, r)
	}
	last := recs[len(recs)-1]
	require.Greater(t, last.End, PageStart(last.End), "the last record crosses a WAL page boundary")
	require.Less(t, last.Start, PageStart(last.End))
	require.NoError(t, w.Write(PageStart(last.End)))
	require.True(t, w.MidRecord())
	require.NoError(t, w.Sync())

	rd, err := NewReader(vol, cfg)
	require.NoError(t, err)
	var rec Record
	e, err := rd.FindEnd(FirstLSN, storage.InvalidLSN, &rec, nil)
	require.NoError(t, err)
	require.Equal(t, last.Start, e.End, "WAL ends at the aborted record")
	require.Equal(t, PageStart(last.End), e.MissingContrec)

	// Crash recovery's OVERWRITE_CONTRECORD at the missing page.
	w2, err := NewWAL(vol, cfg, e.MissingContrec, e.Last)
	require.NoError(t, err)
	ow := Record{Type: RecOverwriteContrecord, Aborted: e.End}
	require.NoError(t, w2.Insert(&ow))
	eor := Record{Type: RecEndOfRecovery}
	require.NoError(t, w2.Insert(&eor))
	require.NoError(t, w2.Flush(w2.InsertLSN()))

	var seen []RecordType
	e2, err := rd.FindEnd(FirstLSN, storage.InvalidLSN, &rec, func(r *Record) error {
		seen = append(seen, r.Type)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, eor.End, e2.End)
	require.Equal(t, len(recs)-1+2, e2.Records, "every complete record, the overwrite and end-of-recovery")
	require.Equal(t, []RecordType{RecOverwriteContrecord, RecEndOfRecovery}, seen[len(seen)-2:])
	_, aborted, err := rd.AbortedContrecord(e2.End, e2.Last)
	require.NoError(t, err)
	require.False(t, aborted, "nothing at the end now")
}
