package shmem

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/storage"
)

func TestTwoPhaseStateFiles(t *testing.T) {
	dev, err := storage.NewDevice(storage.DeviceConfig{Blocks: 1024, Fence: storage.FenceNone})
	require.NoError(t, err)
	rw, err := dev.Mount(1, storage.MountReadWrite)
	require.NoError(t, err)
	ro, err := dev.Mount(2, storage.MountReadOnly)
	require.NoError(t, err)

	var tp TwoPhase
	tp.Add(GXact{XID: 7, GID: "a", PrepareStart: 0x100, PrepareEnd: 0x120, Valid: true})
	tp.Add(GXact{XID: 9, GID: "b", PrepareStart: 0x140, PrepareEnd: 0x160, Valid: true})
	tp.Add(GXact{XID: 11, GID: "c", PrepareStart: 0x100, PrepareEnd: 0x120}) // not yet prepared
	wrote, err := tp.CheckPointTwoPhase(rw, 0x140, false)
	require.NoError(t, err)
	require.Equal(t, 1, wrote, "only a valid transaction whose PREPARE ends at or below the redo")
	g, _ := tp.ByXID(7)
	require.True(t, g.OnDisk)
	require.False(t, g.PrepareStart.Valid())
	require.Equal(t, []logindex.XID{7}, TwoPhaseFiles(ro))
	gid, err := ReadTwoPhaseFile(ro, 7)
	require.NoError(t, err)
	require.Equal(t, "a", gid)
	_, err = ReadTwoPhaseFile(ro, 9)
	require.ErrorIs(t, err, ErrTwoPhaseFile)
	require.ErrorIs(t, RemoveTwoPhaseFile(ro, 7), storage.ErrReadOnly)
	require.NoError(t, RemoveTwoPhaseFile(rw, 7))
	require.NoError(t, RemoveTwoPhaseFile(rw, 7), "a missing file is no error")

	// A failed write: PolarDB leaves the truncated file, which the next
	// start cannot read (Fidelity.TwoPhaseFileLeftOnWriteError); the
	// model's default removes it.
	for _, leave := range []bool{true, false} {
		var tp TwoPhase
		tp.Add(GXact{XID: 13, GID: "d", PrepareStart: 0x100, PrepareEnd: 0x120, Valid: true})
		dev.InjectError(storage.FaultSpec{Op: storage.OpWrite, PathPrefix: TwoPhaseDir, Count: 1})
		_, err := tp.CheckPointTwoPhase(rw, 0x140, leave)
		require.ErrorIs(t, err, storage.ErrInjectedIO)
		g, _ := tp.ByXID(13)
		require.False(t, g.OnDisk, "still only in WAL")
		if leave {
			_, err := ReadTwoPhaseFile(ro, 13)
			require.ErrorContains(t, err, "too short")
			require.NoError(t, RemoveTwoPhaseFile(rw, 13))
		} else {
			require.Empty(t, TwoPhaseFiles(ro))
		}
	}
}
