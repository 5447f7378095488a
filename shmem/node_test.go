package shmem

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/sim"
	"promotesim/storage"
)

// quiet is the reporter of a test that drives shared memory without
// processes: a scheduler nobody observes.
var quiet = sim.New(sim.Config{})

// newPrimaryNode returns host 1's node on a fresh device: mounted
// read-write, the relation file created, WAL open at FirstLSN, a pool of
// frames buffers.
func newPrimaryNode(t *testing.T, frames int) *Node {
	t.Helper()
	dev, err := storage.NewDevice(storage.DeviceConfig{Blocks: 2048, Fence: storage.FenceNone})
	require.NoError(t, err)
	cfg := DefaultConfig(1)
	cfg.PoolFrames = frames
	n, err := NewNode(cfg, dev)
	require.NoError(t, err)
	require.NoError(t, n.Attach(storage.MountReadWrite))
	require.True(t, n.Index.Enabled())
	require.True(t, n.Index.Writable())
	require.NoError(t, n.Mount.Create(n.RelPath()))
	n.WAL, err = logindex.NewWAL(n.Mount, cfg.LogIndex, logindex.FirstLSN, storage.InvalidLSN)
	require.NoError(t, err)
	return n
}

// storePage writes a page image straight to the relation on storage.
func storePage(t *testing.T, n *Node, i int, p storage.Page) {
	t.Helper()
	var b [storage.BlockSize]byte
	p.Marshal(b[:])
	require.NoError(t, n.Mount.WriteAt(n.RelPath(), b[:], int64(i)*storage.BlockSize))
	require.NoError(t, n.Mount.Sync(n.RelPath()))
}

// dirty changes a pooled page the way a backend does: oldest LSN first,
// then the record (inserted, not flushed), applied and marked dirty.
func dirty(t *testing.T, n *Node, i int, value uint64) (storage.BufferID, *logindex.Record) {
	t.Helper()
	id, _, err := n.Buffer(quiet, n.Page(i))
	require.NoError(t, err)
	oldest := n.OldestLSN()
	rec := &logindex.Record{Type: logindex.RecPage, XID: 1,
		Changes: []logindex.Change{{Page: n.Page(i), Slot: 0, Value: value}}}
	require.NoError(t, n.WAL.Insert(rec))
	require.True(t, rec.Apply(n.Page(i), &n.Pool.Get(id).Page))
	require.NoError(t, n.Pool.MarkDirty(id, oldest))
	return id, rec
}

func TestBufferLoadsFromStorage(t *testing.T) {
	n := newPrimaryNode(t, 4)
	want := storage.Page{LSN: 0x1A8, Slots: [storage.PageSlots]uint64{1, 2, 3, 4}}
	storePage(t, n, 3, want)

	id, loaded, err := n.Buffer(quiet, n.Page(3))
	require.NoError(t, err)
	require.True(t, loaded)
	b := n.Pool.Get(id)
	require.Equal(t, n.Page(3), b.Tag)
	require.Equal(t, want, b.Page)
	require.False(t, b.Dirty)

	again, loaded, err := n.Buffer(quiet, n.Page(3))
	require.NoError(t, err)
	require.False(t, loaded, "a pooled page is not reloaded")
	require.Equal(t, id, again)

	// A page past the end of the file reads as an empty page.
	id, loaded, err = n.Buffer(quiet, n.Page(6))
	require.NoError(t, err)
	require.True(t, loaded)
	require.Equal(t, storage.Page{}, n.Pool.Get(id).Page)
	require.NoError(t, n.Pool.Check())
}

func TestBufferEvictsCleanVictimWithoutIO(t *testing.T) {
	n := newPrimaryNode(t, 2)
	for i := 0; i < 2; i++ {
		storePage(t, n, i, storage.Page{LSN: storage.LSN(0x30 + 8*i), Slots: [storage.PageSlots]uint64{uint64(i + 10)}})
		_, loaded, err := n.Buffer(quiet, n.Page(i))
		require.NoError(t, err)
		require.True(t, loaded)
	}
	writes := n.Dev.WriteCount()
	id, loaded, err := n.Buffer(quiet, n.Page(2))
	require.NoError(t, err)
	require.True(t, loaded)
	require.Equal(t, n.Page(2), n.Pool.Get(id).Tag)
	require.Equal(t, writes, n.Dev.WriteCount(), "a clean victim is dropped without I/O")
	_, in0 := n.Pool.Lookup(n.Page(0))
	_, in1 := n.Pool.Lookup(n.Page(1))
	require.True(t, in0 != in1, "exactly one page was evicted (0: %v, 1: %v)", in0, in1)
	require.NoError(t, n.Pool.Check())
}

