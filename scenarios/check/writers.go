package check

import (
	"fmt"
	"strings"

	"promotesim/shmem"
	"promotesim/storage"
)

// writeCursor follows the device's write log for one checker.
type writeCursor struct {
	seen uint64
	buf  []storage.WriteRecord
}

// next returns the writes since the last call and whether the ring lost
// some (then the caller falls back to a full look).
func (w *writeCursor) next(d *storage.Device) (recs []storage.WriteRecord, overflow bool) {
	wc := d.WriteCount()
	if wc == w.seen {
		return nil, false
	}
	w.buf = d.AppendWritesSince(w.buf[:0], w.seen)
	overflow = len(w.buf) == 0 || w.buf[0].Seq > w.seen+1
	w.seen = wc
	return w.buf, overflow
}

// singleWriter: every accepted write carries the writer role. The device
// marks a write by a host without the role (fence modes none and detect let
// a displaced writer write; epoch refuses it, so nothing is recorded) and
// keeps every such write (StaleWrites), so the claim is exact even when the
// recent-write ring overflowed. Epochs of accepted writes never go back:
// a write of an older epoch after a newer one wrote is a second writer too.
func (k *Checks) singleWriter() error {
	d := k.c.Dev
	if n := d.StaleCount(); n > k.swSt {
		st := d.StaleWrites()[k.swSt]
		k.swSt = n
		w, e, ok := d.Writer()
		holder := "nobody"
		if ok {
			holder = fmt.Sprintf("%v (epoch %d)", w, e)
		}
		return fmt.Errorf("%v wrote %s block %d at epoch %d without the writer role (write #%d); the writer is %s",
			st.Host, st.Path, st.Block, st.Epoch, st.Seq, holder)
	}
	recs, _ := k.sw.next(d)
	for _, r := range recs {
		if r.Epoch < k.swMax {
			return fmt.Errorf("%v wrote %s block %d at epoch %d after a writer of epoch %d had written (write #%d)",
				r.Host, r.Path, r.Block, r.Epoch, k.swMax, r.Seq)
		}
		k.swMax = r.Epoch
	}
	return nil
}

// ---- ReplicaWritesNothing ----------------------------------------------

// replicaMount: n is a replica that has not taken the writer role: up, in
// recovery, not the primary, its mount still read-only. (A promoting node
// writes clog and WAL after its remount, before it switches role: that is
// the writer's business, SingleWriter's claim.)
func (k *Checks) replicaMount(n *shmem.Node) bool {
	return k.alive(n) && k.shared(n) && n.InRecovery && !n.Primary && n.Mount != nil && n.Mount.Mode() == storage.MountReadOnly
}

// replicaMemory: n runs replica recovery (archive recovery, not crash
// recovery) and has not switched role: it may not dirty a buffer (docs/model.md
// §5), nor write a data page, also while it promotes, until the role
// switch (what promote writes before it, after the remount, is WAL, clog,
// slots, LogIndex and the control file).
func (k *Checks) replicaMemory(n *shmem.Node) bool {
	return k.alive(n) && k.shared(n) && n.InRecovery && !n.Primary && n.Local.State == shmem.DBInArchiveRecovery
}

func (k *Checks) replicaWritesNothing() error {
	recs, _ := k.rw.next(k.c.Dev)
	for _, r := range recs {
		n := k.c.Node(r.Host)
		if n == nil {
			continue
		}
		if k.replicaMount(n) {
			return fmt.Errorf("replica %v wrote %s block %d (write #%d, epoch %d)", r.Host, r.Path, r.Block, r.Seq, r.Epoch)
		}
		if k.replicaMemory(n) && strings.HasPrefix(r.Path, "base/") {
			return fmt.Errorf("replica %v wrote %s block %d before its role switch (write #%d, epoch %d)", r.Host, r.Path, r.Block, r.Seq, r.Epoch)
		}
	}
	for _, n := range k.c.AllNodes() {
		if n == nil || n.Pool.FlushLen() == 0 || !k.replicaMemory(n) {
			continue
		}
		id, _ := n.Pool.FlushHead()
		b := n.Pool.Get(id)
		return fmt.Errorf("replica %v has %d dirty buffers (head: page %v oldest %v lsn %v)",
			n.Cfg.Host, n.Pool.FlushLen(), b.Tag, b.OldestLSN, b.Page.LSN)
	}
	return nil
}

// ---- NoWALBelowOldEnd ----------------------------------------------------

// noWALBelowOldEnd: a record of the history is never overwritten. The new
// primary inserts WAL from the old primary's end of valid WAL on; a second
// writer, a promote that stopped short of the real end, or anything else
// that writes below an end overwrites a once-valid record. Records a crash
// took back (unsynced WAL) are not overwritten: nothing could rely on them.
func (k *Checks) noWALBelowOldEnd() error {
	if err := k.O.Sync(); err != nil {
		return err
	}
	lost := k.O.Lost()
	for ; k.lostSeen < len(lost); k.lostSeen++ {
		l := lost[k.lostSeen]
		if l.Overwritten {
			k.lostSeen++
			return fmt.Errorf("%v overwrote WAL record %v below the end of valid WAL %v", l.By, &l.Rec, l.OldEnd)
		}
	}
	return nil
}
