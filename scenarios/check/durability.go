package check

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"promotesim/logindex"
	"promotesim/postmaster"
	"promotesim/scenarios/oracle"
	"promotesim/shmem"
	"promotesim/storage"
)

// durableState is ConsistentLSNDurable's memory: the writer instance it
// checked, the consistent LSN and history it checked against, and the
// storage image of every page.
type durableState struct {
	writer  *shmem.Node
	covered storage.LSN // min(consistent, end) checked last
	gen     int         // len(oracle cuts) checked last
	raw     []byte      // the relation file as last read
	have    bool        // raw holds an earlier read
	lsn     []storage.LSN
	read    bool // lsn is up to date with storage
	changed []int
	marked  []bool
	todo    []int
	img     []byte
}

// commitDurable: an acknowledgement's commit record is in the valid WAL on
// storage when it is given (synchronous commit, docs/model.md §2) and stays there:
// when the history changes, every acknowledgement past the change is
// looked up again.
func (k *Checks) commitDurable() error {
	if err := k.O.Sync(); err != nil {
		return err
	}
	acks := k.c.Journal.Acks
	if cuts := k.O.Cuts(); k.cutSeen < len(cuts) {
		low := cuts[k.cutSeen].LSN
		for _, c := range cuts[k.cutSeen:] {
			low = min(low, c.LSN)
		}
		k.cutSeen = len(cuts)
		for i := 0; i < k.acksSeen; i++ {
			if acks[i].CommitEnd > low && !k.ownHistory(&acks[i]) {
				if err := k.ackInHistory(&acks[i], "later "); err != nil {
					return err
				}
			}
		}
	}
	for ; k.acksSeen < len(acks); k.acksSeen++ {
		a := &acks[k.acksSeen]
		k.hit(cCommitDurable)
		if k.ownHistory(a) {
			// PromotedStandbyRecovers judges it on the standby's own disk.
		} else if err := k.ackInHistory(a, ""); err != nil {
			k.acksSeen++
			return err
		}
		// The acknowledging node must itself believe it durable.
		if n := k.c.Node(a.Node); a.Step == k.c.S.StepNo() && n != nil && n.WAL != nil && n.WAL.FlushedLSN() < a.CommitEnd {
			k.acksSeen++
			return fmt.Errorf("%v acknowledged xid %d with commit end %v above its flushed WAL %v", a.Node, a.XID, a.CommitEnd, n.WAL.FlushedLSN())
		}
	}
	return nil
}

func (k *Checks) ackInHistory(a *postmaster.Ack, when string) error {
	if _, ok := k.O.CommitRecord(a.XID, a.CommitEnd); ok {
		return nil
	}
	what := "no commit record of that xid ends there"
	if r, ok := k.recordEndingAt(a.CommitEnd); ok {
		what = fmt.Sprintf("the record ending there is %v", r)
	} else if a.CommitEnd > k.O.End() {
		what = fmt.Sprintf("valid WAL ends at %v", k.O.End())
	}
	return fmt.Errorf("%sacknowledged commit of xid %d by %v (commit end %v, step %d) is not in the valid WAL on storage: %s",
		when, a.XID, a.Node, a.CommitEnd, a.Step, what)
}

func (k *Checks) recordEndingAt(end storage.LSN) (*logindex.Record, bool) {
	recs := k.O.Records()
	j := sort.Search(len(recs), func(i int) bool { return recs[i].End >= end })
	if j < len(recs) && recs[j].End == end {
		return &recs[j], true
	}
	return nil, false
}

// ---- FlushListOrdered ----------------------------------------------------

// flushListOrdered walks every live node's flush list (O(dirty buffers))
// and, when its length changed, checks the whole pool's invariants.
func (k *Checks) flushListOrdered() error {
	for i, n := range k.c.AllNodes() {
		if !k.alive(n) {
			continue
		}
		hs := k.host(i, n)
		if hs.flush != n {
			hs.flush, hs.flushLen = n, -1
		}
		if err := k.flushOrder(n); err != nil {
			return err
		}
		if l := n.Pool.FlushLen(); l != hs.flushLen {
			hs.flushLen = l
			if err := n.Pool.Check(); err != nil {
				return fmt.Errorf("%v: %w", n.Cfg.Host, err)
			}
		}
	}
	return nil
}

