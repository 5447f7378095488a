package logindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"promotesim/storage"
)

// On-storage LogIndex (PolarDB's pg_logindex/: table files plus
// log_index_meta). Table ids start at 1 and grow by one per saved table; a
// table holds the entries of one memtable with LSN above everything saved
// before, so saved tables cover disjoint, ascending LSN ranges. Truncation
// (Index.Truncate) removes a prefix of the tables: those on storage are
// always TruncTableID+1..MaxTableID.
const (
	logindexDir = "pg_logindex/"
	// MetaPath is the LogIndex meta file: largest saved table id and LSN,
	// and the truncation point.
	MetaPath = logindexDir + "meta"

	tableMagic      = 0x4C494458 // "LIDX"
	metaMagic       = 0x0000FDFE // LOG_INDEX_MAGIC
	metaVersion     = 2          // 2: truncation point added
	tableHeaderSize = 40
	tableEntrySize  = 16
	metaSize        = 48
)

var (
	// ErrCorrupt: a LogIndex table or meta file fails its checks.
	ErrCorrupt = errors.New("logindex: corrupt LogIndex file")
	// ErrTruncated: a lookup asked for LSNs below the truncation point; the
	// tables that held them may be gone (Index.Truncate).
	ErrTruncated = errors.New("logindex: LogIndex truncated below the requested LSN")
)

// TablePath is the file of saved table id.
func TablePath(id uint64) string { return fmt.Sprintf("%s%04X", logindexDir, id) }

// SavedMeta is the content of the meta file (log_index_meta_t): every
// (page, LSN) with TruncLSN <= LSN <= MaxLSN is in tables
// TruncTableID+1..MaxTableID. Tables 1..TruncTableID were removed by
// truncation (PolarDB's min_segment_info); each held only LSNs below
// TruncLSN, and lookups below TruncLSN fail with ErrTruncated. The zero
// TruncTableID and TruncLSN mean nothing was truncated.
type SavedMeta struct {
	MaxTableID   uint64
	MaxLSN       storage.LSN
	TruncTableID uint64
	TruncLSN     storage.LSN
}

func encodeMeta(b []byte, m SavedMeta) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], metaMagic)
	le.PutUint32(b[4:], metaVersion)
	le.PutUint64(b[8:], m.MaxTableID)
	le.PutUint64(b[16:], uint64(m.MaxLSN))
	le.PutUint64(b[24:], m.TruncTableID)
	le.PutUint64(b[32:], uint64(m.TruncLSN))
	le.PutUint32(b[40:], crc32.Checksum(b[:40], castagnoli))
	le.PutUint32(b[44:], 0)
}

func decodeMeta(b []byte) (SavedMeta, error) {
	le := binary.LittleEndian
	if le.Uint32(b[0:]) != metaMagic || le.Uint32(b[4:]) != metaVersion ||
		le.Uint32(b[40:]) != crc32.Checksum(b[:40], castagnoli) {
		return SavedMeta{}, fmt.Errorf("%w: %s", ErrCorrupt, MetaPath)
	}
	m := SavedMeta{
		MaxTableID: le.Uint64(b[8:]), MaxLSN: storage.LSN(le.Uint64(b[16:])),
		TruncTableID: le.Uint64(b[24:]), TruncLSN: storage.LSN(le.Uint64(b[32:])),
	}
	if m.TruncTableID > m.MaxTableID {
		return SavedMeta{}, fmt.Errorf("%w: %s truncated table %d beyond last table %d", ErrCorrupt, MetaPath, m.TruncTableID, m.MaxTableID)
	}
	return m, nil
}

// tableInfo is a saved table's header.
type tableInfo struct {
	id       uint64
	min, max storage.LSN
	n        int
}

func encodeTableHeader(b []byte, t tableInfo) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], tableMagic)
	le.PutUint32(b[4:], uint32(t.n))
	le.PutUint64(b[8:], t.id)
	le.PutUint64(b[16:], uint64(t.min))
	le.PutUint64(b[24:], uint64(t.max))
	le.PutUint32(b[36:], 0)
}

func decodeTableHeader(b []byte, id uint64) (tableInfo, error) {
	le := binary.LittleEndian
	t := tableInfo{
		n:   int(le.Uint32(b[4:])),
		id:  le.Uint64(b[8:]),
		min: storage.LSN(le.Uint64(b[16:])),
		max: storage.LSN(le.Uint64(b[24:])),
	}
	if le.Uint32(b[0:]) != tableMagic || t.id != id || t.n < 1 || t.n > 1<<24 || t.min > t.max {
		return tableInfo{}, fmt.Errorf("%w: table %s header", ErrCorrupt, TablePath(id))
	}
	return t, nil
}

func tableCRC(b []byte) uint32 {
	c := crc32.Update(0, castagnoli, b[:32])
	return crc32.Update(c, castagnoli, b[tableHeaderSize:])
}

