package shmem

import (
	"errors"
	"fmt"
	"io"

	"promotesim/logindex"
	"promotesim/sim"
	"promotesim/storage"
)

// NoProc marks a process slot with no process in it.
const NoProc sim.ActorID = -2

// Procs are the process ids of a node's running processes (what postmaster
// knows about its children). NoProc where a process is not running.
type Procs struct {
	Postmaster   sim.ActorID
	Startup      sim.ActorID
	BGW          sim.ActorID
	Workers      []sim.ActorID // parallel replay workers
	BGWriter     sim.ActorID
	Checkpointer sim.ActorID
	WALWriter    sim.ActorID
	WALReceiver  sim.ActorID
	PolarWorker  sim.ActorID
	WALSenders   []sim.ActorID
	Backends     []sim.ActorID
}

// NoProcs returns a Procs with every slot empty.
func NoProcs() Procs {
	return Procs{Postmaster: NoProc, Startup: NoProc, BGW: NoProc, BGWriter: NoProc, Checkpointer: NoProc,
		WALWriter: NoProc, WALReceiver: NoProc, PolarWorker: NoProc}
}

// ErrFlushGate reports a page that may not be written yet: a replica has not
// applied up to its LSN, so writing it would show that replica a future page.
var ErrFlushGate = errors.New("shmem: page beyond the replicas' applied LSN (flush gate)")

// ErrBuffersBusy reports that no buffer could be freed now (every frame
// pinned, or the victim may not be written yet); the caller waits.
var ErrBuffersBusy = errors.New("shmem: no buffer can be freed now")

