package shmem

import (
	"errors"
	"fmt"
	"strings"

	"promotesim/logindex"
	"promotesim/storage"
)

// Profile selects which PolarDB version's promote order a node follows.
type Profile uint8

const (
	// ProfileV15 is POLARDB_15_STABLE's order (the default).
	ProfileV15 Profile = iota + 1
	// ProfileV11 is PolarDB 11's order (docs/model.md §8).
	ProfileV11
)

func (p Profile) String() string {
	switch p {
	case ProfileV15:
		return "v15"
	case ProfileV11:
		return "v11"
	}
	return fmt.Sprintf("Profile(%d)", uint8(p))
}

// ParseProfile accepts "v15" and "v11".
func ParseProfile(s string) (Profile, error) {
	switch s {
	case "v15":
		return ProfileV15, nil
	case "v11":
		return ProfileV11, nil
	}
	return 0, fmt.Errorf("shmem: unknown profile %q (want v15 or v11)", s)
}

// Orderings are the individual choices where promote orders differ. A profile
// fixes them; a hazard flips one. Code paths consult these flags, never the
// profile or hazard directly, so each difference lives in exactly one place.
type Orderings struct {
	// WaitBackends: postmaster waits for every backend to exit after SIGTERM
	// before remounting (V15). V11 does not wait.
	WaitBackends bool
	// Remount: postmaster remounts shared storage read-write (always, unless a
	// hazard skips it).
	Remount bool
	// FinalReplay: startup reads the WAL tail from storage on SIGUSR2.
	FinalReplay bool
	// WaitReset: startup waits for POLAR_BG_WAITING_RESET before resetting the BGW.
	WaitReset bool
	// ResetBeforeRecoveryDone: the BGW reset happens under the control-file
	// lock before recovery is marked done (V15). V11 switches role and marks
	// recovery done first.
	ResetBeforeRecoveryDone bool
	// ReplayFromRedo: replay restarts from the checkpoint redo pointer (V15);
	// V11 restarts from min(old primary's consistent LSN, BGW replay point).
	ReplayFromRedo bool
	// EvictStale: the reset evicts outdated buffers below the redo pointer (V15).
	EvictStale bool
	// EvictAllOutdated: with EvictStale, the reset evicts every outdated,
	// clean, unpinned buffer, whatever its page LSN (the fixed profiles;
	// docs/findings.md F5's proposed fix). PolarDB's
	// polar_online_promote_evict_buffer keeps one whose page LSN is at or
	// above the redo, and ONLINE_PROMOTE's worker then marks it dirty
	// (polar_promote_mark_buf_dirty) so the bgwriter can write it over
	// newer storage before the page's later records are replayed.
	EvictAllOutdated bool
	// PromoteTwoPhaseFiles: before the promoted replica's control file
	// adopts its restartpoint's redo, the promote writes on shared storage
	// the state file of every prepared transaction whose PREPARE record
	// lies below that redo and is not on disk yet (the fixed profiles;
	// docs/findings.md F7). PolarDB's replica restartpoint serialises such
	// a transaction into its local pg_twophase only (CheckPointTwoPhase
	// under POLAR_TWOPHASE_DIR), so the shared directory may have no file
	// for a transaction whose record the adopted redo skips.
	PromoteTwoPhaseFiles bool
	// FakeOldestDuringPromote: buffers dirtied while the BGW is in
	// ONLINE_PROMOTE or PARALLEL_REPLAYING take the fake oldest LSN.
	FakeOldestDuringPromote bool
	// CopyClog: startup copies the clog cache to shared storage.
	CopyClog bool
	// ReloadSlots: startup reloads replication slots from shared storage.
	ReloadSlots bool
	// NoCheckpointInWaitingReset: the checkpointer skips while the BGW is in
	// POLAR_BG_WAITING_RESET.
	NoCheckpointInWaitingReset bool
	// HoldConsistentInWaitingReset: the bgwriter keeps the published
	// consistent LSN while the BGW is in POLAR_BG_WAITING_RESET (and, in
	// PolarDB, falls back from the flush-list sync to BgBufferSync there):
	// polar_bufmgr.c update_consistent_lsn_delta and polar_bg_buffer_sync.
	// V11 needs it: it switches role and marks recovery done before the BGW
	// reset, so in that window the node is a primary whose flush list holds
	// none of the old primary's unreplayed changes, and the insert position
	// would pass them. The v15 profile leaves it off: in V15's order the BGW
	// is in WAITING_RESET only while the node is still in recovery, where
	// the bgwriter publishes nothing, so the guard can never fire (PolarDB
	// 15's polar_bufmgr.c still carries the same check, dead in that order).
	// Off in v15 also keeps hazard reset-after-recovery-done a one-step
	// change: V15 with V11's order and no guard.
	HoldConsistentInWaitingReset bool
	// RefuseWithoutLogIndex: postmaster refuses pg_ctl promote when LogIndex
	// is disabled (the model's guard; PolarDB takes the vanilla promote path
	// there and crashes). Off, the promote goes ahead and startup meets the
	// vanilla path's crash.
	RefuseWithoutLogIndex bool
	// TwoPhaseCheckpoint: a checkpoint writes the state file of every
	// prepared transaction whose PREPARE record is below its redo
	// (twophase.c CheckPointTwoPhase, from CheckPointGuts) before the
	// checkpoint record. Off only under hazard skip-twophase-checkpoint.
	TwoPhaseCheckpoint bool
	// ForgetAbortedContrecord: a replica's startup does not keep an aborted
	// contrecord it meets at the end of WAL, because replica.signal sets
	// ArchiveRecoveryRequested (xlogrecovery.c ReadRecord, ~3399), so its
	// promote opens WAL at the end of the last complete record and writes no
	// OVERWRITE_CONTRECORD. Off, it keeps the first one it meets and its
	// promote writes there, as crash recovery of a primary does.
	ForgetAbortedContrecord bool
	// ZeroInitInReplay: LogIndex replay of a record whose block carries
	// BKPBLOCK_WILL_INIT reinitialises the page even when the buffer is
	// already valid (XLogReadBufferForRedoExtended in RBM_NORMAL_VALID
	// mode: "If buffer is valid we don't check WILL_INIT", and the redo
	// routine, e.g. hash_xlog_add_ovfl_page, initialises the page). Off,
	// replay applies the record's changes on top of the page's old
	// content.
	ZeroInitInReplay bool
}