// store is the Index's view of the on-storage LogIndex: the last meta read
// or written, the catalogue of saved table headers (consecutive ascending
// ids = ascending LSN, never a table the meta says was truncated), and a
// one-table cache of decoded entries.
type store struct {
	vol     Volume
	meta    SavedMeta
	catalog []tableInfo
	scratch []byte

	cacheID uint64 // 0: empty
	cache   []mentry
}

func (s *store) readAll(path string, n int) ([]byte, error) {
	if cap(s.scratch) < n {
		s.scratch = make([]byte, n)
	}
	b := s.scratch[:n]
	got, err := s.vol.ReadAt(path, b, 0)
	if err != nil {
		return nil, fmt.Errorf("logindex: read %s: %w", path, err)
	}
	if got < n {
		return nil, fmt.Errorf("%w: %s short (%d of %d bytes)", ErrCorrupt, path, got, n)
	}
	return b, nil
}

// loadMeta rereads the meta file. A missing file means nothing saved yet.
func (s *store) loadMeta() error {
	if !s.vol.Exists(MetaPath) {
		return nil
	}
	// An empty meta file is one whose first write failed after the create
	// (writeFile creates, then writes in place): nothing was ever saved, the
	// same as no file. Later writes are in place, so they never empty it.
	if size, err := s.vol.Size(MetaPath); err == nil && size == 0 {
		return nil
	}
	b, err := s.readAll(MetaPath, metaSize)
	if err != nil {
		return err
	}
	if allZero(b) {
		// The same as an empty file: the create is durable at once but the
		// first write was lost in a crash before its sync.
		return nil
	}
	m, err := decodeMeta(b)
	if err != nil {
		return err
	}
	if m.MaxTableID < s.meta.MaxTableID || m.MaxLSN < s.meta.MaxLSN ||
		m.TruncTableID < s.meta.TruncTableID || m.TruncLSN < s.meta.TruncLSN {
		return fmt.Errorf("%w: meta went back from %+v to %+v", ErrCorrupt, s.meta, m)
	}
	s.meta = m
	s.prune()
	return nil
}

// prune drops truncated tables from the catalogue and the cache, so no
// lookup reads a file the meta says may be gone.
func (s *store) prune() {
	k := 0
	for k < len(s.catalog) && s.catalog[k].id <= s.meta.TruncTableID {
		k++
	}
	if k > 0 {
		s.catalog = append(s.catalog[:0], s.catalog[k:]...)
	}
	if s.cacheID != 0 && s.cacheID <= s.meta.TruncTableID {
		s.cacheID = 0
		s.cache = s.cache[:0]
	}
}

// nextCatalogID is the id of the first table not catalogued.
func (s *store) nextCatalogID() uint64 {
	if n := len(s.catalog); n > 0 {
		return s.catalog[n-1].id + 1
	}
	return s.meta.TruncTableID + 1
}

// refresh rereads the meta and catalogues tables saved since.
func (s *store) refresh() error {
	if err := s.loadMeta(); err != nil {
		return err
	}
	for id := s.nextCatalogID(); id <= s.meta.MaxTableID; id++ {
		b, err := s.readAll(TablePath(id), tableHeaderSize)
		if err != nil {
			return err
		}
		t, err := decodeTableHeader(b, id)
		if err != nil {
			return err
		}
		s.catalog = append(s.catalog, t)
	}
	return nil
}

// load decodes table id's entries into the cache.
func (s *store) load(t tableInfo) ([]mentry, error) {
	if s.cacheID == t.id {
		return s.cache, nil
	}
	path := TablePath(t.id)
	b, err := s.readAll(path, tableHeaderSize+t.n*tableEntrySize)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	if le.Uint32(b[32:]) != tableCRC(b) {
		return nil, fmt.Errorf("%w: table %s CRC mismatch", ErrCorrupt, path)
	}
	s.cacheID = 0
	s.cache = s.cache[:0]
	p := b[tableHeaderSize:]
	for range t.n {
		s.cache = append(s.cache, mentry{
			page: storage.PageID{Rel: storage.RelID(le.Uint32(p[0:])), Block: storage.BlockNo(le.Uint32(p[4:]))},
			lsn:  storage.LSN(le.Uint64(p[8:])),
			prev: -1,
		})
		p = p[tableEntrySize:]
	}
	s.cacheID = t.id
	return s.cache, nil
}

