package bgw

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// randomWorld writes a random old-primary history: some records, a
// checkpoint (all pages to storage: the redo pointer), more records with
// some pages written early (storage newer than redo), and commits.
func randomWorld(t *testing.T, seed uint64) *world {
	r := sim.NewRand(seed)
	cfg := shmem.DefaultConfig(2)
	cfg.LogIndex.ParallelReplayProcNum = 1 + r.Intn(4)
	cfg.LogIndex.BgReplayBatchSize = 1 + r.Intn(6)
	w := newWorld(t, cfg)
	xid := logindex.XID(1)
	records := func(k int) {
		for range k {
			if r.Chance(sim.Per(1, 6)) {
				w.insert(&logindex.Record{Type: logindex.RecCommit, XID: xid})
				xid++
				continue
			}
			var triples []int
			for range 1 + r.Intn(3) {
				triples = append(triples, r.Intn(cfg.Pages), r.Intn(storage.PageSlots), 1+r.Intn(1000))
			}
			w.change(xid, triples...)
			if r.Chance(sim.Per(1, 8)) && w.pm.Exists(w.relPath()) {
				w.writePage(r.Intn(cfg.Pages))
			}
		}
	}
	records(5 + r.Intn(20))
	w.checkpoint()
	records(10 + r.Intn(40))
	return w
}

// TestOnlinePromoteSeeds runs the whole BGW story on many seeds, with the
// random chooser interleaving the BGW and its workers: replica buffer replay
// for a while, SIGUSR2, WAITING_RESET, startup's reset, ONLINE_PROMOTE until
// NOT_START. Then every page (pooled or on storage) equals applying all WAL
// in order; every dirty buffer carries a fake oldest LSN value (and the
// monitor checked after each step that it was the fake oldest LSN of that
// moment, that the fake oldest never decreased, that the replay point only
// advanced, and that one page's tasks stayed on one worker).
func TestOnlinePromoteSeeds(t *testing.T) {
	var marks sim.Marks
	for seed := uint64(1); seed <= 300; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := randomWorld(t, seed)
			w.replica(sim.NewRandom(seed), seed)
			n := w.n
			r := sim.NewRand(seed ^ 0x5eed)
			for i := range r.Intn(n.Cfg.PoolFrames + 1) {
				from := w.redo + storage.LSN(r.Intn(int(n.ReplayLSN-w.redo)+1))
				w.load((i*3+int(seed))%n.Cfg.Pages, from)
			}
			n.PrimaryConsistent = w.redo
			n.BGW.StartReplicaBufReplaying(w.redo)
			w.run(r.Intn(6), nil)
			require.LessOrEqual(t, n.BGW.ReplayPoint(), n.ReplayLSN)

			w.promote()
			w.runUntilState(shmem.BGWaitingReset, 50)
			require.True(t, n.Index.Writable(), "SIGUSR2 makes LogIndex writable")
			require.Equal(t, ControlReleased, w.b.Control())

			w.reset(w.redo)
			end := n.BGW.PromoteEnd
			w.runUntilState(shmem.BGRedoNotStart, 20000)

			require.True(t, n.BGW.CheckpointRequested)
			require.Equal(t, end, n.BGW.ReplayPoint(), "replay point ends at the end of the old primary's WAL")
			require.Zero(t, w.b.Inflight())
			w.requireOracle()
			for i := range n.Pool.Frames() {
				b := n.Pool.Get(storage.BufferID(i))
				if b.Dirty {
					require.True(t, w.mon.fakeSeen(b.OldestLSN), "buffer %v oldest %v was never the fake oldest LSN", b.Tag, b.OldestLSN)
				}
			}
			require.EqualValues(t, 1, w.s.Marks().Count("bgw/promote-finished"))
			require.NotZero(t, w.s.Marks().Count("bgw/online-promote-dispatch"))
			marks.Merge(w.s.Marks())
		})
	}
	require.NotZero(t, marks.Count("bgw/dispatch-queue-full"), "some seed filled a worker queue: %v", marks.Names())
}

