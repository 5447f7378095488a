package shmem

import (
	"fmt"

	"promotesim/sim"
	"promotesim/storage"
)

// BGWState is the LogIndex background worker's state, with PolarDB 15's exact
// names (polar_logindex_redo.h). The zero value is invalid.
type BGWState uint8

const (
	BGRedoNotStart BGWState = iota + 1
	BGReplicaBufReplaying
	BGParallelReplaying
	BGWaitingReset
	BGOnlinePromote
)

func (s BGWState) String() string {
	switch s {
	case BGRedoNotStart:
		return "POLAR_BG_REDO_NOT_START"
	case BGReplicaBufReplaying:
		return "POLAR_BG_REPLICA_BUF_REPLAYING"
	case BGParallelReplaying:
		return "POLAR_BG_PARALLEL_REPLAYING"
	case BGWaitingReset:
		return "POLAR_BG_WAITING_RESET"
	case BGOnlinePromote:
		return "POLAR_BG_ONLINE_PROMOTE"
	}
	return fmt.Sprintf("BGWState(%d)", uint8(s))
}

// LegalBGWTransition reports whether docs/model.md §6 allows from -> to. SIGUSR2 moves
// any non-promoting state (including NOT_START, when promote comes before hot
// standby) to WAITING_RESET.
func LegalBGWTransition(from, to BGWState) bool {
	switch to {
	case BGReplicaBufReplaying, BGParallelReplaying:
		return from == BGRedoNotStart
	case BGWaitingReset:
		return from == BGRedoNotStart || from == BGReplicaBufReplaying || from == BGParallelReplaying
	case BGOnlinePromote:
		// A replica's promote passes through WAITING_RESET; a standby's
		// goes straight from parallel replay (xlog.c StartupXLOG:
		// polar_set_bg_redo_state(POLAR_BG_ONLINE_PROMOTE) for
		// polar_logindex_promote_standby).
		return from == BGWaitingReset || from == BGParallelReplaying
	case BGRedoNotStart:
		return from == BGOnlinePromote
	}
	return false
}

// BGW is the BGW's part of a node's shared memory (PolarDB's
// polar_logindex_redo_ctl: bg_redo_state, bg_replayed_lsn,
// replayed_oldest_lsn). Transitions are methods that assert the predecessor
// and change state in one place; every change is counted so checkers can see
// it.
type BGW struct {
	state BGWState
	// replayed is bg_replayed_lsn, the replay point: everything below it
	// that the BGW is responsible for has been replayed.
	replayed storage.LSN
	// fakeOldest is replayed_oldest_lsn: the oldest LSN given to buffers
	// dirtied during online promote. It never decreases.
	fakeOldest storage.LSN
	// resets counts replay-point resets (the one place it may move back).
	resets int
	// transitions counts state changes; last records the latest.
	transitions int
	lastFrom    BGWState
	// BackendReplaying counts backends replaying a page right now during
	// ONLINE_PROMOTE; the BGW may not finish while any does.
	BackendReplaying int
	// PromoteStart is the LSN the reset chose as replay start (the checkpoint
	// redo in V15): backends replay pages from max(this, replay point).
	PromoteStart storage.LSN
	// PromoteEnd is the end of the old primary's WAL: ONLINE_PROMOTE replays
	// everything below it.
	PromoteEnd storage.LSN
	// CheckpointRequested is set when ONLINE_PROMOTE finishes.
	CheckpointRequested bool
	// backendStarts are the replay starts published by backends replaying a
	// page right now (PolarDB's POLAR_SET_BACKEND_READ_MIN_LSN, read back by
	// polar_get_backend_min_replay_lsn): a multiset, one entry per
	// BeginBackendReplay not yet ended. The BGW caps the fake oldest LSN at
	// their minimum.
	backendStarts []storage.LSN
	// unchecked: state changes are plain stores (polar_set_bg_redo_state),
	// Fidelity.UncheckedBGWState. Checkers judge the transition instead.
	unchecked bool
}

// NewBGW returns the shared state of a BGW that has not started.
func NewBGW() BGW { return BGW{state: BGRedoNotStart} }

// NewUncheckedBGW returns the shared state of a BGW whose state changes are
// unchecked stores, as PolarDB 15's polar_set_bg_redo_state
// (polar_logindex_redo.c) is: no predecessor is asserted, so a write may
// overwrite any state and the checkers judge what follows.
func NewUncheckedBGW() BGW { return BGW{state: BGRedoNotStart, unchecked: true} }

// Unchecked reports whether state changes are unchecked stores.
func (b *BGW) Unchecked() bool { return b.unchecked }

// State returns the current state.
func (b *BGW) State() BGWState { return b.state }

// ReplayPoint returns bg_replayed_lsn.
func (b *BGW) ReplayPoint() storage.LSN { return b.replayed }

// FakeOldest returns the fake oldest LSN (replayed_oldest_lsn).
func (b *BGW) FakeOldest() storage.LSN { return b.fakeOldest }

// Resets returns how often the replay point was reset.
func (b *BGW) Resets() int { return b.resets }

// Transitions returns how many state changes happened and the last one.
func (b *BGW) Transitions() (n int, from, to BGWState) { return b.transitions, b.lastFrom, b.state }

// Promoting reports whether buffers dirtied now take the fake oldest LSN
// (ONLINE_PROMOTE or PARALLEL_REPLAYING, docs/model.md §5).
func (b *BGW) Promoting() bool { return b.state == BGOnlinePromote || b.state == BGParallelReplaying }

