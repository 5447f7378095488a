package logindex

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"promotesim/sim/simtest"
	"promotesim/storage"
)

// model is the naive LogIndex: every (page, LSN) in the order added, minus
// those below the truncation point trunc.
type model struct {
	es    []Entry
	trunc storage.LSN
}

func (m *model) add(start storage.LSN, pages []storage.PageID) {
	if start < m.trunc {
		return // never observable: lookups below trunc fail
	}
	for _, p := range pages {
		m.es = append(m.es, Entry{Page: p, LSN: start})
	}
}

// truncate drops the entries below lsn (the point only grows) and returns
// how many it dropped.
func (m *model) truncate(lsn storage.LSN) int {
	m.trunc = max(m.trunc, lsn)
	k := 0
	for k < len(m.es) && m.es[k].LSN < m.trunc {
		k++
	}
	m.es = m.es[k:]
	return k
}

// historyTruncated: History(from, to] fails iff the range is non-empty and
// reaches below the truncation point.
func (m *model) historyTruncated(from, to storage.LSN) bool { return to > from && from+1 < m.trunc }

// iterTruncated: an iterator fails while its position is below the point.
func (m *model) iterTruncated(pos storage.LSN) bool { return pos < m.trunc }

func (m *model) history(p storage.PageID, from, to storage.LSN) []storage.LSN {
	var out []storage.LSN
	for _, e := range m.es {
		if e.Page == p && e.LSN > from && e.LSN <= to {
			out = append(out, e.LSN)
		}
	}
	return out
}

func (m *model) from(lsn storage.LSN) []Entry {
	var out []Entry
	for _, e := range m.es {
		if e.LSN >= lsn {
			out = append(out, e)
		}
	}
	return out
}

func smallConfig(mem, size int) Config {
	c := DefaultConfig()
	c.MemSize, c.TableSize = mem, size
	return c
}

func drain(t tb, it *Iterator) []Entry {
	var out []Entry
	for range 100000 {
		e, ok, err := it.Next()
		require.NoError(t, err)
		if !ok {
			return out
		}
		out = append(out, e)
	}
	t.Fatal("iterator does not end")
	return nil
}

func states(ix *Index) []TableState {
	var out []TableState
	for _, s := range ix.Tables(nil) {
		out = append(out, s.State)
	}
	return out
}

func TestDisabled(t *testing.T) {
	_, rw, _ := newDevice(t)
	ix, err := New(rw, smallConfig(0, 4), true)
	require.NoError(t, err)
	require.False(t, ix.Enabled())
	require.ErrorIs(t, ix.Add(0x100, 0x140, []storage.PageID{pg(1, 1)}), ErrDisabled)
	_, err = ix.History(nil, pg(1, 1), 0, 0x1000)
	require.ErrorIs(t, err, ErrDisabled)
	_, err = ix.Save(0x1000)
	require.ErrorIs(t, err, ErrDisabled)
	it := ix.Iterate(0)
	_, _, err = it.Next()
	require.ErrorIs(t, err, ErrDisabled)
}

