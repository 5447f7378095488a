package postmaster

import (
	"fmt"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// writeBehind is one step of a walwriter whose write and fsync are
// separate (shmem.Config.WALWriteBehind), as XLogBackgroundFlush
// (xlog.c) lets them be: a step after a write syncs what was written; a
// step with everything written synced writes, up to the last complete WAL
// page when one lies past what is written (the page being filled is left
// for later, so a record crossing into it is written, and then synced,
// only in part), else all of it. A crash after a partial write finds a
// record whose continuation page is missing (the continuation was still
// in WAL buffers).
// Commits are unaffected: a backend acknowledges only after its own
// XLogFlush (commitFlush), which writes and syncs.
func (a *walWriter) writeBehind(c *sim.Ctx) {
	n := a.n
	w := n.WAL
	if w.WrittenLSN() > w.FlushedLSN() {
		if err := w.Sync(); err != nil {
			exitProc(c, n, a.Name(), shmem.ExitPANIC, err)
			return
		}
		c.Log("wal-sync", sim.LSNField("flushed", uint64(w.FlushedLSN())))
		return
	}
	upto := logindex.PageStart(w.InsertLSN())
	if upto <= w.WrittenLSN() {
		upto = w.InsertLSN()
	}
	if err := w.Write(upto); err != nil {
		exitProc(c, n, a.Name(), shmem.ExitPANIC, err)
		return
	}
	if upto < w.InsertLSN() {
		// The page being filled is left for later: the last record may
		// now be on storage only up to a WAL page boundary.
		c.Mark("postmaster/wal-write-partial")
		c.Story("wal-write-pages", sim.LSNField("written", uint64(w.WrittenLSN())), sim.LSNField("insert", uint64(w.InsertLSN())),
			sim.LSNField("flushed", uint64(w.FlushedLSN())))
		return
	}
	c.Log("wal-write", sim.LSNField("written", uint64(w.WrittenLSN())), sim.LSNField("flushed", uint64(w.FlushedLSN())))
}

// contrecordPrefix: when the record read at sent starts past it (an
// OVERWRITE_CONTRECORD, which the reader returns in place of the aborted
// record it names), the bytes in between, the aborted record's first part
// as storage holds it; a byte stream would carry them.
func contrecordPrefix(n *shmem.Node, sent storage.LSN, rec *logindex.Record) ([]byte, error) {
	if rec.Start <= sent {
		return nil, nil
	}
	b := make([]byte, rec.Start-sent)
	if ok, err := n.Reader.ReadRaw(sent, b); err != nil || !ok {
		return nil, fmt.Errorf("walsender: read aborted record at %v: ok=%v err=%v", sent, ok, err)
	}
	return b, nil
}

// writePrefix writes a standby's copy of an aborted record's first part
// at the expected position, before the OVERWRITE_CONTRECORD that follows
// it (prev is that record's prev link: our last complete record).
func (a *standbyReceiver) writePrefix(c *sim.Ctx, b []byte, prev storage.LSN) bool {
	n := a.n
	if a.wal == nil || a.wal.InsertLSN() != a.expected {
		w, err := logindex.NewWAL(n.Mount, n.Cfg.LogIndex, a.expected, prev)
		if err != nil {
			exitProc(c, n, a.Name(), shmem.ExitFATAL, fmt.Errorf("walreceiver: open WAL at %v: %w", a.expected, err))
			return false
		}
		a.wal = w
		n.WAL = w
	}
	if err := a.wal.InsertRaw(b); err != nil {
		exitProc(c, n, a.Name(), shmem.ExitFATAL, fmt.Errorf("walreceiver: write aborted record at %v: %w", a.expected, err))
		return false
	}
	return true
}
