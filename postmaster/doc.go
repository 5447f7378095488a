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
// polar_* remount) and src/backend/storage/file/polar_fd.c.
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
// promoted replica reloads it; shmem.Node.FlushGate ignores it. After an
// online promote the walreceiver reconnects to the new primary at the end of
// its WAL (same timeline); the first record's prev link is checked against
// its last one. pg_ctl promote on a standby is refused (ErrStandbyPromote).
//
// Coverage marks: postmaster/standby-wal-received,
// postmaster/standby-write-page.
package postmaster
