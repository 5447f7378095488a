package hazard

import (
	"fmt"
	"strings"

	"promotesim/shmem"
)

// Hazard is one deliberately wrong step of the promote protocol, or of the
// operator's plan around it (issue 4's catalogue). Each one names what
// PolarDB does right, what the switch changes and what should follow, and
// each must trip a general checker (never one written for it): the canary
// that proves the checkers are not vacuous (hazards_test.go and the
// scripts in testdata/hazards).
type Hazard struct {
	Name string
	// Right is what PolarDB does (and the file/function that does it).
	Right string
	// Wrong is what the switch changes.
	Wrong string
	// Consequence is what follows, and which checker sees it.
	Consequence string
	// Orderings flips the protocol step (nil when the hazard is about the
	// operator's plan).
	Orderings func(*shmem.Orderings)
	// Plan-level switches, read by the world generator and by the plan
	// verbs of hazard scripts (PlanLine).
	//
	// KeepPrimaryRunning: promote while the old primary still runs and
	// writes.
	KeepPrimaryRunning bool
	// TriggerFile: promote through the trigger file, not pg_ctl promote.
	TriggerFile bool
	// LogIndexOff: LogIndex disabled (polar_logindex_mem_size = 0, applied by
	// Options.nodeConfig) and the promote not refused.
	LogIndexOff bool
	// Profile is the profile the hazard's catch needs, zero when the
	// default (v15) shows it: the swarm test runs its worlds in it.
	Profile shmem.Profile
	// Fixed: the catch needs the profile's -fixed variant, because a
	// guard PolarDB's code really has (and the faithful profile models)
	// masks the wrong ordering; Consequence names the guard.
	Fixed bool
	// Unobservable: no general checker can see this hazard in the model
	// (Consequence says why). Tests require it stays unseen, so a model
	// change that makes it visible must move it back to the caught ones.
	Unobservable bool
	// Counterexample names the file in testdata/counterexamples that pins
	// a hazard the explorer catches only in rare worlds (too rare for the
	// seeded swarm test's budget); TestCounterexamples replays it.
	Counterexample string
	// Sequence is the startup process's promote order (shmem.Sequence's
	// text) of a variant of the ordering study (Variant); empty for the
	// catalogue's hazards, which keep the profile's hard-wired order.
	Sequence string
}

