package cluster

import (
	"strings"

	"promotesim/storage"
)

// walCrashKeep decides, for a host losing power in a wal-write-behind
// world, the fate of one unsynced block write: WAL blocks (pg_wal/) survive,
// every other block is dropped, as a crash always did. On PFS a completed
// write is on the storage servers whatever the fsync, and replicas read it
// at once (their catch-up and storage reads take any valid WAL they find):
// dropping WAL another host may already have replayed would model a shared
// volatile cache no PolarDB deployment has. What a power loss takes is the
// WAL still in the primary's buffers, so the tail can end in a record
// whose first WAL page was written and whose continuation was not (an
// aborted contrecord), or miss its last records.
func (c *Cluster) walCrashKeep(w storage.PendingWrite) storage.KeepMode {
	if strings.HasPrefix(w.Path, "pg_wal/") {
		return storage.Keep
	}
	return storage.Drop
}
