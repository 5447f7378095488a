package logindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"promotesim/sim"
	"promotesim/storage"
)

// RecordType says what a WAL record does (PostgreSQL's rmgr + info bits,
// reduced to what online promote needs; docs/model.md §2). The zero value is invalid.
type RecordType uint8

const (
	// RecPage changes one or more slots of one or more pages (a heap insert
	// or update; several pages in one record like a btree split).
	RecPage RecordType = iota + 1
	// RecFullPage replaces a whole page image (XLOG_FPI).
	RecFullPage
	// RecCommit commits XID (XLOG_XACT_COMMIT): the clog says committed.
	RecCommit
	// RecAbort aborts XID (XLOG_XACT_ABORT).
	RecAbort
	// RecCheckpoint records a checkpoint and its redo pointer.
	RecCheckpoint
	// RecEndOfRecovery is written by the new primary at promote.
	RecEndOfRecovery
	// RecPrepare is PREPARE TRANSACTION: XID's two-phase state with its GID
	// (XLOG_XACT_PREPARE, written by EndPrepare in twophase.c). The
	// transaction stays in progress in the clog.
	RecPrepare
	// RecCommitPrepared is COMMIT PREPARED of XID (XLOG_XACT_COMMIT_PREPARED,
	// RecordTransactionCommitPrepared): the clog says committed.
	RecCommitPrepared
	// RecAbortPrepared is ROLLBACK PREPARED of XID
	// (XLOG_XACT_ABORT_PREPARED, RecordTransactionAbortPrepared).
	RecAbortPrepared

	// RecInitPage initialises its pages and then sets its slots: a record
	// whose blocks carry BKPBLOCK_WILL_INIT (a relation extended, a freed
	// page reused, like XLOG_HASH_ADD_OVFL_PAGE for a recycled overflow
	// page). Redo zeroes the page instead of reading it
	// (XLogReadBufferForRedoExtended with RBM_ZERO_AND_LOCK), so what the
	// page held before the record never survives it (docs/model.md §2).
	RecInitPage
	// RecOverwriteContrecord (XLOG_OVERWRITE_CONTRECORD) is written by
	// crash recovery at the WAL page where an aborted record's
	// continuation was missing; Aborted names that record, which readers
	// then skip (xlog.c CreateOverwriteContrecordRecord).
	RecOverwriteContrecord
	recTypeEnd
)

var recTypeNames = [...]string{"invalid", "page", "fpi", "commit", "abort", "checkpoint", "end-of-recovery",
	"prepare", "commit-prepared", "abort-prepared", "init-page", "overwrite-contrecord"}

func (t RecordType) String() string {
	if t < recTypeEnd {
		return recTypeNames[t]
	}
	return fmt.Sprintf("RecordType(%d)", uint8(t))
}

