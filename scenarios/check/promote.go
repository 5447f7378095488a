package check

import (
	"fmt"
	"sort"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/storage"
)

// promoted reports, for host index i, whether node n switched from
// replica to primary in the step just taken: it was last seen alive in
// recovery, not primary, in archive recovery or (v15's control-file window
// split into PolarDB's steps, shmem.Fidelity.ControlWindowSteps: the local
// state is stored as in production a step before polar_set_node_type) in
// production, and is primary now (startup's role switch, docs/model.md §7
// S9), in the same incarnation (a crash
// reinitialisation that brings a promoting node back as a primary,
// shmem.Node.Reinit, is crash recovery, not the switch). Each claim keeps
// its own memory, so the two claims that judge the switch see it in the
// same step.
func (k *Checks) promoted(seen *[]incarnation, i int, n *shmem.Node) bool {
	for len(*seen) <= i {
		*seen = append(*seen, incarnation{})
	}
	was := n != nil && (*seen)[i] == incarnationOf(n)
	(*seen)[i] = incarnation{}
	if n == nil || !k.alive(n) || !k.shared(n) {
		return false
	}
	if !n.Primary && n.InRecovery && (n.Local.State == shmem.DBInArchiveRecovery || n.Local.State == shmem.DBInProduction) {
		(*seen)[i] = incarnationOf(n)
		return false
	}
	return was && n.Primary
}

// clogCopiedAtPromote: in the step a replica switches to primary, the clog
// on shared storage says committed for every transaction whose commit
// record lies in the WAL it replayed (docs/model.md §7 S7,
// polar_online_promote_data's clog copy: a replica's commits live in its
// local cache, and the new primary's SLRU reads pg_xact).
func (k *Checks) clogCopiedAtPromote() error {
	for i, n := range k.c.AllNodes() {
		if !k.promoted(&k.wasReplica, i, n) || !k.canObserve() {
			continue
		}
		if err := k.O.Sync(); err != nil {
			return err
		}
		clog, err := shmem.ReadClog(k.O.Mount())
		if err != nil {
			return fmt.Errorf("read clog: %w", err)
		}
		k.hit(cClogCopiedAtPromote)
		end := min(n.ReplayLSN, k.O.End())
		for x := logindex.XID(1); x <= k.O.MaxXID(); x++ {
			if k.O.Status(x, end) == shmem.XactCommitted && clog.Get(x) != shmem.XactCommitted {
				return fmt.Errorf("%v switched to primary with xid %d %v in the clog on shared storage, though its commit record is below the replayed end %v",
					n.Cfg.Host, x, clog.Get(x), end)
			}
		}
	}
	return nil
}

// slotsReloadedAtPromote: in the step a replica switches to primary, it
// holds every replication slot on shared storage (docs/model.md §7 S7,
// polar_reload_replication_slots_from_shared_storage): a slot it lacks
// leaves that replica out of its flush gate and LogIndex retention.
func (k *Checks) slotsReloadedAtPromote() error {
	for i, n := range k.c.AllNodes() {
		if !k.promoted(&k.wasReplicaSl, i, n) || !k.canObserve() {
			continue
		}
		onDisk, err := shmem.ReadSlots(k.O.Mount())
		if err != nil {
			return fmt.Errorf("read slots: %w", err)
		}
		k.hit(cSlotsReloadedAtPromote)
		for _, s := range onDisk {
			found := false
			for _, m := range n.Slots {
				found = found || m.Name == s.Name
			}
			if !found {
				return fmt.Errorf("%v switched to primary without slot %s of shared storage (it holds %d slots)", n.Cfg.Host, s.Name, len(n.Slots))
			}
		}
	}
	return nil
}

// clogSeen is how far ReplicaClogReplayed checked one replica
// incarnation (a crash reinitialisation rebuilds the clog cache and
// restarts replay: shmem.Node.Reinit).
type clogSeen struct {
	inc  incarnation
	at   storage.LSN // commit records ending at or below it were checked
	cuts int         // len(oracle cuts) when at was set
}

// replicaClogReplayed: a replica in recovery replays every commit record
// into its local clog cache as it consumes it (docs/model.md §4: "a commit
// or abort is replayed into the local clog cache"; the cache is what its
// sessions consult and what promote copies to shared storage). Checked
// incrementally as the replay position moves: the commit records ending
// between the last checked position and the new one. A new incarnation
// (instance or crash reinitialisation), or a history the crash of a writer
// cut, starts from where the replica is.
func (k *Checks) replicaClogReplayed() error {
	o := k.O
	for i, n := range k.c.AllNodes() {
		for len(k.clogSeen) <= i {
			k.clogSeen = append(k.clogSeen, clogSeen{})
		}
		cs := &k.clogSeen[i]
		if n == nil || !k.alive(n) || !k.shared(n) || !n.InRecovery || n.Primary || n.Local.State != shmem.DBInArchiveRecovery {
			cs.inc = incarnation{}
			continue
		}
		if cs.inc != incarnationOf(n) {
			if err := o.Sync(); err != nil {
				return err
			}
			*cs = clogSeen{inc: incarnationOf(n), at: n.ReplayLSN, cuts: len(o.Cuts())}
			continue
		}
		if n.ReplayLSN <= cs.at {
			continue
		}
		if err := o.Sync(); err != nil {
			return err
		}
		if cs.cuts != len(o.Cuts()) {
			cs.at, cs.cuts = n.ReplayLSN, len(o.Cuts())
			continue
		}
		if err := k.clogCovers(n, cs, min(n.ReplayLSN, o.End())); err != nil {
			return err
		}
	}
	return nil
}

// clogCovers checks n's clog against the commit records ending in
// (cs.at, to] and moves cs.at on.
func (k *Checks) clogCovers(n *shmem.Node, cs *clogSeen, to storage.LSN) error {
	hist := k.O.Records()
	j := sort.Search(len(hist), func(i int) bool { return hist[i].End > cs.at })
	for ; j < len(hist) && hist[j].End <= to; j++ {
		r := &hist[j]
		if r.Type != logindex.RecCommit {
			continue
		}
		k.hit(cReplicaClogReplayed)
		if st := n.Clog.Get(r.XID); st != shmem.XactCommitted {
			cs.at = r.End
			return fmt.Errorf("%v replayed to %v, past the commit record of xid %d at %v, but its clog says %v",
				n.Cfg.Host, n.ReplayLSN, r.XID, r.Start, st)
		}
	}
	cs.at = max(cs.at, to)
	return nil
}