// replicaWorld is a fixed history for REPLICA_BUF_REPLAYING:
//
//	before redo: pages 0..3 written
//	[redo, consistent): page 0 and page 2 change
//	[consistent, end):  pages 0, 1 and 2 change
//
// Pages 0, 1 and 3 are pooled (state at redo); page 2 is not.
func replicaWorld(t *testing.T) (*world, storage.LSN) {
	cfg := shmem.DefaultConfig(2)
	cfg.LogIndex.BgReplayBatchSize = 2
	w := newWorld(t, cfg)
	w.change(1, 0, 0, 10, 1, 0, 11)
	w.change(1, 2, 0, 12, 3, 0, 13)
	w.checkpoint()
	w.change(2, 0, 1, 20)
	w.change(2, 2, 1, 22)
	consistent := w.wal.InsertLSN()
	w.change(3, 0, 2, 30, 1, 2, 31)
	w.change(3, 2, 2, 32)
	w.change(3, 1, 3, 41)
	w.replica(sim.NewScripted(), 1)
	for _, i := range []int{0, 1, 3} {
		w.load(i, w.redo)
	}
	w.n.PrimaryConsistent = consistent
	return w, consistent
}

// TestReplicaBufReplaying: pooled pages get replayed without being dirtied;
// a pooled page with an entry below the primary's consistent LSN is evicted
// instead; pages not in the pool stay out; the replay point reaches
// n.ReplayLSN; the replica writes nothing to storage; new WAL indexed later
// is picked up from where the iterator stopped.
func TestReplicaBufReplaying(t *testing.T) {
	w, _ := replicaWorld(t)
	n := w.n
	writes := w.dev.WriteCount()
	n.BGW.StartReplicaBufReplaying(w.redo)
	require.True(t, w.b.Ready())
	r := w.run(100, nil)
	require.True(t, r.Quiescent, "%v", r)
	require.Equal(t, shmem.BGReplicaBufReplaying, n.BGW.State())
	require.Equal(t, n.ReplayLSN, n.BGW.ReplayPoint())

	want := w.oracle()
	_, ok := n.Pool.Lookup(w.page(0))
	require.False(t, ok, "page 0 had a change below the consistent LSN: evicted")
	_, ok = n.Pool.Lookup(w.page(2))
	require.False(t, ok, "page 2 was never pooled")
	for _, i := range []int{1, 3} {
		id, ok := n.Pool.Lookup(w.page(i))
		require.True(t, ok)
		b := n.Pool.Get(id)
		require.Equal(t, want[i], b.Page, "page %d replayed in place", i)
		require.False(t, b.Dirty)
	}
	require.Zero(t, n.Pool.FlushLen())
	require.Equal(t, writes, w.dev.WriteCount(), "a replica writes nothing")
	require.EqualValues(t, 1, w.s.Marks().Count("bgw/evict-instead-of-replay"))

	// More WAL arrives; startup indexes it; the BGW resumes.
	w.change(4, 1, 0, 50, 3, 3, 53)
	w.index()
	writes = w.dev.WriteCount() // the old primary wrote that WAL
	require.True(t, w.b.Ready())
	w.run(100, nil)
	want = w.oracle()
	for _, i := range []int{1, 3} {
		id, _ := n.Pool.Lookup(w.page(i))
		require.Equal(t, want[i], n.Pool.Get(id).Page)
	}
	require.Equal(t, n.ReplayLSN, n.BGW.ReplayPoint())
	require.Equal(t, writes, w.dev.WriteCount())
}

// TestParallelReplaying drives the dispatch machinery bounded by
// n.ReplayLSN (standby / prewarm): every page replayed and dirtied with the
// fake oldest LSN, the state stays PARALLEL_REPLAYING, SIGUSR2 still leads
// to WAITING_RESET.
func TestParallelReplaying(t *testing.T) {
	w := randomWorld(t, 7)
	w.dev.Unmount(1) // the standby-like node is the only writer
	w.replica(sim.NewRandom(7), 7)
	n := w.n
	require.NoError(t, n.Mount.RemountRW())
	end, last := w.endOfWAL()
	var err error
	n.WAL, err = logindex.NewWAL(n.Mount, w.cfg.LogIndex, end, last)
	require.NoError(t, err)
	n.BGW.StartParallelReplaying(w.redo)
	r := w.run(20000, nil)
	require.True(t, r.Quiescent, "%v", r)
	require.Equal(t, shmem.BGParallelReplaying, n.BGW.State())
	require.Equal(t, n.ReplayLSN, n.BGW.ReplayPoint())
	require.Equal(t, n.BGW.ReplayPoint(), n.BGW.FakeOldest())
	w.requireOracle()
	require.False(t, n.BGW.CheckpointRequested)
	require.Zero(t, w.s.Marks().Count("bgw/online-promote-dispatch"))

	w.s.Post(w.bgwID, shmem.SIGUSR2)
	w.runUntilState(shmem.BGWaitingReset, 10)
}

