package startup_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/startup"
	"promotesim/storage"
)

func (w *world) inState(s startup.State) func() bool {
	return func() bool { return w.proc.State() == s }
}

// drained: startup consumed everything the primary wrote.
func (w *world) drained() bool { return w.n.ReplayLSN == w.pwal.FlushedLSN() }

// writeSome writes k transactions over the first pages.
func (w *world) writeSome(k int) {
	for i := range k {
		w.txn([]int{i % w.cfg.Pages, (i + 3) % w.cfg.Pages}, i%5 == 4)
	}
}

// orderWatch registers a checker that notes the V11 window: recovery done
// (InRecovery false) while the BGW is still WAITING_RESET.
func (w *world) orderWatch() *bool {
	window := false
	w.s.Checkers().Add("order-watch", func() error {
		if w.n != nil && !w.n.InRecovery && w.n.Primary && w.n.BGW.State() == shmem.BGWaitingReset {
			window = true
		}
		return nil
	})
	return &window
}

// promoteByHand runs a promote where the test plays the BGW: SIGUSR2 to
// startup only, then (once startup waits in P3) the BGW's acknowledgement.
func promoteByHand(t *testing.T, profile shmem.Profile) (*world, bool) {
	w := newWorld(t, worldOpts{profile: profile, scripted: true})
	window := w.orderWatch()
	w.writeSome(3)
	w.checkpoint()
	w.writeSome(2)
	w.startReplica()
	w.run(500, w.inState(startup.StateStreaming))
	// A reader caches page 0 (the replica's pool); later records outdate it.
	pg0 := w.n.Page(0)
	_, _, err := w.n.Buffer(w.s, pg0)
	require.NoError(t, err)
	require.True(t, w.n.Accepting)
	require.Equal(t, shmem.BGReplicaBufReplaying, w.n.BGW.State())
	require.Equal(t, w.redo, w.n.BGW.ReplayPoint())
	w.writeSome(4)
	w.checkpoint()
	w.writeSome(2)
	w.run(500, w.drained)
	require.Equal(t, startup.StateStreaming, w.proc.State())

	w.promote(false)
	w.run(500, w.inState(startup.StateWaitReset))
	// Startup waits for the BGW: nothing moves.
	r := w.run(200, nil)
	require.True(t, r.Quiescent)
	require.Equal(t, startup.StateWaitReset, w.proc.State())
	require.True(t, w.n.InRecovery)
	require.Nil(t, w.n.WAL)

	require.NoError(t, w.n.Index.SetWritable())
	w.n.BGW.EnterWaitingReset()
	w.run(500, w.exited)
	w.assertPromoted(t)
	id, cached := w.n.Pool.Lookup(pg0)
	if w.cfg.Orderings.EvictStale {
		require.False(t, cached, "V15 evicts the stale outdated buffer below redo")
	} else {
		require.True(t, cached)
		require.True(t, w.n.Pool.Get(id).Outdated)
	}
	return w, *window
}

func TestPromoteV15(t *testing.T) {
	w, window := promoteByHand(t, shmem.ProfileV15)
	require.False(t, window, "V15 resets the BGW before recovery is done")
	require.Contains(t, w.trace.String(), "reset-bgw")
	// V15 order in the trace: reset-bgw before recovery-done.
	tr := w.trace.String()
	require.Less(t, strings.Index(tr, "reset-bgw"), strings.Index(tr, "recovery-done"))
}

