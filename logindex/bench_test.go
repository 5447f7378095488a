package logindex

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/storage"
)

// BenchmarkIndexAdd measures Add with the amortized cost of what keeps it
// going: when the ring is full the primary saves its memtables and then
// truncates the saved tables (as a checkpoint would), so the device stays
// bounded and the timer never stops.
func BenchmarkIndexAdd(b *testing.B) {
	_, rw, _ := newDevice(b)
	ix, err := New(rw, smallConfig(4, 1024), true)
	require.NoError(b, err)
	pages := []storage.PageID{pg(1, 0), pg(1, 1)}
	lsn := storage.LSN(0x100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		pages[0].Block = storage.BlockNo(i % 64)
		err := ix.Add(lsn, lsn+0x40, pages)
		if errors.Is(err, ErrMemtablesFull) {
			if _, err := ix.Save(lsn); err != nil {
				b.Fatal(err)
			}
			if _, err := ix.Truncate(lsn); err != nil {
				b.Fatal(err)
			}
			err = ix.Add(lsn, lsn+0x40, pages)
		}
		if err != nil {
			b.Fatal(err)
		}
		lsn += 0x40
	}
}

func filledIndex(b *testing.B) (*Index, storage.LSN) {
	_, rw, _ := newDevice(b)
	ix, err := New(rw, smallConfig(4, 4096), true)
	require.NoError(b, err)
	lsn := storage.LSN(0x100)
	for i := range 4*4096 - 8 {
		require.NoError(b, ix.Add(lsn, lsn+0x40, []storage.PageID{pg(1, uint32(i%64))}))
		lsn += 0x40
	}
	return ix, lsn
}

func BenchmarkIndexHistory(b *testing.B) {
	ix, end := filledIndex(b)
	dst := make([]storage.LSN, 0, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		from := storage.LSN(0x100 + (i%1024)*0x40*8)
		var err error
		dst, err = ix.History(dst[:0], pg(1, uint32(i%64)), from, min(end, from+0x40*256))
		if err != nil || len(dst) == 0 {
			b.Fatal(err, len(dst))
		}
	}
}

func BenchmarkIndexIterate(b *testing.B) {
	ix, _ := filledIndex(b)
	it := ix.Iterate(0)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_, ok, err := it.Next()
		if err != nil {
			b.Fatal(err)
		}
		if !ok {
			it = ix.Iterate(0)
		}
	}
}

func BenchmarkQueuePushPop(b *testing.B) {
	q, err := NewQueue(64)
	require.NoError(b, err)
	r, err := q.NewRef("startup", true)
	require.NoError(b, err)
	m := *metaAt(0)
	var p Packet
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if !q.Push(&m) {
			b.Fatal("dropped")
		}
		m.Start, m.End = m.End, m.End+0x40
		if ok, err := q.Pop(r, &p); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkWALInsert measures Insert with the amortized cost of flushing
// full WAL buffers; the timer never stops. The device is small, so every
// 1 MiB of WAL the benchmark starts over at FirstLSN, reusing the segments.
func BenchmarkWALInsert(b *testing.B) {
	_, rw, _ := newDevice(b)
	w, err := NewWAL(rw, DefaultConfig(), FirstLSN, storage.InvalidLSN)
	require.NoError(b, err)
	rec := pageRec(1, set(pg(1, 0), 0, 1), set(pg(1, 1), 1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := w.Insert(rec); errors.Is(err, ErrWALBuffersFull) {
			if err := w.Flush(w.InsertLSN()); err != nil {
				b.Fatal(err)
			}
			if w.InsertLSN() > 1<<20 {
				if w, err = NewWAL(rw, DefaultConfig(), FirstLSN, storage.InvalidLSN); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Insert(rec); err != nil {
				b.Fatal(err)
			}
		} else if err != nil {
			b.Fatal(err)
		}
	}
}
