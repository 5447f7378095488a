package storage

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"promotesim/sim/simtest"
)

func pg(rel RelID, block BlockNo) PageID { return PageID{Rel: rel, Block: block} }

// load reads tag into the pool the way a backend does: choose a victim, write
// it first if dirty, then assign.
func load(tb testing.TB, p *Pool, tag PageID) BufferID {
	tb.Helper()
	id, err := p.Victim()
	require.NoError(tb, err)
	p.MarkClean(id)
	p.Assign(id, tag, Page{})
	return id
}

func TestNewPoolRejectsBadSize(t *testing.T) {
	_, err := NewPool(0)
	require.Error(t, err)
	_, err = NewPool(-1)
	require.Error(t, err)
	p, err := NewPool(3)
	require.NoError(t, err)
	require.Equal(t, 3, p.Frames())
	require.NoError(t, p.Check())
}

func TestPoolFreeFramesFirstThenClock(t *testing.T) {
	p, err := NewPool(3)
	require.NoError(t, err)
	// Free frames are used lowest first.
	for i := range 3 {
		require.Equal(t, BufferID(i), load(t, p, pg(1, BlockNo(i))))
	}
	for i := range 3 {
		id, ok := p.Lookup(pg(1, BlockNo(i)))
		require.True(t, ok)
		require.Equal(t, BufferID(i), id)
	}
	_, ok := p.Lookup(pg(1, 9))
	require.False(t, ok)

	// All frames have usage 1: the sweep lowers 0, 1, 2 to zero, then takes 0.
	id, err := p.Victim()
	require.NoError(t, err)
	require.Equal(t, BufferID(0), id)
	again, err := p.Victim()
	require.NoError(t, err)
	require.Equal(t, id, again, "asking again gives the same victim")
	p.Assign(id, pg(1, 3), Page{})
	_, ok = p.Lookup(pg(1, 0))
	require.False(t, ok, "replaced page left the lookup")

	// Pinned buffers are skipped; a pin also raises usage, so buffer 1 would
	// survive a pass even unpinned.
	p.Pin(1)
	id, err = p.Victim()
	require.NoError(t, err)
	require.Equal(t, BufferID(2), id, "buffer 1 pinned, buffer 2 at usage 0")
	p.Pin(2)
	p.Pin(0)
	_, err = p.Victim()
	require.ErrorIs(t, err, ErrNoVictim)
	p.Unpin(2)
	require.Equal(t, 0, p.Pins(2))
	require.Equal(t, 1, p.Pins(1))
	id, err = p.Victim()
	require.NoError(t, err)
	require.Equal(t, BufferID(2), id)
	require.NoError(t, p.Check())

	// An evicted frame is free again and taken before any sweep.
	p.Unpin(0)
	p.Evict(0)
	require.False(t, p.Get(0).Valid)
	id, err = p.Victim()
	require.NoError(t, err)
	require.Equal(t, BufferID(0), id)
	require.NoError(t, p.Check())
}

func TestPoolVictimMayBeDirty(t *testing.T) {
	p, err := NewPool(1)
	require.NoError(t, err)
	id := load(t, p, pg(1, 0))
	require.NoError(t, p.MarkDirty(id, 0x100))
	v, err := p.Victim()
	require.NoError(t, err)
	require.Equal(t, id, v)
	require.True(t, p.Get(v).Dirty, "the caller must write it first")
	require.Panics(t, func() { p.Assign(v, pg(1, 1), Page{}) }, "assign over a dirty buffer")
	p.MarkClean(v)
	p.Assign(v, pg(1, 1), Page{LSN: 0x40})
	require.Equal(t, LSN(0x40), p.Get(v).Page.LSN)
	require.NoError(t, p.Check())
}

