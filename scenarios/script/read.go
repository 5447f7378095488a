package script

import (
	"fmt"
	"strings"

	"promotesim/postmaster"
	"promotesim/storage"
)

// Read reads one page on a node through the client read path and prints
// it: read node=N page=P.
type Read struct {
	Node storage.HostID
	Page int
}

func parseRead(_ string, a args) (Command, error) {
	h, err := a.node("read", "page")
	if err != nil {
		return nil, err
	}
	page, err := a.int("page", 0)
	if err != nil {
		return nil, err
	}
	return Read{Node: h, Page: page}, nil
}

func (c Read) String() string { return newLine("read").node(c.Node).num("page", c.Page).String() }

func (c Read) run(r *Runner) (string, error) {
	rr, errText, err := r.readPage(c.Node, c.Page)
	if err != nil || errText != "" {
		if errText != "" {
			return "error: " + errText, err
		}
		return "", err
	}
	return formatRead(rr), nil
}

func (r *Runner) readPage(h storage.HostID, page int) (postmaster.ReadResult, string, error) {
	j := r.C.Journal
	acks, errs, reads := len(j.Acks), len(j.Errors), len(j.Reads)
	if err := r.C.Read(h, page); err != nil {
		return postmaster.ReadResult{}, "", err
	}
	res := r.C.S.RunUntil(func() bool { return len(j.Errors) > errs || len(j.Reads) > reads }, r.Budget)
	_ = acks
	if res.Violation != nil {
		return postmaster.ReadResult{}, "", res.Violation
	}
	if !res.Done {
		return postmaster.ReadResult{}, fmt.Sprintf("no answer within %d steps", r.Budget), nil
	}
	if len(j.Errors) > errs {
		return postmaster.ReadResult{}, j.Errors[len(j.Errors)-1].Err, nil
	}
	return j.Reads[len(j.Reads)-1], "", nil
}

func formatRead(rr postmaster.ReadResult) string {
	var slots []string
	for i, v := range rr.Content.Slots {
		if v == 0 {
			slots = append(slots, "-")
			continue
		}
		vis := ""
		if !rr.Visible[i] {
			vis = "(invisible)"
		}
		slots = append(slots, fmt.Sprintf("x%d.%d%s", postmaster.ValueXID(v), uint32(v), vis))
		_ = i
	}
	return fmt.Sprintf("%v page %v lsn=%v at=%v slots=[%s]", rr.Node, rr.Page, rr.Content.LSN, rr.At, strings.Join(slots, " "))
}