// TestPrimaryReplicaRing walks the states of docs/model.md §4: the primary fills and
// saves, the replica reuses what the primary saved, stalls when the primary
// stops saving, and after promote saves the rest itself.
func TestPrimaryReplicaRing(t *testing.T) {
	_, rw, ro := newDevice(t)
	cfg := smallConfig(2, 4)
	prim, err := New(rw, cfg, true)
	require.NoError(t, err)
	repl, err := New(ro, cfg, false)
	require.NoError(t, err)
	var m model
	lsn := storage.LSN(0x100)
	add := func(ix *Index, pages ...storage.PageID) error {
		return ix.Add(lsn, lsn+0x40, pages)
	}
	both := func(pages ...storage.PageID) {
		require.NoError(t, add(prim, pages...))
		require.NoError(t, add(repl, pages...))
		m.add(lsn, pages)
		lsn += 0x40
	}
	for i := range 4 {
		both(pg(1, uint32(i%2)), pg(2, uint32(i)))
	}
	require.Equal(t, []TableState{TableInactive, TableActive}, states(prim))
	require.Equal(t, []TableState{TableInactive, TableActive}, states(repl))

	// The primary may not save before the WAL is durable.
	_, err = prim.Save(0x100)
	require.ErrorIs(t, err, ErrWALNotFlushed)
	_, err = repl.Save(lsn)
	require.ErrorIs(t, err, ErrNotWritable)
	n, err := prim.Save(lsn)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, SavedMeta{MaxTableID: 1, MaxLSN: 0x140}, prim.Saved())

	// Two more records: the next memtable is table 0 again. The primary
	// saved it; the replica sees that in the primary's meta and reuses it.
	both(pg(1, 0), pg(3, 0))
	both(pg(1, 1), pg(3, 1))
	require.Equal(t, []TableState{TableActive, TableInactive}, states(prim))
	require.Equal(t, []TableState{TableActive, TableInactive}, states(repl))

	// The primary stops saving: both rings are full, adds stall.
	err = add(prim, pg(5, 0), pg(5, 1), pg(5, 2))
	require.ErrorIs(t, err, ErrMemtablesFull)
	err = add(repl, pg(5, 0), pg(5, 1), pg(5, 2))
	require.ErrorIs(t, err, ErrMemtablesFull)
	require.Equal(t, []TableState{TableInactive, TableInactive}, states(repl))

	// History across the saved table and memtables equals the model.
	for _, p := range []storage.PageID{pg(1, 0), pg(1, 1), pg(2, 1), pg(4, 1)} {
		for _, ix := range []*Index{prim, repl} {
			got, err := ix.History(nil, p, 0, lsn)
			require.NoError(t, err)
			require.Equal(t, m.history(p, 0, lsn), got, "page %v", p)
		}
	}
	it := repl.Iterate(0)
	require.Equal(t, m.from(0), drain(t, &it))

	// Promote: the replica becomes writable and saves what the old primary
	// never saved; its startup can continue.
	require.NoError(t, ro.RemountRW())
	require.NoError(t, repl.SetWritable())
	require.NoError(t, repl.SetPromoted(lsn))
	n, err = repl.Save(lsn)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, SavedMeta{MaxTableID: 3, MaxLSN: lsn - 0x40}, repl.Saved())
	require.NoError(t, add(repl, pg(5, 0), pg(5, 1), pg(5, 2)))
	m.add(lsn, []storage.PageID{pg(5, 0), pg(5, 1), pg(5, 2)})
	info, ok := repl.Promoted()
	require.True(t, ok)
	require.Equal(t, uint64(1), info.SavedTableID)
	require.True(t, repl.FromOldPrimary(lsn-0x40))
	require.False(t, repl.FromOldPrimary(lsn))
	it = repl.Iterate(0x180)
	require.Equal(t, m.from(0x180), drain(t, &it))

	// A fresh replica (restarted later) reads everything from storage.
	fresh, err := New(ro, cfg, false)
	require.NoError(t, err)
	got, err := fresh.History(nil, pg(1, 0), 0, lsn)
	require.NoError(t, err)
	require.Equal(t, m.history(pg(1, 0), 0, lsn-1), got)
}

func TestAddOrder(t *testing.T) {
	_, rw, _ := newDevice(t)
	ix, err := New(rw, smallConfig(2, 4), true)
	require.NoError(t, err)
	require.NoError(t, ix.Add(0x100, 0x140, []storage.PageID{pg(1, 1), pg(1, 1)}))
	require.ErrorIs(t, ix.Add(0x100, 0x140, []storage.PageID{pg(1, 2)}), ErrOutOfOrder)
	require.ErrorIs(t, ix.Add(0x80, 0x90, []storage.PageID{pg(1, 2)}), ErrOutOfOrder)
	got, err := ix.History(nil, pg(1, 1), 0, 0x1000)
	require.NoError(t, err)
	require.Equal(t, []storage.LSN{0x100}, got, "duplicate page in one record indexed once")
}

