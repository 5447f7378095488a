// Package postmaster models a node: its postmaster (signals, child process
// lifecycle, connection state, the promote orchestration of
// polar_promote/“online promote”), its auxiliary processes (bgwriter,
// checkpointer, walwriter, walsender/walreceiver, polar worker) and client
// backends.
//
// Postmaster promote order (PolarDB 15): stop accepting connections, SIGTERM
// every backend and wait, remount shared storage read-write by force, SIGUSR2
// to startup, polar worker and BGW, open read-write service when startup exits.
//
// Mirrors src/backend/postmaster/postmaster.c (sigusr1_handler's promote path,
// polar_* remount) and src/backend/storage/file/polar_fd.c. Backends also
// run two-phase commit (twophase.go, after src/backend/access/transam/twophase.c:
// PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED; the checkpointer's
// CheckPointTwoPhase) and the logical-slot functions (logical.go, after
// src/backend/replication/logical/logicalfuncs.c and slot.c).
//
// # Replica feedback: the flush gate and LogIndex retention
//
// A replica's walreceiver replies with two positions (walreceiver.c
// XLogWalRcvSendReply), which the primary's walsender keeps in the replica's
// slot (walsender.c ProcessStandbyReplyMessage):
//
//	applyPtr         replay position    -> slot apply LSN (polar_record_replica_lsn)
//	                                       = flush gate: no page beyond the oldest
//	                                         is written (shmem.Node.FlushGate)
//	bg_replayed_lsn  polar_get_read_min_lsn: min(consistent LSN as learned,
//	                 reads' published starts, replay position, BGW replay point)
//	                                    -> slot restart LSN
//	                                       = LogIndex truncation bound, with the
//	                                         redo (shmem.Node.RetainLSN)
//
// So the primary writes pages up to a replica's replay position even while
// its BGW lags; the BGW then evicts pooled copies storage already has
// instead of replaying them, and still finds in LogIndex what it replays.
// A fast shutdown's checkpoint gates only on connected replicas (PolarDB's
// 050_shutdown_disconnected_replica.pl): a replica that is disconnected but
// still serving can then find a page from its future on storage. Its read
// refuses it: the backend exits FATAL (polar_is_future_page, ErrFuturePage)
// and the client gets the error; no page is served, none is cached.
//
// # Standby (standby.go)
//
// A standby (RoleStandby, started with BootStandby) is a node with its OWN
// storage. BaseBackup copies the primary's data directory to its private
// device (one operator step, read through the primary's mount: the standby
// never mounts the shared device). Its processes: startup in
// startup.ModeStandby, the BGW with its parallel replay workers, a
// walreceiver that asks the primary's postmaster for whole records
// (Connect.Full: the walsender ships walData instead of WAL meta), writes and
// syncs each to its own pg_wal and feeds back the flushed position, and a
// bgwriter that writes dirty pages to its own disk. No polar worker (no WAL
// meta queue), no checkpointer (restartpoints are not modelled), no walwriter.
// Its slot (standby<k>) lives on shared storage like a replica's, so a
// promoted replica reloads it; the flush gate and the LogIndex truncation
// bound ignore it (shmem.Node.FlushGate, RetainLSN). After an
// online promote the walreceiver reconnects to the new primary at the end of
// its WAL (same timeline); the first record's prev link is checked against
// its last one. pg_ctl promote on a standby takes PolarDB 15's path for it
// (POLAR_LOGINDEX_ENABLE_ONLINE_PROMOTE() is false off a replica): SIGUSR2
// to startup alone (promoteStandby), no backend terminated, no remount;
// startup stops the walreceiver (Node.StopWALReceiver), and once it exits
// the node serves read-write on its own disk: its bgwriter runs a primary's
// rounds, a checkpointer and walwriter start. Net.primary never names a
// node on its own storage (OwnStorage): nothing of this cluster follows it.
//
// Faithful switches (shmem.Fidelity, issue 10) consulted here:
// RestartAfterCrash (HandleChildCrash and the crash reinitialisation, on the
// same mount), PromoteOneShot (received_promote), ForceCheckpointAfterPromote
// (the BGW's CHECKPOINT_FORCE is not incremental), ControlWindowSteps (the
// bgwriter takes the primary's path once the node type is primary and
// publishes nothing while a primary is in recovery), and
// PromoteReplayFromConsistent (backends replay from Max(consistent LSN,
// bg_replayed_lsn) for pages read from storage).
//
// reuse.go: writes that free a page or reuse it through RBM_ZERO_AND_LOCK
// (bufmgr.c ReadBuffer_common, polar_require_backend_redo). walwrite.go:
// the walwriter's separate write and fsync (XLogBackgroundFlush) and the
// aborted-contrecord bytes of a standby's stream.
//
// Coverage marks: postmaster/standby-wal-received,
// postmaster/standby-write-page, postmaster/standby-promote,
// postmaster/future-page (a replica read refused a future page),
// postmaster/page-reuse-during-online-promote,
// postmaster/wal-write-partial, postmaster/die-during-replica-read (a
// SIGTERM reached a session still reading a page in on a replica).
package postmaster
