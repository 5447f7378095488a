package logindex

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/storage"
)

// An init record round-trips through the WAL encoding, and replaying it
// empties the page before setting its slot, so nothing from the page's
// earlier life survives; replaying it twice changes nothing.
func TestInitRecordRestartsPage(t *testing.T) {
	pg := storage.PageID{Rel: 1, Block: 3}
	rec := Record{Type: RecInitPage, XID: 9, Prev: 0x28, Changes: []Change{{Page: pg, Slot: 1, Value: 77}}}
	b, err := rec.Encode(nil)
	require.NoError(t, err)
	var got Record
	require.NoError(t, got.Decode(b))
	require.Equal(t, RecInitPage, got.Type)
	require.Equal(t, rec.Changes, got.Changes)
	require.Equal(t, []storage.PageID{pg}, got.Pages(nil))
	require.True(t, RecInitPage.HasPages())
	typ, err := ParseRecordType("init-page")
	require.NoError(t, err)
	require.Equal(t, RecInitPage, typ)

	got.Start, got.End = 0x100, 0x140
	page := storage.Page{LSN: 0x80, Slots: [storage.PageSlots]uint64{5, 6, 7, 8}}
	require.True(t, got.Apply(pg, &page))
	require.Equal(t, storage.Page{LSN: 0x140, Slots: [storage.PageSlots]uint64{0, 77, 0, 0}}, page)
	require.False(t, got.Apply(pg, &page), "replayed twice")
	other := storage.Page{LSN: 0x80, Slots: [storage.PageSlots]uint64{5, 6, 7, 8}}
	require.False(t, got.Apply(storage.PageID{Rel: 1, Block: 4}, &other), "another page is untouched")
	require.Equal(t, uint64(5), other.Slots[0])
}
