package startup

import (
	"errors"
	"fmt"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
)

// ErrStandbyNeedsLogIndex: a standby in parallel replay mode
// (polar_enable_parallel_replay_standby_mode) replays through LogIndex; with
// polar_logindex_mem_size = 0 the model has no other standby redo.
var ErrStandbyNeedsLogIndex = errors.New("startup: a standby replays in parallel through LogIndex, but polar_logindex_mem_size is 0")

// A standby has its own storage: n.Mount is its private device, holding a
// base backup of shared storage (control file, data pages, clog, WAL) plus
// every record its walreceiver wrote since. Startup reads only that device;
// it never touches the shared one.
//
// Before consistency startup replays records into buffers itself, as any
// PostgreSQL standby does (the base backup's pages may be ahead of or behind
// its redo pointer; redo is idempotent). The base backup copied WAL at least
// up to the primary's flushed WAL at the copy, and no page on shared storage
// was ahead of that (WAL before data), so the end of the copied WAL is a
// safe minRecoveryPoint: consistency is reached there. Records before it are
// not indexed: their changes are in the pool or on the standby's disk once
// startup applied them.
//
// At consistency startup wakes the BGW into POLAR_BG_PARALLEL_REPLAYING with
// the replay point and fake oldest LSN at the replayed position
// (polar_logindex_wakeup_bg_replay, called from CheckRecoveryConsistency),
// opens hot standby, and from then on only parses: each record the
// walreceiver flushed to pg_wal goes into LogIndex (page records, which the
// parallel replay workers and reading backends replay) or into the clog
// (commit, abort). The standby's LogIndex is writable (its own storage):
// when the memtable ring is full, startup saves tables itself.

// initStandby follows stepInit's read of the standby's own control file.
func (p *Process) initStandby(c *sim.Ctx) {
	n := p.n
	if !n.Index.Enabled() {
		p.exit(c, shmem.ExitFATAL, ErrStandbyNeedsLogIndex.Error())
		return
	}
	n.Local.State = shmem.DBInArchiveRecovery
	p.to(StateStandbyRedo, StateInit)
	c.Story("standby-recovery", sim.LSNField("redo", uint64(p.redo)), sim.LSNField("checkpoint", uint64(p.ckpt)),
		sim.Str("storage", "own"))
}

// stepStandbyRedo replays one record of the standby's own WAL into buffers
// (StartupXLOG's redo loop before reachedConsistency): page records dirty
// their buffers with the record's start as oldest LSN, commit and abort
// update the clog. The end of the WAL on the standby's disk is consistency.
func (p *Process) stepStandbyRedo(c *sim.Ctx) {
	ok, retry := p.readOrWait(c)
	if retry {
		return
	}
	if !ok {
		p.reachConsistency(c)
		return
	}
	rec := &p.rec
	if rec.Type.HasPages() && !p.redoPages(c, rec) {
		return
	}
	m := rec.Meta()
	p.replayNonPage(c, &m)
	if m.Type == logindex.RecCheckpoint {
		// Standby redo remembers the last checkpoint met (what a later
		// restartpoint takes, stepRestartpoint); crash redo keeps the
		// control file's (stepInit).
		p.ckpt, p.ckptRedo = m.Start, m.Redo
	}
	p.redone(c, rec)
}

// replayNonPage applies what a record means besides pages, in crash and
// standby redo: commit and abort to the clog, two-phase records to the
// prepared transactions, a checkpoint traced, the largest xid seen.
func (p *Process) replayNonPage(c *sim.Ctx, m *logindex.Meta) {
	switch m.Type {
	case logindex.RecCommit:
		p.n.Clog.Set(m.XID, shmem.XactCommitted)
	case logindex.RecAbort:
		p.n.Clog.Set(m.XID, shmem.XactAborted)
	case logindex.RecPrepare, logindex.RecCommitPrepared, logindex.RecAbortPrepared:
		p.redoTwoPhase(c, m)
	case logindex.RecCheckpoint:
		c.Log("checkpoint-seen", sim.LSNField("lsn", uint64(m.Start)), sim.LSNField("redo", uint64(m.Redo)))
	}
	if m.XID > p.maxXID {
		p.maxXID = m.XID
	}
}

// reachConsistency: the standby's WAL ends here, so its pages are consistent
// (see above). Wake the BGW into parallel replay from here, open hot standby,
// and tell the walreceiver where streaming starts (n.ReceivedLSN: the end of
// the WAL on the standby's disk).
func (p *Process) reachConsistency(c *sim.Ctx) {
	n := p.n
	// WAL before data on this disk: everything up to here is durable, so the
	// pages redo dirtied may be written now (redoPages positioned n.WAL only
	// at the start of the last page record). The walreceiver replaces it
	// with its writer at the first record it receives.
	if n.WAL == nil || n.WAL.FlushedLSN() < n.ReplayLSN {
		w, err := logindex.NewWAL(n.Mount, n.Cfg.LogIndex, n.ReplayLSN, p.last)
		if err != nil {
			p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: WAL at %v: %v", n.ReplayLSN, err))
			return
		}
		n.WAL = w
	}
	if n.ReceivedLSN < n.ReplayLSN {
		n.ReceivedLSN = n.ReplayLSN
	}
	n.BGW.StartParallelReplaying(n.ReplayLSN)
	n.BGW.RaiseFakeOldest(n.ReplayLSN)
	n.Accepting = true
	p.to(StateStandbyStreaming, StateStandbyRedo)
	c.Mark("startup/standby-consistent")
	c.Story("hot-standby", sim.LSNField("replayed", uint64(n.ReplayLSN)), sim.LSNField("redo", uint64(p.redo)),
		sim.Str("bgw", n.BGW.State().String()), sim.LSNField("replay-point", uint64(n.BGW.ReplayPoint())))
}

// stepStandbyStreaming parses one record the walreceiver flushed to the
// standby's pg_wal (Ready only while n.ReplayLSN < n.ReceivedLSN).
func (p *Process) stepStandbyStreaming(c *sim.Ctx) {
	n := p.n
	ok, retry := p.readOrWait(c)
	if retry {
		return
	}
	if !ok {
		// Flushed WAL below n.ReceivedLSN must be readable; a torn or
		// missing record here is a bug of the walreceiver's write.
		p.exit(c, shmem.ExitPANIC, fmt.Sprintf("startup: no valid record at %v below the received end %v", n.ReplayLSN, n.ReceivedLSN))
		return
	}
	m := p.rec.Meta()
	p.consume(c, &m, "pg_wal")
}
