package startup

import (
	"fmt"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// Prepared transactions in recovery, after PostgreSQL's twophase.c as
// StartupXLOG (src/backend/access/transam/xlog.c) calls it:
// restoreTwoPhaseData before redo (xlog.c:5372), PrepareRedoAdd and
// PrepareRedoRemove while replaying XLOG_XACT_PREPARE and
// XLOG_XACT_COMMIT_PREPARED / XLOG_XACT_ABORT_PREPARED (xact_redo), and
// RecoverPreparedTransactions at the end of recovery (xlog.c:5835, before
// polar_online_promote_data: promote-steps.md S17).

// restoreTwoPhaseData fills the two-phase state from the state files
// (restoreTwoPhaseData → ProcessTwoPhaseBuffer(fromdisk) → PrepareRedoAdd
// with invalid LSNs, so ondisk). A file of an xid the clog already
// decided, or of an xid at or past the checkpoint's next xid, is stale:
// removed where the mount may write, skipped anyway. A corrupt file is
// FATAL for startup. False if the process exited.
func (p *Process) restoreTwoPhaseData(c *sim.Ctx) bool {
	n := p.n
	n.TwoPhase = shmem.TwoPhase{}
	writable := p.ownsTwoPhaseDir()
	restored := 0
	for _, xid := range shmem.TwoPhaseFiles(n.Mount) {
		stale := n.Clog.Get(xid) != shmem.XactInProgress || uint32(xid) >= n.Control.NextXID
		if stale {
			c.Log("WARNING", sim.Str("msg", "removing stale two-phase state file"), sim.Uint("xid", uint64(xid)))
			if writable {
				if err := shmem.RemoveTwoPhaseFile(n.Mount, xid); err != nil {
					p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: remove two-phase state file: %v", err))
					return false
				}
			}
			continue
		}
		gid, err := shmem.ReadTwoPhaseFile(n.Mount, xid)
		if err != nil {
			p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: %v", err))
			return false
		}
		n.TwoPhase.Add(shmem.GXact{XID: xid, GID: gid, OnDisk: true, InRedo: true})
		restored++
	}
	if restored > 0 {
		c.Log("twophase-restored", sim.Int("files", int64(restored)))
	}
	return true
}

// redoTwoPhase replays a two-phase record into the two-phase state (and the
// clog for COMMIT/ROLLBACK PREPARED). It reports whether m was one.
func (p *Process) redoTwoPhase(c *sim.Ctx, m *logindex.Meta) bool {
	n := p.n
	switch m.Type {
	case logindex.RecPrepare:
		// PrepareRedoAdd: a transaction already restored from its file
		// (a crash while a checkpoint was running) is not added twice.
		if _, dup := n.TwoPhase.ByXID(m.XID); dup {
			c.Log("WARNING", sim.Str("msg", "could not recover two-phase state file: already restored from disk"),
				sim.Uint("xid", uint64(m.XID)), sim.LSNField("lsn", uint64(m.Start)))
			return true
		}
		n.TwoPhase.Add(shmem.GXact{XID: m.XID, GID: m.GID, PrepareStart: m.Start, PrepareEnd: m.End, InRedo: true})
	case logindex.RecCommitPrepared, logindex.RecAbortPrepared:
		st := shmem.XactAborted
		if m.Type == logindex.RecCommitPrepared {
			st = shmem.XactCommitted
		}
		n.Clog.Set(m.XID, st)
		p.prepareRedoRemove(c, m.XID)
	default:
		return false
	}
	return true
}

// prepareRedoRemove drops xid's entry and, where this node may write the
// directory (a primary in crash recovery, a standby's own disk), its state
// file. A replica's state-file directory is its local one in PolarDB
// (POLAR_TWOPHASE_DIR), never shared storage.
func (p *Process) prepareRedoRemove(c *sim.Ctx, xid logindex.XID) {
	n := p.n
	g, ok := n.TwoPhase.Remove(xid)
	if !ok || !g.OnDisk || !p.ownsTwoPhaseDir() {
		return
	}
	if err := shmem.RemoveTwoPhaseFile(n.Mount, xid); err != nil {
		c.Log("WARNING", sim.Str("err", err.Error()))
	}
}

// ownsTwoPhaseDir reports whether the state files this startup reads are
// its own to remove: a primary's crash recovery or a standby's, on a
// writable mount. A replica reads shared storage's (see docs/model.md §2)
// and never writes it, even once the promote remounted it read-write.
func (p *Process) ownsTwoPhaseDir() bool {
	return p.mode != ModeReplica && p.n.Mount.Mode() == storage.MountReadWrite
}

// recoverPreparedTransactions is RecoverPreparedTransactions: every entry
// recovery built becomes a prepared transaction again (valid, its gid in
// pg_prepared_xacts), its state read back from its file or its PREPARE
// record; one the clog already decided is dropped (stale). A state that
// cannot be read is an ERROR in the startup process: FATAL. False if the
// process exited.
func (p *Process) recoverPreparedTransactions(c *sim.Ctx) bool {
	n := p.n
	recovered := 0
	for i := 0; i < n.TwoPhase.Len(); i++ {
		g := &n.TwoPhase.All()[i]
		if n.Clog.Get(g.XID) != shmem.XactInProgress {
			p.prepareRedoRemove(c, g.XID)
			i--
			continue
		}
		if err := p.n.ReadTwoPhaseState(g); err != nil {
			p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: recover prepared transaction %d: %v", g.XID, err))
			return false
		}
		n.TwoPhase.MarkValid(g.XID)
		recovered++
	}
	if recovered > 0 {
		if p.mode == ModeCrash {
			c.Mark("startup/recover-prepared-at-crash-recovery")
		} else {
			c.Mark("startup/recover-prepared-at-promote")
		}
		c.Log("recover-prepared", sim.Int("xacts", int64(recovered)))
	}
	return true
}

// promoteTwoPhaseFiles is the fixed profiles' fix of docs/findings.md F7
// (Orderings.PromoteTwoPhaseFiles), run by a promote before its control
// file adopts the restartpoint's redo: CheckPointTwoPhase against that redo
// into shared storage. The replica's restartpoint took the old primary's
// checkpoint record as proof that shared storage holds the state of every
// transaction prepared below its redo, but that checkpoint may never have
// completed (a failed pg_control write) and the old primary's next crash
// recovery removes its file as a future one (restoreTwoPhaseData); PolarDB's
// replica restartpoint writes its file only to its local pg_twophase
// (POLAR_TWOPHASE_DIR), which no other node reads. Crash recovery adopts no
// new redo and skips this. A failed write is FATAL before the control file
// moves (as a failed control-file write is). False if the process exited.
func (p *Process) promoteTwoPhaseFiles(c *sim.Ctx) bool {
	n := p.n
	if p.mode == ModeCrash || !n.Cfg.Orderings.PromoteTwoPhaseFiles {
		return true
	}
	wrote, err := n.TwoPhase.CheckPointTwoPhase(n.Mount, n.Local.Redo, n.Cfg.Fidelity.TwoPhaseFileLeftOnWriteError)
	if err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: write two-phase state file: %v", err))
		return false
	}
	if wrote > 0 {
		c.Mark("startup/promote-wrote-twophase-files")
		c.Log("promote-twophase-files", sim.Int("wrote", int64(wrote)), sim.LSNField("redo", uint64(n.Local.Redo)))
	}
	return true
}
