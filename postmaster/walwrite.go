package postmaster

import (
	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
)

// writeBehind is one step of a walwriter whose write and fsync are
// separate (shmem.Config.WALWriteBehind), as XLogBackgroundFlush
// (xlog.c) lets them be: a step with WAL to write writes it, up to the
// last complete WAL page when one lies past what is written (the page being
// filled is left for later, so a record crossing into it is written only
// in part), else all of it; a step with nothing left to write syncs. A
// crash between the two finds the written WAL visible but not durable.
// Commits are unaffected: a backend acknowledges only after its own
// XLogFlush (commitFlush), which writes and syncs.
func (a *walWriter) writeBehind(c *sim.Ctx) {
	n := a.n
	w := n.WAL
	if w.Unwritten() == 0 {
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
