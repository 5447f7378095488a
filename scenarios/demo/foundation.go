package demo

import (
	"errors"
	"fmt"
	"io"

	"promotesim/logindex"
	"promotesim/sim"
	"promotesim/storage"
)

// The "foundation" demo shows what is built below the protocol: a primary
// writing pages and WAL through the kernel's scheduler, the buffer pool's
// flush list and consistent LSN advancing as pages reach storage, a replica's
// read-only mount refusing a write, and a stale writer fenced in epoch mode
// once the replica takes the writer role by force.

func init() {
	register(Demo{
		Name:    "foundation",
		Summary: "primary writes pages and WAL; replica's RO mount refuses a write; stale writer fenced (epoch)",
		Run:     runFoundation,
	})
}

// demoRel is the one relation the demo writes.
const demoRel storage.RelID = 1

// demoPages is how many pages of demoRel the backend touches.
const demoPages = 4

// foundationWorld is the shared memory of node n1 plus the device, as the
// demo's actors see it.
type foundationWorld struct {
	dev     *storage.Device
	n1, n2  *storage.Mount
	pool    *storage.Pool
	wal     *logindex.WAL
	cfg     logindex.Config
	acked   []logindex.XID
	stopped bool // n1 has PANICked (fenced): its processes take no steps
}

func (w *foundationWorld) relPath() string { return fmt.Sprintf("base/%d", demoRel) }

// Messages of the demo.
type (
	msgTxn      struct{ xid logindex.XID } // a client runs one transaction
	msgTryWrite struct{}                   // the replica tries to write a page
)

func (m msgTxn) String() string    { return fmt.Sprintf("txn(xid=%d)", m.xid) }
func (msgTryWrite) String() string { return "try-write" }

// backend runs client transactions on the primary: each change is one step
// (insert the WAL record, apply it to the buffer, mark the buffer dirty with
// the insert position taken before the record), then the commit record, then
// it waits until the commit is durable before acknowledging.
type backend struct {
	w       *foundationWorld
	site    sim.Site
	xid     logindex.XID
	changes int
	commit  storage.LSN // waiting for WAL flushed up to here
}

func (b *backend) Name() string { return "n1/backend" }
func (b *backend) Ready() bool {
	if b.w.stopped || b.xid == 0 {
		return false
	}
	return b.changes > 0 || b.commit == 0 || b.w.wal.FlushedLSN() >= b.commit
}

func (b *backend) Receive(c *sim.Ctx, m sim.Msg) {
	t, ok := m.(msgTxn)
	sim.Assertf(ok, "backend: unexpected %v", m)
	sim.Assertf(b.xid == 0, "backend: txn %d while %d runs", t.xid, b.xid)
	b.xid, b.changes, b.commit = t.xid, 2, 0
	c.Log("begin", sim.Uint("xid", uint64(t.xid)))
}

func (b *backend) Step(c *sim.Ctx) {
	w := b.w
	switch {
	case b.changes > 0:
		page := storage.PageID{Rel: demoRel, Block: storage.BlockNo(c.Choose(b.site, demoPages))}
		id, err := w.load(page)
		if err != nil {
			c.Story("ERROR", sim.Str("err", err.Error()))
			b.xid = 0
			return
		}
		oldest := w.wal.InsertLSN() // taken before the record: oldest <= record
		rec := logindex.Record{Type: logindex.RecPage, XID: b.xid,
			Changes: []logindex.Change{{Page: page, Slot: uint8(b.changes % storage.PageSlots), Value: uint64(b.xid)*10 + uint64(b.changes)}}}
		if err := w.wal.Insert(&rec); err != nil {
			c.Story("ERROR", sim.Str("err", err.Error()))
			return
		}
		rec.Apply(page, w.pool.Modify(id))
		if err := w.pool.MarkDirty(id, oldest); err != nil {
			c.Story("PANIC", sim.Str("err", err.Error()))
			w.stopped = true
			return
		}
		b.changes--
		c.Log("insert", sim.Str("page", page.String()), sim.LSNField("lsn", uint64(rec.Start)),
			sim.LSNField("end", uint64(rec.End)), sim.LSNField("oldest", uint64(oldest)))
	case b.commit == 0:
		rec := logindex.Record{Type: logindex.RecCommit, XID: b.xid}
		if err := w.wal.Insert(&rec); err != nil {
			c.Story("ERROR", sim.Str("err", err.Error()))
			return
		}
		b.commit = rec.End
		c.Log("commit-insert", sim.Uint("xid", uint64(b.xid)), sim.LSNField("end", uint64(rec.End)))
	default:
		// Synchronous commit: acknowledged only once its record is durable.
		w.acked = append(w.acked, b.xid)
		c.Story("commit-ack", sim.Uint("xid", uint64(b.xid)), sim.LSNField("flushed", uint64(w.wal.FlushedLSN())))
		b.xid = 0
	}
}

