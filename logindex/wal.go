package logindex

import (
	"errors"
	"fmt"

	"promotesim/storage"
)

// Volume is the slice of the shared-storage mount this package uses.
// *storage.Mount implements it; tests may use an in-memory stand-in. Keeping
// it an interface keeps WAL and LogIndex testable without a whole device.
type Volume interface {
	Create(path string) error
	Exists(path string) bool
	Size(path string) (int64, error)
	ReadAt(path string, p []byte, off int64) (int, error)
	WriteAt(path string, p []byte, off int64) error
	Truncate(path string, size int64) error
	Remove(path string) error
	Sync(path string) error
}

// FirstLSN is where the WAL of a fresh cluster starts. PostgreSQL's first
// record follows the long page header, at 0/28; LSN 0 stays invalid.
const FirstLSN storage.LSN = 0x28

// recordAlign is MAXALIGN: every record starts on an 8-byte boundary, as in
// PostgreSQL, so End (the next record's start) is aligned too.
const recordAlign = 8

// Align rounds l up to the record alignment.
func Align(l storage.LSN) storage.LSN { return (l + recordAlign - 1) &^ (recordAlign - 1) }

// SegNo is the number of the WAL segment holding byte l (XLByteToSeg).
func SegNo(l storage.LSN, segSize int64) uint64 { return uint64(l) / uint64(segSize) }

// SegOffset is l's offset inside its segment (XLogSegmentOffset).
func SegOffset(l storage.LSN, segSize int64) int64 { return int64(uint64(l) % uint64(segSize)) }

// timeline is always 1: online promote keeps the timeline (docs/model.md §7 step 4).
const timeline = 1

// SegmentName is the pg_wal path of segment segno (XLogFileName on TLI 1).
func SegmentName(segno uint64, segSize int64) string {
	var buf [32]byte
	return string(AppendSegmentName(buf[:0], segno, segSize))
}

// AppendSegmentName appends SegmentName(segno, segSize) to dst: a per-step
// checker looks segments up by name without building a string per look
// (storage.Mount.ExistsBytes).
func AppendSegmentName(dst []byte, segno uint64, segSize int64) []byte {
	perID := uint64(0x100000000) / uint64(segSize)
	// fmt's "pg_wal/%08X%08X%08X", built without fmt (TestSegmentNameMatchesFmt).
	b := append(dst, "pg_wal/"...)
	b = storage.AppendHex(b, timeline, 8)
	b = storage.AppendHex(b, segno/perID, 8)
	return storage.AppendHex(b, segno%perID, 8)
}

// segNames caches the last two segment names so the writer and reader do not
// format (and allocate) a path per I/O.
type segNames struct {
	size  int64
	no    [2]uint64
	name  [2]string
	valid [2]bool
	next  int
}

func (c *segNames) get(segno uint64) string {
	for i := range c.no {
		if c.valid[i] && c.no[i] == segno {
			return c.name[i]
		}
	}
	i := c.next
	c.next ^= 1
	c.no[i], c.name[i], c.valid[i] = segno, SegmentName(segno, c.size), true
	return c.name[i]
}

// ErrWALBuffersFull: inserting would exceed the WAL buffers; the walwriter must
// write first (XLogInsert waits in AdvanceXLInsertBuffer).
var ErrWALBuffersFull = errors.New("logindex: WAL buffers full")

// WAL is the primary's WAL: insert position, buffers of inserted but unwritten
// records, and the written / flushed (durable) positions. It mirrors xlog.c's
// XLogInsert / XLogWrite / XLogFlush at the level the model needs.
//
// Invariant: flushed <= written <= insert; buf holds exactly [written, insert).
type WAL struct {
	vol     Volume
	segSize int64
	bufCap  int
	names   segNames

	insert  storage.LSN // next record starts here (CurrBytePos)
	prev    storage.LSN // start of the last inserted record (PrevBytePos)
	written storage.LSN // bytes below are written to the device (LogwrtResult.Write)
	flushed storage.LSN // bytes below are durable (LogwrtResult.Flush)
	created uint64      // segments below this number are known to exist
	hasSeg  bool

	buf []byte
	// starts are the start LSNs of the records in buf, oldest first
	// (MidRecord).
	starts []storage.LSN
}

