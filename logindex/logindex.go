package logindex

import (
	"errors"
	"fmt"

	"promotesim/sim"
	"promotesim/storage"
)

var (
	// ErrDisabled: LogIndex is off (polar_logindex_mem_size = 0).
	ErrDisabled = errors.New("logindex: LogIndex disabled (polar_logindex_mem_size = 0)")
	// ErrMemtablesFull: every memtable is full and not saved; the caller
	// (startup) stalls until the primary saves (docs/model.md §4).
	ErrMemtablesFull = errors.New("logindex: memtables full, waiting for saved tables")
	// ErrNotWritable: only a writable snapshot (the primary) saves tables.
	ErrNotWritable = errors.New("logindex: read-only LogIndex snapshot can't save tables")
	// ErrWALNotFlushed: a table may be saved only after the WAL it indexes is
	// durable.
	ErrWALNotFlushed = errors.New("logindex: WAL not durable up to memtable's max LSN")
	// ErrOutOfOrder: records must be added in WAL order, each once.
	ErrOutOfOrder = errors.New("logindex: record added out of LSN order")
)

// Index is one node's LogIndex snapshot (log_index_snapshot_t for WAL): a
// ring of memtables in memory plus the saved tables on shared storage.
//
// Invariants: memtables in ring order from the one after the active table
// hold ascending, disjoint LSN ranges; every entry with LSN >= low is in a
// memtable, every entry below low that anyone saved is in a saved table;
// tables are saved oldest first and only when WAL up to their records' end
// is durable; only a writable snapshot writes pg_logindex/.
type Index struct {
	enabled  bool
	writable bool
	tables   []memtable
	active   int
	nextID   uint64

	low     storage.LSN // memtables hold every entry with LSN >= low (Invalid: nothing added yet)
	last    storage.LSN // start of the last record added
	st      store
	prom    PromotedInfo
	hasProm bool
}

// New builds a LogIndex snapshot over vol. writable is true on the primary.
// With cfg.MemSize == 0 it returns a disabled index. It reads the meta file
// if there is one.
func New(vol Volume, cfg Config, writable bool) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MemSize == 0 {
		return &Index{}, nil
	}
	ix := &Index{enabled: true, writable: writable, tables: make([]memtable, cfg.MemSize), st: store{vol: vol}}
	for i := range ix.tables {
		ix.tables[i] = newMemtable(cfg.TableSize)
	}
	ix.activate(0)
	if err := ix.st.loadMeta(); err != nil {
		return nil, err
	}
	return ix, nil
}

func (ix *Index) activate(slot int) {
	ix.nextID++
	ix.active = slot
	t := &ix.tables[slot]
	t.reset(ix.nextID)
	t.state = TableActive
}

// Enabled reports whether LogIndex is on.
func (ix *Index) Enabled() bool { return ix.enabled }

// Writable reports whether this snapshot saves tables (primary).
func (ix *Index) Writable() bool { return ix.writable }

// LastLSN is the start of the last record added (InvalidLSN if none).
func (ix *Index) LastLSN() storage.LSN { return ix.last }

// Saved is the last meta this snapshot read or wrote.
func (ix *Index) Saved() SavedMeta { return ix.st.meta }

// SetWritable makes the snapshot writable at promote: it rereads the meta so
// that it continues after the old primary's last saved table, and from now on
// saves the memtables the old primary never saved.
func (ix *Index) SetWritable() error {
	if !ix.enabled {
		return ErrDisabled
	}
	if err := ix.st.loadMeta(); err != nil {
		return err
	}
	ix.writable = true
	return nil
}

