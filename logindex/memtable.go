package logindex

import (
	"fmt"

	"promotesim/sim"
	"promotesim/storage"
)

// TableState is a memtable's state (LOG_INDEX_MEM_TBL_STATE_*). The zero
// value is invalid.
//
//	FREE ──first use──▶ ACTIVE ──full──▶ INACTIVE ──saved (primary) or──▶ FLUSHED
//	                      ▲                          seen saved (replica)      │
//	                      └──────────── reused by the ring ◀──────────────────┘
type TableState uint8

const (
	TableFree TableState = iota + 1
	TableActive
	TableInactive
	TableFlushed
)

func (s TableState) String() string {
	switch s {
	case TableFree:
		return "FREE"
	case TableActive:
		return "ACTIVE"
	case TableInactive:
		return "INACTIVE"
	case TableFlushed:
		return "FLUSHED"
	}
	return fmt.Sprintf("TableState(%d)", uint8(s))
}

// mentry is one (page, start LSN) pair; prev chains the entries of one page
// inside a memtable (newest to oldest), like PolarDB's item segments.
type mentry struct {
	page storage.PageID
	lsn  storage.LSN
	prev int32
}

// memtable holds entries in LSN order plus an open-addressing hash from page
// to its newest entry, so page history costs the page's entries, not the
// table's. All storage is allocated once; reuse clears it.
//
// Invariants: entries are in nondecreasing LSN order; all entries of one
// record are in one memtable (the table switches at record boundaries);
// min/max are the first/last entry's LSN.
type memtable struct {
	id      uint64 // in-memory id, grows on every (re)use; 0 while FREE
	gen     uint64 // bumped on reuse: invalidates iterator hints
	state   TableState
	entries []mentry
	slots   []int32 // entry index + 1; 0 = empty
	mask    uint64
	min     storage.LSN
	max     storage.LSN
	maxEnd  storage.LSN // largest record end: WAL up to here must be durable before saving
}

func newMemtable(size int) memtable {
	n := 1
	for n < 2*size {
		n <<= 1
	}
	return memtable{
		state:   TableFree,
		entries: make([]mentry, 0, size),
		slots:   make([]int32, n),
		mask:    uint64(n - 1),
	}
}

func pageHash(p storage.PageID) uint64 {
	h := (uint64(p.Rel)<<32 | uint64(p.Block)) * 0x9E3779B97F4A7C15
	return h ^ h>>29
}

func (t *memtable) room() int { return cap(t.entries) - len(t.entries) }

func (t *memtable) reset(id uint64) {
	t.id = id
	t.gen++
	t.entries = t.entries[:0]
	clear(t.slots)
	t.min, t.max, t.maxEnd = storage.InvalidLSN, storage.InvalidLSN, storage.InvalidLSN
}

// find returns the slot index for page: its slot, or the empty slot where it
// would go.
func (t *memtable) find(p storage.PageID) uint64 {
	i := pageHash(p) & t.mask
	for range len(t.slots) {
		s := t.slots[i]
		if s == 0 || t.entries[s-1].page == p {
			return i
		}
		i = (i + 1) & t.mask
	}
	// The table is at most half full, so probing always ends at an empty slot.
	sim.Failf("logindex: memtable hash full")
	return 0
}

func (t *memtable) add(p storage.PageID, lsn, end storage.LSN) {
	i := t.find(p)
	e := mentry{page: p, lsn: lsn, prev: t.slots[i] - 1}
	t.entries = append(t.entries, e)
	t.slots[i] = int32(len(t.entries))
	if len(t.entries) == 1 {
		t.min = lsn
	}
	t.max = lsn
	t.maxEnd = max(t.maxEnd, end)
}

// history appends the LSNs of page in (from, to], ascending.
func (t *memtable) history(dst []storage.LSN, p storage.PageID, from, to storage.LSN) []storage.LSN {
	if len(t.entries) == 0 || t.max <= from || t.min > to {
		return dst
	}
	base := len(dst)
	for j := t.slots[t.find(p)] - 1; j >= 0; j = t.entries[j].prev {
		l := t.entries[j].lsn
		if l <= from {
			break
		}
		if l <= to {
			dst = append(dst, l)
		}
	}
	s := dst[base:]
	for i, k := 0, len(s)-1; i < k; i, k = i+1, k-1 {
		s[i], s[k] = s[k], s[i]
	}
	return dst
}

// search returns the index of the first entry with LSN >= lsn.
func (t *memtable) search(lsn storage.LSN) int {
	lo, hi := 0, len(t.entries)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if t.entries[m].lsn < lsn {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