// TestBackendReplayHoldsFinish: a backend replaying a page during
// ONLINE_PROMOTE caps the fake oldest LSN at its published start and keeps
// the BGW from finishing until it is done.
func TestBackendReplayHoldsFinish(t *testing.T) {
	w := randomWorld(t, 3)
	w.replica(sim.NewRandom(3), 3)
	n := w.n
	w.promote()
	w.runUntilState(shmem.BGWaitingReset, 10)
	w.reset(w.redo)
	n.BGW.BeginBackendReplay(w.redo)
	r := w.run(20000, nil)
	require.True(t, r.Quiescent, "%v", r)
	require.Equal(t, shmem.BGOnlinePromote, n.BGW.State(), "a backend still replays")
	require.Equal(t, n.BGW.PromoteEnd, n.BGW.ReplayPoint())
	require.Equal(t, w.redo, n.BGW.FakeOldest(), "fake oldest capped at the backend's start")
	n.BGW.EndBackendReplay(w.redo)
	require.True(t, w.b.Ready())
	w.runUntilState(shmem.BGRedoNotStart, 10)
	require.Equal(t, n.BGW.PromoteEnd, n.BGW.FakeOldest())
	w.requireOracle()
}

// TestWorkerBuffersBusy: with every frame pinned (by backends reading pages
// no task needs), a worker whose page is not pooled retries (stays Ready)
// until a buffer is freed.
func TestWorkerBuffersBusy(t *testing.T) {
	cfg := shmem.DefaultConfig(2)
	w := newWorld(t, cfg)
	w.checkpoint()
	for i := cfg.PoolFrames; i < cfg.Pages; i++ {
		w.change(1, i, 0, 100+i)
	}
	w.replica(sim.NewScripted(), 1)
	n := w.n
	var pinned []storage.BufferID
	for i := range cfg.PoolFrames {
		id := w.load(i, w.redo)
		n.Pool.Pin(id)
		pinned = append(pinned, id)
	}
	w.promote()
	w.runUntilState(shmem.BGWaitingReset, 10)
	w.reset(w.redo)
	w.run(200, nil)
	require.Equal(t, shmem.BGOnlinePromote, n.BGW.State())
	require.NotZero(t, w.s.Marks().Count("bgw/worker-buffers-busy"))
	require.NotContains(t, w.trace.String(), "buffer-io-wait")
	for _, id := range pinned {
		n.Pool.Unpin(id)
	}
	w.runUntilState(shmem.BGRedoNotStart, 2000)
	w.requireOracle()
}

// TestWorkerWaitsForReplayingBuffer: a page whose buffer a backend pinned
// (its read and replay under way) is not replayed by a worker: the task
// waits, unfinished, until the pin is gone (handle_parallel_replay_task's
// BUF_IS_REPLAYING), and the BGW cannot finish before.
func TestWorkerWaitsForReplayingBuffer(t *testing.T) {
	cfg := shmem.DefaultConfig(2)
	w := newWorld(t, cfg)
	w.checkpoint()
	rec := w.change(1, 0, 0, 100)
	w.replica(sim.NewScripted(), 1)
	n := w.n
	id := w.load(0, w.redo)
	n.Pool.Pin(id)
	w.promote()
	w.runUntilState(shmem.BGWaitingReset, 10)
	w.reset(w.redo)
	w.run(100, nil)
	require.Equal(t, shmem.BGOnlinePromote, n.BGW.State())
	require.Contains(t, w.trace.String(), "buffer-io-wait")
	require.False(t, n.Pool.Get(id).Dirty, "the worker left the page to its reader")
	require.Less(t, n.Pool.Get(id).Page.LSN, rec.End)
	require.LessOrEqual(t, n.BGW.ReplayPoint(), rec.Start, "the unfinished task holds the replay point")
	n.Pool.Unpin(id)
	w.runUntilState(shmem.BGRedoNotStart, 2000)
	require.True(t, n.Pool.Get(id).Dirty)
	require.Equal(t, rec.End, n.Pool.Get(id).Page.LSN)
	w.requireOracle()
}

