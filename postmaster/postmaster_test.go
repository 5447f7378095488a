package postmaster

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

var seeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8}

func TestPrimaryBootsAndServesReadWrite(t *testing.T) {
	o := defaultWorldOpts()
	o.replicas = 0
	w := newWorld(t, 1, o)
	n := w.node(1)
	require.True(t, n.Primary)
	require.False(t, n.InRecovery)
	require.True(t, n.Accepting)
	require.True(t, n.ReadWrite)
	require.NotNil(t, n.WAL)
	require.Equal(t, storage.MountReadWrite, n.Mount.Mode())
	host, _, ok := w.dev.Writer()
	require.True(t, ok)
	require.Equal(t, storage.HostID(1), host)
	require.Len(t, n.Procs.Backends, o.sessions)
	require.Equal(t, "run", w.s.Actor(n.Procs.Postmaster).(*Postmaster).State())

	// It came up through crash recovery from initdb's checkpoint, and its
	// startup process exited normally before read-write service opened.
	cr := w.log.first(t, "n1/startup", "crash-recovery")
	exit := w.log.first(t, "n1/startup", "exit")
	rw := w.log.first(t, "n1/postmaster", "read-write")
	require.Less(t, cr.idx, exit.idx)
	require.Less(t, exit.idx, rw.idx)
	require.Contains(t, exit.line, "kind=exit")
	require.Equal(t, shmem.DBInProduction, n.Control.State)
	ctl, err := shmem.ReadControl(w.observer())
	require.NoError(t, err)
	require.Equal(t, shmem.DBInProduction, ctl.State)
	require.Equal(t, storage.HostID(1), ctl.Primary)

	w.writeN(1, 0, 4)
	w.await("4 acks", func() bool { return w.acks(1) == 4 })
	var acked, want []Write
	for i, a := range w.j.Acks {
		require.Len(t, a.Writes, 1)
		acked = append(acked, a.Writes...)
		want = append(want, w.distinctWrite(i))
		require.Equal(t, shmem.XactCommitted, n.Clog.Get(a.XID))
	}
	require.ElementsMatch(t, want, acked)
	require.Empty(t, w.j.Errors)
}

// TestCommitAckedOnlyWhenDurable: every acknowledgement, at its step, has
// its commit record at or below the node's flushed WAL.
func TestCommitAckedOnlyWhenDurable(t *testing.T) {
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := newWorld(t, seed, defaultWorldOpts())
			w.s.Checkers().Add("CommitDurable", w.commitDurable())
			w.writeN(1, 0, 8)
			w.await("8 acks", func() bool { return w.acks(1) == 8 })
			w.writeN(1, 8, 8)
			w.await("16 acks", func() bool { return w.acks(1) == 16 })
			xids := map[uint64]bool{}
			for _, a := range w.j.Acks {
				require.False(t, xids[uint64(a.XID)], "xid %d acknowledged twice", a.XID)
				xids[uint64(a.XID)] = true
				require.Equal(t, shmem.XactCommitted, w.node(1).Clog.Get(a.XID))
			}
		})
	}
}

// The CommitDurable check is not vacuous: an acknowledgement above the
// flushed WAL is reported.
func TestCommitDurableCanary(t *testing.T) {
	o := defaultWorldOpts()
	o.replicas = 0
	w := newWorld(t, 1, o)
	check := w.commitDurable()
	require.NoError(t, check())
	n := w.node(1)
	w.j.Acks = append(w.j.Acks, Ack{XID: 99, Node: 1, CommitEnd: n.WAL.FlushedLSN() + 8, Step: w.s.StepNo()})
	require.ErrorContains(t, check(), "above flushed")
}

func TestReplicaRefusesWrites(t *testing.T) {
	w := newWorld(t, 3, defaultWorldOpts())
	r := w.node(2)
	require.True(t, r.InRecovery)
	require.False(t, r.ReadWrite)
	require.True(t, r.Accepting)
	require.Nil(t, r.WAL)
	require.Equal(t, storage.MountReadOnly, r.Mount.Mode())

	w.writeN(2, 0, 2)
	w.await("2 errors", func() bool { return len(w.j.Errors) == 2 })
	for _, e := range w.j.Errors {
		require.Equal(t, storage.HostID(2), e.Node)
		require.Equal(t, errReadOnly.Error(), e.Err)
		require.True(t, strings.HasPrefix(e.What, "txn("), e.What)
	}
	w.run(200)
	require.Zero(t, w.acks(2))
	require.Len(t, w.j.Errors, 2)

	// Reads are served.
	w.s.Post(w.session(2), Read{Page: 1})
	w.await("a read", func() bool { return len(w.j.Reads) == 1 })
	require.False(t, w.j.Reads[0].Primary)
}