// ParseRecordType is the inverse of String (for scripts).
func ParseRecordType(s string) (RecordType, error) {
	for i := RecPage; i < recTypeEnd; i++ {
		if recTypeNames[i] == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("logindex: unknown record type %q", s)
}

// HasPages reports whether records of this type touch pages (and so are
// indexed in LogIndex rather than replayed into the clog or ignored).
func (t RecordType) HasPages() bool { return t == RecPage || t == RecFullPage || t == RecInitPage }

// HasChanges reports whether records of this type carry slot changes
// (Record.Changes): a page record or an init record.
func (t RecordType) HasChanges() bool { return t == RecPage || t == RecInitPage }

// MaxGIDLen bounds a prepared transaction's global id (PostgreSQL's
// GIDSIZE is 200; the model's records keep it short).
const MaxGIDLen = 32

// XID is a transaction id; 0 is "none".
type XID uint32

// Change sets one slot of one page.
type Change struct {
	Page  storage.PageID
	Slot  uint8
	Value uint64
}

// Limits that keep records and WAL meta fixed-size (PostgreSQL's
// XLR_MAX_BLOCK_ID is 32; the model needs far fewer).
const (
	MaxChanges = 16 // changes per page record
	MaxPages   = 4  // distinct pages per record
)

// Record is one WAL record. Start, End and Prev are set by WAL.Insert and by
// the reader; End is the (aligned) position just past the record, where the
// next record starts.
type Record struct {
	Type  RecordType
	XID   XID
	Start storage.LSN
	End   storage.LSN
	Prev  storage.LSN // start of the previous record (xl_prev)
	Redo  storage.LSN // RecCheckpoint: the redo pointer
	GID   string      // RecPrepare: the global transaction id
	// Aborted is RecOverwriteContrecord's overwritten_lsn: the start of
	// the record whose continuation it replaces.
	Aborted storage.LSN

	Changes []Change       // RecPage, RecInitPage
	Block   storage.PageID // RecFullPage: the page imaged
	Image   storage.Page   // RecFullPage: its content (Image.LSN is ignored)
}

// Pages appends the distinct pages rec touches, in first-touch order.
func (r *Record) Pages(dst []storage.PageID) []storage.PageID {
	switch r.Type {
	case RecFullPage:
		return append(dst, r.Block)
	case RecPage, RecInitPage:
		base := len(dst)
		for i := range r.Changes {
			p := r.Changes[i].Page
			dup := false
			for _, q := range dst[base:] {
				if q == p {
					dup = true
					break
				}
			}
			if !dup {
				dst = append(dst, p)
			}
		}
	}
	return dst
}

// Apply replays rec onto page (whose id is id), the way
// XLogReadBufferForRedo decides BLK_NEEDS_REDO: only if page.LSN < rec.End.
// It then sets page.LSN = rec.End, so replaying twice changes nothing.
// It reports whether the page changed.
func (r *Record) Apply(id storage.PageID, page *storage.Page) bool {
	if page.LSN >= r.End {
		return false
	}
	switch r.Type {
	case RecFullPage:
		if r.Block != id {
			return false
		}
		page.Slots = r.Image.Slots
	case RecPage, RecInitPage:
		hit := false
		for i := range r.Changes {
			if r.Type == RecInitPage && r.Changes[i].Page == id && !hit {
				// WILL_INIT: the page restarts empty (RBM_ZERO_AND_LOCK).
				page.Slots = [storage.PageSlots]uint64{}
			}
			c := &r.Changes[i]
			if c.Page == id {
				page.Slots[c.Slot] = c.Value
				hit = true
			}
		}
		if !hit {
			return false
		}
	default:
		return false
	}
	page.LSN = r.End
	return true
}

// Meta is WAL meta: a record without its page data (which pages it touches,
// its type, xid and position). The walsender ships it to replicas; their
// startup indexes it in LogIndex (PolarDB's polar_xlog_queue packets). It is
// a fixed-size value so queueing it never allocates.
type Meta struct {
	Type   RecordType
	XID    XID
	NPages uint8
	Start  storage.LSN
	End    storage.LSN
	Redo   storage.LSN
	GID    string // RecPrepare (a replica's PrepareRedoAdd needs it)
	Pages  [MaxPages]storage.PageID
}

// PageList is the pages of m.
func (m *Meta) PageList() []storage.PageID { return m.Pages[:m.NPages] }

// Meta returns rec's WAL meta.
func (r *Record) Meta() Meta {
	m := Meta{Type: r.Type, XID: r.XID, Start: r.Start, End: r.End, Redo: r.Redo, GID: r.GID}
	n := len(r.Pages(m.Pages[:0]))
	if n > MaxPages {
		sim.Failf("logindex: record at %v touches %d pages (max %d)", r.Start, n, MaxPages)
	}
	m.NPages = uint8(n)
	return m
}

// ErrInvalidRecord: the bytes at an LSN are not a valid record (zero, short,
// bad length or type, CRC mismatch, broken prev link). It marks the end of
// valid WAL.
var ErrInvalidRecord = errors.New("logindex: invalid WAL record")

// Encoding. Header (24 bytes, like XLogRecord):
//
//	0  tot_len u32   total length, header included, before alignment padding
//	4  xid     u32
//	8  prev    u64   start of the previous record
//	16 type    u8
//	17 n       u8    number of changes (RecPage)
//	18 pad     u16
//	20 crc     u32   CRC-32C of bytes [0,20) and the payload
//
// Payload: RecPage and RecInitPage n x (rel u32, block u32, slot u8, value u64);
// RecFullPage rel u32, block u32, slots; RecCheckpoint redo u64;
// RecPrepare the GID's n bytes (n in the header's count byte);
// RecOverwriteContrecord aborted u64.
const (
	recHeaderSize = 24
	changeSize    = 17
	fpiSize       = 8 + 8*storage.PageSlots
	maxRecordSize = recHeaderSize + MaxChanges*changeSize
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (r *Record) encodedLen() (int, error) {
	switch r.Type {
	case RecPage, RecInitPage:
		if len(r.Changes) == 0 || len(r.Changes) > MaxChanges {
			return 0, fmt.Errorf("logindex: page record with %d changes (1..%d)", len(r.Changes), MaxChanges)
		}
		var pages [MaxChanges]storage.PageID
		if n := len(r.Pages(pages[:0])); n > MaxPages {
			return 0, fmt.Errorf("logindex: page record touches %d pages (max %d)", n, MaxPages)
		}
		for i := range r.Changes {
			if int(r.Changes[i].Slot) >= storage.PageSlots {
				return 0, fmt.Errorf("logindex: change slot %d out of range", r.Changes[i].Slot)
			}
		}
		return recHeaderSize + len(r.Changes)*changeSize, nil
	case RecFullPage:
		return recHeaderSize + fpiSize, nil
	case RecCheckpoint, RecOverwriteContrecord:
		return recHeaderSize + 8, nil
	case RecPrepare:
		if len(r.GID) == 0 || len(r.GID) > MaxGIDLen {
			return 0, fmt.Errorf("logindex: prepare record with a %d-byte gid (1..%d)", len(r.GID), MaxGIDLen)
		}
		return recHeaderSize + len(r.GID), nil
	case RecCommit, RecAbort, RecEndOfRecovery, RecCommitPrepared, RecAbortPrepared:
		return recHeaderSize, nil
	}
	return 0, fmt.Errorf("logindex: cannot encode record type %v", r.Type)
}

// encode writes rec (Prev already set) into b, len(b) == encodedLen.
func (r *Record) encode(b []byte) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(len(b)))
	le.PutUint32(b[4:], uint32(r.XID))
	le.PutUint64(b[8:], uint64(r.Prev))
	b[16] = byte(r.Type)
	b[17] = 0
	le.PutUint16(b[18:], 0)
	p := b[recHeaderSize:]
	switch r.Type {
	case RecPage, RecInitPage:
		b[17] = byte(len(r.Changes))
		for i := range r.Changes {
			c := &r.Changes[i]
			le.PutUint32(p[0:], uint32(c.Page.Rel))
			le.PutUint32(p[4:], uint32(c.Page.Block))
			p[8] = c.Slot
			le.PutUint64(p[9:], c.Value)
			p = p[changeSize:]
		}
	case RecFullPage:
		le.PutUint32(p[0:], uint32(r.Block.Rel))
		le.PutUint32(p[4:], uint32(r.Block.Block))
		for i, v := range r.Image.Slots {
			le.PutUint64(p[8+8*i:], v)
		}
	case RecCheckpoint:
		le.PutUint64(p[0:], uint64(r.Redo))
	case RecPrepare:
		b[17] = byte(len(r.GID))
		copy(p, r.GID)
	case RecOverwriteContrecord:
		le.PutUint64(p[0:], uint64(r.Aborted))
	}
	le.PutUint32(b[20:], recordCRC(b))
}

