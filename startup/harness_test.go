package startup_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/startup"
	"promotesim/storage"
)

// The test world: one shared device, a "primary" written directly from the
// test (WAL through logindex.NewWAL on a RW mount, pages, checkpoints, the
// control file, clog and slots) and a replica node under test whose startup
// process runs in a sim.Scheduler. A stub BGW and an operator play the parts
// of the processes this package does not own.

const (
	primaryHost storage.HostID = 1
	replicaHost storage.HostID = 2
	rel         storage.RelID  = 1
)

type world struct {
	t   testing.TB
	li  logindex.Config // the replica's LogIndex / WAL config
	dev *storage.Device

	// The primary.
	pm      *storage.Mount
	pwal    *logindex.WAL
	pix     *logindex.Index // writable LogIndex that saves tables
	save    bool            // save LogIndex tables after every transaction
	pages   []storage.Page  // the primary's pages (written at checkpoints)
	pclog   shmem.Clog
	xid     logindex.XID
	recs    []logindex.Record // every record written, in order
	commits []logindex.XID
	ckpt    storage.LSN // last checkpoint record and its redo
	redo    storage.LSN
	stopped bool
	// connected: metas of new records are pushed into the replica's queue.
	connected bool

	// The replica under test.
	cfg       shmem.Config
	n         *shmem.Node
	s         *sim.Scheduler
	exits     *shmem.ExitLog // the processes' exits s reports
	trace     *strings.Builder
	proc      *startup.Process
	id        sim.ActorID
	bgw       *bgwStub
	bgwID     sim.ActorID
	startRedo storage.LSN
}

type worldOpts struct {
	queue    int // polar_xlog_queue_buffers (0: default)
	memSize  int // polar_logindex_mem_size (0: default)
	table    int // memtable size (0: default)
	profile  shmem.Profile
	noSave   bool
	scripted bool // FIFO chooser instead of a seeded random one
	seed     uint64
	level    sim.Level
	fidelity shmem.Fidelity // issue 10's PolarDB-as-coded switches
	sequence string         // the promote steps' order (sequence.go)
	fixed    bool           // the profile's -fixed orderings (shmem.FixedOrderingsFor)
}

// newWorld builds the device and the primary with an empty relation, a
// replication slot for the replica and a first checkpoint.
func newWorld(t testing.TB, o worldOpts) *world {
	t.Helper()
	dev, err := storage.NewDevice(storage.DeviceConfig{Blocks: 1 << 14, Fence: storage.FenceNone})
	require.NoError(t, err)
	cfg := shmem.DefaultConfig(replicaHost)
	if o.queue > 0 {
		cfg.LogIndex.QueueBuffers = o.queue
	}
	if o.memSize > 0 {
		cfg.LogIndex.MemSize = o.memSize
	}
	if o.table > 0 {
		cfg.LogIndex.TableSize = o.table
	}
	if o.profile != 0 {
		cfg.Profile = o.profile
		cfg.Orderings = shmem.OrderingsFor(o.profile)
	}
	if o.fixed {
		cfg.Orderings = shmem.FixedOrderingsFor(cfg.Profile)
	}
	cfg.Fidelity = o.fidelity
	cfg.Sequence = o.sequence
	w := &world{t: t, li: cfg.LogIndex, dev: dev, cfg: cfg, save: !o.noSave, pages: make([]storage.Page, cfg.Pages)}
	w.pm, err = dev.Mount(primaryHost, storage.MountReadWrite)
	require.NoError(t, err)
	w.pwal, err = logindex.NewWAL(w.pm, w.li, logindex.FirstLSN, storage.InvalidLSN)
	require.NoError(t, err)
	pli := w.li
	pli.MemSize = 64 // the primary never runs out of memtables
	w.pix, err = logindex.New(w.pm, pli, true)
	require.NoError(t, err)
	require.NoError(t, w.pm.Create("base/1"))
	require.NoError(t, shmem.WriteSlot(w.pm, shmem.Slot{Name: shmem.SlotName(replicaHost), Restart: logindex.FirstLSN, Apply: logindex.FirstLSN}))
	w.checkpoint()
	level := o.level
	if level == 0 {
		level = sim.LevelStory
	}
	w.trace = &strings.Builder{}
	var ch sim.Chooser
	if o.scripted {
		ch = sim.NewScripted()
	} else {
		ch = sim.NewRandom(o.seed)
	}
	w.s = sim.New(sim.Config{Seed: o.seed, Chooser: ch, Trace: sim.TraceConfig{Out: w.trace, Level: level}})
	w.exits = shmem.WatchExits(w.s)
	return w
}

