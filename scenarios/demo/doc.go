// Package demo holds the narrated teaching demos: the switchover
// walkthrough, the refused promote without LogIndex, and "foundation",
// which shows the kernel, the shared device, the buffer pool and LogIndex
// on their own. Each demo replays script commands (or, for foundation, its
// own small actors) and prints their trace.
//
// The switchover (switchover.go) follows the seed's walkthrough step by
// step: a primary, a replica and a standby (slots replica1, standby1); pg_ctl
// stop -m fast of the primary; pg_ctl promote of the replica;
// pg_replication_slots with both slots; the old primary rebuilt as a
// replica through replica1 (local directory from shared storage, config
// with primary_slot_name, replica.signal, start) and streaming in the new
// primary's pg_stat_replication; the switchover again and the turn back
// with replica.signal + start (src/bin/pg_ctl/pg_ctl.c,
// src/backend/postmaster/postmaster.c). The refusal a replica without
// LogIndex meets, naming the three settings, is the demo logindex-off.
// Its text is pinned in testdata/switchover.golden (go test -run Golden
// -update).
package demo