// Add indexes one record: its start and end LSN and the distinct pages it
// touches (polar_logindex_add_lsn via POLAR_LOG_INDEX_ADD_LSN). All pages of
// a record go to one memtable. Records with no pages are not indexed.
func (ix *Index) Add(start, end storage.LSN, pages []storage.PageID) error {
	if !ix.enabled {
		return ErrDisabled
	}
	if len(pages) == 0 {
		return nil
	}
	if len(pages) > MaxPages {
		return fmt.Errorf("logindex: record at %v touches %d pages (max %d)", start, len(pages), MaxPages)
	}
	if !start.Valid() || end <= start || (ix.last.Valid() && start <= ix.last) {
		return fmt.Errorf("%w: record %v-%v after %v", ErrOutOfOrder, start, end, ix.last)
	}
	t := &ix.tables[ix.active]
	if t.state != TableActive || t.room() < len(pages) {
		if err := ix.advance(); err != nil {
			return err
		}
		t = &ix.tables[ix.active]
	}
	for i, p := range pages {
		dup := false
		for _, q := range pages[:i] {
			if q == p {
				dup = true
				break
			}
		}
		if !dup {
			t.add(p, start, end)
		}
	}
	if !ix.low.Valid() {
		ix.low = start
	}
	ix.last = start
	return nil
}

// HasRoom reports whether a record touching pages distinct pages can be
// added now without finding the memtable ring full. A primary's backend asks
// before it inserts the WAL record it must then index, so that it waits
// for saving instead of failing between the two.
func (ix *Index) HasRoom(pages int) bool {
	if !ix.enabled {
		return true
	}
	if t := &ix.tables[ix.active]; t.state == TableActive && t.room() >= pages {
		return true
	}
	return ix.tables[(ix.active+1)%len(ix.tables)].state != TableInactive
}

// AddMeta indexes a record from its WAL meta.
func (ix *Index) AddMeta(m *Meta) error { return ix.Add(m.Start, m.End, m.PageList()) }

// advance retires the full active memtable and makes the next one in the
// ring active (LOG_INDEX_MEM_TBL_NEXT_ID), reusing it if it is saved. A
// replica learns "saved" from the primary's meta on storage.
func (ix *Index) advance() error {
	cur := &ix.tables[ix.active]
	if cur.state == TableActive {
		cur.state = TableInactive
	}
	next := (ix.active + 1) % len(ix.tables)
	t := &ix.tables[next]
	if t.state == TableInactive && !ix.writable {
		if err := ix.st.loadMeta(); err != nil {
			return err
		}
		ix.markSaved()
	}
	switch t.state {
	case TableFree:
	case TableFlushed:
		ix.low = t.max + 1
	case TableInactive:
		return ErrMemtablesFull
	default:
		sim.Failf("logindex: next memtable %d in state %v", next, t.state)
	}
	ix.activate(next)
	return nil
}

// markSaved moves INACTIVE memtables covered by the meta to FLUSHED.
func (ix *Index) markSaved() {
	for i := range ix.tables {
		t := &ix.tables[i]
		if t.state == TableInactive && t.max <= ix.st.meta.MaxLSN {
			t.state = TableFlushed
		}
	}
}

// Refresh rereads the primary's meta (replica) and marks memtables it covers
// FLUSHED, so they can be reused.
func (ix *Index) Refresh() error {
	if !ix.enabled {
		return ErrDisabled
	}
	if err := ix.st.loadMeta(); err != nil {
		return err
	}
	ix.markSaved()
	return nil
}

// Save saves INACTIVE memtables, oldest first, whose records' WAL is durable
// below flushed (polar_logindex_flush_table; the primary's BGW does this).
// It returns how many it saved; if the oldest unsaved table needs WAL beyond
// flushed it stops with ErrWALNotFlushed.
func (ix *Index) Save(flushed storage.LSN) (int, error) {
	if !ix.enabled {
		return 0, ErrDisabled
	}
	if !ix.writable {
		return 0, ErrNotWritable
	}
	saved := 0
	for k := 1; k <= len(ix.tables); k++ {
		t := &ix.tables[(ix.active+k)%len(ix.tables)]
		if t.state != TableInactive {
			continue
		}
		if t.maxEnd > flushed {
			return saved, fmt.Errorf("%w: memtable %d needs %v, flushed %v", ErrWALNotFlushed, t.id, t.maxEnd, flushed)
		}
		if err := ix.st.save(t); err != nil {
			return saved, err
		}
		t.state = TableFlushed
		saved++
	}
	return saved, nil
}

