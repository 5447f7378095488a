package startup_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/startup"
	"promotesim/storage"
)

// The standby tests reuse the world's device as the standby's OWN disk: the
// "primary" writes WAL, pages, clog and the control file to it (what a base
// backup copies), is unmounted, and the standby mounts it read-write. The
// test then plays the standby's walreceiver by appending records to that
// disk's pg_wal and publishing n.ReceivedLSN.

// standbyNode unmounts the writer and starts a standby's startup process on
// the device.
func (w *world) standbyNode(cfg shmem.Config) (*shmem.Node, *startup.Process) {
	w.t.Helper()
	w.dev.Unmount(primaryHost)
	n, err := shmem.NewNode(cfg, w.dev)
	require.NoError(w.t, err)
	require.NoError(w.t, n.Attach(storage.MountReadWrite))
	p := startup.New(n, startup.ModeStandby)
	n.Procs.Startup = w.s.Add(p)
	return n, p
}

// pageOf is page b as the standby sees it without replaying: its pooled copy,
// else its own disk.
func pageOf(t *testing.T, n *shmem.Node, b int) storage.Page {
	t.Helper()
	pg := n.Page(b)
	if id, ok := n.Pool.Lookup(pg); ok {
		return n.Pool.Get(id).Page
	}
	got, err := n.ReadStoragePage(pg)
	require.NoError(t, err)
	return got
}

