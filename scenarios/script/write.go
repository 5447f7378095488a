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

func (r *Runner) write(cmd string, a Args) (string, error) {
	h, err := a.node(cmd, "page", "slot", "value")
	if err != nil {
		return "", err
	}
	page, err := a.int("page", 0)
	if err != nil {
		return "", err
	}
	slot, err := a.int("slot", 0)
	if err != nil {
		return "", err
	}
	if page < 0 || page >= r.C.Opts.Pages || slot < 0 || slot >= storage.PageSlots {
		return "", fmt.Errorf("page %d slot %d out of range (pages 0..%d, slots 0..%d)", page, slot, r.C.Opts.Pages-1, storage.PageSlots-1)
	}
	return r.txn(h, postmaster.Txn{Writes: []postmaster.Write{{Page: page, Slot: uint8(slot)}}, Abort: cmd == "abort"})
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

func (r *Runner) writes(a Args) (string, error) {
	h, err := a.node("writes", "count")
	if err != nil {
		return "", err
	}
	count, err := a.int("count", 1)
	if err != nil || count < 1 || count > 10000 {
		return "", fmt.Errorf("count: want 1..10000")
	}
	acked := 0
	var last string
	for i := 0; i < count; i++ {
		w := postmaster.Write{Page: i % r.C.Opts.Pages, Slot: uint8(i % storage.PageSlots)}
		out, err := r.txn(h, postmaster.Txn{Writes: []postmaster.Write{w}})
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
	r.drain() // the individual commits are summarised
	return fmt.Sprintf("%d of %d transactions acknowledged; last: %s", acked, count, last), nil
}
