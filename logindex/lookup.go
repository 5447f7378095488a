package logindex

import (
	"fmt"

	"promotesim/storage"
)

// Entry is one (page, record start LSN) pair of LogIndex.
type Entry struct {
	Page storage.PageID
	LSN  storage.LSN
}

// History appends to dst the start LSNs of every indexed record touching
// page with LSN in (from, to], ascending, from saved tables and memtables
// (polar_logindex_create_page_iterator). A replica applies these records to a
// page it reads from storage. If the range reaches below the truncation
// point (from+1 < TruncatedBelow) it fails with ErrTruncated; a read-only
// snapshot rereads the meta first to learn the current point.
func (ix *Index) History(dst []storage.LSN, page storage.PageID, from, to storage.LSN) ([]storage.LSN, error) {
	if !ix.enabled {
		return dst, ErrDisabled
	}
	if to <= from {
		return dst, nil
	}
	if !ix.writable {
		if err := ix.st.refresh(); err != nil {
			return dst, err
		}
	}
	if t := ix.st.meta.TruncLSN; from+1 < t {
		return dst, fmt.Errorf("%w: history of %v reaches %v, truncated below %v", ErrTruncated, page, from+1, t)
	}
	if hi := ix.storedBelow(to); from < hi {
		var err error
		if dst, err = ix.storedHistory(dst, page, from, hi); err != nil {
			return dst, err
		}
	}
	n := len(ix.tables)
	for k := 1; k <= n; k++ {
		t := &ix.tables[(ix.active+k)%n]
		if t.state != TableFree {
			dst = t.history(dst, page, from, to)
		}
	}
	return dst, nil
}

// storedBelow is the largest LSN <= to that only saved tables can hold.
func (ix *Index) storedBelow(to storage.LSN) storage.LSN {
	if ix.low.Valid() && ix.low-1 < to {
		return ix.low - 1
	}
	return to
}

// catalogFor makes sure the catalogue covers lsn if storage does, rereading
// the meta only when the catalogue is behind. (A read-only snapshot has
// reread it at the start of the lookup, so it knows what was truncated.)
func (ix *Index) catalogFor(lsn storage.LSN) error {
	c := ix.st.catalog
	if len(c) > 0 && c[len(c)-1].max >= lsn {
		return nil
	}
	return ix.st.refresh()
}

