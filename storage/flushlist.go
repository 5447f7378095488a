package storage

import (
	"errors"
	"fmt"

	"promotesim/sim"
)

// ErrFlushListOrder reports an append whose oldest LSN is below the flush
// list tail's. PolarDB raises PANIC here (append_one_buffer in
// polar_flushlist.c: "Append buffer with a small oldest lsn than last buffer
// in flush list"), and issue #487 shows it firing in the field during online
// promote. It is a Go error, not a Go panic: the simulation turns it into the
// PANIC of the process that dirtied the buffer.
var ErrFlushListOrder = errors.New("storage: flush list out of order")

// Sentinels stored in a buffer's flush-list links, as PolarDB's
// POLAR_FLUSHNEXT_END_OF_LIST and POLAR_FLUSHNEXT_NOT_IN_LIST: a buffer is on
// the list exactly when its links are not notInList.
const (
	endOfList BufferID = -1
	notInList BufferID = -2
)

// flushList is the list of dirty buffers ordered by oldest LSN, mirroring
// polar_flushlist.c (polar_flush.c in V15). It is intrusive: the links live
// in the buffers (flushPrev/flushNext), so append and remove are O(1) and
// never allocate. Only appends at the tail are allowed, which keeps the list
// sorted as long as oldest LSNs are handed out in non-decreasing order; the
// head therefore carries the smallest oldest LSN of all dirty buffers, which
// is what makes the consistent LSN an O(1) read.
//
// Invariants (checked by check):
//   - head..tail via flushNext visits exactly n buffers, tail..head via
//     flushPrev the same ones in reverse;
//   - oldest LSNs are non-decreasing from head to tail, and all valid;
//   - every buffer not on the list has both links notInList.
type flushList struct {
	bufs []Buffer
	head BufferID // endOfList when empty
	tail BufferID // endOfList when empty
	n    int
	// gen counts appends and removes: the list's content, order and its
	// buffers' oldest LSNs change only with it (a checker that walked the
	// list at one gen need not walk it again at the same gen).
	gen uint64
}

// init attaches the list to bufs and marks every buffer as not on it.
func (l *flushList) init(bufs []Buffer) {
	l.bufs = bufs
	l.head, l.tail, l.n = endOfList, endOfList, 0
	for i := range bufs {
		bufs[i].flushPrev, bufs[i].flushNext = notInList, notInList
	}
}

func (l *flushList) len() int { return l.n }

func (l *flushList) contains(id BufferID) bool {
	return l.bufs[id].flushPrev != notInList
}

// append puts buffer id at the tail with the given oldest LSN, as
// polar_put_buffer_to_flush_list. An oldest LSN below the tail's is refused
// with ErrFlushListOrder and leaves everything unchanged; an equal one is
// fine (many buffers dirtied at the same insert position, or at the same
// replay point during promote).
func (l *flushList) append(id BufferID, oldest LSN) error {
	b := &l.bufs[id]
	if b.flushPrev != notInList {
		sim.Failf("flush list: append buffer %d already on the list", id)
	}
	if !oldest.Valid() {
		sim.Failf("flush list: append buffer %d with invalid oldest LSN", id)
	}
	if l.tail != endOfList {
		t := &l.bufs[l.tail]
		if t.OldestLSN > oldest {
			return fmt.Errorf("%w: PANIC: append buffer %d (page %s) with oldest LSN %s below last buffer %d (page %s) oldest LSN %s",
				ErrFlushListOrder, id, b.Tag, oldest, l.tail, t.Tag, t.OldestLSN)
		}
		t.flushNext = id
		b.flushPrev = l.tail
	} else {
		l.head = id
		b.flushPrev = endOfList
	}
	b.flushNext = endOfList
	b.OldestLSN = oldest
	l.tail = id
	l.n++
	l.gen++
	return nil
}

// remove takes buffer id off the list and clears its oldest LSN, as
// polar_remove_buffer_from_flush_list after the buffer was written.
func (l *flushList) remove(id BufferID) {
	b := &l.bufs[id]
	if b.flushPrev == notInList {
		sim.Failf("flush list: remove buffer %d not on the list", id)
	}
	if b.flushPrev == endOfList {
		l.head = b.flushNext
	} else {
		l.bufs[b.flushPrev].flushNext = b.flushNext
	}
	if b.flushNext == endOfList {
		l.tail = b.flushPrev
	} else {
		l.bufs[b.flushNext].flushPrev = b.flushPrev
	}
	b.flushPrev, b.flushNext = notInList, notInList
	b.OldestLSN = InvalidLSN
	l.n--
	l.gen++
}

// first returns the head: the dirty buffer with the smallest oldest LSN.
func (l *flushList) first() (BufferID, bool) {
	return l.head, l.head != endOfList
}

// appendTo appends the list's buffers, head to tail, to dst.
func (l *flushList) appendTo(dst []BufferID) []BufferID {
	for id := l.head; id != endOfList; id = l.bufs[id].flushNext {
		dst = append(dst, id)
	}
	return dst
}

// check walks the whole list and verifies its invariants. It is O(frames)
// and meant for tests and checkers, not for every step of a hot path.
func (l *flushList) check() error {
	count := 0
	prev := endOfList
	var last LSN
	for id := l.head; id != endOfList; id = l.bufs[id].flushNext {
		if id < 0 || int(id) >= len(l.bufs) {
			return fmt.Errorf("storage: flush list link %d out of range", id)
		}
		count++
		if count > len(l.bufs) {
			return fmt.Errorf("storage: flush list has a cycle")
		}
		b := &l.bufs[id]
		if b.flushPrev != prev {
			return fmt.Errorf("storage: flush list buffer %d has prev %d, want %d", id, b.flushPrev, prev)
		}
		if !b.OldestLSN.Valid() {
			return fmt.Errorf("storage: flush list buffer %d has invalid oldest LSN", id)
		}
		if b.OldestLSN < last {
			return fmt.Errorf("storage: flush list buffer %d oldest LSN %s below predecessor's %s", id, b.OldestLSN, last)
		}
		last = b.OldestLSN
		prev = id
	}
	if prev != l.tail {
		return fmt.Errorf("storage: flush list ends at %d, tail is %d", prev, l.tail)
	}
	if count != l.n {
		return fmt.Errorf("storage: flush list has %d buffers, count says %d", count, l.n)
	}
	off := 0
	for i := range l.bufs {
		b := &l.bufs[i]
		if (b.flushPrev == notInList) != (b.flushNext == notInList) {
			return fmt.Errorf("storage: buffer %d half on the flush list (prev %d next %d)", i, b.flushPrev, b.flushNext)
		}
		if b.flushPrev == notInList {
			off++
		}
	}
	if off != len(l.bufs)-l.n {
		return fmt.Errorf("storage: %d buffers off the flush list, want %d", off, len(l.bufs)-l.n)
	}
	return nil
}
