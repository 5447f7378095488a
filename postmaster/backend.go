package postmaster

import (
	"errors"
	"fmt"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// bState is a backend's state. The zero value is invalid.
type bState uint8

const (
	bIdle bState = iota + 1
	bWrite
	bCommitInsert
	bCommitFlush
	bRead
	// bPromoteReplay: the backend published its replay start and replays the
	// page it needs from old WAL in its next step (ONLINE_PROMOTE).
	bPromoteReplay
	// bReadIO: a replica read pinned its page's buffer, issued the read and
	// published the LSN it may replay from; its next step (once the I/O
	// completed) replays the page's LogIndex records and serves it.
	bReadIO
	// bPrepareFlush, bFinishInsert, bFinishFlush: two-phase commit
	// (postmaster/twophase.go).
	bPrepareFlush
	bFinishInsert
	bFinishFlush
)

func (s bState) String() string {
	switch s {
	case bIdle:
		return "idle"
	case bWrite:
		return "write"
	case bCommitInsert:
		return "commit-insert"
	case bCommitFlush:
		return "commit-flush"
	case bRead:
		return "read"
	case bPromoteReplay:
		return "promote-replay"
	case bReadIO:
		return "read-io"
	case bPrepareFlush:
		return "prepare-flush"
	case bFinishInsert:
		return "finish-insert"
	case bFinishFlush:
		return "finish-flush"
	}
	return fmt.Sprintf("bState(%d)", uint8(s))
}

// maxQueued bounds requests waiting for a busy session.
const maxQueued = 4

// backend is one client session (a PostgreSQL backend process). It runs one
// request at a time; every page change is one step (insert the record with
// the oldest LSN taken first, apply it, mark the buffer dirty), a commit is
// acknowledged only after its record is durable, and during ONLINE_PROMOTE it
// replays a page's old WAL itself before touching it.
type backend struct {
	n      *shmem.Node
	j      *Journal
	idx    int
	state  bState
	queue  []sim.Msg
	txn    Txn
	fin    FinishPrepared // the COMMIT/ROLLBACK PREPARED under way
	xid    logindex.XID
	next   int // next write of txn
	commit storage.LSN
	read   int
	began  uint64
	resume bState // state to return to after a promote replay
	replay storage.PageID
	rstart storage.LSN
	// rpub is the LSN a promote replay published (POLAR_SET_BACKEND_READ_MIN_LSN):
	// rstart, or under Fidelity.PromoteReplayFromConsistent bg_replayed_lsn,
	// published before the Max with the consistent LSN.
	rpub    storage.LSN
	written []Write
	// A replica read between its two steps (bReadIO): the pinned buffer,
	// the LSN it published, whether it issued a storage read (rio) and
	// whether that is still under way, and a SIGTERM that arrived
	// meanwhile (held: interrupts are held while a page is read in and
	// replayed, and the die is processed after).
	rbuf   storage.BufferID
	rmin   storage.LSN
	rio    bool
	ioWait bool
	dying  bool
}

func newBackend(n *shmem.Node, j *Journal, idx int) *backend {
	return &backend{n: n, j: j, idx: idx, state: bIdle}
}

// Began is the step the backend's current (or last) request began at:
// the exhaustive check's fingerprint ranks it among the world's step
// stamps (scenarios/explore/stamps.go).
func (b *backend) Began() uint64 { return b.began }

func (b *backend) Name() string { return b.n.Proc(fmt.Sprintf("backend%d", b.idx)) }

// WakeOn implements sim.Sleeper: Ready reads only the backend's own
// state (its queue, its read's I/O wait), which only its own steps change;
// its steps write the node's shared memory.
func (b *backend) WakeOn(w *sim.Wakes) { w.Writes(b.n.Name()) }

func (b *backend) Ready() bool {
	switch b.state {
	case bIdle:
		return len(b.queue) > 0
	case bReadIO:
		return !b.ioWait
	}
	return true
}

func (b *backend) Receive(c *sim.Ctx, m sim.Msg) {
	switch m := m.(type) {
	case shmem.Signal:
		if (m == shmem.SIGTERM || m == shmem.SIGINT) && (b.state == bReadIO || b.state == bCommitFlush ||
			b.state == bPrepareFlush || b.state == bFinishFlush) {
			// The read holds interrupts until its page is replayed
			// (HOLD_INTERRUPTS in polar_logindex_lock_apply_page_from),
			// and a commit from its WAL record to its clog update is a
			// critical section (RecordTransactionCommit): the die is
			// processed when it is done.
			b.dying = true
			if b.state == bReadIO && b.n.InRecovery {
				// A replica read that published the LSN it replays from
				// outlives the SIGTERM: whether promote waits for it is
				// V11's no-wait finding (docs/findings.md V11-1).
				c.Mark("postmaster/die-during-replica-read")
			}
			c.Log("die-pending", sim.Str("sig", m.String()), sim.Str("state", b.state.String()))
			return
		}
		if m == shmem.SIGTERM || m == shmem.SIGQUIT || m == shmem.SIGINT {
			b.exit(c, shmem.ExitKilled, "terminating connection due to administrator command")
			return
		}
	case shmem.Wake:
		b.ioWait = false
	case Txn, Read, FinishPrepared:
		if len(b.queue) >= maxQueued {
			b.fail(c, m.String(), errors.New("session busy"))
			return
		}
		b.queue = append(b.queue, m)
	default:
		sim.Failf("backend: unexpected %v", m)
	}
}

func (b *backend) fail(c *sim.Ctx, what string, err error) {
	b.j.Errors = append(b.j.Errors, ClientError{Node: b.n.Cfg.Host, What: what, Err: err.Error(), Step: c.StepNo()})
	c.Log("ERROR", sim.Str("what", what), sim.Str("err", err.Error()))
}

func (b *backend) exit(c *sim.Ctx, kind shmem.ExitKind, why string) {
	if b.state == bPromoteReplay {
		b.n.BGW.EndBackendReplay(b.rpub)
	}
	// An exit in bCommitFlush (a PANIC on the WAL flush, or SIGQUIT) leaves
	// DelayChkpt set: the commit record may already be in WAL buffers (and
	// the next flush writes it) while the clog never learns of it.
	// errfinish's abort() for PANIC and quickdie's _exit() skip ProcKill, so
	// PGPROC's delayChkptFlags stays set and CreateCheckPoint keeps waiting
	// in HaveVirtualXIDsDelayingChkpt until the postmaster's crash handling
	// kills the checkpointer; a checkpoint in between would put its redo past
	// a commit record its clog lacks. The next start builds fresh shared
	// memory (shmem.NewNode), which clears it.
	if b.state == bReadIO {
		b.endReplicaRead() // the exiting process releases its pin
	}
	if b.state == bFinishInsert {
		// AtProcExit_Twophase: the entry this backend locked is unlocked.
		if g, ok := b.n.TwoPhase.ByXID(b.xid); ok {
			g.Locked = false
		}
	}
	if kind == shmem.ExitPANIC || kind == shmem.ExitFATAL {
		c.Story(kind.String(), sim.Str("err", why))
	} else {
		c.Log("exit", sim.Str("why", why))
	}
	b.n.Exit(c, shmem.ChildExit{Name: b.Name(), Kind: kind, Err: why})
}

func (b *backend) Step(c *sim.Ctx) {
	switch b.state {
	case bIdle:
		b.startNext(c)
	case bWrite:
		b.writeStep(c)
	case bCommitInsert:
		b.commitInsert(c)
	case bCommitFlush:
		b.commitFlush(c)
	case bRead:
		b.readStep(c)
	case bPromoteReplay:
		b.promoteReplay(c)
	case bReadIO:
		b.finishReplicaRead(c)
	case bPrepareFlush:
		b.prepareFlush(c)
	case bFinishInsert:
		b.finishInsert(c)
	case bFinishFlush:
		b.finishFlush(c)
	default:
		sim.Failf("backend: step in state %v", b.state)
	}
}

func (b *backend) startNext(c *sim.Ctx) {
	n := b.n
	m := b.queue[0]
	b.queue = b.queue[1:]
	b.began = c.StepNo()
	if !n.Accepting {
		b.fail(c, m.String(), errors.New("the database system is not accepting connections"))
		return
	}
	switch m := m.(type) {
	case Txn:
		if !n.ReadWrite || n.InRecovery || n.WAL == nil {
			b.fail(c, m.String(), errReadOnly)
			return
		}
		b.txn, b.next, b.commit, b.written = m, 0, 0, nil
		b.xid = n.NextXID
		n.NextXID++
		b.state = bWrite
		c.Log("begin", sim.Uint("xid", uint64(b.xid)), sim.Int("writes", int64(len(m.Writes))))
		if len(m.Writes) == 0 {
			b.state = bCommitInsert
		}
	case Read:
		b.read = m.Page
		b.state = bRead
	case FinishPrepared:
		b.startFinish(c, m)
	}
}

// needsPromoteReplay reports whether touching page during ONLINE_PROMOTE
// needs this backend to replay old WAL first, and from where.
func (b *backend) needsPromoteReplay(page storage.PageID) (storage.LSN, bool, error) {
	n := b.n
	if n.BGW.State() != shmem.BGOnlinePromote {
		return 0, false, nil
	}
	_, pooled := n.Pool.Lookup(page)
	_, start := promoteReplayFrom(n, pooled)
	var lsns []storage.LSN
	var err error
	for {
		// Below the LogIndex truncation point every change is on storage:
		// the page history starts there (as ReplayPage clamps; PolarDB's
		// page iterator begins at the oldest table still kept). A start
		// below it comes from V11's min(old consistent LSN, replay point),
		// where the replica learned the consistent LSN before the old
		// primary's last truncation.
		if t := n.Index.TruncatedBelow(); start < t {
			start = t
		}
		if start >= n.BGW.PromoteEnd {
			return 0, false, nil
		}
		lsns, err = n.Index.History(nil, page, start-1, n.BGW.PromoteEnd-1)
		if errors.Is(err, logindex.ErrTruncated) && start < n.Index.TruncatedBelow() {
			continue // the point only grows, so this ends
		}
		break
	}
	if err != nil || len(lsns) == 0 {
		return 0, false, err
	}
	// A pooled copy past the last old record already has them all (pages
	// are replayed in LSN order, and a page's LSN is the end of the last
	// record applied to it).
	if id, ok := n.Pool.Lookup(page); ok && n.Pool.Get(id).Page.LSN > lsns[len(lsns)-1] {
		return 0, false, nil
	}
	return start, true, nil
}

// promoteReplayFrom is where a backend replays a page from during
// ONLINE_PROMOTE (polar_logindex_require_backend_redo,
// polar_logindex_redo.c): replay_from = bg_replayed_lsn, published as the
// backend's read min LSN, then Max(consistent LSN, replay_from) where the old
// primary's consistent LSN is valid. That Max applies only to a page read
// from storage: a pooled, outdated buffer replays from bg_replayed_lsn
// (polar_logindex_lock_apply_buffer). The fixed model replays from
// max(PromoteStart, bg_replayed_lsn) and ignores the consistent LSN.
func promoteReplayFrom(n *shmem.Node, pooled bool) (published, start storage.LSN) {
	start = n.BGW.PromoteStart
	if rp := n.BGW.ReplayPoint(); rp > start {
		start = rp
	}
	if !n.Cfg.Fidelity.PromoteReplayFromConsistent || pooled {
		return start, start
	}
	published = start
	if pc := n.PrimaryConsistent; pc.Valid() && pc > start {
		start = pc
	}
	return published, start
}

// beginPromoteReplay publishes the start and counts this backend as
// replaying, so the BGW can neither finish nor raise the fake oldest LSN past
// it (polar_logindex_lock_apply_page_from during online promote).
func (b *backend) beginPromoteReplay(c *sim.Ctx, page storage.PageID, start storage.LSN) {
	n := b.n
	pub, _ := promoteReplayFrom(n, false)
	if !n.Cfg.Fidelity.PromoteReplayFromConsistent {
		pub = start
	}
	n.BGW.BeginBackendReplay(pub)
	b.resume, b.replay, b.rstart, b.rpub = b.state, page, start, pub
	b.state = bPromoteReplay
	c.Log("replay-begin", sim.Str("page", page.String()), sim.LSNField("from", uint64(start)), sim.LSNField("to", uint64(n.BGW.PromoteEnd)))
}

func (b *backend) promoteReplay(c *sim.Ctx) {
	n := b.n
	if n.BufferBusy(b.replay) {
		c.Detail("buffer-io-wait", sim.Str("page", b.replay.String()))
		return
	}
	id, _, err := n.Buffer(c, b.replay)
	if errors.Is(err, shmem.ErrBuffersBusy) {
		c.Detail("buffers-busy")
		return
	}
	if err != nil {
		b.exit(c, shmem.ExitFATAL, err.Error())
		return
	}
	applied, err := n.ReplayPage(id, b.rstart, n.BGW.PromoteEnd)
	if err != nil {
		b.exit(c, shmem.ExitPANIC, err.Error())
		return
	}
	if applied > 0 && !n.Pool.Get(id).Dirty {
		if err := n.Pool.MarkDirty(id, n.OldestLSN()); err != nil {
			b.finishPromoteReplay()
			b.exit(c, shmem.ExitPANIC, err.Error())
			return
		}
	}
	c.Mark("postmaster/backend-replay-during-online-promote")
	c.Log("replay-page", sim.Str("page", b.replay.String()), sim.Int("applied", int64(applied)),
		sim.LSNField("page_lsn", uint64(n.Pool.Get(id).Page.LSN)))
	b.finishPromoteReplay()
	b.state = b.resume
}

func (b *backend) finishPromoteReplay() { b.n.BGW.EndBackendReplay(b.rpub) }

// writeBuffer is a write's first phase: wait for a page being read in,
// replay it first during ONLINE_PROMOTE if need be, pin a buffer for it and
// wait while LogIndex cannot take the record. ok is false when the step
// ends here (a wait, a promote replay begun, or an exit).
func (b *backend) writeBuffer(c *sim.Ctx, page storage.PageID, zero bool) (storage.BufferID, bool) {
	n := b.n
	if n.BufferBusy(page) {
		// A session promote did not wait for still reads this page in.
		c.Detail("buffer-io-wait", sim.Str("page", page.String()))
		return 0, false
	}
	if zero {
		return b.zeroBuffer(c, page)
	}
	if start, need, err := b.needsPromoteReplay(page); err != nil {
		b.exit(c, shmem.ExitPANIC, err.Error())
		return 0, false
	} else if need {
		if n.BGW.ReplayPoint() < n.BGW.PromoteEnd {
			c.Mark("postmaster/new-write-before-bgw-replayed-page")
		}
		b.beginPromoteReplay(c, page, start)
		return 0, false
	}
	id, _, err := n.Buffer(c, page)
	return b.readyToChange(c, id, err)
}

// readyToChange finishes a write's lookup of the page it changes (Buffer,
// or ZeroBuffer for an init): a busy pool waits for the next step, any
// other error PANICs, and with every LogIndex memtable full and none
// savable the backend waits for the bgwriter before inserting WAL that
// must be indexed. ok: the buffer is there and the change may go ahead.
func (b *backend) readyToChange(c *sim.Ctx, id storage.BufferID, err error) (storage.BufferID, bool) {
	n := b.n
	if errors.Is(err, shmem.ErrBuffersBusy) {
		c.Detail("buffers-busy")
		return 0, false
	}
	if err != nil {
		b.exit(c, shmem.ExitPANIC, err.Error())
		return 0, false
	}
	if n.Index.Enabled() && !n.Index.HasRoom(1) && n.SaveStalled {
		c.Mark("postmaster/logindex-full-wait")
		c.Detail("logindex-full-wait")
		return 0, false
	}
	return id, true
}

// readBuffer is a read's lookup of page (ReadBuffer): a busy pool waits
// for the next step, an error fails the client's read. ok: the buffer is
// there; loaded: it was read from storage.
func (b *backend) readBuffer(c *sim.Ctx, page storage.PageID) (id storage.BufferID, loaded, ok bool) {
	id, loaded, err := b.n.Buffer(c, page)
	if errors.Is(err, shmem.ErrBuffersBusy) {
		c.Detail("buffers-busy")
		return 0, false, false
	}
	if err != nil {
		b.fail(c, "read", err)
		b.state = bIdle
		return 0, false, false
	}
	return id, loaded, true
}

// writeStep takes one write of the transaction: the buffer (writeBuffer),
// the WAL record, the change in the page and the flush list, LogIndex.
func (b *backend) writeStep(c *sim.Ctx) {
	n := b.n
	w := b.txn.Writes[b.next]
	if w.Value == 0 {
		// A client that names no value writes one that identifies this
		// transaction, so readers can check the writer's commit status.
		w.Value = MakeValue(b.xid, uint32(b.next+1))
	}
	page := n.Page(w.Page)
	id, ok := b.writeBuffer(c, page, w.Init)
	if !ok {
		return
	}
	oldest := n.OldestLSN() // before the record: oldest <= record
	rec := writeRecord(b.xid, page, w)
	if err := n.WAL.Insert(&rec); err != nil {
		if errors.Is(err, logindex.ErrWALBuffersFull) {
			c.Detail("wal-buffers-full")
			if err := n.WAL.Flush(n.WAL.InsertLSN()); err != nil {
				b.exit(c, shmem.ExitPANIC, err.Error())
			}
			return
		}
		b.exit(c, shmem.ExitPANIC, err.Error())
		return
	}
	// The page is changed and in the flush list before anything else can
	// fail: heap_insert modifies the page and calls MarkBufferDirty (which
	// in PolarDB puts it on the flush list with its oldest LSN,
	// polar_put_buffer_to_flush_list) inside the critical section before
	// XLogInsert. Indexing it may PANIC (a LogIndex save flushes WAL); until
	// the postmaster reaps that, the bgwriter must still see this page
	// dirty, or it would publish a consistent LSN past a record whose change
	// is in no buffer and not on storage.
	rec.Apply(page, n.Pool.Modify(id))
	buf := n.Pool.Get(id)
	if !buf.Dirty {
		if err := n.Pool.MarkDirty(id, oldest); err != nil {
			b.exit(c, shmem.ExitPANIC, err.Error())
			return
		}
	}
	if err := b.index(&rec); err != nil {
		b.exit(c, shmem.ExitPANIC, err.Error())
		return
	}
	if n.BGW.State() == shmem.BGOnlinePromote {
		c.Mark("postmaster/write-during-online-promote")
	}
	if !w.Free {
		b.written = append(b.written, w)
	}
	b.next++
	c.Log("insert", sim.Str("page", page.String()), sim.LSNField("lsn", uint64(rec.Start)),
		sim.LSNField("oldest", uint64(buf.OldestLSN)), sim.Uint("xid", uint64(b.xid)))
	if b.next == len(b.txn.Writes) {
		b.state = bCommitInsert
	}
}

// index adds a page record to the primary's LogIndex (the primary builds it
// as it inserts WAL; full memtables are saved once their WAL is durable).
func (b *backend) index(rec *logindex.Record) error {
	n := b.n
	if !n.Index.Enabled() {
		return nil
	}
	m := rec.Meta()
	err := n.Index.AddMeta(&m)
	if !errors.Is(err, logindex.ErrMemtablesFull) {
		return err
	}
	if n.SaveStalled {
		return fmt.Errorf("LogIndex memtables full and saving stalled: %w", err)
	}
	if err := n.WAL.Flush(n.WAL.InsertLSN()); err != nil {
		return err
	}
	if _, err := n.Index.Save(n.WAL.FlushedLSN()); err != nil {
		return err
	}
	return n.Index.AddMeta(&m)
}

func (b *backend) commitInsert(c *sim.Ctx) {
	n := b.n
	if b.txn.GID != "" {
		b.prepareInsert(c)
		return
	}
	typ := logindex.RecCommit
	if b.txn.Abort {
		typ = logindex.RecAbort
	}
	rec := logindex.Record{Type: typ, XID: b.xid}
	if err := n.WAL.Insert(&rec); err != nil {
		if errors.Is(err, logindex.ErrWALBuffersFull) {
			if err := n.WAL.Flush(n.WAL.InsertLSN()); err != nil {
				b.exit(c, shmem.ExitPANIC, err.Error())
			}
			return
		}
		b.exit(c, shmem.ExitPANIC, err.Error())
		return
	}
	if b.txn.Abort {
		n.Clog.Set(b.xid, shmem.XactAborted)
		c.Log("abort", sim.Uint("xid", uint64(b.xid)), sim.LSNField("lsn", uint64(rec.Start)))
		b.state = bIdle
		return
	}
	b.commit = rec.End
	// The commit record is in WAL but the clog does not say so yet: a
	// checkpoint now would put its redo past the record and write a clog
	// without it, and crash recovery would never replay it (xact.c
	// RecordTransactionCommit sets DELAY_CHKPT_START for this window).
	n.DelayChkpt++
	b.state = bCommitFlush
	c.Log("commit-insert", sim.Uint("xid", uint64(b.xid)), sim.LSNField("end", uint64(rec.End)))
}

// commitFlush is XLogFlush up to the commit record, then the clog update and
// the acknowledgement (synchronous commit).
func (b *backend) commitFlush(c *sim.Ctx) {
	n := b.n
	if n.WAL.FlushedLSN() < b.commit {
		if err := n.WAL.Flush(b.commit); err != nil {
			b.exit(c, shmem.ExitPANIC, err.Error())
			return
		}
	}
	n.Clog.Set(b.xid, shmem.XactCommitted)
	n.DelayChkpt--
	b.j.Acks = append(b.j.Acks, Ack{XID: b.xid, Node: n.Cfg.Host, CommitEnd: b.commit, Step: c.StepNo(), Writes: b.written})
	c.Story("commit", sim.Uint("xid", uint64(b.xid)), sim.LSNField("end", uint64(b.commit)),
		sim.LSNField("flushed", uint64(n.WAL.FlushedLSN())))
	b.state = bIdle
	if b.dying {
		b.exit(c, shmem.ExitKilled, "terminating connection due to administrator command")
	}
}

func (b *backend) readStep(c *sim.Ctx) {
	n := b.n
	page := n.Page(b.read)
	if b.read < 0 || b.read >= n.Cfg.Pages {
		b.fail(c, "read", fmt.Errorf("page %d out of range", b.read))
		b.state = bIdle
		return
	}
	if n.BufferBusy(page) {
		c.Detail("buffer-io-wait", sim.Str("page", page.String()))
		return
	}
	if n.InRecovery && n.Index.Enabled() {
		// A replica read that has I/O or replay to do takes two steps; a
		// pooled page LogIndex has nothing newer for (not outdated) is a
		// plain buffer hit, served below in this one.
		if id, ok := n.Pool.Lookup(page); !ok || n.Pool.Get(id).Outdated {
			b.beginReplicaRead(c, page)
			return
		}
	}
	if n.Primary && !n.InRecovery {
		if start, need, err := b.needsPromoteReplay(page); err != nil {
			b.exit(c, shmem.ExitPANIC, err.Error())
			return
		} else if need {
			b.beginPromoteReplay(c, page, start)
			return
		}
	}
	id, _, ok := b.readBuffer(c, page)
	if !ok {
		return
	}
	buf := n.Pool.Get(id)
	at := n.ReplayLSN
	if n.InRecovery {
		// A replica page: storage plus every LogIndex record of the page up
		// to the replay position.
		if n.Index.Enabled() {
			if _, err := n.ReplayPage(id, buf.Page.LSN, n.ReplayLSN); err != nil {
				b.dropPartialBuffer(c, id) // as abortReplicaRead
				b.fail(c, "read", err)
				b.state = bIdle
				return
			}
		}
		buf.Outdated = false
	} else if n.WAL != nil {
		at = n.WAL.InsertLSN()
	}
	r := ReadResult{Node: n.Cfg.Host, Page: page, Content: buf.Page, At: at, Primary: n.Primary && !n.InRecovery,
		Began: b.began, Step: c.StepNo()}
	for i, v := range buf.Page.Slots {
		r.Visible[i] = v != 0 && n.Clog.Get(ValueXID(v)) == shmem.XactCommitted
	}
	b.j.Reads = append(b.j.Reads, r)
	c.Log("read", sim.Str("page", page.String()), sim.LSNField("page_lsn", uint64(buf.Page.LSN)), sim.LSNField("at", uint64(at)))
	b.state = bIdle
}

// beginReplicaRead is the first half of a replica read (ReadBuffer_common
// with polar_logindex_require_backend_redo): pin the page's buffer, reading
// it from storage if it is not pooled (the I/O completes after the device's
// latency: the buffer stays BM_IO_IN_PROGRESS until then), and publish the
// LSN this read may replay from (POLAR_SET_BACKEND_READ_MIN_LSN): a replica
// publishes its restartpoint's redo (GetRedoRecPtr), a standby in parallel
// replay and a pooled page being replayed again the BGW replay point
// (polar_logindex_lock_apply_buffer). The BGW caps its fake oldest LSN at
// that minimum while the read is under way. finishReplicaRead is the rest.
func (b *backend) beginReplicaRead(c *sim.Ctx, page storage.PageID) {
	n := b.n
	id, loaded, ok := b.readBuffer(c, page)
	if !ok {
		return
	}
	n.Pool.Pin(id)
	from := n.Local.Redo
	if rp := n.BGW.ReplayPoint(); rp.Valid() && (!loaded || n.BGW.State() == shmem.BGParallelReplaying) {
		from = rp
	}
	n.BGW.BeginBackendReplay(from)
	b.rbuf, b.rmin, b.rio, b.state = id, from, loaded, bReadIO
	lat := n.Dev.Latency(n.Cfg.Host)
	if loaded && lat > 0 {
		// Slow storage: the read completes lat ticks later.
		b.ioWait = true
		c.Wake(shmem.Wake{Why: "read-io"}, sim.Time(lat))
	}
	c.Log("read-begin", sim.Str("page", page.String()), sim.Bool("loaded", loaded), sim.LSNField("min", uint64(from)),
		sim.Int("latency", lat))
}

// finishReplicaRead is the second half (polar_logindex_io_lock_apply):
// replay every LogIndex record of the page up to the replay position now
// (the page may have been marked outdated meanwhile), serve it, withdraw the
// published LSN and unpin. A read that finishes after the BGW reset, on a
// node promote did not wait for, replays old WAL on what is now a primary in
// ONLINE_PROMOTE: polar_promote_mark_buf_dirty dirties the page (with the
// fake oldest LSN) when the replay changed it.
func (b *backend) finishReplicaRead(c *sim.Ctx) {
	n := b.n
	id := b.rbuf
	buf := n.Pool.Get(id)
	page := buf.Tag
	if b.rio {
		// The storage read completes now, and returns what storage holds
		// now (smgrread's pread): the primary may have written the page
		// since the read was issued, and checkpointed and truncated
		// LogIndex below the records a copy taken at the issue would
		// lack. The flush gate keeps this copy from being a future page.
		sim.Assertf(!buf.Dirty, "backend: replica buffer %v dirty during its read", page)
		p, err := n.ReadStoragePage(page)
		if err != nil {
			b.abortReplicaRead(c, err)
			return
		}
		*n.Pool.Modify(id) = p
		if at := n.ReplayLSN; !n.Primary && p.LSN > at {
			b.futurePage(c, page, p.LSN, at)
			return
		}
	}
	at := n.ReplayLSN
	applied := 0
	if n.Index.Enabled() {
		var err error
		if applied, err = n.ReplayPage(id, buf.Page.LSN, at); err != nil {
			b.abortReplicaRead(c, err)
			return
		}
	}
	if applied > 0 && !buf.Dirty && n.BGW.State() == shmem.BGOnlinePromote {
		if err := n.Pool.MarkDirty(id, n.OldestLSN()); err != nil {
			b.exit(c, shmem.ExitPANIC, err.Error())
			return
		}
	}
	buf.Outdated = false
	r := ReadResult{Node: n.Cfg.Host, Page: page, Content: buf.Page, At: at, Began: b.began, Step: c.StepNo()}
	for i, v := range buf.Page.Slots {
		r.Visible[i] = v != 0 && n.Clog.Get(ValueXID(v)) == shmem.XactCommitted
	}
	b.j.Reads = append(b.j.Reads, r)
	c.Log("read", sim.Str("page", page.String()), sim.LSNField("page_lsn", uint64(buf.Page.LSN)), sim.LSNField("at", uint64(at)),
		sim.Int("applied", int64(applied)))
	b.endReplicaRead()
	b.state = bIdle
	b.dieIfPending(c)
}

// ErrFuturePage is a replica read that found on storage a page newer than
// its replay position: the primary wrote it past the replica's slot (a
// shutdown checkpoint that skipped the slot of a disconnected replica, or a
// primary that does not know the slot at all). No replay can take a page
// back, so the backend FATALs rather than serve it (polar_is_future_page:
// with no full-page snapshot to restore an older image, PolarDB's
// elog(FATAL, "Read a future page, ..."); with one, it retries and FATALs
// with "Read a future page due to timeout").
var ErrFuturePage = errors.New("postmaster: read a future page")

// futurePage ends a replica read whose storage image is from the replica's
// future: the client gets the FATAL's error, the buffer is dropped (the I/O
// never completed: AbortBufferIO leaves it invalid, so no later read gets a
// buffer hit on the future image) and the backend exits FATAL.
func (b *backend) futurePage(c *sim.Ctx, page storage.PageID, lsn, replayed storage.LSN) {
	n := b.n
	err := fmt.Errorf("%w: page %v lsn %v, replayed_lsn %v", ErrFuturePage, page, lsn, replayed)
	c.Mark("postmaster/future-page")
	b.j.FuturePages = append(b.j.FuturePages, FuturePage{Node: n.Cfg.Host, Page: page, LSN: lsn, Replayed: replayed, Step: c.StepNo()})
	b.fail(c, "read", err)
	id := b.rbuf
	b.endReplicaRead()
	if n.Pool.Pins(id) == 0 {
		n.Pool.Evict(id)
	}
	b.state = bIdle
	b.exit(c, shmem.ExitFATAL, err.Error())
}

// abortReplicaRead ends a replica read that failed between issuing its I/O
// and serving the page: the storage read failed, or reading the WAL of a
// record to replay did (PolarDB's polar_logindex_read_xlog retries that
// forever; the model reports it to the client instead). The buffer may hold
// the image taken when the read was issued, or storage plus only the records
// below the one that failed: a page version missing changes below the
// replay position. In ReadBuffer_common the replay runs with the buffer's
// I/O in progress (polar_logindex_io_lock_apply before TerminateBufferIO),
// so the ERROR's AbortBufferIO leaves it !BM_VALID, and the BGW skips
// invalid buffers (polar_bg_redo_apply_one_record_on_page: "invalid buffer
// will be read from disk next access try, or evicted"). Leaving it valid
// would let the BGW apply later records on top of the gap (page LSN past the
// missing change, so no replay ever fills it), so dropPartialBuffer drops
// the frame: the next read rebuilds the page from storage and LogIndex.
func (b *backend) abortReplicaRead(c *sim.Ctx, err error) {
	id := b.rbuf
	b.endReplicaRead()
	b.dropPartialBuffer(c, id)
	b.fail(c, "read", err)
	b.state = bIdle
	b.dieIfPending(c)
}

// dropPartialBuffer disposes of a buffer a failed replay left short of its
// replay position. Only the failing reader can hold it (every other user
// waits for a pinned buffer, BufferBusy). A clean one is evicted: storage
// and LogIndex rebuild it. A dirty one (a standby's page its parallel replay
// dirtied: changes its storage lacks) is kept and marked outdated: replay
// applies a page's records in LSN order, so it holds a prefix of the page's
// history, the next access replays the rest from its page LSN, and the
// replay workers replay a page from their start, never one record alone.
func (b *backend) dropPartialBuffer(c *sim.Ctx, id storage.BufferID) {
	n := b.n
	buf := n.Pool.Get(id)
	sim.Assertf(n.Pool.Pins(id) == 0, "backend: failed replica read of %v left it pinned", buf.Tag)
	c.Detail("drop-buffer", sim.Str("page", buf.Tag.String()), sim.LSNField("page_lsn", uint64(buf.Page.LSN)),
		sim.Bool("dirty", buf.Dirty))
	if buf.Dirty {
		buf.Outdated = true
		return
	}
	n.Pool.Evict(id)
}

// endReplicaRead withdraws the read's published LSN
// (POLAR_RESET_BACKEND_READ_MIN_LSN) and unpins its buffer.
func (b *backend) endReplicaRead() {
	b.n.BGW.EndBackendReplay(b.rmin)
	b.n.Pool.Unpin(b.rbuf)
	b.ioWait = false
}

// dieIfPending processes a SIGTERM held during the read.
func (b *backend) dieIfPending(c *sim.Ctx) {
	if b.dying {
		b.exit(c, shmem.ExitKilled, "terminating connection due to administrator command")
	}
}
