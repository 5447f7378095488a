package logindex

import (
	"errors"
	"fmt"

	"promotesim/sim"
	"promotesim/storage"
)

// PacketKind is the type of a WAL meta queue packet (POLAR_RINGBUF_PKT_*).
// The zero value is invalid.
type PacketKind uint8

const (
	// PacketMeta carries one record's WAL meta (POLAR_RINGBUF_PKT_WAL_META).
	PacketMeta PacketKind = iota + 1
	// PacketStorageBegin: from LSN on, WAL meta is not in the queue; read WAL
	// from shared storage (POLAR_RINGBUF_PKT_WAL_STORAGE_BEGIN).
	PacketStorageBegin
	// PacketStorageEnd: from LSN on, WAL meta is in the queue again
	// (POLAR_RINGBUF_PKT_WAL_STORAGE_END).
	PacketStorageEnd
)

func (k PacketKind) String() string {
	switch k {
	case PacketMeta:
		return "meta"
	case PacketStorageBegin:
		return "storage-begin"
	case PacketStorageEnd:
		return "storage-end"
	}
	return fmt.Sprintf("PacketKind(%d)", uint8(k))
}

// Packet is one queue entry. For markers only LSN is set; for meta packets
// LSN equals Meta.Start.
type Packet struct {
	Kind PacketKind
	LSN  storage.LSN
	Meta Meta
}

// MaxRefs is the number of reference slots (POLAR_RINGBUF_MAX_SLOT).
const MaxRefs = 32

// minQueue: a meta packet plus the reserved marker slot, plus one to leave
// storage mode (end marker + meta + reserve).
const minQueue = 3

var (
	// ErrRefInvalid: the reference was evicted (a weak reference the writer
	// needed space from) or released (queue reset). The reader must notice,
	// take a new reference and read WAL from storage until it catches up.
	ErrRefInvalid = errors.New("logindex: queue reference invalid (evicted or released)")
	// ErrTooManyRefs: all reference slots are in use.
	ErrTooManyRefs = errors.New("logindex: no free queue reference slot")
)

// Ref is a reader's handle on the queue (polar_ringbuf_ref_t). The zero value
// is not a reference.
type Ref struct {
	slot int
	num  uint64
}

type refSlot struct {
	num    uint64 // 0: slot free
	strong bool
	valid  bool // false once evicted; the owner still holds the slot until Release
	pread  uint64
	name   string
}

// Queue is the replica's WAL meta queue: a bounded ring of packets with
// several readers (PolarDB's polar_ringbuf under polar_xlog_queue).
//
// The writer (walreceiver) pushes WAL meta. A strong reference blocks
// overwriting of data it has not read; a weak reference is evicted when the
// writer needs its space. When there is no room even after evicting, the
// writer switches to storage mode: it pushes a storage-begin marker (one slot
// is always kept free for it) and drops meta until there is room for a
// storage-end marker and the next meta; readers read the skipped WAL from
// shared storage. Positions are monotone counters, as in polar_ringbuf.
//
// Invariant: outside storage mode at least one slot is free, so the
// storage-begin marker always fits.
type Queue struct {
	ring    []Packet
	pwrite  uint64
	refs    [MaxRefs]refSlot
	nextNum uint64
	storage bool // in storage mode: meta is being dropped

	pushed, dropped, evicted, resets uint64
}

// NewQueue makes a queue of capacity packets (polar_xlog_queue_buffers).
func NewQueue(capacity int) (*Queue, error) {
	if capacity < minQueue {
		return nil, fmt.Errorf("logindex: queue capacity %d < %d", capacity, minQueue)
	}
	return &Queue{ring: make([]Packet, capacity)}, nil
}

// Cap is the capacity in packets.
func (q *Queue) Cap() int { return len(q.ring) }

// minRead is the smallest read position of a live reference, or pwrite if
// none (then nothing needs keeping).
func (q *Queue) minRead(strongOnly bool) uint64 {
	m := q.pwrite
	for i := range q.refs {
		s := &q.refs[i]
		if s.num != 0 && s.valid && (s.strong || !strongOnly) && s.pread < m {
			m = s.pread
		}
	}
	return m
}

// Free is the number of packets that can be pushed without evicting.
func (q *Queue) Free() int { return len(q.ring) - int(q.pwrite-q.minRead(false)) }

// Len is the number of packets the slowest live reader has not read.
func (q *Queue) Len() int { return int(q.pwrite - q.minRead(false)) }

// InStorageMode reports whether the writer is dropping meta (readers read
// WAL from storage).
func (q *Queue) InStorageMode() bool { return q.storage }

// QueueStats counts queue events.
type QueueStats struct {
	Pushed, Dropped, Evicted, Resets uint64
}

// Stats returns the counters.
func (q *Queue) Stats() QueueStats {
	return QueueStats{Pushed: q.pushed, Dropped: q.dropped, Evicted: q.evicted, Resets: q.resets}
}