// hazards is the catalogue, in a fixed order: the operator's plan first,
// then the promote steps in the order docs/model.md §7 runs them.
var hazards = []Hazard{
	{
		Name: "promote-while-primary-writes",
		Right: "the operator stops the old primary before pg_ctl promote (PolarDB's docs; nothing in the code " +
			"checks it: the remount takes the writer role by force, PFS PAXOS_BYFORCE)",
		Wrong: "the replica is promoted while the old primary still runs and takes writes",
		Consequence: "two hosts write shared storage: with fence=none the old primary's WAL and pages land " +
			"after the new writer's remount (SingleWriter); with fence=epoch its writes are rejected and " +
			"it stops, nothing is lost",
		KeepPrimaryRunning: true,
	},
	{
		Name: "no-backend-wait",
		Right: "postmaster SIGTERMs every backend and waits until all have exited before the remount, so no " +
			"session reads stale data from the new primary (postmaster.c, the online promote branch)",
		Wrong: "postmaster remounts and signals startup while sessions of the replica may still run (V11's order)",
		Consequence: "the remount takes the writer role while a session of the replica still runs (NoBackendAtRemount, " +
			"in that step). What follows: a replica read in flight (buffer pinned, its replay LSN published: the replica's restartpoint redo, " +
			"POLAR_SET_BACKEND_READ_MIN_LSN; interrupts held until the page is replayed) outlives the BGW reset: the BGW's " +
			"first ONLINE_PROMOTE round would move the fake oldest LSN back below the new redo and PANICs " +
			"(polar_logindex_bg_dispatch's POLAR_ASSERT_PANIC; NoUnexpectedExit). The read itself stays correct: " +
			"others wait for its buffer and it dirties what it replays (polar_promote_mark_buf_dirty)",
		Orderings: func(o *shmem.Orderings) { o.WaitBackends = false },
	},
	{
		Name:        "skip-remount",
		Right:       "postmaster remounts shared storage read-write by force before SIGUSR2 (the polar_vfs remount hook, PFS PAXOS_BYFORCE; FATAL on failure)",
		Wrong:       "the storage stays mounted read-only",
		Consequence: "startup's first shared write (the clog copy) fails on the read-only mount: startup FATAL, node down (NoUnexpectedExit)",
		Orderings:   func(o *shmem.Orderings) { o.Remount = false },
	},
	{
		Name: "skip-final-replay",
		Right: "on SIGUSR2 startup stops consuming the WAL meta queue and reads the rest of the old " +
			"primary's WAL from shared storage to its end (the startup process's online promote branch)",
		Wrong: "the end of WAL is wherever the queue got to",
		Consequence: "records the queue had not delivered follow the chosen end: startup PANICs at its end-of-WAL " +
			"check instead of overwriting them (NoUnexpectedExit)",
		Orderings: func(o *shmem.Orderings) { o.FinalReplay = false },
	},
	{
		Name:  "skip-wait-reset",
		Right: "startup waits until the BGW is in POLAR_BG_WAITING_RESET before resetting it (polar_wait_logindex_bg_stop_replay)",
		Wrong: "startup resets the BGW whatever state it is in",
		Consequence: "a BGW that has not yet handled SIGUSR2 is moved from POLAR_BG_REPLICA_BUF_REPLAYING straight to " +
			"POLAR_BG_ONLINE_PROMOTE (BGWLegalTransitions)",
		Orderings: func(o *shmem.Orderings) { o.WaitReset = false },
	},
	{
		Name: "reset-after-recovery-done",
		Right: "the BGW reset happens under the control-file lock before recovery is marked done " +
			"(xlog.c, POLAR_BG_ONLINE_PROMOTE set with polar_reset_bg_replayed_lsn before SharedRecoveryState moves on)",
		Wrong: "V11's order: role switch and recovery done first, the BGW reset a step later",
		Consequence: "in the window the node is a primary with an empty flush list and the BGW in WAITING_RESET: the " +
			"bgwriter publishes the insert position as consistent LSN above old changes not yet on storage " +
			"(ConsistentLSNDurable). The model's v15 profile has no guard for this window (in V15's order it cannot " +
			"occur); PolarDB 11, and the v11 profile, keep the consistent LSN while the BGW waits for the reset " +
			"(polar_bufmgr.c update_consistent_lsn_delta, Orderings.HoldConsistentInWaitingReset; PolarDB 15 still " +
			"carries the same check). Masked in the faithful v15 profile: there the control-file window is split into " +
			"PolarDB's steps and that check is live in it (shmem.Fidelity.ControlWindowSteps), so it holds the " +
			"consistent LSN in V11's order too; the hazard is caught against v15-fixed",
		Orderings: func(o *shmem.Orderings) { o.ResetBeforeRecoveryDone = false },
		Fixed:     true,
	},
	{
		Name:  "replay-from-old-consistent",
		Right: "ONLINE_PROMOTE replays from the checkpoint redo pointer (polar_reset_bg_replayed_lsn in V15)",
		Wrong: "V11's start: min(old primary's consistent LSN, BGW replay point)",
		Consequence: "the reset starts the ONLINE_PROMOTE replay elsewhere than the control file's checkpoint redo " +
			"(PromoteReplayStart, in the reset's step). What follows is rare in the model: below the redo, the fake oldest LSN " +
			"and so the consistent LSN start below the old primary's last checkpoint redo, and a lazy checkpoint after " +
			"promote writes a redo pointer that moved back (CheckpointRedo; the explorer's first catch at seed 12424 before " +
			"the claim); above it, pages on storage older than the start would miss records, which the model's storage " +
			"(no full-page images, pages never go back below a consistent LSN) does not produce",
		Orderings: func(o *shmem.Orderings) { o.ReplayFromRedo = false },
	},
	{
		Name: "insert-lsn-during-promote",
		Right: "buffers dirtied during ONLINE_PROMOTE, by replay of old WAL and by new writes, take the BGW's " +
			"fake oldest LSN (polar_bufmgr.h polar_fake_oldest_lsn: polar_online_promote_fake_oldest_lsn while the BGW replays)",
		Wrong: "they take the current insert position, as on a normal primary",
		Consequence: "a page replayed from the old primary's WAL enters the flush list above changes it holds that are " +
			"not on storage, so the consistent LSN passes them (ConsistentLSNDurable)",
		Orderings: func(o *shmem.Orderings) { o.FakeOldestDuringPromote = false },
	},
	{
		Name:  "skip-clog-copy",
		Right: "startup copies the replica's local clog cache to shared storage (polar_online_promote_data, polar_promote_clog)",
		Wrong: "the copy is skipped; the new primary's clog is what pg_xact on shared storage holds",
		Consequence: "the new primary's role switch finds pg_xact on shared storage without the commits the replica replayed " +
			"since the old primary's last checkpoint (ClogCopiedAtPromote, in that step); later they read as not committed " +
			"on the new primary (ReadsReflectAcked)",
		Orderings: func(o *shmem.Orderings) { o.CopyClog = false },
	},
	{
		Name:  "skip-slot-reload",
		Right: "startup reloads replication slots from shared storage (polar_online_promote_data)",
		Wrong: "the new primary keeps the replica's (empty) slot list",
		Consequence: "the new primary switches role without the slots on shared storage (SlotsReloadedAtPromote, in that " +
			"step); then the flush gate and LogIndex retention no longer know the other replicas: the new primary writes pages " +
			"from a lagging replica's future, whose session then exits FATAL on the future page (polar_is_future_page: " +
			"NoUnexpectedExit), or truncates LogIndex a lagging replica still needs, which then serves a stale page " +
			"(ReplicaReadsMatchOracle)",
		Orderings: func(o *shmem.Orderings) { o.ReloadSlots = false },
	},
	{
		Name:  "checkpoint-during-waiting-reset",
		Right: "no checkpoint while the BGW is in POLAR_BG_WAITING_RESET (the checkpointer checks polar_get_bg_redo_state)",
		Wrong: "the checkpointer runs in that window",
		Consequence: "in profile v11 (Profile): the checkpoint record itself, written with the BGW in WAITING_RESET, " +
			"is NoCheckpointInWaitingReset in its step; what it does: the node is a read-write primary while the BGW waits for its reset, " +
			"and the old primary's changes the reset must replay are dirty in no buffer; the operator's CHECKPOINT is " +
			"not lazy (polar_check_lazy_checkpoint: only CHECKPOINT_CAUSE_XLOG/TIME are), so its redo is the insert " +
			"position, past those changes, while the consistent LSN is held: CheckpointRedo (and crash recovery " +
			"from that redo loses them: CrashRecovers). In V15's order WAITING_RESET lies inside recovery, where a " +
			"checkpoint is a restartpoint and harmless",
		Profile:   shmem.ProfileV11,
		Orderings: func(o *shmem.Orderings) { o.NoCheckpointInWaitingReset = false },
	},
	{
		Name: "trigger-file-promote",
		Right: "the operator promotes with pg_ctl promote: postmaster remounts and SIGUSR2s startup, the polar worker and " +
			"the BGW (sigusr1_handler)",
		Wrong: "the operator creates the trigger file: only startup sees it, the BGW never learns of the promote",
		Consequence: "startup waits for POLAR_BG_WAITING_RESET forever: the promote never completes (liveness: " +
			"PromoteCompletes)",
		TriggerFile: true,
	},
	{
		Name: "logindex-off-promote",
		Right: "the model refuses pg_ctl promote when polar_logindex_mem_size is 0 (PolarDB does not refuse: it takes " +
			"the vanilla promote path and crashes, the seed report's segfault)",
		Wrong: "LogIndex is disabled and the promote goes ahead",
		Consequence: "startup meets the vanilla path on a shared-storage replica and PANICs; the node goes down " +
			"(NoUnexpectedExit)",
		Orderings:   func(o *shmem.Orderings) { o.RefuseWithoutLogIndex = false },
		LogIndexOff: true,
	},
	{
		Name: "skip-twophase-checkpoint",
		Right: "a checkpoint writes the state file (pg_twophase/) of every prepared transaction whose PREPARE record " +
			"lies below its redo before it inserts its record (twophase.c CheckPointTwoPhase, last in CheckPointGuts)",
		Wrong: "the checkpoint moves the redo past PREPARE records and writes no state file",
		Consequence: "recovery from that redo (a crash, a restart, a replica started after it and then promoted) never " +
			"sees the PREPARE: the prepared transaction is gone from the new primary (PreparedSurvives)",
		Orderings: func(o *shmem.Orderings) { o.TwoPhaseCheckpoint = false },
	},
	{
		Name: "keep-aborted-contrecord",
		Right: "a replica's startup keeps no aborted contrecord it meets at the end of WAL: replica.signal sets " +
			"ArchiveRecoveryRequested, and ReadRecord keeps abortedRecPtr/missingContrecPtr only without it " +
			"(xlogrecovery.c ~3399), so promote opens WAL at the end of the last complete record (PolarDB test " +
			"004_polar_overwrite_contrecord)",
		Wrong: "the replica keeps the first aborted contrecord it meets (a record whose continuation page was not " +
			"written yet) and its promote opens WAL at that record's missing page with an OVERWRITE_CONTRECORD, " +
			"as a primary's crash recovery does",
		Consequence: "the record was completed after the replica saw it and WAL went on: the promote inserts below the " +
			"old primary's end of valid WAL and overwrites records of the history (NoWALBelowOldEnd)",
		Orderings: func(o *shmem.Orderings) { o.ForgetAbortedContrecord = false },
	},
	{
		Name: "replay-keeps-reused-page",
		Right: "LogIndex replay of a record whose block carries BKPBLOCK_WILL_INIT reinitialises the page even in an " +
			"already valid buffer (XLogReadBufferForRedoExtended skips the WILL_INIT check for RBM_NORMAL_VALID; the " +
			"redo routine, e.g. hash_xlog_add_ovfl_page, initialises the page; PolarDB test " +
			"014_zero_and_lock_ovflpage_during_online_promote)",
		Wrong: "replay applies the init record's changes on top of what the buffer held: the page's first life",
		Consequence: "a reused page replayed by the BGW, a replica read or a backend during ONLINE_PROMOTE keeps values " +
			"written before its init record (BuffersMatchOracle in the replay step; later ReusedPageFresh or a read against the oracle: ReplicaReadsMatchOracle)",
		Orderings: func(o *shmem.Orderings) { o.ZeroInitInReplay = false },
	},
}

// All returns the catalogue in a fixed order.
func All() []Hazard { return append([]Hazard(nil), hazards...) }

// Names lists the catalogue's names in order.
func Names() []string {
	names := make([]string, len(hazards))
	for i, h := range hazards {
		names[i] = h.Name
	}
	return names
}

// Lookup finds a hazard by name.
func Lookup(name string) (Hazard, error) {
	if strings.HasPrefix(name, VariantPrefix) {
		return Variant(name)
	}
	for _, h := range hazards {
		if h.Name == name {
			return h, nil
		}
	}
	return Hazard{}, fmt.Errorf("unknown hazard %q (known: %s)", name, strings.Join(Names(), ", "))
}
