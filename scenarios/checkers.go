package scenarios

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"promotesim/logindex"
	"promotesim/postmaster"
	"promotesim/shmem"
	"promotesim/storage"
)

// Claim is one thing that must always hold (SPEC §10), named as the
// checker that checks it. Hazard tests look names up here: a hazard must be
// caught by one of these general claims, never by a check written for it.
type Claim struct {
	Name string
	Text string
	// PerStep: checked after every scheduler step (incrementally);
	// otherwise only by Checks.Full (crash points, phase ends, check all).
	PerStep bool
}

// The claims, in the order the checkers run (the first failing one is
// reported, so the ones that name a root cause come first).
var claims = []Claim{
	{"SingleWriter", "no host but the writer of the current epoch writes shared storage", true},
	{"ReplicaWritesNothing", "a replica writes nothing to shared storage and has no dirty buffer", true},
	{"NoWALBelowOldEnd", "no WAL is inserted below an end of valid WAL: a once-valid record is never overwritten", true},
	{"CommitDurable", "every acknowledged commit's record is in the valid WAL on storage, and stays there", true},
	{"FlushListOrdered", "every flush list is ordered by oldest LSN (and every pool is intact)", true},
	{"ConsistentLSNMonotone", "a consistent LSN never moves back", true},
	{"ConsistentLSNDurable", "every change by a record starting below the writer's consistent LSN is on storage", true},
	{"CheckpointRedo", "every checkpoint's redo is at or below its writer's consistent LSN; the control file keeps a checkpoint's redo and never moves it back", true},
	{"BGWLegalTransitions", "the BGW moves only along the transitions of SPEC §6", true},
	{"ReplayPointMonotone", "the BGW replay point moves back only at the reset", true},
	{"FakeOldestMonotone", "the fake oldest LSN never decreases", true},
	{"ReplicaReadsMatchOracle", "a replica read returns the oracle's page at that replica's replay position", true},
	{"ReadsReflectAcked", "a read on the read-write primary equals the oracle and reflects every commit acknowledged before it began", true},
	{"NoUnexpectedExit", "no process PANICs or exits FATAL unless an injected fault or fencing made it", true},
	{"CrashRecovers", "crashing every host and recovering from shared storage yields the oracle's pages and clog", false},
	{"AckedVisible", "every acknowledged write is visible at the end of WAL unless a later write replaced it", false},
}

// Claims returns the catalogue of checked claims.
func Claims() []Claim { return append([]Claim(nil), claims...) }

// IsClaim reports whether name is a checker of the catalogue.
func IsClaim(name string) bool {
	for _, c := range claims {
		if c.Name == name {
			return true
		}
	}
	return false
}

// Checks holds the oracle and the state of every checker of one cluster.
// Every checker only observes: it reads the device through the oracle's
// read-only mount, nodes' shared memory and the journal, and changes
// nothing a process can see. Per-step checkers are incremental: each keeps
// the counters it last saw (device write count, journal lengths, a node's
// BGW transition count, exits, consistent LSN...) and returns at once when
// nothing it watches changed, so a step with every checker on stays cheap.
type Checks struct {
	c *Cluster
	O *Oracle
	// Off turns the per-step checkers into no-ops (the benchmark's
	// baseline); Full and RunAll still check.
	Off bool

	sw    writeCursor
	rw    writeCursor
	ckpt  writeCursor
	durW  writeCursor
	swMax storage.Epoch
	swSt  int

	hosts []hostSeen
	// metaSyncFailed: some process died of an injected I/O error syncing
	// the LogIndex meta (see metaWentBack).
	metaSyncFailed bool

	lostSeen int
	cutSeen  int
	acksSeen int

	dur durableState

	redoKnown bool
	redo      storage.LSN
	ckptSeen  int // history records looked at for checkpoint redo
	ckptCuts  int
	ctlDirty  bool
	ctlBy     storage.HostID

	replicaSeen int
	primarySeen int
	pending     []pendingRead
	ackSteps    []uint64
	ackMaxEnd   []storage.LSN
	ackByXID    map[logindex.XID]uint64 // xid -> ack step (lookup only)

	ids     []storage.BufferID
	relPath string

	// watch is what the per-step checkers watch, as it was after they last
	// ran; lastOK: they all passed then.
	watch  watched
	lastOK bool
	// Test knobs: watchOff runs every checker after every step; onSkip,
	// if set, is called on every step the watch skips.
	watchOff bool
	onSkip   func()
}