// insert writes one record through the primary's WAL, flushes it, indexes it
// and ships its meta to the replica if connected.
func (w *world) insert(rec *logindex.Record) {
	w.t.Helper()
	require.False(w.t, w.stopped, "primary stopped")
	require.NoError(w.t, w.pwal.Insert(rec))
	require.NoError(w.t, w.pwal.Flush(rec.End))
	cp := *rec
	cp.Changes = append([]logindex.Change(nil), rec.Changes...)
	w.recs = append(w.recs, cp)
	if rec.Type.HasPages() {
		m := rec.Meta()
		require.NoError(w.t, w.pix.AddMeta(&m))
		for _, ch := range rec.Changes {
			pg := &w.pages[ch.Page.Block]
			pg.Slots[ch.Slot] = ch.Value
			pg.LSN = rec.End
		}
	}
	if w.connected {
		m := rec.Meta()
		w.n.Queue.Push(&m)
		w.n.ReceivedLSN = rec.End
		w.n.PrimaryConsistent = w.redo
	}
}

// txn writes a transaction: changes page records then a commit (or abort).
func (w *world) txn(blocks []int, abort bool) {
	w.xid++
	for i, b := range blocks {
		v := uint64(w.xid)*100 + uint64(i)
		w.insert(&logindex.Record{Type: logindex.RecPage, XID: w.xid,
			Changes: []logindex.Change{{Page: storage.PageID{Rel: rel, Block: storage.BlockNo(b)}, Slot: uint8(i % storage.PageSlots), Value: v}}})
	}
	typ, st := logindex.RecCommit, shmem.XactCommitted
	if abort {
		typ, st = logindex.RecAbort, shmem.XactAborted
	}
	w.insert(&logindex.Record{Type: typ, XID: w.xid})
	w.pclog.Set(w.xid, st)
	if !abort {
		w.commits = append(w.commits, w.xid)
	}
	if w.save {
		w.saveIndex()
	}
}

func (w *world) saveIndex() {
	_, err := w.pix.Save(w.pwal.FlushedLSN())
	require.NoError(w.t, err)
}

// checkpoint writes every page and the clog, then the checkpoint record with
// the redo pointer at the insert position before it (storage has every
// change below it), then the control file.
func (w *world) checkpoint() {
	w.t.Helper()
	w.flushPages()
	require.NoError(w.t, shmem.WriteClog(w.pm, &w.pclog))
	redo := w.pwal.InsertLSN()
	rec := logindex.Record{Type: logindex.RecCheckpoint, Redo: redo}
	w.insert(&rec)
	w.ckpt, w.redo = rec.Start, redo
	require.NoError(w.t, shmem.WriteControl(w.pm, shmem.Control{State: shmem.DBInProduction, CheckPoint: w.ckpt,
		Redo: w.redo, TLI: 1, NextXID: uint32(w.xid) + 1, Primary: primaryHost}))
}

// flushPages writes and syncs the primary's every page, as its bgwriter or
// a checkpoint does.
func (w *world) flushPages() {
	w.t.Helper()
	var img [storage.BlockSize]byte
	for i := range w.pages {
		w.pages[i].Marshal(img[:])
		require.NoError(w.t, w.pm.WriteAt("base/1", img[:], int64(i)*storage.BlockSize))
	}
	require.NoError(w.t, w.pm.Sync("base/1"))
}

