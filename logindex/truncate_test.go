package logindex

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/storage"
)

// tableFiles lists the saved table files on the device (not the meta).
func tableFiles(m *storage.Mount) []string {
	var out []string
	for _, p := range m.List(logindexDir) {
		if p != MetaPath {
			out = append(out, p)
		}
	}
	return out
}

// TestTruncate: the primary removes tables below the checkpoint redo
// pointer; lookups below the truncation point fail on the primary, on a
// running replica and on a restarted one; lookups above it still equal the
// model; the point only grows and survives in the meta.
func TestTruncate(t *testing.T) {
	_, rw, ro := newDevice(t)
	cfg := smallConfig(2, 4)
	prim, err := New(rw, cfg, true)
	require.NoError(t, err)
	repl, err := New(ro, cfg, false)
	require.NoError(t, err)
	var m model
	lsn := storage.LSN(0x100)
	// Two records of two pages fill one memtable; the primary saves as
	// soon as its ring is full, the replica reuses what the primary saved.
	for i := range 12 {
		pages := []storage.PageID{pg(1, uint32(i%3)), pg(2, uint32(i))}
		for _, ix := range []*Index{prim, repl} {
			err := ix.Add(lsn, lsn+0x40, pages)
			if err != nil && ix == prim {
				require.ErrorIs(t, err, ErrMemtablesFull)
				_, err = prim.Save(lsn)
				require.NoError(t, err)
				err = ix.Add(lsn, lsn+0x40, pages)
			}
			require.NoError(t, err)
		}
		m.add(lsn, pages)
		lsn += 0x40
	}
	// Tables 1..4 hold 0/100..0/140, 0/180..0/1C0, ... 0/280..0/2C0.
	require.Equal(t, SavedMeta{MaxTableID: 4, MaxLSN: 0x2C0}, prim.Saved())
	require.Equal(t, []string{TablePath(1), TablePath(2), TablePath(3), TablePath(4)}, tableFiles(rw))

	// Only the primary removes files; the invalid LSN removes nothing.
	_, err = repl.Truncate(0x200)
	require.ErrorIs(t, err, ErrNotWritable)
	n, err := prim.Truncate(storage.InvalidLSN)
	require.NoError(t, err)
	require.Equal(t, 0, n)

	// Checkpoint redo at 0/1C0: table 1 (max 0/140) is wholly below it and
	// goes; table 2 (0/180..0/1C0) holds 0/1C0 and stays.
	n, err = prim.Truncate(0x1C0)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, SavedMeta{MaxTableID: 4, MaxLSN: 0x2C0, TruncTableID: 1, TruncLSN: 0x1C0}, prim.Saved())
	require.Equal(t, []string{TablePath(2), TablePath(3), TablePath(4)}, tableFiles(rw))

	restarted, err := New(ro, cfg, false)
	require.NoError(t, err)
	require.Equal(t, prim.Saved(), restarted.Saved(), "truncation point is in the meta")
	// The restarted replica has empty memtables: it sees what is saved.
	for _, c := range []struct {
		ix   *Index
		upto storage.LSN
	}{{prim, lsn}, {repl, lsn}, {restarted, 0x2C0}} {
		ix := c.ix
		// Ranges reaching below 0/1C0 fail, even though 0/180 is still in
		// table 2: the answer does not depend on table boundaries.
		for _, from := range []storage.LSN{0, 0x100, 0x180, 0x1BE} {
			_, err := ix.History(nil, pg(1, 0), from, lsn)
			require.ErrorIs(t, err, ErrTruncated, "history from %v", from)
			it := ix.Iterate(from + 1)
			_, _, err = it.Next()
			require.ErrorIs(t, err, ErrTruncated, "iterate from %v", from+1)
		}
		// Empty ranges stay empty, without error.
		got, err := ix.History(nil, pg(1, 0), 0x100, 0x100)
		require.NoError(t, err)
		require.Empty(t, got)
		// Ranges at or above it equal the model.
		for _, from := range []storage.LSN{0x1BF, 0x1C0, 0x250} {
			for _, p := range []storage.PageID{pg(1, 0), pg(1, 1), pg(2, 5)} {
				got, err := ix.History(nil, p, from, c.upto)
				require.NoError(t, err)
				require.Equal(t, m.history(p, from, c.upto), got, "history %v from %v", p, from)
			}
			it := ix.Iterate(from + 1)
			var want []Entry
			for _, e := range m.from(from + 1) {
				if e.LSN <= c.upto {
					want = append(want, e)
				}
			}
			require.Equal(t, want, drain(t, &it))
		}
	}

	// The point only grows: an older checkpoint removes nothing.
	n, err = prim.Truncate(0x140)
	require.NoError(t, err)
	require.Equal(t, 0, n)
	require.Equal(t, storage.LSN(0x1C0), prim.TruncatedBelow())

	// A removal that never happened (crash after the meta was written):
	// the next truncate removes the leftover.
	require.NoError(t, rw.Create(TablePath(1)))
	n, err = prim.Truncate(0x1C0)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, []string{TablePath(2), TablePath(3), TablePath(4)}, tableFiles(rw))

	// Beyond everything saved: every table goes; the memtables still answer
	// above the point, and the primary keeps saving after the last id.
	n, err = prim.Truncate(0x300)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Empty(t, tableFiles(rw))
	require.Equal(t, SavedMeta{MaxTableID: 4, MaxLSN: 0x2C0, TruncTableID: 4, TruncLSN: 0x300}, prim.Saved())
	for _, ix := range []*Index{prim, repl} {
		got, err := ix.History(nil, pg(2, 11), 0x2FF, lsn)
		require.NoError(t, err)
		require.Equal(t, []storage.LSN{0x3C0}, got)
		_, err = ix.History(nil, pg(2, 11), 0x2FE, lsn)
		require.ErrorIs(t, err, ErrTruncated)
	}
	n, err = prim.Save(lsn)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoError(t, prim.Add(lsn, lsn+0x40, []storage.PageID{pg(3, 0), pg(3, 1), pg(3, 2)}))
	m.add(lsn, []storage.PageID{pg(3, 0), pg(3, 1), pg(3, 2)})
	lsn += 0x40
	n, err = prim.Save(lsn)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, []string{TablePath(5), TablePath(6)}, tableFiles(rw))
	fresh, err := New(ro, cfg, false)
	require.NoError(t, err)
	saved := prim.Saved().MaxLSN // the 3-page record is in the active memtable
	require.Equal(t, storage.LSN(0x3C0), saved)
	got, err := fresh.History(nil, pg(2, 8), 0x2FF, lsn)
	require.NoError(t, err)
	require.Equal(t, []storage.LSN{0x300}, got)
	it := fresh.Iterate(0x300)
	require.Equal(t, m.from(0x300)[:8], drain(t, &it))
}

