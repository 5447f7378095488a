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
		k.hit(cSingleWriter)
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
			k.hit(cReplicaWritesNothing)
			return fmt.Errorf("replica %v wrote %s block %d (write #%d, epoch %d)", r.Host, r.Path, r.Block, r.Seq, r.Epoch)
		}
		if k.replicaMemory(n) && strings.HasPrefix(r.Path, "base/") {
			k.hit(cReplicaWritesNothing)
			return fmt.Errorf("replica %v wrote %s block %d before its role switch (write #%d, epoch %d)", r.Host, r.Path, r.Block, r.Seq, r.Epoch)
		}
	}
	for _, n := range k.c.AllNodes() {
		if n == nil || !k.replicaMemory(n) {
			continue
		}
		k.hit(cReplicaWritesNothing)
		if n.Pool.FlushLen() == 0 {
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
		k.hit(cNoWALBelowOldEnd)
		if l.Overwritten {
			k.lostSeen++
			return fmt.Errorf("%v overwrote WAL record %v below the end of valid WAL %v", l.By, &l.Rec, l.OldEnd)
		}
	}
	return nil
}

// ---- WALBeforeData, NoFuturePageWritten ------------------------------------

// storedPageLSN reads block's page LSN from shared storage through the
// observer mount (a block is 64 bytes: the read is cheap, and only a
// step that wrote a data page makes one).
func (k *Checks) storedPageLSN(block storage.BlockNo) (storage.LSN, error) {
	b := k.blk[:]
	got, err := k.O.Mount().ReadAt(k.relPath, b, int64(block)*storage.BlockSize)
	if got < len(b) {
		return 0, fmt.Errorf("read %s block %d: %d bytes: %v", k.relPath, block, got, err)
	}
	pg, err := storage.UnmarshalPage(b)
	if err != nil {
		return 0, fmt.Errorf("%s block %d on storage: %w", k.relPath, block, err)
	}
	return pg.LSN, nil
}

// pageWrites returns the data-page writes since the cursor's last look,
// or nothing while the observer is blind (the cursor then waits: the next
// step looks at them). After a gap in the write log the writes lost to it
// are not judged.
func (k *Checks) pageWrites(w *writeCursor) []storage.WriteRecord {
	if !k.canObserve() {
		return nil
	}
	recs, _ := w.next(k.c.Dev)
	return recs
}

// walBeforeData: every data page written to shared storage carries a page
// LSN at or below the WAL its writer made durable, and at or below the end
// of valid WAL on storage (docs/model.md §5, "WAL before data":
// FlushBuffer's XLogFlush before smgrwrite). Judged in the step of the
// write, from the stored page itself.
func (k *Checks) walBeforeData() error {
	recs := k.pageWrites(&k.walW)
	if len(recs) == 0 {
		return nil
	}
	if err := k.O.Sync(); err != nil {
		return err
	}
	for i := range recs {
		r := &recs[i]
		n := k.c.Node(r.Host)
		if r.Path != k.relPath || n == nil || n.Dev != k.c.Dev {
			continue
		}
		lsn, err := k.storedPageLSN(r.FileBlock)
		if err != nil {
			return err
		}
		k.hit(cWALBeforeData)
		flushed := storage.InvalidLSN
		if n.WAL != nil {
			flushed = n.WAL.FlushedLSN()
		}
		if lsn > flushed || lsn > k.O.End() {
			return fmt.Errorf("%v wrote page %d with page LSN %v (write #%d): its WAL is flushed to %v, valid WAL on storage ends at %v",
				r.Host, r.FileBlock, lsn, r.Seq, flushed, k.O.End())
		}
	}
	return nil
}

// hotStandby: n is a replica on the shared device serving reads: what it
// reads from storage must not be from its future (polar_is_future_page).
func (k *Checks) hotStandby(n *shmem.Node) bool {
	return k.alive(n) && k.shared(n) && n.InRecovery && !n.Primary && n.Accepting
}

