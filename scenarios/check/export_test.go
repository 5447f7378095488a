package check

import (
	"slices"

	"promotesim/logindex"
	"promotesim/scenarios/oracle"
	"promotesim/shmem"
	"promotesim/storage"
)

// Test knobs of the per-step checkers' watch, for the external tests.

// SetWatchOff makes the group run every checker after every step.
func SetWatchOff(k *Checks) { k.watchOff = true }

// OnSkip sets f to be called on every step the watch skips.
func OnSkip(k *Checks, f func()) { k.onSkip = f }

// RunPerStep runs every per-step checker once, as an unskipped step does.
func RunPerStep(k *Checks) error {
	_, err := k.runPerStep()
	return err
}

// ExitsOf is the process exits k recorded of node instance n.
func ExitsOf(k *Checks, n *shmem.Node) []shmem.ChildExit { return k.exits.Of(n) }

// StepNo is the step of k's cluster.
func StepNo(k *Checks) uint64 { return k.c.S.StepNo() }

// Memory is the checkers' and the oracle's memory that decides what later
// steps report (scratch buffers left out).
type Memory struct {
	sw, rw, ckpt, durW                uint64
	swMax                             storage.Epoch
	swSt, lostSeen, cutSeen, acksSeen int
	durWriter                         *shmem.Node
	durCovered                        storage.LSN
	durGen                            int
	durRead, durHave                  bool
	redoKnown                         bool
	redo                              storage.LSN
	ckptSeen, ckptCuts                int
	ctlDirty                          bool
	ctlBy                             storage.HostID
	replicaSeen, primarySeen, pending int
	ackSteps                          int
	hosts                             []hostSeen
	oracle                            oracle.Memory
	// the rule audit's claims
	walW, futW, liW, lmW, wrW uint64
	lmeta                     logindex.SavedMeta
	lmetaKnown                bool
	lmetaBy                   storage.HostID
	wrSeen, wrCuts            int
	wasReplica, wasReplicaSl  []incarnation
	clogSeen                  []clogSeen
	pools                     []poolSeen
	backW                     uint64
	stored                    []storage.LSN
}

// MemoryOf returns k's memory now.
func MemoryOf(k *Checks) Memory {
	return Memory{
		sw: k.sw.seen, rw: k.rw.seen, ckpt: k.ckpt.seen, durW: k.durW.seen,
		swMax: k.swMax, swSt: k.swSt, lostSeen: k.lostSeen, cutSeen: k.cutSeen, acksSeen: k.acksSeen,
		durWriter: k.dur.writer, durCovered: k.dur.covered, durGen: k.dur.gen, durRead: k.dur.read, durHave: k.dur.have,
		redoKnown: k.redoKnown, redo: k.redo, ckptSeen: k.ckptSeen, ckptCuts: k.ckptCuts, ctlDirty: k.ctlDirty, ctlBy: k.ctlBy,
		replicaSeen: k.replicaSeen, primarySeen: k.primarySeen, pending: len(k.pending), ackSteps: len(k.ackSteps),
		hosts: slices.Clone(k.hosts), oracle: k.O.Memory(),
		walW: k.walW.seen, futW: k.futW.seen, liW: k.liW.seen, lmW: k.lmW.seen, wrW: k.wrW.seen,
		lmeta: k.lmeta, lmetaKnown: k.lmetaKnown, lmetaBy: k.lmetaBy, wrSeen: k.wrSeen, wrCuts: k.wrCuts,
		wasReplica: slices.Clone(k.wasReplica), wasReplicaSl: slices.Clone(k.wasReplicaSl), clogSeen: slices.Clone(k.clogSeen),
		pools: clonePools(k.pools), backW: k.backW.seen, stored: slices.Clone(k.stored),
	}
}

// ClaimIDs are the claims' counter indexes by name (TestClaimsCatalogue
// holds them to the catalogue's order).
var ClaimIDs = map[string]int{
	"SingleWriter": cSingleWriter, "ReplicaWritesNothing": cReplicaWritesNothing, "WALBeforeData": cWALBeforeData,
	"StoredPageNeverGoesBack": cStoredPageNeverGoesBack, "NoFuturePageWritten": cNoFuturePageWritten, "LogIndexSavedAfterWAL": cLogIndexSavedAfterWAL,
	"LogIndexMetaMonotone": cLogIndexMetaMonotone, "NoWALBelowOldEnd": cNoWALBelowOldEnd, "CommitDurable": cCommitDurable,
	"FlushListOrdered": cFlushListOrdered, "ConsistentLSNMonotone": cConsistentLSNMonotone,
	"ConsistentLSNDurable": cConsistentLSNDurable, "CheckpointRedo": cCheckpointRedo,
	"NoCheckpointInWaitingReset": cNoCheckpointInWaitingReset, "BGWLegalTransitions": cBGWLegalTransitions,
	"ReplayPointMonotone": cReplayPointMonotone, "FakeOldestMonotone": cFakeOldestMonotone,
	"ReplicaClogReplayed": cReplicaClogReplayed, "ClogCopiedAtPromote": cClogCopiedAtPromote, "SlotsReloadedAtPromote": cSlotsReloadedAtPromote,
	"BuffersMatchOracle": cBuffersMatchOracle, "ReplicaReadsMatchOracle": cReplicaReadsMatchOracle, "ReadsReflectAcked": cReadsReflectAcked,
	"NoUnexpectedExit": cNoUnexpectedExit, "CrashRecovers": cCrashRecovers, "AckedVisible": cAckedVisible,
	"WALRetained": cWALRetained, "PromotedStandbyRecovers": cPromotedStandbyRecovers,
	"PreparedSurvives": cPreparedSurvives, "TwoPhaseDecidedOnce": cTwoPhaseDecidedOnce,
	"LogicalSlotsSurvive": cLogicalSlotsSurvive, "PreparedInvisible": cPreparedInvisible,
	"ReusedPageFresh": cReusedPageFresh,
}

// NClaims is the number of claim counters.
const NClaims = nClaims

func clonePools(ps []poolSeen) []poolSeen {
	out := slices.Clone(ps)
	for i := range out {
		out[i].frames = slices.Clone(out[i].frames)
	}
	return out
}