// TestResetEvictsOutdatedAboveRedo: a replica pools page 0 as stored after
// the checkpoint its promote adopts (the copy's LSN is above the redo), and
// later records outdate it. V15's reset (polar_online_promote_evict_buffer)
// keeps that copy; the fixed profile's (Orderings.EvictAllOutdated,
// docs/findings.md F5) evicts it and marks startup/reset-evicted-above-redo.
func TestResetEvictsOutdatedAboveRedo(t *testing.T) {
	for _, fixed := range []bool{false, true} {
		t.Run(fmt.Sprintf("fixed=%v", fixed), func(t *testing.T) {
			w := newWorld(t, worldOpts{profile: shmem.ProfileV15, scripted: true, fixed: fixed})
			w.writeSome(3)
			w.checkpoint()
			w.writeSome(2)
			w.flushPages() // the primary's bgwriter: page 0 stored above the redo
			w.startReplica()
			w.run(500, w.inState(startup.StateStreaming))
			pg0 := w.n.Page(0)
			id, _, err := w.n.Buffer(w.s, pg0)
			require.NoError(t, err)
			copyLSN := w.n.Pool.Get(id).Page.LSN
			w.writeSome(4)
			w.run(500, w.drained)
			w.promote(false)
			w.run(500, w.inState(startup.StateWaitReset))
			require.NoError(t, w.n.Index.SetWritable())
			w.n.BGW.EnterWaitingReset()
			w.run(500, w.exited)
			w.assertPromoted(t)
			require.GreaterOrEqual(t, copyLSN, w.n.Local.Redo, "the pooled copy is at or above the adopted redo")
			id, cached := w.n.Pool.Lookup(pg0)
			marks := w.s.Marks().Count("startup/reset-evicted-above-redo")
			if fixed {
				require.False(t, cached, "the fixed reset evicts the outdated copy above the redo")
				require.Equal(t, uint64(1), marks)
				return
			}
			require.True(t, cached, "V15's reset keeps an outdated copy at or above the redo")
			require.True(t, w.n.Pool.Get(id).Outdated)
			require.Zero(t, marks)
		})
	}
}

func TestPromoteV11Order(t *testing.T) {
	w, window := promoteByHand(t, shmem.ProfileV11)
	require.True(t, window, "V11 marks recovery done while the BGW is still WAITING_RESET")
	tr := w.trace.String()
	require.Less(t, strings.Index(tr, "recovery-done"), strings.Index(tr, "reset-bgw"))
}

// TestPromoteBeforeHotStandby: SIGUSR2 while startup still catches up; the
// catch-up reading becomes P1.
func TestPromoteBeforeHotStandby(t *testing.T) {
	for _, prof := range []shmem.Profile{shmem.ProfileV15, shmem.ProfileV11} {
		t.Run(prof.String(), func(t *testing.T) {
			w := newWorld(t, worldOpts{profile: prof, scripted: true})
			w.writeSome(2)
			w.checkpoint()
			w.writeSome(6)
			w.startReplica()
			// Init, indexing the WAL below the redo pointer (nothing was
			// saved: reindex.go), then a record of catch-up.
			w.run(100, w.inState(startup.StateCatchUp))
			w.run(1, nil)
			require.Equal(t, startup.StateCatchUp, w.proc.State())
			w.promote(true)
			w.run(1000, w.exited)
			require.Equal(t, uint64(1), w.s.Marks().Count("startup/promote-before-hot-standby"))
			require.Zero(t, w.s.Marks().Count("startup/hot-standby"))
			require.False(t, w.n.Accepting)
			w.assertPromoted(t)
		})
	}
}

// TestTriggerFileWaitsForever: the trigger file starts promote without
// SIGUSR2, so the BGW never enters WAITING_RESET and startup waits in P3.
func TestTriggerFileWaitsForever(t *testing.T) {
	w := newWorld(t, worldOpts{scripted: true})
	w.writeSome(3)
	w.startReplica()
	w.run(500, w.inState(startup.StateStreaming))
	w.writeSome(2)
	w.n.TriggerFile = true
	r := w.run(5000, nil)
	require.True(t, r.Quiescent, "%v", r)
	require.Equal(t, startup.StateWaitReset, w.proc.State())
	require.Equal(t, uint64(1), w.s.Marks().Count("startup/trigger-file-wait"))
	require.Equal(t, shmem.BGReplicaBufReplaying, w.n.BGW.State())
	require.True(t, w.n.InRecovery)
	require.Empty(t, w.exits.Of(w.n))
	require.Equal(t, w.pwal.FlushedLSN(), w.n.ReplayLSN, "P1 read the WAL to its end")
}

