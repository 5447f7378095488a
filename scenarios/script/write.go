package script

import (
	"fmt"
	"strings"

	"promotesim/postmaster"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// awaitTxn runs until the number of acks or errors grows.
func (r *Runner) awaitClient(acks, errs, reads int) (sim.Result, bool) {
	j := r.C.Journal
	res := r.C.S.RunUntil(func() bool {
		return len(j.Acks) > acks || len(j.Errors) > errs || len(j.Reads) > reads
	}, r.Budget)
	return res, res.Done
}

// Write runs one write transaction to its end: write node=N page=P
// slot=S (abort: the same, rolled back). value= is accepted and ignored:
// the value encodes the writing xid.
//
// With init the page is reused: the write reinitialises it
// (RBM_ZERO_AND_LOCK and an init record, postmaster.Write.Init), and free
// node=N page=P empties it (postmaster.Write.Free).
type Write struct {
	Abort      bool
	Node       storage.HostID
	Page, Slot int
	Value      string
	Init, Free bool
}

func parseWrite(verb string, a args) (Command, error) {
	if verb == "free" {
		h, err := a.node(verb, "page")
		if err != nil {
			return nil, err
		}
		page, err := a.int("page", 0)
		return Write{Node: h, Page: page, Free: true}, err
	}
	h, err := a.node(verb, "page", "slot", "value", "init")
	if err != nil {
		return nil, err
	}
	if v, ok := a["init"]; ok && v != "true" {
		return nil, fmt.Errorf("init is a flag (init, not init=%s)", v)
	}
	page, err := a.int("page", 0)
	if err != nil {
		return nil, err
	}
	slot, err := a.int("slot", 0)
	if err != nil {
		return nil, err
	}
	_, init := a["init"]
	return Write{Abort: verb == "abort", Node: h, Page: page, Slot: slot, Value: a["value"], Init: init}, nil
}

func (c Write) String() string {
	if c.Free {
		return newLine("free").node(c.Node).num("page", c.Page).String()
	}
	verb := "write"
	if c.Abort {
		verb = "abort"
	}
	l := newLine(verb).node(c.Node).num("page", c.Page).num("slot", c.Slot)
	if c.Value != "" {
		l.kv("value", c.Value)
	}
	if c.Init {
		l.word("init")
	}
	return l.String()
}

func (c Write) run(r *Runner) (string, error) {
	if err := r.checkPageSlot(c.Page, c.Slot); err != nil {
		return "", err
	}
	w := postmaster.Write{Page: c.Page, Slot: uint8(c.Slot), Init: c.Init, Free: c.Free}
	return r.txn(c.Node, postmaster.Txn{Writes: []postmaster.Write{w}, Abort: c.Abort})
}

// txn runs one transaction to its end and reports it. Values are filled in
// from the transaction's xid by the backend's caller here: the value encodes
// the writer so readers can check its commit status.
func (r *Runner) txn(h storage.HostID, t postmaster.Txn) (string, error) {
	n, err := r.C.Host(h)
	if err != nil {
		return "", err
	}
	j := r.C.Journal
	acks, errs, reads := len(j.Acks), len(j.Errors), len(j.Reads)
	xid := n.NextXID
	for i := range t.Writes {
		if t.Writes[i].Value == 0 {
			t.Writes[i].Value = postmaster.MakeValue(xid, uint32(i+1))
		}
	}
	if err := r.C.Write(h, t); err != nil {
		return "", err
	}
	if t.Abort {
		res := r.C.S.RunUntil(func() bool { return n.Clog.Get(xid) == shmem.XactAborted || len(j.Errors) > errs }, r.Budget)
		if res.Violation != nil {
			return "", res.Violation
		}
		if len(j.Errors) > errs {
			return "error: " + j.Errors[len(j.Errors)-1].Err, nil
		}
		return fmt.Sprintf("aborted xid=%d", xid), nil
	}
	res, ok := r.awaitClient(acks, errs, reads)
	if res.Violation != nil {
		return "", res.Violation
	}
	if !ok {
		return fmt.Sprintf("no answer within %d steps (%v)", r.Budget, res), nil
	}
	if len(j.Errors) > errs {
		return "error: " + j.Errors[len(j.Errors)-1].Err, nil
	}
	ack := j.Acks[len(j.Acks)-1]
	return fmt.Sprintf("ack xid=%d commit_end=%v", ack.XID, ack.CommitEnd), nil
}

// Writes commits count transactions one after another on a node (one
// write each, round robin over pages and slots) and summarises them:
// writes node=N [count=C].
type Writes struct {
	Node  storage.HostID
	Count int // 0: not given (1)
}

func parseWrites(_ string, a args) (Command, error) {
	h, err := a.node("writes", "count")
	if err != nil {
		return nil, err
	}
	count, err := a.int("count", 1)
	if err != nil || count < 1 || count > 10000 {
		return nil, fmt.Errorf("count: want 1..10000")
	}
	c := Writes{Node: h}
	if _, ok := a["count"]; ok {
		c.Count = count
	}
	return c, nil
}

func (c Writes) String() string {
	l := newLine("writes").node(c.Node)
	if c.Count > 0 {
		l.num("count", c.Count)
	}
	return l.String()
}

func (c Writes) run(r *Runner) (string, error) {
	count := max(c.Count, 1)
	acked := 0
	var last string
	for i := 0; i < count; i++ {
		w := postmaster.Write{Page: i % r.C.Opts.Pages, Slot: uint8(i % storage.PageSlots)}
		out, err := r.txn(c.Node, postmaster.Txn{Writes: []postmaster.Write{w}})
		if err != nil {
			return "", err
		}
		last = out
		if strings.HasPrefix(out, "ack") {
			acked++
		} else {
			break
		}
	}
	if r.level <= sim.LevelStory {
		r.drain() // at story level the individual commits are summarised
	}
	return fmt.Sprintf("%d of %d transactions acknowledged; last: %s", acked, count, last), nil
}