// noFuturePageWritten: a page written to shared storage is at or below the
// replay position of every other replica in hot standby (docs/model.md §5,
// the flush gate: the writer's oldest slot apply LSN is at or below every
// such replica's replay position). The one accepted exception is a page
// written past a replica's slot while the gate left that slot out
// (exemptWrite, noted as the write is reported); NoUnexpectedExit excuses the future page such a
// replica then meets.
func (k *Checks) noFuturePageWritten() error {
	recs := k.pageWrites(&k.futW)
	for i := range recs {
		r := &recs[i]
		if r.Path != k.relPath {
			continue
		}
		var lsn storage.LSN
		read := false
		for _, rep := range k.c.AllNodes() {
			if rep == nil || rep.Cfg.Host == r.Host || !k.hotStandby(rep) {
				continue
			}
			if !read {
				var err error
				if lsn, err = k.storedPageLSN(r.FileBlock); err != nil {
					return err
				}
				read = true
			}
			k.hit(cNoFuturePageWritten)
			page := storage.PageID{Rel: k.O.Rel(), Block: r.FileBlock}
			if lsn > rep.ReplayLSN && !k.exemptWrite(rep.Cfg.Host, page, lsn) {
				return fmt.Errorf("%v wrote page %d with page LSN %v (write #%d) beyond the replay position %v of replica %v in hot standby",
					r.Host, r.FileBlock, lsn, r.Seq, rep.ReplayLSN, rep.Cfg.Host)
			}
		}
	}
	return nil
}

// storedPageNeverGoesBack: a data page written to shared storage carries a
// page LSN at or above the one it overwrites (docs/model.md §2: redo is
// idempotent and only moves a page forward, XLogReadBufferForRedo skips a
// record the page already has). A writer that writes an older image of
// a page (a stale pooled copy replayed and flushed) makes storage lose
// changes a crash recovery from the current redo will not redo. Judged at
// each write against the LSN the page had at its last write. The one
// legitimate rewind is a reused page regenerated by recovery
// (rewindByInit). A page write whose sync an injected fault failed may be
// dropped at a crash, so the page reverts without a write: the claim then
// stops for the world.
func (k *Checks) storedPageNeverGoesBack() error {
	recs := k.pageWrites(&k.backW)
	for i := range recs {
		r := &recs[i]
		n := k.c.Node(r.Host)
		if r.Path != k.relPath || n == nil || n.Dev != k.c.Dev {
			continue
		}
		lsn, err := k.storedPageLSN(r.FileBlock)
		if err != nil {
			return err
		}
		for int(r.FileBlock) >= len(k.stored) {
			k.stored = append(k.stored, storage.InvalidLSN)
		}
		old := k.stored[r.FileBlock]
		k.stored[r.FileBlock] = lsn
		if k.dataSyncFailed {
			continue
		}
		k.hit(cStoredPageNeverGoesBack)
		if lsn < old && !k.rewindByInit(n, r.FileBlock, lsn) {
			return fmt.Errorf("%v wrote page %d with page LSN %v over page LSN %v (write #%d): storage lost the changes in between",
				r.Host, r.FileBlock, lsn, old, r.Seq)
		}
	}
	return nil
}

// rewindByInit: n, in recovery, wrote block at page LSN lsn below the
// stored one, and the page's history restarts at an init record at or
// below lsn that is at or after the durable redo pointer. Redo of a
// BKPBLOCK_WILL_INIT block does not read the stored page: PolarDB's
// XLogInitBufferForRedo asks XLogReadBufferForRedoExtended for
// RBM_ZERO_AND_LOCK, ReadBuffer_common (bufmgr.c) zeroes a buffer that is
// not in the pool instead of calling smgrread, and the redo routine
// (hash_xlog_add_ovfl_page's _hash_initbuf, heap's XLOG_HEAP_INIT_PAGE)
// rebuilds the page and sets its LSN to the init record's end whatever
// storage held. When recovery starts from a redo pointer below a page's
// last reuse, the page is regenerated from that init record, and a dirty
// victim evicted before the later records are replayed again goes to
// storage older than the copy it replaces (seeds 9434, 10373, 14815, 5446
// of v15-fixed: scenarios/testdata/counterexamples/reuse-rewind-*.txt).
// Nothing is lost: a crash now restarts at or below that init record, which
// regenerates the page without reading storage and replays every change
// after it again, as this recovery goes on to do. A rewind by a node not in
// recovery, or to an image whose init record lies below the redo pointer
// (a crash would then read the rewound page and not redo what it lost),
// stays a violation.
func (k *Checks) rewindByInit(n *shmem.Node, block storage.BlockNo, lsn storage.LSN) bool {
	if !n.InRecovery || int(block) >= k.O.PageCount() {
		return false
	}
	init, ok := k.O.LastInit(int(block), lsn)
	if !ok {
		return false
	}
	ctl, err := shmem.ReadControl(k.O.Mount())
	if err != nil || init.Start < ctl.Redo {
		return false
	}
	k.rewinds++
	return true
}

// Rewinds is how many page writes StoredPageNeverGoesBack accepted below
// the stored page LSN because recovery regenerated a reused page from its
// init record (rewindByInit): a regression script that once failed there
// uses it to show it still reaches such a write.
func (k *Checks) Rewinds() uint64 { return k.rewinds }