// firstTable is the catalogue index of the first saved table with max >= lsn.
func (ix *Index) firstTable(lsn storage.LSN) int {
	c := ix.st.catalog
	lo, hi := 0, len(c)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c[m].max < lsn {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (ix *Index) storedHistory(dst []storage.LSN, page storage.PageID, from, to storage.LSN) ([]storage.LSN, error) {
	if err := ix.catalogFor(to); err != nil {
		return dst, err
	}
	c := ix.st.catalog
	for i := ix.firstTable(from + 1); i < len(c) && c[i].min <= to; i++ {
		es, err := ix.st.load(c[i])
		if err != nil {
			return dst, err
		}
		for j := range es {
			if e := &es[j]; e.page == page && e.lsn > from && e.lsn <= to {
				dst = append(dst, e.lsn)
			}
		}
	}
	return dst, nil
}

// Iterator walks all (page, LSN) pairs from an LSN on, ascending by LSN and,
// within one record, in the order its pages were added
// (polar_logindex_create_lsn_iterator). The BGW uses it for background
// replay. It is resumable: when it reports no entry, later Adds are returned
// by later calls. Memtable reuse under it is detected and handled by seeking
// again by LSN. While its position is below the truncation point, Next fails
// with ErrTruncated (a read-only snapshot rereads the meta whenever Next
// leaves the in-memtable fast path, and on Refresh).
type Iterator struct {
	ix  *Index
	lsn storage.LSN // the next entry is the first with (LSN, rank) >= (lsn, k)
	k   int         // entries with LSN == lsn already returned

	hint bool // slot/off/gen point at the next entry in a memtable
	slot int
	off  int
	gen  uint64
}

// Iterate returns an iterator over entries with LSN >= from.
func (ix *Index) Iterate(from storage.LSN) Iterator { return Iterator{ix: ix, lsn: from} }

// Position is the LSN the iterator has reached.
func (it *Iterator) Position() storage.LSN { return it.lsn }

func (it *Iterator) step(e Entry) (Entry, bool, error) {
	if e.LSN == it.lsn {
		it.k++
	} else {
		it.lsn, it.k = e.LSN, 1
	}
	return e, true, nil
}

// Next returns the next entry; ok is false when there is none yet.
func (it *Iterator) Next() (e Entry, ok bool, err error) {
	ix := it.ix
	if !ix.enabled {
		return Entry{}, false, ErrDisabled
	}
	if it.lsn < ix.st.meta.TruncLSN {
		return Entry{}, false, it.truncated()
	}
	n := len(ix.tables)
	for range n + 1 {
		if !it.hint {
			break
		}
		t := &ix.tables[it.slot]
		if t.gen != it.gen {
			it.hint = false
			break
		}
		if it.off < len(t.entries) {
			me := &t.entries[it.off]
			it.off++
			return it.step(Entry{Page: me.page, LSN: me.lsn})
		}
		if it.slot == ix.active {
			return Entry{}, false, nil
		}
		it.slot = (it.slot + 1) % n
		it.gen, it.off = ix.tables[it.slot].gen, 0
	}
	if !ix.writable {
		if err := ix.st.refresh(); err != nil {
			return Entry{}, false, err
		}
		if it.lsn < ix.st.meta.TruncLSN {
			return Entry{}, false, it.truncated()
		}
	}
	if !ix.low.Valid() || it.lsn < ix.low {
		if e, ok, err := it.nextStored(); ok || err != nil {
			return e, ok, err
		}
	}
	return it.seekMem()
}

func (it *Iterator) truncated() error {
	return fmt.Errorf("%w: iterator at %v, truncated below %v", ErrTruncated, it.lsn, it.ix.st.meta.TruncLSN)
}

// skip returns the index of the next entry in es (sorted by LSN) at or after
// the cursor.
func (it *Iterator) skip(es []mentry, i int) int {
	for k := 0; k < it.k && i < len(es) && es[i].lsn == it.lsn; k++ {
		i++
	}
	return i
}

// nextStored returns the first saved entry at or after the cursor below low.
//
// It walks on from table to table by id, as polar_log_index_lsn_iterator_next
// (polar_logindex_iterator.c) does: past the end of a table it goes to the
// next id (log_index_lsn_iterator_update) and reads it if the meta names it
// (log_index_get_table_data checks max_idx_table_id). The catalogue may end
// at a table whose largest LSN is the cursor while the meta names later
// tables: a writable snapshot catalogues only on demand, so a replica
// promoted after the old primary saved tables it never looked up (SetWritable
// rereads only the meta) has such a catalogue. Stopping there would jump
// over those tables to the memtables, and the BGW's online-promote replay
// would never replay their records (swarm seed 7880: a page changed only by
// a skipped record stayed stale on storage below the consistent LSN).
func (it *Iterator) nextStored() (Entry, bool, error) {
	ix := it.ix
	if err := ix.catalogFor(it.lsn); err != nil {
		return Entry{}, false, err
	}
	for pass := 0; ; pass++ {
		c := ix.st.catalog
		for i := ix.firstTable(it.lsn); i < len(c); i++ {
			es, err := ix.st.load(c[i])
			if err != nil {
				return Entry{}, false, err
			}
			lo, hi := 0, len(es)
			for lo < hi {
				m := int(uint(lo+hi) >> 1)
				if es[m].lsn < it.lsn {
					lo = m + 1
				} else {
					hi = m
				}
			}
			if j := it.skip(es, lo); j < len(es) {
				if ix.low.Valid() && es[j].lsn >= ix.low {
					return Entry{}, false, nil
				}
				return it.step(Entry{Page: es[j].page, LSN: es[j].lsn})
			}
		}
		// Past the last catalogued table: go on to the tables the meta
		// names but the catalogue lacks (one refresh catalogues them all).
		if pass > 0 || ix.st.nextCatalogID() > ix.st.meta.MaxTableID {
			return Entry{}, false, nil
		}
		if err := ix.st.refresh(); err != nil {
			return Entry{}, false, err
		}
	}
}

func (it *Iterator) seekMem() (Entry, bool, error) {
	ix := it.ix
	n := len(ix.tables)
	for k := 1; k <= n; k++ {
		s := (ix.active + k) % n
		t := &ix.tables[s]
		if t.state == TableFree || len(t.entries) == 0 || t.max < it.lsn {
			continue
		}
		if j := it.skip(t.entries, t.search(it.lsn)); j < len(t.entries) {
			it.hint, it.slot, it.gen, it.off = true, s, t.gen, j+1
			me := &t.entries[j]
			return it.step(Entry{Page: me.page, LSN: me.lsn})
		}
	}
	// Nothing at or after the cursor yet. If the cursor is not beyond the
	// last record added, every later Add lands after it: wait at the end of
	// the active memtable so the next call takes the fast path.
	if ix.low.Valid() && it.lsn >= ix.low && it.lsn <= ix.last {
		t := &ix.tables[ix.active]
		if t.state == TableActive {
			it.hint, it.slot, it.gen, it.off = true, ix.active, t.gen, len(t.entries)
		}
	}
	return Entry{}, false, nil
}
