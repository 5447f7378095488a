// Package bgw models the LogIndex background worker (BGW) of a PolarDB node
// and its parallel replay workers: the state machine that replays pages in the
// background on a replica and replays the old primary's remaining WAL during
// online promote.
//
// States (exact PolarDB 15 names; V11 calls REPLICA_BUF_REPLAYING
// RO_BUF_REPLAYING):
//
//	                      startup at hot standby
//	POLAR_BG_REDO_NOT_START ------------------> POLAR_BG_REPLICA_BUF_REPLAYING
//	   |  ^                                        |
//	   |  | all dispatched and finished,           | SIGUSR2 (promote):
//	   |  | no backend replaying: checkpoint       | LogIndex writable,
//	   |  |                                        v replay control released
//	   |  +---- POLAR_BG_ONLINE_PROMOTE <---- POLAR_BG_WAITING_RESET
//	   |                                startup resets replay point
//	   v  prewarm / standby
//	POLAR_BG_PARALLEL_REPLAYING --SIGUSR2--> POLAR_BG_WAITING_RESET
//
// Mirrors src/backend/access/logindex/polar_logindex_redo.c
// (polar_logindex_redo_bg_replay, polar_bg_redo_state_*,
// polar_reset_bg_replayed_lsn) and the parallel replay dispatcher in
// src/backend/postmaster/polar_parallel_bgwriter.c / polar_logindex_bg_worker.c.
//
// Status: the state machine is built with the protocol (issue 3); this
// package currently holds only this description.
package bgw
