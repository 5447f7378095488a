package check

import (
	"fmt"

	"promotesim/logindex"
	"promotesim/scenarios/cluster"
	"promotesim/scenarios/oracle"
	"promotesim/shmem"
	"promotesim/storage"
)

// Checks holds the oracle and the state of every checker of one cluster.
// Every checker only observes: it reads the device through the oracle's
// read-only mount, nodes' shared memory and the journal, and changes
// nothing a process can see. Per-step checkers are incremental: each keeps
// the counters it last saw (device write count, journal lengths, a node's
// BGW transition count, exits, consistent LSN...) and returns at once when
// nothing it watches changed, so a step with every checker on stays cheap.
type Checks struct {
	c *cluster.Cluster
	O *oracle.Oracle
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
	// the LogIndex meta, so a crash may still drop the unsynced meta write
	// (nobody read it) and the meta on storage go back: LogIndexMetaMonotone
	// restarts its baseline then.
	metaSyncFailed bool

	lostSeen int
	cutSeen  int
	acksSeen int

	dur durableState
	tp  twoPhaseSeen
	lg  logicalSeen

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

	// exempt are the pages written past a left-out slot, by host - 1,
	// taken from every instance of the host as the writes are reported
	// (pageWritten): they stay on storage after it restarts
	// (NoUnexpectedExit's future-page case).
	exempt []hostExempt
	// exits are the process exits the run reports, by node instance
	// (NoUnexpectedExit); regressions the consistent LSN regressions, by
	// host - 1 (ConsistentLSNMonotone).
	exits       *shmem.ExitLog
	regressions []poolRegressions

	ids     []storage.BufferID
	pgs     []storage.PageID // scratch for Oracle.PagesOf
	relPath string

	// exercised counts each claim's non-vacuous checks (hit).
	exercised [nClaims]uint64

	// The new per-step claims' memory: write cursors, the LogIndex meta
	// last seen on storage, the checkpoint records looked at for
	// WAITING_RESET, and each host's role as last seen (promote).
	walW, futW, liW, lmW writeCursor
	wrW                  writeCursor
	lmetaBy              storage.HostID
	lmeta                logindex.SavedMeta
	lmetaKnown           bool
	wrSeen, wrCuts       int
	wasReplica           []incarnation
	wasReplicaSl         []incarnation
	clogSeen             []clogSeen
	promote              []promoteSeen
	pools                []poolSeen
	backW                writeCursor
	stored               []storage.LSN // StoredPageNeverGoesBack: each page LSN last written
	rewinds              uint64        // StoredPageNeverGoesBack: rewinds accepted as recovery regenerating a reused page (rewindByInit)
	dataSyncFailed       bool
	blk                  [storage.BlockSize]byte
	metaBuf              [logindex.MetaSize]byte

	// watch is what the per-step checkers watch, as it was after they last
	// ran; lastOK: they all passed then.
	watch  watched
	lastOK bool
	// Test knobs: watchOff runs every checker after every step; onSkip,
	// if set, is called with the index of every checker a step skips, or
	// with -1 when a step skips them all.
	watchOff bool
	onSkip   func(int)
	// verifyTouches (a test knob) compares untouched nodes' watched values
	// too, and records in watchErr the first that moved all the same.
	verifyTouches bool
	watchErr      error
}

// hostSeen is what the per-node checkers last saw of one node instance
// (a restart makes a new instance with fresh shared memory; a crash
// reinitialisation rebuilds it in the same instance: reinits).
type hostSeen struct {
	flush, cons, bgw, rp, fake, exits *shmem.Node

	inst    *shmem.Node // the instance host last looked at
	reinits int         // its shmem.Node.Reinits then

	flushLen    int
	consistent  storage.LSN
	regressions int
	transitions int
	replay      storage.LSN
	resets      int
	fakeOldest  storage.LSN
	nexits      int
}

// incarnation is one node instance between two crash reinitialisations
// (shmem.Node.Reinit rebuilds shared memory in the same instance): the
// unit the per-node memories of the claims that judge shared memory are
// kept for, as host does for hostSeen.
type incarnation struct {
	n       *shmem.Node
	reinits int
}

// incarnationOf is n's incarnation now (the zero value for nil).
func incarnationOf(n *shmem.Node) incarnation {
	if n == nil {
		return incarnation{}
	}
	return incarnation{n: n, reinits: n.Reinits}
}

// Install builds the oracle and registers every per-step checker on c's
// scheduler, as one group: a call per checker on every step cost as much
// as their no-change fast paths.
func Install(c *cluster.Cluster) (*Checks, error) {
	o, err := oracle.New(c)
	if err != nil {
		return nil, err
	}
	k := &Checks{c: c, O: o, ackByXID: map[logindex.XID]uint64{}, relPath: fmt.Sprintf("base/%d", o.Rel())}
	k.exits = shmem.WatchExits(c.S)
	c.S.Observe(k)
	names := make([]string, len(perStepChecks))
	for i, pc := range perStepChecks {
		names[i] = pc.Name
	}
	c.S.Checkers().AddGroup(names, k.stepChecks)
	return k, nil
}

// Rebind points the closures Install registered (the per-step group on
// the scheduler, the oracle's host count) at k and its cluster: after a
// deep copy of a world they still reach the original's, since a copy
// cannot see inside a closure (scenarios/explore's snapshots).
func (k *Checks) Rebind() {
	k.c.S.Checkers().Rebind(perStepChecks[0].Name, k.stepChecks)
	k.O.Rebind(k.c)
}

// NewCluster builds a checked cluster: cluster.New, the checkers
// installed on the empty world (so they judge every step from before
// initdb on), then the boot. This is how every script, demo and explorer
// world is built.
func NewCluster(cfg cluster.Config) (*cluster.Cluster, *Checks, error) {
	c, err := cluster.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	k, err := Install(c)
	if err != nil {
		return nil, nil, err
	}
	if err := c.Boot(); err != nil {
		return nil, nil, err
	}
	return c, k, nil
}

// runPerStep runs the per-step checkers in order and returns the index of
// the first that failed.
func (k *Checks) runPerStep() (int, error) {
	for i := range perStepChecks {
		if err := perStepChecks[i].step(k); err != nil {
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
		return k.c.S.Violation(perStepChecks[i].Name, err)
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

// host returns the per-node memory of host h (index h-1) for its node
// instance n, growing it. When n's shared memory was rebuilt since the
// last look (shmem.Node.Reinit, the postmaster's restart after a child
// crash: a new pool, BGW and consistent LSN in the same instance), the
// memory of the checkers that judge shared memory starts over, as it does
// for a new instance; the exit record survives a reinitialisation
// (shmem.ExitLog keeps the instance's), so NoUnexpectedExit's position is
// kept.
func (k *Checks) host(i int, n *shmem.Node) *hostSeen {
	for len(k.hosts) <= i {
		k.hosts = append(k.hosts, hostSeen{})
	}
	hs := &k.hosts[i]
	if hs.inst == n && hs.reinits != n.Reinits {
		hs.flush, hs.cons, hs.bgw, hs.rp, hs.fake = nil, nil, nil, nil, nil
	}
	hs.inst, hs.reinits = n, n.Reinits
	return hs
}

// alive reports whether n's postmaster runs.
func (k *Checks) alive(n *shmem.Node) bool {
	return n != nil && k.c.Op.Alive(n)
}

// shared reports whether n works on the cluster's shared device (a standby
// has its own).
func (k *Checks) shared(n *shmem.Node) bool { return n.Dev == k.c.Dev }
