package script

import (
	"fmt"
	"strings"

	"promotesim/logindex"
	"promotesim/postmaster"
	"promotesim/storage"
)

// The two-phase commands (PREPARE TRANSACTION, COMMIT PREPARED, ROLLBACK
// PREPARED, pg_prepared_xacts): prepare, commit-prepared and
// rollback-prepared wait for their answer like write; submit-prepare and
// submit-finish are the explorer's forms, which do not wait.

// Prepare runs a one-write transaction and prepares it: prepare node=N
// page=P slot=S gid=G.
type Prepare struct {
	Node       storage.HostID
	Page, Slot int
	GID        string
	// Submit: do not wait (submit-prepare).
	Submit bool
}

func parseGID(a args) (string, error) {
	gid := a["gid"]
	if gid == "" || len(gid) > logindex.MaxGIDLen {
		return "", fmt.Errorf("gid=%q: want 1..%d characters", gid, logindex.MaxGIDLen)
	}
	return gid, nil
}

func parsePrepare(verb string, a args) (Command, error) {
	h, err := a.node(verb, "page", "slot", "gid")
	if err != nil {
		return nil, err
	}
	page, slot, err := pageSlot(a)
	if err != nil {
		return nil, err
	}
	gid, err := parseGID(a)
	if err != nil {
		return nil, err
	}
	return Prepare{Node: h, Page: page, Slot: slot, GID: gid, Submit: verb == "submit-prepare"}, nil
}

func (c Prepare) String() string {
	verb := "prepare"
	if c.Submit {
		verb = "submit-prepare"
	}
	return newLine(verb).node(c.Node).num("page", c.Page).num("slot", c.Slot).kv("gid", c.GID).String()
}

func (c Prepare) run(r *Runner) (string, error) {
	if err := r.checkPageSlot(c.Page, c.Slot); err != nil {
		return "", err
	}
	t := postmaster.Txn{Writes: []postmaster.Write{{Page: c.Page, Slot: uint8(c.Slot)}}, GID: c.GID}
	if c.Submit {
		return "", r.refusal(r.C.Write(c.Node, t))
	}
	if _, err := r.C.Host(c.Node); err != nil {
		return "", err
	}
	j := r.C.Journal
	events, errs := len(j.TwoPhase), len(j.Errors)
	if err := r.C.Write(c.Node, t); err != nil {
		return "", err
	}
	return r.awaitTwoPhase(events, errs)
}

// awaitTwoPhase runs until a two-phase event or a client error is added,
// and reports it.
func (r *Runner) awaitTwoPhase(events, errs int) (string, error) {
	j := r.C.Journal
	res := r.C.S.RunUntil(func() bool { return len(j.TwoPhase) > events || len(j.Errors) > errs }, r.Budget)
	if res.Violation != nil {
		return "", res.Violation
	}
	if !res.Done {
		return fmt.Sprintf("no answer within %d steps (%v)", r.Budget, res), nil
	}
	if len(j.Errors) > errs {
		return "error: " + j.Errors[len(j.Errors)-1].Err, nil
	}
	e := j.TwoPhase[len(j.TwoPhase)-1]
	return fmt.Sprintf("%v xid=%d gid=%s end=%v", e.Kind, e.XID, e.GID, e.End), nil
}

// FinishPrepared is COMMIT PREPARED or ROLLBACK PREPARED: commit-prepared
// node=N gid=G, rollback-prepared node=N gid=G; submit-finish node=N gid=G
// [rollback=true] does not wait.
type FinishPrepared struct {
	Node   storage.HostID
	GID    string
	Commit bool
	Submit bool
}

func parseFinishPrepared(verb string, a args) (Command, error) {
	keys := []string{"gid"}
	if verb == "submit-finish" {
		keys = append(keys, "rollback")
	}
	h, err := a.node(verb, keys...)
	if err != nil {
		return nil, err
	}
	gid, err := parseGID(a)
	if err != nil {
		return nil, err
	}
	c := FinishPrepared{Node: h, GID: gid, Commit: verb == "commit-prepared", Submit: verb == "submit-finish"}
	if c.Submit {
		switch a["rollback"] {
		case "", "false":
			c.Commit = true
		case "true":
		default:
			return nil, fmt.Errorf("rollback=%q: want true or false", a["rollback"])
		}
	}
	return c, nil
}

func (c FinishPrepared) String() string {
	if c.Submit {
		l := newLine("submit-finish").node(c.Node).kv("gid", c.GID)
		if !c.Commit {
			l.kv("rollback", "true")
		}
		return l.String()
	}
	verb := "rollback-prepared"
	if c.Commit {
		verb = "commit-prepared"
	}
	return newLine(verb).node(c.Node).kv("gid", c.GID).String()
}

func (c FinishPrepared) run(r *Runner) (string, error) {
	if c.Submit {
		return "", r.refusal(r.C.FinishPrepared(c.Node, c.GID, c.Commit))
	}
	j := r.C.Journal
	events, errs := len(j.TwoPhase), len(j.Errors)
	if err := r.C.FinishPrepared(c.Node, c.GID, c.Commit); err != nil {
		return "", err
	}
	return r.awaitTwoPhase(events, errs)
}

// Prepared lists a node's prepared transactions (pg_prepared_xacts):
// prepared node=N.
type Prepared struct{ Node storage.HostID }

func parsePrepared(_ string, a args) (Command, error) {
	h, err := a.node("prepared")
	if err != nil {
		return nil, err
	}
	return Prepared{Node: h}, nil
}

func (c Prepared) String() string { return newLine("prepared").node(c.Node).String() }

func (c Prepared) run(r *Runner) (string, error) {
	n, err := r.C.Host(c.Node)
	if err != nil {
		return "", err
	}
	// pg_prepared_xacts lists the valid entries; entries recovery added
	// and has not recovered yet (a replica's, from replaying PREPARE
	// records) are shown apart, as "in redo".
	var rows, redo []string
	for _, g := range n.TwoPhase.All() {
		switch {
		case g.Valid:
			rows = append(rows, g.String())
		case g.InRedo:
			redo = append(redo, g.String())
		}
	}
	out := fmt.Sprintf("%v: no prepared transactions", c.Node)
	if len(rows) > 0 {
		out = fmt.Sprintf("%v: %s", c.Node, strings.Join(rows, "; "))
	}
	if len(redo) > 0 {
		out += "; in redo: " + strings.Join(redo, "; ")
	}
	return out, nil
}