func (k *Checks) flushOrder(n *shmem.Node) error {
	if n.Pool.FlushLen() == 0 {
		return nil
	}
	k.hit(cFlushListOrdered)
	k.ids = n.Pool.FlushList(k.ids[:0])
	prev := storage.InvalidLSN
	for pos, id := range k.ids {
		b := n.Pool.Get(id)
		if !b.Dirty || b.OldestLSN < prev {
			return fmt.Errorf("%v flush list out of order at position %d: page %v oldest %v (dirty %t) after oldest %v",
				n.Cfg.Host, pos, b.Tag, b.OldestLSN, b.Dirty, prev)
		}
		prev = b.OldestLSN
	}
	return nil
}

// ---- ConsistentLSNMonotone -----------------------------------------------

// consistentMonotone: every computed consistent LSN below the published one
// is reported (shmem.ConsistentRegressed: UpdateConsistentLSN never
// publishes it, but a buffer then carries an oldest LSN the consistent LSN
// already passed); there must be none, and the published value never
// decreases.
func (k *Checks) consistentMonotone() error {
	for i, n := range k.c.AllNodes() {
		if n == nil {
			continue
		}
		hs := k.host(i, n)
		if hs.cons != n {
			hs.cons, hs.consistent, hs.regressions = n, n.Pool.ConsistentLSN(), 0
		}
		if r := k.regressionsOf(n); r.count > hs.regressions {
			k.hit(cConsistentLSNMonotone)
			hs.regressions = r.count
			return fmt.Errorf("%v consistent LSN regression: raw %v below published %v (%d so far); bgw %v replay point %v fake oldest %v",
				n.Cfg.Host, r.raw, r.prev, r.count, n.BGW.State(), n.BGW.ReplayPoint(), n.BGW.FakeOldest())
		}
		if c := n.Pool.ConsistentLSN(); c != hs.consistent {
			k.hit(cConsistentLSNMonotone)
			if c < hs.consistent {
				return fmt.Errorf("%v published consistent LSN moved back from %v to %v", n.Cfg.Host, hs.consistent, c)
			}
			hs.consistent = c
		}
	}
	return nil
}

// ---- ConsistentLSNDurable ------------------------------------------------

// writer returns the node that writes shared storage now: it holds the
// device's writer role and serves as primary out of recovery.
func (k *Checks) writer() *shmem.Node {
	h, _, ok := k.c.Dev.Writer()
	if !ok {
		return nil
	}
	n := k.c.Node(h)
	if !k.alive(n) || !k.shared(n) || !n.Primary || n.InRecovery {
		return nil
	}
	return n
}

// consistentDurable: on the writer, every change to a page by a record
// starting below the published consistent LSN is on storage (the stored
// page's LSN is at least that record's end). It re-checks only the pages
// whose requirement or stored image may have changed: pages of records
// between the last checked position and the new one, pages whose stored
// bytes changed, or every page after a history change or a new writer.
func (k *Checks) consistentDurable() error {
	o := k.O
	if err := o.Sync(); err != nil {
		return err
	}
	ds := &k.dur
	w := k.writer()
	recs, overflow := k.durW.next(k.c.Dev)
	baseWritten := overflow
	for i := range recs {
		if recs[i].Path == k.relPath {
			baseWritten = true
		}
	}
	if baseWritten {
		ds.read = false // the stored image must be read again
	}
	if w == nil {
		ds.writer = nil
		return nil
	}
	if !ds.read && !k.canObserve() {
		return nil // look next step, with the same memory
	}
	if err := k.markDurable(w); err != nil {
		return err
	}
	return k.checkMarked(w)
}

// markDurable marks the pages to look at: every page after a new writer
// or history (or a covered position that went back), else those storage
// changed and those the records newly below the consistent LSN touch.
func (k *Checks) markDurable(w *shmem.Node) error {
	o, ds := k.O, &k.dur
	all := false
	if ds.writer != w || ds.gen != len(o.Cuts()) {
		ds.writer, ds.gen, ds.covered, all = w, len(o.Cuts()), 0, true
	}
	covered := min(w.Pool.ConsistentLSN(), o.End())
	if covered < ds.covered {
		all = true
	}
	if len(ds.marked) < o.PageCount() {
		ds.marked = make([]bool, o.PageCount())
		ds.lsn = make([]storage.LSN, o.PageCount())
	}
	ds.todo = ds.todo[:0]
	if !ds.read {
		changed, err := k.readStorage()
		if err != nil {
			return err
		}
		for _, p := range changed {
			ds.mark(p)
		}
	}
	if all {
		for p := 0; p < o.PageCount(); p++ {
			ds.mark(p)
		}
	} else if covered > ds.covered {
		hist := o.Records()
		j := sort.Search(len(hist), func(i int) bool { return hist[i].Start >= ds.covered })
		for ; j < len(hist) && hist[j].Start < covered; j++ {
			k.pgs = o.PagesOf(&hist[j], k.pgs[:0])
			for _, p := range k.pgs {
				ds.mark(int(p.Block))
			}
		}
	}
	ds.covered = covered
	return nil
}

