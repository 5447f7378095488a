package postmaster

import (
	"fmt"

	"promotesim/sim"
	"promotesim/storage"
)

// Txn asks a backend to run one write transaction: the writes, then commit
// (or abort).
type Txn struct {
	Writes []Write
	Abort  bool
	// GID, if set, ends the transaction with PREPARE TRANSACTION 'GID'
	// instead of a commit (postmaster/twophase.go).
	GID string
}

func (t Txn) String() string {
	if t.GID != "" {
		return fmt.Sprintf("txn(%d writes, prepare %s)", len(t.Writes), t.GID)
	}
	return fmt.Sprintf("txn(%d writes, abort=%v)", len(t.Writes), t.Abort)
}

// Read asks a backend to read one page.
type Read struct{ Page int }

func (r Read) String() string { return fmt.Sprintf("read(page %d)", r.Page) }

// Connect is a walreceiver's connection request to a primary's postmaster:
// start a walsender streaming from Start to Receiver for slot Slot.
type Connect struct {
	From     storage.HostID
	Slot     string
	Receiver sim.ActorID
	Start    storage.LSN
	// Full asks for whole WAL records (a standby writes them to its own
	// pg_wal); a replica on shared storage gets WAL meta only.
	Full bool
}

func (c Connect) String() string {
	return fmt.Sprintf("connect(%v slot=%s start=%v)", c.From, c.Slot, c.Start)
}

// Shutdown is pg_ctl stop: fast (flush and shutdown checkpoint) or immediate.
type Shutdown struct{ Immediate bool }

func (s Shutdown) String() string {
	if s.Immediate {
		return "pg_ctl stop -m immediate"
	}
	return "pg_ctl stop -m fast"
}