// watched is everything of the world the per-step checkers read, apart
// from their own memory and the oracle's. Checkers only observe, so once
// they all passed, a step after which every one of these values is the
// same (and the oracle owes no periodic full comparison) would run each of
// them through its no-change fast path to nil without changing its memory:
// the group skips them then, for a look at a few dozen integers.
//
// Why the list is complete, checker by checker: the write cursors and the
// oracle's catch-up move only with the device's write count, the mounts of
// the node hosts (a crash drops unsynced writes without a write record),
// the read faults that blind the observer, and its periodic comparison
// (Oracle.quiet); Lost, Cuts and End change only in its catch-up; the
// journal's acks and reads are append-only; every per-node memory is keyed
// by the node's instance and reads the values in nodeWatched; a flush
// list's order and its buffers' oldest LSNs change only with its gen
// (storage.Pool.FlushGen); the writer is the device's writer host and that
// node's role; pending primary reads wait on the oracle's end and their
// node's life. The oracle's progress is watched too, since Full syncs it
// between steps.
type watched struct {
	shared sharedWatched
	nodes  []nodeWatched
}

// sharedWatched is what the checkers read of the oracle, the shared
// device and the clients' journal.
type sharedWatched struct {
	oracle    oracleProgress
	writes    uint64
	stale     int
	writer    storage.HostID
	hasWriter bool
	blind     bool
	acks      int
	reads     int
}

// oracleProgress is what the checkers consume of the oracle's state.
type oracleProgress struct {
	seen             uint64
	end              storage.LSN
	recs, lost, cuts int
}

func (o *Oracle) progress() oracleProgress {
	return oracleProgress{seen: o.seen, end: o.end, recs: len(o.recs), lost: len(o.lost), cuts: len(o.cuts)}
}

// nodeWatched is what the checkers read of one node host.
type nodeWatched struct {
	n                   *shmem.Node
	mount               *storage.Mount // the host's mount of the shared device
	pool                *storage.Pool
	dev                 *storage.Device
	alive               bool
	primary, recovering bool
	state               shmem.DBState
	flushLen            int
	flushGen            uint64
	regressions         int
	consistent          storage.LSN
	transitions         int
	replay              storage.LSN
	resets              int
	fakeOldest          storage.LSN
	exits               int
}

// moved brings w up to the world's watched values now and reports whether
// any differed. It compares in place, field by field: building the values
// first and comparing structs (memequal) cost about as much as the
// checkers it lets the group skip.
func (k *Checks) moved(w *watched) bool {
	d, o, j, sh := k.c.Dev, k.O, k.c.Journal, &w.shared
	writer, _, has := d.Writer()
	blind := blind(d)
	ch := false
	if sh.oracle.seen != o.seen || sh.oracle.end != o.end || sh.oracle.recs != len(o.recs) ||
		sh.oracle.lost != len(o.lost) || sh.oracle.cuts != len(o.cuts) ||
		sh.writes != d.WriteCount() || sh.stale != d.StaleCount() || sh.writer != writer || sh.hasWriter != has ||
		sh.blind != blind || sh.acks != len(j.Acks) || sh.reads != len(j.Reads) {
		*sh = sharedWatched{oracle: o.progress(), writes: d.WriteCount(), stale: d.StaleCount(), writer: writer,
			hasWriter: has, blind: blind, acks: len(j.Acks), reads: len(j.Reads)}
		ch = true
	}
	if len(w.nodes) != len(k.c.nodes) {
		w.nodes = append(w.nodes[:0], make([]nodeWatched, len(k.c.nodes))...)
		ch = true
	}
	for i, n := range k.c.nodes {
		p := &w.nodes[i]
		m, _ := d.Mounted(storage.HostID(i + 1))
		if n == nil {
			if p.n != nil || p.mount != m {
				*p = nodeWatched{mount: m}
				ch = true
			}
			continue
		}
		alive := k.alive(n)
		transitions, _, _ := n.BGW.Transitions()
		if p.n != n || p.mount != m || p.pool != n.Pool || p.dev != n.Dev || p.alive != alive ||
			p.primary != n.Primary || p.recovering != n.InRecovery || p.state != n.Local.State ||
			p.flushLen != n.Pool.FlushLen() || p.flushGen != n.Pool.FlushGen() ||
			p.regressions != n.Pool.Regressions() || p.consistent != n.Pool.ConsistentLSN() ||
			p.transitions != transitions || p.replay != n.BGW.ReplayPoint() || p.resets != n.BGW.Resets() ||
			p.fakeOldest != n.BGW.FakeOldest() || p.exits != len(n.Exits) {
			*p = nodeWatched{
				n: n, mount: m, pool: n.Pool, dev: n.Dev,
				alive: alive, primary: n.Primary, recovering: n.InRecovery, state: n.Local.State,
				flushLen: n.Pool.FlushLen(), flushGen: n.Pool.FlushGen(),
				regressions: n.Pool.Regressions(), consistent: n.Pool.ConsistentLSN(),
				transitions: transitions, replay: n.BGW.ReplayPoint(), resets: n.BGW.Resets(), fakeOldest: n.BGW.FakeOldest(),
				exits: len(n.Exits),
			}
			ch = true
		}
	}
	return ch
}

