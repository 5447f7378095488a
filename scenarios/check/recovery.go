package check

import (
	"fmt"

	"promotesim/logindex"
	"promotesim/scenarios/oracle"
	"promotesim/shmem"
)

// crashRecovers is the CrashRecovers claim (with CommitDurable against
// durable WAL): recover a crash image offline and compare with the oracle
// at the end of the durable WAL. Every record replayed must be the
// history's record at that position; every page and every xid's
// committed-ness must be the oracle's at that end; every acknowledged
// commit must end at or below it. In-progress and aborted count the same:
// a crash aborts whatever did not commit, so an abort the clog learned
// before its record was durable is no difference.
//
// This is what makes a wrong consistent LSN visible as lost data: a redo
// pointer past a change that storage does not have skips it for good.
func (k *Checks) crashRecovers() (string, error) {
	o := k.O
	cfg := k.c.NodeConfig(1)
	var diverged error
	visit := func(r *logindex.Record) error {
		h, ok := o.RecordAt(r.Start)
		if !ok || !oracle.SameRecord(h, r) {
			diverged = fmt.Errorf("durable WAL record %v is not the history's record at %v", r, r.Start)
			return diverged
		}
		return nil
	}
	rec, err := o.RecoverCrash(cfg, visit)
	if diverged != nil {
		return "CrashRecovers", diverged
	}
	if err != nil {
		return "CrashRecovers", err
	}
	end := rec.End
	if rec.Replayed == 0 && end < o.End() {
		if _, ok := o.RecordAt(rec.Control.Redo); !ok {
			return "CrashRecovers", fmt.Errorf("redo %v of the control file (%v) is not the start of a record of the history", rec.Control.Redo, rec.Control)
		}
	}
	if rec.Control.CheckPoint >= end && rec.Control.CheckPoint.Valid() {
		return "CrashRecovers", fmt.Errorf("checkpoint record %v of the control file is not in the durable WAL ending at %v", rec.Control.CheckPoint, end)
	}
	for p := range rec.Pages {
		if want := o.Page(p, end); rec.Pages[p] != want {
			return "CrashRecovers", fmt.Errorf("page %d after crash recovery from redo %v to %v: %s, the oracle has %s",
				p, rec.Control.Redo, end, oracle.FormatPage(rec.Pages[p]), oracle.FormatPage(want))
		}
	}
	top := max(int(o.MaxXID())+1, rec.Clog.Len())
	for x := 1; x < top; x++ {
		xid := logindex.XID(x)
		got, want := rec.Clog.Get(xid) == shmem.XactCommitted, o.Status(xid, end) == shmem.XactCommitted
		if got != want {
			return "CrashRecovers", fmt.Errorf("xid %d after crash recovery from redo %v to %v: committed=%t, the WAL says committed=%t",
				x, rec.Control.Redo, end, got, want)
		}
	}
	for _, a := range k.c.Journal.Acks {
		if a.CommitEnd > end && !k.ownHistory(&a) {
			return "CommitDurable", fmt.Errorf("acknowledged commit of xid %d by %v (commit end %v) is not durable: the durable WAL ends at %v",
				a.XID, a.Node, a.CommitEnd, end)
		}
	}
	return "", nil
}
