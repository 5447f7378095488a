// Package demo holds the narrated teaching demos: the switchover
// walkthrough, the refused promote without LogIndex, and "foundation",
// which shows the kernel, the shared device, the buffer pool and LogIndex
// on their own. Each demo replays script commands (or, for foundation, its
// own small actors) and prints their trace.
//
// The switchover follows PolarDB's documented procedure: pg_ctl stop of the
// primary, pg_ctl promote of a replica, the old primary rebuilt as a
// replica (src/bin/pg_ctl/pg_ctl.c, src/backend/postmaster/postmaster.c).
package demo
