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
}

// OrderingsFor returns the orderings of a profile with no hazard.
func OrderingsFor(p Profile) Orderings {
	o := Orderings{
		WaitBackends: true, Remount: true, FinalReplay: true, WaitReset: true,
		ResetBeforeRecoveryDone: true, ReplayFromRedo: true, EvictStale: true,
		FakeOldestDuringPromote: true, CopyClog: true, ReloadSlots: true,
		NoCheckpointInWaitingReset: true, RefuseWithoutLogIndex: true,
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

// Config is one node's configuration (its postgresql.conf, as far as the
// model needs it).
type Config struct {
	Host storage.HostID
	// Profile picks the promote order; Orderings is derived from it (and from
	// hazards, by the scenarios package) and is what code consults.
	Profile   Profile
	Orderings Orderings
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
