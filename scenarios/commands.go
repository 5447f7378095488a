package scenarios

import (
	"errors"
	"fmt"
	"strings"

	"promotesim/postmaster"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// The commands in this file are the explorer's vocabulary. Unlike the
// teaching commands (write, read), they do not wait: a world submits work
// and lets the scheduler interleave it with everything else, so a shrunk
// counterexample is an ordinary script of these lines.

// worldState is what the runner remembers across world commands.
type worldState struct {
	// promoting: hosts asked to promote that have not yet opened
	// read-write service (cleared when they do, or when they go down).
	promoting map[storage.HostID]*shmem.Node // looked up only
}

func (r *Runner) ws() *worldState {
	if r.world == nil {
		r.world = &worldState{promoting: map[storage.HostID]*shmem.Node{}}
	}
	return r.world
}

// promoteRequested records a pg_ctl promote or trigger file on h, if h is
// a replica in recovery (a primary ignores the request).
func (r *Runner) promoteRequested(h storage.HostID) {
	if n := r.C.Node(h); n != nil && n.InRecovery {
		r.ws().promoting[h] = n
	}
}

// Promoting reports whether h was asked to promote and has not finished
// (it is up and not yet serving read-write).
func (r *Runner) Promoting(h storage.HostID) bool {
	if r.world == nil || r.world.promoting[h] == nil {
		return false
	}
	// The request belongs to the node instance it was made to: a restart
	// (a new instance) forgets it, as the promote signal file is consumed.
	n := r.C.Node(h)
	if n == nil || n != r.world.promoting[h] || !postmaster.Alive(r.C.S, n) || n.ReadWrite {
		delete(r.world.promoting, h)
		return false
	}
	return true
}

// submit posts write transactions without waiting for their answers:
// submit node=N page=P slot=S [abort=true] [count=K]. With a count, the
// i-th transaction writes page P+i, slot S+i (wrapping), round robin over
// the node's sessions: a burst of load in one command.
func (r *Runner) submit(a args) (string, error) {
	h, err := a.node("submit", "page", "slot", "abort", "count")
	if err != nil {
		return "", err
	}
	page, slot, err := r.pageSlot(a)
	if err != nil {
		return "", err
	}
	abort := false
	switch a["abort"] {
	case "", "false":
	case "true":
		abort = true
	default:
		return "", fmt.Errorf("abort=%q: want true or false", a["abort"])
	}
	count, err := a.int("count", 1)
	if err != nil || count < 1 || count > 1000 {
		return "", fmt.Errorf("count: want 1..1000")
	}
	for i := 0; i < count; i++ {
		w := postmaster.Write{Page: (page + i) % r.C.Opts.Pages, Slot: uint8((slot + i) % storage.PageSlots)}
		if err := r.C.Write(h, postmaster.Txn{Writes: []postmaster.Write{w}, Abort: abort}); err != nil {
			return "", r.refusal(err)
		}
	}
	return "", nil
}

// submitRead posts page reads without waiting: submit-read node=N page=P
// [count=K] reads pages P, P+1, ... (wrapping), round robin over sessions.
func (r *Runner) submitRead(a args) (string, error) {
	h, err := a.node("submit-read", "page", "count")
	if err != nil {
		return "", err
	}
	page, err := a.int("page", 0)
	if err != nil {
		return "", err
	}
	if page < 0 || page >= r.C.Opts.Pages {
		return "", fmt.Errorf("page %d out of range (pages 0..%d)", page, r.C.Opts.Pages-1)
	}
	count, err := a.int("count", 1)
	if err != nil || count < 1 || count > 1000 {
		return "", fmt.Errorf("count: want 1..1000")
	}
	for i := 0; i < count; i++ {
		if err := r.C.Read(h, (page+i)%r.C.Opts.Pages); err != nil {
			return "", r.refusal(err)
		}
	}
	return "", nil
}

func (r *Runner) pageSlot(a args) (int, int, error) {
	page, err := a.int("page", 0)
	if err != nil {
		return 0, 0, err
	}
	slot, err := a.int("slot", 0)
	if err != nil {
		return 0, 0, err
	}
	if page < 0 || page >= r.C.Opts.Pages || slot < 0 || slot >= storage.PageSlots {
		return 0, 0, fmt.Errorf("page %d slot %d out of range (pages 0..%d, slots 0..%d)", page, slot, r.C.Opts.Pages-1, storage.PageSlots-1)
	}
	return page, slot, nil
}

// ErrRefused marks a world command the cluster refused in its current state
// (no session to submit to, a node already down): the operator's request
// failed, the world goes on. Shrinking relies on this: any subsequence of a
// world's commands is a runnable script.
var ErrRefused = errors.New("refused")

func (r *Runner) refusal(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %v", ErrRefused, err)
}

// fault arms a storage fault:
//
//	fault node=N kind=io-error op=read|write|sync [path=PREFIX] [count=C]
//	fault node=N kind=latency ticks=T
func (r *Runner) fault(a args) (string, error) {
	h, err := a.node("fault", "kind", "op", "path", "count", "ticks")
	if err != nil {
		return "", err
	}
	switch a["kind"] {
	case "io-error":
		if _, ok := a["ticks"]; ok {
			return "", fmt.Errorf("fault kind=io-error does not take ticks")
		}
		var op storage.Op
		switch a["op"] {
		case "read":
			op = storage.OpRead
		case "write":
			op = storage.OpWrite
		case "sync":
			op = storage.OpSync
		default:
			return "", fmt.Errorf("op=%q: want read, write or sync", a["op"])
		}
		count, err := a.int("count", 1)
		if err != nil || count < 1 || count > 1000 {
			return "", fmt.Errorf("count: want 1..1000")
		}
		f := storage.FaultSpec{Op: op, Host: h, PathPrefix: a["path"], Count: count}
		r.C.Dev.InjectError(f)
		r.C.S.Emit("operator", sim.LevelStory, "inject-fault", sim.Str("fault", f.String()))
	case "latency":
		for _, k := range []string{"op", "path", "count"} {
			if _, ok := a[k]; ok {
				return "", fmt.Errorf("fault kind=latency does not take %s", k)
			}
		}
		ticks, err := a.int("ticks", 0)
		if err != nil || ticks < 0 || ticks > 1000 {
			return "", fmt.Errorf("ticks: want 0..1000")
		}
		r.C.Dev.SetLatency(h, int64(ticks))
		r.C.S.Emit("operator", sim.LevelStory, "slow-io", sim.Str("host", h.String()), sim.Int("ticks", int64(ticks)))
	default:
		return "", fmt.Errorf("kind=%q: want io-error or latency", a["kind"])
	}
	return "", nil
}

// heal clears every fault: storage errors and latency, paused processes,
// stalled LogIndex saves. What the liveness phase starts from.
func (r *Runner) heal(a args) (string, error) {
	if err := a.only("heal"); err != nil {
		return "", err
	}
	r.healAll()
	return "", nil
}

func (r *Runner) healAll() {
	c := r.C
	c.Dev.ClearFaults()
	for _, h := range c.Hosts() {
		c.Dev.SetLatency(h, 0)
		n := c.Node(h)
		if n == nil {
			continue
		}
		n.SaveStalled = false
		for _, id := range procIDs(n) {
			if id != shmem.NoProc && c.S.Alive(id) && c.S.Held(id) {
				c.S.Release(id)
			}
		}
	}
	c.S.Emit("operator", sim.LevelStory, "heal")
}

// unreaped reports whether a live node has a child that exited and that its
// postmaster has not reaped yet (the child exit is still on its way).
func (r *Runner) unreaped(n *shmem.Node) bool {
	s := r.C.S
	if !postmaster.Alive(s, n) {
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

// liveness is the liveness phase (TigerBeetle's VOPR shape): heal every
// fault, then do what an operator would do to bring the cluster back (let a
// requested promote finish, start a primary if none runs, rebuild every other
// node as a replica), and require that within the step budget the promote
// completes, the BGW is back in NOT_START, every replica catches up and the
// primary's consistent LSN reaches its insert position. The guard against
// false alarms is that every fault is healed and every node the operator
// needs is started first; what still does not converge is the model's fault.
func (r *Runner) liveness(a args) (string, error) {
	if err := a.only("liveness", "budget"); err != nil {
		return "", err
	}
	budget, err := a.int("budget", 20000)
	if err != nil || budget < 1 {
		return "", fmt.Errorf("budget: want a positive number of steps")
	}
	v := r.converge(budget)
	if v != nil {
		return "", v
	}
	return "cluster converged: promote complete, BGW in POLAR_BG_REDO_NOT_START, replicas caught up, consistent LSN caught up", nil
}

// converge runs the liveness phase and returns its violation, if any.
func (r *Runner) converge(budget int) *sim.Violation {
	c := r.C
	r.healAll()
	spent := 0
	run := func(cond func() bool) (bool, *sim.Violation) {
		res := c.S.RunUntil(cond, budget-spent)
		spent += res.Steps
		return res.Done, res.Violation
	}
	// 0. A shutdown under way finishes first (a fault may have held it), and
	// every postmaster reaps the children that already exited: a child that
	// PANICked on a fault just before the heal takes its node down only when
	// the postmaster handles SIGCHLD, and the operator's plan below must not
	// pick a primary that is already on its way down.
	ok, v := run(func() bool {
		for _, h := range c.Hosts() {
			if n := c.Node(h); n != nil && (postmaster.Stopping(c.S, n) || r.unreaped(n)) {
				return false
			}
		}
		return true
	})
	if v != nil {
		return v
	}
	if !ok {
		return c.S.Violation(LivePrimaryServes, fmt.Errorf("a shutdown does not finish after %d steps of liveness:\n%s", spent, r.statusText()))
	}
	// 1. A requested promote must complete by itself.
	for _, h := range c.Hosts() {
		if !r.Promoting(h) {
			continue
		}
		n := c.Node(h)
		ok, v := run(func() bool { return n.ReadWrite && serving(n) || !postmaster.Alive(c.S, n) })
		if v != nil {
			return v
		}
		if !ok {
			return c.S.Violation(LivePromoteCompletes, fmt.Errorf("%v was asked to promote and is not read-write after %d steps of liveness: %s",
				h, spent, nodeStatus(c.S, n)))
		}
	}
	// A primary starting up (crash recovery from shared storage: it holds
	// the writer role, not yet read-write) must come up by itself; the
	// operator does not promote a replica past it.
	for _, h := range c.Hosts() {
		n := c.Node(h)
		if n == nil || !postmaster.Alive(c.S, n) || n.ReadWrite || r.Promoting(h) || n.Mount == nil || !n.Mount.Writer() {
			continue
		}
		ok, v := run(func() bool { return n.ReadWrite && serving(n) || !postmaster.Alive(c.S, n) })
		if v != nil {
			return v
		}
		if !ok {
			return c.S.Violation(LivePrimaryServes, fmt.Errorf("%v was started as primary and is not read-write after %d steps of liveness: %s",
				h, spent, nodeStatus(c.S, n)))
		}
	}
	// 2. A primary must serve read-write: keep the live one, else promote a
	// live replica, else start the first host as primary (crash recovery
	// from shared storage).
	p := r.livePrimary()
	if p == nil {
		var cand *shmem.Node
		for _, h := range c.Hosts() {
			if n := c.Node(h); n != nil && postmaster.Alive(c.S, n) && n.InRecovery && serving(n) {
				cand = n
				break
			}
		}
		if cand != nil {
			// Other live nodes would be second writers; stop them first.
			if v := r.stopOthers(cand, run); v != nil {
				return v
			}
			if err := c.Promote(cand.Cfg.Host); err == nil {
				r.promoteRequested(cand.Cfg.Host)
			}
		} else {
			if v := r.stopOthers(nil, run); v != nil {
				return v
			}
			h := c.Hosts()[0]
			if err := c.Start(h, postmaster.RolePrimary); err != nil {
				return c.S.Violation(LivePrimaryServes, fmt.Errorf("starting %v as primary: %v", h, err))
			}
			cand = c.Node(h)
		}
		ok, v := run(func() bool { return cand.ReadWrite && serving(cand) })
		if v != nil {
			return v
		}
		if !ok {
			name := LivePrimaryServes
			if r.Promoting(cand.Cfg.Host) {
				name = LivePromoteCompletes
			}
			return c.S.Violation(name, fmt.Errorf("%v is not read-write after %d steps of liveness: %s", cand.Cfg.Host, spent, nodeStatus(c.S, cand)))
		}
		p = cand
	}
	// 3. Every other node: a stale primary is stopped, and every node that
	// is down comes back as a replica.
	if v := r.stopOthers(p, run); v != nil {
		return v
	}
	if own := ownSlot(p); own != "" {
		if err := c.DropSlot(p.Cfg.Host, own); err != nil {
			return c.S.Violation(LiveConsistentCatchUp, fmt.Errorf("dropping %v's own former slot %s: %v", p.Cfg.Host, own, err))
		}
	}
	for _, h := range c.Hosts() {
		n := c.Node(h)
		if n == nil || n == p || postmaster.Alive(c.S, n) {
			continue
		}
		if err := c.Rebuild(h); err != nil {
			return c.S.Violation(LiveReplicasCatchUp, fmt.Errorf("rebuilding %v as a replica: %v", h, err))
		}
	}
	// 4. Converge.
	ok, v = run(func() bool { return r.converged(p) })
	if v != nil {
		return v
	}
	if !ok {
		return c.S.Violation(r.unconverged(p), fmt.Errorf("not converged after %d steps of liveness:\n%s", spent, r.statusText()))
	}
	return nil
}

// livePrimary is the one node serving read-write, if exactly one does. A
// primary a later promote displaced (its mount no longer holds the device's
// writer role: the promoted node remounted read-write by force, and may have
// stopped since) does not count: the operator who promoted knows it is the
// old primary, which fencing turns away at its next write; stopOthers stops
// it.
func (r *Runner) livePrimary() *shmem.Node {
	var p *shmem.Node
	for _, h := range r.C.Hosts() {
		n := r.C.Node(h)
		if n != nil && postmaster.Alive(r.C.S, n) && n.ReadWrite && n.Primary && n.Mount != nil && n.Mount.Writer() {
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
		if n == nil || n == keep || !postmaster.Alive(c.S, n) || (replica && keep != nil && !r.Promoting(h)) {
			continue
		}
		if err := c.Stop(h, true); err != nil {
			continue
		}
		ok, v := run(func() bool { return !postmaster.Alive(c.S, n) })
		if v != nil {
			return v
		}
		if !ok {
			return c.S.Violation(LivePrimaryServes, fmt.Errorf("%v does not stop (immediate): %s", h, nodeStatus(c.S, n)))
		}
	}
	return nil
}

func (r *Runner) converged(p *shmem.Node) bool {
	c := r.C
	if !postmaster.Alive(c.S, p) || !p.ReadWrite || p.BGW.State() != shmem.BGRedoNotStart {
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
		if !postmaster.Alive(c.S, n) || !n.InRecovery || !serving(n) || n.ReplayLSN < p.WAL.FlushedLSN() {
			return false
		}
	}
	return true
}

// unconverged names the first liveness claim that does not hold.
func (r *Runner) unconverged(p *shmem.Node) string {
	c := r.C
	switch {
	case !postmaster.Alive(c.S, p) || !p.ReadWrite:
		return LivePrimaryServes
	case p.BGW.State() != shmem.BGRedoNotStart:
		return LiveBGWReturns
	}
	for _, h := range c.Hosts() {
		n := c.Node(h)
		if n != nil && n != p && (!postmaster.Alive(c.S, n) || !n.InRecovery || !serving(n) || n.ReplayLSN < p.WAL.FlushedLSN()) {
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
