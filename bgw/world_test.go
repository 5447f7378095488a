package bgw

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// world is a small test world: one shared device; an old primary (host 1)
// that writes WAL with a logindex.WAL on a read-write mount and writes page
// images straight to storage; and the node under test (host 2), a replica
// built with shmem.NewNode and Attach(MountReadOnly), whose BGW and replay
// workers run on a scheduler.
type world struct {
	t   testing.TB
	dev *storage.Device
	cfg shmem.Config
	pm  *storage.Mount // the old primary's mount
	wal *logindex.WAL  // the old primary's WAL
	// state is the old primary's view of every page: all records applied.
	state []storage.Page
	recs  []storage.LSN // start of every record inserted, in order
	redo  storage.LSN   // storage has every change below it

	n       *shmem.Node
	s       *sim.Scheduler
	b       *Worker
	bgwID   sim.ActorID
	workers []sim.ActorID
	trace   *strings.Builder
	exits   *shmem.ExitLog // the processes' exits the scheduler reports

	mon *monitor
}

func newWorld(t testing.TB, cfg shmem.Config) *world {
	t.Helper()
	dev, err := storage.NewDevice(storage.DeviceConfig{Blocks: 2048, Fence: storage.FenceNone})
	require.NoError(t, err)
	pm, err := dev.Mount(1, storage.MountReadWrite)
	require.NoError(t, err)
	wal, err := logindex.NewWAL(pm, cfg.LogIndex, logindex.FirstLSN, storage.InvalidLSN)
	require.NoError(t, err)
	w := &world{t: t, dev: dev, cfg: cfg, pm: pm, wal: wal, state: make([]storage.Page, cfg.Pages)}
	w.redo = wal.InsertLSN()
	return w
}

func (w *world) page(i int) storage.PageID {
	return storage.PageID{Rel: w.cfg.Rel, Block: storage.BlockNo(i)}
}

func (w *world) relPath() string { return fmt.Sprintf("base/%d", w.cfg.Rel) }

// insert writes one record on the old primary, flushes it, and applies it to
// the primary's view of the pages.
func (w *world) insert(rec *logindex.Record) {
	w.t.Helper()
	require.NoError(w.t, w.wal.Insert(rec))
	require.NoError(w.t, w.wal.Flush(w.wal.InsertLSN()))
	w.recs = append(w.recs, rec.Start)
	for i := range w.state {
		rec.Apply(w.page(i), &w.state[i])
	}
}

// change inserts a page record setting slot of block to value (pairs of
// (block, slot, value) triples).
func (w *world) change(xid logindex.XID, triples ...int) *logindex.Record {
	rec := &logindex.Record{Type: logindex.RecPage, XID: xid}
	for i := 0; i+2 < len(triples); i += 3 {
		rec.Changes = append(rec.Changes, logindex.Change{Page: w.page(triples[i]), Slot: uint8(triples[i+1]), Value: uint64(triples[i+2])})
	}
	w.insert(rec)
	return rec
}

// writePage writes the old primary's current image of page i to storage.
func (w *world) writePage(i int) {
	w.t.Helper()
	var img [storage.BlockSize]byte
	w.state[i].Marshal(img[:])
	require.NoError(w.t, w.pm.WriteAt(w.relPath(), img[:], int64(i)*storage.BlockSize))
	require.NoError(w.t, w.pm.Sync(w.relPath()))
}

// checkpoint writes every page to storage: storage now has every change below
// the insert position, which becomes the redo pointer.
func (w *world) checkpoint() storage.LSN {
	if !w.pm.Exists(w.relPath()) {
		require.NoError(w.t, w.pm.Create(w.relPath()))
	}
	for i := range w.state {
		w.writePage(i)
	}
	w.redo = w.wal.InsertLSN()
	return w.redo
}

// replica builds the node under test: mounted read-only, LogIndex filled
// with every page record of the WAL on storage (as startup would have),
// n.ReplayLSN at the end of valid WAL, the BGW and its workers on a
// scheduler with the given chooser.
func (w *world) replica(chooser sim.Chooser, seed uint64) {
	w.t.Helper()
	n, err := shmem.NewNode(w.cfg, w.dev)
	require.NoError(w.t, err)
	require.NoError(w.t, n.Attach(storage.MountReadOnly))
	w.n = n
	w.index()
	w.trace = &strings.Builder{}
	w.s = sim.New(sim.Config{Seed: seed, Chooser: chooser, Trace: sim.TraceConfig{Out: w.trace, Level: sim.LevelStep}})
	w.exits = shmem.WatchExits(w.s)
	w.b = New(n)
	w.bgwID = w.s.Add(w.b)
	n.Procs.BGW = w.bgwID
	for _, r := range w.b.ReplayWorkers() {
		w.workers = append(w.workers, w.s.Add(r))
	}
	n.Procs.Workers = w.workers
	w.mon = newMonitor(w)
	w.s.Checkers().Add("BGWMonitor", w.mon.check)
}

