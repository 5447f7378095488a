package script

import (
	"errors"
	"fmt"
	"strings"

	"promotesim/postmaster"
	"promotesim/scenarios/oracle"
	"promotesim/sim"
	"promotesim/storage"
)

// Check runs the checkers on demand:
//
//	check acked-visible node=N   read every page on N through the client read
//	                             path and hold each read against the oracle
//	check all                    every per-step checker once, then the full
//	                             checks (crash recovery, acked commits)
type Check struct {
	// AckedVisible: check acked-visible on Node; otherwise check all.
	AckedVisible bool
	Node         storage.HostID
}

func parseCheck(_ string, a args) (Command, error) {
	switch {
	case a["all"] == "true":
		if err := a.only("check", "all"); err != nil {
			return nil, err
		}
		return Check{}, nil
	case a["logical-slot"] == "true":
		return parseCheckLogicalSlot(a)
	case a["acked-visible"] == "true":
		delete(a, "acked-visible")
		h, err := a.node("check")
		if err != nil {
			return nil, err
		}
		return Check{AckedVisible: true, Node: h}, nil
	}
	return nil, fmt.Errorf("check: want 'check acked-visible node=N', 'check logical-slot node=N name=S' or 'check all'")
}

func (c Check) String() string {
	if c.AckedVisible {
		return newLine("check").word("acked-visible").node(c.Node).String()
	}
	return "check all"
}

func (c Check) run(r *Runner) (string, error) {
	if c.AckedVisible {
		return r.ackedVisible(c.Node)
	}
	if err := r.K.RunAll(); err != nil {
		return "", err
	}
	return "all checks hold", nil
}

// FullCheckCmd runs the whole-state checks (Runner.FullCheck) as a line:
// full-check. World programs run them at crash points and at the end by
// themselves; a counterexample file ends with the line.
type FullCheckCmd struct{}

func parseFullCheck(_ string, a args) (Command, error) {
	if err := a.only("full-check"); err != nil {
		return nil, err
	}
	return FullCheckCmd{}, nil
}

func (FullCheckCmd) String() string { return "full-check" }

func (FullCheckCmd) run(r *Runner) (string, error) {
	if v := r.FullCheck(); v != nil {
		return "", v
	}
	return "whole-state checks hold", nil
}

// ackedVisible reads every page on node h through the normal client path
// and lets the oracle decide: each read must be the oracle's page at the
// position it was served at, and for every slot, the acknowledged write
// that comes last in the WAL must be there and visible, unless a later
// write replaced it.
func (r *Runner) ackedVisible(h storage.HostID) (string, error) {
	k := r.K
	o := k.O
	type key struct{ page, slot int }
	type acked struct {
		value uint64
		rec   int // index of the writing record in the history
		end   storage.LSN
	}
	if err := o.Sync(); err != nil {
		return "", err
	}
	want := map[key]acked{} // looked up only
	var bad []string
	for _, ack := range r.C.Journal.Acks {
		for _, w := range ack.Writes {
			k := key{w.Page, int(w.Slot)}
			i := o.WriteOf(ack.XID, w.Page, int(w.Slot), w.Value, ack.CommitEnd)
			if i < 0 {
				bad = append(bad, fmt.Sprintf("page %d slot %d: x%d.%d (acknowledged by %v) is not in the WAL on storage",
					w.Page, w.Slot, ack.XID, uint32(w.Value), ack.Node))
				continue
			}
			if prev, ok := want[k]; !ok || i > prev.rec {
				want[k] = acked{value: w.Value, rec: i, end: ack.CommitEnd}
			}
		}
	}
	for p := 0; p < r.C.Opts.Pages; p++ {
		rr, errText, err := r.readPage(h, p)
		if err != nil {
			return "", err
		}
		if errText != "" {
			return "", fmt.Errorf("read page %d on %v: %s", p, h, errText)
		}
		if err := o.Sync(); err != nil {
			return "", err
		}
		if rr.At <= o.End() {
			if exp := o.Page(p, rr.At); rr.Content != exp {
				bad = append(bad, fmt.Sprintf("page %d at %v: read %s, the oracle has %s", p, rr.At, oracle.FormatPage(rr.Content), oracle.FormatPage(exp)))
			}
		}
		for s := 0; s < storage.PageSlots; s++ {
			w, ok := want[key{p, s}]
			if !ok {
				continue
			}
			got := rr.Content.Slots[s]
			replaced := got != w.value && rr.At >= w.end && o.LastWriter(p, s, rr.At) > w.rec
			if replaced || got == w.value && rr.Visible[s] {
				continue
			}
			bad = append(bad, fmt.Sprintf("page %d slot %d: want x%d.%d visible, got x%d.%d visible=%v",
				p, s, postmaster.ValueXID(w.value), uint32(w.value), postmaster.ValueXID(got), uint32(got), rr.Visible[s]))
		}
	}
	r.drain()
	if len(bad) > 0 {
		return "", fmt.Errorf("acknowledged commits missing on %v:\n  %s", h, strings.Join(bad, "\n  "))
	}
	return fmt.Sprintf("all %d acknowledged commits visible on %v", len(r.C.Journal.Acks), h), nil
}

// FullCheck runs the whole-state checks (crash recovery from shared
// storage, every acknowledged commit visible) that are too expensive for
// every step.
func (r *Runner) FullCheck() *sim.Violation {
	if r.C == nil || r.K == nil {
		return nil
	}
	err := r.K.Full()
	if err == nil {
		return nil
	}
	var v *sim.Violation
	if errors.As(err, &v) {
		return v
	}
	return r.C.S.Violation("CrashRecovers", err)
}
