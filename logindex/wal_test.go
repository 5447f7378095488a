package logindex

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/storage"
)

func sampleRecords() []*Record {
	return []*Record{
		pageRec(7, set(pg(1, 0), 0, 11)),
		pageRec(8, set(pg(1, 0), 1, 12), set(pg(1, 1), 2, 13), set(pg(2, 5), 3, 14)),
		{Type: RecFullPage, Block: pg(3, 9), Image: storage.Page{Slots: [4]uint64{1, 2, 3, 4}}},
		{Type: RecCommit, XID: 7},
		{Type: RecAbort, XID: 8},
		{Type: RecCheckpoint, Redo: 0x1A8},
		{Type: RecEndOfRecovery},
		{Type: RecPrepare, XID: 9, GID: "twophase_test"},
		{Type: RecCommitPrepared, XID: 9},
		{Type: RecAbortPrepared, XID: 10},
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range sampleRecords() {
		r.Prev = 0x1234
		b, err := r.Encode(nil)
		require.NoError(t, err)
		var got Record
		require.NoError(t, got.Decode(b))
		require.Equal(t, r.Type, got.Type)
		require.Equal(t, r.XID, got.XID)
		require.Equal(t, r.Prev, got.Prev)
		require.Equal(t, r.Redo, got.Redo)
		require.Equal(t, r.GID, got.GID)
		require.Equal(t, r.Block, got.Block)
		require.Equal(t, r.Image.Slots, got.Image.Slots)
		require.Equal(t, len(r.Changes), len(got.Changes))
		for i := range r.Changes {
			require.Equal(t, r.Changes[i], got.Changes[i])
		}
		// Any flipped byte is caught (CRC, length or type check).
		for i := range b {
			c := append([]byte(nil), b...)
			c[i] ^= 0x40
			require.ErrorIs(t, got.Decode(c), ErrInvalidRecord, "byte %d of %v", i, r.Type)
		}
	}
}

func TestRecordLimits(t *testing.T) {
	var cs []Change
	for i := range 5 {
		cs = append(cs, set(pg(1, uint32(i)), 0, 1))
	}
	_, err := pageRec(1, cs...).Encode(nil)
	require.ErrorContains(t, err, "touches 5 pages")
	_, err = pageRec(1).Encode(nil)
	require.Error(t, err)
	_, err = pageRec(1, set(pg(1, 1), 4, 1)).Encode(nil)
	require.ErrorContains(t, err, "slot 4")
	_, err = (&Record{Type: RecPrepare, XID: 1}).Encode(nil)
	require.ErrorContains(t, err, "gid")
}

func TestApplyIdempotent(t *testing.T) {
	r := pageRec(1, set(pg(1, 0), 0, 5), set(pg(1, 1), 1, 6), set(pg(1, 0), 2, 7))
	r.Start, r.End = 0x100, 0x148
	var p storage.Page
	require.True(t, r.Apply(pg(1, 0), &p))
	require.Equal(t, storage.Page{LSN: 0x148, Slots: [4]uint64{5, 0, 7, 0}}, p)
	require.False(t, r.Apply(pg(1, 0), &p), "second apply is a no-op")
	q := storage.Page{LSN: 0x200}
	require.False(t, r.Apply(pg(1, 1), &q), "page already newer")
	require.False(t, r.Apply(pg(9, 9), &storage.Page{}), "page not touched")

	fpi := &Record{Type: RecFullPage, Block: pg(2, 2), Image: storage.Page{LSN: 0x999, Slots: [4]uint64{9, 9, 9, 9}}, End: 0x300}
	var f storage.Page
	require.True(t, fpi.Apply(pg(2, 2), &f))
	require.Equal(t, storage.Page{LSN: 0x300, Slots: [4]uint64{9, 9, 9, 9}}, f)

	m := r.Meta()
	require.Equal(t, []storage.PageID{pg(1, 0), pg(1, 1)}, m.PageList())
}

func TestWALInsertWriteRead(t *testing.T) {
	_, rw, ro := newDevice(t)
	cfg := DefaultConfig()
	cfg.WALSegmentSize = 256 // records span segments
	w, err := NewWAL(rw, cfg, FirstLSN, storage.InvalidLSN)
	require.NoError(t, err)
	var recs []*Record
	for range 5 {
		for _, r := range sampleRecords() {
			require.NoError(t, w.Insert(r))
			recs = append(recs, r)
		}
		require.NoError(t, w.Write(w.InsertLSN()))
	}
	require.Equal(t, w.InsertLSN(), w.WrittenLSN())
	require.Equal(t, FirstLSN, w.FlushedLSN())
	require.NoError(t, w.Sync())
	require.Equal(t, w.InsertLSN(), w.FlushedLSN())

	rd, err := NewReader(ro, cfg)
	require.NoError(t, err)
	var got Record
	prev := storage.InvalidLSN
	for _, r := range recs {
		require.NoError(t, rd.Read(r.Start, prev, &got))
		require.Equal(t, r.Start, got.Start)
		require.Equal(t, r.End, got.End)
		require.Equal(t, r.Type, got.Type)
		prev = r.Start
	}
	e, err := rd.FindEnd(FirstLSN, storage.InvalidLSN, &got, nil)
	require.NoError(t, err)
	require.Equal(t, len(recs), e.Records)
	require.Equal(t, w.InsertLSN(), e.End)
	require.Equal(t, recs[len(recs)-1].Start, e.Last)
	require.ErrorIs(t, e.Reason, ErrInvalidRecord)
}

// TestEndOfWALTornTail cuts the last record at every byte and checks that the
// end of WAL is the start of that record.
func TestEndOfWALTornTail(t *testing.T) {
	cfg := DefaultConfig()
	cfg.WALSegmentSize = 256
	for cut := 1; ; cut++ {
		_, rw, ro := newDevice(t)
		w, err := NewWAL(rw, cfg, FirstLSN, storage.InvalidLSN)
		require.NoError(t, err)
		for _, r := range sampleRecords()[:3] {
			require.NoError(t, w.Insert(r))
		}
		require.NoError(t, w.Flush(w.InsertLSN()))
		good := w.InsertLSN()
		last := pageRec(9, set(pg(1, 0), 0, 1), set(pg(1, 1), 0, 2))
		require.NoError(t, w.Insert(last))
		if n, _ := last.encodedLen(); cut >= n {
			break // the rest is alignment padding: the record is whole
		}
		require.NoError(t, w.Write(last.Start+storage.LSN(cut)))
		rd, err := NewReader(ro, cfg)
		require.NoError(t, err)
		var rec Record
		e, err := rd.FindEnd(FirstLSN, storage.InvalidLSN, &rec, nil)
		require.NoError(t, err)
		require.Equal(t, good, e.End, "cut %d", cut)
		require.Equal(t, 3, e.Records)
	}
}

func TestEndOfWALCorruptAndIOError(t *testing.T) {
	cfg := DefaultConfig()
	d, rw, ro := newDevice(t)
	w, err := NewWAL(rw, cfg, FirstLSN, storage.InvalidLSN)
	require.NoError(t, err)
	recs := sampleRecords()
	for _, r := range recs {
		require.NoError(t, w.Insert(r))
	}
	require.NoError(t, w.Flush(w.InsertLSN()))
	rd, err := NewReader(ro, cfg)
	require.NoError(t, err)
	var rec Record

	// An I/O error is an error, never the end of WAL.
	d.InjectError(storage.FaultSpec{Op: storage.OpRead, Host: 2, PathPrefix: "pg_wal/", Count: 1})
	_, err = rd.FindEnd(FirstLSN, storage.InvalidLSN, &rec, nil)
	require.ErrorIs(t, err, storage.ErrInjectedIO)

	// A flipped byte inside record 3 ends WAL at record 3.
	name := SegmentName(SegNo(recs[3].Start, cfg.WALSegmentSize), cfg.WALSegmentSize)
	off := SegOffset(recs[3].Start, cfg.WALSegmentSize) + 5
	b := []byte{0}
	_, err = rw.ReadAt(name, b, off)
	require.NoError(t, err)
	b[0] ^= 1
	require.NoError(t, rw.WriteAt(name, b, off))
	e, err := rd.FindEnd(FirstLSN, storage.InvalidLSN, &rec, nil)
	require.NoError(t, err)
	require.Equal(t, recs[3].Start, e.End)
	require.Equal(t, recs[2].Start, e.Last)
	require.ErrorContains(t, e.Reason, "CRC")

	// Wrong prev link.
	require.ErrorContains(t, rd.Read(recs[2].Start, recs[0].Start, &rec), "prev")
}

func TestWALBuffersAndCrash(t *testing.T) {
	cfg := DefaultConfig()
	cfg.WALBuffers = 2 * maxRecordSize
	d, rw, _ := newDevice(t)
	w, err := NewWAL(rw, cfg, FirstLSN, storage.InvalidLSN)
	require.NoError(t, err)
	var err2 error
	n := 0
	for ; n < 100 && err2 == nil; n++ {
		err2 = w.Insert(&Record{Type: RecCommit, XID: XID(n)})
	}
	require.ErrorIs(t, err2, ErrWALBuffersFull)
	require.NoError(t, w.Flush(w.InsertLSN()))
	durable := w.FlushedLSN()
	require.NoError(t, w.Insert(&Record{Type: RecCommit, XID: 999}))
	require.NoError(t, w.Write(w.InsertLSN()))
	// Crash: the unsynced write is lost; WAL ends at the last synced byte.
	d.Crash(1, nil)
	ro, err := d.Mount(3, storage.MountReadOnly)
	require.NoError(t, err)
	rd, err := NewReader(ro, cfg)
	require.NoError(t, err)
	var rec Record
	e, err := rd.FindEnd(FirstLSN, storage.InvalidLSN, &rec, nil)
	require.NoError(t, err)
	require.Equal(t, durable, e.End)
}
