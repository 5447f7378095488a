package shmem

import (
	"errors"

	"promotesim/logindex"
	"promotesim/storage"
)

// ErrNoMount: a crash reinitialisation needs the postmaster's mount, and
// the node has none.
var ErrNoMount = errors.New("shmem: reinitialise: the node has no mount")

// Reinit is the postmaster's crash reinitialisation (postmaster.c
// PostmasterStateMachine after HandleChildCrash, with restart_after_crash):
// shared memory is thrown away and built afresh (shmem_exit, reset_shared),
// while what lives outside it stays: the postmaster's mount of shared
// storage, which is not remounted (polar_local_vfs_state is postmaster-static
// and XLOGShmemInit republishes it), the local pg_control, the signal files,
// and the model's fault settings. The instance stays the same Node, so an
// observer keyed by it (ExitLog) keeps what it recorded. It reports whether the
// node comes back as a primary: polar_init_node_type reads the node type from
// files, and startup unlinked the replica's signal file once it opened its
// own WAL at the end of the old primary's (polar_exit_archive_recovery, right
// after the end of WAL was found).
func (n *Node) Reinit() (primary bool, err error) {
	m := n.Mount
	if m == nil {
		return false, ErrNoMount
	}
	fresh, err := NewNode(n.Cfg, n.Dev)
	if err != nil {
		return false, err
	}
	old := *n
	*n = *fresh
	n.Mount = m
	if n.Reader, err = logindex.NewReader(m, n.Cfg.LogIndex); err == nil {
		n.Index, err = logindex.New(m, n.Cfg.LogIndex, m.Mode() == storage.MountReadWrite)
	}
	n.Local = old.Local
	n.PromoteFile, n.TriggerFile, n.SaveStalled = old.PromoteFile, old.TriggerFile, old.SaveStalled
	n.Procs.Postmaster = old.Procs.Postmaster
	n.Reinits = old.Reinits + 1
	// Not shared memory: the observers' count of read-write openings
	// (ReadWriteOpens) spans the instance, or a promote finished before
	// the crash would look asked again after it.
	n.ReadWriteOpens = old.ReadWriteOpens
	// The node type is read from files: once replica.signal is gone it
	// stays gone for the instance, so a second reinitialisation, before the
	// first one's startup has opened WAL again, still finds a primary (it
	// used to read the fresh memory and bring a promoted node back as a
	// replica on its read-write mount: F7's hunt, v15 seed 8628).
	primary = old.Primary || old.WAL != nil || old.ReplicaSignalGone
	n.ReplicaSignalGone = primary
	return primary, err
}
