package postmaster

import (
	"fmt"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// Operator runs the operator's procedures on the nodes of one world
// (pg_ctl, kill -9, slot management, base backups, the SQL a client issues
// between steps): the scheduler they post to and trace through, and, for
// booting a node, the network and the clients' journal every node of the
// world shares. It holds no state of its own; each method works on the
// node it is given.
type Operator struct {
	S       *sim.Scheduler
	Net     *Net
	Journal *Journal
}

// InitDB creates a fresh cluster on the device from host cfg.Host (initdb):
// the relation's data file, an empty clog, the first checkpoint record and
// the shared control file pointing at it. The host is unmounted afterwards;
// Boot it as RolePrimary to run it.
func InitDB(dev *storage.Device, cfg shmem.Config) error {
	m, err := dev.Mount(cfg.Host, storage.MountReadWrite)
	if err != nil {
		return err
	}
	defer dev.Unmount(cfg.Host)
	if err := m.Create(fmt.Sprintf("base/%d", cfg.Rel)); err != nil {
		return err
	}
	wal, err := logindex.NewWAL(m, cfg.LogIndex, logindex.FirstLSN, storage.InvalidLSN)
	if err != nil {
		return err
	}
	rec := logindex.Record{Type: logindex.RecCheckpoint, Redo: logindex.FirstLSN}
	if err := wal.Insert(&rec); err != nil {
		return err
	}
	if err := wal.Flush(rec.End); err != nil {
		return err
	}
	var empty shmem.Clog
	if err := shmem.WriteClog(m, &empty); err != nil {
		return err
	}
	return shmem.WriteControl(m, shmem.Control{State: shmem.DBShutdowned, CheckPoint: rec.Start, Redo: rec.Start,
		TLI: 1, NextXID: 1, Primary: cfg.Host})
}

// Boot starts a node: fresh shared memory (a restart loses the old one; the
// local directory's pg_control survives), the device mounted read-write for
// a primary or read-only for a replica, and a postmaster that forks the
// rest. It replaces any earlier node of the same host in net.
func (o Operator) Boot(dev *storage.Device, cfg shmem.Config, role Role, local shmem.Control, sessions int) (*shmem.Node, error) {
	if role == RoleStandby {
		return nil, fmt.Errorf("boot %v as standby: use BootStandby (a standby needs its own device and slot)", cfg.Host)
	}
	n, err := shmem.NewNode(cfg, dev)
	if err != nil {
		return nil, err
	}
	mode := storage.MountReadOnly
	if role == RolePrimary {
		mode = storage.MountReadWrite
	}
	if err := n.Attach(mode); err != nil {
		return nil, fmt.Errorf("boot %v as %v: %w", cfg.Host, role, err)
	}
	n.Local = local
	o.Net.Add(n)
	n.Procs.Postmaster = o.S.Add(NewPostmaster(n, o.Net, o.Journal, role, sessions))
	o.S.Emit(n.Proc("operator"), sim.LevelStory, "pg_ctl-start", sim.Str("role", role.String()), sim.Str("mount", mode.String()))
	return n, nil
}

// Alive reports whether the node's postmaster runs.
func (o Operator) Alive(n *shmem.Node) bool {
	return n.Procs.Postmaster != shmem.NoProc && o.S.Alive(n.Procs.Postmaster)
}

// Promote is pg_ctl promote: write the promote signal file and SIGUSR1 the
// postmaster.
func (o Operator) Promote(n *shmem.Node) error {
	if !o.Alive(n) {
		return fmt.Errorf("pg_ctl promote: %v is not running", n.Cfg.Host)
	}
	n.PromoteFile = true
	o.S.Post(n.Procs.Postmaster, shmem.SIGUSR1)
	o.S.Emit(n.Proc("operator"), sim.LevelStory, "pg_ctl-promote")
	return nil
}

// TriggerPromote creates the trigger file: only startup sees it.
func (o Operator) TriggerPromote(n *shmem.Node) {
	n.TriggerFile = true
	o.S.Emit(n.Proc("operator"), sim.LevelStory, "touch-trigger-file")
}

// Stop is pg_ctl stop -m fast|immediate.
func (o Operator) Stop(n *shmem.Node, immediate bool) error {
	if !o.Alive(n) {
		return fmt.Errorf("pg_ctl stop: %v is not running", n.Cfg.Host)
	}
	o.S.Post(n.Procs.Postmaster, Shutdown{Immediate: immediate})
	o.S.Emit(n.Proc("operator"), sim.LevelStory, "pg_ctl-stop", sim.Bool("immediate", immediate))
	return nil
}

// Crash kills every process of the node at once and loses the host's
// unsynced writes as keep decides (nil: all lost). The node's memory is gone;
// Boot starts it again.
func (o Operator) Crash(n *shmem.Node, keep func(storage.PendingWrite) storage.KeepMode) {
	for _, id := range allProcs(n) {
		if o.S.Alive(id) {
			o.S.Kill(id)
		}
	}
	if n.Procs.Postmaster != shmem.NoProc && o.S.Alive(n.Procs.Postmaster) {
		o.S.Kill(n.Procs.Postmaster)
	}
	n.Procs = shmem.NoProcs()
	n.Accepting, n.ReadWrite = false, false
	n.Dev.Crash(n.Cfg.Host, keep)
	o.S.Emit(n.Proc("operator"), sim.LevelStory, "crash")
}

// KillChildren are the children KillChild accepts, by process name.
var KillChildren = []string{"bgwriter", "bgw", "checkpointer", "walwriter"}

// KillChild is the operator's kill -9 of one child of node n (PolarDB's
// test 002_promote_kill kills the bgwriter after a promote): the process
// ends at once and the postmaster gets an abnormal SIGCHLD, which
// postmaster.c reaper hands to HandleChildCrash like a PANIC. What follows
// is the postmaster's: a restart of shared memory
// (Fidelity.RestartAfterCrash) or the node going down.
func (o Operator) KillChild(n *shmem.Node, proc string) error {
	if !o.Alive(n) {
		return fmt.Errorf("kill: %v is not running", n.Cfg.Host)
	}
	var id sim.ActorID
	switch proc {
	case "bgwriter":
		id = n.Procs.BGWriter
	case "bgw":
		id = n.Procs.BGW
	case "checkpointer":
		id = n.Procs.Checkpointer
	case "walwriter":
		id = n.Procs.WALWriter
	default:
		return fmt.Errorf("kill: proc=%q: want one of %v", proc, KillChildren)
	}
	if id == shmem.NoProc || !o.S.Alive(id) {
		return fmt.Errorf("kill: %v has no running %s", n.Cfg.Host, proc)
	}
	o.S.Kill(id)
	e := shmem.ChildExit{ID: id, Name: n.Proc(proc), Kind: shmem.ExitCrashed, Err: "terminated by signal 9: Killed"}
	o.S.Report(shmem.ExitReport{Node: n, Exit: e})
	o.S.Post(n.Procs.Postmaster, e)
	o.S.Emit(n.Proc("operator"), sim.LevelStory, "kill-9", sim.Str("proc", n.Proc(proc)))
	return nil
}

// Unmount releases a stopped node's mount (after a clean stop the node's
// writes were synced by its shutdown checkpoint).
func Unmount(n *shmem.Node) { n.Dev.Unmount(n.Cfg.Host) }

// DropSlot is pg_drop_replication_slot on node n (and on storage).
func (o Operator) DropSlot(n *shmem.Node, name string) error {
	for i, sl := range n.Slots {
		if sl.Name == name {
			if sl.Active {
				return fmt.Errorf("replication slot %q is active on %v", name, n.Cfg.Host)
			}
			n.Slots = append(n.Slots[:i], n.Slots[i+1:]...)
			if err := shmem.DropSlot(n.Mount, name); err != nil {
				return err
			}
			o.S.Emit(n.Proc("operator"), sim.LevelStory, "drop-slot", sim.Str("slot", name))
			return nil
		}
	}
	return fmt.Errorf("replication slot %q does not exist on %v", name, n.Cfg.Host)
}

// EnsureSlot creates replica slot name on primary p if it does not exist
// (pg_create_physical_replication_slot before starting a replica), reserving
// WAL from restart, which is also its first apply LSN. The slot must exist
// before the replica can read pages: without it the primary's flush gate
// does not know the replica and may write pages from the replica's future.
func (o Operator) EnsureSlot(p *shmem.Node, name string, restart storage.LSN) error {
	for _, sl := range p.Slots {
		if sl.Name == name {
			return nil
		}
	}
	sl := shmem.Slot{Name: name, Restart: restart, Apply: restart}
	if err := shmem.WriteSlot(p.Mount, sl); err != nil {
		return err
	}
	p.Slots = append(p.Slots, sl)
	o.S.Emit(p.Proc("operator"), sim.LevelStory, "create-slot", sim.Str("slot", name), sim.LSNField("restart", uint64(restart)))
	return nil
}

// Stopping reports whether n's postmaster is in a fast shutdown (waiting
// for backends or for the shutdown checkpoint): an operator waits for it
// before deciding what to start.
func (o Operator) Stopping(n *shmem.Node) bool {
	if !o.Alive(n) {
		return false
	}
	p, ok := o.S.Actor(n.Procs.Postmaster).(*Postmaster)
	return ok && (p.state == pmShutdownBackends || p.state == pmShutdownCheckpoint)
}