// TestIndexModel drives a primary and a replica LogIndex over one device
// with rapid and checks every lookup against the naive model after every
// step: adds, WAL flushes, saves, ring-full stalls, catch-up, truncation and
// promote. After a truncate, lookups that reach below the point must fail
// with ErrTruncated and the rest must equal the model with the entries
// below the point dropped; the files left on storage must be exactly the
// tables the meta names.
func TestIndexModel(t *testing.T) {
	simtest.Check(t, func(t *rapid.T) {
		_, rw, ro := newDevice(t)
		cfg := smallConfig(rapid.IntRange(1, 3).Draw(t, "mem"), rapid.IntRange(MaxPages, 8).Draw(t, "size"))
		prim, err := New(rw, cfg, true)
		require.NoError(t, err)
		repl, err := New(ro, cfg, false)
		require.NoError(t, err)
		var mp, mr model
		var backlog []Meta // records the replica has not indexed yet (stalled)
		lsn := storage.LSN(0x100)
		flushed := lsn
		promoted := false
		live := repl.Iterate(0) // a long-lived iterator, advanced step by step
		var liveSeen int
		var livePos storage.LSN // LSN of the last entry live returned (its position)
		pages := []storage.PageID{pg(1, 0), pg(1, 1), pg(2, 0), pg(2, 7), pg(3, 3), pg(4, 0)}

		catchUp := func() {
			for len(backlog) > 0 {
				m := &backlog[0]
				err := repl.AddMeta(m)
				if err != nil {
					require.ErrorIs(t, err, ErrMemtablesFull)
					return
				}
				mr.add(m.Start, m.PageList())
				backlog = backlog[1:]
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"add": func(t *rapid.T) {
				ps := rapid.SliceOfNDistinct(rapid.SampledFrom(pages), 1, MaxPages, func(p storage.PageID) storage.PageID { return p }).Draw(t, "pages")
				size := storage.LSN(8 * rapid.IntRange(4, 12).Draw(t, "size8"))
				m := Meta{Type: RecPage, Start: lsn, End: lsn + size}
				m.NPages = uint8(copy(m.Pages[:], ps))
				if !promoted {
					if err := prim.AddMeta(&m); err != nil {
						require.ErrorIs(t, err, ErrMemtablesFull)
						return // the primary waits for its own save
					}
					mp.add(m.Start, ps)
					backlog = append(backlog, m)
					catchUp()
				} else {
					backlog = append(backlog, m)
					catchUp()
				}
				lsn = m.End
			},
			"flush": func(t *rapid.T) {
				flushed = storage.LSN(rapid.Uint64Range(uint64(flushed), uint64(lsn)).Draw(t, "flushed"))
			},
			"save": func(t *rapid.T) {
				ix := prim
				if promoted {
					ix = repl
				}
				_, err := ix.Save(flushed)
				if err != nil {
					require.ErrorIs(t, err, ErrWALNotFlushed)
				}
			},
			"catchup": func(t *rapid.T) {
				if !promoted {
					require.NoError(t, repl.Refresh())
				}
				catchUp()
			},
			"truncate": func(t *rapid.T) {
				// The checkpoint redo pointer, anywhere up to just past the
				// last record (beyond what is saved, too).
				ix := prim
				if promoted {
					ix = repl
				}
				at := storage.LSN(rapid.Uint64Range(0, uint64(lsn)+8).Draw(t, "at"))
				_, err := ix.Truncate(at)
				require.NoError(t, err)
				if !promoted {
					_, err = repl.Truncate(at)
					require.ErrorIs(t, err, ErrNotWritable)
					mp.truncate(at)
					require.NoError(t, repl.Refresh()) // the replica learns the point
				}
				if dropped := mr.truncate(at); livePos >= mr.trunc {
					liveSeen -= dropped // all below livePos were seen
				}
				// Storage holds exactly the tables the meta names, and
				// every removed table was wholly below the point.
				sm := ix.Saved()
				require.Equal(t, mr.trunc, sm.TruncLSN)
				var want []string
				for id := sm.TruncTableID + 1; id <= sm.MaxTableID; id++ {
					want = append(want, TablePath(id))
				}
				require.Equal(t, want, tableFiles(rw))
				if c := ix.st.catalog; len(c) > 0 {
					require.Equal(t, sm.TruncTableID+1, c[0].id)
					require.GreaterOrEqual(t, c[0].max, sm.TruncLSN)
				}
			},
			"promote": func(t *rapid.T) {
				if promoted {
					t.Skip("already promoted")
				}
				require.NoError(t, ro.RemountRW())
				require.NoError(t, repl.SetWritable())
				promoted = true
			},
			"": func(t *rapid.T) {
				check := func(ix *Index, m *model, name string) {
					p := rapid.SampledFrom(pages).Draw(t, "page")
					lo := uint64(0) // mostly near or above the truncation point
					if m.trunc > 0x80 {
						lo = uint64(m.trunc) - 0x80
					}
					from := storage.LSN(rapid.Uint64Range(min(lo, uint64(lsn)), uint64(lsn)).Draw(t, "from"))
					to := storage.LSN(rapid.Uint64Range(uint64(from), uint64(lsn)+8).Draw(t, "to"))
					got, err := ix.History(nil, p, from, to)
					if m.historyTruncated(from, to) {
						require.ErrorIs(t, err, ErrTruncated, "%s history %v (%v,%v]", name, p, from, to)
					} else {
						require.NoError(t, err)
						require.Equal(t, m.history(p, from, to), got, "%s history %v (%v,%v]", name, p, from, to)
					}
					it := ix.Iterate(from)
					if m.iterTruncated(from) {
						_, _, err := it.Next()
						require.ErrorIs(t, err, ErrTruncated, "%s iterate from %v", name, from)
					} else {
						require.Equal(t, m.from(from), drain(t, &it), "%s iterate from %v", name, from)
					}
				}
				if !promoted {
					check(prim, &mp, "primary")
				}
				check(repl, &mr, "replica")
				// The long-lived iterator returns exactly the new entries;
				// once truncation passed it, it says so and is restarted at
				// the truncation point.
				if mr.iterTruncated(livePos) {
					_, _, err := live.Next()
					require.ErrorIs(t, err, ErrTruncated, "live iterator at %v", livePos)
					live, livePos, liveSeen = repl.Iterate(mr.trunc), mr.trunc, 0
				}
				got := drain(t, &live)
				require.Equal(t, append([]Entry(nil), mr.es[liveSeen:]...), got, "live iterator")
				liveSeen = len(mr.es)
				if len(got) > 0 {
					livePos = got[len(got)-1].LSN
				}
			},
		})
	})
}