// TestReplicaStreamsWithinFlushGate: a replica streams and catches up with
// the primary, and the primary never writes a page to storage beyond the
// replica's slot (NoFuturePage, checked after every step). The run must
// also show the gate holding a write back at least once, or it proves
// nothing.
func TestReplicaStreamsWithinFlushGate(t *testing.T) {
	held := 0
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			o := defaultWorldOpts()
			o.frames = 3 // evictions write pages from backends too
			w := newWorld(t, seed, o)
			p, r := w.node(1), w.node(2)
			w.s.Checkers().Add("NoFuturePage", w.noFuturePage(1))
			w.s.Checkers().Add("GateHeld", func() error {
				if id, ok := p.Pool.FlushHead(); ok {
					lsn := p.Pool.Get(id).Page.LSN
					if gate, ok := slotGate(p); ok && lsn <= p.WAL.FlushedLSN() && lsn > gate {
						held++
					}
				}
				return nil
			})
			total := 0
			for round := 0; round < 4; round++ {
				w.writeN(1, total, 8)
				total += 8
				w.await(fmt.Sprintf("%d acks", total), func() bool { return w.acks(1) == total })
			}
			w.await("replica caught up", func() bool {
				return r.ReplayLSN >= p.WAL.FlushedLSN() && p.WAL.FlushedLSN() == p.WAL.InsertLSN()
			})
			require.Len(t, p.Slots, 1)
			require.Equal(t, shmem.SlotName(2), p.Slots[0].Name)
			require.True(t, p.Slots[0].Active)
			w.await("pages written", func() bool { return p.Pool.FlushLen() == 0 })

			// Every acknowledged write is on storage now, and the replica
			// reads it.
			m := w.observer()
			for i := 0; i < total; i++ {
				wr := w.distinctWrite(i)
				pg, err := storagePage(m, p.Cfg.Rel, wr.Page)
				require.NoError(t, err)
				require.Equal(t, wr.Value, pg.Slots[wr.Slot], "write %d", i)
			}
			reads := len(w.j.Reads)
			for i := 0; i < 4; i++ {
				w.s.Post(w.session(2), Read{Page: i})
			}
			w.await("replica reads", func() bool { return len(w.j.Reads) == reads+4 || len(w.j.Errors) > 0 })
			require.Empty(t, w.j.Errors, "replica reads after primary checkpoints (LogIndex truncated) must not fail")
			for _, rd := range w.j.Reads[reads:] {
				for i := 0; i < total; i++ {
					if wr := w.distinctWrite(i); wr.Page == int(rd.Page.Block) {
						require.Equal(t, wr.Value, rd.Content.Slots[wr.Slot], "replica read of write %d", i)
					}
				}
			}
		})
	}
	require.Positive(t, held, "the flush gate never held a write back: the test proves nothing")
}

// The NoFuturePage check is not vacuous: a page on storage above the
// replica's slot is reported.
func TestNoFuturePageCanary(t *testing.T) {
	w := newWorld(t, 1, defaultWorldOpts())
	p := w.node(1)
	w.await("slot", func() bool { return len(p.Slots) == 1 })
	check := w.noFuturePage(1)
	require.NoError(t, check())
	gate, ok := slotGate(p)
	require.True(t, ok)
	var b [storage.BlockSize]byte
	pg := storage.Page{LSN: gate + 8}
	pg.Marshal(b[:])
	require.NoError(t, p.Mount.WriteAt(p.RelPath(), b[:], 2*storage.BlockSize))
	require.ErrorContains(t, check(), "page 2 written at")
}

// promoteWorld stops the primary (fast), promotes n2 and runs until it
// serves read-write and its BGW finished online promote.
func promoteWorld(t *testing.T, seed uint64, profile shmem.Profile) *world {
	t.Helper()
	o := defaultWorldOpts()
	o.profile = profile
	w := newWorld(t, seed, o)
	w.s.Checkers().Add("CommitDurable", w.commitDurable())
	w.writeN(1, 0, 6)
	w.await("6 acks", func() bool { return w.acks(1) == 6 })
	p, r := w.node(1), w.node(2)
	w.await("replica caught up", func() bool { return r.ReplayLSN >= p.WAL.FlushedLSN() })
	// Keep the replica's sessions busy so the promote has backends to end.
	w.s.Post(w.session(2), Read{Page: 0})
	w.s.Post(w.session(2), Read{Page: 1})
	require.NoError(t, w.op().Stop(p, false))
	w.await("n1 stopped", func() bool { return !w.op().Alive(p) })
	require.NoError(t, w.op().Promote(r))
	w.await("n2 read-write", func() bool { return r.ReadWrite && r.BGW.State() == shmem.BGRedoNotStart && !r.InRecovery })
	require.True(t, r.Primary)
	host, _, ok := w.dev.Writer()
	require.True(t, ok)
	require.Equal(t, storage.HostID(2), host)
	return w
}

