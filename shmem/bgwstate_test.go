package shmem

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/sim"
	"promotesim/storage"
)

var allBGWStates = []BGWState{BGRedoNotStart, BGReplicaBufReplaying, BGParallelReplaying, BGWaitingReset, BGOnlinePromote}

// TestLegalBGWTransitionTable spells out docs/model.md §6 as a full table: every
// from/to pair of the five states (and the invalid zero state).
func TestLegalBGWTransitionTable(t *testing.T) {
	type edge struct{ from, to BGWState }
	legal := map[edge]bool{
		// Startup at hot standby, or prewarm / standby.
		{BGRedoNotStart, BGReplicaBufReplaying}: true,
		{BGRedoNotStart, BGParallelReplaying}:   true,
		// SIGUSR2 from any non-promoting state.
		{BGRedoNotStart, BGWaitingReset}:        true,
		{BGReplicaBufReplaying, BGWaitingReset}: true,
		{BGParallelReplaying, BGWaitingReset}:   true,
		// Startup's reset.
		{BGWaitingReset, BGOnlinePromote}: true,
		// A standby's promote (xlog.c, polar_logindex_promote_standby).
		{BGParallelReplaying, BGOnlinePromote}: true,
		// Promote replay finished.
		{BGOnlinePromote, BGRedoNotStart}: true,
	}
	states := append([]BGWState{0}, allBGWStates...)
	n := 0
	for _, from := range states {
		for _, to := range states {
			want := legal[edge{from, to}]
			require.Equal(t, want, LegalBGWTransition(from, to), "%v -> %v", from, to)
			if want {
				n++
			}
		}
	}
	require.Equal(t, len(legal), n)
}

func TestBGWStateNames(t *testing.T) {
	want := []string{"POLAR_BG_REDO_NOT_START", "POLAR_BG_REPLICA_BUF_REPLAYING", "POLAR_BG_PARALLEL_REPLAYING",
		"POLAR_BG_WAITING_RESET", "POLAR_BG_ONLINE_PROMOTE"}
	for i, s := range allBGWStates {
		require.Equal(t, want[i], s.String())
	}
	require.Equal(t, "BGWState(0)", BGWState(0).String())
}

// assertionFailure runs f and returns the *sim.AssertionError it panics
// with (failing the test if it does not).
func assertionFailure(t *testing.T, f func()) (ae *sim.AssertionError) {
	t.Helper()
	defer func() {
		r := recover()
		require.NotNil(t, r, "expected an assertion failure")
		var ok bool
		ae, ok = r.(*sim.AssertionError)
		require.True(t, ok, "panic value %T %v is not *sim.AssertionError", r, r)
	}()
	f()
	return nil
}

func TestBGWLifecycle(t *testing.T) {
	b := NewBGW()
	require.Equal(t, BGRedoNotStart, b.State())
	require.False(t, b.Promoting())

	b.StartReplicaBufReplaying(0x100)
	require.Equal(t, BGReplicaBufReplaying, b.State())
	require.Equal(t, storage.LSN(0x100), b.ReplayPoint())
	require.False(t, b.Promoting())
	b.Advance(0x100) // standing still is fine
	b.Advance(0x400)
	require.Equal(t, storage.LSN(0x400), b.ReplayPoint())

	b.EnterWaitingReset()
	require.Equal(t, BGWaitingReset, b.State())
	require.False(t, b.Promoting())

	// The reset moves the replay point back (the one place it may) and
	// raises the fake oldest LSN from nothing to the start.
	b.Reset(0x180, 0x500)
	require.Equal(t, BGOnlinePromote, b.State())
	require.True(t, b.Promoting())
	require.Equal(t, storage.LSN(0x180), b.ReplayPoint())
	require.Equal(t, storage.LSN(0x180), b.FakeOldest())
	require.Equal(t, storage.LSN(0x180), b.PromoteStart)
	require.Equal(t, storage.LSN(0x500), b.PromoteEnd)
	require.Equal(t, 1, b.Resets())
	n, from, to := b.Transitions()
	require.Equal(t, 3, n)
	require.Equal(t, BGWaitingReset, from)
	require.Equal(t, BGOnlinePromote, to)

	b.RaiseFakeOldest(0x300)
	b.RaiseFakeOldest(0x200) // never down
	require.Equal(t, storage.LSN(0x300), b.FakeOldest())
	b.Advance(0x500)

	require.False(t, b.CheckpointRequested)
	b.FinishPromote()
	require.Equal(t, BGRedoNotStart, b.State())
	require.True(t, b.CheckpointRequested)
	require.False(t, b.Promoting())

	// A second promote (before hot standby: from NOT_START) whose start is
	// below the fake oldest LSN: the replay point goes back, the fake
	// oldest LSN stays.
	b.EnterWaitingReset()
	b.Reset(0x200, 0x600)
	require.Equal(t, storage.LSN(0x200), b.ReplayPoint())
	require.Equal(t, storage.LSN(0x300), b.FakeOldest())
	require.Equal(t, 2, b.Resets())
	n, _, _ = b.Transitions()
	require.Equal(t, 6, n)
}

