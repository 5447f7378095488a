package check

// Claim is one thing that must always hold (docs/model.md §10), named as the
// checker that checks it. Hazard tests look names up here: a hazard must be
// caught by one of these general claims, never by a check written for it.
type Claim struct {
	Name string
	Text string
	// step is the claim's per-step checker, run after every scheduler
	// step (incrementally); nil: checked only by Checks.Full (crash
	// points, phase ends, check all).
	step func(*Checks) error
}

// PerStep reports whether the claim is checked after every step.
func (c Claim) PerStep() bool { return c.step != nil }

// claims is the catalogue: the one list of what is checked, which
// registers the per-step checkers (Install, in this order) and which the
// README's claim table and `check all` are tested against. The checkers run
// in this order and the first failing one is reported, so the ones that
// name a root cause come first.
var claims = []Claim{
	{"SingleWriter", "no host but the writer of the current epoch writes shared storage", (*Checks).singleWriter},
	{"ReplicaWritesNothing", "a replica writes nothing to shared storage and has no dirty buffer", (*Checks).replicaWritesNothing},
	{"WALBeforeData", "a data page reaches shared storage only once the WAL up to its page LSN is durable", (*Checks).walBeforeData},
	{"StoredPageNeverGoesBack", "a data page written to shared storage never carries a page LSN below the one it replaces", (*Checks).storedPageNeverGoesBack},
	{"NoFuturePageWritten", "no page is written beyond the replay position of a replica in hot standby (the flush gate), unless its slot was left out", (*Checks).noFuturePageWritten},
	{"LogIndexSavedAfterWAL", "only a writable LogIndex snapshot writes LogIndex files, and the meta it writes names no LSN above its durable WAL", (*Checks).logindexSaved},
	{"LogIndexMetaMonotone", "the LogIndex meta on shared storage never moves back (last table, its LSN, the truncation point)", (*Checks).logindexMetaMonotone},
	{"NoWALBelowOldEnd", "no WAL is inserted below an end of valid WAL: a once-valid record is never overwritten", (*Checks).noWALBelowOldEnd},
	{"CommitDurable", "every acknowledged commit's record is in the valid WAL on storage, and stays there", (*Checks).commitDurable},
	{"PreparedSurvives", "an acknowledged PREPARE is in the valid WAL and, until its COMMIT or ROLLBACK PREPARED is, the read-write primary holds it prepared under its gid, undecided in its clog", (*Checks).preparedSurvives},
	{"TwoPhaseDecidedOnce", "the valid WAL decides a prepared transaction at most once and only after its PREPARE, a gid is never prepared twice while pending, and no client is told both outcomes", (*Checks).twoPhaseDecidedOnce},
	{"FlushListOrdered", "every flush list is ordered by oldest LSN (and every pool is intact)", (*Checks).flushListOrdered},
	{"ConsistentLSNMonotone", "a consistent LSN never moves back", (*Checks).consistentMonotone},
	{"ConsistentLSNDurable", "every change by a record starting below the writer's consistent LSN is on storage", (*Checks).consistentDurable},
	{"NoCheckpointInWaitingReset", "no checkpoint record is written by a node whose BGW is in POLAR_BG_WAITING_RESET", (*Checks).noCheckpointInWaitingReset},
	{"CheckpointRedo", "every checkpoint's redo is at or below its writer's consistent LSN; the control file keeps a checkpoint's redo and never moves it back", (*Checks).checkpointRedo},
	{"WALRetained", "no WAL segment the redo pointer, a slot or LogIndex still needs is removed from a node's own disk", (*Checks).walRetained},
	{"BGWLegalTransitions", "the BGW moves only along the transitions of docs/model.md §6", (*Checks).bgwTransitions},
	{"ReplayPointMonotone", "the BGW replay point moves back only at the reset", (*Checks).replayPointMonotone},
	{"FakeOldestMonotone", "the fake oldest LSN never decreases", (*Checks).fakeOldestMonotone},
	{"ReplicaClogReplayed", "a replica's local clog says committed for every commit record below its replay position", (*Checks).replicaClogReplayed},
	{"ClogCopiedAtPromote", "when a replica switches to primary, the clog on shared storage holds every commit of the WAL it replayed", (*Checks).clogCopiedAtPromote},
	{"SlotsReloadedAtPromote", "when a replica switches to primary, it holds every replication slot on shared storage", (*Checks).slotsReloadedAtPromote},
	{"NoBackendAtRemount", "when a promoting replica remounts shared storage read-write, none of its sessions still runs (in a profile whose postmaster waits for them: v15, v11-fixed)", (*Checks).noBackendAtRemount},
	{"PromoteReplayStart", "the BGW's ONLINE_PROMOTE replay starts where the profile's reset starts it: the control file's checkpoint redo (v15), min(old primary's consistent LSN, replay point) (v11)", (*Checks).promoteReplayStart},
	{"BuffersMatchOracle", "a pooled page is the oracle's page at its page LSN: every record up to it applied, nothing else", (*Checks).buffersMatchOracle},
	{"ReplicaReadsMatchOracle", "a replica read returns the oracle's page at that replica's replay position", (*Checks).replicaReads},
	{"ReadsReflectAcked", "a read on the read-write primary equals the oracle and reflects every commit acknowledged before it began", (*Checks).readsReflectAcked},
	{"LogicalSlotsSurvive", "the read-write primary holds every logical slot a client was told of, with restart_lsn and confirmed_flush never behind the positions last acknowledged", (*Checks).logicalSlotsSurvive},
	{"PreparedInvisible", "no read sees a row of a prepared transaction unless its COMMIT PREPARED is in the WAL the read was served at", (*Checks).preparedInvisible},
	{"NoUnexpectedExit", "no process PANICs or exits FATAL unless an injected fault or fencing made it", (*Checks).noUnexpectedExit},
	{"CrashRecovers", "crashing every host and recovering from shared storage yields the oracle's pages and clog", nil},
	{"AckedVisible", "every acknowledged write is visible at the end of WAL unless a later write replaced it", nil},
	{"PromotedStandbyRecovers", "crashing a promoted standby and recovering its own disk yields every commit it acknowledged, with its writes or later ones", nil},
	{"ReusedPageFresh", "a buffer holding a reused page equals the oracle at its page LSN: nothing from before the page's init record survives", nil},
}