// Node is one node's shared memory and local directory: everything its
// processes share. Processes of one node touch it directly inside their
// atomic steps; processes of different nodes meet only through the device and
// the replication stream. Each field says which process writes it ("boot":
// set up when the node starts, postmaster.Operator's Boot or BootStandby;
// "operator": the procedures of postmaster/ops.go and the scenario between
// steps); every process reads what it needs. A crash reinitialisation
// (Reinit, the postmaster's) rebuilds shared memory in place and keeps what
// lives outside it (Reinit lists what). No field is a record kept for
// checkers: what they need of a step, the processes report (report.go).
type Node struct {
	Cfg Config          // boot
	Dev *storage.Device // boot: the shared device (a standby's: its own)
	// Mount is this host's mount of the shared device (nil when down):
	// boot (Attach); the postmaster remounts it read-write on promote.
	Mount *storage.Mount
	// Pool is shared_buffers: backends, startup and the BGW load and
	// dirty pages, the bgwriter and checkpointer write them back, and the
	// consistent LSN is published by whoever flushes (UpdateConsistentLSN).
	Pool *storage.Pool
	// Reader reads WAL records from storage (startup, walsenders, a
	// backend finishing a prepared transaction, logical decoding,
	// ReplayPage): boot (Attach).
	Reader *logindex.Reader
	// WAL is the WAL writer: the primary's, or the promoted node's from the
	// end of the old primary's WAL. Nil on a replica. Startup creates it
	// (end of recovery, promote, a standby's start); backends insert, the
	// walwriter flushes. A standby's walreceiver creates its own over the
	// standby's disk (postmaster/standby.go, walwrite.go).
	WAL *logindex.WAL
	// Index is LogIndex: startup (a replica indexes what it replays) and
	// backends (a primary indexes what it inserts) add to it; the
	// bgwriter and the checkpointer save tables, the checkpointer
	// truncates; the BGW reads it.
	Index *logindex.Index
	// Queue is the WAL meta queue: the walreceiver fills it; startup and
	// the polar worker read it through their own references, startup
	// resets it at promote.
	Queue *logindex.Queue
	// BGW is the LogIndex background worker's state: the BGW moves it,
	// startup resets it at promote.
	BGW BGW
	// Clog is the primary's clog buffers or the replica's local clog cache:
	// backends (commit, abort) and startup (replay); the checkpointer
	// writes it to pg_xact.
	Clog Clog
	// TwoPhase is TwoPhaseState, the prepared transactions: backends
	// (PREPARE, COMMIT/ROLLBACK PREPARED), startup (redo, recovery), the
	// checkpointer (state files). shmem/twophase.go.
	TwoPhase TwoPhase
	// Control is the node's view of the shared control file; Local is the
	// local directory's pg_control (it survives crashes). Startup (end of
	// recovery, restartpoints) and the checkpointer write both; the
	// operator's initdb and rebuild initialise Local.
	Control Control
	Local   Control
	// Slots are replication slots (primary: loaded from storage): startup
	// loads them (recovery, promote) and raises replica slots' apply LSN
	// at promote; the postmaster creates a replica's slot and marks it
	// active when its walsender starts; walsenders advance them and mark
	// them inactive when the connection ends; the operator creates and
	// drops them.
	Slots []Slot
	// LogicalSlots are logical replication slots (shmem/logicalslot.go):
	// loaded and reloaded with Slots; the operator creates them, clients
	// advance them, the checkpointer saves them.
	LogicalSlots []LogicalSlot

	// Primary is the node type: true once this node is the read-write
	// primary (POLAR_NODE_TYPE primary). InRecovery is RecoveryInProgress().
	// Startup sets both when recovery ends (and InRecovery when it
	// begins); the postmaster sets InRecovery at boot.
	Primary    bool
	InRecovery bool
	// ReplayLSN is the end of the last record startup replayed or indexed
	// (startup).
	ReplayLSN storage.LSN
	// ReceivedLSN is the end of the last WAL meta the walreceiver queued
	// (walreceiver; a standby's: the end of WAL it wrote to its disk);
	// startup sets it where a standby's replay starts.
	ReceivedLSN storage.LSN
	// StopWALReceiver is XLogShutdownWalRcv's request (a standby's
	// promote, FinishWalRecovery): the walreceiver writes nothing more and
	// exits. Startup sets it; the walreceiver reads it.
	StopWALReceiver bool
	// PrimaryConsistent is the primary's consistent LSN as the replica last
	// learned it from the stream: below it storage already has every change
	// (walreceiver).
	PrimaryConsistent storage.LSN
	// NextXID is the next transaction id (primary): backends take ids,
	// startup sets it at the end of recovery, the postmaster raises it past
	// the clog when it learns recovery is done.
	NextXID logindex.XID
	// Accepting: postmaster accepts connections; ReadWrite: they may write.
	// The postmaster (start, promote, shutdown), startup (hot standby), the
	// operator's crash (both off).
	Accepting bool
	ReadWrite bool
	// ReadWriteOpens counts the times the postmaster opened read-write
	// service on this node instance: whether a promote finished since it
	// was asked is then a fact of the node, not of who looked while it was
	// read-write (the script runner's promote requests).
	ReadWriteOpens uint32
	// ReplicaSignalGone: a reinitialisation found the node a primary
	// (Reinit): startup had unlinked replica.signal, which a later
	// reinitialisation of this instance reads too.
	ReplicaSignalGone bool
	// DelayChkpt counts backends between inserting a commit record and
	// setting it in the clog (PGPROC delayChkptFlags): checkpoints wait.
	// Backends (commit, PREPARE, COMMIT/ROLLBACK PREPARED).
	DelayChkpt int
	// PromoteFile is the promote signal file (pg_ctl promote); TriggerFile the
	// trigger file only startup looks at. The operator creates them;
	// startup (PromoteFile: the postmaster) consumes them.
	PromoteFile bool
	TriggerFile bool
	// SaveStalled is a fault: this primary stops saving LogIndex tables
	// (PolarDB's test of full memtables when the primary stopped saving).
	// Set by the scenario's operator; the bgwriter and the checkpointer
	// then save no table, backends wait for room.
	SaveStalled bool
	// ShuttingDown is set while a fast shutdown's checkpoint flushes
	// (checkpointer).
	ShuttingDown bool
	// Checkpoints are the checkpoint records recovery has consumed, oldest
	// first, at most MaxCheckpoints (the oldest drop out): a replica's
	// restartpoint candidates (PolarDB keeps them in a ring,
	// polar_checkpoint_ringbuf, because the restartpoint may only use one
	// whose redo the BGW has replayed past). Startup.
	Checkpoints []CheckpointSeen

	// Procs are the node's processes: the postmaster forks and reaps them
	// (boot records the postmaster itself; the operator's crash empties
	// them).
	Procs Procs
	// Reinits counts crash reinitialisations (Reinit, by the postmaster):
	// shared memory was rebuilt in place, so a checker that remembers this
	// node's shared state across steps must start over when it grows, as
	// for a new Node.
	Reinits int
	// InitReplays counts init records (logindex.RecInitPage) ReplayPage
	// applied (whichever process replays: a backend, the BGW and its
	// workers): not PolarDB state, a counter a replay worker reads to mark
	// the coverage of a reused page met in LogIndex replay (Ctx.Mark).
	InitReplays uint64

	rec  logindex.Record
	lsns []storage.LSN
	img  [storage.BlockSize]byte
}