// stepChecks is the scheduler's per-step run of the checkers: all of them,
// unless nothing they watch changed since they last all passed.
func (k *Checks) stepChecks() (int, error) {
	if k.Off {
		k.lastOK = false
		return 0, nil
	}
	if !k.moved(&k.watch) && k.lastOK && !k.watchOff && k.O.quiet() {
		if k.onSkip != nil {
			k.onSkip()
		}
		return 0, nil
	}
	i, err := k.runPerStep()
	k.lastOK = err == nil
	// The run caught the oracle up, and every checker with it.
	k.watch.shared.oracle = k.O.progress()
	return i, err
}

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

// hostSeen is what the per-node checkers last saw of one node instance
// (a restart makes a new instance with fresh shared memory).
type hostSeen struct {
	flush, cons, bgw, rp, fake, exits *shmem.Node

	flushLen    int
	consistent  storage.LSN
	regressions int
	transitions int
	replay      storage.LSN
	resets      int
	fakeOldest  storage.LSN
	nexits      int
}

type pendingRead struct {
	idx  int
	node *shmem.Node
}

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

// Install builds the oracle and registers every per-step checker on c's
// scheduler, as one group: a call per checker on every step cost as much
// as their no-change fast paths.
func Install(c *Cluster) (*Checks, error) {
	o, err := NewOracle(c)
	if err != nil {
		return nil, err
	}
	k := &Checks{c: c, O: o, ackByXID: map[logindex.XID]uint64{}, relPath: fmt.Sprintf("base/%d", o.rel)}
	names := make([]string, len(perStepChecks))
	for i, pc := range perStepChecks {
		names[i] = pc.name
	}
	c.S.Checkers().AddGroup(names, k.stepChecks)
	return k, nil
}

// perStepChecks are the per-step claims' checkers in catalogue order
// (TestClaimsCatalogue holds the two lists together). A checker that reads
// something of the world the others do not must add it to watched, or the
// group will skip it on steps that change only that
// (TestCheckerWatchIsInvisible runs every checker on every skipped step).
var perStepChecks = []struct {
	name string
	fn   func(*Checks) error
}{
	{"SingleWriter", (*Checks).singleWriter},
	{"ReplicaWritesNothing", (*Checks).replicaWritesNothing},
	{"NoWALBelowOldEnd", (*Checks).noWALBelowOldEnd},
	{"CommitDurable", (*Checks).commitDurable},
	{"FlushListOrdered", (*Checks).flushListOrdered},
	{"ConsistentLSNMonotone", (*Checks).consistentMonotone},
	{"ConsistentLSNDurable", (*Checks).consistentDurable},
	{"CheckpointRedo", (*Checks).checkpointRedo},
	{"BGWLegalTransitions", (*Checks).bgwTransitions},
	{"ReplayPointMonotone", (*Checks).replayPointMonotone},
	{"FakeOldestMonotone", (*Checks).fakeOldestMonotone},
	{"ReplicaReadsMatchOracle", (*Checks).replicaReads},
	{"ReadsReflectAcked", (*Checks).readsReflectAcked},
	{"NoUnexpectedExit", (*Checks).noUnexpectedExit},
}

