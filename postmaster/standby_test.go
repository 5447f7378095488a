package postmaster

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/storage"
)

// standby is a standby added to a test world: its own device and its node.
type standby struct {
	host storage.HostID
	slot string
	dev  *storage.Device
	n    *shmem.Node
}

// addStandby gives the world's primary a slot for a standby on host h, takes
// a base backup to a fresh private device and boots the standby on it,
// waiting for its hot standby.
func (w *world) addStandby(h storage.HostID) *standby {
	w.t.Helper()
	p := w.node(1)
	dev, err := storage.NewDevice(storage.DeviceConfig{Blocks: 4096, Fence: storage.FenceNone, Local: true})
	require.NoError(w.t, err)
	sb := &standby{host: h, slot: shmem.StandbySlotName(1), dev: dev}
	require.NoError(w.t, w.op().EnsureSlot(p, sb.slot, p.Control.Redo))
	redo, end, err := w.op().BaseBackup(p, dev, h)
	require.NoError(w.t, err)
	require.Equal(w.t, p.Control.Redo, redo)
	require.Equal(w.t, p.WAL.FlushedLSN(), end)
	sb.n, err = w.op().BootStandby(dev, w.o.config(h), sb.slot, w.o.sessions)
	require.NoError(w.t, err)
	w.await(fmt.Sprintf("%v hot standby", h), func() bool { return sb.n.Accepting && len(sb.n.Procs.Backends) == w.o.sessions })
	return sb
}

// settled: the standby has parsed everything the primary flushed, the BGW's
// replay point reached its replay position and its own disk has every page.
func (sb *standby) settled(p *shmem.Node) func() bool {
	return func() bool {
		n := sb.n
		return n.ReplayLSN >= p.WAL.FlushedLSN() && n.BGW.ReplayPoint() >= n.ReplayLSN && n.Pool.FlushLen() == 0
	}
}

// diskPage decodes page i of the relation as the standby's own disk has it.
func (sb *standby) diskPage(t *testing.T, i int) storage.Page {
	t.Helper()
	m, ok := sb.dev.Mounted(observerHost)
	if !ok {
		var err error
		m, err = sb.dev.Mount(observerHost, storage.MountReadOnly)
		require.NoError(t, err)
	}
	pg, err := storagePage(m, sb.n.Cfg.Rel, i)
	require.NoError(t, err)
	return pg
}

// neverOnShared is a checker: the standby's host never mounts the shared
// device, so it can neither read nor write it.
func (w *world) neverOnShared(h storage.HostID) func() error {
	return func() error {
		if _, ok := w.dev.Mounted(h); ok {
			return fmt.Errorf("standby %v mounted the shared device", h)
		}
		return nil
	}
}

// readOn runs one read of page on host n's next session and returns it.
func (w *world) readOn(n *shmem.Node, next *int, page int) ReadResult {
	w.t.Helper()
	reads, errs := len(w.j.Reads), len(w.j.Errors)
	w.s.Post(n.Procs.Backends[*next%len(n.Procs.Backends)], Read{Page: page})
	*next++
	w.await("read", func() bool { return len(w.j.Reads) > reads || len(w.j.Errors) > errs })
	require.Equal(w.t, errs, len(w.j.Errors), "read failed: %v", w.j.Errors)
	return w.j.Reads[len(w.j.Reads)-1]
}

// requireAckedOnStandby checks that the first k distinct writes are on the
// standby: committed in its clog, through the client read path and, once
// settled, on its own disk.
func (w *world) requireAckedOnStandby(sb *standby, k int, onDisk bool) {
	w.t.Helper()
	require.Len(w.t, w.j.Acks, k)
	for _, a := range w.j.Acks {
		require.Equal(w.t, shmem.XactCommitted, sb.n.Clog.Get(a.XID), "xid %d committed on the standby", a.XID)
	}
	next := 0
	for i := 0; i < k; i++ {
		wr := w.distinctWrite(i)
		r := w.readOn(sb.n, &next, wr.Page)
		require.False(w.t, r.Primary)
		require.Equal(w.t, wr.Value, r.Content.Slots[wr.Slot], "write %d read on the standby", i)
		if onDisk {
			require.Equal(w.t, wr.Value, sb.diskPage(w.t, wr.Page).Slots[wr.Slot], "write %d on the standby's disk", i)
		}
	}
}

