package check

import (
	"promotesim/scenarios/oracle"
	"promotesim/shmem"
	"promotesim/storage"
)

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
// by the node's instance and its reinitialisation count (shmem.Node.Reinits)
// and reads the values in nodeWatched (the replay position for
// ReplicaClogReplayed, the pool's change count, storage.Pool.Changes, for
// BuffersMatchOracle); a flush
// list's order and its buffers' oldest LSNs change only with its gen
// (storage.Pool.FlushGen); the writer is the device's writer host and that
// node's role; pending primary reads wait on the oracle's end and their
// node's life. The oracle's progress is watched too, since Full syncs it
// between steps. The two-phase checkers read the journal's two-phase
// events, the primary's read-write flag, its two-phase state (TwoPhase.Gen)
// and its clog (Clog.Gen).
// NoBackendAtRemount and PromoteReplayStart act on the step the device's
// writer or the BGW's reset count changed, and read the node's sessions,
// redo and old consistent LSN only in that step.
type watched struct {
	shared sharedWatched
	nodes  []nodeWatched
}

// sharedWatched is what the checkers read of the oracle, the shared
// device and the clients' journal.
type sharedWatched struct {
	oracle    oracle.Progress
	writes    uint64
	stale     int
	writer    storage.HostID
	hasWriter bool
	blind     bool
	acks      int
	reads     int
	twoPhase  int
	logical   int
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
	replayLSN           storage.LSN
	poolChanges         uint64
	exits               int
	reinits             int
	// redo and truncated: WALRetained's bounds (a restartpoint moves the
	// redo in the step it removes segments).
	redo, truncated storage.LSN
	readWrite       bool
	twoPhaseGen     uint64
	clogGen         uint64
}

// moved brings w up to the world's watched values now and reports whether
// any differed. It compares in place, field by field: building the values
// first and comparing structs (memequal) cost about as much as the
// checkers it lets the group skip.
func (k *Checks) moved(w *watched) bool {
	d, o, j, sh := k.c.Dev, k.O, k.c.Journal, &w.shared
	writer, _, has := d.Writer()
	blind := oracle.Blind(d)
	ch := false
	op := o.Progress()
	if sh.oracle != op ||
		sh.writes != d.WriteCount() || sh.stale != d.StaleCount() || sh.writer != writer || sh.hasWriter != has ||
		sh.blind != blind || sh.acks != len(j.Acks) || sh.reads != len(j.Reads) || sh.twoPhase != len(j.TwoPhase) ||
		sh.logical != len(j.LogicalSlots) {
		*sh = sharedWatched{oracle: op, writes: d.WriteCount(), stale: d.StaleCount(), writer: writer,
			hasWriter: has, blind: blind, acks: len(j.Acks), reads: len(j.Reads), twoPhase: len(j.TwoPhase),
			logical: len(j.LogicalSlots)}
		ch = true
	}
	if len(w.nodes) != len(k.c.AllNodes()) {
		w.nodes = append(w.nodes[:0], make([]nodeWatched, len(k.c.AllNodes()))...)
		ch = true
	}
	for i, n := range k.c.AllNodes() {
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
			p.regressions != k.regressionsOf(n).count || p.consistent != n.Pool.ConsistentLSN() ||
			p.transitions != transitions || p.replay != n.BGW.ReplayPoint() || p.resets != n.BGW.Resets() ||
			p.fakeOldest != n.BGW.FakeOldest() || p.replayLSN != n.ReplayLSN || p.exits != len(k.exits.Of(n)) || p.poolChanges != n.Pool.Changes() ||
			p.redo != n.Control.Redo || p.truncated != truncatedBelow(n) || p.readWrite != n.ReadWrite ||
			p.twoPhaseGen != n.TwoPhase.Gen() || p.clogGen != n.Clog.Gen() || p.reinits != n.Reinits {
			*p = nodeWatched{
				n: n, mount: m, pool: n.Pool, dev: n.Dev,
				alive: alive, primary: n.Primary, recovering: n.InRecovery, state: n.Local.State,
				flushLen: n.Pool.FlushLen(), flushGen: n.Pool.FlushGen(),
				regressions: k.regressionsOf(n).count, consistent: n.Pool.ConsistentLSN(),
				transitions: transitions, replay: n.BGW.ReplayPoint(), resets: n.BGW.Resets(), fakeOldest: n.BGW.FakeOldest(),
				replayLSN: n.ReplayLSN, exits: len(k.exits.Of(n)), poolChanges: n.Pool.Changes(),
				redo: n.Control.Redo, truncated: truncatedBelow(n), reinits: n.Reinits,
				readWrite: n.ReadWrite, twoPhaseGen: n.TwoPhase.Gen(), clogGen: n.Clog.Gen(),
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
	if !k.moved(&k.watch) && k.lastOK && !k.watchOff && k.O.Quiet() {
		if k.onSkip != nil {
			k.onSkip()
		}
		return 0, nil
	}
	i, err := k.runPerStep()
	k.lastOK = err == nil
	// The run caught the oracle up, and every checker with it.
	k.watch.shared.oracle = k.O.Progress()
	return i, err
}

// truncatedBelow is n's LogIndex truncation point (InvalidLSN without LogIndex).
func truncatedBelow(n *shmem.Node) storage.LSN {
	if n.Index == nil || !n.Index.Enabled() {
		return storage.InvalidLSN
	}
	return n.Index.TruncatedBelow()
}
