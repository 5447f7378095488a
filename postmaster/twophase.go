package postmaster

import (
	"errors"
	"fmt"
	"strings"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// Two-phase commit in a backend, after PostgreSQL's
// src/backend/access/transam/twophase.c and xact.c:
//
//   - PREPARE TRANSACTION (a Txn with a GID): the writes as usual, then
//     MarkAsPreparing reserves the gid, EndPrepare inserts XLOG_XACT_PREPARE
//     with DELAY_CHKPT_START set, flushes it, and MarkAsPrepared makes the
//     entry valid. The clog keeps the xid in progress: its rows stay
//     invisible.
//   - COMMIT PREPARED / ROLLBACK PREPARED (FinishPrepared):
//     FinishPreparedTransaction locks the entry (LockGXact), reads its state
//     from the state file or from the PREPARE record in WAL
//     (ReadTwoPhaseFile / XlogReadTwoPhaseData), inserts
//     XLOG_XACT_COMMIT_PREPARED (with DELAY_CHKPT_START) or
//     XLOG_XACT_ABORT_PREPARED, flushes, updates the clog, removes the entry
//     and then its state file.

// FinishPrepared asks a backend to COMMIT PREPARED (Commit) or ROLLBACK
// PREPARED a transaction by its global id.
type FinishPrepared struct {
	GID    string
	Commit bool
}

func (f FinishPrepared) String() string {
	if f.Commit {
		return fmt.Sprintf("commit-prepared(%s)", f.GID)
	}
	return fmt.Sprintf("rollback-prepared(%s)", f.GID)
}

// TwoPhaseKind says what a journal's two-phase event was.
type TwoPhaseKind uint8

const (
	// TwoPhasePrepared: PREPARE TRANSACTION was acknowledged.
	TwoPhasePrepared TwoPhaseKind = iota + 1
	// TwoPhaseCommitted: COMMIT PREPARED was acknowledged.
	TwoPhaseCommitted
	// TwoPhaseRolledBack: ROLLBACK PREPARED was acknowledged.
	TwoPhaseRolledBack
)

func (k TwoPhaseKind) String() string {
	switch k {
	case TwoPhasePrepared:
		return "prepared"
	case TwoPhaseCommitted:
		return "committed"
	case TwoPhaseRolledBack:
		return "rolled-back"
	}
	return fmt.Sprintf("TwoPhaseKind(%d)", uint8(k))
}

// TwoPhaseEvent is an acknowledged two-phase step: the client was told its
// transaction is prepared (End is the PREPARE record's end, Writes its
// changes) or that COMMIT/ROLLBACK PREPARED is done (End is that record's).
type TwoPhaseEvent struct {
	Kind   TwoPhaseKind
	XID    logindex.XID
	GID    string
	Node   storage.HostID
	End    storage.LSN
	Step   uint64
	Writes []Write
}

// PreparedWrites returns the writes of the prepared transaction xid as
// its PREPARE was acknowledged (nil if none was).
func (j *Journal) PreparedWrites(xid logindex.XID) []Write {
	for i := len(j.TwoPhase) - 1; i >= 0; i-- {
		if e := &j.TwoPhase[i]; e.Kind == TwoPhasePrepared && e.XID == xid {
			return e.Writes
		}
	}
	return nil
}

// ErrNoPrepared is COMMIT/ROLLBACK PREPARED of an unknown gid (LockGXact).
var ErrNoPrepared = errors.New("prepared transaction does not exist")

// prepareInsert is EndPrepare up to its WAL insert: reserve the gid
// (MarkAsPreparing, which fails the transaction on a gid in use or a full
// table), insert the PREPARE record with checkpoints delayed.
func (b *backend) prepareInsert(c *sim.Ctx) {
	n := b.n
	gid := b.txn.GID
	if _, dup := n.TwoPhase.ByGID(gid); dup {
		b.prepareFailed(c, fmt.Errorf("transaction identifier %q is already in use", gid))
		return
	}
	if n.TwoPhase.Len() >= shmem.MaxPreparedXacts {
		b.prepareFailed(c, errors.New("maximum number of prepared transactions reached"))
		return
	}
	rec := logindex.Record{Type: logindex.RecPrepare, XID: b.xid, GID: gid}
	if !b.insertXact(c, &rec) {
		return
	}
	n.TwoPhase.Add(shmem.GXact{XID: b.xid, GID: gid, PrepareStart: rec.Start, PrepareEnd: rec.End})
	b.commit = rec.End
	n.DelayChkpt++
	b.state = bPrepareFlush
	c.Log("prepare-insert", sim.Uint("xid", uint64(b.xid)), sim.Str("gid", gid), sim.LSNField("end", uint64(rec.End)))
}

// prepareFailed aborts the transaction whose PREPARE was refused: its
// writes are rolled back (an abort record, as AbortTransaction writes).
func (b *backend) prepareFailed(c *sim.Ctx, err error) {
	b.fail(c, b.txn.String(), err)
	b.txn.GID, b.txn.Abort = "", true
	b.commitInsert(c)
}

// insertXact inserts a transaction record; false if the step ends (WAL
// buffers full: flushed, retried next step; or the backend exited).
func (b *backend) insertXact(c *sim.Ctx, rec *logindex.Record) bool {
	n := b.n
	if err := n.WAL.Insert(rec); err != nil {
		if errors.Is(err, logindex.ErrWALBuffersFull) {
			if err := n.WAL.Flush(n.WAL.InsertLSN()); err != nil {
				b.exit(c, shmem.ExitPANIC, err.Error())
			}
			return false
		}
		b.exit(c, shmem.ExitPANIC, err.Error())
		return false
	}
	return true
}

// prepareFlush flushes the PREPARE record, marks the entry valid
// (MarkAsPrepared) and acknowledges.
func (b *backend) prepareFlush(c *sim.Ctx) {
	n := b.n
	if n.WAL.FlushedLSN() < b.commit {
		if err := n.WAL.Flush(b.commit); err != nil {
			b.exit(c, shmem.ExitPANIC, err.Error())
			return
		}
	}
	g, ok := n.TwoPhase.ByXID(b.xid)
	sim.Assertf(ok, "backend: prepared xid %d has no two-phase entry", b.xid)
	n.TwoPhase.MarkValid(b.xid)
	n.DelayChkpt--
	b.j.TwoPhase = append(b.j.TwoPhase, TwoPhaseEvent{Kind: TwoPhasePrepared, XID: b.xid, GID: g.GID, Node: n.Cfg.Host,
		End: b.commit, Step: c.StepNo(), Writes: b.written})
	c.Story("prepare", sim.Uint("xid", uint64(b.xid)), sim.Str("gid", g.GID), sim.LSNField("end", uint64(b.commit)))
	b.state = bIdle
	b.dieIfPending(c)
}

// startFinish is FinishPreparedTransaction's start: lock the entry and
// read its state back (from its file or its PREPARE record).
func (b *backend) startFinish(c *sim.Ctx, f FinishPrepared) {
	n := b.n
	if n.InRecovery {
		// PreventCommandDuringRecovery in standard_ProcessUtility.
		b.fail(c, f.String(), fmt.Errorf("cannot execute %s during recovery", strings.ToUpper(strings.ReplaceAll(f.verb(), "-", " "))))
		return
	}
	if !n.ReadWrite || n.WAL == nil {
		b.fail(c, f.String(), errReadOnly)
		return
	}
	g, ok := n.TwoPhase.ByGID(f.GID)
	if !ok || !g.Valid {
		b.fail(c, f.String(), fmt.Errorf("%w: %q", ErrNoPrepared, f.GID))
		return
	}
	if g.Locked {
		b.fail(c, f.String(), fmt.Errorf("prepared transaction with identifier %q is busy", f.GID))
		return
	}
	if err := b.n.ReadTwoPhaseState(g); err != nil {
		b.fail(c, f.String(), err)
		return
	}
	g.Locked = true
	b.fin, b.xid, b.commit = f, g.XID, 0
	b.state = bFinishInsert
	c.Log("finish-prepared", sim.Str("gid", f.GID), sim.Uint("xid", uint64(g.XID)), sim.Bool("commit", f.Commit),
		sim.Bool("ondisk", g.OnDisk))
}

// finishInsert inserts COMMIT PREPARED (checkpoints delayed until the clog
// has it: RecordTransactionCommitPrepared's DELAY_CHKPT_START) or ROLLBACK
// PREPARED.
func (b *backend) finishInsert(c *sim.Ctx) {
	n := b.n
	typ := logindex.RecAbortPrepared
	if b.fin.Commit {
		typ = logindex.RecCommitPrepared
	}
	rec := logindex.Record{Type: typ, XID: b.xid}
	if !b.insertXact(c, &rec) {
		return
	}
	b.commit = rec.End
	if b.fin.Commit {
		n.DelayChkpt++
	}
	b.state = bFinishFlush
	c.Log("finish-insert", sim.Str("type", typ.String()), sim.Uint("xid", uint64(b.xid)), sim.LSNField("end", uint64(rec.End)))
}

// finishFlush flushes the record, sets the clog, removes the entry, then
// its state file, and acknowledges.
func (b *backend) finishFlush(c *sim.Ctx) {
	n := b.n
	if n.WAL.FlushedLSN() < b.commit {
		if err := n.WAL.Flush(b.commit); err != nil {
			b.exit(c, shmem.ExitPANIC, err.Error())
			return
		}
	}
	kind, st := TwoPhaseRolledBack, shmem.XactAborted
	if b.fin.Commit {
		kind, st = TwoPhaseCommitted, shmem.XactCommitted
		n.DelayChkpt--
	}
	n.Clog.Set(b.xid, st)
	g, ok := n.TwoPhase.Remove(b.xid)
	sim.Assertf(ok, "backend: finished xid %d has no two-phase entry", b.xid)
	if g.OnDisk {
		// RemoveTwoPhaseFile(xid, true): a failure is only a WARNING.
		if err := shmem.RemoveTwoPhaseFile(n.Mount, g.XID); err != nil {
			c.Log("WARNING", sim.Str("err", err.Error()))
		}
	}
	writes := b.j.PreparedWrites(b.xid)
	b.j.TwoPhase = append(b.j.TwoPhase, TwoPhaseEvent{Kind: kind, XID: b.xid, GID: g.GID, Node: n.Cfg.Host,
		End: b.commit, Step: c.StepNo(), Writes: writes})
	if b.fin.Commit {
		b.j.Acks = append(b.j.Acks, Ack{XID: b.xid, Node: n.Cfg.Host, CommitEnd: b.commit, Step: c.StepNo(), Writes: writes})
	}
	c.Story(b.fin.verb(), sim.Uint("xid", uint64(b.xid)), sim.Str("gid", g.GID), sim.LSNField("end", uint64(b.commit)))
	b.state = bIdle
	b.dieIfPending(c)
}

func (f FinishPrepared) verb() string {
	if f.Commit {
		return "commit-prepared"
	}
	return "rollback-prepared"
}

// checkPointTwoPhase is CheckPointGuts' last step, CheckPointTwoPhase with
// the checkpoint's redo, before the checkpoint record is inserted. An I/O
// error exits the checkpointer as the model's checkpoint does for its clog
// and slot writes (PostgreSQL's RecreateTwoPhaseFile ERRORs and the
// checkpointer retries the checkpoint later; the model has no such retry
// loop). False if it exited.
func checkPointTwoPhase(c *sim.Ctx, n *shmem.Node, name string, redo storage.LSN) bool {
	if !n.Cfg.Orderings.TwoPhaseCheckpoint {
		return true // hazard skip-twophase-checkpoint
	}
	wrote, err := n.TwoPhase.CheckPointTwoPhase(n.Mount, redo, n.Cfg.Fidelity.TwoPhaseFileLeftOnWriteError)
	if err != nil {
		exitProc(c, n, name, shmem.ExitPANIC, err)
		return false
	}
	if wrote > 0 {
		c.Mark("postmaster/twophase-state-file-written")
		c.Log("twophase-files", sim.Int("written", int64(wrote)), sim.LSNField("redo", uint64(redo)))
	}
	return true
}