// TestTruncateLiveIterator: an iterator that falls below the truncation
// point reports it (also on a replica, once it reread the meta) instead of
// skipping entries.
func TestTruncateLiveIterator(t *testing.T) {
	_, rw, ro := newDevice(t)
	cfg := smallConfig(2, 4)
	prim, err := New(rw, cfg, true)
	require.NoError(t, err)
	repl, err := New(ro, cfg, false)
	require.NoError(t, err)
	for i, lsn := 0, storage.LSN(0x100); i < 4; i, lsn = i+1, lsn+0x40 {
		for _, ix := range []*Index{prim, repl} {
			require.NoError(t, ix.Add(lsn, lsn+0x40, []storage.PageID{pg(1, uint32(i)), pg(2, 0)}))
		}
	}
	_, err = prim.Save(0x200)
	require.NoError(t, err)
	pit, rit := prim.Iterate(0), repl.Iterate(0)
	for _, it := range []*Iterator{&pit, &rit} {
		e, ok, err := it.Next()
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, Entry{Page: pg(1, 0), LSN: 0x100}, e)
	}
	n, err := prim.Truncate(0x180)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, _, err = pit.Next()
	require.ErrorIs(t, err, ErrTruncated)
	require.NoError(t, repl.Refresh())
	require.Equal(t, storage.LSN(0x180), repl.TruncatedBelow())
	_, _, err = rit.Next()
	require.ErrorIs(t, err, ErrTruncated)
	// Starting again at the point works.
	rit = repl.Iterate(repl.TruncatedBelow())
	e, ok, err := rit.Next()
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, Entry{Page: pg(1, 2), LSN: 0x180}, e)
}

