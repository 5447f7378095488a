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
// Status: built with the protocol (issue 3); this package currently holds
// only this description.
package postmaster
