// Package startup models a replica's startup process: consuming the WAL meta
// queue, indexing page records into LogIndex, replaying commit and abort
// records into the local clog cache, and the online promote sequence of
// PolarDB 15 (read the WAL tail from storage, restartpoint, wait for the BGW
// in POLAR_BG_WAITING_RESET, end of WAL on the same timeline, copy clog,
// reload slots, reset the queue, end-of-recovery record, the control-file
// sequence with the BGW reset before recovery is marked done).
//
// Mirrors src/backend/access/transam/xlog.c (StartupXLOG and its polar_*
// hooks) and src/backend/access/logindex/polar_logindex_redo.c.
//
// Status: built with the protocol (issue 3); this package currently holds
// only this description.
package startup
