package postmaster

import (
	"errors"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// exitProc records a process exit and tells postmaster (SIGCHLD).
func exitProc(c *sim.Ctx, n *shmem.Node, name string, kind shmem.ExitKind, err error) {
	e := shmem.ChildExit{ID: c.Self(), Name: name, Kind: kind}
	if err != nil {
		e.Err = err.Error()
	}
	if kind == shmem.ExitPANIC || kind == shmem.ExitFATAL {
		c.Story(kind.String(), sim.Str("err", e.Err))
	}
	n.Exit(c, e)
}

// killedBy reports whether a signal ends an auxiliary process.
func killedBy(m sim.Msg) bool {
	s, ok := m.(shmem.Signal)
	return ok && (s == shmem.SIGTERM || s == shmem.SIGQUIT)
}

// primaryActive reports whether the node writes shared storage now: it is
// the primary and out of recovery.
func primaryActive(n *shmem.Node) bool { return n.Primary && !n.InRecovery && n.WAL != nil }

// bgwriterActive reports whether the bgwriter runs a primary's flush-list
// sync. PolarDB's bgwriter loop calls polar_bg_buffer_sync in recovery too;
// it takes the primary's path as soon as the node type is primary
// (polar_normal_buffer_sync_enabled, polar_flush.h), which under
// Fidelity.ControlWindowSteps is a separate step before recovery is done.
// Otherwise the model starts it when recovery is done.
func bgwriterActive(n *shmem.Node) bool {
	if n.Cfg.Fidelity.ControlWindowSteps {
		return n.Primary && n.WAL != nil
	}
	return primaryActive(n)
}

// bgWriter writes dirty buffers from the flush-list head, oldest first, once
// WAL covers them and no replica would see a future page; it publishes the
// consistent LSN and saves full LogIndex memtables whose WAL is durable.
//
// Mirrors src/backend/postmaster/bgwriter.c and polar_bufmgr.c
// (polar_buffer_sync, polar_set_consistent_lsn); LogIndex table saving
// (polar_logindex_flush_table), which PolarDB runs in the BGW's loop on a
// primary, is folded into this process's rounds.
type bgWriter struct{ n *shmem.Node }

func newBGWriter(n *shmem.Node) *bgWriter { return &bgWriter{n: n} }

func (a *bgWriter) Name() string { return a.n.Proc("bgwriter") }

// WakeOn implements sim.Sleeper: Ready reads the node's shared memory,
// which its steps write.
func (a *bgWriter) WakeOn(w *sim.Wakes) { a.n.WakeOn(w) }

func (a *bgWriter) Ready() bool {
	n := a.n
	if !bgwriterActive(n) {
		return false
	}
	if id, ok := n.Pool.FlushHead(); ok && n.CanWrite(n.Pool.Get(id).Page.LSN) {
		return true
	}
	if need, ok := n.Index.SaveNeed(); ok && need <= n.WAL.FlushedLSN() && !n.SaveStalled {
		return true
	}
	// Nothing to write: publish the consistent LSN if it would move.
	return n.Pool.FlushLen() == 0 && !holdConsistent(n) && n.ConsistentFallback() > n.Pool.ConsistentLSN()
}

// holdConsistent reports whether the consistent LSN must stay where it is
// now: V11's guard (polar_bufmgr.c update_consistent_lsn_delta) while the
// BGW is in POLAR_BG_WAITING_RESET. In V11's order that is the window after
// the role switch and before the BGW reset, where the flush list holds none
// of the old primary's changes still to replay, so neither the flush-list
// head nor the insert position says anything about storage.
//
// Under Fidelity.ControlWindowSteps the guard is on whatever the profile:
// PolarDB 15's update_consistent_lsn_delta carries it unconditionally, and
// the split window (node type primary before the BGW reset) reaches it.
//
// Also under ControlWindowSteps, polar_set_consistent_lsn (xlog.c) is a
// no-op while polar_is_primary_in_recovery(): node type primary, recovery
// not yet done, the whole rest of the window.
func holdConsistent(n *shmem.Node) bool {
	if n.Cfg.Fidelity.ControlWindowSteps && n.Primary && n.InRecovery {
		return true
	}
	on := n.Cfg.Orderings.HoldConsistentInWaitingReset || n.Cfg.Fidelity.ControlWindowSteps
	return on && n.BGW.State() == shmem.BGWaitingReset
}

// publishConsistent recomputes and publishes the consistent LSN
// (polar_set_consistent_lsn after update_consistent_lsn_delta), or keeps the
// published one where holdConsistent says so.
func publishConsistent(c *sim.Ctx, n *shmem.Node) storage.LSN {
	if holdConsistent(n) {
		return n.Pool.ConsistentLSN()
	}
	return n.UpdateConsistentLSN(c)
}

// writeFlushHead writes the flush list's head page when its WAL is durable
// and the flush gate allows it (one buffer of BgBufferSync per step), for
// the primary's bgwriter and the standby's alike. alive is false when the
// write failed and the process PANICked (a failed data write leaves the
// buffer dirty; a fenced or read-only mount means this node must stop
// writing).
func writeFlushHead(c *sim.Ctx, n *shmem.Node, name string) (wrote, alive bool) {
	id, ok := n.Pool.FlushHead()
	if !ok || !n.CanWrite(n.Pool.Get(id).Page.LSN) {
		return false, true
	}
	b := n.Pool.Get(id)
	tag, oldest, lsn := b.Tag, b.OldestLSN, b.Page.LSN
	if err := n.WritePage(c, id); err != nil {
		exitProc(c, n, name, shmem.ExitPANIC, err)
		return false, false
	}
	c.Log("write-page", sim.Str("page", tag.String()), sim.LSNField("oldest", uint64(oldest)), sim.LSNField("lsn", uint64(lsn)))
	return true, true
}

func (a *bgWriter) Receive(c *sim.Ctx, m sim.Msg) {
	if killedBy(m) {
		exitProc(c, a.n, a.Name(), shmem.ExitKilled, nil)
	}
}

func (a *bgWriter) Step(c *sim.Ctx) {
	n := a.n
	if _, alive := writeFlushHead(c, n, a.Name()); !alive {
		return
	}
	before := n.Pool.ConsistentLSN()
	after := publishConsistent(c, n)
	if after != before {
		c.Log("consistent-lsn", sim.LSNField("lsn", uint64(after)), sim.Int("dirty", int64(n.Pool.FlushLen())))
	}
	if n.Index.Enabled() && n.Index.Writable() && !n.SaveStalled {
		if saved, err := n.Index.Save(n.WAL.FlushedLSN()); err != nil && !errors.Is(err, logindex.ErrWALNotFlushed) {
			exitProc(c, n, a.Name(), shmem.ExitPANIC, err)
			return
		} else if saved > 0 {
			c.Log("logindex-save", sim.Int("tables", int64(saved)))
		}
	}
}

// checkpointer takes lazy checkpoints: the redo pointer is the consistent
// LSN (every change below it is on storage), so no buffer need be flushed.
// It runs when the consistent LSN moved far enough, when the BGW requests it
// after online promote, and for the shutdown checkpoint (SIGINT), which first
// waits for every dirty buffer to be written. On a LogIndex replica in
// recovery it takes restartpoints instead (restartpoint).
//
// Mirrors src/backend/postmaster/checkpointer.c and xlog.c CreateCheckPoint
// and CreateRestartPoint, with PolarDB's lazy checkpoint
// (polar_lazy_checkpoint_enabled).
type checkpointer struct {
	n        *shmem.Node
	shutdown bool
	// forced: an operator's CHECKPOINT is pending (checkpoint_cmd's
	// CheckpointRequest); syncing: its redo pointer is chosen (forcedRedo)
	// and it is writing the buffers dirty before it.
	forced, syncing bool
	forcedRedo      storage.LSN
	// answered counts the CHECKPOINT requests finished or ignored.
	answered int
	// ownForced: the pending forced checkpoint is the BGW's post-promote
	// RequestCheckpoint(CHECKPOINT_FORCE) (Fidelity.ForceCheckpointAfterPromote),
	// not an operator's CHECKPOINT, so finishing it answers no client.
	ownForced bool
}

func newCheckpointer(n *shmem.Node) *checkpointer { return &checkpointer{n: n} }

func (a *checkpointer) Name() string { return a.n.Proc("checkpointer") }

// WakeOn implements sim.Sleeper: Ready reads the node's shared memory,
// which its steps write.
func (a *checkpointer) WakeOn(w *sim.Wakes) { a.n.WakeOn(w) }

func (a *checkpointer) Ready() bool {
	n := a.n
	if n.Cfg.Orderings.NoCheckpointInWaitingReset && n.BGW.State() == shmem.BGWaitingReset {
		return false
	}
	if replicaRecovering(n) {
		if a.forced {
			return true
		}
		_, due := restartpointDue(n)
		return due
	}
	if !primaryActive(n) {
		return false
	}
	if n.DelayChkpt > 0 {
		// A commit is between its WAL record and its clog update
		// (CreateCheckPoint waits for GetVirtualXIDsDelayingChkpt).
		return false
	}
	if a.shutdown {
		return n.Pool.FlushLen() == 0 && n.BGW.State() == shmem.BGRedoNotStart
	}
	if a.forced {
		return a.forcedReady()
	}
	if n.BGW.CheckpointRequested {
		return true // lazy, or (ForceCheckpointAfterPromote) becomes a forced one
	}
	return int64(n.Pool.ConsistentLSN())-int64(n.Control.Redo) >= n.Cfg.CheckpointDistance
}

func (a *checkpointer) Receive(c *sim.Ctx, m sim.Msg) {
	if _, ok := m.(CheckpointRequest); ok {
		a.request(c)
		return
	}
	switch m {
	case shmem.SIGINT:
		a.shutdown = true
		a.n.ShuttingDown = true
		c.Log("shutdown-requested")
	case shmem.SIGTERM, shmem.SIGQUIT:
		exitProc(c, a.n, a.Name(), shmem.ExitKilled, nil)
	}
}

func (a *checkpointer) Step(c *sim.Ctx) {
	n := a.n
	if replicaRecovering(n) {
		if a.forced {
			a.forcedRestartpoint(c)
			return
		}
		restartpoint(c, n)
		return
	}
	if n.Cfg.Fidelity.ForceCheckpointAfterPromote && n.BGW.CheckpointRequested && !a.shutdown {
		a.forcePromoteCheckpoint(c)
		return
	}
	if a.forced && !a.shutdown {
		a.forcedStep(c)
		return
	}
	if a.forced {
		// The shutdown checkpoint supersedes a forced one.
		a.forced, a.syncing = false, false
		if !a.ownForced {
			a.answered++
		}
		a.ownForced = false
	}
	a.write(c, publishConsistent(c, n), false)
}

// write writes a checkpoint record with this redo pointer, then clog,
// slots, LogIndex and the control file (the tail of CreateCheckPoint).
// A lazy checkpoint's redo is the published consistent LSN
// (polar_check_lazy_checkpoint); a forced one's is the insert position at
// its start, after every buffer dirty then was written (forced).
func (a *checkpointer) write(c *sim.Ctx, redo storage.LSN, forced bool) {
	n := a.n
	if redo < n.Control.Redo {
		// The redo pointer never moves back; wait for the consistent LSN.
		c.Detail("checkpoint-skip", sim.LSNField("consistent", uint64(redo)), sim.LSNField("redo", uint64(n.Control.Redo)))
		n.BGW.CheckpointRequested = false
		return
	}
	if !checkPointTwoPhase(c, n, a.Name(), redo) {
		return
	}
	rec := logindex.Record{Type: logindex.RecCheckpoint, Redo: redo}
	if err := n.WAL.Insert(&rec); err != nil {
		exitProc(c, n, a.Name(), shmem.ExitPANIC, err)
		return
	}
	if err := n.WAL.Flush(rec.End); err != nil {
		exitProc(c, n, a.Name(), shmem.ExitPANIC, err)
		return
	}
	if err := shmem.WriteClog(n.Mount, &n.Clog); err != nil {
		exitProc(c, n, a.Name(), shmem.ExitPANIC, err)
		return
	}
	if err := checkPointReplicationSlots(n); err != nil {
		exitProc(c, n, a.Name(), shmem.ExitPANIC, err)
		return
	}
	if n.Index.Enabled() && n.Index.Writable() && !n.SaveStalled {
		if _, err := n.Index.Save(n.WAL.FlushedLSN()); err != nil && !errors.Is(err, logindex.ErrWALNotFlushed) {
			exitProc(c, n, a.Name(), shmem.ExitPANIC, err)
			return
		}
		// LogIndex below what every reader still needs is dropped
		// (polar_logindex_remove_old_files, polar_calc_min_used_lsn): no
		// further than the redo pointer and the oldest replica slot's
		// restart LSN, which is below its BGW replay point and its reads'
		// published starts (not the apply LSN the flush gate follows).
		if t := min(redo, n.RetainLSN()); t > n.Index.TruncatedBelow() {
			if _, err := n.Index.Truncate(t); err != nil {
				exitProc(c, n, a.Name(), shmem.ExitPANIC, err)
				return
			}
		}
	}
	ctl := n.Control
	ctl.CheckPoint, ctl.Redo, ctl.Primary, ctl.NextXID = rec.Start, redo, n.Cfg.Host, uint32(n.NextXID)
	if ctl.TLI == 0 {
		ctl.TLI = 1
	}
	ctl.State = shmem.DBInProduction
	if a.shutdown {
		ctl.State = shmem.DBShutdowned
	}
	if err := shmem.WriteControl(n.Mount, ctl); err != nil {
		// Fence mode detect: a displaced writer finds the new writer's id
		// here and PANICs (RWID/DEATH).
		exitProc(c, n, a.Name(), shmem.ExitPANIC, err)
		return
	}
	n.Control = ctl
	n.Local = ctl
	n.BGW.CheckpointRequested = false
	if OwnStorage(n) && !recycleOwnWAL(c, n, a.Name(), redo) {
		return
	}
	if forced {
		c.Story("checkpoint", sim.LSNField("redo", uint64(redo)), sim.LSNField("lsn", uint64(rec.Start)),
			sim.Bool("shutdown", a.shutdown), sim.Bool("forced", true), sim.Str("bgw", n.BGW.State().String()))
	} else {
		c.Story("checkpoint", sim.LSNField("redo", uint64(redo)), sim.LSNField("lsn", uint64(rec.Start)),
			sim.Bool("shutdown", a.shutdown))
	}
	if a.shutdown {
		exitProc(c, n, a.Name(), shmem.ExitNormal, nil)
	}
}

// checkPointReplicationSlots saves every slot, physical and logical
// (CheckPointReplicationSlots in CheckPointGuts).
func checkPointReplicationSlots(n *shmem.Node) error {
	for _, s := range n.Slots {
		if err := shmem.WriteSlot(n.Mount, s); err != nil {
			return err
		}
	}
	for _, s := range n.LogicalSlots {
		if err := shmem.WriteLogicalSlot(n.Mount, s); err != nil {
			return err
		}
	}
	return nil
}

// replicaRecovering reports whether n is a LogIndex replica still in
// recovery (promote included, until the role switch): its checkpointer
// takes restartpoints.
func replicaRecovering(n *shmem.Node) bool {
	return n.InRecovery && !n.Primary && n.Index != nil && n.Index.Enabled()
}

// restartpointDue returns the restartpoint the replica's checkpointer would
// take now: the newest checkpoint record recovery met whose redo the BGW has
// replayed past (polar_checkpoint_ringbuf_pop bounded by bg_replayed_lsn: a
// pooled page is replayed only up to the BGW replay point, so replay starting
// at a redo above it would skip changes the pooled copy lacks, though storage
// has them), lazily: only when its redo is CheckpointDistance past the local
// control file's (CheckPointDistanceEstimate's role).
func restartpointDue(n *shmem.Node) (shmem.CheckpointSeen, bool) {
	cp, ok := n.RestartpointCandidate(restartpointBound(n))
	if !ok || cp.LSN <= n.Local.CheckPoint || cp.Redo <= n.Local.Redo {
		return cp, false
	}
	return cp, int64(cp.Redo)-int64(n.Local.Redo) >= n.Cfg.CheckpointDistance
}

// restartpoint is CreateRestartPoint on a LogIndex replica: the chosen
// checkpoint becomes the local control file's checkpoint and redo pointer
// (pg_control in the replica's own directory; the shared one is the
// primary's). A replica has no dirty buffers to flush and writes nothing to
// shared storage. Its redo is where a replica's reads fall back to replay
// from (GetRedoRecPtr) and, at online promote, where startup's own
// restartpoint (P2) later moves it to the old primary's last checkpoint.
func restartpoint(c *sim.Ctx, n *shmem.Node) {
	cp, due := restartpointDue(n)
	if !due {
		return
	}
	if OwnStorage(n) && !ownRestartpoint(c, n, n.Proc("checkpointer"), cp) {
		return
	}
	n.Local.CheckPoint, n.Local.Redo = cp.LSN, cp.Redo
	c.Story("restartpoint", sim.LSNField("checkpoint", uint64(cp.LSN)), sim.LSNField("redo", uint64(cp.Redo)),
		sim.LSNField("bgw-replay", uint64(n.BGW.ReplayPoint())), sim.Str("bgw", n.BGW.State().String()))
}

// walWriter writes and syncs inserted WAL in the background.
//
// Mirrors src/backend/postmaster/walwriter.c (XLogBackgroundFlush).
type walWriter struct{ n *shmem.Node }

func newWALWriter(n *shmem.Node) *walWriter { return &walWriter{n: n} }

func (a *walWriter) Name() string { return a.n.Proc("walwriter") }

// WakeOn implements sim.Sleeper: Ready reads the node's shared memory,
// which its steps write.
func (a *walWriter) WakeOn(w *sim.Wakes) { a.n.WakeOn(w) }

func (a *walWriter) Ready() bool {
	n := a.n
	return primaryActive(n) && (n.WAL.Unwritten() > 0 || n.Cfg.WALWriteBehind && n.WAL.WrittenLSN() > n.WAL.FlushedLSN())
}

func (a *walWriter) Receive(c *sim.Ctx, m sim.Msg) {
	if killedBy(m) {
		exitProc(c, a.n, a.Name(), shmem.ExitKilled, nil)
	}
}

func (a *walWriter) Step(c *sim.Ctx) {
	n := a.n
	if n.Cfg.WALWriteBehind {
		a.writeBehind(c)
		return
	}
	if err := n.WAL.Flush(n.WAL.InsertLSN()); err != nil {
		exitProc(c, n, a.Name(), shmem.ExitPANIC, err)
		return
	}
	c.Log("wal-flush", sim.LSNField("flushed", uint64(n.WAL.FlushedLSN())))
}

// polarWorker holds a weak reference to the WAL meta queue (PolarDB's polar
// worker reads WAL meta for its housekeeping). On SIGUSR2 it drops the
// reference so the queue can be reset at promote.
//
// Mirrors src/backend/postmaster/polar_worker.c.
type polarWorker struct {
	n      *shmem.Node
	ref    logindex.Ref
	hasRef bool
	// dropped: SIGUSR2 came; the worker never takes a reference again.
	dropped bool
	pkt     logindex.Packet
}

func newPolarWorker(n *shmem.Node) *polarWorker { return &polarWorker{n: n} }

func (a *polarWorker) Name() string { return a.n.Proc("polar-worker") }

// WakeOn implements sim.Sleeper: Ready reads the node's shared memory,
// which its steps write.
func (a *polarWorker) WakeOn(w *sim.Wakes) { a.n.WakeOn(w) }

func (a *polarWorker) Ready() bool {
	if a.dropped {
		return false
	}
	if !a.hasRef {
		return a.n.InRecovery && !a.n.Primary
	}
	p, err := a.n.Queue.Pending(a.ref)
	return err != nil || p > 0
}

func (a *polarWorker) Step(c *sim.Ctx) {
	n := a.n
	if !a.hasRef {
		ref, err := n.Queue.NewRef("polar-worker", false)
		if err != nil {
			exitProc(c, n, a.Name(), shmem.ExitFATAL, err)
			return
		}
		a.ref, a.hasRef = ref, true
		return
	}
	if _, err := n.Queue.Pop(a.ref, &a.pkt); err != nil {
		// A weak reference was overtaken by the writer: it lost packets and
		// re-attaches at the current read position.
		c.Mark("postmaster/polar-worker-weak-ref-evicted")
		n.Queue.Release(a.ref)
		a.hasRef = false
	}
}

func (a *polarWorker) Receive(c *sim.Ctx, m sim.Msg) {
	switch m {
	case shmem.SIGUSR2:
		if a.hasRef {
			a.n.Queue.Release(a.ref)
			a.hasRef = false
		}
		a.dropped = true
		c.Log("drop-queue-ref")
	case shmem.SIGTERM, shmem.SIGQUIT:
		exitProc(c, a.n, a.Name(), shmem.ExitKilled, nil)
	}
}

// CheckpointRequest is the operator's CHECKPOINT (RequestCheckpoint with
// CHECKPOINT_FORCE | CHECKPOINT_WAIT | CHECKPOINT_IMMEDIATE), sent to a
// node's checkpointer. Such a checkpoint has no CHECKPOINT_CAUSE_XLOG or
// CHECKPOINT_CAUSE_TIME flag, so PolarDB does not make it lazy
// (polar_bufmgr.c polar_check_lazy_checkpoint): CreateCheckPoint takes the
// insert position as its redo pointer and BufferSync writes every buffer
// dirty at that moment before the record is written. In recovery it is a
// restartpoint (CreateRestartPoint), as in PostgreSQL.
type CheckpointRequest struct{}

func (CheckpointRequest) String() string { return "checkpoint(force, wait, immediate)" }

// CheckpointsAnswered returns how many CHECKPOINT requests node n's
// checkpointer has finished or ignored (what CHECKPOINT_WAIT waits for),
// and false when no checkpointer runs.
func (o Operator) CheckpointsAnswered(n *shmem.Node) (int, bool) {
	id := n.Procs.Checkpointer
	if id == shmem.NoProc || !o.S.Alive(id) {
		return 0, false
	}
	a, ok := o.S.Actor(id).(*checkpointer)
	if !ok {
		return 0, false
	}
	return a.answered, true
}

// request notes an operator's CHECKPOINT. A node in recovery that is no
// LogIndex replica (a standby, or crash recovery) ignores it: the model
// has no restartpoints there.
func (a *checkpointer) request(c *sim.Ctx) {
	n := a.n
	if n.InRecovery && !replicaRecovering(n) {
		c.Log("checkpoint-ignored", sim.Str("why", "in recovery"))
		a.answered++
		return
	}
	if a.forced {
		a.answered++ // folded into the pending one (RequestCheckpoint merges requests)
	} else {
		a.forced, a.syncing = true, false
	}
	c.Log("checkpoint-request", sim.Bool("recovery", n.InRecovery))
}

// forcePromoteCheckpoint takes the BGW's request when online promote
// finished (polar_logindex_bg_online_promote's RequestCheckpoint(
// CHECKPOINT_FORCE)) as what PolarDB makes of it: a full checkpoint, since
// polar_check_incremental_checkpoint (polar_bufmgr.c) makes only
// CHECKPOINT_CAUSE_TIME and CHECKPOINT_CAUSE_XLOG ones incremental. A
// pending operator CHECKPOINT absorbs it (RequestCheckpoint merges requests).
func (a *checkpointer) forcePromoteCheckpoint(c *sim.Ctx) {
	n := a.n
	n.BGW.CheckpointRequested = false
	if a.forced {
		c.Log("checkpoint-request-merged", sim.Str("from", "bgw"))
		return
	}
	a.forced, a.syncing, a.ownForced = true, false, true
	c.Log("checkpoint-request", sim.Str("from", "bgw"), sim.Bool("force", true))
}

// forcedReady reports whether the forced checkpoint on a primary can take
// a step. While the BGW is promoting (ONLINE_PROMOTE, PARALLEL_REPLAYING)
// it waits: pages the BGW has not replayed yet are dirty nowhere, and the
// BGW requests its own checkpoint when it finishes (the model defers rather
// than guess how PolarDB bounds a non-lazy redo in that state). While it
// is writing buffers it waits for the flush list head to become writable,
// as BufferSync waits on a buffer's I/O; the WAL flush it does itself.
func (a *checkpointer) forcedReady() bool {
	n := a.n
	if n.BGW.Promoting() {
		return false
	}
	if !a.syncing {
		return true
	}
	id, ok := n.Pool.FlushHead()
	if !ok {
		return true
	}
	b := n.Pool.Get(id)
	return b.OldestLSN >= a.forcedRedo || b.Page.LSN <= n.FlushGate()
}

// forcedStep takes one step of a forced checkpoint on a primary: choose
// the redo pointer (the insert position: CreateCheckPoint without
// CHECKPOINT_LAZY), then write the buffers dirty before it, oldest first,
// one a step (BufferSync, CheckPointBuffers), flushing WAL up to each page
// first (FlushBuffer's XLogFlush), then publish the consistent LSN and
// write the record and control file.
func (a *checkpointer) forcedStep(c *sim.Ctx) {
	n := a.n
	if !a.syncing {
		a.syncing, a.forcedRedo = true, n.WAL.InsertLSN()
		c.Log("checkpoint-start", sim.LSNField("redo", uint64(a.forcedRedo)), sim.Int("dirty", int64(n.Pool.FlushLen())),
			sim.Str("bgw", n.BGW.State().String()))
		return
	}
	if id, ok := n.Pool.FlushHead(); ok && n.Pool.Get(id).OldestLSN < a.forcedRedo {
		b := n.Pool.Get(id)
		tag, oldest, lsn := b.Tag, b.OldestLSN, b.Page.LSN
		if err := n.WAL.Flush(lsn); err != nil {
			exitProc(c, n, a.Name(), shmem.ExitPANIC, err)
			return
		}
		if err := n.Writable(lsn); err != nil {
			return // the flush gate holds it: wait (forcedReady)
		}
		if err := n.WritePage(c, id); err != nil {
			exitProc(c, n, a.Name(), shmem.ExitPANIC, err)
			return
		}
		c.Log("checkpoint-write-page", sim.Str("page", tag.String()), sim.LSNField("oldest", uint64(oldest)), sim.LSNField("lsn", uint64(lsn)))
		return
	}
	publishConsistent(c, n)
	redo := a.forcedRedo
	a.forced, a.syncing = false, false
	if !a.ownForced {
		a.answered++
	}
	a.ownForced = false
	a.write(c, redo, true)
}

// forcedRestartpoint is CHECKPOINT in recovery on a LogIndex replica: a
// restartpoint now, whatever the distance (CreateRestartPoint with
// CHECKPOINT_FORCE), if recovery met a newer checkpoint the BGW replayed
// past; otherwise nothing.
func (a *checkpointer) forcedRestartpoint(c *sim.Ctx) {
	n := a.n
	a.forced, a.syncing = false, false
	a.answered++
	cp, ok := n.RestartpointCandidate(restartpointBound(n))
	if !ok || cp.LSN <= n.Local.CheckPoint || cp.Redo <= n.Local.Redo {
		c.Log("restartpoint-skip", sim.LSNField("checkpoint", uint64(n.Local.CheckPoint)))
		return
	}
	if OwnStorage(n) && !ownRestartpoint(c, n, a.Name(), cp) {
		return
	}
	n.Local.CheckPoint, n.Local.Redo = cp.LSN, cp.Redo
	c.Story("restartpoint", sim.LSNField("checkpoint", uint64(cp.LSN)), sim.LSNField("redo", uint64(cp.Redo)),
		sim.LSNField("bgw-replay", uint64(n.BGW.ReplayPoint())), sim.Str("bgw", n.BGW.State().String()), sim.Bool("forced", true))
}