// A dirty victim is written only after WAL up to its page LSN is durable:
// every WAL write of the eviction precedes the data write.
func TestBufferDirtyVictimWALBeforeData(t *testing.T) {
	n := newPrimaryNode(t, 2)
	_, r0 := dirty(t, n, 0, 100)
	_, r1 := dirty(t, n, 1, 101)
	require.Equal(t, logindex.FirstLSN, n.WAL.FlushedLSN(), "nothing flushed yet")
	writes := n.Dev.WriteCount()

	id, loaded, err := n.Buffer(quiet, n.Page(2))
	require.NoError(t, err)
	require.True(t, loaded)
	require.Equal(t, n.Page(2), n.Pool.Get(id).Tag)

	victim, rec, kept := 0, r0, 1
	if _, ok := n.Pool.Lookup(n.Page(0)); ok {
		victim, rec, kept = 1, r1, 0
	}
	require.GreaterOrEqual(t, n.WAL.FlushedLSN(), rec.End, "WAL flushed to the victim's page LSN")

	got, err := n.ReadStoragePage(n.Page(victim))
	require.NoError(t, err)
	require.Equal(t, rec.End, got.LSN)
	require.Equal(t, uint64(100+victim), got.Slots[0])

	var walWrites, dataWrites int
	for _, w := range n.Dev.WritesSince(writes) {
		switch {
		case strings.HasPrefix(w.Path, "pg_wal/"):
			require.Zero(t, dataWrites, "WAL write %v after the data write", w)
			walWrites++
		case w.Path == n.RelPath():
			dataWrites++
		default:
			t.Fatalf("unexpected write %v", w)
		}
	}
	require.Positive(t, walWrites)
	require.Equal(t, 1, dataWrites)

	// The other dirty buffer is untouched.
	kid, ok := n.Pool.Lookup(n.Page(kept))
	require.True(t, ok)
	require.True(t, n.Pool.Get(kid).Dirty)
	require.Equal(t, 1, n.Pool.FlushLen())
	require.NoError(t, n.Pool.Check())
}

func TestBufferBusyBeyondFlushGate(t *testing.T) {
	n := newPrimaryNode(t, 2)
	_, r0 := dirty(t, n, 0, 100)
	_, r1 := dirty(t, n, 1, 101)
	// A replica has applied nothing past the first record's start.
	n.Slots = []Slot{{Name: "replica1", Restart: r0.Start, Apply: r0.Start, Active: true}}
	writes, flushed := n.Dev.WriteCount(), n.WAL.FlushedLSN()

	_, _, err := n.Buffer(quiet, n.Page(2))
	require.ErrorIs(t, err, ErrBuffersBusy)
	require.Contains(t, err.Error(), "beyond flush gate")
	require.Equal(t, writes, n.Dev.WriteCount(), "nothing written")
	require.Equal(t, flushed, n.WAL.FlushedLSN())
	_, ok := n.Pool.Lookup(n.Page(2))
	require.False(t, ok)
	require.Equal(t, 2, n.Pool.FlushLen())

	// Once the replica has applied both records the victim may go, though
	// its restart LSN (what it still needs from LogIndex) lags.
	n.Slots[0].Apply = r1.End
	_, loaded, err := n.Buffer(quiet, n.Page(2))
	require.NoError(t, err)
	require.True(t, loaded)
	require.Equal(t, 1, n.Pool.FlushLen())
}

func TestBufferBusyAllPinned(t *testing.T) {
	n := newPrimaryNode(t, 2)
	for i := 0; i < 2; i++ {
		id, _, err := n.Buffer(quiet, n.Page(i))
		require.NoError(t, err)
		n.Pool.Pin(id)
	}
	_, _, err := n.Buffer(quiet, n.Page(2))
	require.ErrorIs(t, err, ErrBuffersBusy)
	require.ErrorContains(t, err, storage.ErrNoVictim.Error())
}