// startReplica builds the replica node and adds its startup process and the
// stub BGW to the scheduler; metas of later records are shipped to it.
func (w *world) startReplica() {
	w.t.Helper()
	n, err := shmem.NewNode(w.cfg, w.dev)
	require.NoError(w.t, err)
	require.NoError(w.t, n.Attach(storage.MountReadOnly))
	w.n = n
	w.startRedo = w.redo
	w.proc = startup.New(n, startup.ModeReplica)
	w.id = w.s.Add(w.proc)
	n.Procs.Startup = w.id
	w.bgw = &bgwStub{n: n}
	w.bgwID = w.s.Add(w.bgw)
	n.Procs.BGW = w.bgwID
	w.connected = true
}

// promote is postmaster's part: the old primary is stopped, shared storage
// remounted read-write, SIGUSR2 to startup and the BGW.
func (w *world) promote(toBGW bool) {
	w.t.Helper()
	w.stopped = true
	w.connected = false
	require.NoError(w.t, w.n.Mount.RemountRW())
	w.s.Post(w.id, shmem.SIGUSR2)
	if toBGW {
		w.s.Post(w.bgwID, shmem.SIGUSR2)
	}
}

func (w *world) run(budget int, done func() bool) sim.Result {
	w.t.Helper()
	r := w.s.RunUntil(done, budget)
	require.Nil(w.t, r.Violation, "%v", r)
	return r
}

func (w *world) exited() bool { return w.proc.State() == startup.StateExited }

// pageRecs lists the starts of page records touching page with start in
// [from, to), the independent expectation of LogIndex's page history.
func (w *world) pageRecs(page storage.PageID, from, to storage.LSN) []storage.LSN {
	var out []storage.LSN
	for i := range w.recs {
		r := &w.recs[i]
		if r.Start < from || r.Start >= to || !r.Type.HasPages() {
			continue
		}
		for _, c := range r.Changes {
			if c.Page == page {
				out = append(out, r.Start)
				break
			}
		}
	}
	return out
}

// expectPages applies every page record in order by plain slot assignment:
// the oracle for crash recovery.
func (w *world) expectPages() []storage.Page {
	out := make([]storage.Page, len(w.pages))
	for i := range w.recs {
		r := &w.recs[i]
		if r.Type != logindex.RecPage {
			continue
		}
		for _, c := range r.Changes {
			out[c.Page.Block].Slots[c.Slot] = c.Value
			out[c.Page.Block].LSN = r.End
		}
	}
	return out
}

// bgwStub plays the BGW's part of promote by hand: on SIGUSR2 (once
// released) it makes LogIndex writable and enters WAITING_RESET.
type bgwStub struct {
	n    *shmem.Node
	got  bool
	hold bool
	done bool
}

func (b *bgwStub) Name() string { return b.n.Proc("bgw") }
func (b *bgwStub) Ready() bool {
	return b.got && !b.hold && !b.done
}
func (b *bgwStub) Step(c *sim.Ctx) {
	b.done = true
	if s := b.n.BGW.State(); s != shmem.BGRedoNotStart && s != shmem.BGReplicaBufReplaying && s != shmem.BGParallelReplaying {
		return
	}
	if err := b.n.Index.SetWritable(); err != nil {
		sim.Failf("bgw stub: %v", err)
	}
	b.n.BGW.EnterWaitingReset()
	c.Story("enter-waiting-reset", sim.LSNField("replay-point", uint64(b.n.BGW.ReplayPoint())))
}
func (b *bgwStub) Receive(_ *sim.Ctx, m sim.Msg) {
	if s, ok := m.(shmem.Signal); ok && s == shmem.SIGUSR2 {
		b.got = true
	}
}