// sameWAL checks the standby's pg_wal holds the primary's records byte for
// byte from the backup's redo pointer to what it received.
func (w *world) sameWAL(sb *standby, from storage.LSN) {
	w.t.Helper()
	shared, err := logindex.NewReader(w.observer(), w.o.config(1).LogIndex)
	require.NoError(w.t, err)
	own, err := logindex.NewReader(sb.n.Mount, sb.n.Cfg.LogIndex)
	require.NoError(w.t, err)
	var a, b logindex.Record
	records := 0
	for lsn, prev := from, storage.InvalidLSN; lsn < sb.n.ReceivedLSN; records++ {
		require.NoError(w.t, shared.Read(lsn, prev, &a), "shared WAL at %v", lsn)
		require.NoError(w.t, own.Read(lsn, prev, &b), "standby WAL at %v", lsn)
		require.Equal(w.t, a.String(), b.String())
		require.Equal(w.t, a.Changes, b.Changes)
		prev, lsn = lsn, a.End
	}
	require.Positive(w.t, records)
}

// A standby takes a base backup of shared storage, streams the full WAL into
// its own pg_wal, replays it in POLAR_BG_PARALLEL_REPLAYING onto its own
// disk, and serves every acknowledged commit, without ever touching shared
// storage.
func TestStandbyStreamsAndReplaysInParallel(t *testing.T) {
	for _, seed := range seeds[:4] {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			o := defaultWorldOpts()
			o.frames = 3 // evictions: replay workers read pages from the standby's disk
			w := newWorld(t, seed, o)
			sb := w.addStandby(3)
			w.s.Checkers().Add("StandbyNeverOnShared", w.neverOnShared(sb.host))
			p := w.node(1)
			require.Equal(t, shmem.BGParallelReplaying, sb.n.BGW.State())
			require.True(t, sb.n.InRecovery)
			require.False(t, sb.n.Primary)
			require.Equal(t, storage.MountReadWrite, sb.n.Mount.Mode(), "its own disk, its only writer")

			w.writeN(1, 0, 8)
			w.await("8 acks", func() bool { return w.acks(1) == 8 })
			w.writeN(1, 8, 8)
			w.await("16 acks", func() bool { return w.acks(1) == 16 })
			w.await("standby settled", sb.settled(p))
			require.Equal(t, p.WAL.FlushedLSN(), sb.n.ReceivedLSN)
			w.requireAckedOnStandby(sb, 16, true)
			w.sameWAL(sb, p.Control.Redo)

			for _, m := range []string{"bgw/parallel-replaying", "startup/standby-consistent",
				"postmaster/standby-wal-received", "postmaster/standby-write-page"} {
				require.Positive(t, w.s.Marks().Count(m), m)
			}
			// The standby writes only its own disk.
			for _, rec := range w.dev.WritesSince(0) {
				require.NotEqual(t, sb.host, rec.Host)
			}
			require.Empty(t, sb.n.Slots)
			// Its slot moved with the standby's flush position.
			for _, s := range p.Slots {
				if s.Name == sb.slot {
					require.True(t, s.Active)
					require.Equal(t, sb.n.ReceivedLSN, s.Restart)
				}
			}
			// Reads only: a write is refused on a standby.
			errs := len(w.j.Errors)
			w.s.Post(sb.n.Procs.Backends[0], Txn{Writes: []Write{w.distinctWrite(0)}})
			w.await("refused", func() bool { return len(w.j.Errors) > errs })
			require.Contains(t, w.j.Errors[errs].Err, "read-only")
		})
	}
}

// The standby's slot retains WAL but does not gate the primary's page
// writes: with the standby's walreceiver held, the primary still writes
// pages far beyond the standby slot's restart LSN.
func TestStandbySlotDoesNotHoldFlushGate(t *testing.T) {
	o := defaultWorldOpts()
	o.replicas = 0
	w := newWorld(t, 3, o)
	sb := w.addStandby(2)
	p := w.node(1)
	w.s.Hold(sb.n.Procs.WALReceiver)
	restart := storage.InvalidLSN
	for _, s := range p.Slots {
		if s.Name == sb.slot {
			restart = s.Restart
		}
	}
	require.True(t, restart.Valid())
	require.Equal(t, ^storage.LSN(0), p.FlushGate(), "only a standby slot: no gate")

	w.writeN(1, 0, 8)
	w.await("8 acks", func() bool { return w.acks(1) == 8 })
	w.writeN(1, 8, 8)
	w.await("16 acks", func() bool { return w.acks(1) == 16 })
	w.await("primary flushed every page", func() bool { return p.Pool.FlushLen() == 0 })
	highest := storage.InvalidLSN
	for i := 0; i < o.pages; i++ {
		pg, err := storagePage(w.observer(), p.Cfg.Rel, i)
		require.NoError(t, err)
		highest = max(highest, pg.LSN)
	}
	require.Greater(t, highest, restart, "pages written past the standby slot")
	require.Less(t, sb.n.ReceivedLSN, p.WAL.FlushedLSN(), "the standby was held back")

	w.s.Release(sb.n.Procs.WALReceiver)
	w.await("standby settled", sb.settled(p))
	w.requireAckedOnStandby(sb, 16, true)
}