func TestFlushGate(t *testing.T) {
	n := newPrimaryNode(t, 2)
	none := ^storage.LSN(0)
	require.Equal(t, none, n.FlushGate(), "no slots: no limit")

	// The gate follows apply LSNs; restart LSNs (older: a lagging BGW, a
	// read under way) do not hold it.
	n.Slots = []Slot{
		{Name: "replica1", Restart: 0x40, Apply: 0x300},
		{Name: "replica2", Restart: 0x40, Apply: 0x200, Active: true},
		{Name: "replica3", Restart: 0x40, Apply: 0x100},
	}
	require.Equal(t, storage.LSN(0x100), n.FlushGate(), "the oldest slot, active or not")

	// A shutdown checkpoint counts only slots with a connected replica.
	n.ShuttingDown = true
	require.Equal(t, storage.LSN(0x200), n.FlushGate())
	n.Slots[1].Active = false
	require.Equal(t, none, n.FlushGate())
	n.Slots[0].Active = true
	require.Equal(t, storage.LSN(0x300), n.FlushGate())
	n.ShuttingDown = false
	require.Equal(t, storage.LSN(0x100), n.FlushGate())

	// A standby's slot never gates: the standby reads its own storage.
	n.Slots = append(n.Slots, Slot{Name: StandbySlotName(1), Restart: 0x80, Apply: 0x80, Active: true})
	require.Equal(t, storage.LSN(0x100), n.FlushGate())
	n.Slots = []Slot{{Name: StandbySlotName(2), Restart: 0x80, Apply: 0x80}}
	require.Equal(t, none, n.FlushGate(), "only a standby slot: no limit")
}

func TestRetainLSN(t *testing.T) {
	n := newPrimaryNode(t, 2)
	none := ^storage.LSN(0)
	require.Equal(t, none, n.RetainLSN(), "no slots: no limit")

	// LogIndex is kept from the oldest restart LSN, whatever the apply
	// LSNs say.
	n.Slots = []Slot{
		{Name: "replica1", Restart: 0x280, Apply: 0x300, Active: true},
		{Name: "replica2", Restart: 0x180, Apply: 0x300},
	}
	require.Equal(t, storage.LSN(0x180), n.RetainLSN())
	require.Equal(t, storage.LSN(0x300), n.FlushGate())

	// A disconnected replica's slot holds it even at a shutdown
	// checkpoint, which writes past that replica (the gate skips it).
	n.ShuttingDown = true
	require.Equal(t, storage.LSN(0x180), n.RetainLSN())
	require.Equal(t, storage.LSN(0x300), n.FlushGate())
	n.ShuttingDown = false

	// A standby slot holds WAL only, which the model does not truncate.
	n.Slots = append(n.Slots, Slot{Name: StandbySlotName(1), Restart: 0x80, Apply: 0x80, Active: true})
	require.Equal(t, storage.LSN(0x180), n.RetainLSN())
}

func TestStandbySlotNames(t *testing.T) {
	require.Equal(t, "standby1", StandbySlotName(1))
	require.True(t, IsStandbySlot(StandbySlotName(2)))
	require.False(t, IsStandbySlot(SlotName(2)))
	require.False(t, IsStandbySlot("replica1"))
}

func TestWritable(t *testing.T) {
	n := newPrimaryNode(t, 2)
	wal := n.WAL
	n.WAL = nil
	require.ErrorContains(t, n.Writable(logindex.FirstLSN), "WAL not flushed")
	n.WAL = wal

	rec := &logindex.Record{Type: logindex.RecPage, XID: 1,
		Changes: []logindex.Change{{Page: n.Page(0), Slot: 1, Value: 7}}}
	require.NoError(t, n.WAL.Insert(rec))
	err := n.Writable(rec.End)
	require.ErrorContains(t, err, "WAL not flushed")
	require.NotErrorIs(t, err, ErrFlushGate)
	require.NoError(t, n.Writable(logindex.FirstLSN), "a page at the flushed LSN")

	require.NoError(t, n.WAL.Flush(rec.End))
	require.NoError(t, n.Writable(rec.End))

	n.Slots = []Slot{{Name: "replica1", Restart: rec.End - 1, Apply: rec.End - 1}}
	require.ErrorIs(t, n.Writable(rec.End), ErrFlushGate)
	require.NoError(t, n.Writable(rec.End-1))
	n.Slots[0].Apply = rec.End
	require.NoError(t, n.Writable(rec.End), "the apply LSN gates, not the restart LSN")
}