func TestPoolDirtyCleanAndFlushList(t *testing.T) {
	p, err := NewPool(4)
	require.NoError(t, err)
	a, b, c := load(t, p, pg(1, 0)), load(t, p, pg(1, 1)), load(t, p, pg(1, 2))

	require.NoError(t, p.MarkDirty(b, 0x100))
	require.NoError(t, p.MarkDirty(a, 0x120))
	// Re-dirtying keeps the first change's oldest LSN and the position.
	require.NoError(t, p.MarkDirty(b, 0x200))
	require.Equal(t, LSN(0x100), p.Get(b).OldestLSN)
	require.Equal(t, []BufferID{b, a}, p.FlushList(nil))

	// Out of order append: the PolarDB PANIC, and nothing changes.
	err = p.MarkDirty(c, 0x110)
	require.ErrorIs(t, err, ErrFlushListOrder)
	require.Contains(t, err.Error(), "0/110")
	require.Contains(t, err.Error(), "0/120")
	require.False(t, p.Get(c).Dirty)
	require.Equal(t, 2, p.FlushLen())
	require.NoError(t, p.Check())

	head, ok := p.FlushHead()
	require.True(t, ok)
	require.Equal(t, b, head)
	p.MarkClean(b)
	require.False(t, p.Get(b).Dirty)
	require.Equal(t, InvalidLSN, p.Get(b).OldestLSN)
	p.MarkClean(b) // clean stays clean
	head, _ = p.FlushHead()
	require.Equal(t, a, head)
	require.Panics(t, func() { p.Evict(a) }, "evict of a dirty buffer")
	p.MarkClean(a)
	_, ok = p.FlushHead()
	require.False(t, ok)
	require.NoError(t, p.Check())
}

func TestPoolConsistentLSN(t *testing.T) {
	p, err := NewPool(3)
	require.NoError(t, err)
	require.Equal(t, InvalidLSN, p.ConsistentLSN())
	// Empty: the fallback (insert position).
	require.Equal(t, LSN(0x80), p.UpdateConsistentLSN(0x80))
	a, b := load(t, p, pg(1, 0)), load(t, p, pg(1, 1))
	require.NoError(t, p.MarkDirty(a, 0x100))
	require.NoError(t, p.MarkDirty(b, 0x140))
	// The head's oldest LSN wins over a larger insert position.
	require.Equal(t, LSN(0x100), p.UpdateConsistentLSN(0x300))
	p.MarkClean(a)
	require.Equal(t, LSN(0x140), p.UpdateConsistentLSN(0x300))
	p.MarkClean(b)
	require.Equal(t, LSN(0x300), p.UpdateConsistentLSN(0x300))

	// A fallback below the published value (a fake oldest LSN behind it)
	// is computed as it is, but does not move the consistent LSN back.
	require.Equal(t, LSN(0x280), p.CalConsistentLSN(0x280))
	require.Equal(t, LSN(0x300), p.UpdateConsistentLSN(0x280))
	// So does a dirty head carrying an already passed oldest LSN.
	require.NoError(t, p.MarkDirty(a, 0x2F0))
	require.Equal(t, LSN(0x2F0), p.CalConsistentLSN(0x400))
	require.Equal(t, LSN(0x300), p.UpdateConsistentLSN(0x400))
	require.Equal(t, LSN(0x300), p.ConsistentLSN())
}

func TestPoolMisuseAsserts(t *testing.T) {
	p, err := NewPool(2)
	require.NoError(t, err)
	require.Panics(t, func() { p.Pin(0) }, "pin of a free frame")
	require.Panics(t, func() { p.Unpin(0) }, "unpin of an unpinned frame")
	require.Panics(t, func() { _ = p.MarkDirty(0, 1) }, "dirty a free frame")
	require.Panics(t, func() { p.Evict(0) }, "evict a free frame")
	id := load(t, p, pg(1, 0))
	p.Pin(id)
	require.Panics(t, func() { p.Assign(id, pg(1, 1), Page{}) }, "assign over a pinned frame")
	require.Panics(t, func() { p.Evict(id) }, "evict a pinned frame")
	require.Panics(t, func() { p.Assign(1, pg(1, 0), Page{}) }, "page in two frames")
}

// frameModel is the naive model of one frame.
type frameModel struct {
	tag    PageID
	valid  bool
	dirty  bool
	oldest LSN
	pins   int
}