// assertPromoted checks the outcome of P1-P8.
func (w *world) assertPromoted(t testing.TB) {
	t.Helper()
	n := w.n
	require.True(t, w.exited(), "startup state %v", w.proc.State())
	require.Len(t, w.exits.Of(n), 1)
	require.Equal(t, shmem.ExitNormal, w.exits.Of(n)[0].Kind, "%+v", w.exits.Of(n)[0])

	// P1/P4: E is the old primary's end of WAL; new WAL starts there.
	oldEnd, oldLast := w.pwal.FlushedLSN(), w.pwal.PrevLSN()
	end, last := w.proc.End()
	require.Equal(t, oldEnd, end)
	require.Equal(t, oldLast, last)
	require.Equal(t, oldEnd, n.ReplayLSN)
	require.GreaterOrEqual(t, n.WAL.InsertLSN(), oldEnd)
	rec, err := n.ReadRecord(end)
	require.NoError(t, err)
	require.Equal(t, logindex.RecEndOfRecovery, rec.Type)
	require.Equal(t, oldLast, rec.Prev)
	require.Equal(t, rec.End, n.WAL.FlushedLSN())

	// P5: clog on shared storage has every commit; slots; queue; promoted info.
	cl, err := shmem.ReadClog(n.Mount)
	require.NoError(t, err)
	for _, x := range w.commits {
		require.Equal(t, shmem.XactCommitted, cl.Get(x), "xid %d", x)
	}
	slots, err := shmem.ReadSlots(n.Mount)
	require.NoError(t, err)
	require.Equal(t, slots, n.Slots)
	require.Equal(t, shmem.SlotName(replicaHost), n.Slots[0].Name)
	require.Equal(t, uint64(1), n.Queue.Stats().Resets)
	require.Empty(t, n.Queue.Refs(nil))
	info, ok := n.Index.Promoted()
	require.True(t, ok)
	require.Equal(t, end, info.End)

	// LogIndex holds exactly the page records from the replica's redo on.
	for b := range w.pages {
		pg := storage.PageID{Rel: rel, Block: storage.BlockNo(b)}
		got, err := n.Index.History(nil, pg, w.proc.Redo()-1, end)
		require.NoError(t, err)
		require.Equal(t, w.pageRecs(pg, w.proc.Redo(), end), got, "page %v", pg)
	}

	// P7: BGW reset; control file in production, primary = this host.
	require.Equal(t, shmem.BGOnlinePromote, n.BGW.State())
	start := w.redo
	if !w.cfg.Orderings.ReplayFromRedo {
		// V11: min(old consistent LSN, replay point), an unknown
		// consistent LSN being the redo; the stub BGW's replay point is
		// the redo pointer replay started at after hot standby, and
		// invalid before it, which leaves the consistent LSN alone
		// (polar_reset_bg_replayed_lsn).
		start = n.PrimaryConsistent
		if !start.Valid() {
			start = w.redo
		}
		if w.s.Marks().Count("startup/hot-standby") > 0 && w.proc.Redo() < start {
			start = w.proc.Redo()
		}
	}
	require.Equal(t, start, n.BGW.ReplayPoint())
	require.Equal(t, start, n.BGW.FakeOldest())
	require.Equal(t, start, n.BGW.PromoteStart)
	require.Equal(t, end, n.BGW.PromoteEnd)
	require.Equal(t, 1, n.BGW.Resets())
	ctl, err := shmem.ReadControl(n.Mount)
	require.NoError(t, err)
	require.Equal(t, shmem.DBInProduction, ctl.State)
	require.Equal(t, replicaHost, ctl.Primary)
	require.Equal(t, w.redo, ctl.Redo)
	require.Equal(t, w.ckpt, ctl.CheckPoint)
	require.Equal(t, uint32(1), ctl.TLI)
	require.Greater(t, ctl.NextXID, uint32(w.xid))
	require.False(t, n.InRecovery)
	require.True(t, n.Primary)
	require.Equal(t, shmem.DBInProduction, n.Local.State)
}
