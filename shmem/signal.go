package shmem

import (
	"fmt"

	"promotesim/logindex"
	"promotesim/sim"
	"promotesim/storage"
)

// Signal is a POSIX signal between processes of one node. The meanings are
// PostgreSQL's: SIGTERM asks a backend (or smart shutdown), SIGINT is fast
// shutdown, SIGQUIT immediate, SIGUSR1 is postmaster's "check the signal
// files" (pg_ctl promote), SIGUSR2 is PolarDB's online-promote signal to
// startup, the polar worker and the BGW.
type Signal uint8

const (
	SIGTERM Signal = iota + 1
	SIGINT
	SIGQUIT
	SIGUSR1
	SIGUSR2
)

func (s Signal) String() string {
	switch s {
	case SIGTERM:
		return "SIGTERM"
	case SIGINT:
		return "SIGINT"
	case SIGQUIT:
		return "SIGQUIT"
	case SIGUSR1:
		return "SIGUSR1"
	case SIGUSR2:
		return "SIGUSR2"
	}
	return fmt.Sprintf("Signal(%d)", uint8(s))
}

// ExitKind says how a process ended.
type ExitKind uint8

const (
	// ExitNormal: the process finished its job (startup after promote).
	ExitNormal ExitKind = iota + 1
	// ExitFATAL: the process hit a FATAL error; postmaster carries on.
	ExitFATAL
	// ExitPANIC: the process PANICked; the whole node goes down.
	ExitPANIC
	// ExitKilled: a signal (shutdown or crash) ended it.
	ExitKilled
	// ExitCrashed: the operator's kill -9 of one child (PolarDB's test
	// 002_promote_kill): postmaster.c reaper sees an abnormal exit status
	// and calls HandleChildCrash, as for a PANIC.
	ExitCrashed
)

func (k ExitKind) String() string {
	switch k {
	case ExitNormal:
		return "exit"
	case ExitFATAL:
		return "FATAL"
	case ExitPANIC:
		return "PANIC"
	case ExitKilled:
		return "killed"
	case ExitCrashed:
		return "killed-9"
	}
	return fmt.Sprintf("ExitKind(%d)", uint8(k))
}

// ChildExit is SIGCHLD as postmaster sees it: which child ended and how.
type ChildExit struct {
	ID   sim.ActorID
	Name string
	Kind ExitKind
	Err  string
}

func (c ChildExit) String() string { return fmt.Sprintf("SIGCHLD(%s %s)", c.Name, c.Kind) }

// WALMeta is one record's WAL meta on the replication stream (walsender to
// walreceiver), with the primary's consistent LSN piggybacked the way PolarDB
// ships it so a replica can evict instead of replaying.
type WALMeta struct {
	Meta          logindex.Meta
	ConsistentLSN storage.LSN
	// Sender is the walsender: the receiver's end of the connection knows
	// its peer, and notices when it is gone.
	Sender sim.ActorID
}

func (m WALMeta) String() string {
	return fmt.Sprintf("wal-meta(%v %v..%v)", m.Meta.Type, m.Meta.Start, m.Meta.End)
}

// Keepalive is the walsender's keepalive message (walsender.c
// WalSndKeepalive): it tells the walreceiver who its peer is and the
// primary's consistent LSN even when no WAL flows, so a caught-up replica
// still sends feedback and the primary's slot (its flush gate) moves.
type Keepalive struct {
	Sender        sim.ActorID
	ConsistentLSN storage.LSN
}

func (k Keepalive) String() string { return fmt.Sprintf("keepalive(consistent=%v)", k.ConsistentLSN) }

// Feedback is the walreceiver's standby reply (XLogWalRcvSendReply).
// Applied is the replay position (applyPtr; a standby: its flushed
// position), which moves the slot's apply LSN, the primary's flush gate.
// ReadMin is what a replica appends as bg_replayed_lsn: the oldest LSN it may
// still need WAL and LogIndex from (polar_get_read_min_lsn), which moves the
// slot's restart LSN and so bounds LogIndex truncation. A standby sends
// none (InvalidLSN): its restart LSN follows Applied, as PostgreSQL's
// follows flushPtr.
type Feedback struct {
	Host    storage.HostID
	Slot    string
	Applied storage.LSN
	ReadMin storage.LSN
}

func (f Feedback) String() string {
	return fmt.Sprintf("feedback(%s applied=%v read_min=%v)", f.Slot, f.Applied, f.ReadMin)
}

// Wake is a timer or a poke: re-check whatever the process waits for.
type Wake struct{ Why string }

func (w Wake) String() string { return "wake(" + w.Why + ")" }