// Fidelity holds the switches that make a node do what PolarDB 15's code
// does where the model used to be stricter (issue 10). The zero value is the
// model's "fixed" behaviour (the default for now); FaithfulV15 turns every
// switch on. Code consults these flags, never a profile name.
type Fidelity struct {
	// UncheckedBGWState: BGW state changes are plain stores, as
	// polar_set_bg_redo_state (polar_logindex_redo.c) is a
	// pg_atomic_write_u32 with no predecessor check, and the BGW ignores a
	// SIGUSR2 while its polar_online_promoting flag is set
	// (polar_logindex_bg_worker.c polar_logindex_bg_worker_main), not by its
	// state. Off, shmem asserts the docs/model.md §6 machine and the BGW
	// ignores SIGUSR2 in WAITING_RESET and ONLINE_PROMOTE.
	UncheckedBGWState bool
	// HotStandbyInFinalRead: a replica promoted before hot standby reaches
	// it during the final storage read and calls
	// polar_logindex_wakeup_bg_replay (xlogrecovery.c
	// CheckRecoveryConsistency), which writes REPLICA_BUF_REPLAYING (or
	// PARALLEL_REPLAYING with prewarm) and bg_replayed_lsn whatever the BGW
	// state is. Off, hot standby is only entered from catch-up.
	HotStandbyInFinalRead bool
	// PromoteOneShot: the postmaster honours one promote request in its
	// lifetime (postmaster.c polar_postmaster_receive_promote's static
	// received_promote, never reset). Off, a finished promote clears the
	// flag and a later pg_ctl promote is handled again.
	PromoteOneShot bool
	// RestartAfterCrash: a crashed child other than startup makes the
	// postmaster end every child and reinitialise shared memory, keeping
	// its mount, then start again as the node type says
	// (postmaster.c HandleChildCrash, PostmasterStateMachine with
	// restart_after_crash on, PolarDB's test 002_promote_kill). A crashed
	// startup still takes the node down ("startup process failure"). Off,
	// any such crash takes the node down.
	RestartAfterCrash bool
	// ForceCheckpointAfterPromote: the checkpoint the BGW requests when
	// online promote finishes is a full one: RequestCheckpoint(
	// CHECKPOINT_FORCE) in polar_logindex_bg_online_promote has neither
	// CAUSE_TIME nor CAUSE_XLOG, so polar_check_incremental_checkpoint
	// (polar_bufmgr.c) does not make it lazy. Off, it is lazy.
	ForceCheckpointAfterPromote bool
	// CheckEndBeforeRestartpoint: the "is not the last valid record"
	// check runs in FinishWalRecovery before the restartpoint request and
	// the wait for the BGW (xlogrecovery.c polar_check_before_promote), not
	// after them. Off, P4 checks after P2 and P3.
	CheckEndBeforeRestartpoint bool
	// FinalReadEndsAtFailedRead: after the promote trigger, the first read
	// that returns no record ends recovery there, a read error included:
	// polar_xlog_recv_queue_pop (polar_queue_manager.c) checks
	// CheckForStandbyTrigger whenever a read decoded nothing; when it was
	// already reading storage (xlog_queue_catch_up false) it breaks out,
	// and the tail read after a STORAGE_BEGIN marker (pushed only when
	// xlog_queue_catch_up) ends the same way. polar_check_before_promote
	// then PANICs if a valid record follows (PolarDB's test 013). Off, the
	// final read retries a failed read until the end of valid WAL.
	FinalReadEndsAtFailedRead bool
	// ControlWindowSteps: the control-file critical section is one step per
	// store PolarDB makes under ControlFileLock (xlog.c StartupXLOG: in
	// production, local control file, node type primary, BGW reset,
	// recovery done), so other processes run between them. Off, one step.
	ControlWindowSteps bool
	// PromoteReplayFromConsistent: ONLINE_PROMOTE uses the old primary's
	// consistent LSN: workers skip records below it for pages not in the
	// pool (polar_xlog_need_replay's BUF_IS_FLUSHED), backends replay from
	// Max(consistent LSN, bg_replayed_lsn)
	// (polar_logindex_require_backend_redo), and the reset evicts only when
	// bg_replayed_lsn < redo and PANICs when an eviction fails
	// (polar_reset_bg_replayed_lsn, polar_online_promote_evict_buffer).
	// Off, everything is replayed from the redo and the reset always evicts,
	// skipping pinned or dirty buffers.
	PromoteReplayFromConsistent bool
	// TwoPhaseFileLeftOnWriteError: a state file whose write at a
	// checkpoint failed stays as the failed write left it, empty or short:
	// RecreateTwoPhaseFile (twophase.c) opens it O_CREAT|O_TRUNC and ERRORs
	// on a failed write or fsync, and the next start's restoreTwoPhaseData
	// then fails in ReadTwoPhaseFile ("incorrect size of file"): startup
	// FATALs on every start until the file is removed by hand. Off, the
	// checkpointer removes the leftover, and recovery finds the PREPARE
	// record again (the failed checkpoint did not move the redo).
	TwoPhaseFileLeftOnWriteError bool
}

