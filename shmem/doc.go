// Package shmem is one node's shared memory and local directory: what the
// processes of a node (postmaster, startup, BGW, bgwriter, checkpointer,
// walsender/walreceiver, backends) share inside their atomic steps. It sits
// between logindex and {bgw, startup, postmaster}, because all of them need
// it and none may import postmaster.
//
// It holds the node's mount, buffer pool and flush list, WAL writer,
// LogIndex and WAL meta queue (Node); the BGW's shared state with its
// asserted transitions (BGW, the state diagram is in package bgw); the
// control file and its local copy (Control); the clog (Clog); prepared
// transactions and their state files in pg_twophase/ (TwoPhase, GXact:
// twophase.c's TwoPhaseState); replication slots (Slot, persisted in
// pg_replslot/<name>/state) and logical slots (LogicalSlot); the configuration
// and the Orderings flags that select a profile's or a hazard's protocol
// (Config), with the startup's promote steps by name and their order as a
// Sequence (sequence.go, the ordering study's variants) and the faithful
// switches that put one corrected point of a fixed profile back as
// PolarDB's code does it (faithful.go); the signals and
// messages processes exchange (signal.go); and the reports they make for
// observers (report.go: exits, page writes, consistent LSN regressions),
// which no Node keeps: a checker or test that needs a history keeps it
// (ExitLog).
//
// # Slots: the flush gate and LogIndex retention
//
// A replica's slot keeps two positions from its standby replies:
//
//	Apply   (polar_replica_apply_lsn)  its replay position
//	Restart (restart_lsn)              polar_get_read_min_lsn: the oldest LSN it
//	                                   may still need WAL and LogIndex from
//	                                   (BGW replay point, reads under way,
//	                                   the primary's consistent LSN it learned)
//
// Invariants this package owns:
//   - Node.FlushGate is the oldest Apply: the primary writes no page beyond
//     it (Writable, CanWrite, Buffer's victim), so no connected replica
//     reads a future page. A shutdown checkpoint and a primary's crash
//     recovery skip inactive slots; standby slots never count.
//   - Node.RetainLSN is the oldest Restart of every replica slot, active or
//     not: the checkpointer truncates LogIndex no further than it (and the
//     redo), so a lagging BGW or a read under way finds its entries.
//   - Restart <= Apply for a replica slot, both only move forward, and both
//     persist at checkpoints.
//
// Config.Fidelity (issue 10) holds the switches that make a node do what
// PolarDB 15's code does where the model was stricter; its zero value is the
// "fixed" model and the default for now, FaithfulV15 turns them all on. The
// BGW state under Fidelity.UncheckedBGWState is written with plain stores
// (NewUncheckedBGW, WakeupBGReplay), so the checkers, not an assertion,
// judge its transitions. Node.Reinit is the postmaster's crash
// reinitialisation (Node.Reinits counts them for checkers).
//
// Mirrors src/include/storage/buf_internals.h and polar_bufmgr.c (flush list,
// polar_buffer_can_be_flushed), src/include/replication/slot.h
// (ReplicationSlotPersistentData with polar_replica_apply_lsn), walsender.c
// ProcessStandbyReplyMessage, and polar_logindex_redo.c's bg_redo_state.
package shmem