// Truncate removes the saved tables whose every entry is below the
// truncation point and records the point in the meta file
// (polar_logindex_truncate, called by polar_logindex_remove_old_files with
// the oldest LSN still needed: the checkpoint redo pointer; PolarDB
// truncates LogIndex before removing old WAL). Only a writable snapshot (the
// primary) removes files: a replica gets ErrNotWritable. It returns how many
// table files it removed.
//
// Semantics: the point T only grows: T becomes max(lsn, T), and tables
// saved wholly below T since the last call are removed too. From then on
// every lookup that asks for an LSN below T fails with ErrTruncated, on this
// snapshot and on every replica once it rereads the meta, even where the
// entries are still in a memtable or a kept table, so the answer never
// depends on table boundaries: History fails if from+1 < T (its range
// (from, to] reaches below T); an iterator fails while its position is
// below T. Lookups entirely at or above T are unaffected, since a table is
// removed only if its largest LSN is below T. The meta is written before any
// file is removed, so a replica never looks for a removed table.
func (ix *Index) Truncate(lsn storage.LSN) (removed int, err error) {
	if !ix.enabled {
		return 0, ErrDisabled
	}
	if !ix.writable {
		return 0, fmt.Errorf("%w: only the primary removes tables", ErrNotWritable)
	}
	return ix.st.truncate(lsn)
}

// TruncatedBelow is the truncation point this snapshot knows of (InvalidLSN:
// none): lookups below it fail with ErrTruncated.
func (ix *Index) TruncatedBelow() storage.LSN { return ix.st.meta.TruncLSN }

// TableStat describes one memtable (for traces, scripts and checkers).
type TableStat struct {
	ID       uint64
	State    TableState
	Len, Cap int
	Min, Max storage.LSN
}

// Tables appends the memtables in ring slot order.
func (ix *Index) Tables(dst []TableStat) []TableStat {
	for i := range ix.tables {
		t := &ix.tables[i]
		dst = append(dst, TableStat{ID: t.id, State: t.state, Len: len(t.entries), Cap: cap(t.entries), Min: t.min, Max: t.max})
	}
	return dst
}

// ActiveSlot is the ring slot of the active memtable.
func (ix *Index) ActiveSlot() int { return ix.active }

// PromotedInfo records, at promote, which part of LogIndex belongs to the
// old primary: its WAL ended at End; its last indexed record started at
// LastLSN; tables up to SavedTableID (covering LSNs up to SavedLSN) were saved
// by it; memtables up to MemTableID were filled from its WAL.
type PromotedInfo struct {
	End          storage.LSN
	LastLSN      storage.LSN
	SavedTableID uint64
	SavedLSN     storage.LSN
	MemTableID   uint64
}

// SetPromoted records the promoted info (startup, docs/model.md §7 step 5). end is
// the end of the old primary's valid WAL.
func (ix *Index) SetPromoted(end storage.LSN) error {
	if !ix.enabled {
		return ErrDisabled
	}
	ix.prom = PromotedInfo{
		End: end, LastLSN: ix.last,
		SavedTableID: ix.st.meta.MaxTableID, SavedLSN: ix.st.meta.MaxLSN,
		MemTableID: ix.tables[ix.active].id,
	}
	ix.hasProm = true
	return nil
}

// Promoted returns the promoted info, if recorded.
func (ix *Index) Promoted() (PromotedInfo, bool) { return ix.prom, ix.hasProm }

// FromOldPrimary reports whether the record starting at lsn was written by
// the old primary (false if no promote was recorded).
func (ix *Index) FromOldPrimary(lsn storage.LSN) bool { return ix.hasProm && lsn < ix.prom.End }

// SaveNeed returns the WAL position a Save must have durable to save the
// oldest full (INACTIVE) memtable, and whether there is one. A primary's
// saver is ready exactly when ok and need <= its flushed LSN. It is cheap
// (no allocation), for readiness checks run every step.
func (ix *Index) SaveNeed() (need storage.LSN, ok bool) {
	if !ix.enabled || !ix.writable {
		return storage.InvalidLSN, false
	}
	for k := 1; k <= len(ix.tables); k++ {
		t := &ix.tables[(ix.active+k)%len(ix.tables)]
		if t.state == TableInactive {
			return t.maxEnd, true
		}
	}
	return storage.InvalidLSN, false
}
