package startup_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/startup"
	"promotesim/storage"
)

// crashedPrimary builds a primary whose last page write was never made
// durable: it writes page 0 (its WAL flushed), the fsync fails and the
// primary PANICs; the process is gone, the host is not, so the write stays
// pending, visible to every host. state is the control file's state.
func crashedPrimary(t *testing.T, state shmem.DBState) (*world, storage.Page) {
	t.Helper()
	w := newWorld(t, worldOpts{scripted: true})
	w.txn([]int{0}, false)
	want := w.pages[0]
	var img [storage.BlockSize]byte
	want.Marshal(img[:])
	require.NoError(t, w.pm.WriteAt("base/1", img[:], 0))
	w.dev.InjectError(storage.FaultSpec{Op: storage.OpSync, Host: primaryHost, PathPrefix: "base/", Count: 1})
	require.ErrorIs(t, w.pm.Sync("base/1"), storage.ErrInjectedIO)
	if state != shmem.DBInProduction {
		require.NoError(t, shmem.WriteControl(w.pm, shmem.Control{State: state, CheckPoint: w.ckpt,
			Redo: w.redo, TLI: 1, NextXID: uint32(w.xid) + 1, Primary: primaryHost}))
	}
	w.dev.Unmount(primaryHost)
	require.NotEmpty(t, w.dev.Pending(primaryHost))
	return w, want
}

// recoverOn runs crash recovery on host h and returns the node, its
// startup process and the exits they reported.
func recoverOn(t *testing.T, w *world, h storage.HostID) (*shmem.Node, *startup.Process, []shmem.ChildExit) {
	t.Helper()
	n, err := shmem.NewNode(shmem.DefaultConfig(h), w.dev)
	require.NoError(t, err)
	require.NoError(t, n.Attach(storage.MountReadWrite))
	p := startup.New(n, startup.ModeCrash)
	s := sim.New(sim.Config{Chooser: sim.NewScripted()})
	exits := shmem.WatchExits(s)
	s.Add(p)
	s.RunUntil(func() bool { return p.State() == startup.StateExited }, 5000)
	require.Equal(t, startup.StateExited, p.State())
	return n, p, exits.Of(n)
}

// durablePage is page b of the crash image: every host loses power.
func durablePage(t *testing.T, dev *storage.Device, b int) storage.Page {
	t.Helper()
	img := dev.Clone()
	img.ClearFaults()
	img.PowerLoss()
	m, err := img.Mount(99, storage.MountReadOnly)
	require.NoError(t, err)
	var raw [storage.BlockSize]byte
	_, err = m.ReadAt("base/1", raw[:], int64(b)*storage.BlockSize)
	require.NoError(t, err)
	pg, err := storage.UnmarshalPage(raw[:])
	require.NoError(t, err)
	return pg
}

// TestCrashRecoverySyncsDataDirectory: crash recovery first makes everything
// the crashed server wrote durable (SyncDataDirectory), on its own host or
// another. Replay skips page 0 (storage already has the change), so nothing
// later would sync it, and a checkpoint would move redo past its record:
// without the sync a power loss would lose a committed change for good.
func TestCrashRecoverySyncsDataDirectory(t *testing.T) {
	for _, h := range []storage.HostID{primaryHost, 3} {
		w, want := crashedPrimary(t, shmem.DBInProduction)
		require.NotEqual(t, want, durablePage(t, w.dev, 0), "precondition: the page write is not durable")
		_, _, exits := recoverOn(t, w, h)
		require.Equal(t, shmem.ExitNormal, exits[0].Kind, "%+v", exits[0])
		require.Empty(t, w.dev.Pending(primaryHost), "recovery on %v synced the crashed server's writes", h)
		require.Equal(t, want, durablePage(t, w.dev, 0))
	}
}

// TestCrashRecoverySyncFailurePANICs: a failed sync of the data directory
// PANICs (data_sync_retry off) before anything is replayed.
func TestCrashRecoverySyncFailurePANICs(t *testing.T) {
	w, _ := crashedPrimary(t, shmem.DBInProduction)
	w.dev.InjectError(storage.FaultSpec{Op: storage.OpSync, PathPrefix: "base/", Count: 1})
	_, p, exits := recoverOn(t, w, primaryHost)
	require.Equal(t, shmem.ExitPANIC, exits[0].Kind)
	require.Contains(t, exits[0].Err, "sync data directory")
	end, _ := p.End()
	require.False(t, end.Valid(), "nothing replayed")
	require.NotEmpty(t, w.dev.Pending(primaryHost))
}

// TestCleanShutdownSkipsDataDirectorySync: after a clean shutdown there is
// nothing to sync, and StartupXLOG does not try: an armed sync fault stays.
func TestCleanShutdownSkipsDataDirectorySync(t *testing.T) {
	w, _ := crashedPrimary(t, shmem.DBShutdowned)
	w.dev.InjectError(storage.FaultSpec{Op: storage.OpSync, PathPrefix: "base/", Count: 1})
	_, _, exits := recoverOn(t, w, primaryHost)
	require.Equal(t, shmem.ExitNormal, exits[0].Kind, "%+v", exits[0])
	require.Len(t, w.dev.Faults(), 1, "no sync was tried")
}
