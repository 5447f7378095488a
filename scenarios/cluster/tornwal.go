package cluster

import (
	"strings"

	"promotesim/storage"
)

// walCrashModes are what a power loss may do to one unsynced WAL block,
// in the order the schedule's choice indexes them: the first is the FIFO
// schedule's (choice 0), so scripts see every unsynced write dropped.
var walCrashModes = [...]storage.KeepMode{storage.Drop, storage.Keep, storage.Tear}

// walCrashKeep decides, for a host losing power, the fate of one unsynced
// block write: a WAL block (pg_wal/) is dropped, kept or torn as the
// schedule chooses (PostgreSQL's WAL sits on a file system that may have
// written any of its pages, or half of one, before the power went: the
// record CRC and xl_prev catch what is torn); every other block is dropped,
// as a crash always did.
func (c *Cluster) walCrashKeep(w storage.PendingWrite) storage.KeepMode {
	if !strings.HasPrefix(w.Path, "pg_wal/") {
		return storage.Drop
	}
	return walCrashModes[c.S.Chooser().Choose(c.S.Site("crash-wal-block"), len(walCrashModes))]
}