func recordCRC(b []byte) uint32 {
	c := crc32.Update(0, castagnoli, b[:20])
	return crc32.Update(c, castagnoli, b[recHeaderSize:])
}

// Encode appends rec's serialized form (with its Prev link, without
// alignment padding) to dst.
func (r *Record) Encode(dst []byte) ([]byte, error) {
	n, err := r.encodedLen()
	if err != nil {
		return dst, err
	}
	off := len(dst)
	dst = append(dst, make([]byte, n)...)
	r.encode(dst[off:])
	return dst, nil
}

// headerLen validates a record header and returns its total length.
func headerLen(h []byte) (int, error) {
	n := int(binary.LittleEndian.Uint32(h[0:]))
	if n == 0 {
		return 0, fmt.Errorf("%w: zero length", ErrInvalidRecord)
	}
	if n < recHeaderSize || n > maxRecordSize {
		return 0, fmt.Errorf("%w: length %d", ErrInvalidRecord, n)
	}
	return n, nil
}

// Decode parses one record from b (exactly its encoded length, as the header
// says), reusing rec.Changes. It sets Prev, not Start/End.
func (r *Record) Decode(b []byte) error {
	if len(b) < recHeaderSize {
		return fmt.Errorf("%w: %d bytes", ErrInvalidRecord, len(b))
	}
	n, err := headerLen(b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("%w: length %d, have %d bytes", ErrInvalidRecord, n, len(b))
	}
	le := binary.LittleEndian
	if recordCRC(b) != le.Uint32(b[20:]) {
		return fmt.Errorf("%w: CRC mismatch", ErrInvalidRecord)
	}
	t := RecordType(b[16])
	nc := int(b[17])
	want := -1
	switch t {
	case RecPage, RecInitPage:
		if nc >= 1 && nc <= MaxChanges {
			want = recHeaderSize + nc*changeSize
		}
	case RecFullPage:
		want = recHeaderSize + fpiSize
	case RecCheckpoint, RecOverwriteContrecord:
		want = recHeaderSize + 8
	case RecPrepare:
		if nc >= 1 && nc <= MaxGIDLen {
			want = recHeaderSize + nc
		}
	case RecCommit, RecAbort, RecEndOfRecovery, RecCommitPrepared, RecAbortPrepared:
		want = recHeaderSize
	}
	if want != n {
		return fmt.Errorf("%w: type %v with length %d", ErrInvalidRecord, t, n)
	}
	r.Type, r.XID, r.Prev = t, XID(le.Uint32(b[4:])), storage.LSN(le.Uint64(b[8:]))
	r.Redo, r.Aborted, r.Block, r.Image, r.GID = 0, 0, storage.PageID{}, storage.Page{}, ""
	r.Changes = r.Changes[:0]
	p := b[recHeaderSize:]
	switch t {
	case RecPage, RecInitPage:
		for range nc {
			c := Change{
				Page:  storage.PageID{Rel: storage.RelID(le.Uint32(p[0:])), Block: storage.BlockNo(le.Uint32(p[4:]))},
				Slot:  p[8],
				Value: le.Uint64(p[9:]),
			}
			if int(c.Slot) >= storage.PageSlots {
				return fmt.Errorf("%w: slot %d", ErrInvalidRecord, c.Slot)
			}
			r.Changes = append(r.Changes, c)
			p = p[changeSize:]
		}
	case RecFullPage:
		r.Block = storage.PageID{Rel: storage.RelID(le.Uint32(p[0:])), Block: storage.BlockNo(le.Uint32(p[4:]))}
		for i := range r.Image.Slots {
			r.Image.Slots[i] = le.Uint64(p[8+8*i:])
		}
	case RecCheckpoint:
		r.Redo = storage.LSN(le.Uint64(p[0:]))
	case RecPrepare:
		r.GID = string(p[:nc])
	case RecOverwriteContrecord:
		r.Aborted = storage.LSN(le.Uint64(p[0:]))
	}
	return nil
}

// String renders rec for traces and scripts.
func (r *Record) String() string {
	s := fmt.Sprintf("%v %v-%v", r.Type, r.Start, r.End)
	if r.XID != 0 {
		s += fmt.Sprintf(" xid=%d", r.XID)
	}
	switch r.Type {
	case RecPage, RecInitPage:
		for _, c := range r.Changes {
			s += fmt.Sprintf(" %v[%d]=%d", c.Page, c.Slot, c.Value)
		}
	case RecFullPage:
		s += fmt.Sprintf(" %v=%v", r.Block, r.Image.Slots)
	case RecCheckpoint:
		s += fmt.Sprintf(" redo=%v", r.Redo)
	case RecPrepare:
		s += " gid=" + r.GID
	case RecOverwriteContrecord:
		s += fmt.Sprintf(" aborted=%v", r.Aborted)
	}
	return s
}

func isInvalid(err error) bool { return errors.Is(err, ErrInvalidRecord) }