// TestMemtableRingFull: the primary stops saving LogIndex tables, the
// replica's memtables fill and startup stalls; once the primary saves, it
// resumes.
func TestMemtableRingFull(t *testing.T) {
	for _, phase := range []string{"catch-up", "streaming"} {
		t.Run(phase, func(t *testing.T) {
			w := newWorld(t, worldOpts{memSize: 2, table: logindex.MaxPages, noSave: true, scripted: true})
			w.saveIndex()
			if phase == "catch-up" {
				w.writeSome(8) // 16 page records: four tables' worth
				w.startReplica()
			} else {
				w.startReplica()
				w.run(500, w.inState(startup.StateStreaming))
				w.writeSome(8)
			}
			r := w.run(300, nil)
			require.False(t, r.Quiescent, "a stall retries on a timer")
			require.Positive(t, w.s.Marks().Count("startup/memtable-ring-full"))
			require.Less(t, w.n.ReplayLSN, w.pwal.FlushedLSN(), "stalled")
			stalledAt := w.n.ReplayLSN
			w.run(300, nil)
			require.Equal(t, stalledAt, w.n.ReplayLSN, "still stalled while nothing is saved")

			w.saveIndex()
			w.run(2000, func() bool { return w.drained() && w.proc.State() == startup.StateStreaming })
			require.Equal(t, w.pwal.FlushedLSN(), w.n.ReplayLSN)
			for b := range w.pages {
				pg := storage.PageID{Rel: rel, Block: storage.BlockNo(b)}
				got, err := w.n.Index.History(nil, pg, w.proc.Redo()-1, w.n.ReplayLSN)
				require.NoError(t, err)
				require.Equal(t, w.pageRecs(pg, w.proc.Redo(), w.n.ReplayLSN), got)
			}
		})
	}
}

// TestQueueOverflowStorageRead: the queue overflows while startup catches
// up; the walreceiver's storage-begin marker sends startup to storage, the
// storage-end marker brings it back to the queue.
func TestQueueOverflowStorageRead(t *testing.T) {
	w := newWorld(t, worldOpts{queue: 8, scripted: true})
	w.startReplica()
	w.run(1, nil) // init: the queue reference exists
	w.writeSome(6)
	require.True(t, w.n.Queue.InStorageMode())
	w.run(1000, func() bool { return w.drained() && w.proc.State() == startup.StateStreaming })
	for range 3 {
		// One transaction (three records) at a time fits: the first push
		// leaves storage mode with an end marker, then metas.
		w.writeSome(1)
		w.run(1000, func() bool { return w.drained() && w.proc.State() == startup.StateStreaming && pending(w) == 0 })
	}
	require.Positive(t, w.s.Marks().Count("startup/queue-overflow-storage-read"))
	require.False(t, w.n.Queue.InStorageMode())
	w.promote(true)
	w.run(1000, w.exited)
	w.assertPromoted(t)
}

func pending(w *world) int {
	refs := w.n.Queue.Refs(nil)
	if len(refs) == 0 {
		return 0
	}
	return refs[0].Pending
}

// TestRecordAfterEndPanics: the old primary writes again after P1 found
// the end; P4's re-read finds a valid record at E and PANICs.
func TestRecordAfterEndPanics(t *testing.T) {
	w := newWorld(t, worldOpts{scripted: true})
	w.writeSome(3)
	w.startReplica()
	w.run(500, w.inState(startup.StateStreaming))
	w.promote(false)
	w.run(500, w.inState(startup.StateWaitReset))
	end, _ := w.proc.End()
	w.stopped = false // it was never really stopped
	w.writeSome(1)
	require.NoError(t, w.n.Index.SetWritable())
	w.n.BGW.EnterWaitingReset()
	w.run(500, w.exited)
	require.Len(t, w.exits.Of(w.n), 1)
	require.Equal(t, shmem.ExitPANIC, w.exits.Of(w.n)[0].Kind)
	require.Contains(t, w.exits.Of(w.n)[0].Err, "record after end of recovery")
	require.Contains(t, w.exits.Of(w.n)[0].Err, end.String())
	require.Nil(t, w.n.WAL)
	require.True(t, w.n.InRecovery)
}