// index adds to the node's LogIndex every page record from n.ReplayLSN (or
// the first LSN) to the end of valid WAL, and moves n.ReplayLSN there.
func (w *world) index() {
	w.t.Helper()
	n := w.n
	from, prev := logindex.FirstLSN, storage.InvalidLSN
	if n.ReplayLSN.Valid() {
		from = n.ReplayLSN
	}
	var rec logindex.Record
	end, err := n.Reader.FindEnd(from, prev, &rec, func(r *logindex.Record) error {
		if r.Type.HasPages() {
			m := r.Meta()
			return n.Index.AddMeta(&m)
		}
		return nil
	})
	require.NoError(w.t, err)
	n.ReplayLSN = end.End
}

// endOfWAL is the end of valid WAL and the start of the last record.
func (w *world) endOfWAL() (end, last storage.LSN) {
	var rec logindex.Record
	e, err := w.n.Reader.FindEnd(logindex.FirstLSN, storage.InvalidLSN, &rec, nil)
	require.NoError(w.t, err)
	return e.End, e.Last
}

// load reads page i into the node's pool from storage and replays its
// records with start in [w.redo, upto), as a replica backend read would.
func (w *world) load(i int, upto storage.LSN) storage.BufferID {
	w.t.Helper()
	id, _, err := w.n.Buffer(w.s, w.page(i))
	require.NoError(w.t, err)
	_, err = w.n.ReplayPage(id, w.redo, upto)
	require.NoError(w.t, err)
	return id
}

// promote does postmaster's part (remount read-write, SIGUSR2 to the BGW).
func (w *world) promote() {
	require.NoError(w.t, w.n.Mount.RemountRW())
	w.s.Post(w.bgwID, shmem.SIGUSR2)
}

// reset does startup's part once the BGW waits: reset the BGW to [start,
// end of WAL) and open the new primary's WAL at the end.
func (w *world) reset(start storage.LSN) {
	w.t.Helper()
	end, last := w.endOfWAL()
	n := w.n
	var err error
	n.WAL, err = logindex.NewWAL(n.Mount, w.cfg.LogIndex, end, last)
	require.NoError(w.t, err)
	n.Primary = true
	n.BGW.Reset(start, end)
}

func (w *world) run(budget int, done func() bool) sim.Result {
	r := w.s.RunUntil(done, budget)
	if r.Violation != nil {
		w.t.Fatalf("%v\n%s", r.Violation, strings.Join(r.Violation.Tail, "\n"))
	}
	return r
}

func (w *world) runUntilState(st shmem.BGWState, budget int) {
	w.t.Helper()
	r := w.run(budget, func() bool { return w.n.BGW.State() == st })
	require.True(w.t, r.Done, "BGW did not reach %v within %d steps (%v), now %v\n%s", st, budget, r, w.n.BGW.State(), w.trace)
}

// oracle reads every valid WAL record from storage and applies it, in
// order, to zero pages: what every page must contain once all WAL is
// applied. It does not use the primary's running view.
func (w *world) oracle() []storage.Page {
	w.t.Helper()
	m := w.pm
	if w.n != nil {
		m = w.n.Mount // the old primary may be gone
	}
	r, err := logindex.NewReader(m, w.cfg.LogIndex)
	require.NoError(w.t, err)
	pages := make([]storage.Page, w.cfg.Pages)
	var rec logindex.Record
	_, err = r.FindEnd(logindex.FirstLSN, storage.InvalidLSN, &rec, func(rec *logindex.Record) error {
		for i := range pages {
			rec.Apply(w.page(i), &pages[i])
		}
		return nil
	})
	require.NoError(w.t, err)
	return pages
}

// current returns page i as the node would serve it without replay: the
// pool's copy if pooled, else storage's.
func (w *world) current(i int) (storage.Page, bool) {
	w.t.Helper()
	if id, ok := w.n.Pool.Lookup(w.page(i)); ok {
		return w.n.Pool.Get(id).Page, true
	}
	p, err := w.n.ReadStoragePage(w.page(i))
	require.NoError(w.t, err)
	return p, false
}

// requireOracle asserts that every page, pooled or on storage, equals the
// oracle.
func (w *world) requireOracle() {
	w.t.Helper()
	want := w.oracle()
	for i := range want {
		got, pooled := w.current(i)
		require.Equal(w.t, want[i], got, "page %d (pooled %t)", i, pooled)
	}
}

