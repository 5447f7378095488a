package oracle

import (
	"testing"

	"promotesim/logindex"
	"promotesim/storage"
)

// Internals the external tests look at.

// SnapEvery is how many records of a page lie between two snapshots.
const SnapEvery = snapEvery

// PageRecords is the number of history records that change page i.
func PageRecords(o *Oracle, i int) int { return len(o.byPage[i]) }

// PageID is the page id of workload page i.
func PageID(o *Oracle, i int) storage.PageID { return o.pageID(i) }

// TestSnapshotCacheIsReplay holds the page-image cache to its definition:
// an oracle fed page records by hand (two pages of a relation, one change
// each, some on a page outside the workload) caches one image per
// snapEvery records of a page, and Page at every LSN, answered from the
// cache and a short replay, equals replaying the page's records from an
// empty page, so a cache off by one record would be seen here.
func TestSnapshotCacheIsReplay(t *testing.T) {
	const rel = storage.RelID(7)
	o := &Oracle{rel: rel, pages: 2, byPage: make([][]int32, 2), snaps: make([][]storage.Page, 2)}
	lsn := storage.LSN(0x28)
	for i := range 3*snapEvery + 5 {
		r := logindex.Record{Type: logindex.RecPage, Start: lsn, End: lsn + 0x20,
			Changes: []logindex.Change{{Page: storage.PageID{Rel: rel, Block: storage.BlockNo(i % 3)}, Slot: uint8(i % storage.PageSlots), Value: uint64(i + 1)}}}
		o.add(&r)
		lsn += 0x20
	}
	// Block 2 is outside the workload's two pages: PagesOf leaves it out.
	for p := range 2 {
		if got, want := len(o.snaps[p]), len(o.byPage[p])/snapEvery; got != want || got == 0 {
			t.Fatalf("page %d: %d cached images for %d records, want %d (and some)", p, got, len(o.byPage[p]), want)
		}
		for at := storage.LSN(0); at <= lsn; at += 0x10 {
			var img storage.Page
			for _, i := range o.byPage[p] {
				if o.recs[i].End <= at {
					applyOracle(&o.recs[i], o.pageID(p), &img)
				}
			}
			if got := o.Page(p, at); got != img {
				t.Fatalf("page %d at %v: cache and replay %v, replay from empty %v", p, at, got, img)
			}
		}
	}
}
