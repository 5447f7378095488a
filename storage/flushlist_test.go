package storage

import (
	"cmp"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"promotesim/sim/simtest"
)

func newTestFlushList(frames int) *flushList {
	l := &flushList{}
	l.init(make([]Buffer, frames))
	return l
}

func TestFlushListFixed(t *testing.T) {
	l := newTestFlushList(4)
	require.NoError(t, l.check())
	_, ok := l.first()
	require.False(t, ok, "empty list has no head")

	require.NoError(t, l.append(2, 0x100))
	require.NoError(t, l.append(0, 0x100), "equal oldest LSN is allowed")
	require.NoError(t, l.append(3, 0x180))
	require.NoError(t, l.check())
	require.Equal(t, []BufferID{2, 0, 3}, l.appendTo(nil))
	head, ok := l.first()
	require.True(t, ok)
	require.Equal(t, BufferID(2), head)

	// Out of order: refused, nothing changes.
	err := l.append(1, 0xFF)
	require.ErrorIs(t, err, ErrFlushListOrder)
	require.Contains(t, err.Error(), "0/FF")
	require.Contains(t, err.Error(), "0/180")
	require.Contains(t, err.Error(), "PANIC")
	require.False(t, l.contains(1))
	require.Equal(t, InvalidLSN, l.bufs[1].OldestLSN)
	require.NoError(t, l.check())

	// Remove middle, head, tail.
	l.remove(0)
	require.Equal(t, []BufferID{2, 3}, l.appendTo(nil))
	require.Equal(t, InvalidLSN, l.bufs[0].OldestLSN)
	l.remove(2)
	require.Equal(t, []BufferID{3}, l.appendTo(nil))
	// After removing everything below, a smaller LSN still cannot go behind 3.
	require.ErrorIs(t, l.append(0, 0x17F), ErrFlushListOrder)
	l.remove(3)
	require.Equal(t, 0, l.len())
	require.NoError(t, l.check())
	// Empty again: any oldest LSN is accepted.
	require.NoError(t, l.append(1, 0x10))
	require.Equal(t, []BufferID{1}, l.appendTo(nil))
	require.NoError(t, l.check())
}

func TestFlushListMisuseAsserts(t *testing.T) {
	l := newTestFlushList(2)
	require.NoError(t, l.append(0, 1))
	require.Panics(t, func() { _ = l.append(0, 2) }, "double append")
	require.Panics(t, func() { l.remove(1) }, "remove of a buffer not on the list")
	require.Panics(t, func() { _ = l.append(1, InvalidLSN) }, "invalid oldest LSN")
}

// flEntry is one element of the naive model: the flush list as a plain slice
// in append order.
type flEntry struct {
	id     BufferID
	oldest LSN
}

func TestFlushListModel(t *testing.T) {
	simtest.Check(t, func(t *rapid.T) {
		frames := rapid.IntRange(1, 12).Draw(t, "frames")
		l := newTestFlushList(frames)
		var model []flEntry

		onList := func(id BufferID) int {
			return slices.IndexFunc(model, func(e flEntry) bool { return e.id == id })
		}
		t.Repeat(map[string]func(*rapid.T){
			"append": func(t *rapid.T) {
				id := BufferID(rapid.IntRange(0, frames-1).Draw(t, "id"))
				if onList(id) >= 0 {
					t.Skip("already on the list")
				}
				var last LSN
				if len(model) > 0 {
					last = model[len(model)-1].oldest
				}
				// Mostly in order (never below the tail), sometimes anywhere.
				var oldest LSN
				if rapid.IntRange(0, 4).Draw(t, "wild") == 0 {
					oldest = LSN(rapid.Uint64Range(1, uint64(last)+16).Draw(t, "oldest"))
				} else {
					oldest = max(last, 1) + LSN(rapid.IntRange(0, 3).Draw(t, "step"))
				}
				err := l.append(id, oldest)
				if len(model) > 0 && oldest < last {
					if !errors.Is(err, ErrFlushListOrder) {
						t.Fatalf("append %d oldest %s below tail %s: err %v", id, oldest, last, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("append %d oldest %s: %v", id, oldest, err)
				}
				model = append(model, flEntry{id, oldest})
			},
			"remove": func(t *rapid.T) {
				if len(model) == 0 {
					t.Skip("empty")
				}
				i := rapid.IntRange(0, len(model)-1).Draw(t, "i")
				l.remove(model[i].id)
				model = slices.Delete(model, i, i+1)
			},
			"removeHead": func(t *rapid.T) {
				id, ok := l.first()
				if len(model) == 0 {
					if ok {
						t.Fatalf("head %d of an empty list", id)
					}
					t.Skip("empty")
				}
				if !ok || id != model[0].id {
					t.Fatalf("head %d %t, model head %d", id, ok, model[0].id)
				}
				l.remove(id)
				model = model[1:]
			},
			"": func(t *rapid.T) {
				if err := l.check(); err != nil {
					t.Fatal(err)
				}
				got := l.appendTo(nil)
				if len(got) != len(model) || l.len() != len(model) {
					t.Fatalf("list %v (len %d), model %v", got, l.len(), model)
				}
				for i, e := range model {
					if got[i] != e.id || l.bufs[e.id].OldestLSN != e.oldest {
						t.Fatalf("position %d: list %d oldest %s, model %v", i, got[i], l.bufs[got[i]].OldestLSN, e)
					}
				}
				// The list order is the sorted multiset of oldest LSNs.
				if !slices.IsSortedFunc(model, func(a, b flEntry) int { return cmp.Compare(a.oldest, b.oldest) }) {
					t.Fatalf("model not sorted: %v", model)
				}
				for i := range l.bufs {
					id := BufferID(i)
					if onList(id) < 0 && (l.contains(id) || l.bufs[i].OldestLSN != InvalidLSN) {
						t.Fatalf("buffer %d off the model but on the list or with oldest %s", id, l.bufs[i].OldestLSN)
					}
				}
			},
		})
	})
}

func BenchmarkFlushListAppendRemove(b *testing.B) {
	l := newTestFlushList(64)
	for i := range 32 {
		require.NoError(b, l.append(BufferID(i), LSN(i+1)))
	}
	b.ReportAllocs()
	lsn := LSN(100)
	next := BufferID(32)
	for b.Loop() {
		// Steady state: write the head, dirty a fresh buffer at the tail.
		head, _ := l.first()
		l.remove(head)
		lsn++
		if err := l.append(next, lsn); err != nil {
			b.Fatal(err)
		}
		next = head
	}
}