// CheckpointSeen is a checkpoint record met in recovery: where it starts and
// its redo pointer.
type CheckpointSeen struct{ LSN, Redo storage.LSN }

// MaxCheckpoints bounds Checkpoints (polar_checkpoint_ringbuf's size).
const MaxCheckpoints = 8

// NoteCheckpoint records a checkpoint record recovery consumed (startup's
// RecoveryRestartPoint, polar_checkpoint_ringbuf_push).
func (n *Node) NoteCheckpoint(lsn, redo storage.LSN) {
	if k := len(n.Checkpoints); k > 0 && n.Checkpoints[k-1].LSN >= lsn {
		return // met again (a record read twice): already noted
	}
	if len(n.Checkpoints) == MaxCheckpoints {
		n.Checkpoints = append(n.Checkpoints[:0], n.Checkpoints[1:]...)
	}
	n.Checkpoints = append(n.Checkpoints, CheckpointSeen{LSN: lsn, Redo: redo})
}

// RestartpointCandidate returns the newest checkpoint recovery met whose redo
// is at or below upto (polar_checkpoint_ringbuf_pop with upto the BGW replay
// point); ok is false when there is none.
func (n *Node) RestartpointCandidate(upto storage.LSN) (c CheckpointSeen, ok bool) {
	for _, cp := range n.Checkpoints {
		if cp.Redo > upto {
			break
		}
		c, ok = cp, true
	}
	return c, ok
}

// NewNode returns a node's memory: an empty pool, LogIndex and queue per its
// configuration, the BGW not started, no processes.
func NewNode(cfg Config, dev *storage.Device) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pool, err := storage.NewPool(cfg.PoolFrames)
	if err != nil {
		return nil, err
	}
	q, err := logindex.NewQueue(cfg.LogIndex.QueueBuffers)
	if err != nil {
		return nil, err
	}
	b := NewBGW()
	if cfg.Fidelity.UncheckedBGWState {
		b = NewUncheckedBGW()
	}
	return &Node{Cfg: cfg, Dev: dev, Pool: pool, Queue: q, BGW: b, Procs: NoProcs()}, nil
}

// Name returns "n<host>".
func (n *Node) Name() string { return n.Cfg.Host.String() }

// Proc returns the trace name of a process of this node: "n2/startup".
func (n *Node) Proc(name string) string { return n.Cfg.Host.String() + "/" + name }

// RelPath is the data file of the workload's relation.
func (n *Node) RelPath() string { return fmt.Sprintf("base/%d", n.Cfg.Rel) }

// Page returns the workload's page number i.
func (n *Node) Page(i int) storage.PageID {
	return storage.PageID{Rel: n.Cfg.Rel, Block: storage.BlockNo(i)}
}

// Attach mounts the shared device and opens the reader and LogIndex over it.
// A replica's LogIndex is read-only; a primary's writable.
func (n *Node) Attach(mode storage.MountMode) error {
	m, err := n.Dev.Mount(n.Cfg.Host, mode)
	if err != nil {
		return err
	}
	n.Mount = m
	if n.Reader, err = logindex.NewReader(m, n.Cfg.LogIndex); err == nil {
		n.Index, err = logindex.New(m, n.Cfg.LogIndex, mode == storage.MountReadWrite)
	}
	if err != nil {
		// The node failed to start (an I/O error reading LogIndex): it
		// must not keep the mount, or no later start could mount again.
		n.Dev.Unmount(n.Cfg.Host)
		n.Mount = nil
		return err
	}
	return nil
}

// ReadRecord reads the WAL record starting at lsn from shared storage into
// the node's scratch record (valid until the next call).
func (n *Node) ReadRecord(lsn storage.LSN) (*logindex.Record, error) {
	if err := n.Reader.Read(lsn, storage.InvalidLSN, &n.rec); err != nil {
		return nil, err
	}
	return &n.rec, nil
}

