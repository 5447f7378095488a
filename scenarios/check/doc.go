// Package check holds the claim catalogue and the checkers that judge
// every step of a cluster against it. The catalogue (claims.go) is the one
// list of what is checked: it registers the per-step checkers in order, and
// the README's table and `check all` are tested against it.
//
// Checkers only observe: they read the device through the oracle's
// read-only mount, the nodes' shared memory and the clients' journal, and
// change nothing a process can see (the model does, the checkers judge).
// Per-step checkers are incremental and run as one group that skips a step
// when nothing they watch changed (watch.go); Full runs the whole-state
// checks (offline crash recovery, acknowledged writes visible) at crash
// points and phase ends. Files by claim group: writers.go (SingleWriter,
// ReplicaWritesNothing, NoWALBelowOldEnd), durability.go (CommitDurable,
// FlushListOrdered, ConsistentLSN*, CheckpointRedo), bgw.go (the BGW's
// state machine of src/backend/access/logindex/polar_logindex_redo.c),
// reads.go (reads against the oracle), exits.go (NoUnexpectedExit),
// full.go and recovery.go (the whole-state claims), reuse.go
// (ReusedPageFresh: reused pages, logindex.RecInitPage).
package check
