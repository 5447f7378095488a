package check

import (
	"fmt"

	"promotesim/scenarios/oracle"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// watched is everything of the world the per-step checkers read, apart
// from their own memory and the oracle's, as it was after they last ran.
// Checkers only observe, so a checker that passed last time and none of
// whose watched values moved since would run through its no-change fast
// path to nil without changing its memory: the group skips it then. The
// values fall into groups (watchBits), and each claim names the groups it
// reads (claimWatch): a step that moves only a replica's replay position
// runs the handful of claims that read it, not all thirty-one.
//
// Why the groups are complete, in general (each claim's line in
// claimWatch says what it reads): the write cursors and the oracle's
// catch-up move only with the device's write count, the mounts of the
// node hosts (a crash drops unsynced writes without a write record: a new
// or dropped mount is wIdent), the read faults that blind the observer,
// and its periodic comparison (Oracle.Quiet: wOracle); Lost, Cuts and End
// change only in its catch-up; the journal's acks, reads, two-phase events
// and logical-slot acknowledgements are append-only; every per-node memory
// is keyed by the node's instance and its reinitialisation count
// (shmem.Node.Reinits, wIdent); a flush list's order and its buffers'
// oldest LSNs change only with its gen (storage.Pool.FlushGen); a pooled
// page changes only through storage.Pool.Modify (Pool.Changes); the
// writer is the device's writer host, its epoch and that node's role;
// pending primary reads wait on the oracle's end and their node's life.
type watched struct {
	shared sharedWatched
	nodes  []nodeWatched
}

// watchBits is a set of groups of watched values: those that moved since
// the checkers last ran, or those one claim reads.
type watchBits uint32

// The groups. wIdent (a node's instance, mount, pool, device, life or
// reinitialisation) is in every claim's set: those change rarely and
// restart per-node memories.
const (
	wOracle      watchBits = 1 << iota // the oracle's progress, or a comparison it owes (not Quiet)
	wWrites                            // the device's write and stale-write counts
	wWriter                            // the device's writer host, epoch and whether there is one
	wBlind                             // the observer's read fault
	wAcks                              // the journal's commit acknowledgements
	wReads                             // the journal's reads
	wTwoPhase                          // the journal's two-phase events
	wLogical                           // the journal's logical-slot acknowledgements
	wIdent                             // a node host's instance, mount (and its mode), pool, device, life, reinitialisations
	wRole                              // a node's primary, in-recovery, local state, read-write and accepting flags
	wFlush                             // a flush list's length and generation
	wConsistent                        // a consistent LSN, and its regressions reported
	wBGW                               // a BGW's transition and reset counts
	wReplayPoint                       // a BGW's replay point and fake oldest LSN
	wReplayLSN                         // a node's replay position
	wExits                             // a node's process exits
	wPool                              // a pool's page changes
	wRedo                              // a node's control-file redo and LogIndex truncation point
	wTwoPhaseGen                       // a node's two-phase state generation
	wClog                              // a node's clog generation
	wSlots                             // a node's physical and logical slot counts
	wAll         watchBits = 1<<iota - 1
)

// wSynced is what a claim that reads the oracle (Sync, End, Records,
// Cuts) watches: the oracle moves only in a catch-up, and a catch-up does
// something only after a write, a mount change, a read fault's end or a
// comparison it owes.
const wSynced = wOracle | wWrites | wBlind

// claimWatch is what each per-step claim reads of the world, by claim
// index; wIdent is added to every set. TestClaimWatchCovers holds every
// per-step claim to a set, and TestCheckerWatchIsInvisible runs every
// skipped claim on every step it was skipped and requires it to find
// nothing and keep its memory.
var claimWatch = [nClaims]watchBits{
	// Write cursors: the device's write log, read only while the observer sees.
	cSingleWriter:            wWrites,
	cReplicaWritesNothing:    wWrites | wRole | wFlush, // and a replica's dirty buffers
	cWALBeforeData:           wWrites | wBlind | wSynced,
	cStoredPageNeverGoesBack: wWrites | wBlind,
	cNoFuturePageWritten:     wWrites | wBlind, // replicas' replay positions are read at a write
	cLogIndexSavedAfterWAL:   wWrites | wBlind,
	cLogIndexMetaMonotone:    wWrites | wBlind,
	// The history.
	cNoWALBelowOldEnd:    wSynced,
	cCommitDurable:       wSynced | wAcks,
	cPreparedSurvives:    wSynced | wTwoPhase | wRole | wWriter | wTwoPhaseGen | wClog, // the serving writer's state
	cTwoPhaseDecidedOnce: wSynced | wTwoPhase,
	// Pools and consistent LSNs.
	cFlushListOrdered:      wFlush,
	cConsistentLSNMonotone: wConsistent,
	cConsistentLSNDurable:  wSynced | wWriter | wRole | wConsistent,
	// Checkpoints and WAL.
	cNoCheckpointInWaitingReset: wSynced, // the BGW's state is read at a checkpoint record
	cCheckpointRedo:             wSynced, // a node's consistent LSN is read at a checkpoint record
	cWALRetained:                wRedo | wRole | wSlots,
	// The BGW.
	cBGWLegalTransitions: wBGW,
	cReplayPointMonotone: wReplayPoint | wBGW,
	cFakeOldestMonotone:  wReplayPoint,
	// The promote.
	cReplicaClogReplayed:    wSynced | wReplayLSN | wRole,
	cClogCopiedAtPromote:    wRole | wBlind,
	cSlotsReloadedAtPromote: wRole | wBlind,
	cNoBackendAtRemount:     wWriter | wRole,
	cPromoteReplayStart:     wBGW | wReplayPoint,
	// Pages and reads.
	cBuffersMatchOracle:      wSynced | wPool | wWriter | wRole,
	cReplicaReadsMatchOracle: wSynced | wReads,
	cReadsReflectAcked:       wSynced | wAcks | wReads | wWriter,
	cLogicalSlotsSurvive:     wLogical | wSlots | wRole | wWriter,
	cPreparedInvisible:       wSynced | wReads,
	cNoUnexpectedExit:        wExits,
}

// stepWatch is claimWatch for perStepChecks, by their index, wIdent added.
var stepWatch = func() []watchBits {
	out := make([]watchBits, len(perStepChecks))
	for i, c := range perStepChecks {
		for j := range claims {
			if claims[j].Name == c.Name {
				out[i] = claimWatch[j] | wIdent
			}
		}
	}
	return out
}()

// sharedWatched is what the checkers read of the oracle, the shared
// device and the clients' journal.
type sharedWatched struct {
	oracle    oracle.Progress
	writes    uint64
	stale     int
	writer    storage.HostID
	epoch     storage.Epoch
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
	mode                storage.MountMode
	pool                *storage.Pool
	dev                 *storage.Device
	alive               bool
	reinits             int
	primary, recovering bool
	readWrite           bool
	accepting           bool
	state               shmem.DBState
	flushLen            int
	flushGen            uint64
	regressions         int
	consistent          storage.LSN
	transitions         int
	resets              int
	replay              storage.LSN
	fakeOldest          storage.LSN
	replayLSN           storage.LSN
	exits               int
	poolChanges         uint64
	// redo and truncated: WALRetained's bounds (a restartpoint moves the
	// redo in the step it removes segments).
	redo, truncated storage.LSN
	twoPhaseGen     uint64
	clogGen         uint64
	slots, logical  int
	// cond is the node's shared-memory condition (shmem.Node.WakeOn) and
	// touches its count when these values were taken (sim's Touches):
	// while it stands, no step changed the node's memory, and moved does
	// not compare the rest.
	cond    sim.Cond
	touches uint64
}

// moved brings w up to the world's watched values now and returns the
// groups that differed. A node host whose shared memory no step touched
// since its values were taken (sim's Touches of its wake condition) is not
// looked at; the others are compared group by group.
func (k *Checks) moved(w *watched) watchBits {
	d := k.movedShared(&w.shared)
	nodes := k.c.AllNodes()
	if len(w.nodes) != len(nodes) {
		w.nodes = append(w.nodes[:0], make([]nodeWatched, len(nodes))...)
		d |= wIdent
	}
	s := k.c.S
	for i, n := range nodes {
		p := &w.nodes[i]
		if n != nil && p.n == n && p.touches == s.Touches(p.cond) && !k.verifyTouches {
			continue
		}
		m, _ := k.c.Dev.Mounted(storage.HostID(i + 1))
		d |= k.movedNode(p, n, m)
	}
	return d
}

// movedShared is moved's look at the oracle, the device and the journal:
// compared in place, the common case (nothing moved) in one chain of
// comparisons.
func (k *Checks) movedShared(sh *sharedWatched) watchBits {
	dv, j := k.c.Dev, k.c.Journal
	writer, epoch, has := dv.Writer()
	op := k.O.Progress()
	if sh.writes == dv.WriteCount() && sh.acks == len(j.Acks) && sh.reads == len(j.Reads) &&
		sh.oracle == op && sh.stale == dv.StaleCount() && sh.writer == writer && sh.epoch == epoch &&
		sh.hasWriter == has && sh.twoPhase == len(j.TwoPhase) && sh.logical == len(j.LogicalSlots) &&
		sh.blind == oracle.Blind(dv) {
		return 0
	}
	now := sharedWatched{oracle: op, writes: dv.WriteCount(), stale: dv.StaleCount(),
		writer: writer, epoch: epoch, hasWriter: has, blind: oracle.Blind(dv),
		acks: len(j.Acks), reads: len(j.Reads), twoPhase: len(j.TwoPhase), logical: len(j.LogicalSlots)}
	var d watchBits
	d |= bit(now.oracle != sh.oracle, wOracle)
	d |= bit(now.writes != sh.writes || now.stale != sh.stale, wWrites)
	d |= bit(now.writer != sh.writer || now.epoch != sh.epoch || now.hasWriter != sh.hasWriter, wWriter)
	d |= bit(now.blind != sh.blind, wBlind)
	d |= bit(now.acks != sh.acks, wAcks) | bit(now.reads != sh.reads, wReads)
	d |= bit(now.twoPhase != sh.twoPhase, wTwoPhase) | bit(now.logical != sh.logical, wLogical)
	*sh = now
	return d
}

// bit is b if c holds.
func bit(c bool, b watchBits) watchBits {
	if c {
		return b
	}
	return 0
}

// movedNode is moved's look at one node host (n nil: none runs there; m
// its mount of the shared device). With verifyTouches (a test knob) it
// also looks at untouched hosts, and notes one whose values moved.
func (k *Checks) movedNode(p *nodeWatched, n *shmem.Node, m *storage.Mount) watchBits {
	if n == nil {
		if p.n != nil || p.mount != m {
			*p = nodeWatched{mount: m}
			return wIdent
		}
		return 0
	}
	same := k.sameNode(p, n, m)
	if k.verifyTouches && k.watchErr == nil && same != (k.nodeNowKeep(p, n, m) == *p) {
		k.watchErr = fmt.Errorf("step %d: %v: sameNode says %v, the full comparison %v", k.c.S.StepNo(), n.Cfg.Host, same, !same)
	}
	if same {
		p.touches = k.c.S.Touches(p.cond)
		return 0
	}
	now := k.nodeNowKeep(p, n, m)
	untouched := p.n == n && p.touches == k.c.S.Touches(now.cond)
	if untouched && k.watchErr == nil {
		k.watchErr = fmt.Errorf("step %d: %v's watched values moved (%+v to %+v) with its shared memory untouched", k.c.S.StepNo(), n.Cfg.Host, *p, now)
	}
	now.touches = k.c.S.Touches(now.cond)
	var d watchBits
	d |= bit(now.n != p.n || now.mount != p.mount || now.mode != p.mode || now.pool != p.pool || now.dev != p.dev ||
		now.alive != p.alive || now.reinits != p.reinits, wIdent)
	d |= bit(now.primary != p.primary || now.recovering != p.recovering || now.readWrite != p.readWrite ||
		now.accepting != p.accepting || now.state != p.state, wRole)
	d |= bit(now.flushLen != p.flushLen || now.flushGen != p.flushGen, wFlush)
	d |= bit(now.regressions != p.regressions || now.consistent != p.consistent, wConsistent)
	d |= bit(now.transitions != p.transitions || now.resets != p.resets, wBGW)
	d |= bit(now.replay != p.replay || now.fakeOldest != p.fakeOldest, wReplayPoint)
	d |= bit(now.replayLSN != p.replayLSN, wReplayLSN) | bit(now.exits != p.exits, wExits)
	d |= bit(now.poolChanges != p.poolChanges, wPool) | bit(now.redo != p.redo || now.truncated != p.truncated, wRedo)
	d |= bit(now.twoPhaseGen != p.twoPhaseGen, wTwoPhaseGen) | bit(now.clogGen != p.clogGen, wClog)
	d |= bit(now.slots != p.slots || now.logical != p.logical, wSlots)
	*p = now
	return d
}

// sameNode reports whether n's watched values now are p's (cond and
// touches aside): nodeNow(n, m) == *p, compared in place, since building
// the values and comparing the structs cost more than most claims they
// let the group skip. TestSameNodeSeesEveryField changes each field of
// nodeWatched in turn and requires sameNode to see it.
func (k *Checks) sameNode(p *nodeWatched, n *shmem.Node, m *storage.Mount) bool {
	pl, b := n.Pool, n.BGW
	if p.n != n || p.mount != m || p.pool != pl || p.dev != n.Dev || p.reinits != n.Reinits ||
		p.replayLSN != n.ReplayLSN || p.poolChanges != pl.Changes() || p.flushGen != pl.FlushGen() ||
		p.flushLen != pl.FlushLen() || p.consistent != pl.ConsistentLSN() || p.redo != n.Control.Redo ||
		p.primary != n.Primary || p.recovering != n.InRecovery || p.readWrite != n.ReadWrite ||
		p.accepting != n.Accepting || p.state != n.Local.State || p.replay != b.ReplayPoint() ||
		p.resets != b.Resets() || p.fakeOldest != b.FakeOldest() || p.twoPhaseGen != n.TwoPhase.Gen() ||
		p.clogGen != n.Clog.Gen() || p.slots != len(n.Slots) || p.logical != len(n.LogicalSlots) {
		return false
	}
	if transitions, _, _ := b.Transitions(); p.transitions != transitions {
		return false
	}
	var mode storage.MountMode
	if m != nil {
		mode = m.Mode()
	}
	return p.mode == mode && p.alive == k.alive(n) && p.regressions == k.regressionsOf(n).count &&
		p.exits == len(k.exits.Of(n)) && p.truncated == truncatedBelow(n)
}

// nodeNowKeep is nodeNow with p's wake condition kept (found when p was
// another node's).
func (k *Checks) nodeNowKeep(p *nodeWatched, n *shmem.Node, m *storage.Mount) nodeWatched {
	now := k.nodeNow(n, m)
	now.cond, now.touches = p.cond, p.touches
	if p.n != n {
		now.cond = k.c.S.Cond(n.Name())
	}
	return now
}

// nodeNow is n's watched values now.
func (k *Checks) nodeNow(n *shmem.Node, m *storage.Mount) nodeWatched {
	transitions, _, _ := n.BGW.Transitions()
	now := nodeWatched{
		n: n, mount: m, pool: n.Pool, dev: n.Dev, alive: k.alive(n), reinits: n.Reinits,
		primary: n.Primary, recovering: n.InRecovery, readWrite: n.ReadWrite, accepting: n.Accepting, state: n.Local.State,
		flushLen: n.Pool.FlushLen(), flushGen: n.Pool.FlushGen(),
		regressions: k.regressionsOf(n).count, consistent: n.Pool.ConsistentLSN(),
		transitions: transitions, resets: n.BGW.Resets(), replay: n.BGW.ReplayPoint(), fakeOldest: n.BGW.FakeOldest(),
		replayLSN: n.ReplayLSN, exits: len(k.exits.Of(n)), poolChanges: n.Pool.Changes(),
		redo: n.Control.Redo, truncated: truncatedBelow(n),
		twoPhaseGen: n.TwoPhase.Gen(), clogGen: n.Clog.Gen(), slots: len(n.Slots), logical: len(n.LogicalSlots),
	}
	if m != nil {
		now.mode = m.Mode()
	}
	return now
}

// stepChecks is the scheduler's per-step run of the checkers: those whose
// watched values moved since the checkers last all passed (all of them
// after a failure, or with the watch off).
func (k *Checks) stepChecks() (int, error) {
	if k.Off {
		k.lastOK = false
		return 0, nil
	}
	d := k.moved(&k.watch)
	if !k.O.Quiet() {
		d |= wOracle
	}
	if !k.lastOK || k.watchOff {
		d = wAll
	}
	if d == 0 {
		if k.onSkip != nil {
			k.onSkip(-1)
		}
		return 0, nil
	}
	i, err := k.runWatched(d)
	k.lastOK = err == nil
	// The run caught the oracle up, and every checker with it.
	k.watch.shared.oracle = k.O.Progress()
	return i, err
}

// runWatched runs, in order, the per-step checkers that watch a group in
// d, and returns the index of the first that failed.
func (k *Checks) runWatched(d watchBits) (int, error) {
	for i := range perStepChecks {
		if stepWatch[i]&d == 0 {
			if k.onSkip != nil {
				k.onSkip(i)
			}
			continue
		}
		if err := perStepChecks[i].step(k); err != nil {
			return i, err
		}
	}
	return 0, nil
}

// truncatedBelow is n's LogIndex truncation point (InvalidLSN without LogIndex).
func truncatedBelow(n *shmem.Node) storage.LSN {
	if n.Index == nil || !n.Index.Enabled() {
		return storage.InvalidLSN
	}
	return n.Index.TruncatedBelow()
}