// FaithfulV15 returns every switch on: POLARDB_15_STABLE as its code
// behaves. (The V11 profile is not yet read against its code for these
// points; a v11 node with them on takes V15's behaviour.)
func FaithfulV15() Fidelity {
	return Fidelity{UncheckedBGWState: true, HotStandbyInFinalRead: true, PromoteOneShot: true, RestartAfterCrash: true,
		ForceCheckpointAfterPromote: true, CheckEndBeforeRestartpoint: true, FinalReadEndsAtFailedRead: true,
		ControlWindowSteps:          true,
		PromoteReplayFromConsistent: true, TwoPhaseFileLeftOnWriteError: true}
}

// OrderingsFor returns the orderings of a profile with no hazard.
func OrderingsFor(p Profile) Orderings {
	o := Orderings{
		WaitBackends: true, Remount: true, FinalReplay: true, WaitReset: true,
		ResetBeforeRecoveryDone: true, ReplayFromRedo: true, EvictStale: true,
		FakeOldestDuringPromote: true, CopyClog: true, ReloadSlots: true,
		NoCheckpointInWaitingReset: true, RefuseWithoutLogIndex: true,
		TwoPhaseCheckpoint:      true,
		ForgetAbortedContrecord: true, ZeroInitInReplay: true,
	}
	if p == ProfileV11 {
		o.WaitBackends = false
		o.ResetBeforeRecoveryDone = false
		o.ReplayFromRedo = false
		o.EvictStale = false
		o.HoldConsistentInWaitingReset = true
	}
	return o
}