// promoteEvents are the n2 events of a promote.
type promoteEvents struct {
	begin, remount, sigusr2, startupExit, readWrite event
	backendExits                                    []event
}

// findPromote finds the promote's events and checks the order every
// profile shares: promote-begin, remount, SIGUSR2, startup exit, read-write.
func findPromote(t *testing.T, w *world) promoteEvents {
	t.Helper()
	var e promoteEvents
	e.begin = w.log.first(t, "n2/postmaster", "promote-begin")
	e.remount = w.log.first(t, "n2/postmaster", "remount-rw")
	e.sigusr2 = w.log.first(t, "n2/postmaster", "sigusr2")
	e.readWrite = w.log.first(t, "n2/postmaster", "read-write")
	e.startupExit = w.log.first(t, "n2/startup", "exit")
	for _, ev := range w.log.events {
		if strings.HasPrefix(ev.actor, "n2/backend") && ev.verb == "exit" && ev.idx > e.begin.idx && ev.idx < e.readWrite.idx {
			e.backendExits = append(e.backendExits, ev)
		}
	}
	require.Len(t, e.backendExits, w.o.sessions, "every pre-promote backend exits")
	require.Less(t, e.begin.idx, e.remount.idx)
	require.Less(t, e.remount.idx, e.sigusr2.idx)
	require.Equal(t, e.remount.step, e.sigusr2.step, "remount and SIGUSR2 are one step")
	require.Less(t, e.sigusr2.idx, e.startupExit.idx)
	require.Less(t, e.startupExit.idx, e.readWrite.idx, "read-write service only after startup exits")
	require.Contains(t, e.startupExit.line, "kind=exit")
	return e
}

func TestPromoteOrderV15(t *testing.T) {
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := promoteWorld(t, seed, shmem.ProfileV15)
			e := findPromote(t, w)
			for _, b := range e.backendExits {
				require.Less(t, b.idx, e.remount.idx, "V15 waits for every backend before remounting: %s", b.line)
			}
			require.NotEmpty(t, w.log.find("n2/postmaster", "backends-exited"))
			require.Empty(t, w.log.find("n2/postmaster", "promote-without-waiting"))
		})
	}
}

func TestPromoteOrderV11(t *testing.T) {
	early := 0
	for seed := uint64(1); seed <= 32; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := promoteWorld(t, seed, shmem.ProfileV11)
			e := findPromote(t, w)
			late := 0
			for _, b := range e.backendExits {
				if b.idx > e.remount.idx {
					late++
				}
			}
			// Postmaster counts backends it has not reaped yet, so it may
			// report not waiting even when they are already gone; but a
			// backend outliving the remount means it did not wait.
			if late > 0 {
				require.NotEmpty(t, w.log.find("n2/postmaster", "promote-without-waiting"))
				require.Empty(t, w.log.find("n2/postmaster", "backends-exited"))
				early++
			}
		})
	}
	require.Positive(t, early, "no seed remounted before a backend exited: V11's no-wait order was never exercised")
}

func TestPromoteRefusedWithoutLogIndex(t *testing.T) {
	for _, seed := range seeds[:3] {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			o := defaultWorldOpts()
			o.logIndexMem = 0
			w := newWorld(t, seed, o)
			r := w.node(2)
			require.False(t, r.Index.Enabled())
			host, epoch, _ := w.dev.Writer()
			require.NoError(t, w.op().Promote(r))
			w.await("refusal", func() bool { return len(w.j.Errors) > 0 })
			w.run(300)
			require.Len(t, w.j.Errors, 1)
			e := w.j.Errors[0]
			require.Equal(t, storage.HostID(2), e.Node)
			require.Equal(t, "pg_ctl promote", e.What)
			require.Equal(t, shmem.ErrLogIndexDisabled.Error(), e.Err)
			require.NotEmpty(t, w.log.find("n2/postmaster", "promote-refused"))
			require.Empty(t, w.log.find("n2/postmaster", "promote-begin"))

			require.True(t, r.InRecovery)
			require.False(t, r.Primary)
			require.False(t, r.ReadWrite)
			require.True(t, r.Accepting, "read-only service goes on")
			require.Equal(t, storage.MountReadOnly, r.Mount.Mode())
			h2, e2, _ := w.dev.Writer()
			require.Equal(t, host, h2)
			require.Equal(t, epoch, e2)
		})
	}
}

