package startup

import (
	"fmt"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// openWALAfterCrash opens WAL for insertion at the end of crash recovery.
// Without archive recovery (a primary's crash recovery: no replica.signal,
// standby.signal or recovery.signal) a WAL that ends in an aborted
// contrecord, a record whose continuation page is missing, is not
// overwritten from that record's start: xlogrecovery.c ReadRecord keeps
// abortedRecPtr and missingContrecPtr, StartupXLOG sets EndOfLog to
// missingContrecPtr, and CreateOverwriteContrecordRecord writes
// XLOG_OVERWRITE_CONTRECORD there before anything else, so readers that
// hold the record's first part skip it. A replica's promote never does this
// (ArchiveRecoveryRequested is set by replica.signal): stepEndOfWAL opens
// WAL at the end of the last complete record.
func (p *Process) openWALAfterCrash(c *sim.Ctx) (*logindex.WAL, bool) {
	missing, aborted, err := p.n.Reader.AbortedContrecord(p.end, p.endLast)
	if err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: re-read end of WAL at %v: %v", p.end, err))
		return nil, false
	}
	if !aborted {
		return p.openWAL(c, 0, 0)
	}
	return p.openWAL(c, p.end, missing)
}

// openWALAtPromote opens WAL at the end of the old primary's valid WAL
// (P4). Only a replica that kept an aborted contrecord (the hazard
// keep-aborted-contrecord) opens it at that record's missing page and
// writes OVERWRITE_CONTRECORD there, however far below the end it now is.
func (p *Process) openWALAtPromote(c *sim.Ctx) (*logindex.WAL, bool) {
	if p.missing.Valid() {
		return p.openWAL(c, p.aborted, p.missing)
	}
	return p.openWAL(c, 0, 0)
}

// keepAborted runs where a replica's startup meets the end of valid WAL.
// Its replica.signal sets ArchiveRecoveryRequested, so ReadRecord does not
// keep an aborted contrecord (Orderings.ForgetAbortedContrecord); off,
// the first one met is kept, and xlogrecovery.c clears it only on
// replaying the OVERWRITE_CONTRECORD that names it.
func (p *Process) keepAborted(c *sim.Ctx) {
	n := p.n
	if n.Cfg.Orderings.ForgetAbortedContrecord || p.missing.Valid() {
		return
	}
	missing, ok, err := n.Reader.AbortedContrecord(n.ReplayLSN, p.last)
	if err != nil || !ok {
		return
	}
	p.aborted, p.missing = n.ReplayLSN, missing
	c.Log("keep-aborted-contrecord", sim.LSNField("aborted", uint64(p.aborted)), sim.LSNField("missing", uint64(missing)))
}

// openWAL opens WAL at the end of recovery: at p.end, or, for an aborted
// contrecord at aborted whose continuation page missing is gone, at
// missing with an OVERWRITE_CONTRECORD as its first record.
func (p *Process) openWAL(c *sim.Ctx, aborted, missing storage.LSN) (*logindex.WAL, bool) {
	n := p.n
	start := p.end
	if missing.Valid() {
		start = missing
	}
	w, err := logindex.NewWAL(n.Mount, n.Cfg.LogIndex, start, p.endLast)
	if err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: open WAL at %v: %v", start, err))
		return nil, false
	}
	n.WAL = w
	if !missing.Valid() {
		return w, true
	}
	rec := logindex.Record{Type: logindex.RecOverwriteContrecord, Aborted: aborted}
	if err := w.Insert(&rec); err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: insert overwrite-contrecord: %v", err))
		return nil, false
	}
	c.Mark("startup/overwrite-contrecord")
	c.Story("overwrite-contrecord", sim.LSNField("aborted", uint64(aborted)), sim.LSNField("missing", uint64(missing)),
		sim.LSNField("end", uint64(rec.End)))
	return w, true
}