// makeRoom frees need slots, evicting the slowest weak references if that is
// enough (polar_ringbuf_free_up); it evicts nothing if strong references
// block anyway.
func (q *Queue) makeRoom(need int) bool {
	if q.Free() >= need {
		return true
	}
	if len(q.ring)-int(q.pwrite-q.minRead(true)) < need {
		return false
	}
	for range MaxRefs {
		if q.Free() >= need {
			return true
		}
		victim := -1
		for i := range q.refs {
			s := &q.refs[i]
			if s.num != 0 && s.valid && !s.strong && (victim < 0 || s.pread < q.refs[victim].pread) {
				victim = i
			}
		}
		if victim < 0 {
			break
		}
		q.refs[victim].valid = false
		q.evicted++
	}
	return q.Free() >= need
}

func (q *Queue) put(p Packet) {
	q.ring[q.pwrite%uint64(len(q.ring))] = p
	q.pwrite++
	q.pushed++
}

// Push offers one record's WAL meta. It returns true if the meta was queued,
// false if it was dropped because the queue is in storage mode (readers will
// read that record from storage). Overflow switches to storage mode, pushing
// a storage-begin marker at m.Start; leaving it pushes a storage-end marker at
// m.Start before the meta.
func (q *Queue) Push(m *Meta) bool {
	if q.storage {
		if !q.makeRoom(3) {
			q.dropped++
			return false
		}
		q.put(Packet{Kind: PacketStorageEnd, LSN: m.Start})
		q.storage = false
	} else if !q.makeRoom(2) {
		q.enterStorage(m.Start)
		q.dropped++
		return false
	}
	q.put(Packet{Kind: PacketMeta, LSN: m.Start, Meta: *m})
	return true
}

// Bypass switches to storage mode at lsn, as when the walsender ships full
// WAL instead of meta: readers read WAL from storage from lsn on.
func (q *Queue) Bypass(lsn storage.LSN) {
	if !q.storage {
		q.enterStorage(lsn)
	}
}

func (q *Queue) enterStorage(lsn storage.LSN) {
	if q.Free() < 1 {
		sim.Failf("logindex: queue has no reserved slot for the storage-begin marker")
	}
	q.put(Packet{Kind: PacketStorageBegin, LSN: lsn})
	q.storage = true
}

// NewRef takes a reference (polar_ringbuf_new_ref). It reads only packets
// pushed after this call.
func (q *Queue) NewRef(name string, strong bool) (Ref, error) {
	for i := range q.refs {
		s := &q.refs[i]
		if s.num == 0 {
			q.nextNum++
			*s = refSlot{num: q.nextNum, strong: strong, valid: true, pread: q.pwrite, name: name}
			return Ref{slot: i, num: q.nextNum}, nil
		}
	}
	return Ref{}, ErrTooManyRefs
}

func (q *Queue) slot(r Ref) *refSlot {
	if r.num == 0 || r.slot < 0 || r.slot >= MaxRefs || q.refs[r.slot].num != r.num {
		return nil
	}
	return &q.refs[r.slot]
}

// Valid reports whether r can still read (polar_ringbuf_valid_ref).
func (q *Queue) Valid(r Ref) bool {
	s := q.slot(r)
	return s != nil && s.valid
}

// Release gives r's slot back (polar_ringbuf_release_ref). Releasing an
// invalid or already released reference does nothing.
func (q *Queue) Release(r Ref) {
	if s := q.slot(r); s != nil {
		*s = refSlot{}
	}
}

// Pending is the number of packets r has not read.
func (q *Queue) Pending(r Ref) (int, error) {
	s := q.slot(r)
	if s == nil || !s.valid {
		return 0, ErrRefInvalid
	}
	return int(q.pwrite - s.pread), nil
}

// Peek copies r's next packet into p without consuming it. ok is false when
// r has read everything.
func (q *Queue) Peek(r Ref, p *Packet) (ok bool, err error) {
	s := q.slot(r)
	if s == nil || !s.valid {
		return false, ErrRefInvalid
	}
	if s.pread == q.pwrite {
		return false, nil
	}
	*p = q.ring[s.pread%uint64(len(q.ring))]
	return true, nil
}

// Pop is Peek then consume (polar_ringbuf_read_next_pkt + update_ref).
func (q *Queue) Pop(r Ref, p *Packet) (ok bool, err error) {
	ok, err = q.Peek(r, p)
	if ok {
		q.refs[r.slot].pread++
	}
	return ok, err
}

// Reset empties the queue, releases every reference and leaves storage mode
// (polar_ringbuf_reset at promote: the new primary has no queue to read).
func (q *Queue) Reset() {
	for i := range q.refs {
		q.refs[i] = refSlot{}
	}
	clear(q.ring)
	q.storage = false
	q.resets++
}

// RefInfo describes one live reference slot (for traces and tests).
type RefInfo struct {
	Name    string
	Strong  bool
	Valid   bool
	Pending int
}

// Refs appends the references in slot order.
func (q *Queue) Refs(dst []RefInfo) []RefInfo {
	for i := range q.refs {
		s := &q.refs[i]
		if s.num != 0 {
			dst = append(dst, RefInfo{Name: s.name, Strong: s.strong, Valid: s.valid, Pending: int(q.pwrite - s.pread)})
		}
	}
	return dst
}
