package script

import (
	"errors"
	"fmt"

	"promotesim/postmaster"
	"promotesim/shmem"
	"promotesim/storage"
)

// The commands of submit.go, fault.go and liveness.go are the explorer's
// vocabulary. Unlike the teaching commands (write, read), they do not
// wait: a world submits work and lets the scheduler interleave it with
// everything else, so a shrunk counterexample is an ordinary script of
// these lines.

// worldState is what the runner remembers across world commands.
type worldState struct {
	// promoting: hosts asked to promote that have not yet opened
	// read-write service (cleared when they do, or when they go down).
	promoting map[storage.HostID]promoteRequest // looked up only
	// stopping: hosts whose stop request the wait gave up on (the
	// postmaster had not handled it yet); the liveness phase lets those
	// stops finish before it picks a primary.
	stopping map[storage.HostID]*shmem.Node // looked up only
}

// promoteRequest is a promote asked of one node instance, and whether a
// pg_ctl promote was among the asks (after a trigger file: the rescue
// liveness rescue= sends no second time).
type promoteRequest struct {
	n     *shmem.Node
	pgctl bool
	// opens is n.ReadWriteOpens when the request was made.
	opens uint32
}

func (r *Runner) ws() *worldState {
	if r.world == nil {
		r.world = &worldState{promoting: map[storage.HostID]promoteRequest{}, stopping: map[storage.HostID]*shmem.Node{}}
	}
	return r.world
}

// promoteRequested records a pg_ctl promote (pgctl) or trigger file on h,
// if h is a replica in recovery (a primary ignores the request).
func (r *Runner) promoteRequested(h storage.HostID, pgctl bool) {
	// A replica just started (pg_ctl start, its postmaster not yet
	// stepped) is not InRecovery yet, but its postmaster will take the
	// promote signal file all the same: it is promoting too. Missing it
	// let the swarm operator promote a second node at once (v15-fixed
	// seed 37516, SingleWriter).
	if n := r.C.Node(h); n != nil && (n.InRecovery || !n.Primary) {
		req := r.ws().promoting[h]
		if req.n != n || n.ReadWriteOpens != req.opens {
			req = promoteRequest{n: n, opens: n.ReadWriteOpens}
		}
		req.pgctl = req.pgctl || pgctl
		r.world.promoting[h] = req
	}
}

// Promoting reports whether h was asked to promote and has not finished
// (it is up and not yet Serving read-write).
func (r *Runner) Promoting(h storage.HostID) bool {
	if r.world == nil || r.world.promoting[h].n == nil {
		return false
	}
	// The request belongs to the node instance it was made to: a restart
	// (a new instance) forgets it, as the promote signal file is consumed.
	// It is finished once that instance opened read-write service, even if
	// it is back to read-only now (a reinitialisation after a child crash):
	// every test here stays true once true, so the answer does not depend
	// on whether anyone asked while the node was read-write (a planner
	// between its actions does, a replay of its commands does not: seed
	// 8628 of F7's hunt under v15 replayed to another liveness claim).
	n := r.C.Node(h)
	req := r.world.promoting[h]
	if n == nil || n != req.n || !r.C.Op.Alive(n) || n.ReadWrite || n.ReadWriteOpens != req.opens {
		delete(r.world.promoting, h)
		return false
	}
	return true
}

// sentPgctl reports whether h's promote under way (Promoting) had a
// pg_ctl promote among its asks.
func (r *Runner) sentPgctl(h storage.HostID) bool {
	return r.Promoting(h) && r.world.promoting[h].pgctl
}

// Submit posts write transactions without waiting for their answers:
// submit node=N page=P slot=S [abort=true] [count=K]. With a count, the
// i-th transaction writes page P+i, slot S+i (wrapping), round robin over
// the node's sessions: a burst of load in one command.
//
// With init each write reuses its page (postmaster.Write.Init), with free
// each empties it (postmaster.Write.Free).
type Submit struct {
	Node       storage.HostID
	Page, Slot int
	Abort      bool
	Count      int // 0: not given (1)
	Init, Free bool
}

