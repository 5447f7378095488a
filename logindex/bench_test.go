package logindex

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/storage"
)

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
			b.StopTimer()
			if lsn > 0x40*100000 { // saved tables are never removed: start over on a new device
				_, rw, _ = newDevice(b)
				ix, err = New(rw, smallConfig(4, 1024), true)
				require.NoError(b, err)
				lsn = 0x100
			} else {
				_, err = ix.Save(lsn)
				require.NoError(b, err)
			}
			b.StartTimer()
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

func BenchmarkWALInsert(b *testing.B) {
	_, rw, _ := newDevice(b)
	w, err := NewWAL(rw, DefaultConfig(), FirstLSN, storage.InvalidLSN)
	require.NoError(b, err)
	rec := pageRec(1, set(pg(1, 0), 0, 1), set(pg(1, 1), 1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := w.Insert(rec); errors.Is(err, ErrWALBuffersFull) {
			b.StopTimer()
			require.NoError(b, w.Flush(w.InsertLSN()))
			if w.InsertLSN() > 1<<20 { // start over: the device is small
				w, err = NewWAL(rw, DefaultConfig(), FirstLSN, storage.InvalidLSN)
				require.NoError(b, err)
			}
			b.StartTimer()
			require.NoError(b, w.Insert(rec))
		} else if err != nil {
			b.Fatal(err)
		}
	}
}