// ReadStoragePage reads a page image from shared storage (a never-written
// page reads as empty).
func (n *Node) ReadStoragePage(page storage.PageID) (storage.Page, error) {
	_, err := n.Mount.ReadAt(n.RelPath(), n.img[:], int64(page.Block)*storage.BlockSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, storage.ErrNotExist) {
		return storage.Page{}, err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, storage.ErrNotExist) {
		clear(n.img[:])
	}
	return storage.UnmarshalPage(n.img[:])
}

// FlushGate returns the LSN up to which the primary may write pages: the
// oldest apply LSN of its replicas' replication slots (no slots: no limit),
// PolarDB's oldest_apply_lsn (polar_get_oldest_applied_lsn, checked by
// polar_buffer_can_be_flushed). A page at or below a replica's replay
// position is no future page to it, even if its BGW lags: the BGW only
// replays pooled copies, and evicts instead where storage already has the
// change. What a lagging BGW or a read under way still needs from LogIndex
// is RetainLSN's business, not the gate's.
//
// During a shutdown checkpoint only slots with a connected replica count
// (polar_flush_buffer_for_shutdown recomputes the oldest apply LSN skipping
// inactive slots, PolarDB's 050_shutdown_disconnected_replica.pl): waiting
// for a replica that is gone would hang the shutdown; a replica that is
// down restarts from the shutdown checkpoint's redo, and one that is merely
// disconnected refuses the future page it may read (the backend's
// polar_is_future_page FATAL). Likewise during a primary's crash recovery:
// it loaded its slots from storage (StartupReplicationSlots), but no
// replica can connect and feed back before it serves, and its startup must
// be able to evict the buffers redo dirties.
//
// A standby's slot never counts: the standby reads pages from its own
// storage, never from the shared device, so no page the primary writes can
// be a future page to it; its slot only retains WAL (restart_lsn). Gating on
// it would let a slow or disconnected standby stall the primary's bgwriter
// and checkpoints for nothing.
func (n *Node) FlushGate() storage.LSN {
	gate := ^storage.LSN(0)
	for _, s := range n.Slots {
		if (n.ShuttingDown || n.InRecovery) && !s.Active || IsStandbySlot(s.Name) {
			continue
		}
		if s.Apply < gate {
			gate = s.Apply
		}
	}
	return gate
}

// RetainLSN returns the LSN below which no replica needs LogIndex entries
// any more: the oldest restart LSN of the replicas' slots, active or not
// (no slots: no limit). A slot's restart LSN is the replica's
// polar_get_read_min_lsn, so it is at or below its BGW replay point (whose
// pooled copies lack the changes after it) and below every LSN an in-flight
// read published to replay from. The checkpointer truncates LogIndex no
// further than min(redo, RetainLSN) (polar_logindex_remove_old_files with
// polar_calc_min_used_lsn). A disconnected replica's slot keeps holding it,
// as restart_lsn holds WAL in PostgreSQL, also at a shutdown checkpoint.
//
// Standby slots do not count: a standby replays from its own LogIndex, and
// the model does not truncate WAL, which is all a standby slot holds back.
func (n *Node) RetainLSN() storage.LSN {
	keep := ^storage.LSN(0)
	for _, s := range n.Slots {
		if !IsStandbySlot(s.Name) && s.Restart < keep {
			keep = s.Restart
		}
	}
	return keep
}

// CanWrite is Writable without the reason: cheap enough for a Ready check,
// which runs on every scheduler step.
func (n *Node) CanWrite(pageLSN storage.LSN) bool {
	return n.WAL != nil && pageLSN <= n.WAL.FlushedLSN() && pageLSN <= n.FlushGate()
}

// Writable reports whether a page with this LSN may be written now: WAL
// covering it is durable and no replica would see it as a future page.
func (n *Node) Writable(pageLSN storage.LSN) error {
	if n.WAL == nil || pageLSN > n.WAL.FlushedLSN() {
		return fmt.Errorf("shmem: WAL not flushed to page LSN %v", pageLSN)
	}
	if pageLSN > n.FlushGate() {
		return fmt.Errorf("%w: page LSN %v, gate %v", ErrFlushGate, pageLSN, n.FlushGate())
	}
	return nil
}