func TestBGWParallelReplayingPromoting(t *testing.T) {
	b := NewBGW()
	b.StartParallelReplaying(0x80)
	require.Equal(t, BGParallelReplaying, b.State())
	require.Equal(t, storage.LSN(0x80), b.ReplayPoint())
	require.True(t, b.Promoting())
	b.EnterWaitingReset()
	require.False(t, b.Promoting())
}

func TestBGWStartDoesNotMoveBack(t *testing.T) {
	b := NewBGW()
	b.Advance(0x300)
	b.StartReplicaBufReplaying(0x100)
	require.Equal(t, storage.LSN(0x300), b.ReplayPoint())
}

// A reset outside WAITING_RESET (a hazard skipping the wait) is forced
// through, recorded as such, so checkers judge it.
func TestBGWResetForced(t *testing.T) {
	b := NewBGW()
	b.StartReplicaBufReplaying(0x100)
	b.Reset(0x80, 0x200)
	n, from, to := b.Transitions()
	require.Equal(t, 2, n)
	require.Equal(t, BGReplicaBufReplaying, from)
	require.Equal(t, BGOnlinePromote, to)
	require.False(t, LegalBGWTransition(from, to), "a checker can see the illegal edge")
}

func TestBGWAssertions(t *testing.T) {
	b := NewBGW()
	b.Advance(0x200)
	ae := assertionFailure(t, func() { b.Advance(0x1F8) })
	require.Contains(t, ae.Msg, "replay point moving back")
	require.Equal(t, storage.LSN(0x200), b.ReplayPoint())

	ae = assertionFailure(t, func() { b.FinishPromote() })
	require.Contains(t, ae.Msg, "illegal BGW transition")
	require.Equal(t, BGRedoNotStart, b.State())
	require.False(t, b.CheckpointRequested)

	b.StartReplicaBufReplaying(0)
	ae = assertionFailure(t, func() { b.StartParallelReplaying(0) })
	require.Contains(t, ae.Msg, "POLAR_BG_REPLICA_BUF_REPLAYING -> POLAR_BG_PARALLEL_REPLAYING")

	ae = assertionFailure(t, func() { b.EndBackendReplay(0x10) })
	require.Contains(t, ae.Msg, "never began")
}

func TestBackendReplay(t *testing.T) {
	b := NewBGW()
	require.Equal(t, storage.InvalidLSN, b.BackendMinReplayLSN())
	require.Equal(t, 0, b.BackendReplaying)

	b.BeginBackendReplay(0x300)
	b.BeginBackendReplay(0x100)
	b.BeginBackendReplay(0x100)
	b.BeginBackendReplay(0x200)
	require.Equal(t, 4, b.BackendReplaying)
	require.Equal(t, storage.LSN(0x100), b.BackendMinReplayLSN())

	b.EndBackendReplay(0x100) // one of two equal starts
	require.Equal(t, 3, b.BackendReplaying)
	require.Equal(t, storage.LSN(0x100), b.BackendMinReplayLSN())
	b.EndBackendReplay(0x100)
	require.Equal(t, storage.LSN(0x200), b.BackendMinReplayLSN())
	b.EndBackendReplay(0x300)
	require.Equal(t, storage.LSN(0x200), b.BackendMinReplayLSN())
	b.EndBackendReplay(0x200)
	require.Equal(t, 0, b.BackendReplaying)
	require.Equal(t, storage.InvalidLSN, b.BackendMinReplayLSN())

	ae := assertionFailure(t, func() { b.EndBackendReplay(0x200) })
	require.Contains(t, ae.Msg, "never began")
	require.Equal(t, 0, b.BackendReplaying)
}