// TestSignals: SIGTERM ends startup (ExitKilled) in any state; SIGUSR2 in
// crash mode is ignored.
func TestSignals(t *testing.T) {
	w := newWorld(t, worldOpts{scripted: true})
	w.writeSome(2)
	w.startReplica()
	w.run(500, w.inState(startup.StateStreaming))
	w.s.Post(w.id, shmem.SIGTERM)
	w.run(10, w.exited)
	require.Equal(t, shmem.ExitKilled, w.exits.Of(w.n)[0].Kind)
	require.True(t, w.n.InRecovery)
}

// ---- seeded runs ---------------------------------------------------------

// primaryActor writes transactions and checkpoints until stopped, shipping
// metas to the replica.
type primaryActor struct {
	w    *world
	left int
	site sim.Site
	idle bool // between transactions (a client's think time)
}

func (a *primaryActor) Name() string                  { return "n1/primary" }
func (a *primaryActor) Ready() bool                   { return !a.w.stopped && a.left > 0 && !a.idle }
func (a *primaryActor) Receive(_ *sim.Ctx, _ sim.Msg) { a.idle = false }
func (a *primaryActor) Step(c *sim.Ctx) {
	a.left--
	w := a.w
	a.idle = true
	c.Wake(shmem.Wake{Why: "think"}, sim.Time(1+c.Choose(a.site, 16)))
	switch c.Choose(a.site, 8) {
	case 0:
		w.checkpoint()
		c.Log("checkpoint", sim.LSNField("redo", uint64(w.redo)))
	case 1:
		if !w.save {
			w.saveIndex()
			c.Log("logindex-save", sim.LSNField("saved", uint64(w.pix.Saved().MaxLSN)))
		}
	default:
		k := 1 + c.Choose(a.site, 3)
		blocks := make([]int, k)
		for i := range blocks {
			blocks[i] = c.Choose(a.site, w.cfg.Pages)
		}
		w.txn(blocks, c.Choose(a.site, 6) == 0)
		c.Log("txn", sim.Uint("xid", uint64(w.xid)), sim.LSNField("end", uint64(w.pwal.FlushedLSN())))
	}
}

// operator promotes once the primary has written `after` records: stop the
// primary, remount, SIGUSR2 to startup and the BGW.
type operator struct {
	w     *world
	pa    *primaryActor
	after int
	done  bool
}

func (o *operator) Name() string { return "operator" }
func (o *operator) Ready() bool {
	return !o.done && (len(o.w.recs) >= o.after || o.pa.left == 0)
}
func (o *operator) Receive(_ *sim.Ctx, _ sim.Msg) {}
func (o *operator) Step(c *sim.Ctx) {
	o.done = true
	w := o.w
	w.stopped = true
	w.connected = false
	if err := w.n.Mount.RemountRW(); err != nil {
		sim.Failf("remount: %v", err)
	}
	c.Send(w.id, shmem.SIGUSR2)
	c.Send(w.bgwID, shmem.SIGUSR2)
	c.Story("promote", sim.LSNField("old-end", uint64(w.pwal.FlushedLSN())))
}

func seedWorld(t testing.TB, seed uint64, prof shmem.Profile) *world {
	return seedWorldWith(t, seed, prof, func(*worldOpts) {})
}

// seedWorldWith is seedWorld with the options adjusted by set.
func seedWorldWith(t testing.TB, seed uint64, prof shmem.Profile, set func(*worldOpts)) *world {
	r := sim.NewRand(seed).Fork("options")
	o := worldOpts{seed: seed, profile: prof, queue: 4 + r.Intn(12)}
	if r.Intn(3) == 0 {
		o.memSize, o.table = 2+r.Intn(2), logindex.MaxPages
		o.noSave = r.Intn(2) == 0 // the primary saves only now and then
	}
	set(&o)
	w := newWorld(t, o)
	w.writeSome(r.Intn(4))
	if r.Intn(2) == 0 {
		w.checkpoint()
	}
	w.writeSome(r.Intn(4))
	w.startReplica()
	pa := &primaryActor{w: w, left: 5 + r.Intn(30), site: w.s.Site("primary")}
	w.s.Add(pa)
	w.s.Add(&operator{w: w, pa: pa, after: len(w.recs) + r.Intn(2*pa.left+1)})
	return w
}

