package check

import (
	"fmt"

	"promotesim/logindex"
	"promotesim/postmaster"
	"promotesim/scenarios/oracle"
	"promotesim/shmem"
	"promotesim/storage"
)

// A promoted standby is the primary of another history, on its own disk
// (startup/standby_promote.go): the shared device's oracle knows nothing of
// what it acknowledges. Its commits are judged on its own disk instead, as
// PolarDB's test 007 does after `stop -m i`: crash recovery of that disk
// must show every one of them.

// ownHistory reports whether ack a was given by a standby host: a standby
// acknowledges nothing until it is promoted, and from then on writes only
// its own disk.
func (k *Checks) ownHistory(a *postmaster.Ack) bool { return k.c.IsStandby(a.Node) }

// slotKey names one slot of one page.
type slotKey struct {
	page int
	slot uint8
}

// promotedStandbysRecover: for every standby whose disk says it was
// promoted, offline crash recovery of a crash image of that disk reaches a
// clog where each commit it acknowledged is committed, and each of its
// writes is in the WAL before its commit and still holds its slot unless a
// later record of that WAL wrote the slot (PromotedStandbyRecovers).
func (k *Checks) promotedStandbysRecover() error {
	for _, h := range k.c.StandbyHosts() {
		dev := k.c.StandbyDevice(h)
		if dev == nil || !k.c.StandbyPromoted(h) {
			continue
		}
		k.hit(cPromotedStandbyRecovers)
		if err := k.standbyRecovers(h, dev); err != nil {
			return err
		}
	}
	return nil
}

func (k *Checks) standbyRecovers(h storage.HostID, dev *storage.Device) error {
	cfg := k.c.NodeConfig(h)
	writes := map[slotKey][]uint64{} // values the replayed WAL writes, in WAL order
	rec, err := oracle.RecoverOffline(oracle.CrashImage(dev), cfg, func(r *logindex.Record) error {
		for _, ch := range r.Changes {
			if ch.Page.Rel == cfg.Rel {
				key := slotKey{int(ch.Page.Block), ch.Slot}
				writes[key] = append(writes[key], ch.Value)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%v (promoted standby): crash recovery of its own disk: %w", h, err)
	}
	acked := map[slotKey][]uint64{} // the acknowledged values of each slot
	var order []slotKey
	for i := range k.c.Journal.Acks {
		a := &k.c.Journal.Acks[i]
		if a.Node != h {
			continue
		}
		if st := rec.Clog.Get(a.XID); st != shmem.XactCommitted {
			return fmt.Errorf("%v (promoted standby) acknowledged xid %d (commit end %v, step %d); after crash recovery of its disk (end %v) it is %v",
				h, a.XID, a.CommitEnd, a.Step, rec.End, st)
		}
		for _, w := range a.Writes {
			key := slotKey{w.Page, w.Slot}
			if _, ok := acked[key]; !ok {
				order = append(order, key)
			}
			acked[key] = append(acked[key], w.Value)
		}
	}
	for _, key := range order {
		if err := standbyWriteHolds(h, key, acked[key], writes[key], rec); err != nil {
			return err
		}
	}
	return nil
}

// standbyWriteHolds: after recovery slot key holds the acknowledged write
// the replayed WAL wrote last, or a value it wrote after that one (the model
// keeps one value per slot, so any later write hides it). When every
// acknowledged write of the slot came before the redo pointer, the page as
// the restartpoint left it on disk decides, and all that can be required is
// that the slot was not lost.
func standbyWriteHolds(h storage.HostID, key slotKey, acked, vals []uint64, rec *oracle.Recovered) error {
	if key.page >= len(rec.Pages) {
		return fmt.Errorf("%v (promoted standby): a write of page %d beyond the relation's %d pages", h, key.page, len(rec.Pages))
	}
	got := rec.Pages[key.page].Slots[key.slot]
	mine := -1
	for i, v := range vals {
		for _, a := range acked {
			if v == a {
				mine = i
			}
		}
	}
	if mine < 0 && got != 0 {
		return nil
	}
	for _, v := range vals[max(mine, 0):] {
		if v == got {
			return nil
		}
	}
	want := acked[len(acked)-1]
	if mine >= 0 {
		want = vals[mine]
	}
	return fmt.Errorf("%v (promoted standby): after crash recovery of its disk page %d slot %d holds x%d.%d, want the acknowledged x%d.%d or a later write",
		h, key.page, key.slot, postmaster.ValueXID(got), uint32(got), postmaster.ValueXID(want), uint32(want))
}

// walRetained: on a node's own disk (a standby, or a promoted standby) no
// WAL segment that the redo pointer, a slot's restart LSN or LogIndex still
// needs has been removed: every segment from the lowest of them up to the
// end of the WAL flushed there exists (KeepLogSeg's rule; the model
// recycles WAL only on nodes with their own disk).
func (k *Checks) walRetained() error {
	for _, h := range k.c.StandbyHosts() {
		n := k.c.Node(h)
		if !k.alive(n) || n.Mount == nil || n.WAL == nil || !n.WAL.FlushedLSN().Valid() {
			continue
		}
		// why names the holder only on failure: no string built per step.
		need, why, slot := n.Control.Redo, "the redo pointer", ""
		for _, s := range n.Slots {
			if s.Restart.Valid() && s.Restart < need {
				need, why, slot = s.Restart, "slot ", s.Name
			}
		}
		if n.Index.Enabled() {
			if t := n.Index.TruncatedBelow(); t < need {
				need, why, slot = t, "LogIndex", ""
			}
		}
		k.hit(cWALRetained)
		size := n.Cfg.LogIndex.WALSegmentSize
		var buf [32]byte // a segment name: no string built per look
		for seg := logindex.SegNo(need, size); seg <= logindex.SegNo(n.WAL.FlushedLSN()-1, size); seg++ {
			if path := logindex.AppendSegmentName(buf[:0], seg, size); !n.Mount.ExistsBytes(path) {
				return fmt.Errorf("%v removed WAL segment %s that %s%s still needs (from %v; flushed WAL ends at %v)",
					h, string(path), why, slot, need, n.WAL.FlushedLSN())
			}
		}
	}
	return nil
}