// runPerStep runs the per-step checkers in order and returns the index of
// the first that failed.
func (k *Checks) runPerStep() (int, error) {
	for i := range perStepChecks {
		if err := perStepChecks[i].fn(k); err != nil {
			return i, err
		}
	}
	return 0, nil
}

// RunStep runs every per-step checker once, as the scheduler does after a
// step (also when no step can run: an idle world is checked too). The
// error is a *sim.Violation naming the claim.
func (k *Checks) RunStep() error {
	if k.Off {
		// The per-step checkers did not follow the run, so their memory
		// (last BGW transition count, last redo...) is stale: a run now
		// would judge a whole stretch as one step.
		return nil
	}
	k.O.Touch()
	k.lastOK = false // the checkers' memory moves on without the watch
	if i, err := k.runPerStep(); err != nil {
		return k.c.S.Violation(perStepChecks[i].name, err)
	}
	return nil
}

// RunAll runs every per-step checker once, then Full: what `check all`
// does. The error is a *sim.Violation naming the claim.
func (k *Checks) RunAll() error {
	if err := k.RunStep(); err != nil {
		return err
	}
	return k.Full()
}

// host returns the per-node memory of host h (index h-1), growing it.
func (k *Checks) host(i int) *hostSeen {
	for len(k.hosts) <= i {
		k.hosts = append(k.hosts, hostSeen{})
	}
	return &k.hosts[i]
}

// alive reports whether n's postmaster runs.
func (k *Checks) alive(n *shmem.Node) bool {
	return n != nil && postmaster.Alive(k.c.S, n)
}

// shared reports whether n works on the cluster's shared device (a standby
// has its own).
func (k *Checks) shared(n *shmem.Node) bool { return n.Dev == k.c.Dev }

