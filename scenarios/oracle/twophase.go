package oracle

import (
	"promotesim/logindex"
	"promotesim/storage"
)

// TwoPhase is what the WAL history says of one prepared transaction below
// an LSN: its PREPARE record (and gid), and the records that decide it.
type TwoPhase struct {
	XID     logindex.XID
	GID     string
	Prepare *logindex.Record // nil: no PREPARE below the LSN
	// Commits and Aborts are its COMMIT PREPARED / ROLLBACK PREPARED
	// records; Plain its plain COMMIT or ABORT records (a prepared
	// transaction's outcome is decided only by the former, exactly once).
	Commits, Aborts, Plain []*logindex.Record
}

// Pending reports whether the transaction is prepared and undecided.
func (t TwoPhase) Pending() bool {
	return t.Prepare != nil && len(t.Commits)+len(t.Aborts)+len(t.Plain) == 0
}

// TwoPhaseOf returns xid's two-phase history among the records ending at
// or below at.
func (o *Oracle) TwoPhaseOf(xid logindex.XID, at storage.LSN) TwoPhase {
	t := TwoPhase{XID: xid}
	if int(xid) >= len(o.byXID) {
		return t
	}
	for _, i := range o.byXID[xid] {
		r := &o.recs[i]
		if r.End > at {
			break
		}
		switch r.Type {
		case logindex.RecPrepare:
			if t.Prepare == nil {
				t.Prepare, t.GID = r, r.GID
			}
		case logindex.RecCommitPrepared:
			t.Commits = append(t.Commits, r)
		case logindex.RecAbortPrepared:
			t.Aborts = append(t.Aborts, r)
		case logindex.RecCommit, logindex.RecAbort:
			t.Plain = append(t.Plain, r)
		}
	}
	return t
}