// TestTruncateBoundsDevice: a long run that saves and truncates keeps the
// device bounded; without truncation the same run fills it (ErrNoSpace).
func TestTruncateBoundsDevice(t *testing.T) {
	run := func(truncate bool) (maxUsed int, err error) {
		d, err := storage.NewDevice(storage.DeviceConfig{Blocks: 256, Fence: storage.FenceNone})
		require.NoError(t, err)
		rw, err := d.Mount(1, storage.MountReadWrite)
		require.NoError(t, err)
		ix, err := New(rw, smallConfig(4, 16), true)
		require.NoError(t, err)
		lsn := storage.LSN(0x100)
		pages := []storage.PageID{pg(1, 0), pg(1, 1)}
		for i := range 20000 {
			pages[0].Block = storage.BlockNo(i % 64)
			err := ix.Add(lsn, lsn+0x40, pages)
			if err == nil {
				lsn += 0x40
				continue
			}
			require.ErrorIs(t, err, ErrMemtablesFull)
			if _, err := ix.Save(lsn); err != nil {
				return maxUsed, err
			}
			if truncate {
				// The checkpoint redo pointer: the oldest memtable's start.
				if _, err := ix.Truncate(lsn - 0x40*16); err != nil {
					return maxUsed, err
				}
			}
			maxUsed = max(maxUsed, d.Used())
		}
		return maxUsed, nil
	}
	_, err := run(false)
	require.ErrorIs(t, err, storage.ErrNoSpace)
	used, err := run(true)
	require.NoError(t, err)
	require.Less(t, used, 64)
}

// TestTruncateFailedMetaSyncKeepsPoint: a truncate whose meta fsync fails
// (polar_log_index_write_meta PANICs) has already moved the snapshot's meta
// (log_index_truncate updates the shared meta first), so a table the node
// saves before it goes down writes a meta that keeps the truncation, and a
// replica that read the unsynced truncated meta never sees it go back
// (v15-fixed seed 62562 under -sched pct: the replica's BGW read "meta went
// back" and PANICked).
func TestTruncateFailedMetaSyncKeepsPoint(t *testing.T) {
	d, rw, ro := newDevice(t)
	cfg := smallConfig(2, 4)
	prim, err := New(rw, cfg, true)
	require.NoError(t, err)
	lsn := storage.LSN(0x100)
	add := func() {
		t.Helper()
		pages := []storage.PageID{pg(1, uint32(lsn/0x40%3)), pg(2, uint32(lsn/0x40))}
		err := prim.Add(lsn, lsn+0x40, pages)
		if err != nil {
			require.ErrorIs(t, err, ErrMemtablesFull)
			_, err = prim.Save(lsn)
			require.NoError(t, err)
			require.NoError(t, prim.Add(lsn, lsn+0x40, pages))
		}
		lsn += 0x40
	}
	for range 12 {
		add()
	}
	require.Equal(t, SavedMeta{MaxTableID: 4, MaxLSN: 0x2C0}, prim.Saved())

	d.InjectError(storage.FaultSpec{Op: storage.OpSync, Host: 1, PathPrefix: MetaPath, Count: 1})
	_, err = prim.Truncate(0x1C0)
	require.ErrorIs(t, err, storage.ErrInjectedIO)
	require.Equal(t, storage.LSN(0x1C0), prim.TruncatedBelow(), "the snapshot's meta moved before the write")
	require.Equal(t, []string{TablePath(1), TablePath(2), TablePath(3), TablePath(4)}, tableFiles(rw), "no table removed after the failed write")

	// A replica starting now reads the written, unsynced meta.
	repl, err := New(ro, cfg, false)
	require.NoError(t, err)
	require.Equal(t, storage.LSN(0x1C0), repl.TruncatedBelow())

	// The node saves another table before it goes down: its meta keeps the
	// truncation, so the replica's reread does not see the meta go back.
	for range 4 {
		add()
	}
	require.Greater(t, prim.Saved().MaxTableID, uint64(4), "a table was saved after the failed truncate")
	require.Equal(t, storage.LSN(0x1C0), prim.Saved().TruncLSN)
	require.NoError(t, repl.Refresh())
	require.Equal(t, prim.Saved(), repl.Saved())
}
