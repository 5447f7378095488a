package postmaster

import (
	"fmt"

	"promotesim/logindex"
	"promotesim/storage"
)

// Write is one change a client asked for: slot of page gets value.
type Write struct {
	Page  int // page number within the workload relation
	Slot  uint8
	Value uint64
	// Init: the page is reused (a freed hash overflow page taken again, a
	// relation extended): the backend reads it with RBM_ZERO_AND_LOCK,
	// skipping any LogIndex replay, and logs a record whose block carries
	// BKPBLOCK_WILL_INIT (logindex.RecInitPage) setting Slot to Value on an
	// empty page.
	Init bool
	// Free: the page is freed (hash squeeze, _hash_freeovflpage): an
	// ordinary record empties every slot. Slot and Value are ignored and a
	// free is not a write readers must see.
	Free bool
}

// Ack is an acknowledged commit: the client was told its transaction
// committed, so every later reader must see it (docs/model.md §10 durability).
type Ack struct {
	XID       logindex.XID
	Node      storage.HostID
	CommitEnd storage.LSN
	Step      uint64
	Writes    []Write
}

// ReadResult is what a client read: the page as the node served it, the
// position it was served at (a replica's replay position, or the primary's
// insert position), and which slots were visible under that node's clog.
type ReadResult struct {
	Node    storage.HostID
	Page    storage.PageID
	Content storage.Page
	At      storage.LSN
	Primary bool
	Visible [storage.PageSlots]bool
	// Began is the step the read started at: reads on a read-write primary
	// must reflect every commit acknowledged before it.
	Began uint64
	Step  uint64
}

// ClientError is a request a node refused or failed (connection refused,
// read-only transaction, an ERROR).
type ClientError struct {
	Node storage.HostID
	What string
	Err  string
	Step uint64
}

func (e ClientError) String() string { return fmt.Sprintf("%v %s: %s", e.Node, e.What, e.Err) }

// Journal is what the clients of a run observed. Checkers and scenario
// assertions read it; processes only append to it.
type Journal struct {
	Acks   []Ack
	Reads  []ReadResult
	Errors []ClientError
	// FuturePages are replica reads refused because storage held a page
	// from the replica's future (ErrFuturePage).
	FuturePages []FuturePage
	// TwoPhase are the acknowledged PREPARE, COMMIT PREPARED and ROLLBACK
	// PREPARED steps, in order (an acknowledged COMMIT PREPARED is also an
	// Ack).
	TwoPhase []TwoPhaseEvent
	// LogicalSlots are the logical slot positions clients were told
	// (postmaster/logical.go).
	LogicalSlots []LogicalSlotAck
}

// FuturePage is one refused replica read: which node, which page, the
// page's LSN on storage and the replica's replay position.
type FuturePage struct {
	Node     storage.HostID
	Page     storage.PageID
	LSN      storage.LSN
	Replayed storage.LSN
	Step     uint64
}

// ValueXID is the transaction that wrote a slot value: values are
// xid<<32 | sequence, so a reader can check the writer's commit status.
func ValueXID(v uint64) logindex.XID { return logindex.XID(v >> 32) }

// MakeValue builds the value transaction xid writes as its seq-th change.
func MakeValue(xid logindex.XID, seq uint32) uint64 { return uint64(xid)<<32 | uint64(seq) }
