package check

import (
	"fmt"
	"sort"

	"promotesim/logindex"
	"promotesim/postmaster"
	"promotesim/scenarios/oracle"
	"promotesim/shmem"
	"promotesim/storage"
)

// The two-phase claims (prepared transactions, postmaster/twophase.go):
//
//   - PreparedSurvives: an acknowledged PREPARE's record is in the valid
//     WAL, and until a COMMIT or ROLLBACK PREPARED of it is, the read-write
//     primary (whichever node that is after promotes and crashes) holds it
//     prepared under its gid and its clog has not decided it.
//   - TwoPhaseDecidedOnce: the valid WAL decides a prepared transaction at
//     most once (never both committed and rolled back, never either twice,
//     no plain commit or abort after its PREPARE, no decision without a
//     PREPARE), a gid is never prepared twice while pending, and no client
//     is told both outcomes.
//   - PreparedInvisible: no read sees a row of a prepared transaction
//     unless its COMMIT PREPARED is in the WAL the read was served at.
//
// Each is incremental: new journal events and reads are looked at once,
// new WAL records once (again from a cut when the history changes), and a
// primary's prepared set only when it, its two-phase state or the journal
// moved.

// twoPhaseSeen is the two-phase checkers' memory.
type twoPhaseSeen struct {
	events  int // journal TwoPhase events checked (PreparedSurvives)
	cuts    int // oracle cuts seen (PreparedSurvives)
	decided int // journal events checked (TwoPhaseDecidedOnce)
	recs    int // history records checked (TwoPhaseDecidedOnce)
	recCuts int
	reads   int // journal reads checked (PreparedInvisible)
	// primary: the primary instance, its two-phase and clog generations
	// and the journal length and history end it was last compared at.
	primary *shmem.Node
	gen     uint64
	clog    uint64
	nevents int
	end     storage.LSN
	outcome map[logindex.XID]postmaster.TwoPhaseKind // acknowledged outcome by xid (lookup only)
}

// preparedSurvives checks PreparedSurvives.
func (k *Checks) preparedSurvives() error {
	if err := k.O.Sync(); err != nil {
		return err
	}
	t, ev := &k.tp, k.c.Journal.TwoPhase
	if cuts := k.O.Cuts(); t.cuts < len(cuts) {
		t.cuts, t.events = len(cuts), 0 // the history changed: look again
		t.primary = nil
	}
	for ; t.events < len(ev); t.events++ {
		e := &ev[t.events]
		if e.Kind != postmaster.TwoPhasePrepared {
			continue
		}
		k.hit(cPreparedSurvives)
		if r, ok := k.recordEndingAt(e.End); !ok || r.Type != logindex.RecPrepare || r.XID != e.XID || r.GID != e.GID {
			t.events++
			return fmt.Errorf("acknowledged PREPARE of xid %d gid %s by %v (end %v, step %d) is not in the valid WAL on storage (ends %v)",
				e.XID, e.GID, e.Node, e.End, e.Step, k.O.End())
		}
	}
	n := k.servingWriter()
	if n == nil {
		return nil
	}
	if t.primary == n && t.gen == n.TwoPhase.Gen() && t.clog == n.Clog.Gen() && t.nevents == len(ev) && t.end == k.O.End() {
		return nil
	}
	t.primary, t.gen, t.clog, t.nevents, t.end = n, n.TwoPhase.Gen(), n.Clog.Gen(), len(ev), k.O.End()
	for i := range ev {
		e := &ev[i]
		if e.Kind != postmaster.TwoPhasePrepared {
			continue
		}
		k.hit(cPreparedSurvives)
		if err := k.stillPrepared(n, e); err != nil {
			return err
		}
	}
	return nil
}

// servingWriter is the node serving read-write that holds the writer role
// of shared storage, if any. An old primary a promote displaced (fence
// epoch) may still serve, and a node being promoted may hold the role
// before it serves: neither is judged.
func (k *Checks) servingWriter() *shmem.Node {
	for _, n := range k.c.AllNodes() {
		if n != nil && n.Primary && n.ReadWrite && !n.InRecovery && k.alive(n) && k.shared(n) && n.Mount != nil && n.Mount.Writer() {
			return n
		}
	}
	return nil
}

// stillPrepared: an acknowledged prepared transaction the valid WAL has not
// decided is prepared on n under its gid and undecided in n's clog.
func (k *Checks) stillPrepared(n *shmem.Node, e *postmaster.TwoPhaseEvent) error {
	h := k.O.TwoPhaseOf(e.XID, k.O.End())
	if !h.Pending() {
		return nil
	}
	g, ok := n.TwoPhase.ByXID(e.XID)
	switch {
	case !ok:
		return fmt.Errorf("prepared transaction xid %d gid %s (acknowledged by %v at step %d) is not prepared on the primary %v",
			e.XID, e.GID, e.Node, e.Step, n.Cfg.Host)
	case !g.Valid || g.GID != e.GID:
		return fmt.Errorf("prepared transaction xid %d gid %s is on the primary %v as %v (valid=%v)", e.XID, e.GID, n.Cfg.Host, g, g.Valid)
	case n.Clog.Get(e.XID) != shmem.XactInProgress:
		return fmt.Errorf("prepared transaction xid %d gid %s is %v in the clog of %v with no COMMIT/ROLLBACK PREPARED in the WAL",
			e.XID, e.GID, n.Clog.Get(e.XID), n.Cfg.Host)
	}
	return nil
}