// mark queues page p for a look (once).
func (ds *durableState) mark(p int) {
	if !ds.marked[p] {
		ds.marked[p] = true
		ds.todo = append(ds.todo, p)
	}
}

// checkMarked holds every marked page's stored LSN against the last change
// below w's consistent LSN, clearing the marks.
func (k *Checks) checkMarked(w *shmem.Node) error {
	o, ds := k.O, &k.dur
	cons := w.Pool.ConsistentLSN()
	if len(ds.todo) > 0 {
		k.hit(cConsistentLSNDurable)
	}
	var err error
	for _, p := range ds.todo {
		ds.marked[p] = false
		if err != nil {
			continue
		}
		need := o.LastChange(p, cons)
		if ds.lsn[p] < need {
			err = fmt.Errorf("page %d: storage lsn %v < change end %v below consistent %v on %v",
				p, ds.lsn[p], need, cons, w.Cfg.Host)
		}
	}
	return err
}

// canObserve reports whether the checkers may read the device now.
func (k *Checks) canObserve() bool { return !oracle.Blind(k.c.Dev) }

// readStorage reads the relation file through the observer mount and
// returns the pages whose stored image changed since the last read.
func (k *Checks) readStorage() ([]int, error) {
	o, ds := k.O, &k.dur
	n := o.PageCount() * storage.BlockSize
	if cap(ds.img) < n {
		ds.img = make([]byte, n)
	}
	img := ds.img[:n]
	got, err := o.Mount().ReadAt(k.relPath, img, 0)
	if err != nil && got == 0 && !oracle.IsEOF(err) && !oracle.IsNotExist(err) {
		return nil, fmt.Errorf("read %s: %w", k.relPath, err)
	}
	clear(img[got:])
	if len(ds.raw) != n {
		ds.raw, ds.have = make([]byte, n), false
	}
	ds.changed = ds.changed[:0]
	for p := 0; p < o.PageCount(); p++ {
		b := img[p*storage.BlockSize : (p+1)*storage.BlockSize]
		if ds.have && bytes.Equal(b, ds.raw[p*storage.BlockSize:(p+1)*storage.BlockSize]) {
			continue
		}
		pg, err := storage.UnmarshalPage(b)
		if err != nil {
			return nil, fmt.Errorf("page %d on storage: %w", p, err)
		}
		ds.lsn[p] = pg.LSN
		ds.changed = append(ds.changed, p)
	}
	copy(ds.raw, img)
	ds.have, ds.read = true, true
	return ds.changed, nil
}

// ---- CheckpointRedo ------------------------------------------------------

// checkpointRedo checks the redo pointer where it is made and where it is
// kept:
//   - every checkpoint record that appears in the history carries a redo
//     at or below the published consistent LSN of the primary that wrote
//     it (read right after the step: the checkpointer computes the redo
//     from the consistent LSN and flushes the record in one step);
//   - whenever the shared control file is rewritten, its redo never moves
//     back, and it is the redo of the checkpoint record it names (a
//     promoted node adopts the old primary's last checkpoint; crash
//     recovery keeps the one it found).
//
// The first control file seen (initdb's) is the baseline.
func (k *Checks) checkpointRedo() error {
	walBy := k.ckptWrites()
	o := k.O
	if err := o.Sync(); err != nil {
		return err
	}
	if err := k.newCheckpoints(walBy); err != nil {
		return err
	}
	if !k.ctlDirty || !k.canObserve() {
		return nil
	}
	k.ctlDirty = false
	return k.controlRedo()
}

// ckptWrites follows the device's writes for CheckpointRedo: a control
// file write (or a gap in the write log) makes the control file worth a
// look; it returns the host that wrote WAL in them, if any.
func (k *Checks) ckptWrites() storage.HostID {
	recs, overflow := k.ckpt.next(k.c.Dev)
	var walBy storage.HostID
	for i := range recs {
		switch recs[i].Path {
		case storage.ControlFile:
			k.ctlBy, k.ctlDirty = recs[i].Host, true
		default:
			if strings.HasPrefix(recs[i].Path, "pg_wal/") {
				walBy = recs[i].Host
			}
		}
	}
	if overflow {
		k.ctlDirty = true
	}
	return walBy
}