// TestSignals: SIGUSR2 before hot standby (NOT_START) still reaches
// WAITING_RESET; a second SIGUSR2 is ignored; SIGTERM ends the BGW and
// SIGQUIT a worker, both recorded as killed.
func TestSignals(t *testing.T) {
	w := randomWorld(t, 11)
	w.replica(sim.NewScripted(), 11)
	n := w.n
	require.False(t, w.b.Ready())
	w.promote()
	w.runUntilState(shmem.BGWaitingReset, 5)
	w.s.Post(w.bgwID, shmem.SIGUSR2)
	w.run(5, nil)
	require.Equal(t, shmem.BGWaitingReset, n.BGW.State())
	require.Contains(t, w.trace.String(), "ignore-promote-signal")

	w.s.Post(w.workers[0], shmem.SIGQUIT)
	w.s.Post(w.bgwID, shmem.SIGTERM)
	w.run(5, nil)
	require.False(t, w.s.Alive(w.bgwID))
	require.False(t, w.s.Alive(w.workers[0]))
	require.Len(t, w.exits.Of(n), 2)
	for _, e := range w.exits.Of(n) {
		require.Equal(t, shmem.ExitKilled, e.Kind)
	}
}

// TestWorkerFlushListPanic: a worker dirtying a buffer with an oldest LSN
// below the flush list's tail hits PolarDB's flush-list PANIC (issue #487):
// it exits PANIC, recorded with the error text.
func TestWorkerFlushListPanic(t *testing.T) {
	w := randomWorld(t, 5)
	w.replica(sim.NewScripted(), 5)
	n := w.n
	w.promote()
	w.runUntilState(shmem.BGWaitingReset, 10)
	w.reset(w.redo)
	// A buffer dirtied before the reset with an oldest LSN above the fake
	// oldest LSN: the first worker append is out of order (issue #487).
	id := w.load(0, w.redo)
	require.NoError(t, n.Pool.MarkDirty(id, n.BGW.PromoteEnd))
	w.mon.dirty[id] = n.Pool.Get(id).Tag
	r := w.s.RunUntil(nil, 2000)
	require.Nil(t, r.Violation)
	require.NotEmpty(t, w.exits.Of(n))
	require.Equal(t, shmem.ExitPANIC, w.exits.Of(n)[0].Kind)
	require.Contains(t, w.exits.Of(n)[0].Err, "flush list")
}

func TestWorkerFor(t *testing.T) {
	for k := 1; k <= 8; k++ {
		seen := map[int]bool{}
		for b := range 64 {
			p := storage.PageID{Rel: 1, Block: storage.BlockNo(b)}
			i := workerFor(p, k)
			require.Equal(t, i, workerFor(p, k))
			require.True(t, i >= 0 && i < k)
			seen[i] = true
		}
		require.Len(t, seen, k, "every worker gets pages")
	}
}

func TestControlString(t *testing.T) {
	require.Equal(t, "released", ControlReleased.String())
	require.Equal(t, "dispatch", ControlDispatch.String())
	require.Equal(t, "Control(0)", Control(0).String())
}

// TestBackendBelowResetPanics: a backend that published an LSN below the
// reset's start (a replica read promote did not wait for, which published
// its restartpoint's redo) would move the fake oldest LSN back: the BGW
// PANICs at its first ONLINE_PROMOTE round, as polar_logindex_bg_dispatch's
// POLAR_ASSERT_PANIC does. One at or above the start only caps it.
func TestBackendBelowResetPanics(t *testing.T) {
	for _, tc := range []struct {
		name  string
		below bool
	}{{"below", true}, {"at", false}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := shmem.DefaultConfig(2)
			w := newWorld(t, cfg)
			old := w.redo
			w.change(1, 0, 0, 100)
			w.checkpoint()
			w.change(2, 1, 0, 200)
			w.replica(sim.NewScripted(), 1)
			n := w.n
			require.Less(t, old, w.redo)
			published := w.redo
			if tc.below {
				published = old
			}
			n.BGW.BeginBackendReplay(published)
			w.promote()
			w.runUntilState(shmem.BGWaitingReset, 10)
			w.reset(w.redo)
			w.run(20, nil)
			var panicked []shmem.ChildExit
			for _, e := range w.exits.Of(n) {
				if e.Kind == shmem.ExitPANIC {
					panicked = append(panicked, e)
				}
			}
			if !tc.below {
				require.Empty(t, panicked)
				require.Equal(t, w.redo, n.BGW.FakeOldest())
				return
			}
			require.Len(t, panicked, 1)
			require.Equal(t, n.Proc("bgw"), panicked[0].Name)
			require.Contains(t, panicked[0].Err, "polar assertion failed")
			require.Equal(t, w.redo, n.BGW.FakeOldest(), "never lowered")
		})
	}
}