func parseSubmit(_ string, a args) (Command, error) {
	h, err := a.node("submit", "page", "slot", "abort", "count", "init", "free")
	if err != nil {
		return nil, err
	}
	page, slot, err := pageSlot(a)
	if err != nil {
		return nil, err
	}
	c := Submit{Node: h, Page: page, Slot: slot}
	switch a["abort"] {
	case "", "false":
	case "true":
		c.Abort = true
	default:
		return nil, fmt.Errorf("abort=%q: want true or false", a["abort"])
	}
	if c.Count, err = countArg(a, 1000); err != nil {
		return nil, err
	}
	for _, f := range []string{"init", "free"} {
		if v, ok := a[f]; ok && v != "true" {
			return nil, fmt.Errorf("%s is a flag (%s, not %s=%s)", f, f, f, v)
		}
	}
	_, c.Init = a["init"]
	_, c.Free = a["free"]
	if c.Init && c.Free {
		return nil, fmt.Errorf("init and free exclude each other")
	}
	return c, nil
}

func (c Submit) String() string {
	l := newLine("submit").node(c.Node).num("page", c.Page).num("slot", c.Slot)
	if c.Abort {
		l.kv("abort", "true")
	}
	if c.Count > 0 {
		l.num("count", c.Count)
	}
	if c.Init {
		l.word("init")
	}
	if c.Free {
		l.word("free")
	}
	return l.String()
}

func (c Submit) run(r *Runner) (string, error) {
	if err := r.checkPageSlot(c.Page, c.Slot); err != nil {
		return "", err
	}
	for i := 0; i < max(c.Count, 1); i++ {
		w := postmaster.Write{Page: (c.Page + i) % r.C.Opts.Pages, Slot: uint8((c.Slot + i) % storage.PageSlots), Init: c.Init, Free: c.Free}
		if err := r.C.Write(c.Node, postmaster.Txn{Writes: []postmaster.Write{w}, Abort: c.Abort}); err != nil {
			return "", r.refusal(err)
		}
	}
	return "", nil
}

// SubmitRead posts page reads without waiting: submit-read node=N page=P
// [count=K] reads pages P, P+1, ... (wrapping), round robin over sessions.
type SubmitRead struct {
	Node  storage.HostID
	Page  int
	Count int // 0: not given (1)
}

func parseSubmitRead(_ string, a args) (Command, error) {
	h, err := a.node("submit-read", "page", "count")
	if err != nil {
		return nil, err
	}
	page, err := a.int("page", 0)
	if err != nil {
		return nil, err
	}
	c := SubmitRead{Node: h, Page: page}
	if c.Count, err = countArg(a, 1000); err != nil {
		return nil, err
	}
	return c, nil
}

func (c SubmitRead) String() string {
	l := newLine("submit-read").node(c.Node).num("page", c.Page)
	if c.Count > 0 {
		l.num("count", c.Count)
	}
	return l.String()
}

func (c SubmitRead) run(r *Runner) (string, error) {
	if c.Page < 0 || c.Page >= r.C.Opts.Pages {
		return "", fmt.Errorf("page %d out of range (pages 0..%d)", c.Page, r.C.Opts.Pages-1)
	}
	for i := 0; i < max(c.Count, 1); i++ {
		if err := r.C.Read(c.Node, (c.Page+i)%r.C.Opts.Pages); err != nil {
			return "", r.refusal(err)
		}
	}
	return "", nil
}

// countArg is an optional count=K in 1..hi (0: not given).
func countArg(a args, hi int) (int, error) {
	if _, ok := a["count"]; !ok {
		return 0, nil
	}
	count, err := a.int("count", 1)
	if err != nil || count < 1 || count > hi {
		return 0, fmt.Errorf("count: want 1..%d", hi)
	}
	return count, nil
}

func pageSlot(a args) (int, int, error) {
	page, err := a.int("page", 0)
	if err != nil {
		return 0, 0, err
	}
	slot, err := a.int("slot", 0)
	if err != nil {
		return 0, 0, err
	}
	return page, slot, nil
}

// checkPageSlot rejects a page or slot outside the cluster's relation.
func (r *Runner) checkPageSlot(page, slot int) error {
	if page < 0 || page >= r.C.Opts.Pages || slot < 0 || slot >= storage.PageSlots {
		return fmt.Errorf("page %d slot %d out of range (pages 0..%d, slots 0..%d)", page, slot, r.C.Opts.Pages-1, storage.PageSlots-1)
	}
	return nil
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