// newCheckpoints checks every checkpoint record new in the history (the
// ones after a cut again): its redo is at or below the consistent LSN of
// the primary that wrote it.
func (k *Checks) newCheckpoints(walBy storage.HostID) error {
	o := k.O
	hist := o.Records()
	if cuts := o.Cuts(); k.ckptCuts < len(cuts) {
		for _, c := range cuts[k.ckptCuts:] {
			k.ckptSeen = min(k.ckptSeen, sort.Search(len(hist), func(i int) bool { return hist[i].Start >= c.LSN }))
		}
		k.ckptCuts = len(cuts)
	}
	k.ckptSeen = min(k.ckptSeen, len(hist))
	for ; k.ckptSeen < len(hist); k.ckptSeen++ {
		r := &hist[k.ckptSeen]
		if r.Type != logindex.RecCheckpoint {
			continue
		}
		n := k.c.Node(walBy)
		if walBy == 0 || !k.alive(n) || !n.Primary || n.InRecovery {
			continue // initdb's, or seen only now (a full re-read)
		}
		k.hit(cCheckpointRedo)
		if r.Redo > n.Pool.ConsistentLSN() {
			k.ckptSeen++
			return fmt.Errorf("checkpoint record at %v written by %v has redo %v above its consistent LSN %v",
				r.Start, walBy, r.Redo, n.Pool.ConsistentLSN())
		}
	}
	return nil
}

// controlRedo reads the rewritten control file: its redo never moves
// back and is the redo of the checkpoint record it names.
func (k *Checks) controlRedo() error {
	o := k.O
	ctl, err := shmem.ReadControl(o.Mount())
	if err != nil {
		return fmt.Errorf("read control file: %w", err)
	}
	// The claim is about durable redo pointers: a control-file write still
	// pending its sync may be lost in a crash, and then the older durable
	// one is what is there (not a move back). Only a synced write raises
	// the baseline.
	durable := true
	for _, pw := range k.c.Dev.Pending(k.ctlBy) {
		if pw.Path == storage.ControlFile {
			durable = false
		}
	}
	if !k.redoKnown {
		if durable {
			k.redoKnown, k.redo = true, ctl.Redo
		}
		return nil
	}
	k.hit(cCheckpointRedo)
	old := k.redo
	if durable {
		k.redo = max(k.redo, ctl.Redo)
	}
	if ctl.Redo < old {
		return fmt.Errorf("control file written by %v: redo moved back from %v to %v (%v)", k.ctlBy, old, ctl.Redo, ctl)
	}
	if r, ok := o.RecordAt(ctl.CheckPoint); !ok || r.Type != logindex.RecCheckpoint || r.Redo != ctl.Redo {
		what := "no record of the valid WAL starts there"
		if ok {
			what = fmt.Sprintf("the record there is %v", r)
		}
		return fmt.Errorf("control file written by %v: redo %v is not the redo of its checkpoint at %v: %s", k.ctlBy, ctl.Redo, ctl.CheckPoint, what)
	}
	return nil
}

// ---- NoCheckpointInWaitingReset -------------------------------------------

// noCheckpointInWaitingReset: no checkpoint record appears in the history
// while the node that wrote the step's WAL has its BGW in
// POLAR_BG_WAITING_RESET (docs/model.md §5: CreateCheckPoint returns at
// once in that state, xlog.c). The checkpointer computes and flushes its
// record in one step, so the state read right after the step is the one it
// ran in. Its own cursors, like CheckpointRedo's.
func (k *Checks) noCheckpointInWaitingReset() error {
	recs, _ := k.wrW.next(k.c.Dev)
	var walBy storage.HostID
	for i := range recs {
		if strings.HasPrefix(recs[i].Path, "pg_wal/") {
			walBy = recs[i].Host
		}
	}
	o := k.O
	if err := o.Sync(); err != nil {
		return err
	}
	hist := o.Records()
	if cuts := o.Cuts(); k.wrCuts < len(cuts) {
		for _, c := range cuts[k.wrCuts:] {
			k.wrSeen = min(k.wrSeen, sort.Search(len(hist), func(i int) bool { return hist[i].Start >= c.LSN }))
		}
		k.wrCuts = len(cuts)
	}
	k.wrSeen = min(k.wrSeen, len(hist))
	n := k.c.Node(walBy)
	for ; k.wrSeen < len(hist); k.wrSeen++ {
		r := &hist[k.wrSeen]
		if r.Type != logindex.RecCheckpoint || walBy == 0 || n == nil || !k.alive(n) {
			continue
		}
		k.hit(cNoCheckpointInWaitingReset)
		if n.BGW.State() == shmem.BGWaitingReset {
			k.wrSeen++
			return fmt.Errorf("%v wrote checkpoint record at %v (redo %v) with its BGW in %v", walBy, r.Start, r.Redo, n.BGW.State())
		}
	}
	return nil
}