// save writes the entries of t above the saved LSN as the next table, syncs
// it, then writes and syncs the meta (table durable before the meta names
// it, so a crash leaves at worst an unnamed table that is rewritten later).
func (s *store) save(t *memtable) error {
	from := 0
	for from < len(t.entries) && t.entries[from].lsn <= s.meta.MaxLSN {
		from++
	}
	es := t.entries[from:]
	if len(es) == 0 {
		return nil
	}
	info := tableInfo{id: s.meta.MaxTableID + 1, min: es[0].lsn, max: es[len(es)-1].lsn, n: len(es)}
	n := tableHeaderSize + len(es)*tableEntrySize
	if cap(s.scratch) < n {
		s.scratch = make([]byte, n)
	}
	b := s.scratch[:n]
	encodeTableHeader(b, info)
	le := binary.LittleEndian
	p := b[tableHeaderSize:]
	for _, e := range es {
		le.PutUint32(p[0:], uint32(e.page.Rel))
		le.PutUint32(p[4:], uint32(e.page.Block))
		le.PutUint64(p[8:], uint64(e.lsn))
		p = p[tableEntrySize:]
	}
	le.PutUint32(b[32:], tableCRC(b))
	path := TablePath(info.id)
	if err := s.writeFile(path, b); err != nil {
		return err
	}
	m := s.meta
	m.MaxTableID, m.MaxLSN = info.id, info.max
	if err := s.writeMeta(m); err != nil {
		return err
	}
	if s.nextCatalogID() == info.id {
		s.catalog = append(s.catalog, info)
	}
	return nil
}

// writeMeta writes and syncs the meta file, then adopts m.
func (s *store) writeMeta(m SavedMeta) error {
	var mb [metaSize]byte
	encodeMeta(mb[:], m)
	if err := s.writeFile(MetaPath, mb[:]); err != nil {
		return err
	}
	s.meta = m
	s.prune()
	return nil
}

// truncate removes the tables whose every entry is below the truncation
// point max(lsn, old point) and records it (log_index_truncate); tables
// saved below the point since the last truncate go too. The meta is written
// first: if removing a file then fails, no one looks for it any more; files
// a failed or interrupted truncate left behind are removed by the next one.
func (s *store) truncate(lsn storage.LSN) (int, error) {
	if err := s.refresh(); err != nil {
		return 0, err
	}
	old := s.meta.TruncTableID
	m := s.meta
	m.TruncLSN = max(lsn, m.TruncLSN)
	for _, t := range s.catalog {
		if t.max >= m.TruncLSN {
			break
		}
		m.TruncTableID = t.id
	}
	if m != s.meta {
		// log_index_truncate updates the shared meta first
		// (log_index_update_min_segment), then writes it
		// (polar_log_index_write_meta, which PANICs on a failed write or
		// fsync): after a failed write the snapshot still knows of the
		// truncation, so a meta another process of the node writes before
		// the postmaster takes it down (a table save) carries it too, and a
		// replica that read the unsynced truncated meta never sees it go
		// back (v15-fixed seed 62562 under -sched pct).
		s.meta = m
		s.prune()
		if err := s.writeMeta(m); err != nil {
			return 0, err
		}
	}
	// Leftovers below the old truncation point are a suffix of it (files
	// are removed in ascending order): walk down while they exist.
	lo := old + 1
	for lo > 1 && s.vol.Exists(TablePath(lo-1)) {
		lo--
	}
	removed := 0
	for id := lo; id <= s.meta.TruncTableID; id++ {
		path := TablePath(id)
		if !s.vol.Exists(path) {
			continue
		}
		if err := s.vol.Remove(path); err != nil {
			return removed, fmt.Errorf("logindex: remove %s: %w", path, err)
		}
		removed++
	}
	return removed, nil
}

func (s *store) writeFile(path string, b []byte) error {
	if !s.vol.Exists(path) {
		if err := s.vol.Create(path); err != nil {
			return fmt.Errorf("logindex: create %s: %w", path, err)
		}
	}
	if err := s.vol.WriteAt(path, b, 0); err != nil {
		return fmt.Errorf("logindex: write %s: %w", path, err)
	}
	if err := s.vol.Truncate(path, int64(len(b))); err != nil {
		return fmt.Errorf("logindex: truncate %s: %w", path, err)
	}
	if err := s.vol.Sync(path); err != nil {
		return fmt.Errorf("logindex: sync %s: %w", path, err)
	}
	return nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// MetaSize is the size of the meta file (MetaPath).
const MetaSize = metaSize

// DecodeMeta decodes a meta file image of MetaSize bytes: the checkers read
// the meta on storage with it (they judge what a writer saved, without the
// writer's Index).
func DecodeMeta(b []byte) (SavedMeta, error) {
	if len(b) < metaSize {
		return SavedMeta{}, fmt.Errorf("%w: %s is %d bytes", ErrCorrupt, MetaPath, len(b))
	}
	return decodeMeta(b)
}

// EncodeMeta writes m's meta file image into b (MetaSize bytes): the
// checkers' tests forge a wrong meta with it.
func EncodeMeta(b []byte, m SavedMeta) { encodeMeta(b, m) }
