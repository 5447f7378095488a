package script

import (
	"fmt"
	"strings"

	"promotesim/postmaster"
	"promotesim/scenarios/cluster"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// Unreaped reports whether a live node has a child that exited and that its
// postmaster has not reaped yet (the child exit is still on its way).
func (r *Runner) Unreaped(n *shmem.Node) bool {
	s := r.C.S
	if !r.C.Op.Alive(n) {
		return false
	}
	for _, id := range append(procIDs(n), n.Procs.WALSenders...) {
		if id != shmem.NoProc && !s.Alive(id) {
			return true
		}
	}
	return false
}

func procIDs(n *shmem.Node) []sim.ActorID {
	p := n.Procs
	ids := []sim.ActorID{p.Postmaster, p.Startup, p.BGW, p.BGWriter, p.Checkpointer, p.WALWriter, p.WALReceiver, p.PolarWorker}
	ids = append(ids, p.Workers...)
	return append(ids, p.Backends...)
}

// Liveness claims, named like the safety checkers so reports and hazard
// tests treat them alike.
const (
	LivePromoteCompletes  = "PromoteCompletes"
	LivePrimaryServes     = "PrimaryServes"
	LiveBGWReturns        = "BGWReturnsToNotStart"
	LiveReplicasCatchUp   = "ReplicasCatchUp"
	LiveConsistentCatchUp = "ConsistentLSNCatchesUp"
)

// Liveness is the liveness phase (TigerBeetle's VOPR shape): heal every
// fault, then do what an operator would do to bring the cluster back (let a
// requested promote finish, start a primary if none runs, rebuild every other
// node as a replica), and require that within the step budget the promote
// completes, the BGW is back in NOT_START, every replica catches up and the
// primary's consistent LSN reaches its insert position. The guard against
// false alarms is that every fault is healed and every node the operator
// needs is started first; what still does not converge is the model's fault.
//
// Rescue (liveness rescue=N[,M...]) names nodes whose trigger file's
// promote the operator completes with pg_ctl promote, as a swarm world's
// planner does (swarm's ClassTriggerFile): the crash-point sweep's branches
// cut a world before its planner's rescue, or before the stop that made
// one needless. The rescue happens only if that node instance is still in
// the promote the trigger file asked for; a node restarted or crashed since
// has none to finish.
type Liveness struct {
	Budget int // 0: not given (20000)
	Rescue []storage.HostID
}

func parseLiveness(_ string, a args) (Command, error) {
	if err := a.only("liveness", "budget", "rescue"); err != nil {
		return nil, err
	}
	budget, err := a.int("budget", 20000)
	if err != nil || budget < 1 || budget > MaxSteps {
		return nil, fmt.Errorf("budget=%s: want 1..%d steps", a["budget"], MaxSteps)
	}
	c := Liveness{}
	if _, ok := a["budget"]; ok {
		c.Budget = budget
	}
	if v, ok := a["rescue"]; ok {
		if c.Rescue, err = parseRescue(v); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// parseRescue reads rescue=N[,M...]: distinct node numbers.
func parseRescue(v string) ([]storage.HostID, error) {
	var out []storage.HostID
	for _, f := range strings.Split(v, ",") {
		h, err := args{"rescue": f}.host("rescue")
		if err != nil {
			return nil, fmt.Errorf("rescue=%q: want node numbers like 2 or 2,3", v)
		}
		for _, have := range out {
			if have == h {
				return nil, fmt.Errorf("rescue=%q: node %d given twice", v, h)
			}
		}
		out = append(out, h)
	}
	return out, nil
}

func (c Liveness) String() string {
	l := newLine("liveness")
	if c.Budget > 0 {
		l.num("budget", c.Budget)
	}
	if len(c.Rescue) > 0 {
		var hs []string
		for _, h := range c.Rescue {
			hs = append(hs, fmt.Sprint(int(h)))
		}
		l.kv("rescue", strings.Join(hs, ","))
	}
	return l.String()
}

func (c Liveness) run(r *Runner) (string, error) {
	budget := c.Budget
	if budget == 0 {
		budget = 20000
	}
	for _, h := range c.Rescue {
		if all := r.C.Opts.Nodes + r.C.Opts.Standbys; int(h) > all {
			return "", fmt.Errorf("rescue=%d: no node %v (the cluster has %d, standbys included)", h, h, all)
		}
	}
	// Liveness holds under a fair scheduler: a strategy that may starve a
	// process (sim.Fair) schedules uniformly from here on.
	if f := sim.FindFair(r.C.S.Chooser()); f != nil {
		f.GoFair()
	}
	notes, v := r.converge(budget, c.Rescue)
	if v != nil {
		// The notes go out with the violation: whether the operator's
		// rescue was sent is what a reader of a failed liveness asks first.
		return notes, v
	}
	return notes + "cluster converged: promote complete, BGW in POLAR_BG_REDO_NOT_START, replicas caught up, consistent LSN caught up", nil
}

// converge runs the liveness phase and returns its violation, if any: heal,
// then the operator's plan in phases, all within one budget of steps.
// Its notes say which rescues the operator ran.
func (r *Runner) converge(budget int, rescue []storage.HostID) (string, *sim.Violation) {
	r.healAll()
	l := &liveRun{r: r, c: r.C, budget: budget}
	if v := l.settle(); v != nil {
		return "", v
	}
	notes, v := l.rescue(rescue)
	if v != nil {
		return notes, v
	}
	if v := l.finishPromotes(); v != nil {
		return notes, v
	}
	p, v := l.ensurePrimary()
	if v != nil {
		return notes, v
	}
	if v := l.restoreOthers(p); v != nil {
		return notes, v
	}
	ok, v := l.run(func() bool { return r.converged(p) })
	if v != nil {
		return notes, v
	}
	if !ok {
		return notes, l.c.S.Violation(r.unconverged(p), fmt.Errorf("not converged after %d steps of liveness:\n%s", l.spent, r.statusText()))
	}
	return notes, nil
}

// rescue is the operator's pg_ctl promote of every node in hs still in a
// trigger file's promote, once its startup took the file (the swarm
// planner's rescueCmd waits for the same): postmaster then remounts and
// signals the BGW, whose WAITING_RESET the promote waits for. A node that
// is not in that promote (restarted, crashed, sent pg_ctl promote
// already) is left alone, and a note says so; so is a standby, whose
// startup finishes a trigger file's promote by itself (xlogrecovery.c
// CheckForStandbyTrigger).
func (l *liveRun) rescue(hs []storage.HostID) (string, *sim.Violation) {
	var b strings.Builder
	for _, h := range hs {
		if why := l.noRescue(h); why != "" {
			fmt.Fprintf(&b, "rescue: %v %s: no pg_ctl promote\n", h, why)
			continue
		}
		if v := l.rescueOne(&b, h); v != nil {
			return b.String(), v
		}
	}
	return b.String(), nil
}

// noRescue says why h needs no rescue ("" when it does).
func (l *liveRun) noRescue(h storage.HostID) string {
	c, r := l.c, l.r
	switch {
	case c.IsStandby(h):
		return "is a standby, which finishes a trigger file's promote by itself"
	case !r.Promoting(h):
		return "is in no promote"
	case r.sentPgctl(h):
		return "was sent pg_ctl promote already"
	}
	return ""
}

// rescueOne waits for h's startup to take its trigger file and sends the
// pg_ctl promote, noting what it did in b.
func (l *liveRun) rescueOne(b *strings.Builder, h storage.HostID) *sim.Violation {
	c, r := l.c, l.r
	n := c.Node(h)
	ok, v := l.run(func() bool { return !n.TriggerFile || !r.Promoting(h) })
	switch {
	case v != nil:
		return v
	case !ok:
		fmt.Fprintf(b, "rescue: startup of %v did not take its trigger file in %d steps: no pg_ctl promote\n", h, l.spent)
		return nil
	case !r.Promoting(h):
		fmt.Fprintf(b, "rescue: %v left its promote before startup took the trigger file: no pg_ctl promote\n", h)
		return nil
	}
	if err := c.Promote(h); err != nil {
		return c.S.Violation(LivePromoteCompletes, fmt.Errorf("the operator's rescuing pg_ctl promote of %v was refused: %v", h, err))
	}
	r.promoteRequested(h, true)
	fmt.Fprintf(b, "rescue: pg_ctl promote %v (startup took its trigger file)\n", h)
	return nil
}

// liveRun is one liveness phase: the steps it may still spend.
type liveRun struct {
	r      *Runner
	c      *cluster.Cluster
	budget int
	spent  int
}

// run runs until cond holds or the budget is spent.
func (l *liveRun) run(cond func() bool) (bool, *sim.Violation) {
	res := l.c.S.RunUntil(cond, l.budget-l.spent)
	l.spent += res.Steps
	return res.Done, res.Violation
}

// settle lets a shutdown under way finish (a fault may have held it) and
// every postmaster reap the children that already exited: a child that
// PANICked on a fault just before the heal takes its node down only when
// the postmaster handles SIGCHLD, and the operator's plan must not pick a
// primary that is already on its way down.
func (l *liveRun) settle() *sim.Violation {
	c := l.c
	ok, v := l.run(func() bool {
		for _, h := range c.Hosts() {
			if n := c.Node(h); n != nil && (c.Op.Stopping(n) || l.r.Unreaped(n) || l.r.stopPending(h, n)) {
				return false
			}
		}
		return true
	})
	if v != nil {
		return v
	}
	if !ok {
		return c.S.Violation(LivePrimaryServes, fmt.Errorf("a shutdown does not finish after %d steps of liveness:\n%s", l.spent, l.r.statusText()))
	}
	return nil
}

// stopPending reports whether a stop of h's current incarnation n was
// requested and not yet handled (the stop command's wait gave up: a
// strategy that starves the postmaster can hold the request for
// thousands of steps). Picking a primary past it would pick one that is
// about to go down.
func (r *Runner) stopPending(h storage.HostID, n *shmem.Node) bool {
	if r.world == nil {
		return false
	}
	m, ok := r.world.stopping[h]
	if !ok {
		return false
	}
	if m != n || !r.C.Op.Alive(n) {
		delete(r.world.stopping, h)
		return false
	}
	return true
}

// finishPromotes requires a requested promote to complete by itself, and a
// primary starting up (crash recovery from shared storage: it holds the
// writer role, not yet read-write) to come up by itself; the operator does
// not promote a replica past it.
func (l *liveRun) finishPromotes() *sim.Violation {
	c, r := l.c, l.r
	for _, h := range c.Hosts() {
		if !r.Promoting(h) {
			continue
		}
		n := c.Node(h)
		ok, v := l.run(func() bool { return n.ReadWrite && Serving(n) || !c.Op.Alive(n) })
		if v != nil {
			return v
		}
		if !ok {
			return c.S.Violation(LivePromoteCompletes, fmt.Errorf("%v was asked to promote and is not read-write after %d steps of liveness: %s",
				h, l.spent, c.NodeStatus(n)))
		}
	}
	for _, h := range c.Hosts() {
		n := c.Node(h)
		if n == nil || !c.Op.Alive(n) || n.ReadWrite || r.Promoting(h) || n.Mount == nil || !n.Mount.Writer() {
			continue
		}
		ok, v := l.run(func() bool { return n.ReadWrite && Serving(n) || !c.Op.Alive(n) })
		if v != nil {
			return v
		}
		if !ok {
			return c.S.Violation(LivePrimaryServes, fmt.Errorf("%v was started as primary and is not read-write after %d steps of liveness: %s",
				h, l.spent, c.NodeStatus(n)))
		}
	}
	return nil
}

// ensurePrimary makes a primary serve read-write: keep the live one, else
// promote a live replica, else start the first host as primary (crash
// recovery from shared storage).
func (l *liveRun) ensurePrimary() (*shmem.Node, *sim.Violation) {
	c, r := l.c, l.r
	if p := r.LivePrimary(); p != nil {
		return p, nil
	}
	var cand *shmem.Node
	for _, h := range c.Hosts() {
		if n := c.Node(h); n != nil && c.Op.Alive(n) && n.InRecovery && Serving(n) {
			cand = n
			break
		}
	}
	if cand != nil {
		// Other live nodes would be second writers; stop them first.
		if v := r.stopOthers(cand, l.run); v != nil {
			return nil, v
		}
		if err := c.Promote(cand.Cfg.Host); err == nil {
			r.promoteRequested(cand.Cfg.Host, true)
		}
	} else {
		if v := r.stopOthers(nil, l.run); v != nil {
			return nil, v
		}
		h := c.Hosts()[0]
		if err := c.Start(h, postmaster.RolePrimary); err != nil {
			return nil, c.S.Violation(LivePrimaryServes, fmt.Errorf("starting %v as primary: %v", h, err))
		}
		cand = c.Node(h)
	}
	ok, v := l.run(func() bool { return cand.ReadWrite && Serving(cand) })
	if v != nil {
		return nil, v
	}
	if !ok {
		name := LivePrimaryServes
		if r.Promoting(cand.Cfg.Host) {
			name = LivePromoteCompletes
		}
		return nil, c.S.Violation(name, fmt.Errorf("%v is not read-write after %d steps of liveness: %s", cand.Cfg.Host, l.spent, c.NodeStatus(cand)))
	}
	return cand, nil
}

// restoreOthers brings every other node back: a stale primary is stopped,
// the new primary's own former slot dropped, and every node that is down
// rebuilt as a replica.
func (l *liveRun) restoreOthers(p *shmem.Node) *sim.Violation {
	c := l.c
	if v := l.r.stopOthers(p, l.run); v != nil {
		return v
	}
	if own := cluster.OwnSlot(p); own != "" {
		if err := c.DropSlot(p.Cfg.Host, own); err != nil {
			return c.S.Violation(LiveConsistentCatchUp, fmt.Errorf("dropping %v's own former slot %s: %v", p.Cfg.Host, own, err))
		}
	}
	for _, h := range c.Hosts() {
		n := c.Node(h)
		if n == nil || n == p || c.Op.Alive(n) {
			continue
		}
		if err := c.Rebuild(h); err != nil {
			return c.S.Violation(LiveReplicasCatchUp, fmt.Errorf("rebuilding %v as a replica: %v", h, err))
		}
	}
	return nil
}

// LivePrimary is the one node Serving read-write, if exactly one does. A
// primary a later promote displaced (its mount no longer holds the device's
// writer role: the promoted node remounted read-write by force, and may have
// stopped since) does not count: the operator who promoted knows it is the
// old primary, which fencing turns away at its next write; stopOthers stops
// it.
func (r *Runner) LivePrimary() *shmem.Node {
	var p *shmem.Node
	for _, h := range r.C.Hosts() {
		n := r.C.Node(h)
		if n != nil && r.C.Op.Alive(n) && n.ReadWrite && n.Primary && n.Mount != nil && n.Mount.Writer() {
			if p != nil {
				return nil
			}
			p = n
		}
	}
	return p
}

// stopOthers stops (immediate) every live node but keep that is not a
// replica in recovery: an old primary, one that lost its way, or one in
// crash recovery (in recovery too, but on a read-write mount: promoting a
// replica past it would leave two writers once it finishes).
func (r *Runner) stopOthers(keep *shmem.Node, run func(func() bool) (bool, *sim.Violation)) *sim.Violation {
	c := r.C
	for _, h := range c.Hosts() {
		n := c.Node(h)
		replica := n != nil && n.InRecovery && n.Mount != nil && n.Mount.Mode() == storage.MountReadOnly
		if n == nil || n == keep || !c.Op.Alive(n) || (replica && keep != nil && !r.Promoting(h)) {
			continue
		}
		if err := c.Stop(h, true); err != nil {
			continue
		}
		ok, v := run(func() bool { return !c.Op.Alive(n) })
		if v != nil {
			return v
		}
		if !ok {
			return c.S.Violation(LivePrimaryServes, fmt.Errorf("%v does not stop (immediate): %s", h, c.NodeStatus(n)))
		}
	}
	return nil
}

func (r *Runner) converged(p *shmem.Node) bool {
	c := r.C
	if !c.Op.Alive(p) || !p.ReadWrite || p.BGW.State() != shmem.BGRedoNotStart {
		return false
	}
	if p.Pool.FlushLen() != 0 || p.Pool.ConsistentLSN() < p.WAL.InsertLSN() {
		return false
	}
	for _, h := range c.Hosts() {
		n := c.Node(h)
		if n == nil || n == p {
			continue
		}
		if !c.Op.Alive(n) || !n.InRecovery || !Serving(n) || n.ReplayLSN < p.WAL.FlushedLSN() {
			return false
		}
	}
	return true
}

// unconverged names the first liveness claim that does not hold.
func (r *Runner) unconverged(p *shmem.Node) string {
	c := r.C
	switch {
	case !c.Op.Alive(p) || !p.ReadWrite:
		return LivePrimaryServes
	case p.BGW.State() != shmem.BGRedoNotStart:
		return LiveBGWReturns
	}
	for _, h := range c.Hosts() {
		n := c.Node(h)
		if n != nil && n != p && (!c.Op.Alive(n) || !n.InRecovery || !Serving(n) || n.ReplayLSN < p.WAL.FlushedLSN()) {
			return LiveReplicasCatchUp
		}
	}
	return LiveConsistentCatchUp
}

func (r *Runner) statusText() string {
	var b strings.Builder
	r.C.Status(&b)
	return strings.TrimRight(b.String(), "\n")
}