// FixedOrderingsFor returns the orderings of profile p's -fixed variant
// (v15-fixed, v11-fixed): PolarDB's order, except where that order is itself
// a finding and PolarDB's later version fixed it. V11's order has two such
// places, and the fixed profile takes V15's fix of each (docs/findings.md
// V11-1, V11-2):
//   - WaitBackends: V11's polar_postmaster_online_promote (postmaster.c)
//     SIGTERMs the backends and remounts at once; a replica read still in
//     flight keeps publishing its restartpoint's redo as polar_read_min_lsn,
//     which polar_logindex_bg_dispatch then makes promote_oldest_lsn, below
//     what earlier buffers carry. V15's polar_postmaster_receive_promote
//     promotes only when CountChildren(BACKEND_TYPE_NORMAL) is 0 ("avoid
//     older buffer being pinned by backend").
//   - EvictStale: V11's polar_reset_bg_replayed_lsn (polar_logindex_redo.c)
//     evicts nothing, so a pooled outdated copy of a page older than storage
//     is replayed one record per task (polar_bg_redo_apply_read_record) and
//     flushed over the newer stored page before its later records are.
//     V15's reset evicts every outdated buffer below the redo
//     (polar_online_promote_evict_buffer; its comment: "new primary will
//     flush older buffer to storage ... data error if crash happend").
//
// V15's order already has both. Both fixed profiles also take two fixes no
// PolarDB version has: F5's (EvictAllOutdated: V15's eviction keeps an
// outdated copy at or above the redo, and such a copy is written over newer
// storage during ONLINE_PROMOTE) and F7's (PromoteTwoPhaseFiles: the
// promote adopts a redo above PREPARE records whose state file shared
// storage lacks).
func FixedOrderingsFor(p Profile) Orderings {
	o := OrderingsFor(p)
	o.WaitBackends = true
	o.EvictStale = true
	o.EvictAllOutdated = true
	o.PromoteTwoPhaseFiles = true
	return o
}

