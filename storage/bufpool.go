package storage

import (
	"errors"
	"fmt"

	"promotesim/sim"
)

// ErrNoVictim reports that every frame is pinned, so no buffer can be
// replaced (PostgreSQL's "no unpinned buffers available").
var ErrNoVictim = errors.New("storage: no unpinned buffers available")

// BufferID numbers a frame of a pool, 0 to Frames()-1.
type BufferID int32

// maxUsage caps a frame's usage count, as PostgreSQL's BM_MAX_USAGE_COUNT:
// a page pinned a thousand times survives at most maxUsage clock passes.
const maxUsage = 5

// Buffer is one frame of a pool: a page image and what the buffer manager
// knows about it. Callers may change Outdated; Page changes only through
// Pool.Modify (which counts the change, Pool.Changes), Dirty and OldestLSN
// only through MarkDirty and MarkClean, because the flush list must agree
// with them.
type Buffer struct {
	Tag   PageID // which page the frame holds; meaningful only when Valid
	Valid bool   // the frame holds a page (false: free frame)
	Page  Page   // the image; Page.LSN is the page LSN
	Dirty bool   // changed since last written
	// OldestLSN is the LSN of the first change since the page was last
	// written (polar_buffer_get_oldest_lsn); InvalidLSN when clean.
	OldestLSN LSN
	// Outdated marks a replica buffer that LogIndex has records for that
	// are not yet applied: the next access must replay them first.
	Outdated bool

	pins  int32 // pin count; a pinned frame is never a victim
	usage int8  // clock-sweep usage count, 0..maxUsage
	// queued: the frame has an entry on the free stack (maybe stale).
	queued bool

	flushPrev, flushNext BufferID // flush-list links, notInList when off
}

// Pool is a node's bounded buffer pool: frames, a page-to-frame lookup, a
// clock sweep for replacement, the flush list of dirty buffers and the
// published consistent LSN. It mirrors bufmgr.c/freelist.c (clock sweep) and
// polar_bufmgr.c/polar_flushlist.c (flush list, consistent LSN).
//
// Invariants (checked by Check):
//   - lookup maps exactly the tags of valid frames, one frame per tag;
//   - the flush list holds exactly the dirty buffers, ordered by oldest LSN;
//   - a clean buffer has OldestLSN == InvalidLSN, a dirty one a valid one;
//   - only valid frames are dirty or pinned; pinned counts frames with pins;
//   - every invalid frame has an entry on the free stack;
//   - the published consistent LSN never decreases.
type Pool struct {
	bufs   []Buffer
	lookup map[PageID]BufferID // never iterated
	// free is a stack of frames to use before sweeping: invalid frames,
	// lowest id on top at start. Entries go stale when their frame is
	// assigned; Victim drops stale entries lazily, so Assign stays O(1).
	// Each frame has at most one entry (queued), so len(free) <= frames.
	free   []BufferID
	hand   int // clock hand: next frame the sweep looks at
	pinned int // frames with pins > 0
	flush  flushList

	consistent LSN // last published consistent LSN (monotone)
	// changes counts the changes to the frames' pages and tags (Modify,
	// Assign, Evict): the checkers' watch compares it instead of folding
	// every frame each step. It numbers history, so the exhaustive
	// search's fingerprint leaves it out.
	changes uint64
}

// NewPool builds a pool of the given number of frames, all free.
func NewPool(frames int) (*Pool, error) {
	if frames <= 0 || frames > 1<<30 {
		return nil, fmt.Errorf("storage: pool of %d frames, want 1..%d", frames, 1<<30)
	}
	p := &Pool{
		bufs:   make([]Buffer, frames),
		lookup: make(map[PageID]BufferID, frames),
		free:   make([]BufferID, 0, frames),
	}
	for i := frames - 1; i >= 0; i-- {
		p.free = append(p.free, BufferID(i))
		p.bufs[i].queued = true
	}
	p.flush.init(p.bufs)
	return p, nil
}

// Frames returns the number of frames.
func (p *Pool) Frames() int { return len(p.bufs) }

// Lookup finds the frame holding tag (BufTableLookup).
func (p *Pool) Lookup(tag PageID) (BufferID, bool) {
	id, ok := p.lookup[tag]
	return id, ok
}

// Get returns frame id. The pointer stays valid for the pool's lifetime.
func (p *Pool) Get(id BufferID) *Buffer { return &p.bufs[id] }

// Modify returns frame id's page for the caller to change in place
// (a redo routine or a backend applying its record to the shared buffer,
// under the buffer's exclusive content lock in PostgreSQL) and counts the
// change. Every change to a pooled page goes through it, so Changes moves
// whenever any frame's page might have.
func (p *Pool) Modify(id BufferID) *Page {
	p.changes++
	return &p.bufs[id].Page
}

// Changes counts the calls that may have changed a frame's page or tag
// (Modify, Assign, Evict): equal counts mean no page of the pool changed.
func (p *Pool) Changes() uint64 { return p.changes }