func TestOldestLSN(t *testing.T) {
	n := newPrimaryNode(t, 2)
	require.Equal(t, logindex.FirstLSN, n.OldestLSN())
	_, rec := dirty(t, n, 0, 1)
	require.Equal(t, rec.End, n.OldestLSN(), "the insert position")
	insert := n.WAL.InsertLSN()

	n.BGW.StartReplicaBufReplaying(0x30)
	require.Equal(t, insert, n.OldestLSN(), "REPLICA_BUF_REPLAYING uses the insert position")

	n.BGW = NewBGW()
	n.BGW.StartParallelReplaying(0x30)
	n.BGW.RaiseFakeOldest(0x38)
	require.Equal(t, storage.LSN(0x38), n.OldestLSN(), "PARALLEL_REPLAYING uses the fake oldest LSN")
	require.Equal(t, storage.LSN(0x38), n.ConsistentFallback())

	n.BGW.EnterWaitingReset()
	require.Equal(t, insert, n.OldestLSN(), "WAITING_RESET uses the insert position")
	require.Equal(t, insert, n.ConsistentFallback())

	n.BGW.Reset(0x30, insert)
	require.Equal(t, storage.LSN(0x38), n.OldestLSN(), "ONLINE_PROMOTE: fake oldest never fell back")
	n.BGW.RaiseFakeOldest(0x40)
	require.Equal(t, storage.LSN(0x40), n.OldestLSN())

	// The hazard that turns the fake oldest LSN off.
	n.Cfg.Orderings.FakeOldestDuringPromote = false
	require.Equal(t, insert, n.OldestLSN())
	n.Cfg.Orderings.FakeOldestDuringPromote = true

	n.BGW.FinishPromote()
	require.Equal(t, insert, n.OldestLSN(), "back to the insert position after promote")

	n.WAL = nil
	ae := assertionFailure(t, func() { n.OldestLSN() })
	require.Contains(t, ae.Msg, "without WAL")
}

// replayWorld is a node with WAL on storage and LogIndex over it: records
// on pages 0..2, some touching two pages, with commits in between.
type replayWorld struct {
	n    *Node
	recs []logindex.Record
	end  storage.LSN
}

func newReplayWorld(t *testing.T) *replayWorld {
	t.Helper()
	n := newPrimaryNode(t, 4)
	w := &replayWorld{n: n}
	add := func(rec logindex.Record) {
		require.NoError(t, n.WAL.Insert(&rec))
		m := rec.Meta()
		require.NoError(t, n.Index.AddMeta(&m))
		w.recs = append(w.recs, rec)
	}
	for i := 0; i < 12; i++ {
		xid := logindex.XID(i + 1)
		ch := []logindex.Change{{Page: n.Page(i % 3), Slot: uint8(i % storage.PageSlots), Value: uint64(1000 + i)}}
		if i%4 == 1 {
			ch = append(ch, logindex.Change{Page: n.Page((i + 1) % 3), Slot: 3, Value: uint64(2000 + i)})
		}
		add(logindex.Record{Type: logindex.RecPage, XID: xid, Changes: ch})
		if i%3 == 2 {
			add(logindex.Record{Type: logindex.RecCommit, XID: xid})
		}
	}
	w.end = n.WAL.InsertLSN()
	require.NoError(t, n.WAL.Flush(w.end))
	return w
}

// byHand applies, to base, every record of page with start in [from, to),
// setting slots from the changes directly (not through Record.Apply); it
// returns the page and how many records changed it.
func (w *replayWorld) byHand(page storage.PageID, base storage.Page, from, to storage.LSN) (storage.Page, int) {
	n := 0
	for _, r := range w.recs {
		if r.Start < from || r.Start >= to || r.End <= base.LSN {
			continue
		}
		hit := false
		for _, c := range r.Changes {
			if c.Page == page {
				base.Slots[c.Slot] = c.Value
				hit = true
			}
		}
		if hit {
			base.LSN = r.End
			n++
		}
	}
	return base, n
}

// bounds are the record boundaries plus points inside records.
func (w *replayWorld) bounds() []storage.LSN {
	var out []storage.LSN
	for _, r := range w.recs {
		out = append(out, r.Start, r.Start+1)
	}
	return append(out, w.end, w.end+8)
}