func TestFastStop(t *testing.T) {
	for _, seed := range seeds[:4] {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := newWorld(t, seed, defaultWorldOpts())
			p := w.node(1)
			pm := p.Procs.Postmaster
			w.writeN(1, 0, 8)
			w.await("8 acks", func() bool { return w.acks(1) == 8 })
			require.NoError(t, w.op().Stop(p, false))
			w.await("n1 stopped", func() bool { return !w.op().Alive(p) })

			ckpts := w.log.find("n1/checkpointer", "checkpoint")
			require.NotEmpty(t, ckpts)
			require.Contains(t, ckpts[len(ckpts)-1].line, "shutdown=true")
			ctl, err := shmem.ReadControl(w.observer())
			require.NoError(t, err)
			require.Equal(t, shmem.DBShutdowned, ctl.State)
			require.Equal(t, shmem.DBShutdowned, p.Local.State)
			_, mounted := w.dev.Mounted(1)
			require.False(t, mounted)
			_, _, hasWriter := w.dev.Writer()
			require.False(t, hasWriter)
			require.Empty(t, w.dev.Pending(1), "a fast stop leaves nothing unsynced")
			require.Equal(t, shmem.NoProcs(), p.Procs)
			require.False(t, p.Accepting)
			require.Equal(t, "stopped", w.s.Actor(pm).(*Postmaster).State())

			// Every acknowledged write is on storage.
			for i := 0; i < 8; i++ {
				wr := w.distinctWrite(i)
				pg, err := storagePage(w.observer(), p.Cfg.Rel, wr.Page)
				require.NoError(t, err)
				require.Equal(t, wr.Value, pg.Slots[wr.Slot], "write %d", i)
			}
			require.Error(t, w.op().Stop(p, false), "stopping a stopped node")
			require.Error(t, w.op().Promote(p))
		})
	}
}

func TestFastStopReplica(t *testing.T) {
	w := newWorld(t, 5, defaultWorldOpts())
	r := w.node(2)
	require.NoError(t, w.op().Stop(r, false))
	w.await("n2 stopped", func() bool { return !w.op().Alive(r) })
	_, mounted := w.dev.Mounted(2)
	require.False(t, mounted)
	require.NotEmpty(t, w.log.find("n2/postmaster", "fast-shutdown"))
	require.Empty(t, w.log.find("n2/checkpointer", "checkpoint"))
	require.True(t, w.op().Alive(w.node(1)), "the primary goes on")
}

// TestRestartKeepsAckedCommits: after an immediate stop or a crash, the
// primary restarts through crash recovery with every acknowledged commit.
func TestRestartKeepsAckedCommits(t *testing.T) {
	for _, how := range []string{"immediate", "crash"} {
		for _, seed := range seeds[:4] {
			t.Run(fmt.Sprintf("%s/%d", how, seed), func(t *testing.T) {
				o := defaultWorldOpts()
				o.replicas = 0
				w := newWorld(t, seed, o)
				w.s.Checkers().Add("CommitDurable", w.commitDurable())
				p := w.node(1)
				w.writeN(1, 0, 8)
				w.await("8 acks", func() bool { return w.acks(1) == 8 })
				procs := allProcs(p)
				pm := p.Procs.Postmaster
				require.NotEmpty(t, procs)
				if how == "immediate" {
					require.NoError(t, w.op().Stop(p, true))
					w.await("n1 stopped", func() bool { return !w.op().Alive(p) })
					require.NotEmpty(t, w.log.find("n1/postmaster", "immediate-shutdown"))
				} else {
					w.op().Crash(p, nil)
					require.False(t, w.op().Alive(p))
					require.NotEmpty(t, w.log.find("n1/operator", "crash"))
				}
				for _, id := range append(procs, pm) {
					require.False(t, w.s.Alive(id), "%s still alive", w.s.Name(id))
				}
				require.Empty(t, w.dev.Pending(1))
				_, mounted := w.dev.Mounted(1)
				require.False(t, mounted)
				for _, c := range w.log.find("n1/checkpointer", "checkpoint") {
					require.NotContains(t, c.line, "shutdown=true")
				}
				ctl, err := shmem.ReadControl(w.observer())
				require.NoError(t, err)
				require.NotEqual(t, shmem.DBShutdowned, ctl.State, "no shutdown checkpoint")

				recoveries := len(w.log.find("n1/startup", "crash-recovery"))
				w.boot(1, RolePrimary)
				n := w.node(1)
				w.await("n1 read-write again", func() bool { return n.ReadWrite })
				require.Len(t, w.log.find("n1/startup", "crash-recovery"), recoveries+1)
				for _, a := range w.j.Acks {
					require.Equal(t, shmem.XactCommitted, n.Clog.Get(a.XID), "xid %d", a.XID)
				}
				for i := 0; i < o.pages; i++ {
					w.s.Post(w.session(1), Read{Page: i})
				}
				w.await("reads", func() bool { return len(w.j.Reads) == o.pages })
				for _, rd := range w.j.Reads {
					for i := 0; i < 8; i++ {
						if wr := w.distinctWrite(i); wr.Page == int(rd.Page.Block) {
							require.Equal(t, wr.Value, rd.Content.Slots[wr.Slot], "write %d after %s", i, how)
						}
					}
				}
				// New transactions continue after the old xids.
				w.writeN(1, 8, 2)
				w.await("2 more acks", func() bool { return w.acks(1) == 10 })
				require.Greater(t, w.j.Acks[9].XID, w.j.Acks[7].XID)
			})
		}
	}
}

