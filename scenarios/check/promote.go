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

// promoteSeen is what the two claims on the promote's order last saw of
// one node incarnation: whether the host held the writer role
// (NoBackendAtRemount sees the remount as the step it took it), and the
// BGW's reset count and replay point (PromoteReplayStart sees the reset
// as the step the count grew in, and needs the replay point it replaced).
type promoteSeen struct {
	inc    incarnation
	writer bool
	resets int
	replay storage.LSN
}

// seenOf is host index i's promoteSeen for n, starting over (with n's
// values now, judging nothing) on a new incarnation. fresh reports that.
func (k *Checks) seenOf(i int, n *shmem.Node) (ps *promoteSeen, fresh bool) {
	for len(k.promote) <= i {
		k.promote = append(k.promote, promoteSeen{})
	}
	ps = &k.promote[i]
	if ps.inc != incarnationOf(n) {
		*ps = promoteSeen{inc: incarnationOf(n), writer: n.Mount != nil && n.Mount.Writer(),
			resets: n.BGW.Resets(), replay: n.BGW.ReplayPoint()}
		return ps, true
	}
	return ps, false
}

// profileOrderings are the orderings of n's profile without any hazard
// (cluster.Options.nodeConfig's choice: the -fixed variant's, or the
// faithful profile's): the rules the two claims below hold a node to are
// its profile's, so a hazard that flips the node's Orderings breaks them,
// and PolarDB 11's own order, where it differs, is judged by its own rule.
func (k *Checks) profileOrderings(n *shmem.Node) shmem.Orderings {
	if k.c.Opts.Fixed {
		return shmem.FixedOrderingsFor(n.Cfg.Profile)
	}
	return shmem.OrderingsFor(n.Cfg.Profile)
}

// noBackendAtRemount: in the step a promoting replica's postmaster
// remounts shared storage read-write (it takes the writer role by force),
// none of its sessions is still running, in a profile whose postmaster
// waits for them (docs/model.md §7 P3: PolarDB 15's
// polar_postmaster_receive_promote in postmaster.c calls
// polar_postmaster_online_promote only once
// CountChildren(BACKEND_TYPE_NORMAL) is 0, "avoid older buffer being
// pinned by backend"; v11-fixed takes that fix, docs/findings.md V11-1).
// PolarDB 11's postmaster (profile v11) SIGTERMs them and remounts at
// once, so there the claim judges nothing. A session of the replica that
// outlives the remount keeps a buffer pinned and its replay start
// published into the BGW's ONLINE_PROMOTE replay.
func (k *Checks) noBackendAtRemount() error {
	for i, n := range k.c.AllNodes() {
		if n == nil || !k.alive(n) || !k.shared(n) || n.Mount == nil {
			continue
		}
		ps, fresh := k.seenOf(i, n)
		writer := n.Mount.Writer()
		took := !fresh && writer && !ps.writer
		ps.writer = writer
		// A promoting replica: in recovery, not yet primary, and no
		// longer accepting connections (the promote's pmState =
		// PM_STARTUP).
		if !took || n.Primary || !n.InRecovery || n.Accepting || !k.profileOrderings(n).WaitBackends {
			continue
		}
		k.hit(cNoBackendAtRemount)
		for _, id := range n.Procs.Backends {
			if k.c.S.Alive(id) {
				return fmt.Errorf("%v remounted shared storage read-write for its promote while its session %v still runs (%d sessions listed)",
					n.Cfg.Host, k.c.S.Name(id), len(n.Procs.Backends))
			}
		}
	}
	return nil
}

// promoteReplayStart: in the step startup resets the BGW into
// ONLINE_PROMOTE, the replay starts where the profile's
// polar_reset_bg_replayed_lsn starts it (docs/model.md §7 S9.3, §8). In
// PolarDB 15 that is the redo of the checkpoint in the node's control
// file (xlog.c StartupXLOG passes ControlFile->checkPointCopy.redo, the
// old primary's last checkpoint made a restartpoint): below it the
// promote would replay, and hand out as fake oldest LSN, positions older
// than what the control file already promises storage holds (a later
// lazy checkpoint's redo moves back); above it, pages on storage may lack
// changes between the two (the function's comment names both). PolarDB
// 11 starts at min(old primary's consistent LSN, replay point), the
// consistent LSN when the replay point is invalid, and an unknown
// consistent LSN is the oldest restartpoint (GetOldestRestartPoint, the
// control file's redo).
func (k *Checks) promoteReplayStart() error {
	for i, n := range k.c.AllNodes() {
		if n == nil || !k.alive(n) {
			continue
		}
		ps, fresh := k.seenOf(i, n)
		resets, before := n.BGW.Resets(), ps.replay
		ps.replay = n.BGW.ReplayPoint()
		grew := !fresh && resets != ps.resets
		ps.resets = resets
		if !grew {
			continue
		}
		k.hit(cPromoteReplayStart)
		want, rule := n.Local.Redo, "the control file's checkpoint redo"
		if !k.profileOrderings(n).ReplayFromRedo {
			pc := n.PrimaryConsistent
			if !pc.Valid() {
				pc = n.Local.Redo
			}
			want, rule = pc, "the old primary's consistent LSN"
			if before.Valid() && before < pc {
				want, rule = before, "the replay point"
			}
		}
		if got := n.BGW.PromoteStart; got != want {
			return fmt.Errorf("%v reset its BGW to replay from %v, not from %v (%s; redo %v, old consistent LSN %v, replay point was %v)",
				n.Cfg.Host, got, want, rule, n.Local.Redo, n.PrimaryConsistent, before)
		}
	}
	return nil
}
