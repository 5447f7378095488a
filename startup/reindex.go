package startup

import (
	"errors"

	"promotesim/logindex"
	"promotesim/sim"
	"promotesim/storage"
)

// Recovery indexes WAL from the last saved LogIndex table, not from the redo
// pointer. A replica reuses a full memtable only once the primary's meta says
// a table at or past it was saved, and a primary saves only what it has
// indexed, so a primary's LogIndex must hold every page record after the
// last saved table. Two ways of becoming primary would otherwise lose the
// records between the last saved table and the redo pointer: a crash (the
// unsaved memtables die with shared memory, and redo re-indexes only from
// the redo pointer; swarm seed 7161, fence epoch) and online promote of a
// replica that started after them (its catch-up began at the redo pointer).
// A replica still holding those records in full memtables then waits for a
// save that never comes once the workload stops.
//
// PolarDB reads WAL from below the redo pointer for this reason:
// polar_logindex_redo_init (polar_logindex_redo.c) returns
// polar_logindex_snapshot_init's start LSN, the meta's start_lsn (which
// polar_log_index_write_meta sets to the saved max_lsn) when it is below the
// checkpoint, on the primary and on a replica alike ("this will make ro and
// rw create logindex from the same checkpoint"), and StartupXLOG reads from
// there; polar_logindex_parse_xlog only indexes the records below the redo
// start, it does not replay them.
//
// One difference: with nothing saved yet PolarDB has no start_lsn, starts at
// the checkpoint, and has replicas begin indexing at the checkpoint the
// primary next records in the meta. The model has no start_lsn and never
// removes WAL, so "nothing saved" means every record since FirstLSN is
// unsaved, and recovery indexes from there.

// beginReindex moves on to next (StateCrashRedo or StateCatchUp), through
// StateReindex when LogIndex is on and has unsaved records below the redo
// pointer.
func (p *Process) beginReindex(c *sim.Ctx, next State) {
	n := p.n
	p.afterReindex = next
	from := storage.InvalidLSN
	if n.Index.Enabled() {
		from = n.Index.Saved().MaxLSN
		if !from.Valid() {
			from = logindex.FirstLSN
		}
	}
	if !from.Valid() || from >= p.redo {
		p.to(next, StateInit)
		p.afterIndexed(c)
		return
	}
	p.reindex, p.reindexPrev = from, storage.InvalidLSN
	p.to(StateReindex, StateInit)
	c.Log("reindex", sim.LSNField("from", uint64(from)), sim.LSNField("redo", uint64(p.redo)))
}

// stepReindex indexes one record below the redo pointer, or moves on once it
// reaches the redo pointer (or the end of valid WAL: nothing below the redo
// pointer is missing unless storage lost it).
func (p *Process) stepReindex(c *sim.Ctx) {
	n := p.n
	if p.reindex >= p.redo {
		p.endReindex(c)
		return
	}
	err := n.Reader.Read(p.reindex, p.reindexPrev, &p.rec)
	if errors.Is(err, logindex.ErrInvalidRecord) {
		c.Log("reindex-stop", sim.LSNField("at", uint64(p.reindex)), sim.Str("err", err.Error()))
		p.endReindex(c)
		return
	}
	if err != nil {
		c.Log("read-error", sim.LSNField("lsn", uint64(p.reindex)), sim.Str("err", err.Error()))
		p.wait(c, "read-error", retryIO)
		return
	}
	rec := &p.rec
	if rec.Type.HasPages() && rec.Start > n.Index.Saved().MaxLSN {
		m := rec.Meta()
		// A full ring is handled as in replay: a primary saves its oldest
		// table itself (log_index_force_save_table; WAL below the redo
		// pointer is durable), a replica rereads the meta and otherwise
		// waits for the primary to save.
		if p.index(c, &m) != consumed {
			return
		}
	}
	c.Detail("reindex-record", sim.Str("type", rec.Type.String()), sim.LSNField("lsn", uint64(rec.Start)), sim.LSNField("end", uint64(rec.End)))
	p.reindexPrev, p.reindex = rec.Start, rec.End
}

func (p *Process) endReindex(c *sim.Ctx) {
	c.Log("reindex-done", sim.LSNField("at", uint64(p.reindex)), sim.LSNField("last", uint64(p.n.Index.LastLSN())))
	p.to(p.afterReindex, StateReindex)
	p.afterIndexed(c)
}

// afterIndexed starts a promote SIGUSR2 asked for before catch-up began.
func (p *Process) afterIndexed(c *sim.Ctx) {
	if p.st == StateCatchUp && p.promoteReq {
		c.Mark("startup/promote-before-hot-standby")
		p.beginPromote(c, false)
	}
}