// ---- SingleWriter -------------------------------------------------------

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
// recovery) and has not switched role: it may not dirty a buffer (SPEC
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
	for _, n := range k.c.nodes {
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

// ---- CommitDurable -------------------------------------------------------

// commitDurable: an acknowledgement's commit record is in the valid WAL on
// storage when it is given (synchronous commit, SPEC §2) and stays there:
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
			if acks[i].CommitEnd > low {
				if err := k.ackInHistory(&acks[i], "later "); err != nil {
					return err
				}
			}
		}
	}
	for ; k.acksSeen < len(acks); k.acksSeen++ {
		a := &acks[k.acksSeen]
		if err := k.ackInHistory(a, ""); err != nil {
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
	for i, n := range k.c.nodes {
		if !k.alive(n) {
			continue
		}
		hs := k.host(i)
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

// consistentMonotone: the pool records every raw consistent LSN below the
// published one (UpdateConsistentLSN never publishes it, but a buffer then
// carries an oldest LSN the consistent LSN already passed); there must be
// none, and the published value never decreases.
func (k *Checks) consistentMonotone() error {
	for i, n := range k.c.nodes {
		if n == nil {
			continue
		}
		hs := k.host(i)
		if hs.cons != n {
			hs.cons, hs.consistent, hs.regressions = n, n.Pool.ConsistentLSN(), 0
		}
		if r := n.Pool.Regressions(); r > hs.regressions {
			hs.regressions = r
			raw, prev := n.Pool.LastRegression()
			return fmt.Errorf("%v consistent LSN regression: raw %v below published %v (%d so far); bgw %v replay point %v fake oldest %v",
				n.Cfg.Host, raw, prev, r, n.BGW.State(), n.BGW.ReplayPoint(), n.BGW.FakeOldest())
		}
		if c := n.Pool.ConsistentLSN(); c != hs.consistent {
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
	all := false
	if ds.writer != w || ds.gen != len(o.Cuts()) {
		ds.writer, ds.gen, ds.covered, all = w, len(o.Cuts()), 0, true
	}
	covered := min(w.Pool.ConsistentLSN(), o.End())
	if covered < ds.covered {
		all = true
	}
	if len(ds.marked) < o.pages {
		ds.marked = make([]bool, o.pages)
		ds.lsn = make([]storage.LSN, o.pages)
	}
	ds.todo = ds.todo[:0]
	mark := func(p int) {
		if !ds.marked[p] {
			ds.marked[p] = true
			ds.todo = append(ds.todo, p)
		}
	}
	if !ds.read {
		changed, err := k.readStorage()
		if err != nil {
			return err
		}
		for _, p := range changed {
			mark(p)
		}
	}
	if all {
		for p := 0; p < o.pages; p++ {
			mark(p)
		}
	} else if covered > ds.covered {
		hist := o.Records()
		j := sort.Search(len(hist), func(i int) bool { return hist[i].Start >= ds.covered })
		for ; j < len(hist) && hist[j].Start < covered; j++ {
			o.pgs = o.pagesOf(&hist[j], o.pgs[:0])
			for _, p := range o.pgs {
				mark(int(p.Block))
			}
		}
	}
	ds.covered = covered
	cons := w.Pool.ConsistentLSN()
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
func (k *Checks) canObserve() bool { return !blind(k.c.Dev) }

// readStorage reads the relation file through the observer mount and
// returns the pages whose stored image changed since the last read.
func (k *Checks) readStorage() ([]int, error) {
	o, ds := k.O, &k.dur
	n := o.pages * storage.BlockSize
	if cap(ds.img) < n {
		ds.img = make([]byte, n)
	}
	img := ds.img[:n]
	got, err := o.m.ReadAt(k.relPath, img, 0)
	if err != nil && got == 0 && !isEOF(err) && !isNotExist(err) {
		return nil, fmt.Errorf("read %s: %w", k.relPath, err)
	}
	clear(img[got:])
	if len(ds.raw) != n {
		ds.raw, ds.have = make([]byte, n), false
	}
	ds.changed = ds.changed[:0]
	for p := 0; p < o.pages; p++ {
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
	o := k.O
	if err := o.Sync(); err != nil {
		return err
	}
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
		if r.Redo > n.Pool.ConsistentLSN() {
			k.ckptSeen++
			return fmt.Errorf("checkpoint record at %v written by %v has redo %v above its consistent LSN %v",
				r.Start, walBy, r.Redo, n.Pool.ConsistentLSN())
		}
	}
	if !k.ctlDirty || !k.canObserve() {
		return nil
	}
	k.ctlDirty = false
	ctl, err := shmem.ReadControl(o.m)
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

// ---- BGW -----------------------------------------------------------------

// bgwTransitions checks the last state change whenever the BGW's change
// count grew. Startup's reset is counted too, from whatever state it found
// (a hazard may force it from the wrong one).
func (k *Checks) bgwTransitions() error {
	for i, n := range k.c.nodes {
		if n == nil {
			continue
		}
		hs := k.host(i)
		count, from, to := n.BGW.Transitions()
		if hs.bgw != n {
			hs.bgw, hs.transitions = n, 0
		}
		if count == hs.transitions {
			continue
		}
		grew := count - hs.transitions
		hs.transitions = count
		if !shmem.LegalBGWTransition(from, to) {
			return fmt.Errorf("%v BGW moved %v -> %v (transition %d)", n.Cfg.Host, from, to, count)
		}
		if grew > 1 {
			// Several changes in one step: only the last is visible.
			// None of the model's steps makes more than one.
			return fmt.Errorf("%v BGW changed state %d times in one step (last %v -> %v)", n.Cfg.Host, grew, from, to)
		}
	}
	return nil
}

// replayPointMonotone: bg_replayed_lsn moves back only when the reset
// count grew (startup's polar_reset_bg_replayed_lsn).
func (k *Checks) replayPointMonotone() error {
	for i, n := range k.c.nodes {
		if n == nil {
			continue
		}
		hs := k.host(i)
		rp, resets := n.BGW.ReplayPoint(), n.BGW.Resets()
		if hs.rp != n {
			hs.rp, hs.replay, hs.resets = n, rp, resets
			continue
		}
		if rp < hs.replay && resets == hs.resets {
			return fmt.Errorf("%v BGW replay point moved back from %v to %v without a reset (bgw %v)", n.Cfg.Host, hs.replay, rp, n.BGW.State())
		}
		hs.replay, hs.resets = rp, resets
	}
	return nil
}

// fakeOldestMonotone: replayed_oldest_lsn never decreases within one
// node's life, across the reset too: the reset only raises it to the
// replay start (PolarDB sets it to the checkpoint redo, which is at or
// above anything handed out before, since replicas hand out none), and
// buffers dirtied during promote take it as their oldest LSN, so a lower
// value would be a flush-list order violation waiting to happen.
func (k *Checks) fakeOldestMonotone() error {
	for i, n := range k.c.nodes {
		if n == nil {
			continue
		}
		hs := k.host(i)
		f := n.BGW.FakeOldest()
		if hs.fake != n {
			hs.fake, hs.fakeOldest = n, f
			continue
		}
		if f < hs.fakeOldest {
			return fmt.Errorf("%v fake oldest LSN decreased from %v to %v (bgw %v)", n.Cfg.Host, hs.fakeOldest, f, n.BGW.State())
		}
		hs.fakeOldest = f
	}
	return nil
}

// ---- reads ---------------------------------------------------------------

// replicaReads: a read served in recovery returns exactly the oracle's page
// at the replay position it was served at. A position past the end of
// valid WAL means the replica applied WAL storage no longer has.
func (k *Checks) replicaReads() error {
	reads := k.c.Journal.Reads
	if k.replicaSeen == len(reads) {
		return nil
	}
	if err := k.O.Sync(); err != nil {
		return err
	}
	for ; k.replicaSeen < len(reads); k.replicaSeen++ {
		rr := &reads[k.replicaSeen]
		if rr.Primary || rr.Page.Rel != k.O.rel {
			continue
		}
		if err := k.matchOracle(rr, "replay position"); err != nil {
			k.replicaSeen++
			return err
		}
	}
	return nil
}

func (k *Checks) matchOracle(rr *postmaster.ReadResult, what string) error {
	if rr.At > k.O.End() {
		return fmt.Errorf("%v read page %d at %s %v, past the end of valid WAL %v", rr.Node, rr.Page.Block, what, rr.At, k.O.End())
	}
	want := k.O.Page(int(rr.Page.Block), rr.At)
	if rr.Content != want {
		return fmt.Errorf("%v read page %d at %s %v: got %s, the oracle has %s", rr.Node, rr.Page.Block, what, rr.At,
			formatPage(rr.Content), formatPage(want))
	}
	return nil
}

// readsReflectAcked: a read on the read-write primary that holds the
// writer role (1) was served at a
// position covering every commit acknowledged before it began, (2) shows
// every slot value of such a commit as visible, and (3) equals the oracle's
// page at that position, which then holds every such commit's writes or
// later ones. The primary serves at its insert position, which may be past
// the WAL on storage (records still in WAL buffers): (3) waits until the
// WAL is there, and is dropped if the node dies first (its unwritten WAL is
// gone, and the position may later hold other records).
func (k *Checks) readsReflectAcked() error {
	j := k.c.Journal
	for len(k.ackSteps) < len(j.Acks) {
		a := &j.Acks[len(k.ackSteps)]
		m := a.CommitEnd
		if l := len(k.ackMaxEnd); l > 0 {
			m = max(m, k.ackMaxEnd[l-1])
		}
		k.ackSteps = append(k.ackSteps, a.Step)
		k.ackMaxEnd = append(k.ackMaxEnd, m)
		if _, ok := k.ackByXID[a.XID]; !ok {
			k.ackByXID[a.XID] = a.Step
		}
	}
	if k.primarySeen == len(j.Reads) && len(k.pending) == 0 {
		return nil
	}
	if err := k.O.Sync(); err != nil {
		return err
	}
	for ; k.primarySeen < len(j.Reads); k.primarySeen++ {
		rr := &j.Reads[k.primarySeen]
		if !rr.Primary || rr.Page.Rel != k.O.rel {
			continue
		}
		if w, _, ok := k.c.Dev.Writer(); !ok || w != rr.Node {
			// A displaced primary (its writer role taken by a promote)
			// still serves reads from its own memory; fencing stops its
			// writes, not its reads, and its pages hold its own WAL,
			// which the new primary's overwrote. Not the claim's reads.
			continue
		}
		if err := k.reflectsAcked(rr); err != nil {
			k.primarySeen++
			return err
		}
		k.pending = append(k.pending, pendingRead{idx: k.primarySeen, node: k.c.Node(rr.Node)})
	}
	keep := k.pending[:0]
	var err error
	for _, p := range k.pending {
		rr := &j.Reads[p.idx]
		switch {
		case err != nil:
			keep = append(keep, p)
		case rr.At <= k.O.End():
			err = k.matchOracle(rr, "insert position")
		case k.c.Node(rr.Node) == p.node && k.alive(p.node):
			keep = append(keep, p)
		}
	}
	k.pending = keep
	return err
}

func (k *Checks) reflectsAcked(rr *postmaster.ReadResult) error {
	// Acks with Step < Began: steps are appended in order.
	i := sort.Search(len(k.ackSteps), func(i int) bool { return k.ackSteps[i] >= rr.Began })
	if i > 0 && k.ackMaxEnd[i-1] > rr.At {
		last := -1
		for x := 0; x < i; x++ {
			if k.c.Journal.Acks[x].CommitEnd == k.ackMaxEnd[i-1] {
				last = x
			}
		}
		a := k.c.Journal.Acks[last]
		return fmt.Errorf("%v read page %d at %v (began step %d), below the commit end %v of xid %d acknowledged by %v at step %d",
			rr.Node, rr.Page.Block, rr.At, rr.Began, a.CommitEnd, a.XID, a.Node, a.Step)
	}
	for s, v := range rr.Content.Slots {
		if v == 0 {
			continue
		}
		xid := postmaster.ValueXID(v)
		if step, ok := k.ackByXID[xid]; ok && step < rr.Began && !rr.Visible[s] {
			return fmt.Errorf("%v read page %d slot %d: x%d.%d invisible, though xid %d was acknowledged at step %d before the read began (step %d)",
				rr.Node, rr.Page.Block, s, xid, uint32(v), xid, step, rr.Began)
		}
	}
	return nil
}

// ---- NoUnexpectedExit ----------------------------------------------------

// excused lists the errors whose PANIC or FATAL is the model's correct
// reaction to something outside the protocol:
//   - storage.ErrInjectedIO: an injected I/O error (PostgreSQL PANICs on a
//     failed WAL or data write, FATALs on failed reads in startup);
//   - storage.ErrFenced: fence mode epoch refused a displaced writer, which
//     must stop (the fix working);
//   - storage.ErrWriterDeath: fence mode detect's RWID check found another
//     writer at a control-file update (polar_check_double_write PANICs).
//
// Exits carry the error text, not the error (they are process events), so
// the match is on each sentinel's message, which every wrapping keeps.
// Nothing else is excused: a flush-list order PANIC, a write through a
// read-only mount, a record after the end of recovery, a full disk, a
// full LogIndex are failures of the protocol or of the setup (a primary
// whose saves are stalled waits for room; it does not PANIC).
var excused = []error{storage.ErrInjectedIO, storage.ErrFenced, storage.ErrWriterDeath}

func excusedExit(e shmem.ChildExit) bool {
	for _, err := range excused {
		if strings.Contains(e.Err, err.Error()) {
			return true
		}
	}
	return false
}

// exemptFuturePage excuses a replica session's FATAL on a future page that
// some node wrote while its flush gate left this replica's slot out (the
// replica was disconnected during that node's shutdown checkpoint or crash
// recovery): PolarDB accepts this (050_shutdown_disconnected_replica); the
// replica must catch up. A future page written by a node that had no slot
// for the replica, or whose slot was active, is a protocol failure.
func (k *Checks) exemptFuturePage(r *shmem.Node, e shmem.ChildExit) bool {
	if e.Kind != shmem.ExitFATAL || !strings.Contains(e.Err, postmaster.ErrFuturePage.Error()) {
		return false
	}
	fps := k.c.Journal.FuturePages
	for i := len(fps) - 1; i >= 0; i-- {
		fp := fps[i]
		if fp.Node != r.Cfg.Host {
			continue
		}
		for _, w := range k.c.nodes {
			if w != nil && w != r && w.ExemptFor(shmem.SlotName(r.Cfg.Host), fp.Page, fp.LSN) {
				return true
			}
		}
		return false
	}
	return false
}

// displacedRead excuses a read failure of a primary another node displaced
// (its read-write mount no longer holds the writer role): fencing stops its
// writes, not its reads, and what it reads is its successor's storage (a
// LogIndex table the new writer truncated, say). PolarDB's node would die
// the same way (log_index_report_io_error); it is the old primary's end,
// not a protocol failure.
func displacedRead(n *shmem.Node, e shmem.ChildExit) bool {
	m := n.Mount
	if m == nil || m.Mode() != storage.MountReadWrite || !strings.Contains(e.Err, ": read ") {
		return false
	}
	w, _, ok := n.Dev.Writer()
	return ok && w != n.Cfg.Host // another host holds the writer role now
}

// metaWentBack excuses a reader's PANIC on a LogIndex meta that went back
// after an injected fault failed the sync of a meta write: the write was
// visible at once on shared storage (a replica read it), and its writer
// PANICked before making it durable, so a later crash of that host drops it
// and the file reverts to its durable image. Without the fault, writeMeta
// writes and syncs in one step and no crash separates them; so this regress
// is the fault's doing, not a second writer's or a protocol failure.
func (k *Checks) metaWentBack(e shmem.ChildExit) bool {
	return k.metaSyncFailed && strings.Contains(e.Err, logindex.ErrCorrupt.Error()+": meta went back")
}

func (k *Checks) noUnexpectedExit() error {
	for i, n := range k.c.nodes {
		if n == nil {
			continue
		}
		hs := k.host(i)
		if hs.exits != n {
			hs.exits, hs.nexits = n, 0
		}
		for ; hs.nexits < len(n.Exits); hs.nexits++ {
			e := n.Exits[hs.nexits]
			if excusedExit(e) && strings.Contains(e.Err, "sync "+logindex.MetaPath+": ") {
				k.metaSyncFailed = true
			}
			if (e.Kind == shmem.ExitPANIC || e.Kind == shmem.ExitFATAL) && !excusedExit(e) && !k.exemptFuturePage(n, e) && !displacedRead(n, e) && !k.metaWentBack(e) {
				hs.nexits++
				return fmt.Errorf("%s %v: %s", e.Name, e.Kind, e.Err)
			}
		}
	}
	return nil
}

// ---- full checks -----------------------------------------------------------

// Full runs the expensive whole-state checks: every live pool's invariants,
// offline crash recovery (CrashRecovers, plus CommitDurable against the
// durable WAL) and AckedVisible. The error is a *sim.Violation. It checks
// nothing while a read fault that the observer could consume is armed
// (reading would change the world); call it again once it is healed.
func (k *Checks) Full() error {
	if !k.canObserve() {
		return nil
	}
	if err := k.O.SyncFull(); err != nil {
		return k.c.S.Violation("CrashRecovers", err)
	}
	for _, n := range k.c.nodes {
		if !k.alive(n) {
			continue
		}
		if err := k.flushOrder(n); err != nil {
			return k.c.S.Violation("FlushListOrdered", err)
		}
		if err := n.Pool.Check(); err != nil {
			return k.c.S.Violation("FlushListOrdered", fmt.Errorf("%v: %w", n.Cfg.Host, err))
		}
	}
	if name, err := k.crashRecovers(); err != nil {
		return k.c.S.Violation(name, err)
	}
	if err := k.ackedVisible(); err != nil {
		return k.c.S.Violation("AckedVisible", err)
	}
	return nil
}

// ackedVisible: at the end of valid WAL every acknowledged write is either
// still in its slot, committed, or was replaced by a later record of the
// history. The model keeps one value per slot (no tuple versions), so a
// later write of any status hides an older one; whether that later write
// commits is the business of its own acknowledgement.
func (k *Checks) ackedVisible() error {
	o := k.O
	end := o.End()
	for _, a := range k.c.Journal.Acks {
		if st := o.Status(a.XID, end); st != shmem.XactCommitted {
			return fmt.Errorf("acknowledged xid %d (by %v, commit end %v) is %v at the end of WAL %v", a.XID, a.Node, a.CommitEnd, st, end)
		}
		for _, w := range a.Writes {
			mine := o.writeOf(a.XID, w.Page, int(w.Slot), w.Value, a.CommitEnd)
			if mine < 0 {
				return fmt.Errorf("acknowledged xid %d (by %v): its write of page %d slot %d = x%d.%d is not in the WAL before its commit %v",
					a.XID, a.Node, w.Page, w.Slot, a.XID, uint32(w.Value), a.CommitEnd)
			}
			last := o.lastWriter(w.Page, int(w.Slot), end)
			if last < mine {
				got := o.Page(w.Page, end).Slots[w.Slot]
				return fmt.Errorf("acknowledged xid %d (by %v): page %d slot %d holds x%d.%d at the end of WAL %v, want x%d.%d or a later write",
					a.XID, a.Node, w.Page, w.Slot, got>>32, uint32(got), end, a.XID, uint32(w.Value))
			}
		}
	}
	return nil
}