// monitor is the test's checker, run after every step: the fake oldest LSN
// never decreases; the replay point moves back only at a reset; a buffer
// becoming dirty takes the fake oldest LSN of that moment; a replica
// (read-only mount) has no dirty buffer; tasks of one page always sit in one
// worker's queue; the pool's own invariants hold.
type monitor struct {
	w          *world
	fake       storage.LSN
	point      storage.LSN
	resets     int
	fakes      []storage.LSN // every fake oldest value seen
	dirty      map[storage.BufferID]storage.PageID
	pageWorker map[storage.PageID]int
	recs       []recInfo // every valid WAL record, read once promote starts
}

type recInfo struct {
	start, end storage.LSN
	pages      []storage.PageID
}

func newMonitor(w *world) *monitor {
	return &monitor{w: w, dirty: map[storage.BufferID]storage.PageID{}, pageWorker: map[storage.PageID]int{}}
}

func (m *monitor) check() error {
	n := m.w.n
	b := &n.BGW
	if f := b.FakeOldest(); f < m.fake {
		return fmt.Errorf("fake oldest LSN moved back %v -> %v", m.fake, f)
	} else if f != m.fake || len(m.fakes) == 0 {
		m.fake = f
		m.fakes = append(m.fakes, f)
	}
	if b.Resets() != m.resets {
		m.resets = b.Resets()
	} else if b.ReplayPoint() < m.point {
		return fmt.Errorf("replay point moved back %v -> %v without a reset", m.point, b.ReplayPoint())
	}
	m.point = b.ReplayPoint()
	for i := range n.Pool.Frames() {
		id := storage.BufferID(i)
		buf := n.Pool.Get(id)
		if !buf.Dirty {
			delete(m.dirty, id)
			continue
		}
		if n.Mount.Mode() == storage.MountReadOnly {
			return fmt.Errorf("replica buffer %v dirty", buf.Tag)
		}
		if tag, ok := m.dirty[id]; ok && tag == buf.Tag {
			continue
		}
		m.dirty[id] = buf.Tag
		if buf.OldestLSN != b.FakeOldest() {
			return fmt.Errorf("buffer %v dirtied with oldest %v, fake oldest is %v", buf.Tag, buf.OldestLSN, b.FakeOldest())
		}
	}
	for wi, q := range m.w.b.s.queues {
		for _, t := range q {
			if prev, ok := m.pageWorker[t.page]; ok && prev != wi {
				return fmt.Errorf("page %v queued at worker %d and %d", t.page, prev, wi)
			}
			m.pageWorker[t.page] = wi
			if t.done {
				return fmt.Errorf("finished task %v@%v still queued", t.page, t.lsn)
			}
		}
	}
	for i := 1; i < len(m.w.b.s.running); i++ {
		if m.w.b.s.running[i].lsn < m.w.b.s.running[i-1].lsn {
			return fmt.Errorf("running queue out of LSN order at %d", i)
		}
	}
	if b.Promoting() {
		if err := m.replayed(); err != nil {
			return err
		}
	}
	return n.Pool.Check()
}

// replayed checks the replay point's meaning while the BGW dispatches: every
// record starting below it is in its pages, whether pooled or on storage.
func (m *monitor) replayed() error {
	w := m.w
	if m.recs == nil {
		var rec logindex.Record
		_, err := w.n.Reader.FindEnd(logindex.FirstLSN, storage.InvalidLSN, &rec, func(r *logindex.Record) error {
			m.recs = append(m.recs, recInfo{start: r.Start, end: r.End, pages: r.Pages(nil)})
			return nil
		})
		if err != nil {
			return err
		}
	}
	rp := w.n.BGW.ReplayPoint()
	for i := range w.cfg.Pages {
		need := storage.InvalidLSN
		for _, r := range m.recs {
			if r.start >= rp {
				break
			}
			for _, p := range r.pages {
				if p == w.page(i) {
					need = r.end
				}
			}
		}
		var got storage.Page
		if id, ok := w.n.Pool.Lookup(w.page(i)); ok {
			got = w.n.Pool.Get(id).Page
		} else {
			p, err := w.n.ReadStoragePage(w.page(i))
			if err != nil {
				return err
			}
			got = p
		}
		if got.LSN < need {
			return fmt.Errorf("replay point %v, but page %v is at %v, needs %v", rp, w.page(i), got.LSN, need)
		}
	}
	return nil
}

// fakeSeen reports whether l was ever the fake oldest LSN.
func (m *monitor) fakeSeen(l storage.LSN) bool {
	for _, f := range m.fakes {
		if f == l {
			return true
		}
	}
	return false
}
