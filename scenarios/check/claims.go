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
	{"NoWALBelowOldEnd", "no WAL is inserted below an end of valid WAL: a once-valid record is never overwritten", (*Checks).noWALBelowOldEnd},
	{"CommitDurable", "every acknowledged commit's record is in the valid WAL on storage, and stays there", (*Checks).commitDurable},
	{"FlushListOrdered", "every flush list is ordered by oldest LSN (and every pool is intact)", (*Checks).flushListOrdered},
	{"ConsistentLSNMonotone", "a consistent LSN never moves back", (*Checks).consistentMonotone},
	{"ConsistentLSNDurable", "every change by a record starting below the writer's consistent LSN is on storage", (*Checks).consistentDurable},
	{"CheckpointRedo", "every checkpoint's redo is at or below its writer's consistent LSN; the control file keeps a checkpoint's redo and never moves it back", (*Checks).checkpointRedo},
	{"BGWLegalTransitions", "the BGW moves only along the transitions of docs/model.md §6", (*Checks).bgwTransitions},
	{"ReplayPointMonotone", "the BGW replay point moves back only at the reset", (*Checks).replayPointMonotone},
	{"FakeOldestMonotone", "the fake oldest LSN never decreases", (*Checks).fakeOldestMonotone},
	{"ReplicaReadsMatchOracle", "a replica read returns the oracle's page at that replica's replay position", (*Checks).replicaReads},
	{"ReadsReflectAcked", "a read on the read-write primary equals the oracle and reflects every commit acknowledged before it began", (*Checks).readsReflectAcked},
	{"NoUnexpectedExit", "no process PANICs or exits FATAL unless an injected fault or fencing made it", (*Checks).noUnexpectedExit},
	{"CrashRecovers", "crashing every host and recovering from shared storage yields the oracle's pages and clog", nil},
	{"AckedVisible", "every acknowledged write is visible at the end of WAL unless a later write replaced it", nil},
	{"ReusedPageFresh", "a buffer holding a reused page equals the oracle at its page LSN: nothing from before the page's init record survives", nil},
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
