package postmaster

import (
	"fmt"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// readWritePrimary refuses a logical-slot function off a read-write primary
// (logical decoding cannot run on a replica in PolarDB 15:
// CheckLogicalDecodingRequirements' "logical decoding cannot be used
// while in recovery").
func (o Operator) readWritePrimary(n *shmem.Node) error {
	if !o.Alive(n) || !n.ReadWrite || n.InRecovery || n.WAL == nil {
		return fmt.Errorf("%v: logical decoding cannot be used while in recovery (or the node is down)", n.Cfg.Host)
	}
	return nil
}

// CreateLogicalSlot is pg_create_logical_replication_slot on n: the slot
// reserves WAL from the insert position and flushes the WAL up to its start
// point (ReplicationSlotReserveWal: LogStandbySnapshot, then XLogFlush; the
// running-xacts record itself is not modelled), its confirmed_flush is that
// start point, and it is saved at once (ReplicationSlotPersist). Without
// the flush a slot could start past the durable WAL, and the first
// get_changes, which decodes to the flushed end, would move it back
// (v15-fixed seed 8790 under -sched pct).
func (o Operator) CreateLogicalSlot(n *shmem.Node, name string) (shmem.LogicalSlot, error) {
	if err := o.readWritePrimary(n); err != nil {
		return shmem.LogicalSlot{}, err
	}
	if _, ok := n.LogicalSlot(name); ok {
		return shmem.LogicalSlot{}, fmt.Errorf("replication slot %q already exists", name)
	}
	for _, sl := range n.Slots {
		if sl.Name == name {
			return shmem.LogicalSlot{}, fmt.Errorf("replication slot %q already exists", name)
		}
	}
	lsn := n.WAL.InsertLSN()
	if err := n.WAL.Flush(lsn); err != nil {
		o.sessionPanic(n, err)
		return shmem.LogicalSlot{}, err
	}
	sl := shmem.LogicalSlot{Name: name, Restart: lsn, ConfirmedFlush: lsn}
	if err := shmem.WriteLogicalSlot(n.Mount, sl); err != nil {
		// The creation ERRORs; its leftover is ignored (ReadLogicalSlots).
		return shmem.LogicalSlot{}, err
	}
	n.LogicalSlots = append(n.LogicalSlots, sl)
	o.S.Emit(n.Proc("operator"), sim.LevelStory, "create-logical-slot", sim.Str("slot", name),
		sim.LSNField("restart", uint64(lsn)), sim.LSNField("confirmed_flush", uint64(lsn)))
	return sl, nil
}

// sessionPanic ends the client session that ran the operator's SQL on n
// with a PANIC: a failed XLogFlush is one (XLogWrite's "could not write to
// log file", issue_xlog_fsync's "could not fsync"), and postmaster.c
// reaper hands it to HandleChildCrash as for any backend. The session is no
// actor of the model, so the exit carries no process id.
func (o Operator) sessionPanic(n *shmem.Node, err error) {
	e := shmem.ChildExit{ID: shmem.NoProc, Name: n.Proc("operator"), Kind: shmem.ExitPANIC, Err: err.Error()}
	o.S.Report(shmem.ExitReport{Node: n, Exit: e})
	o.S.Post(n.Procs.Postmaster, e)
	o.S.Emit(n.Proc("operator"), sim.LevelStory, "PANIC", sim.Str("err", err.Error()))
}

// LogicalGetChanges is pg_logical_slot_get_changes(name, NULL, NULL) on n:
// decode the durable WAL from the slot's confirmed_flush to the flushed
// end, counting the transactions committed there (COMMIT and COMMIT
// PREPARED), then confirm up to the end and save the slot
// (LogicalConfirmReceivedLocation). Decoding reads WAL from storage; a
// record it cannot read is the function's ERROR. saved says whether this
// call wrote the slot: a call that finds the slot already moved in memory
// (an earlier call's save failed) saves nothing and still returns its
// rows, as PolarDB's does (LogicalConfirmReceivedLocation saves only when
// restart_lsn moves; pg_logical_slot_get_changes_guts then only marks the
// slot dirty, "We'll still lose its position on crash, as documented"), so
// its positions are not durable until a checkpoint saves them.
func (o Operator) LogicalGetChanges(n *shmem.Node, name string) (commits int, sl shmem.LogicalSlot, saved bool, err error) {
	if err := o.readWritePrimary(n); err != nil {
		return 0, shmem.LogicalSlot{}, false, err
	}
	p, ok := n.LogicalSlot(name)
	if !ok {
		return 0, shmem.LogicalSlot{}, false, fmt.Errorf("replication slot %q does not exist", name)
	}
	commits, saved, err = o.confirmChanges(n, p)
	return commits, *p, saved, err
}

// confirmChanges decodes sl's changes up to the flushed WAL and confirms
// them (LogicalGetChanges).
func (o Operator) confirmChanges(n *shmem.Node, sl *shmem.LogicalSlot) (int, bool, error) {
	name := sl.Name
	end := n.WAL.FlushedLSN()
	commits := 0
	var rec logindex.Record
	for at := sl.ConfirmedFlush; at < end; at = rec.End {
		if err := n.Reader.Read(at, storage.InvalidLSN, &rec); err != nil {
			return 0, false, fmt.Errorf("logical decoding of %q at %v: %w", name, at, err)
		}
		if rec.Type == logindex.RecCommit || rec.Type == logindex.RecCommitPrepared {
			commits++
		}
	}
	// LogicalConfirmReceivedLocation moves the slot in memory first, then
	// saves it (ReplicationSlotSave); a failed save is the function's
	// ERROR and leaves the slot dirty in memory, for the next checkpoint
	// (CheckPointReplicationSlots) to save.
	moved := sl.Restart != end || sl.ConfirmedFlush != end
	sl.Restart, sl.ConfirmedFlush = end, end
	if moved {
		if err := shmem.WriteLogicalSlot(n.Mount, *sl); err != nil {
			return 0, false, err
		}
	}
	o.S.Emit(n.Proc("operator"), sim.LevelStory, "logical-get-changes", sim.Str("slot", name), sim.Int("commits", int64(commits)),
		sim.LSNField("confirmed_flush", uint64(sl.ConfirmedFlush)))
	return commits, moved, nil
}

// LogicalSlotAck is what a client was told of a logical slot: created, or
// changes consumed up to ConfirmedFlush. Its positions are durable when
// told (the slot was saved), so they must survive a crash and a promote.
type LogicalSlotAck struct {
	Name                    string
	Node                    storage.HostID
	Restart, ConfirmedFlush storage.LSN
	Step                    uint64
}

// LastLogicalAck returns the last acknowledgement of slot name.
func (j *Journal) LastLogicalAck(name string) (LogicalSlotAck, bool) {
	for i := len(j.LogicalSlots) - 1; i >= 0; i-- {
		if j.LogicalSlots[i].Name == name {
			return j.LogicalSlots[i], true
		}
	}
	return LogicalSlotAck{}, false
}