// twoPhaseDecidedOnce checks TwoPhaseDecidedOnce.
func (k *Checks) twoPhaseDecidedOnce() error {
	if err := k.O.Sync(); err != nil {
		return err
	}
	t := &k.tp
	recs := k.O.Records()
	if cuts := k.O.Cuts(); t.recCuts < len(cuts) {
		low := cuts[t.recCuts].LSN
		for _, c := range cuts[t.recCuts:] {
			low = min(low, c.LSN)
		}
		t.recCuts = len(cuts)
		t.recs = min(t.recs, sort.Search(len(recs), func(i int) bool { return recs[i].Start >= low }))
	}
	for ; t.recs < len(recs); t.recs++ {
		if r := &recs[t.recs]; r.Type == logindex.RecPrepare || r.Type == logindex.RecCommitPrepared || r.Type == logindex.RecAbortPrepared {
			k.hit(cTwoPhaseDecidedOnce)
		}
		if err := k.decidedOnce(&recs[t.recs]); err != nil {
			t.recs++
			return err
		}
	}
	ev := k.c.Journal.TwoPhase
	for ; t.decided < len(ev); t.decided++ {
		e := &ev[t.decided]
		if e.Kind == postmaster.TwoPhasePrepared {
			continue
		}
		if t.outcome == nil {
			t.outcome = map[logindex.XID]postmaster.TwoPhaseKind{}
		}
		if prev, ok := t.outcome[e.XID]; ok {
			t.decided++
			return fmt.Errorf("prepared transaction xid %d gid %s acknowledged %v by %v at step %d, already acknowledged %v",
				e.XID, e.GID, e.Kind, e.Node, e.Step, prev)
		}
		t.outcome[e.XID] = e.Kind
	}
	return nil
}

// decidedOnce judges one record of the history against what precedes it.
func (k *Checks) decidedOnce(r *logindex.Record) error {
	switch r.Type {
	case logindex.RecPrepare:
		h := k.O.TwoPhaseOf(r.XID, r.End)
		if h.Prepare != r {
			return fmt.Errorf("xid %d prepared twice: %v after %v", r.XID, r, h.Prepare)
		}
		return k.gidFree(r)
	case logindex.RecCommitPrepared, logindex.RecAbortPrepared, logindex.RecCommit, logindex.RecAbort:
		h := k.O.TwoPhaseOf(r.XID, r.End)
		if h.Prepare == nil {
			if r.Type == logindex.RecCommit || r.Type == logindex.RecAbort {
				return nil // an ordinary transaction
			}
			return fmt.Errorf("%v decides xid %d, which the WAL never prepared", r, r.XID)
		}
		if n := len(h.Commits) + len(h.Aborts) + len(h.Plain); n > 1 {
			return fmt.Errorf("prepared transaction xid %d gid %s decided %d times in the WAL (commits %d, rollbacks %d, plain %d), the last by %v",
				r.XID, h.GID, n, len(h.Commits), len(h.Aborts), len(h.Plain), r)
		}
		if r.Type == logindex.RecCommit || r.Type == logindex.RecAbort {
			return fmt.Errorf("prepared transaction xid %d gid %s ended by a plain %v", r.XID, h.GID, r)
		}
	}
	return nil
}

// gidFree: no other transaction with r's gid is prepared and undecided
// when r is written (MarkAsPreparing's "transaction identifier is already
// in use").
func (k *Checks) gidFree(r *logindex.Record) error {
	recs := k.O.Records()
	for i := range recs {
		q := &recs[i]
		if q.Start >= r.Start {
			break
		}
		if q.Type == logindex.RecPrepare && q.GID == r.GID && q.XID != r.XID {
			if h := k.O.TwoPhaseOf(q.XID, r.Start); h.Pending() {
				return fmt.Errorf("gid %s prepared by xid %d while xid %d still holds it undecided", r.GID, r.XID, q.XID)
			}
		}
	}
	return nil
}

// preparedInvisible checks PreparedInvisible on every new read.
func (k *Checks) preparedInvisible() error {
	if err := k.O.Sync(); err != nil {
		return err
	}
	t, reads := &k.tp, k.c.Journal.Reads
	for ; t.reads < len(reads); t.reads++ {
		r := &reads[t.reads]
		if r.Primary && k.c.IsStandby(r.Node) {
			// A promoted standby serves its own disk's history: its xids
			// after the promote are not the shared history's, whose
			// prepared transactions the oracle knows (as ReadsReflectAcked
			// leaves such reads alone).
			continue
		}
		for i, v := range r.Content.Slots {
			if v == 0 || !r.Visible[i] {
				continue
			}
			xid := postmaster.ValueXID(v)
			h := k.O.TwoPhaseOf(xid, r.At)
			if h.Prepare != nil {
				k.hit(cPreparedInvisible)
			}
			if h.Prepare != nil && len(h.Commits) == 0 {
				t.reads++
				return fmt.Errorf("%v read %v at %v sees slot %d of prepared transaction xid %d gid %s, not committed (%s)",
					r.Node, r.Page, r.At, i, xid, h.GID, oracle.FormatPage(r.Content))
			}
		}
	}
	return nil
}