func TestReplayPage(t *testing.T) {
	w := newReplayWorld(t)
	n := w.n
	checked := 0
	for pi := 0; pi < 3; pi++ {
		page := n.Page(pi)
		id, _, err := n.Buffer(quiet, page)
		require.NoError(t, err)
		for _, from := range w.bounds() {
			for _, to := range w.bounds() {
				*n.Pool.Modify(id) = storage.Page{}
				applied, err := n.ReplayPage(id, from, to)
				require.NoError(t, err, "page %d [%v, %v)", pi, from, to)
				want, wantN := w.byHand(page, storage.Page{}, from, to)
				require.Equal(t, wantN, applied, "page %d [%v, %v)", pi, from, to)
				require.Equal(t, want, n.Pool.Get(id).Page, "page %d [%v, %v)", pi, from, to)
				checked += applied
			}
		}
		// From a page that already has the first half: only later records
		// change it, however generous from is.
		mid := w.recs[len(w.recs)/2].Start
		base, _ := w.byHand(page, storage.Page{}, logindex.FirstLSN, mid)
		*n.Pool.Modify(id) = base
		applied, err := n.ReplayPage(id, logindex.FirstLSN, w.end)
		require.NoError(t, err)
		want, wantN := w.byHand(page, base, logindex.FirstLSN, w.end)
		require.Equal(t, wantN, applied)
		require.Positive(t, applied)
		require.Equal(t, want, n.Pool.Get(id).Page)
	}
	require.Positive(t, checked)
	require.Equal(t, 0, n.Pool.FlushLen(), "replay does not dirty")
}

func TestReplayPageClampsToTruncation(t *testing.T) {
	w := newReplayWorld(t)
	n := w.n
	cut := w.recs[5].Start
	_, err := n.Index.Truncate(cut)
	require.NoError(t, err)
	require.Equal(t, cut, n.Index.TruncatedBelow())
	page := n.Page(0)
	_, err = n.Index.History(nil, page, logindex.FirstLSN-1, w.end-1)
	require.ErrorIs(t, err, logindex.ErrTruncated, "an unclamped lookup would fail")

	id, _, err := n.Buffer(quiet, page)
	require.NoError(t, err)
	for _, from := range []storage.LSN{storage.InvalidLSN, logindex.FirstLSN, w.recs[2].Start, cut} {
		*n.Pool.Modify(id) = storage.Page{}
		applied, err := n.ReplayPage(id, from, w.end)
		require.NoError(t, err, "from %v", from)
		want, wantN := w.byHand(page, storage.Page{}, cut, w.end)
		require.Positive(t, wantN)
		require.Equal(t, wantN, applied, "from %v", from)
		require.Equal(t, want, n.Pool.Get(id).Page, "from %v", from)
	}
	// A range wholly below the truncation point replays nothing.
	*n.Pool.Modify(id) = storage.Page{}
	applied, err := n.ReplayPage(id, logindex.FirstLSN, cut)
	require.NoError(t, err)
	require.Zero(t, applied)
	require.Equal(t, storage.Page{}, n.Pool.Get(id).Page)
}

func TestReplayPageEmptyRange(t *testing.T) {
	w := newReplayWorld(t)
	id, _, err := w.n.Buffer(quiet, w.n.Page(0))
	require.NoError(t, err)
	for _, r := range [][2]storage.LSN{{w.end, w.end}, {w.end, logindex.FirstLSN}, {0, 0}} {
		applied, err := w.n.ReplayPage(id, r[0], r[1])
		require.NoError(t, err)
		require.Zero(t, applied, fmt.Sprint(r))
	}
	require.Equal(t, storage.Page{}, w.n.Pool.Get(id).Page)
}

// A replica's read-only LogIndex learns the primary's truncation point only
// when History rereads the meta; ReplayPage must clamp to that fresh point,
// not fail with ErrTruncated (a replica read erroring out after every
// primary checkpoint).
func TestReplayPageReplicaLearnsTruncation(t *testing.T) {
	w := newReplayWorld(t)
	p := w.n
	r, err := NewNode(DefaultConfig(2), p.Dev)
	require.NoError(t, err)
	require.NoError(t, r.Attach(storage.MountReadOnly))
	require.False(t, r.Index.Writable())
	for _, rec := range w.recs {
		m := rec.Meta()
		require.NoError(t, r.Index.AddMeta(&m))
	}
	cut := w.recs[5].Start
	_, err = p.Index.Truncate(cut)
	require.NoError(t, err)
	require.Equal(t, storage.InvalidLSN, r.Index.TruncatedBelow(), "the replica has not reread the meta yet")

	page := r.Page(0)
	id, _, err := r.Buffer(quiet, page)
	require.NoError(t, err)
	applied, err := r.ReplayPage(id, logindex.FirstLSN, w.end)
	require.NoError(t, err)
	require.Equal(t, cut, r.Index.TruncatedBelow())
	want, wantN := w.byHand(page, storage.Page{}, cut, w.end)
	require.Positive(t, wantN)
	require.Equal(t, wantN, applied)
	require.Equal(t, want, r.Pool.Get(id).Page)
}
