package postmaster

import (
	"errors"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// A standby's checkpointer runs restartpoints (xlog.c CreateRestartPoint):
// the newest checkpoint record recovery met becomes the control file's
// checkpoint and redo pointer, on the standby's OWN disk, once everything
// below that redo is there. The model's checkpoints are lazy (redo at or
// below the consistent LSN, nothing flushed by the checkpointer), so the
// candidate's redo must be at or below both the BGW replay point (every
// record below it replayed into buffers: polar_checkpoint_ringbuf bounded by
// bg_replayed_lsn) and the standby's consistent LSN (every change below it
// written to its disk by its bgwriter). CheckPointGuts writes the clog
// first; then the WAL segments no one needs any more are removed
// (RemoveOldXlogFiles with KeepLogSeg: below the new redo and every slot's
// restart LSN). A standby restarted later replays from there, and a
// promoted standby's crash recovery too.

// restartpointBound is the highest redo a restartpoint may take now.
func restartpointBound(n *shmem.Node) storage.LSN {
	if OwnStorage(n) {
		return min(n.BGW.ReplayPoint(), n.Pool.ConsistentLSN())
	}
	return n.BGW.ReplayPoint()
}

// ownRestartpoint makes cp the standby's restartpoint on its own disk: clog,
// control file, then WAL recycling. It reports whether the process is
// still alive (a write error PANICs, as CreateRestartPoint's would).
func ownRestartpoint(c *sim.Ctx, n *shmem.Node, name string, cp shmem.CheckpointSeen) bool {
	if err := shmem.WriteClog(n.Mount, &n.Clog); err != nil {
		exitProc(c, n, name, shmem.ExitPANIC, err)
		return false
	}
	ctl := n.Control
	ctl.CheckPoint, ctl.Redo = cp.LSN, cp.Redo
	ctl.State = shmem.DBInArchiveRecovery
	if err := shmem.WriteControl(n.Mount, ctl); err != nil {
		exitProc(c, n, name, shmem.ExitPANIC, err)
		return false
	}
	n.Control = ctl
	// polar_logindex_remove_old_files: LogIndex below what is still used
	// goes first (polar_calc_min_used_lsn(true): the redo, the slots'
	// restart LSNs, the BGW replay point in parallel replay). Replay reads
	// a page's history from the truncation point on, so the WAL it needs
	// starts there.
	used := min(minUsedLSN(n, cp.Redo), n.BGW.ReplayPoint())
	if n.Index.Enabled() && n.Index.Writable() && !n.SaveStalled {
		if _, err := n.Index.Save(n.WAL.FlushedLSN()); err != nil && !errors.Is(err, logindex.ErrWALNotFlushed) {
			exitProc(c, n, name, shmem.ExitPANIC, err)
			return false
		}
		if used > n.Index.TruncatedBelow() {
			if _, err := n.Index.Truncate(used); err != nil {
				exitProc(c, n, name, shmem.ExitPANIC, err)
				return false
			}
		}
	}
	return recycleOwnWAL(c, n, name, min(used, n.Index.TruncatedBelow()))
}

// recycleOwnWAL is a checkpoint's or restartpoint's RemoveOldXlogFiles on a
// node's own disk (a standby, or a promoted standby's checkpoints): every
// segment below KeepLogSeg's bound goes, the bound being the lowest of upto
// (the redo), the slots' restart LSNs and what LogIndex still references
// (polar_calc_min_used_lsn(false)). The shared device's WAL is not recycled
// in the model. It reports whether the process is still alive.
func recycleOwnWAL(c *sim.Ctx, n *shmem.Node, name string, upto storage.LSN) bool {
	keep := minUsedLSN(n, upto)
	if n.Index.Enabled() {
		keep = min(keep, n.Index.TruncatedBelow())
	}
	removed, err := removeOldWAL(n, keep)
	if err != nil {
		exitProc(c, n, name, shmem.ExitPANIC, err)
		return false
	}
	if removed > 0 {
		c.Mark("postmaster/wal-recycled")
		c.Log("remove-old-wal", sim.Int("segments", int64(removed)), sim.LSNField("keep", uint64(keep)))
	}
	return true
}

// minUsedLSN is the lowest of the redo pointer and every slot's restart
// LSN (XLogGetReplicationSlotMinimumLSN with the redo).
func minUsedLSN(n *shmem.Node, redo storage.LSN) storage.LSN {
	keep := redo
	for _, s := range n.Slots {
		if s.Restart.Valid() && s.Restart < keep {
			keep = s.Restart
		}
	}
	return keep
}

// removeOldWAL removes every WAL segment that ends at or below keep
// (RemoveOldXlogFiles; the model deletes rather than renames for reuse) and
// returns how many it removed.
func removeOldWAL(n *shmem.Node, keep storage.LSN) (int, error) {
	size := n.Cfg.LogIndex.WALSegmentSize
	removed := 0
	for seg := uint64(0); seg < logindex.SegNo(keep, size); seg++ {
		path := logindex.SegmentName(seg, size)
		if !n.Mount.Exists(path) {
			continue
		}
		if err := n.Mount.Remove(path); err != nil {
			return removed, err
		}
		removed++
	}
	return removed, nil
}