// The claims' indexes in the catalogue, for the "sometimes" counters
// (Checks.hit); TestClaimsCatalogue holds them to the catalogue's order.
const (
	cSingleWriter = iota
	cReplicaWritesNothing
	cWALBeforeData
	cStoredPageNeverGoesBack
	cNoFuturePageWritten
	cLogIndexSavedAfterWAL
	cLogIndexMetaMonotone
	cNoWALBelowOldEnd
	cCommitDurable
	cPreparedSurvives
	cTwoPhaseDecidedOnce
	cFlushListOrdered
	cConsistentLSNMonotone
	cConsistentLSNDurable
	cNoCheckpointInWaitingReset
	cCheckpointRedo
	cWALRetained
	cBGWLegalTransitions
	cReplayPointMonotone
	cFakeOldestMonotone
	cReplicaClogReplayed
	cClogCopiedAtPromote
	cSlotsReloadedAtPromote
	cNoBackendAtRemount
	cPromoteReplayStart
	cBuffersMatchOracle
	cReplicaReadsMatchOracle
	cReadsReflectAcked
	cLogicalSlotsSurvive
	cPreparedInvisible
	cNoUnexpectedExit
	cCrashRecovers
	cAckedVisible
	cPromotedStandbyRecovers
	cReusedPageFresh
	nClaims
)

// hit counts one non-vacuous check of claim c: its precondition held and
// it compared something (a "sometimes" mark: a claim never hit in a run
// judged nothing in it, however green).
func (k *Checks) hit(c int) { k.exercised[c]++ }

// Exercise is how often one claim was exercised.
type Exercise struct {
	Name  string
	Count uint64
}

// Exercised returns, in catalogue order, how often each claim compared
// something in k's world.
func (k *Checks) Exercised() []Exercise {
	out := NoExercise()
	for i := range out {
		out[i].Count = k.exercised[i]
	}
	return out
}

// NoExercise is the catalogue with every count zero (a sum's start).
func NoExercise() []Exercise {
	out := make([]Exercise, len(claims))
	for i, c := range claims {
		out[i].Name = c.Name
	}
	return out
}

// Claims returns the catalogue of checked claims.
func Claims() []Claim { return append([]Claim(nil), claims...) }

// IsClaim reports whether name is a checker of the catalogue.
func IsClaim(name string) bool {
	for _, c := range claims {
		if c.Name == name {
			return true
		}
	}
	return false
}

// perStepChecks are the claims with a per-step checker, in catalogue
// order. A checker that reads something of the world the others do not
// must add it to watched, or the group will skip it on steps that change
// only that (TestCheckerWatchIsInvisible runs every checker on every
// skipped step).
var perStepChecks = stepClaims()

func stepClaims() []Claim {
	var out []Claim
	for _, c := range claims {
		if c.PerStep() {
			out = append(out, c)
		}
	}
	return out
}