// Config is one node's configuration (its postgresql.conf, as far as the
// model needs it).
type Config struct {
	Host storage.HostID
	// Profile picks the promote order; Orderings is derived from it (and from
	// hazards, by the scenarios package) and is what code consults.
	Profile   Profile
	Orderings Orderings
	// Sequence, when set, is the startup process's promote steps in order
	// (Sequence's text form; startup/sequence.go runs it): a variant of
	// PolarDB's order from the ordering study (scenarios/order). Empty:
	// the hard-wired order of Profile and Orderings.
	Sequence string
	// Fidelity: PolarDB's behaviour as coded (FaithfulV15) or the model's
	// stricter one (zero value, the default for now).
	Fidelity Fidelity
	// Rel and Pages: the one relation the workload writes, and its size.
	Rel   storage.RelID
	Pages int
	// PoolFrames is shared_buffers, in pages.
	PoolFrames int
	// LogIndex carries polar_logindex_mem_size, polar_xlog_queue_buffers,
	// polar_xlog_page_buffers, polar_bg_replay_batch_size and
	// polar_parallel_replay_proc_num.
	LogIndex logindex.Config
	// CheckpointDistance: the checkpointer runs when the consistent LSN is this
	// many bytes past the last redo pointer (a lazy checkpoint).
	CheckpointDistance int64
	// ReplicaPrewarm is polar_enable_replica_prewarm (polar_enable_ro_prewarm
	// in V11): a replica's BGW starts in PARALLEL_REPLAYING rather than
	// REPLICA_BUF_REPLAYING when hot standby is reached
	// (polar_logindex_wakeup_bg_replay). The model honours it only on the
	// Fidelity.HotStandbyInFinalRead path.
	ReplicaPrewarm bool
	// PrimarySlotName is a replica's primary_slot_name (recovery config):
	// the slot on the primary it streams through. Empty: SlotName(Host).
	// The switchover walkthrough rebuilds the old primary through the slot
	// its promoted replica used (replica1), not a new one.
	PrimarySlotName string
	// WALWriteBehind: the walwriter writes WAL without syncing it and
	// syncs in a later step, writing only whole WAL pages while one is
	// complete (XLogBackgroundFlush: WriteRqst.Write rounded down to
	// XLOG_BLCKSZ, no fsync while less than wal_writer_flush_after is
	// pending). A crash then loses what is still in the WAL buffers: the
	// last records, or the continuation of a record whose first WAL page
	// was written (scenarios' cluster keeps written WAL at a power loss, as
	// PFS does). Off: the walwriter writes and syncs in one step.
	WALWriteBehind bool
}

// Slot is the replication slot a replica of this configuration streams
// through (primary_slot_name).
func (c Config) Slot() string {
	if c.PrimarySlotName != "" {
		return c.PrimarySlotName
	}
	return SlotName(c.Host)
}

// DefaultConfig returns a small node configuration for host h.
func DefaultConfig(h storage.HostID) Config {
	li := logindex.DefaultConfig()
	li.ParallelReplayProcNum = 2
	li.BgReplayBatchSize = 4
	return Config{
		Host: h, Profile: ProfileV15, Orderings: OrderingsFor(ProfileV15),
		Rel: 1, Pages: 8, PoolFrames: 6, LogIndex: li, CheckpointDistance: 0x400,
	}
}

// Validate rejects configurations the model cannot run, naming the setting.
func (c Config) Validate() error {
	var errs []string
	if c.Host == 0 {
		errs = append(errs, "host id must be 1 or more")
	}
	if c.Profile != ProfileV15 && c.Profile != ProfileV11 {
		errs = append(errs, "profile must be v15 or v11")
	}
	if c.Pages < 1 || c.Pages > 1<<16 {
		errs = append(errs, fmt.Sprintf("pages %d out of range 1..65536", c.Pages))
	}
	if c.PoolFrames < 2 {
		errs = append(errs, fmt.Sprintf("shared_buffers %d pages: need at least 2", c.PoolFrames))
	}
	if err := c.LogIndex.Validate(); err != nil {
		errs = append(errs, err.Error())
	}
	if c.LogIndex.ParallelReplayProcNum < 1 || c.LogIndex.ParallelReplayProcNum > 16 {
		errs = append(errs, fmt.Sprintf("polar_parallel_replay_proc_num %d out of range 1..16", c.LogIndex.ParallelReplayProcNum))
	}
	if c.Sequence != "" {
		if _, err := ParseSequence(c.Sequence); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if c.CheckpointDistance < 1 {
		errs = append(errs, "checkpoint distance must be positive")
	}
	if len(errs) > 0 {
		return errors.New("shmem: invalid node config: " + strings.Join(errs, "; "))
	}
	return nil
}

// ErrLogIndexDisabled refuses an online promote when LogIndex is off: the real
// system takes the vanilla path and crashes (the seed report's segfault); the
// model refuses up front and says what to set.
var ErrLogIndexDisabled = errors.New("shmem: online promote needs LogIndex, but polar_logindex_mem_size is 0: " +
	"set polar_logindex_mem_size > 0 (with polar_xlog_queue_buffers and polar_xlog_page_buffers > 0) on every replica before promoting")
