package check

import (
	"reflect"
	"slices"
	"testing"
	"unsafe"

	"promotesim/logindex"
	"promotesim/scenarios/oracle"
	"promotesim/shmem"
	"promotesim/storage"
)

// Test knobs of the per-step checkers' watch, for the external tests.

// SetWatchOff makes the group run every checker after every step.
func SetWatchOff(k *Checks) { k.watchOff = true }

// OnSkip sets f to be called with the index of every per-step checker a
// step skips (-1: the step skips them all).
func OnSkip(k *Checks, f func(int)) { k.onSkip = f }

// VerifyTouches makes the watch compare the nodes whose shared memory no
// step touched, and WatchErr is the first of them whose values moved.
func VerifyTouches(k *Checks)  { k.verifyTouches = true }
func WatchErr(k *Checks) error { return k.watchErr }

// SameNodeMisses names the fields of nodeWatched whose change sameNode
// does not see: for each live node's watched values now, every field but
// the wake condition and its touch count is changed in turn.
func SameNodeMisses(k *Checks) []string {
	var miss []string
	for i, n := range k.c.AllNodes() {
		if n == nil {
			continue
		}
		m, _ := k.c.Dev.Mounted(storage.HostID(i + 1))
		base := k.nodeNow(n, m)
		if !k.sameNode(&base, n, m) {
			return []string{"(the values now)"}
		}
		t := reflect.TypeOf(base)
		for j := 0; j < t.NumField(); j++ {
			if name := t.Field(j).Name; name != "cond" && name != "touches" {
				p := base
				f := reflect.ValueOf(&p).Elem().Field(j)
				changeField(reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem())
				if k.sameNode(&p, n, m) {
					miss = append(miss, name)
				}
			}
		}
	}
	return miss
}

// changeField gives f another value of its type.
func changeField(f reflect.Value) {
	switch f.Kind() {
	case reflect.Bool:
		f.SetBool(!f.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f.SetInt(f.Int() + 1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		f.SetUint(f.Uint() + 1)
	case reflect.Pointer:
		f.Set(reflect.New(f.Type().Elem())) // a fresh pointer equals no other
	default:
		panic("changeField: no change for a " + f.Kind().String())
	}
}

// RunOne runs per-step checker i once.
func RunOne(k *Checks, i int) error { return perStepChecks[i].step(k) }

// PerStepName is per-step checker i's claim.
func PerStepName(i int) string { return perStepChecks[i].Name }

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
	promote                   []promoteSeen
	pools                     []poolSeen
	backW                     uint64
	stored                    []storage.LSN
	// two-phase and logical-slot claims, the sync-failure flags, the
	// accepted rewinds
	tp                             twoPhaseSeen
	lg                             logicalSeen
	metaSyncFailed, dataSyncFailed bool
	rewinds                        uint64
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
		promote: slices.Clone(k.promote),
		pools:   clonePools(k.pools), backW: k.backW.seen, stored: slices.Clone(k.stored),
		tp: k.tp, lg: k.lg, metaSyncFailed: k.metaSyncFailed, dataSyncFailed: k.dataSyncFailed, rewinds: k.rewinds,
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
	"NoBackendAtRemount": cNoBackendAtRemount, "PromoteReplayStart": cPromoteReplayStart,
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

// memoryLeftOut are the Checks fields MemoryOf does not compare, and why.
// Every other field is memory MemoryOf must copy (memoryOf lists them).
var memoryLeftOut = map[string]string{ // looked up only
	"c": "the cluster watched", "O": "compared through Oracle.Memory", "Off": "a switch, not memory",
	"ackMaxEnd": "appended with ackSteps (compared by length)", "ackByXID": "filled with ackSteps",
	"exempt": "kept by the PageWritten reports, which arrive inside every step, skipped or not",
	"exits":  "kept by the exit reports, inside every step", "regressions": "kept by the regression reports, inside every step",
	"ids": "scratch", "pgs": "scratch", "relPath": "scratch", "blk": "scratch", "metaBuf": "scratch",
	"exercised": "counts for the summary, decides no verdict", "watch": "the watch itself", "lastOK": "the watch itself",
	"watchOff": "test knob", "onSkip": "test knob", "verifyTouches": "test knob", "watchErr": "test knob's finding",
}

// memoryOf are the Checks fields MemoryOf copies (as a field of Memory or
// of one of its parts).
var memoryOf = []string{"sw", "rw", "ckpt", "durW", "swMax", "swSt", "hosts", "metaSyncFailed", "lostSeen", "cutSeen",
	"acksSeen", "dur", "tp", "lg", "redoKnown", "redo", "ckptSeen", "ckptCuts", "ctlDirty", "ctlBy", "replicaSeen",
	"primarySeen", "pending", "ackSteps", "walW", "futW", "liW", "lmW", "wrW", "lmetaBy", "lmeta", "lmetaKnown", "wrSeen",
	"wrCuts", "wasReplica", "wasReplicaSl", "clogSeen", "promote", "pools", "backW", "stored", "rewinds", "dataSyncFailed"}

// TestMemoryOfCoversEveryField guards the watch's test (TestCheckerWatchIsInvisible in
// checks_test.go compares MemoryOf before and after a skipped step): a
// field added to Checks must be either copied by MemoryOf or listed as
// left out with its reason, or a checker whose memory moves on a skipped
// step would pass that test unseen.
func TestMemoryOfCoversEveryField(t *testing.T) {
	covered := map[string]bool{}
	for _, f := range memoryOf {
		covered[f] = true
	}
	typ := reflect.TypeFor[Checks]()
	seen := map[string]bool{}
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		seen[name] = true
		_, out := memoryLeftOut[name]
		if covered[name] == out {
			t.Errorf("Checks.%s: copied by MemoryOf %v, listed as left out %v: want exactly one", name, covered[name], out)
		}
	}
	for _, f := range memoryOf {
		if !seen[f] {
			t.Errorf("memoryOf lists %s, which Checks has no longer", f)
		}
	}
	for f := range memoryLeftOut {
		if !seen[f] {
			t.Errorf("memoryLeftOut lists %s, which Checks has no longer", f)
		}
	}
}