// NewWAL opens WAL for insertion at start (the end of valid WAL, or FirstLSN
// for a fresh cluster); prev is the start of the last valid record (the new
// record's prev link), InvalidLSN for a fresh cluster.
func NewWAL(vol Volume, cfg Config, start, prev storage.LSN) (*WAL, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if start != Align(start) || !start.Valid() {
		return nil, fmt.Errorf("logindex: WAL start %v not a valid aligned position", start)
	}
	return &WAL{
		vol: vol, segSize: cfg.WALSegmentSize, bufCap: cfg.WALBuffers,
		names:  segNames{size: cfg.WALSegmentSize},
		insert: start, prev: prev, written: start, flushed: start,
	}, nil
}

// InsertLSN is the position the next record will start at.
func (w *WAL) InsertLSN() storage.LSN { return w.insert }

// PrevLSN is the start of the last inserted record.
func (w *WAL) PrevLSN() storage.LSN { return w.prev }

// WrittenLSN: WAL below it has been written to the device (maybe not durable).
func (w *WAL) WrittenLSN() storage.LSN { return w.written }

// FlushedLSN: WAL below it is durable. Commits below it may be acknowledged.
func (w *WAL) FlushedLSN() storage.LSN { return w.flushed }

// Unwritten is the number of inserted bytes not yet written.
func (w *WAL) Unwritten() int { return len(w.buf) }

// Insert appends rec at the insert position, setting rec.Start, rec.End and
// rec.Prev. The record is in WAL buffers only: Write and Sync move it on.
func (w *WAL) Insert(rec *Record) error {
	n, err := rec.encodedLen()
	if err != nil {
		return err
	}
	aligned := int(Align(storage.LSN(n)))
	if len(w.buf)+aligned > w.bufCap {
		return ErrWALBuffersFull
	}
	rec.Start, rec.Prev = w.insert, w.prev
	rec.End = w.insert + storage.LSN(aligned)
	off := len(w.buf)
	if off+aligned > cap(w.buf) {
		w.grow(off + aligned)
	}
	w.buf = w.buf[:off+aligned]
	rec.encode(w.buf[off : off+n])
	clear(w.buf[off+n : off+aligned])
	w.prev, w.insert = rec.Start, rec.End
	w.starts = append(w.starts, rec.Start)
	return nil
}

// grow makes room for need bytes of WAL buffers, doubling up to bufCap:
// the buffers grow lazily, since most nodes of a world (and every state
// copy of the exhaustive search) never fill wal_buffers.
func (w *WAL) grow(need int) {
	nb := make([]byte, len(w.buf), min(max(need, 2*cap(w.buf), 512), w.bufCap))
	copy(nb, w.buf)
	w.buf = nb
}

// Write writes buffered WAL below upto (clamped to the insert position) to
// the device. upto need not be a record boundary: a walwriter writes pages,
// and a crash may leave a record half written (a torn tail).
func (w *WAL) Write(upto storage.LSN) error {
	upto = min(upto, w.insert)
	for w.written < upto {
		segno := SegNo(w.written, w.segSize)
		off := SegOffset(w.written, w.segSize)
		n := min(int64(upto-w.written), w.segSize-off)
		name := w.names.get(segno)
		if !w.hasSeg || segno >= w.created {
			if !w.vol.Exists(name) {
				if err := w.vol.Create(name); err != nil {
					return fmt.Errorf("logindex: create WAL segment %s: %w", name, err)
				}
			}
			w.created, w.hasSeg = segno+1, true
		}
		if err := w.vol.WriteAt(name, w.buf[:n], off); err != nil {
			return fmt.Errorf("logindex: write WAL at %v: %w", w.written, err)
		}
		w.buf = append(w.buf[:0], w.buf[n:]...)
		w.written += storage.LSN(n)
	}
	k := 0
	for k < len(w.starts) && w.starts[k] < w.written {
		k++
	}
	w.starts = append(w.starts[:0], w.starts[k:]...)
	return nil
}

// Sync makes all written WAL durable (issue_xlog_fsync on every segment
// touched since the last sync).
func (w *WAL) Sync() error {
	if w.flushed >= w.written {
		return nil
	}
	first, last := SegNo(w.flushed, w.segSize), SegNo(w.written-1, w.segSize)
	for s := first; s <= last; s++ {
		name := w.names.get(s)
		if err := w.vol.Sync(name); err != nil {
			return fmt.Errorf("logindex: sync WAL segment %s: %w", name, err)
		}
	}
	w.flushed = w.written
	return nil
}

// Flush writes and syncs WAL up to upto (XLogFlush).
func (w *WAL) Flush(upto storage.LSN) error {
	if err := w.Write(upto); err != nil {
		return err
	}
	return w.Sync()
}

// The shared-storage mount is the Volume every node uses.
var _ Volume = (*storage.Mount)(nil)
