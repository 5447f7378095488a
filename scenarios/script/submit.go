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
// (it is up and not yet Serving read-write).
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
func (r *Runner) submit(a Args) (string, error) {
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
func (r *Runner) submitRead(a Args) (string, error) {
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

func (r *Runner) pageSlot(a Args) (int, int, error) {
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
