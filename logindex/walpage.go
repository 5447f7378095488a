package logindex

import (
	"encoding/binary"
	"fmt"

	"promotesim/storage"
)

// WALPageSize is XLOG_BLCKSZ: the unit the walwriter writes in. It is the
// device's block size, as XLOG_BLCKSZ and BLCKSZ are both 8 kB by
// default, so a crash keeps, drops or tears whole WAL pages. The model's
// WAL has no page headers: a record simply continues on the next page
// (PostgreSQL's XLP_FIRST_IS_CONTRECORD continuation), and one whose
// continuation page is missing is an invalid record, the end of WAL.
const WALPageSize = storage.BlockSize

// PageStart is the start of the WAL page holding l.
func PageStart(l storage.LSN) storage.LSN { return l &^ (WALPageSize - 1) }

// AbortedContrecord reports whether the invalid record at lsn is an
// aborted contrecord: its length word (xl_tot_len, always on the record's
// first page: records are 8-byte aligned) is sane and runs onto the next
// WAL page, the header split across the pages or not, and that page is
// missing (the segment ends before it, or it is all zeros, which is what a
// never-written or dropped WAL page reads as; PostgreSQL sees a page
// header without XLP_FIRST_IS_CONTRECORD and, having assembled part of
// the record, sets abortedRecPtr). missing is that page's start,
// missingContrecPtr. Only crash recovery acts on it (xlogrecovery.c
// ReadRecord keeps it only without ArchiveRecoveryRequested).
//
// prev is the expected prev link (InvalidLSN: unchecked). When the whole
// header is on the first page it must be a valid header linking back to
// prev, as xlogreader validates a header that fits its page before reading
// on (ValidXLogRecordHeader): stale bytes of an older WAL are no aborted
// record.
func (r *Reader) AbortedContrecord(lsn, prev storage.LSN) (missing storage.LSN, ok bool, err error) {
	next, crosses, err := r.crossesPage(lsn, prev)
	if err != nil || !crosses {
		return 0, false, err
	}
	var page [WALPageSize]byte
	got, err := r.readShort(next, page[:])
	if err != nil {
		return 0, false, err
	}
	for _, b := range page[:got] {
		if b != 0 {
			return 0, false, nil
		}
	}
	return next, true, nil
}

// crossesPage reports whether the record starting at lsn, by its length
// word, runs past its WAL page, and where the next page starts.
func (r *Reader) crossesPage(lsn, prev storage.LSN) (next storage.LSN, crosses bool, err error) {
	if lsn != Align(lsn) || !lsn.Valid() {
		return 0, false, nil
	}
	next = PageStart(lsn) + WALPageSize
	whole := lsn+recHeaderSize <= next
	h := r.buf[:4]
	if whole {
		h = r.buf[:recHeaderSize]
	}
	if got, err := r.read(lsn, h); err != nil || !got {
		return 0, false, err
	}
	n := int(binary.LittleEndian.Uint32(h))
	if n < recHeaderSize || n > maxRecordSize || lsn+storage.LSN(n) <= next {
		return 0, false, nil
	}
	if whole && !HeaderLinks(h, prev) {
		return 0, false, nil
	}
	return next, true, nil
}

// HeaderLinks reports whether a whole record header h is plausible as the
// record after prev (InvalidLSN: any): a known type and, when prev is
// valid, the prev link (the checks of ValidXLogRecordHeader the model's
// header allows before the record's CRC).
func HeaderLinks(h []byte, prev storage.LSN) bool {
	t := RecordType(h[16])
	if t == 0 || t >= recTypeEnd {
		return false
	}
	return !prev.Valid() || storage.LSN(binary.LittleEndian.Uint64(h[8:])) == prev
}

// readShort reads up to len(p) WAL bytes from lsn (one WAL page, inside one
// segment), returning how many exist.
func (r *Reader) readShort(lsn storage.LSN, p []byte) (int, error) {
	segno, off := SegNo(lsn, r.segSize), SegOffset(lsn, r.segSize)
	name := r.names.get(segno)
	if !r.vol.Exists(name) {
		return 0, nil
	}
	size, err := r.vol.Size(name)
	if err != nil {
		return 0, fmt.Errorf("logindex: WAL segment %s: %w", name, err)
	}
	n := min(int64(len(p)), max(size-off, 0))
	if n == 0 {
		return 0, nil
	}
	got, err := r.vol.ReadAt(name, p[:n], off)
	if err != nil {
		return 0, fmt.Errorf("logindex: read WAL at %v: %w", lsn, err)
	}
	return got, nil
}

// skipOverwritten: the invalid record at lsn (prev expected before it) may
// be one crash recovery declared aborted: an OVERWRITE_CONTRECORD at the
// start of the next WAL page naming lsn, with the same prev link, replaces
// it. If so rec is that record and ok is true.
func (r *Reader) skipOverwritten(lsn, prev storage.LSN, rec *Record) (ok bool, err error) {
	next, crosses, err := r.crossesPage(lsn, prev)
	if err != nil || !crosses {
		return false, err
	}
	if err := r.read1(next, prev, rec); err != nil {
		if isInvalid(err) {
			return false, nil
		}
		return false, err
	}
	return rec.Type == RecOverwriteContrecord && rec.Aborted == lsn, nil
}

// MaxRecordLen is the longest record header length a reader accepts (the
// oracle's parser uses it to agree with Reader on aborted contrecords).
const MaxRecordLen = maxRecordSize

// MidRecord reports whether the WAL written to storage ends inside a
// record: part of it is on storage, its continuation only in WAL buffers.
func (w *WAL) MidRecord() bool {
	return w.written < w.insert && (len(w.starts) == 0 || w.starts[0] != w.written)
}

// ReadRaw reads WAL bytes from lsn into p as they are on storage (the
// streaming protocol sends bytes, not records: a standby gets an aborted
// record's first part too). false: the WAL is shorter.
func (r *Reader) ReadRaw(lsn storage.LSN, p []byte) (bool, error) { return r.read(lsn, p) }

// InsertRaw appends bytes received from a primary's WAL that are no
// record of their own (an aborted record's first part, which an
// OVERWRITE_CONTRECORD after it names): the insert position moves past
// them, the prev link does not.
func (w *WAL) InsertRaw(b []byte) error {
	if storage.LSN(len(b)) != Align(storage.LSN(len(b))) {
		return fmt.Errorf("logindex: %d raw WAL bytes are not aligned", len(b))
	}
	if len(w.buf)+len(b) > w.bufCap {
		return ErrWALBuffersFull
	}
	w.buf = append(w.buf, b...)
	w.insert += storage.LSN(len(b))
	return nil
}