// After an online promote of the replica, the standby reconnects to the new
// primary through the slot it reloaded from shared storage and keeps
// streaming on the same timeline.
func TestStandbyFollowsOnlinePromote(t *testing.T) {
	for _, immediate := range []bool{false, true} {
		for _, seed := range seeds[:4] {
			t.Run(fmt.Sprintf("immediate=%v/%d", immediate, seed), func(t *testing.T) {
				w := newWorld(t, seed, defaultWorldOpts())
				sb := w.addStandby(3)
				w.s.Checkers().Add("StandbyNeverOnShared", w.neverOnShared(sb.host))
				p, r := w.node(1), w.node(2)
				w.writeN(1, 0, 8)
				w.await("8 acks", func() bool { return w.acks(1) == 8 })
				require.NoError(t, w.op().Stop(p, immediate))
				w.await("n1 stopped", func() bool { return !w.op().Alive(p) })
				require.NoError(t, w.op().Promote(r))
				w.await("n2 read-write", func() bool { return r.ReadWrite })

				var names []string
				for _, s := range r.Slots {
					names = append(names, s.Name)
				}
				require.Equal(t, []string{"replica1", "standby1"}, names, "slots after promote")
				// n2's own former slot pins its flush gate: drop it (the
				// standby's slot never gates).
				require.NoError(t, w.op().DropSlot(r, "replica1"))
				w.await("n2 promote finished", func() bool { return r.BGW.State() == shmem.BGRedoNotStart })

				w.writeN(2, 8, 8)
				w.await("8 more acks", func() bool { return w.acks(2) == 8 })
				w.await("standby settled on n2", sb.settled(r))
				require.NotEmpty(t, w.log.find("n2/postmaster", "walsender-start"))
				streaming := w.log.find("n3/walreceiver", "streaming")
				require.NotEmpty(t, streaming)
				require.Contains(t, streaming[len(streaming)-1].line, "primary=n2")
				require.Equal(t, shmem.BGParallelReplaying, sb.n.BGW.State())
				require.Zero(t, w.exitsOf(sb.n, shmem.ExitPANIC, shmem.ExitFATAL), "standby exits: %v", w.exits.Of(sb.n))
				w.requireAckedOnStandby(sb, 16, true)
				// n2's WAL continues n1's: the standby's copy is one history.
				w.sameWAL(sb, sb.n.Control.Redo)
			})
		}
	}
}

func (w *world) exitsOf(n *shmem.Node, kinds ...shmem.ExitKind) int {
	k := 0
	for _, e := range w.exits.Of(n) {
		for _, want := range kinds {
			if e.Kind == want {
				k++
			}
		}
	}
	return k
}

// Promoting a standby is the vanilla path PolarDB 15 takes for it: startup
// alone gets SIGUSR2, the walreceiver stops, a new timeline starts at the
// end of the standby's WAL, the BGW goes PARALLEL_REPLAYING ->
// ONLINE_PROMOTE without a reset and finishes; the node then serves
// read-write on its own disk, and shared storage never sees it.
func TestStandbyPromote(t *testing.T) {
	o := defaultWorldOpts()
	o.replicas = 0
	w := newWorld(t, 2, o)
	sb := w.addStandby(2)
	w.writeN(1, 0, 4)
	w.await("standby caught up", func() bool { return sb.n.ReplayLSN >= w.node(1).WAL.FlushedLSN() })
	end := sb.n.ReplayLSN
	require.NoError(t, w.op().Promote(sb.n))
	w.await("read-write", func() bool { return sb.n.ReadWrite && !sb.n.InRecovery })
	require.NotEmpty(t, w.log.find("n2/postmaster", "promote-standby"))
	require.Empty(t, w.log.find("n2/postmaster", "remount-rw"), "a standby owns its disk: no remount")
	require.Equal(t, uint32(2), sb.n.Control.TLI, "a standby's promote takes a new timeline")
	require.Equal(t, end, sb.n.BGW.PromoteEnd)
	require.Equal(t, shmem.NoProc, sb.n.Procs.WALReceiver, "XLogShutdownWalRcv")
	w.await("bgw finished", func() bool { return sb.n.BGW.State() == shmem.BGRedoNotStart })
	n, from, to := sb.n.BGW.Transitions()
	require.Equal(t, shmem.BGOnlinePromote, from)
	require.Equal(t, shmem.BGRedoNotStart, to)
	require.Positive(t, n)
	require.Zero(t, w.exitsOf(sb.n, shmem.ExitPANIC, shmem.ExitFATAL))
	require.NotEmpty(t, sb.n.Procs.Backends)
	w.s.Post(sb.n.Procs.Backends[0], Txn{Writes: []Write{w.distinctWrite(100)}})
	w.await("ack on the promoted standby", func() bool { return w.acks(2) == 1 })
	require.GreaterOrEqual(t, sb.n.WAL.FlushedLSN(), end)
}