// WritePage writes a dirty buffer to shared storage and cleans it. WAL before
// data: WAL up to the page LSN must already be durable (an assertion: the
// callers check Writable first). The write is reported through r, the
// writing step's Ctx (PageWritten): a page written past a disconnected
// replica's slot while the flush gate left it out (a shutdown checkpoint,
// crash recovery) is the accepted way that replica meets a future page
// (PolarDB's 050_shutdown_disconnected_replica), which only an observer
// seeing the write can tell.
func (n *Node) WritePage(r sim.Reporter, id storage.BufferID) error {
	b := n.Pool.Get(id)
	if n.WAL == nil || b.Page.LSN > n.WAL.FlushedLSN() {
		sim.Failf("shmem: WAL before data: page %v at %v written with WAL flushed to %v", b.Tag, b.Page.LSN, n.flushed())
	}
	b.Page.Marshal(n.img[:])
	if err := n.Mount.WriteAt(n.RelPath(), n.img[:], int64(b.Tag.Block)*storage.BlockSize); err != nil {
		return err
	}
	r.Report(PageWritten{Node: n, Page: b.Tag, LSN: b.Page.LSN}) // visible from here on, synced or not
	if err := n.Mount.Sync(n.RelPath()); err != nil {
		return err
	}
	n.Pool.MarkClean(id)
	return nil
}

func (n *Node) flushed() storage.LSN {
	if n.WAL == nil {
		return storage.InvalidLSN
	}
	return n.WAL.FlushedLSN()
}

// Buffer returns the frame holding page, loading it from storage into a free
// or evicted frame if needed (loaded reports that). A dirty victim is written
// first (WAL flushed to its LSN first, as FlushBuffer does; WritePage
// reports it through r); if it may not be written yet (flush gate) or every
// frame is pinned, ErrBuffersBusy.
func (n *Node) Buffer(r sim.Reporter, page storage.PageID) (id storage.BufferID, loaded bool, err error) {
	return n.buffer(r, page, false)
}

// buffer is Buffer; zero is RBM_ZERO_AND_LOCK (ZeroBuffer).
func (n *Node) buffer(r sim.Reporter, page storage.PageID, zero bool) (id storage.BufferID, loaded bool, err error) {
	if id, ok := n.Pool.Lookup(page); ok {
		return id, false, nil
	}
	id, err = n.Pool.Victim()
	if err != nil {
		return 0, false, fmt.Errorf("%w: %v", ErrBuffersBusy, err)
	}
	if b := n.Pool.Get(id); b.Valid && b.Dirty {
		if n.WAL == nil {
			sim.Failf("shmem: %s has a dirty buffer %v but no WAL", n.Name(), b.Tag)
		}
		if b.Page.LSN > n.FlushGate() {
			return 0, false, fmt.Errorf("%w: victim %v at %v beyond flush gate %v", ErrBuffersBusy, b.Tag, b.Page.LSN, n.FlushGate())
		}
		if err := n.WAL.Flush(b.Page.LSN); err != nil {
			return 0, false, err
		}
		if err := n.WritePage(r, id); err != nil {
			return 0, false, err
		}
	}
	var p storage.Page // RBM_ZERO_AND_LOCK: MemSet, no smgrread
	if !zero {
		if p, err = n.ReadStoragePage(page); err != nil {
			return 0, false, err
		}
	}
	if b := n.Pool.Get(id); b.Valid {
		n.Pool.Evict(id)
	}
	n.Pool.Assign(id, page, p)
	return id, !zero, nil
}

// BufferBusy reports whether page's buffer is pinned across steps: only a
// backend's replica read holds a pin beyond its own step, between issuing
// the read (the buffer is BM_IO_IN_PROGRESS) and finishing its LogIndex
// replay (POLAR_REDO_REPLAYING). Anyone else who needs the page waits for
// it, as WaitIO does and as a parallel replay task does when it finds the
// buffer replaying (handle_parallel_replay_task: not handled, retried).
func (n *Node) BufferBusy(page storage.PageID) bool {
	id, ok := n.Pool.Lookup(page)
	return ok && n.Pool.Pins(id) > 0
}