// Pin marks frame id as in use, so Victim skips it, and bumps its usage
// count. Only a valid frame can be pinned: a caller that must do I/O on a
// victim before reusing it pins the old page, not the empty frame.
func (p *Pool) Pin(id BufferID) {
	b := &p.bufs[id]
	if !b.Valid {
		sim.Failf("bufpool: pin of free buffer %d", id)
	}
	if b.pins == 0 {
		p.pinned++
	}
	b.pins++
	if b.usage < maxUsage {
		b.usage++
	}
}

// Unpin releases one pin of frame id.
func (p *Pool) Unpin(id BufferID) {
	b := &p.bufs[id]
	if b.pins <= 0 {
		sim.Failf("bufpool: unpin of unpinned buffer %d", id)
	}
	b.pins--
	if b.pins == 0 {
		p.pinned--
	}
}

// Pins returns frame id's pin count.
func (p *Pool) Pins(id BufferID) int { return int(p.bufs[id].pins) }

// Victim chooses the frame to load a new page into, as StrategyGetBuffer:
// a free frame if there is one (lowest id first at start, then the most
// recently freed), otherwise a deterministic clock sweep over unpinned frames
// that decrements usage counts and takes the first frame found at zero. The
// choice may be dirty: the caller must then write it (WAL before data) and
// MarkClean before Assign. ErrNoVictim when every frame is pinned.
//
// Victim does not reserve the frame, but asking again without changing the
// pool in between gives the same frame; Assign moves the hand past it.
func (p *Pool) Victim() (BufferID, error) {
	for len(p.free) > 0 {
		id := p.free[len(p.free)-1]
		if !p.bufs[id].Valid {
			return id, nil
		}
		// Stale: the frame was assigned since it was freed.
		p.free = p.free[:len(p.free)-1]
		p.bufs[id].queued = false
	}
	n := len(p.bufs)
	if p.pinned == n {
		return -1, ErrNoVictim
	}
	// Each full pass lowers every unpinned frame's usage by one, so an
	// unpinned frame reaches zero within maxUsage+1 passes (+1 for starting
	// mid-pass).
	for range (maxUsage + 2) * n {
		id := BufferID(p.hand)
		b := &p.bufs[id]
		if b.pins == 0 {
			if b.usage == 0 {
				// The hand stays here until Assign, so asking again
				// gives the same answer.
				return id, nil
			}
			b.usage--
		}
		p.advanceHand()
	}
	sim.Failf("bufpool: clock sweep found no victim among %d unpinned frames", n-p.pinned)
	return -1, nil
}

func (p *Pool) advanceHand() {
	p.hand++
	if p.hand == len(p.bufs) {
		p.hand = 0
	}
}

// Assign loads page tag into frame id, which must be clean and unpinned
// (BufferAlloc after the victim was written). The frame's old page, if any,
// is dropped. The new page starts clean, not outdated, with usage count 1.
func (p *Pool) Assign(id BufferID, tag PageID, page Page) {
	b := &p.bufs[id]
	if b.Dirty || b.pins != 0 {
		sim.Failf("bufpool: assign to buffer %d (dirty %t, pins %d)", id, b.Dirty, b.pins)
	}
	if other, ok := p.lookup[tag]; ok && other != id {
		sim.Failf("bufpool: page %s already in buffer %d, assigned again to %d", tag, other, id)
	}
	replaced := b.Valid
	if replaced && b.Tag != tag {
		delete(p.lookup, b.Tag)
	}
	p.lookup[tag] = id
	p.changes++
	b.Tag = tag
	b.Valid = true
	b.Page = page
	b.Outdated = false
	b.usage = 1
	// A replaced frame came from the sweep (free frames come from the free
	// stack and leave the hand alone): move past it, as PostgreSQL does.
	if replaced && p.hand == int(id) {
		p.advanceHand()
	}
}

// Evict drops frame id's page without I/O: a replica's buffers are never
// dirty, and their content is rebuilt from storage and LogIndex on the next
// read. The frame must be clean and unpinned; it becomes free.
func (p *Pool) Evict(id BufferID) {
	b := &p.bufs[id]
	if !b.Valid || b.Dirty || b.pins != 0 {
		sim.Failf("bufpool: evict buffer %d (valid %t, dirty %t, pins %d)", id, b.Valid, b.Dirty, b.pins)
	}
	delete(p.lookup, b.Tag)
	p.changes++
	*b = Buffer{queued: b.queued, flushPrev: notInList, flushNext: notInList}
	if !b.queued {
		b.queued = true
		p.free = append(p.free, id)
	}
}

// MarkDirty records a change to frame id whose oldest LSN is oldest (the
// insert position before the change's record on a primary; the BGW's replay
// point during online promote). The first dirtying since the last write sets
// Dirty and OldestLSN and appends the buffer at the flush-list tail
// (polar_put_buffer_to_flush_list). An oldest LSN below the tail's is the
// PANIC PolarDB raises: ErrFlushListOrder, and nothing changes. A buffer
// already dirty keeps its oldest LSN: it is the first change's.
func (p *Pool) MarkDirty(id BufferID, oldest LSN) error {
	b := &p.bufs[id]
	if !b.Valid {
		sim.Failf("bufpool: dirty free buffer %d", id)
	}
	if b.Dirty {
		return nil
	}
	if err := p.flush.append(id, oldest); err != nil {
		return err
	}
	b.Dirty = true
	return nil
}