func TestPoolModel(t *testing.T) {
	simtest.Check(t, func(t *rapid.T) {
		frames := rapid.IntRange(1, 8).Draw(t, "frames")
		p, err := NewPool(frames)
		if err != nil {
			t.Fatal(err)
		}
		model := make([]frameModel, frames)
		var order []BufferID // dirty buffers in the order they were dirtied
		var consistent LSN
		const pages = 12

		tail := func() LSN {
			if len(order) == 0 {
				return 0
			}
			return model[order[len(order)-1]].oldest
		}
		pick := func(t *rapid.T, label string, ok func(frameModel) bool) BufferID {
			var ids []BufferID
			for i, f := range model {
				if ok(f) {
					ids = append(ids, BufferID(i))
				}
			}
			if len(ids) == 0 {
				t.Skip("no frame for " + label)
			}
			return rapid.SampledFrom(ids).Draw(t, label)
		}
		clean := func(id BufferID) {
			model[id].dirty, model[id].oldest = false, 0
			order = slices.DeleteFunc(order, func(x BufferID) bool { return x == id })
		}
		drawLSN := func(t *rapid.T) LSN {
			if rapid.IntRange(0, 5).Draw(t, "wild") == 0 {
				return LSN(rapid.Uint64Range(1, uint64(tail())+64).Draw(t, "lsn"))
			}
			return max(tail(), 1) + LSN(rapid.IntRange(0, 8).Draw(t, "step"))
		}

		t.Repeat(map[string]func(*rapid.T){
			"load": func(t *rapid.T) {
				tag := pg(1, BlockNo(rapid.IntRange(0, pages-1).Draw(t, "block")))
				if _, ok := p.Lookup(tag); ok {
					t.Skip("already loaded")
				}
				id, err := p.Victim()
				allPinned := !slices.ContainsFunc(model, func(f frameModel) bool { return f.pins == 0 })
				if allPinned {
					if !errors.Is(err, ErrNoVictim) {
						t.Fatalf("all pinned, Victim = %d, %v", id, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Victim: %v", err)
				}
				if again, err := p.Victim(); err != nil || again != id {
					t.Fatalf("Victim again = %d, %v; first %d", again, err, id)
				}
				if model[id].pins != 0 {
					t.Fatalf("victim %d is pinned", id)
				}
				if slices.ContainsFunc(model, func(f frameModel) bool { return !f.valid }) && model[id].valid {
					t.Fatalf("victim %d is valid while a free frame exists", id)
				}
				if model[id].dirty {
					p.MarkClean(id) // written
					clean(id)
				}
				p.Assign(id, tag, Page{LSN: LSN(tag.Block)})
				model[id] = frameModel{tag: tag, valid: true}
			},
			"dirty": func(t *rapid.T) {
				id := pick(t, "id", func(f frameModel) bool { return f.valid })
				oldest := drawLSN(t)
				err := p.MarkDirty(id, oldest)
				switch {
				case model[id].dirty:
					if err != nil {
						t.Fatalf("re-dirty %d: %v", id, err)
					}
				case len(order) > 0 && oldest < tail():
					if !errors.Is(err, ErrFlushListOrder) {
						t.Fatalf("dirty %d oldest %s below tail %s: %v", id, oldest, tail(), err)
					}
				default:
					if err != nil {
						t.Fatalf("dirty %d oldest %s: %v", id, oldest, err)
					}
					model[id].dirty, model[id].oldest = true, oldest
					order = append(order, id)
				}
			},
			"clean": func(t *rapid.T) {
				id := pick(t, "id", func(f frameModel) bool { return f.dirty })
				p.MarkClean(id)
				clean(id)
			},
			"writeHead": func(t *rapid.T) {
				id, ok := p.FlushHead()
				if len(order) == 0 {
					if ok {
						t.Fatalf("flush head %d with no dirty buffer", id)
					}
					t.Skip("nothing dirty")
				}
				if !ok || id != order[0] {
					t.Fatalf("flush head %d %t, model %d", id, ok, order[0])
				}
				p.MarkClean(id)
				clean(id)
			},
			"pin": func(t *rapid.T) {
				id := pick(t, "id", func(f frameModel) bool { return f.valid && f.pins < 3 })
				p.Pin(id)
				model[id].pins++
			},
			"unpin": func(t *rapid.T) {
				id := pick(t, "id", func(f frameModel) bool { return f.pins > 0 })
				p.Unpin(id)
				model[id].pins--
			},
			"evict": func(t *rapid.T) {
				id := pick(t, "id", func(f frameModel) bool { return f.valid && !f.dirty && f.pins == 0 })
				p.Evict(id)
				model[id] = frameModel{}
			},
			"consistent": func(t *rapid.T) {
				fallback := LSN(rapid.Uint64Range(0, uint64(tail())+64).Draw(t, "fallback"))
				raw := fallback
				if len(order) > 0 {
					raw = model[order[0]].oldest
				}
				if got := p.CalConsistentLSN(fallback); got != raw {
					t.Fatalf("computed consistent LSN %s, model %s", got, raw)
				}
				if raw >= consistent {
					consistent = raw
				}
				if got := p.UpdateConsistentLSN(fallback); got != consistent {
					t.Fatalf("consistent LSN %s, model %s (raw %s)", got, consistent, raw)
				}
			},
			"": func(t *rapid.T) {
				if err := p.Check(); err != nil {
					t.Fatal(err)
				}
				for i, f := range model {
					b := p.Get(BufferID(i))
					if b.Valid != f.valid || b.Dirty != f.dirty || b.OldestLSN != f.oldest || p.Pins(BufferID(i)) != f.pins ||
						(f.valid && b.Tag != f.tag) {
						t.Fatalf("buffer %d: %+v, model %+v", i, *b, f)
					}
				}
				for blk := range pages {
					tag := pg(1, BlockNo(blk))
					want := slices.IndexFunc(model, func(f frameModel) bool { return f.valid && f.tag == tag })
					id, ok := p.Lookup(tag)
					if ok != (want >= 0) || (ok && int(id) != want) {
						t.Fatalf("Lookup(%s) = %d %t, model %d", tag, id, ok, want)
					}
				}
				if got := p.FlushList(nil); !slices.Equal(got, order) {
					t.Fatalf("flush list %v, model %v", got, order)
				}
				if p.FlushLen() != len(order) {
					t.Fatalf("flush len %d, model %d", p.FlushLen(), len(order))
				}
				if p.ConsistentLSN() != consistent {
					t.Fatalf("consistent %s, model %s", p.ConsistentLSN(), consistent)
				}
			},
		})
	})
}

func fullPool(b *testing.B, frames int) *Pool {
	p, err := NewPool(frames)
	require.NoError(b, err)
	for i := range frames {
		load(b, p, pg(1, BlockNo(i)))
	}
	return p
}

func BenchmarkPoolDirtyClean(b *testing.B) {
	p := fullPool(b, 128)
	for i := range 64 {
		require.NoError(b, p.MarkDirty(BufferID(i), LSN(i+1)))
	}
	b.ReportAllocs()
	lsn := LSN(1000)
	next := BufferID(64)
	for b.Loop() {
		head, _ := p.FlushHead()
		p.MarkClean(head)
		lsn++
		if err := p.MarkDirty(next, lsn); err != nil {
			b.Fatal(err)
		}
		next = head
	}
}

func BenchmarkPoolVictim(b *testing.B) {
	p := fullPool(b, 128)
	for i := 0; i < 128; i += 3 {
		p.Pin(BufferID(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		id, err := p.Victim()
		if err != nil {
			b.Fatal(err)
		}
		// Touch it again so the sweep keeps having work to do.
		p.Pin(id)
		p.Unpin(id)
	}
}

func BenchmarkPoolLookup(b *testing.B) {
	p := fullPool(b, 1024)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := p.Lookup(pg(1, BlockNo(i&2047))); ok != (i&2047 < 1024) {
			b.Fatal("lookup mismatch")
		}
		i++
	}
}

// BenchmarkPoolReplace is the steady state of a full pool reading a stream of
// new pages: victim, assign (map delete + insert).
func BenchmarkPoolReplace(b *testing.B) {
	p := fullPool(b, 1024)
	b.ReportAllocs()
	blk := BlockNo(1024)
	for b.Loop() {
		id, err := p.Victim()
		if err != nil {
			b.Fatal(err)
		}
		p.Assign(id, pg(1, blk), Page{})
		blk++
	}
}

// TestChangesCountsPageChanges pins what the checkers' watch relies on:
// Changes moves with every Modify, Assign and Evict, and with nothing that
// leaves pages and tags alone (pins, dirtying, cleaning).
func TestChangesCountsPageChanges(t *testing.T) {
	p, err := NewPool(2)
	require.NoError(t, err)
	c := p.Changes()
	p.Assign(0, pg(1, 0), Page{LSN: 5})
	require.Equal(t, c+1, p.Changes(), "Assign")
	p.Pin(0)
	require.NoError(t, p.MarkDirty(0, 5))
	p.MarkClean(0)
	p.Unpin(0)
	require.Equal(t, c+1, p.Changes(), "pins and the flush list leave pages alone")
	p.Modify(0).LSN = 9
	require.Equal(t, LSN(9), p.Get(0).Page.LSN)
	require.Equal(t, c+2, p.Changes(), "Modify")
	p.Evict(0)
	require.Equal(t, c+3, p.Changes(), "Evict")
}
