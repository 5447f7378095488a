package oracle_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/postmaster"
	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/oracle"
	"promotesim/shmem"
	"promotesim/storage"
)

func TestCrashImageLeavesDeviceAlone(t *testing.T) {
	c, _ := fixture.NewCluster(t, nil)
	n1 := c.Node(1)
	c.S.Hold(n1.Procs.BGWriter)
	fixture.Commit(t, c, 1, 0, 0)
	// An unsynced write, so the crash image has something to drop.
	var b [storage.BlockSize]byte
	require.NoError(t, n1.Mount.WriteAt(n1.RelPath(), b[:1], 7*storage.BlockSize))
	pending := c.Dev.Pending(1)
	require.NotEmpty(t, pending)
	wc, writer := c.Dev.WriteCount(), c.Dev.Epoch()
	img := oracle.CrashImage(c.Dev)
	require.Empty(t, img.Pending(1))
	require.Equal(t, pending, c.Dev.Pending(1))
	require.Equal(t, wc, c.Dev.WriteCount())
	require.Equal(t, writer, c.Dev.Epoch())
	_, still := c.Dev.Mounted(1)
	require.True(t, still)
}

func TestRecoverOfflineMatchesOracle(t *testing.T) {
	c, k := fixture.BusyWorld(t, 3, 4)
	cfg := c.NodeConfig(1)
	rec, err := oracle.RecoverOffline(oracle.CrashImage(c.Dev), cfg, nil)
	require.NoError(t, err)
	o := k.O
	require.Equal(t, o.End(), rec.End, "every valid record of this run is durable")
	require.Positive(t, rec.Replayed)
	for p := range rec.Pages {
		require.Equal(t, o.Page(p, rec.End), rec.Pages[p], "page %d", p)
	}
	committed := 0
	for _, a := range c.Journal.Acks {
		require.Equal(t, shmem.XactCommitted, rec.Clog.Get(a.XID))
		committed++
	}
	require.Positive(t, committed)
	require.NoError(t, k.Full())
}

// A crash of the primary in the middle of a busy run: the durable WAL is
// what recovery replays, and it still equals the oracle at its end.
func TestRecoverOfflineAfterCrash(t *testing.T) {
	c, k := fixture.NewCluster(t, nil)
	for i := 0; i < 30; i++ {
		_ = c.Write(1, postmaster.Txn{Writes: []postmaster.Write{{Page: i % 8, Slot: uint8(i % 4), Value: uint64(i + 1)}}})
		require.Nil(t, c.S.Run(7).Violation)
		require.NoError(t, k.Full(), "step %d", c.S.StepNo())
	}
	require.NoError(t, c.Crash(1))
	require.NoError(t, k.Full())
	require.NoError(t, c.Start(1, postmaster.RolePrimary))
	n1 := c.Node(1)
	r := c.S.RunUntil(func() bool { return n1.ReadWrite }, 5000)
	require.Nil(t, r.Violation)
	require.True(t, r.Done)
	require.NoError(t, k.RunAll())
}