// Before consistency a standby's startup replays its own WAL into buffers;
// at the end of that WAL it wakes the BGW into POLAR_BG_PARALLEL_REPLAYING
// and opens hot standby; from then on it only parses what the walreceiver
// flushed: page records into LogIndex (pages untouched), commits into the
// clog.
func TestStandbyRedoThenParse(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := newWorld(t, worldOpts{seed: seed, noSave: true, memSize: 1, table: 4})
			r := sim.NewRand(seed).Fork("standby")
			txns := func(k int) {
				for range k {
					blocks := make([]int, 1+r.Intn(3))
					for i := range blocks {
						blocks[i] = r.Intn(w.cfg.Pages)
					}
					w.txn(blocks, r.Intn(5) == 0)
				}
			}
			txns(3 + r.Intn(6))
			w.checkpoint()
			txns(2 + r.Intn(6))
			end, last := w.pwal.FlushedLSN(), w.pwal.PrevLSN()
			cfg := shmem.DefaultConfig(replicaHost)
			cfg.LogIndex.MemSize, cfg.LogIndex.TableSize = 1, 4 // the ring fills: startup saves its own tables
			n, p := w.standbyNode(cfg)

			res := w.s.RunUntil(func() bool { return p.State() == startup.StateStandbyStreaming }, 5000)
			require.Nil(t, res.Violation, "%v", res)
			require.Equal(t, startup.StateStandbyStreaming, p.State(), "%v\n%s", res, w.trace)
			require.Equal(t, end, n.ReplayLSN)
			require.Equal(t, end, n.ReceivedLSN, "streaming starts at the end of the WAL on the disk")
			require.Equal(t, end, n.WAL.FlushedLSN(), "pages redo dirtied may be written: their WAL is durable here")
			require.Equal(t, shmem.BGParallelReplaying, n.BGW.State())
			require.Equal(t, end, n.BGW.ReplayPoint())
			require.Equal(t, end, n.BGW.FakeOldest(), "buffers the workers dirty sort after startup's")
			require.True(t, n.Accepting)
			require.True(t, n.InRecovery)
			require.False(t, n.Primary)
			require.EqualValues(t, 1, w.s.Marks().Count("startup/standby-consistent"))
			// Startup replayed the pages itself, and indexed nothing.
			want := w.expectPages()
			for b := range want {
				require.Equal(t, want[b], pageOf(t, n, b), "page %d", b)
			}
			require.False(t, n.Index.LastLSN().Valid())
			for _, x := range w.commits {
				require.Equal(t, shmem.XactCommitted, n.Clog.Get(x), "xid %d", x)
			}
			require.NoError(t, n.Pool.Check())

			// The walreceiver writes more WAL to the disk; startup waits
			// until it is published as flushed.
			wal, err := logindex.NewWAL(n.Mount, cfg.LogIndex, end, last)
			require.NoError(t, err)
			before := make([]storage.Page, w.cfg.Pages)
			for b := range before {
				before[b] = pageOf(t, n, b)
			}
			from := len(w.recs)
			w.pwal = wal // the harness's txn writes through the standby's WAL now
			txns(4 + r.Intn(6))
			w.run(100, func() bool { return false })
			require.Equal(t, end, n.ReplayLSN, "nothing published yet")
			n.ReceivedLSN = wal.FlushedLSN()
			res = w.s.RunUntil(func() bool { return n.ReplayLSN == wal.FlushedLSN() }, 5000)
			require.True(t, res.Done, "%v\n%s", res, w.trace)
			for b := range before {
				require.Equal(t, before[b], pageOf(t, n, b), "startup parses, never applies, after consistency")
			}
			for _, rec := range w.recs[from:] {
				if !rec.Type.HasPages() {
					continue
				}
				for _, c := range rec.Changes {
					hist, err := n.Index.History(nil, c.Page, end-1, wal.FlushedLSN())
					require.NoError(t, err)
					require.Contains(t, hist, rec.Start, "page %v record %v in LogIndex", c.Page, rec.Start)
				}
			}
			require.True(t, n.Index.Saved().MaxLSN.Valid(), "a full ring was saved to the standby's own disk")
			for _, x := range w.commits {
				require.Equal(t, shmem.XactCommitted, n.Clog.Get(x), "xid %d", x)
			}
			require.Empty(t, w.exits.Of(n))

			// SIGUSR2 promotes it (standby_promote.go): a new timeline and
			// WAL from the end of what it parsed; the BGW goes to
			// ONLINE_PROMOTE with that end and no reset.
			rp := n.BGW.ReplayPoint()
			w.s.Post(n.Procs.Startup, shmem.SIGUSR2)
			res = w.s.RunUntil(func() bool { return p.State() == startup.StateExited }, 500)
			require.True(t, res.Done, "%v\n%s", res, w.trace)
			require.Equal(t, shmem.ExitNormal, w.exits.Of(n)[len(w.exits.Of(n))-1].Kind)
			require.True(t, n.Primary && !n.InRecovery)
			require.Equal(t, uint32(2), n.Control.TLI)
			require.True(t, n.StopWALReceiver)
			require.Equal(t, shmem.BGOnlinePromote, n.BGW.State())
			require.Equal(t, wal.FlushedLSN(), n.BGW.PromoteEnd)
			require.Equal(t, rp, n.BGW.ReplayPoint(), "no reset")
			require.EqualValues(t, 1, w.s.Marks().Count("startup/standby-promote"))
		})
	}
}

// A standby without LogIndex cannot replay in parallel: FATAL, named.
func TestStandbyNeedsLogIndex(t *testing.T) {
	w := newWorld(t, worldOpts{seed: 1, noSave: true})
	w.txn([]int{1}, false)
	cfg := shmem.DefaultConfig(replicaHost)
	cfg.LogIndex.MemSize = 0
	n, p := w.standbyNode(cfg)
	w.run(100, func() bool { return p.State() == startup.StateExited })
	require.Equal(t, startup.StateExited, p.State())
	require.Len(t, w.exits.Of(n), 1)
	require.Equal(t, shmem.ExitFATAL, w.exits.Of(n)[0].Kind)
	require.Equal(t, startup.ErrStandbyNeedsLogIndex.Error(), w.exits.Of(n)[0].Err)
	require.Equal(t, shmem.BGRedoNotStart, n.BGW.State())
	require.Equal(t, "standby", startup.ModeStandby.String())
}