func TestSaveNeed(t *testing.T) {
	_, rw, _ := newDevice(t)
	ix, err := New(rw, smallConfig(2, 4), true)
	require.NoError(t, err)
	_, ok := ix.SaveNeed()
	require.False(t, ok, "no full memtable yet")
	lsn := storage.LSN(0x100)
	for i := 0; i < 4; i++ {
		require.NoError(t, ix.Add(lsn, lsn+0x40, []storage.PageID{pg(1, uint32(i))}))
		lsn += 0x40
	}
	// The fifth entry rolls the first memtable over: it is INACTIVE now and
	// needs WAL up to its largest record end before it may be saved.
	require.NoError(t, ix.Add(lsn, lsn+0x40, []storage.PageID{pg(1, 9)}))
	need, ok := ix.SaveNeed()
	require.True(t, ok)
	require.Equal(t, storage.LSN(0x100+4*0x40), need)
	saved, err := ix.Save(need)
	require.NoError(t, err)
	require.Equal(t, 1, saved)
	_, ok = ix.SaveNeed()
	require.False(t, ok)
}

// TestPromotedIteratorWalksUncataloguedTables: a replica that looked up the
// saved tables once (catalogue: table 1) and then reused its memtables on the
// old primary's meta alone (advance rereads only the meta) is promoted. Its
// LSN iterator from the start must walk on from table 1 to tables 2 and 3,
// which the meta names but the catalogue lacks, before the memtables; it
// used to jump from table 1's last entry to the memtables, so the BGW's
// online-promote replay skipped table 2's records (swarm seed 7880).
func TestPromotedIteratorWalksUncataloguedTables(t *testing.T) {
	_, rw, ro := newDevice(t)
	cfg := smallConfig(2, 4)
	prim, err := New(rw, cfg, true)
	require.NoError(t, err)
	repl, err := New(ro, cfg, false)
	require.NoError(t, err)
	var m model
	lsn := storage.LSN(0x100)
	// record i touches one page; every memtable holds four records.
	add := func(i int) {
		ps := []storage.PageID{pg(1, uint32(i%3))}
		for _, ix := range []*Index{prim, repl} {
			require.NoError(t, ix.Add(lsn, lsn+0x30, ps))
		}
		m.add(lsn, ps)
		lsn += 0x30
	}
	save := func(want uint64) {
		_, err := prim.Save(lsn)
		require.NoError(t, err)
		require.Equal(t, want, prim.Saved().MaxTableID)
	}
	for i := range 5 {
		add(i)
	}
	save(1)
	// The replica's BGW looks up table 1: it is catalogued.
	it := repl.Iterate(0)
	require.Equal(t, m.from(0), drain(t, &it))
	for i := 5; i < 9; i++ {
		add(i) // the 9th reuses memtable slot 0 on both: table 2 saved
	}
	save(2)
	for i := 9; i < 13; i++ {
		add(i) // the 13th reuses slot 1: table 3 saved
	}
	save(3)
	require.Equal(t, []TableState{TableInactive, TableActive}, states(repl))

	require.NoError(t, ro.RemountRW())
	require.NoError(t, repl.SetWritable())
	require.NoError(t, repl.SetPromoted(lsn))
	for _, from := range []storage.LSN{0, 0x100, 0x100 + 3*0x30, 0x100 + 4*0x30} {
		it := repl.Iterate(from)
		require.Equal(t, m.from(from), drain(t, &it), "from %v", from)
	}
}