// load returns the buffer holding page, reading it from storage if needed.
func (w *foundationWorld) load(page storage.PageID) (storage.BufferID, error) {
	if id, ok := w.pool.Lookup(page); ok {
		return id, nil
	}
	id, err := w.pool.Victim()
	if err != nil {
		return 0, err
	}
	if b := w.pool.Get(id); b.Valid && b.Dirty {
		// Evicting a dirty page writes it; WAL before data means flushing WAL
		// up to its LSN first, as PostgreSQL's FlushBuffer does.
		if err := w.wal.Flush(b.Page.LSN); err != nil {
			return 0, err
		}
		if err := w.writePage(w.n1, id); err != nil {
			return 0, err
		}
	}
	var img [storage.BlockSize]byte
	if _, err := w.n1.ReadAt(w.relPath(), img[:], int64(page.Block)*storage.BlockSize); err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	p, err := storage.UnmarshalPage(img[:])
	if err != nil {
		return 0, err
	}
	w.pool.Assign(id, page, p)
	return id, nil
}

// writePage writes a dirty buffer to storage (WAL before data) and cleans it.
func (w *foundationWorld) writePage(m *storage.Mount, id storage.BufferID) error {
	b := w.pool.Get(id)
	sim.Assertf(b.Page.LSN <= w.wal.FlushedLSN(), "WAL before data: page %v at %v, WAL flushed to %v", b.Tag, b.Page.LSN, w.wal.FlushedLSN())
	var img [storage.BlockSize]byte
	b.Page.Marshal(img[:])
	if err := m.WriteAt(w.relPath(), img[:], int64(b.Tag.Block)*storage.BlockSize); err != nil {
		return err
	}
	if err := m.Sync(w.relPath()); err != nil {
		return err
	}
	w.pool.MarkClean(id)
	return nil
}

// walwriter writes inserted WAL to shared storage and syncs it.
type walwriter struct{ w *foundationWorld }

func (a *walwriter) Name() string                  { return "n1/walwriter" }
func (a *walwriter) Ready() bool                   { return !a.w.stopped && a.w.wal.Unwritten() > 0 }
func (a *walwriter) Receive(_ *sim.Ctx, m sim.Msg) { sim.Failf("walwriter: unexpected %v", m) }
func (a *walwriter) Step(c *sim.Ctx) {
	w := a.w
	if err := w.wal.Flush(w.wal.InsertLSN()); err != nil {
		c.Story("PANIC", sim.Str("err", err.Error()))
		w.stopped = true
		return
	}
	c.Log("wal-flush", sim.LSNField("flushed", uint64(w.wal.FlushedLSN())))
}

// bgwriter writes dirty buffers from the flush-list head once WAL covers
// them, and publishes the consistent LSN.
type bgwriter struct{ w *foundationWorld }

func (a *bgwriter) Name() string                  { return "n1/bgwriter" }
func (a *bgwriter) Receive(_ *sim.Ctx, m sim.Msg) { sim.Failf("bgwriter: unexpected %v", m) }
func (a *bgwriter) Ready() bool {
	w := a.w
	if w.stopped {
		return false
	}
	id, ok := w.pool.FlushHead()
	return ok && w.pool.Get(id).Page.LSN <= w.wal.FlushedLSN()
}

func (a *bgwriter) Step(c *sim.Ctx) {
	w := a.w
	id, _ := w.pool.FlushHead()
	b := w.pool.Get(id)
	tag, oldest := b.Tag, b.OldestLSN
	if err := w.writePage(w.n1, id); err != nil {
		// A fenced write is how the displaced writer learns it is displaced:
		// the process PANICs and the node stops writing.
		c.Story("PANIC", sim.Str("page", tag.String()), sim.Str("err", err.Error()))
		w.stopped = true
		return
	}
	before := w.pool.ConsistentLSN()
	after := w.pool.UpdateConsistentLSN(w.wal.InsertLSN())
	c.Log("write-page", sim.Str("page", tag.String()), sim.LSNField("oldest", uint64(oldest)))
	if after != before {
		c.Story("consistent-lsn", sim.LSNField("from", uint64(before)), sim.LSNField("to", uint64(after)),
			sim.Int("flush_list", int64(w.pool.FlushLen())))
	}
}

// replica is n2's backend: it holds a read-only mount and is asked to write.
type replica struct{ w *foundationWorld }

