// Package check holds the claim catalogue and the checkers that judge
// every step of a cluster against it. The catalogue (claims.go) is the one
// list of what is checked: it registers the per-step checkers in order, and
// the README's table and `check all` are tested against it.
//
// Checkers only observe: they read the device through the oracle's
// read-only mount, the nodes' shared memory and the clients' journal, and
// change nothing a process can see (the model does, the checkers judge).
// Per-step checkers are incremental, and the group runs after a step only
// the claims that read a group of watched values the step moved (watch.go:
// claimWatch names each claim's groups; a node whose shared-memory wake
// condition no step touched, sim.Scheduler.Touches, is not even compared;
// TestCheckerWatchIsInvisible runs every skipped claim anyway and requires
// it to find nothing and keep its memory); Full runs the whole-state
// checks (offline crash recovery, acknowledged writes visible) at crash
// points and phase ends. Files by claim group: writers.go (SingleWriter,
// ReplicaWritesNothing, NoWALBelowOldEnd), durability.go (CommitDurable,
// FlushListOrdered, ConsistentLSN*, CheckpointRedo), bgw.go (the BGW's
// state machine of src/backend/access/logindex/polar_logindex_redo.c),
// reads.go (reads against the oracle), exits.go (NoUnexpectedExit),
// full.go and recovery.go (the whole-state claims), standby.go (a node on
// its own disk: WALRetained per step, PromotedStandbyRecovers at Full; a
// promoted standby's acknowledged commits belong to its disk's history, so
// the shared-storage claims skip them); the claims new with
// the rule audit are in writers.go (WALBeforeData, StoredPageNeverGoesBack,
// NoFuturePageWritten),
// logindex.go, promote.go (ReplicaClogReplayed, the role switch's, and
// the promote's order: NoBackendAtRemount, PromoteReplayStart),
// redo.go (BuffersMatchOracle) and durability.go
// (NoCheckpointInWaitingReset); twophase.go (PreparedSurvives,
// TwoPhaseDecidedOnce, PreparedInvisible: prepared transactions as
// src/backend/access/transam/twophase.c keeps them), logical.go
// (LogicalSlotsSurvive) and reuse.go (ReusedPageFresh, at Full: reused
// pages, logindex.RecInitPage).
//
// # Rules, claims and the step they fire in
//
// Every rule docs/model.md states has a per-step claim that fires in the
// very step the rule is broken. TestRulesFireInTheirStep (rules_test.go)
// breaks each rule once, by a test actor (a saboteur making the wrong
// write, transition or acknowledgement as its one step) or by a hazard
// whose wrong step is known (the role switch of clog-not-copied and
// slots-not-reloaded), and requires the violation's step to be that step;
// TestRuleTableIsDocumented holds this table to the test's rows and
// requires a row for every per-step claim. Columns: section of
// docs/model.md, rule, claim, row of TestRulesFireInTheirStep.
//
//	§3  one writer at a time (no displaced writer writes)    SingleWriter                single-writer
//	§5  a replica never dirties a buffer                     ReplicaWritesNothing        replica-dirties
//	§5  a replica writes no data page (also mid-promote)     ReplicaWritesNothing        replica-writes-page
//	§5  WAL before data                                      WALBeforeData               wal-before-data
//	§2  a stored page only moves forward (idempotent redo)   StoredPageNeverGoesBack     page-rewound
//	§2  only recovery rewinds a page (to a reuse's init)     StoredPageNeverGoesBack     reused-page-rewound
//	§5  flush gate: no future page for a replica             NoFuturePageWritten         flush-gate
//	§4  only a writable snapshot saves LogIndex              LogIndexSavedAfterWAL       logindex-by-replica
//	§4  a table is saved only once its WAL is durable        LogIndexSavedAfterWAL       logindex-before-wal
//	§4  LogIndex meta only moves forward                     LogIndexMetaMonotone        logindex-meta-back
//	§7  no WAL below the old end of valid WAL                NoWALBelowOldEnd            wal-overwritten
//	§4  no WAL segment removed while still needed            WALRetained                 wal-segment-removed
//	§2  a commit is acknowledged only when durable           CommitDurable               ack-not-durable
//	§5  flush list in oldest-LSN order                       FlushListOrdered            flush-list-order
//	§5  consistent LSN published only forward                ConsistentLSNMonotone       consistent-back
//	§5  every change below the consistent LSN is on storage  ConsistentLSNDurable        consistent-not-durable
//	§5  checkpoint redo at or below the consistent LSN       CheckpointRedo              checkpoint-redo-ahead
//	§5  checkpoint redo never moves back                     CheckpointRedo              checkpoint-redo-back
//	§5  no checkpoint in WAITING_RESET                       NoCheckpointInWaitingReset  checkpoint-in-waiting-reset
//	§6  BGW moves only along the table                       BGWLegalTransitions         bgw-illegal-move
//	§6  replay point moves back only at the reset            ReplayPointMonotone         replay-point-back
//	§6  fake oldest LSN never decreases                      FakeOldestMonotone          fake-oldest-back
//	§4  a replica replays commits into its clog              ReplicaClogReplayed         replica-clog-skipped
//	§7  clog copied to shared storage at promote             ClogCopiedAtPromote         clog-not-copied
//	§7  slots reloaded from shared storage at promote        SlotsReloadedAtPromote      slots-not-reloaded
//	§7  no session left at the promote's remount (V15)       NoBackendAtRemount          backend-at-remount
//	§7  ONLINE_PROMOTE replays from the control file's redo  PromoteReplayStart          promote-replay-start
//	§2  redo applies every record up to a page's LSN         BuffersMatchOracle          wrong-redo
//	§2  a replica read equals the oracle                     ReplicaReadsMatchOracle     replica-read-wrong
//	§2  a primary read reflects acknowledged commits         ReadsReflectAcked           primary-read-stale
//	§5  no unexpected PANIC (here issue #487's)              NoUnexpectedExit            unexpected-panic
//	§2  a prepared transaction stays prepared until decided  PreparedSurvives            prepared-lost
//	§2  a prepared transaction is decided at most once       TwoPhaseDecidedOnce         decided-twice
//	§2  no read sees a prepared, undecided row               PreparedInvisible           prepared-visible
//	§7  logical slots keep their acknowledged positions      LogicalSlotsSurvive         logical-slot-behind
//
// Two rows break their rule behind the pool's back (an oldest LSN written
// into a buffer: the pool itself refuses an out-of-order append), which
// the watch cannot see, so they run with it off. The whole-state claims
// (CrashRecovers, AckedVisible) stay the second net at crash points and
// phase ends: they judge what the per-step claims let through.
//
// Each claim counts its non-vacuous checks, those whose precondition held
// and that compared something (Checks.Exercised: "sometimes" marks); the
// explorer's summary lists the claims no world of a run exercised.
package check