// MarkClean records that frame id's page was written to storage: it leaves
// the flush list and its oldest LSN is cleared
// (polar_remove_buffer_from_flush_list). A clean buffer stays as it is.
func (p *Pool) MarkClean(id BufferID) {
	b := &p.bufs[id]
	if !b.Dirty {
		return
	}
	p.flush.remove(id)
	b.Dirty = false
}

// FlushHead returns the dirty buffer with the smallest oldest LSN: the one
// the bgwriter writes first.
func (p *Pool) FlushHead() (BufferID, bool) { return p.flush.first() }

// FlushLen returns the number of dirty buffers.
func (p *Pool) FlushLen() int { return p.flush.len() }

// FlushGen changes whenever a buffer joins or leaves the flush list, which
// is the only way its content, its order and its buffers' Dirty and
// OldestLSN change (MarkDirty, MarkClean).
func (p *Pool) FlushGen() uint64 { return p.flush.gen }

// FlushList appends the dirty buffers, head to tail, to dst.
func (p *Pool) FlushList(dst []BufferID) []BufferID { return p.flush.appendTo(dst) }

// ConsistentLSN returns the last published consistent LSN: every change
// below it is on shared storage. It never decreases.
func (p *Pool) ConsistentLSN() LSN { return p.consistent }

// UpdateConsistentLSN recomputes and publishes the consistent LSN:
// SetConsistentLSN(CalConsistentLSN(fallback)).
func (p *Pool) UpdateConsistentLSN(fallback LSN) LSN {
	return p.SetConsistentLSN(p.CalConsistentLSN(fallback))
}

// CalConsistentLSN computes the consistent LSN as
// polar_cal_cur_consistent_lsn does: the flush-list head's oldest LSN or,
// when the list is empty, fallback: the caller passes the WAL insert
// position, or the fake oldest LSN (the BGW's replay point) while the BGW
// replays in parallel during promote.
func (p *Pool) CalConsistentLSN(fallback LSN) LSN {
	if id, ok := p.flush.first(); ok {
		return p.bufs[id].OldestLSN
	}
	return fallback
}

// SetConsistentLSN publishes raw as the consistent LSN unless it is below
// the published one (polar_set_consistent_lsn), and returns the published
// value: max(previous, raw). A raw value below the previous one means some
// buffer carries an oldest LSN the consistent LSN has already passed; the
// caller sees it (raw below ConsistentLSN before the call) and reports it
// (shmem.Node.UpdateConsistentLSN), the pool hides nothing and keeps no
// record of it.
func (p *Pool) SetConsistentLSN(raw LSN) LSN {
	if raw > p.consistent {
		p.consistent = raw
	}
	return p.consistent
}

// Check verifies the pool's invariants by a full scan (O(frames)); for tests
// and checkers.
func (p *Pool) Check() error {
	if err := p.flush.check(); err != nil {
		return err
	}
	valid, pinned, queued := 0, 0, 0
	for i := range p.bufs {
		id := BufferID(i)
		b := &p.bufs[i]
		if b.pins < 0 || b.usage < 0 || b.usage > maxUsage {
			return fmt.Errorf("storage: buffer %d pins %d usage %d", id, b.pins, b.usage)
		}
		if b.pins > 0 {
			pinned++
		}
		if b.queued {
			queued++
		}
		if b.Dirty != p.flush.contains(id) {
			return fmt.Errorf("storage: buffer %d dirty %t but on flush list %t", id, b.Dirty, p.flush.contains(id))
		}
		if b.Dirty != b.OldestLSN.Valid() {
			return fmt.Errorf("storage: buffer %d dirty %t with oldest LSN %s", id, b.Dirty, b.OldestLSN)
		}
		if !b.Valid {
			if b.Dirty || b.pins != 0 {
				return fmt.Errorf("storage: free buffer %d dirty %t pins %d", id, b.Dirty, b.pins)
			}
			if !b.queued {
				return fmt.Errorf("storage: free buffer %d not on the free stack", id)
			}
			continue
		}
		valid++
		if got, ok := p.lookup[b.Tag]; !ok || got != id {
			return fmt.Errorf("storage: buffer %d holds page %s but lookup says %d (%t)", id, b.Tag, got, ok)
		}
	}
	if len(p.lookup) != valid {
		return fmt.Errorf("storage: lookup has %d pages, %d frames valid", len(p.lookup), valid)
	}
	if pinned != p.pinned {
		return fmt.Errorf("storage: %d frames pinned, count says %d", pinned, p.pinned)
	}
	if queued != len(p.free) {
		return fmt.Errorf("storage: %d frames queued, free stack holds %d", queued, len(p.free))
	}
	if p.hand < 0 || p.hand >= len(p.bufs) {
		return fmt.Errorf("storage: clock hand %d out of range", p.hand)
	}
	return nil
}