func TestPromoteSeeds(t *testing.T) {
	seeds := 150
	if testing.Short() {
		seeds = 30
	}
	var marks sim.Marks
	for _, prof := range []shmem.Profile{shmem.ProfileV15, shmem.ProfileV11} {
		windows := 0
		for seed := uint64(1); seed <= uint64(seeds); seed++ {
			w := seedWorld(t, seed, prof)
			window := w.orderWatch()
			r := w.s.RunUntil(w.exited, 20000)
			if r.Violation != nil || !w.exited() {
				t.Fatalf("%v seed %d: %v (state %v)\n%s", prof, seed, r, w.proc.State(), w.trace.String())
			}
			ok := t.Run(fmt.Sprintf("%v/seed=%d", prof, seed), func(t *testing.T) { w.assertPromoted(t) })
			if !ok {
				t.Fatalf("%v seed %d trace:\n%s", prof, seed, w.trace.String())
			}
			if *window {
				windows++
			}
			require.Equal(t, prof == shmem.ProfileV15, windows == 0)
			marks.Merge(w.s.Marks())
		}
		if prof == shmem.ProfileV11 {
			require.Positive(t, windows, "V11 window seen in some seed")
		}
	}
	for _, m := range []string{"startup/hot-standby", "startup/promote-before-hot-standby",
		"startup/queue-overflow-storage-read", "startup/memtable-ring-full"} {
		require.Positive(t, marks.Count(m), "mark %s never reached over %d seeds", m, seeds)
	}
	t.Logf("marks: %v", marks.Names())
}

// TestPromoteDeterministic: the same seed gives the same trace.
func TestPromoteDeterministic(t *testing.T) {
	hash := func() uint64 {
		w := seedWorld(t, 7, shmem.ProfileV15)
		w.s.RunUntil(w.exited, 20000)
		return w.s.Trace().Hash()
	}
	require.Equal(t, hash(), hash())
}

// ---- crash recovery ------------------------------------------------------

func TestCrashRecovery(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 15
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		r := sim.NewRand(seed).Fork("crash")
		w := newWorld(t, worldOpts{seed: seed})
		for range 3 + r.Intn(20) {
			if r.Intn(6) == 0 {
				w.checkpoint()
				continue
			}
			blocks := make([]int, 1+r.Intn(3))
			for i := range blocks {
				blocks[i] = r.Intn(w.cfg.Pages)
			}
			w.txn(blocks, r.Intn(5) == 0)
		}
		oldEnd, oldLast := w.pwal.FlushedLSN(), w.pwal.PrevLSN()
		w.dev.Crash(primaryHost, nil)

		cfg := shmem.DefaultConfig(primaryHost)
		n, err := shmem.NewNode(cfg, w.dev)
		require.NoError(t, err)
		require.NoError(t, n.Attach(storage.MountReadWrite))
		p := startup.New(n, startup.ModeCrash)
		id := w.s.Add(p)
		w.s.Post(id, shmem.SIGUSR2) // ignored in crash mode
		res := w.s.RunUntil(func() bool { return p.State() == startup.StateExited }, 5000)
		require.Nil(t, res.Violation, "seed %d: %v", seed, res)
		require.Equal(t, startup.StateExited, p.State(), "seed %d", seed)
		require.Equal(t, shmem.ExitNormal, w.exits.Of(n)[0].Kind, "seed %d: %+v", seed, w.exits.Of(n)[0])

		want := w.expectPages()
		for b := range want {
			pg := n.Page(b)
			var got storage.Page
			if id, ok := n.Pool.Lookup(pg); ok {
				got = n.Pool.Get(id).Page
			} else {
				got, err = n.ReadStoragePage(pg)
				require.NoError(t, err)
			}
			require.Equal(t, want[b], got, "seed %d page %v", seed, pg)
		}
		for _, x := range w.commits {
			require.Equal(t, shmem.XactCommitted, n.Clog.Get(x), "seed %d xid %d", seed, x)
		}
		end, last := p.End()
		require.Equal(t, oldEnd, end)
		require.Equal(t, oldLast, last)
		rec, err := n.ReadRecord(end)
		require.NoError(t, err)
		require.Equal(t, logindex.RecEndOfRecovery, rec.Type)
		ctl, err := shmem.ReadControl(n.Mount)
		require.NoError(t, err)
		require.Equal(t, shmem.DBInProduction, ctl.State)
		require.Equal(t, primaryHost, ctl.Primary)
		require.Equal(t, w.redo, ctl.Redo)
		require.True(t, n.Primary)
		require.False(t, n.InRecovery)
		require.NoError(t, n.Pool.Check())
		// Dirty buffers carry the start of their first replayed record.
		for i := range n.Pool.Frames() {
			b := n.Pool.Get(storage.BufferID(i))
			if b.Dirty {
				require.GreaterOrEqual(t, b.OldestLSN, w.redo)
				require.Less(t, b.OldestLSN, b.Page.LSN)
			}
		}
	}
}