func TestDropSlot(t *testing.T) {
	w := newWorld(t, 2, defaultWorldOpts())
	p, r := w.node(1), w.node(2)
	w.await("slot active", func() bool { return len(p.Slots) == 1 && p.Slots[0].Active })
	slots, err := shmem.ReadSlots(w.observer())
	require.NoError(t, err)
	require.Len(t, slots, 1)
	require.Equal(t, "replica1", slots[0].Name)

	err = w.op().DropSlot(p, "replica1")
	require.ErrorContains(t, err, `replication slot "replica1" is active`)
	require.Len(t, p.Slots, 1)
	slots, err = shmem.ReadSlots(w.observer())
	require.NoError(t, err)
	require.Len(t, slots, 1)

	require.ErrorContains(t, w.op().DropSlot(p, "standby1"), "does not exist")

	// Once the replica is gone, the walsender notices and releases the slot.
	require.NoError(t, w.op().Stop(r, false))
	w.await("slot inactive", func() bool { return !p.Slots[0].Active })
	require.NoError(t, w.op().DropSlot(p, "replica1"))
	require.Empty(t, p.Slots)
	slots, err = shmem.ReadSlots(w.observer())
	require.NoError(t, err)
	require.Empty(t, slots)
	require.NotEmpty(t, w.log.find("n1/operator", "drop-slot"))
	require.Error(t, w.op().DropSlot(p, "replica1"))
}

// liveSenders returns the live walsenders of node n by slot.
func liveSenders(s *sim.Scheduler, n *shmem.Node) map[string]int {
	out := map[string]int{}
	for _, id := range n.Procs.WALSenders {
		if ws, ok := s.Actor(id).(*walSender); ok && s.Alive(id) {
			out[ws.conn.Slot]++
		}
	}
	return out
}

// TestIdleReplicaStaysConnected: an idle replica hears the walsender's
// keepalives, so it keeps one connection (no reconnect churn), its slot
// stays active, and its feedback still reaches the primary: the slot's
// apply LSN follows the replica's replay position, so the flush gate
// does not hold the primary's consistent LSN back.
func TestIdleReplicaStaysConnected(t *testing.T) {
	for _, seed := range seeds[:4] {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := newWorld(t, seed, defaultWorldOpts())
			p := w.node(1)
			w.s.Checkers().Add("OneWALSenderPerSlot", func() error {
				for slot, k := range liveSenders(w.s, p) {
					if k > 1 {
						return fmt.Errorf("%d walsenders for slot %s", k, slot)
					}
				}
				return nil
			})
			w.run(4000)
			starts := w.log.find("n1/postmaster", "walsender-start")
			require.Len(t, starts, 1, "an idle replica must not reconnect")
			require.Len(t, p.Slots, 1)
			require.True(t, p.Slots[0].Active)
			require.Equal(t, w.node(2).ReplayLSN, p.Slots[0].Apply, "feedback reaches the primary while idle")
			require.Equal(t, w.node(2).ReplayLSN, p.Slots[0].Restart, "an idle replica needs nothing older")

			// Streaming still works after the idle stretch.
			w.writeN(1, 0, 4)
			w.await("4 acks", func() bool { return w.acks(1) == 4 })
			r := w.node(2)
			w.await("replica caught up", func() bool { return r.ReplayLSN >= p.WAL.FlushedLSN() })
		})
	}
}