// Boot refuses the standby role (it needs its own device and slot); a base
// backup needs a running primary.
func TestStandbyBootErrors(t *testing.T) {
	o := defaultWorldOpts()
	o.replicas = 0
	w := newWorld(t, 1, o)
	_, err := w.op().Boot(w.dev, w.o.config(2), RoleStandby, shmem.Control{}, 1)
	require.ErrorContains(t, err, "BootStandby")
	require.Equal(t, "standby", RoleStandby.String())

	dev, err := storage.NewDevice(storage.DeviceConfig{Blocks: 256, Fence: storage.FenceNone, Local: true})
	require.NoError(t, err)
	p := w.node(1)
	require.NoError(t, w.op().Stop(p, false))
	w.await("n1 stopped", func() bool { return !w.op().Alive(p) })
	p.WAL = nil
	_, _, err = w.op().BaseBackup(p, dev, 2)
	require.ErrorContains(t, err, "not a running primary")

	// A standby on a disk without a base backup cannot start its recovery.
	n, err := w.op().BootStandby(dev, w.o.config(2), "standby1", 1)
	require.NoError(t, err)
	w.await("standby down", func() bool { return !w.op().Alive(n) })
	require.Equal(t, 1, w.exitsOf(n, shmem.ExitFATAL))
}

// A standby's run is a pure function of its seed.
func TestStandbyDeterministic(t *testing.T) {
	run := func() string {
		w := newWorld(t, 7, defaultWorldOpts())
		sb := w.addStandby(3)
		w.writeN(1, 0, 8)
		w.await("8 acks", func() bool { return w.acks(1) == 8 })
		w.await("settled", sb.settled(w.node(1)))
		return w.log.String()
	}
	require.Equal(t, run(), run())
}

// A crashed standby restarts from its own disk alone: it replays its WAL
// from the base backup's redo pointer again (restartpoints are not
// modelled), reaches consistency at the end of that WAL and resumes
// streaming from there.
func TestStandbyRestartsFromItsOwnDisk(t *testing.T) {
	for _, seed := range seeds[:4] {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			o := defaultWorldOpts()
			o.frames = 3
			w := newWorld(t, seed, o)
			sb := w.addStandby(3)
			p := w.node(1)
			w.writeN(1, 0, 8)
			w.await("8 acks", func() bool { return w.acks(1) == 8 })
			w.await("standby caught up", func() bool { return sb.n.ReplayLSN >= p.WAL.FlushedLSN() })
			w.op().Crash(sb.n, nil)
			received := sb.n.ReceivedLSN

			n, err := w.op().BootStandby(sb.dev, w.o.config(sb.host), sb.slot, w.o.sessions)
			require.NoError(t, err)
			sb.n = n
			w.await("standby back", func() bool { return n.Accepting })
			require.Equal(t, received, n.ReplayLSN, "consistent at the end of the WAL on its disk")
			// With no new WAL coming, the pages its redo dirtied still reach
			// its disk: WAL up to consistency is durable there.
			w.await("standby settled before any new WAL", sb.settled(p))
			w.writeN(1, 8, 8)
			w.await("16 acks", func() bool { return w.acks(1) == 16 })
			w.await("standby settled", sb.settled(p))
			w.requireAckedOnStandby(sb, 16, true)
		})
	}
}

// Under Fidelity.RestartAfterCrash a standby whose child died comes back a
// standby (standby.signal is still there), not a replica of its own disk;
// once promoted it would come back a primary.
func TestStandbyRestartAfterCrashStaysStandby(t *testing.T) {
	o := defaultWorldOpts()
	o.replicas = 0
	o.faithful = true
	w := newWorld(t, 3, o)
	sb := w.addStandby(2)
	sb.dev.InjectError(storage.FaultSpec{Op: storage.OpWrite, Host: 2, PathPrefix: "pg_wal/", Count: 1})
	w.writeN(1, 0, 2)
	w.await("reinitialise", func() bool { return len(w.log.find("n2/postmaster", "reinitialise")) > 0 })
	require.Contains(t, w.log.first(t, "n2/postmaster", "reinitialise").line, "role=standby")
	w.await("hot standby again", func() bool { return sb.n.Accepting && sb.n.InRecovery && !sb.n.Primary })
	w.await("caught up", func() bool { return sb.n.ReplayLSN >= w.node(1).WAL.FlushedLSN() })
}