func (b *BGW) move(to BGWState) {
	if !b.unchecked && !LegalBGWTransition(b.state, to) {
		sim.Failf("shmem: illegal BGW transition %v -> %v", b.state, to)
	}
	b.lastFrom = b.state
	b.state = to
	b.transitions++
}

// StartReplicaBufReplaying: startup reached hot standby.
func (b *BGW) StartReplicaBufReplaying(from storage.LSN) {
	b.move(BGReplicaBufReplaying)
	if from > b.replayed {
		b.replayed = from
	}
}

// StartParallelReplaying: prewarm / standby mode.
func (b *BGW) StartParallelReplaying(from storage.LSN) {
	b.move(BGParallelReplaying)
	if from > b.replayed {
		b.replayed = from
	}
}

// WakeupBGReplay is polar_logindex_wakeup_bg_replay (polar_logindex_redo.c),
// called by CheckRecoveryConsistency (xlogrecovery.c) when hot standby is
// first reached: bg_replayed_lsn becomes replayed, and, with parallel
// (standby parallel replay, or a replica with polar_enable_ro_prewarm),
// replayed_oldest_lsn too; then the state is written, REPLICA_BUF_REPLAYING
// or PARALLEL_REPLAYING, over whatever it was. Only an unchecked BGW takes
// this path (it overwrites WAITING_RESET when a replica promoted before hot
// standby reaches it during the final read).
func (b *BGW) WakeupBGReplay(replayed storage.LSN, parallel bool) {
	sim.Assertf(b.unchecked, "shmem: WakeupBGReplay on a checked BGW")
	b.replayed = replayed
	to := BGReplicaBufReplaying
	if parallel {
		b.fakeOldest = replayed
		to = BGParallelReplaying
	}
	b.move(to)
}

// PromoteStandby is a standby's promote as StartupXLOG (xlog.c) does it for
// polar_logindex_promote_standby: the state is written PARALLEL_REPLAYING ->
// ONLINE_PROMOTE with no reset. The replay point and fake oldest LSN stay
// where parallel replay left them; the BGW goes on dispatching up to end,
// the end of the WAL the standby replayed, then finishes as a replica's
// promote does (polar_logindex_bg_online_promote).
func (b *BGW) PromoteStandby(end storage.LSN) {
	b.move(BGOnlinePromote)
	b.PromoteStart = b.replayed
	b.PromoteEnd = end
}

// EnterWaitingReset: the BGW acknowledged SIGUSR2.
func (b *BGW) EnterWaitingReset() { b.move(BGWaitingReset) }

// Reset is startup's reset of the BGW (polar_reset_bg_replayed_lsn plus the
// state change): replay point and fake oldest LSN move to start, the one time
// the replay point may move backwards, and the state becomes ONLINE_PROMOTE.
// The caller has checked (or, under a hazard, skipped checking) that the BGW
// is in WAITING_RESET; a reset from any other state is forced through so the
// checkers, not an assertion, judge the consequence.
func (b *BGW) Reset(start, end storage.LSN) {
	b.lastFrom = b.state
	b.state = BGOnlinePromote
	b.transitions++
	b.replayed = start
	// polar_reset_bg_replayed_lsn (polar_logindex_redo.c) stores
	// replayed_oldest_lsn = oldest_redo_ptr, a plain store that can move
	// it back (below a prewarm wake-up's value, which is the replay end:
	// polar_logindex_wakeup_bg_replay); the checked machine only raises it.
	if b.unchecked || start > b.fakeOldest {
		b.fakeOldest = start
	}
	b.PromoteStart = start
	b.PromoteEnd = end
	b.resets++
}

// FinishPromote: everything is replayed; back to NOT_START with a checkpoint
// requested.
func (b *BGW) FinishPromote() {
	b.move(BGRedoNotStart)
	b.CheckpointRequested = true
}

// Advance moves the replay point forward (never back: only Reset does that).
func (b *BGW) Advance(to storage.LSN) {
	if to < b.replayed && !b.unchecked {
		sim.Failf("shmem: replay point moving back %v -> %v outside a reset", b.replayed, to)
	}
	b.replayed = to
}

// RaiseFakeOldest moves the fake oldest LSN up to to (never down).
func (b *BGW) RaiseFakeOldest(to storage.LSN) {
	if to > b.fakeOldest {
		b.fakeOldest = to
	}
}

// BeginBackendReplay is a backend starting to replay a page during
// ONLINE_PROMOTE from from (max(PromoteStart, replay point)): it counts in
// BackendReplaying and publishes from until EndBackendReplay.
func (b *BGW) BeginBackendReplay(from storage.LSN) {
	b.BackendReplaying++
	b.backendStarts = append(b.backendStarts, from)
}

// EndBackendReplay withdraws one start published by BeginBackendReplay(from).
func (b *BGW) EndBackendReplay(from storage.LSN) {
	for i, l := range b.backendStarts {
		if l == from {
			b.backendStarts = append(b.backendStarts[:i], b.backendStarts[i+1:]...)
			b.BackendReplaying--
			return
		}
	}
	sim.Failf("shmem: backend replay from %v ended but never began", from)
}

// BackendMinReplayLSN is the smallest start a replaying backend published
// (polar_get_backend_min_replay_lsn), InvalidLSN when none is replaying.
func (b *BGW) BackendMinReplayLSN() storage.LSN {
	lo := storage.InvalidLSN
	for _, l := range b.backendStarts {
		if !lo.Valid() || l < lo {
			lo = l
		}
	}
	return lo
}
