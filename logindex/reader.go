package logindex

import (
	"fmt"

	"promotesim/storage"
)

// Reader reads WAL records from the device (XLogReader over the shared
// storage). The replica reads this way when the WAL meta queue says "read from
// storage", when it replays a page from LogIndex, and at promote, when it
// reads the rest of the old primary's WAL and finds its end.
type Reader struct {
	vol     Volume
	segSize int64
	names   segNames
	buf     [maxRecordSize + recordAlign]byte
}

// NewReader reads WAL through vol.
func NewReader(vol Volume, cfg Config) (*Reader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Reader{vol: vol, segSize: cfg.WALSegmentSize, names: segNames{size: cfg.WALSegmentSize}}, nil
}

// read fills p with WAL bytes from lsn. A missing segment or a short file is
// not an error: it reports ok=false (the WAL ends there). Device errors (an
// injected I/O error) are returned: they must never be mistaken for the end
// of WAL, or recovery would silently drop records.
func (r *Reader) read(lsn storage.LSN, p []byte) (ok bool, err error) {
	for len(p) > 0 {
		segno, off := SegNo(lsn, r.segSize), SegOffset(lsn, r.segSize)
		n := min(int64(len(p)), r.segSize-off)
		name := r.names.get(segno)
		if !r.vol.Exists(name) {
			return false, nil
		}
		size, err := r.vol.Size(name)
		if err != nil {
			return false, fmt.Errorf("logindex: WAL segment %s: %w", name, err)
		}
		if off+n > size {
			return false, nil
		}
		got, err := r.vol.ReadAt(name, p[:n], off)
		if err != nil {
			return false, fmt.Errorf("logindex: read WAL at %v: %w", lsn, err)
		}
		if int64(got) < n {
			return false, nil
		}
		p = p[n:]
		lsn += storage.LSN(n)
	}
	return true, nil
}

// Read decodes the record starting at lsn into rec (reusing rec.Changes) and
// sets rec.Start and rec.End. If prev is valid the record's prev link must
// equal it (PostgreSQL's xl_prev check, which stops at stale recycled
// content). Invalid or missing bytes give an error wrapping ErrInvalidRecord.
//
// A record whose continuation was overwritten (an OVERWRITE_CONTRECORD at
// its missing page names it) is skipped: Read then returns that overwrite
// record, whose Start is past lsn, as xlogreader does on finding
// XLP_FIRST_IS_OVERWRITE_CONTRECORD.
func (r *Reader) Read(lsn, prev storage.LSN, rec *Record) error {
	err := r.read1(lsn, prev, rec)
	if err == nil || !isInvalid(err) {
		return err
	}
	if ok, serr := r.skipOverwritten(lsn, prev, rec); serr != nil || ok {
		return serr
	}
	return err
}

// read1 is Read without the overwritten-contrecord skip.
func (r *Reader) read1(lsn, prev storage.LSN, rec *Record) error {
	if lsn != Align(lsn) || !lsn.Valid() {
		return fmt.Errorf("%w: unaligned position %v", ErrInvalidRecord, lsn)
	}
	h := r.buf[:recHeaderSize]
	ok, err := r.read(lsn, h)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: header at %v truncated", ErrInvalidRecord, lsn)
	}
	n, err := headerLen(h)
	if err != nil {
		return fmt.Errorf("at %v: %w", lsn, err)
	}
	ok, err = r.read(lsn+recHeaderSize, r.buf[recHeaderSize:n])
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: record at %v truncated", ErrInvalidRecord, lsn)
	}
	if err := rec.Decode(r.buf[:n]); err != nil {
		return fmt.Errorf("at %v: %w", lsn, err)
	}
	if prev.Valid() && rec.Prev != prev {
		return fmt.Errorf("%w: record at %v has prev %v, want %v", ErrInvalidRecord, lsn, rec.Prev, prev)
	}
	rec.Start = lsn
	rec.End = lsn + Align(storage.LSN(n))
	return nil
}

// EndOfWAL describes where valid WAL ends.
type EndOfWAL struct {
	End     storage.LSN // first position without a valid record: new WAL starts here
	Last    storage.LSN // start of the last valid record (InvalidLSN if none)
	Records int         // valid records read
	Reason  error       // why the record at End is invalid (wraps ErrInvalidRecord)
	// MissingContrec is set when the record at End is an aborted
	// contrecord (AbortedContrecord): the WAL page its continuation
	// needed, xlogreader's missingContrecPtr (End is abortedRecPtr).
	MissingContrec storage.LSN
}

// FindEnd reads records from from (a record start; prev is its expected prev
// link, InvalidLSN to skip the check) until the first invalid, truncated or
// zero record, calling fn (if not nil) for each valid one; fn may stop the
// scan by returning an error. The loop is bounded: every record advances the
// position and the device is finite.
func (r *Reader) FindEnd(from, prev storage.LSN, rec *Record, fn func(*Record) error) (EndOfWAL, error) {
	e := EndOfWAL{End: from, Last: prev}
	for {
		err := r.Read(e.End, e.Last, rec)
		if err != nil {
			if isInvalid(err) {
				e.Reason = err
				if m, ok, aerr := r.AbortedContrecord(e.End, e.Last); aerr != nil {
					return e, aerr
				} else if ok {
					e.MissingContrec = m
				}
				return e, nil
			}
			return e, err
		}
		if fn != nil {
			if err := fn(rec); err != nil {
				return e, err
			}
		}
		e.Last, e.End = rec.Start, rec.End
		e.Records++
	}
}
