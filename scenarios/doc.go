// Package scenarios holds the end-to-end tests of the whole model and their
// testdata (golden scripts, hazard canaries, counterexamples, and the
// findings of docs/findings.md: PolarDB's own bugs in profile v15, each
// holding in v15-fixed); its subpackages build and judge the worlds. Imports run one way:
//
//	hazard   the catalogue of wrong orderings
//	findings a failing world's violation sorted into docs/findings.md's
//	         findings by its trace's signature   (imports no scenarios package)
//	cluster  Options resolved into per-node configs, Cluster, operator
//	         procedures, ModelVersion                    (imports hazard)
//	oracle   what must be true, from the WAL on storage; offline crash
//	         recovery                                    (imports cluster)
//	check    the claim catalogue and its checkers        (imports oracle)
//	script   the command language and its Runner         (imports check)
//	order    the ordering study: the promote steps as data,
//	         variants, the report (docs/orderings.md)    (imports check)
//	swarm    seeded worlds: derivation, planner, outcome (imports script)
//	explore  explorer, shrinker, counterexample files, exhaustive check:
//	         the only package with goroutines, os and time (imports swarm)
//	demo     the narrated demos                          (imports script)
//	view     the step-through viewer: capture, forks, the page,
//	         Mermaid                            (imports explore, demo)
//	view/serve  the viewer's HTTP handler: net/http and a lock, so
//	         exempt from the determinism lint     (imports view)
//	crashpoint  the crash-point sweep of the promote window: view's
//	         forks, crashed, recovered, checked   (imports view)
//
// internal/fixture holds the test helpers the packages share. Nothing
// imports scenarios; cmd/promotesim imports the subpackages.
//
// The claims the checkers own are listed by check.Claims (SingleWriter,
// ReplicaWritesNothing, WALBeforeData, StoredPageNeverGoesBack,
// NoFuturePageWritten, LogIndexSavedAfterWAL, LogIndexMetaMonotone,
// NoWALBelowOldEnd, CommitDurable, FlushListOrdered, ConsistentLSNMonotone,
// ConsistentLSNDurable, NoCheckpointInWaitingReset, CheckpointRedo,
// BGWLegalTransitions, ReplayPointMonotone, FakeOldestMonotone,
// ReplicaClogReplayed, ClogCopiedAtPromote, SlotsReloadedAtPromote,
// BuffersMatchOracle, ReplicaReadsMatchOracle, ReadsReflectAcked,
// PreparedSurvives, TwoPhaseDecidedOnce, PreparedInvisible,
// LogicalSlotsSurvive, NoUnexpectedExit, WALRetained, CrashRecovers, AckedVisible,
// PromotedStandbyRecovers, ReusedPageFresh), and the liveness claims by the script package
// (PromoteCompletes, PrimaryServes, BGWReturnsToNotStart, ReplicasCatchUp,
// ConsistentLSNCatchesUp).
package scenarios