func (a *replica) Name() string    { return "n2/backend" }
func (a *replica) Ready() bool     { return false }
func (a *replica) Step(_ *sim.Ctx) {}
func (a *replica) Receive(c *sim.Ctx, m sim.Msg) {
	var img [storage.BlockSize]byte
	p := storage.Page{LSN: 1}
	p.Marshal(img[:])
	err := a.w.n2.WriteAt(a.w.relPath(), img[:], 0)
	if err == nil {
		sim.Failf("replica write through a read-only mount succeeded")
	}
	c.Story("write-refused", sim.Str("mount", a.w.n2.Mode().String()), sim.Str("err", err.Error()))
}

func runFoundation(o DemoOptions) error {
	s := sim.New(sim.Config{Seed: o.Seed, Trace: sim.TraceConfig{Out: o.Out, Level: o.Level, Format: o.Format}})
	cfg := logindex.DefaultConfig()
	dev, err := storage.NewDevice(storage.DeviceConfig{Blocks: 256, Fence: storage.FenceEpoch})
	if err != nil {
		return err
	}
	w := &foundationWorld{dev: dev, cfg: cfg}
	if w.n1, err = dev.Mount(1, storage.MountReadWrite); err != nil {
		return err
	}
	if err := w.n1.Create(w.relPath()); err != nil {
		return err
	}
	if w.wal, err = logindex.NewWAL(w.n1, cfg, logindex.FirstLSN, storage.InvalidLSN); err != nil {
		return err
	}
	if w.pool, err = storage.NewPool(3); err != nil {
		return err
	}
	narrate := func(verb string, f ...sim.Field) { s.Emit("narrator", sim.LevelStory, verb, f...) }

	be := &backend{w: w, site: s.Site("n1/backend/page")}
	beID := s.Add(be)
	s.Add(&walwriter{w: w})
	s.Add(&bgwriter{w: w})
	repID := s.Add(&replica{w: w})

	narrate("act-1", sim.Str("story", "the primary n1 runs three transactions; WAL reaches storage before the pages it covers"))
	for xid := logindex.XID(1); xid <= 3; xid++ {
		s.Post(beID, msgTxn{xid: xid})
		if r := s.RunUntil(func() bool { return be.xid == 0 && len(w.acked) == int(xid) }, 1000); r.Violation != nil || !r.Done {
			return fmt.Errorf("act 1, txn %d: %v", xid, r)
		}
	}
	if r := s.Run(1000); r.Violation != nil || !r.Quiescent {
		return fmt.Errorf("act 1 drain: %v", r)
	}
	narrate("act-1-done", sim.Int("acked", int64(len(w.acked))), sim.LSNField("insert", uint64(w.wal.InsertLSN())),
		sim.LSNField("flushed", uint64(w.wal.FlushedLSN())), sim.LSNField("consistent", uint64(w.pool.ConsistentLSN())),
		sim.Int("dirty", int64(w.pool.FlushLen())))

	narrate("act-2", sim.Str("story", "replica n2 mounts the shared device read-only and is asked to write a page"))
	if w.n2, err = dev.Mount(2, storage.MountReadOnly); err != nil {
		return err
	}
	s.Post(repID, msgTryWrite{})
	if r := s.Run(1000); r.Violation != nil || !r.Quiescent {
		return fmt.Errorf("act 2: %v", r)
	}

	narrate("act-3", sim.Str("story", "n2 remounts read-write by force (epoch fencing) while n1 still has a dirty page"))
	s.Post(beID, msgTxn{xid: 4})
	if r := s.RunUntil(func() bool { return w.pool.FlushLen() > 0 && w.wal.Unwritten() == 0 }, 1000); r.Violation != nil || !r.Done {
		return fmt.Errorf("act 3 setup: %v", r)
	}
	if err := w.n2.RemountRW(); err != nil {
		return err
	}
	host, epoch, _ := dev.Writer()
	narrate("remount-rw", sim.Str("writer", host.String()), sim.Uint("epoch", uint64(epoch)),
		sim.Uint("n1_epoch", uint64(w.n1.Epoch())))
	if r := s.Run(1000); r.Violation != nil {
		return fmt.Errorf("act 3: %v", r)
	}
	if !w.stopped {
		return errors.New("act 3: the stale writer n1 was not fenced")
	}
	narrate("end", sim.Int("stale_writes", int64(dev.StaleCount())), sim.Int("acked", int64(len(w.acked))),
		sim.Uint("steps", s.StepNo()), sim.Str("trace_hash", fmt.Sprintf("%016x", s.Trace().Hash())))
	return nil
}