// ReplayPage applies to buffer id every record of its page that LogIndex
// holds with start LSN in [from, to), reading the records from WAL on
// storage. Records already in the page are skipped by the page-LSN check, so
// a generous from is safe. It returns how many records changed the page.
func (n *Node) ReplayPage(id storage.BufferID, from, to storage.LSN) (int, error) {
	if to <= from || to == 0 {
		return 0, nil
	}
	b := n.Pool.Get(id)
	var err error
	for {
		// Below the LogIndex truncation point every change is already on
		// storage (the point never passes the redo pointer), so history
		// starts there.
		if t := n.Index.TruncatedBelow(); from < t {
			from = t
		}
		if to <= from {
			return 0, nil
		}
		lo := storage.InvalidLSN
		if from > 0 {
			lo = from - 1
		}
		n.lsns, err = n.Index.History(n.lsns[:0], b.Tag, lo, to-1)
		// A read-only snapshot (replica) learns the primary's newer
		// truncation point only inside History, which rereads the meta:
		// clamp to it and look again. The point only grows, so this ends.
		if errors.Is(err, logindex.ErrTruncated) && from < n.Index.TruncatedBelow() {
			continue
		}
		break
	}
	if err != nil {
		return 0, err
	}
	applied := 0
	for _, lsn := range n.lsns {
		rec, err := n.ReadRecord(lsn)
		if err != nil {
			return applied, fmt.Errorf("shmem: replay %v of %v: %w", lsn, b.Tag, err)
		}
		if n.applyReplayed(rec, id) {
			applied++
			if rec.Type == logindex.RecInitPage {
				n.InitReplays++
			}
		}
	}
	return applied, nil
}

// OldestLSN is the oldest LSN a buffer dirtied now gets (docs/model.md §5): the fake
// oldest LSN while the BGW is in ONLINE_PROMOTE or PARALLEL_REPLAYING, else
// the current insert position (taken before the change's record is
// inserted, so it is at or below the record).
func (n *Node) OldestLSN() storage.LSN {
	if n.Cfg.Orderings.FakeOldestDuringPromote && n.BGW.Promoting() {
		return n.BGW.FakeOldest()
	}
	if n.WAL == nil {
		sim.Failf("shmem: %s dirtying a buffer without WAL", n.Name())
	}
	return n.WAL.InsertLSN()
}

// ConsistentFallback is what the consistent LSN is when the flush list is
// empty: the fake oldest LSN during promote, else the insert position.
func (n *Node) ConsistentFallback() storage.LSN {
	if n.BGW.Promoting() {
		return n.BGW.FakeOldest()
	}
	if n.WAL != nil {
		return n.WAL.InsertLSN()
	}
	return n.Pool.ConsistentLSN()
}

// UpdateConsistentLSN computes and publishes the consistent LSN (monotone:
// polar_cal_cur_consistent_lsn, then polar_set_consistent_lsn). A computed
// value below the published one is kept from publication and reported
// through r (ConsistentRegressed), never hidden.
func (n *Node) UpdateConsistentLSN(r sim.Reporter) storage.LSN {
	raw, prev := n.Pool.CalConsistentLSN(n.ConsistentFallback()), n.Pool.ConsistentLSN()
	if raw < prev {
		r.Report(ConsistentRegressed{Node: n, Raw: raw, Published: prev})
	}
	return n.Pool.SetConsistentLSN(raw)
}

// Exit ends the running process of this node: the exit is reported
// (ExitReport: an unexpected PANIC or FATAL is what checkers look for),
// postmaster gets SIGCHLD if it still runs, and the process takes no more
// steps.
func (n *Node) Exit(c *sim.Ctx, e ChildExit) {
	e.ID = c.Self()
	c.Report(ExitReport{Node: n, Exit: e})
	if pm := n.Procs.Postmaster; pm != NoProc && pm != c.Self() && c.Alive(pm) {
		c.Send(pm, e)
	}
	c.Exit()
}

// WakeOn is what every process of the node names as its wake condition
// (sim.Sleeper): the node's shared memory, as one condition named by the
// host. Its processes' Ready functions read only it and their own state,
// and their steps change only it (other nodes hear from them through
// messages, and through shared storage only by reading it in a step);
// sim.Config.CheckWakes holds them to that.
func (n *Node) WakeOn(w *sim.Wakes) {
	w.Reads(n.Name())
	w.Writes(n.Name())
}