// TestCrashRecoveryNoControl: no control file is FATAL, not a Go panic.
func TestCrashRecoveryNoControl(t *testing.T) {
	dev, err := storage.NewDevice(storage.DeviceConfig{Blocks: 1 << 10, Fence: storage.FenceNone})
	require.NoError(t, err)
	n, err := shmem.NewNode(shmem.DefaultConfig(primaryHost), dev)
	require.NoError(t, err)
	require.NoError(t, n.Attach(storage.MountReadWrite))
	s := sim.New(sim.Config{Chooser: sim.NewScripted()})
	exits := shmem.WatchExits(s)
	p := startup.New(n, startup.ModeCrash)
	s.Add(p)
	s.Run(10)
	require.Equal(t, shmem.ExitFATAL, exits.Of(n)[0].Kind)
	require.Contains(t, exits.Of(n)[0].Err, "control file")
}

// TestHazardOrderings: the hazard switches change only what they name.
func TestHazardOrderings(t *testing.T) {
	t.Run("skip-final-replay", func(t *testing.T) {
		w := newWorld(t, worldOpts{scripted: true})
		w.cfg.Orderings.FinalReplay = false
		w.writeSome(2)
		w.startReplica()
		w.run(500, func() bool { return w.proc.State() == startup.StateStreaming && w.drained() })
		w.promote(true)
		w.run(500, w.exited)
		require.Contains(t, w.trace.String(), "skip-final-replay")
		w.assertPromoted(t) // the queue had everything: same outcome
	})
	t.Run("skip-final-replay-behind", func(t *testing.T) {
		w := newWorld(t, worldOpts{scripted: true})
		w.cfg.Orderings.FinalReplay = false
		w.writeSome(2)
		w.startReplica()
		w.run(500, w.inState(startup.StateStreaming))
		w.writeSome(2) // queued, not consumed
		w.promote(true)
		w.run(500, w.exited)
		require.Equal(t, shmem.ExitPANIC, w.exits.Of(w.n)[0].Kind, "the WAL the queue had not delivered follows E")
	})
	t.Run("skip-wait-reset", func(t *testing.T) {
		w := newWorld(t, worldOpts{scripted: true})
		w.cfg.Orderings.WaitReset = false
		w.writeSome(2)
		w.startReplica()
		w.run(500, w.inState(startup.StateStreaming))
		w.promote(false) // the BGW never acknowledges
		w.run(500, w.exited)
		require.Positive(t, w.s.Marks().Count("startup/reset-without-waiting-reset"))
		require.Equal(t, shmem.BGOnlinePromote, w.n.BGW.State())
		_, from, _ := w.n.BGW.Transitions()
		require.Equal(t, shmem.BGReplicaBufReplaying, from)
	})
	t.Run("logindex-off", func(t *testing.T) {
		w := newWorld(t, worldOpts{scripted: true})
		w.cfg.LogIndex.MemSize = 0
		w.writeSome(2)
		w.startReplica()
		w.run(500, w.inState(startup.StateStreaming))
		require.Equal(t, shmem.BGRedoNotStart, w.n.BGW.State(), "no BGW replay without LogIndex")
		require.Equal(t, shmem.XactCommitted, w.n.Clog.Get(1))
		w.promote(false)
		w.run(50, w.exited)
		require.Equal(t, shmem.ExitPANIC, w.exits.Of(w.n)[0].Kind)
		require.Contains(t, w.exits.Of(w.n)[0].Err, "polar_logindex_mem_size")
	})
}
