package postmaster

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/shmem"
	"promotesim/storage"
)

// TestFeedbackSplitsGateAndRetention: a replica whose BGW lags feeds back
// two positions. Its replay position becomes the slot's apply LSN, which
// gates page writes, so the primary writes pages past the BGW replay
// point (and the replica's BGW then evicts pooled copies storage already
// has instead of replaying them); the older read-min position becomes the
// slot's restart LSN, which bounds LogIndex truncation, so the lagging BGW
// still finds its entries.
func TestFeedbackSplitsGateAndRetention(t *testing.T) {
	pastBGW, evicted := 0, 0
	for _, seed := range seeds[:4] {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			o := defaultWorldOpts()
			o.frames = 4 // backend evictions write pages too
			w := newWorld(t, seed, o)
			p, r := w.node(1), w.node(2)
			w.s.Checkers().Add("NoFuturePage", w.noFuturePage(1))
			w.s.Checkers().Add("TruncationWithinRestart", func() error {
				for _, s := range p.Slots {
					if t := p.Index.TruncatedBelow(); t > s.Restart {
						return fmt.Errorf("LogIndex truncated below %v, past slot %v", t, s)
					}
				}
				return nil
			})
			w.s.Checkers().Add("WritePastBGW", func() error {
				m := w.observer()
				for i := 0; i < o.pages; i++ {
					pg, err := storagePage(m, p.Cfg.Rel, i)
					if err != nil {
						return err
					}
					if rp := r.BGW.ReplayPoint(); pg.LSN > rp && r.BGW.State() == shmem.BGReplicaBufReplaying {
						pastBGW++
						return nil
					}
				}
				return nil
			})

			// The replica caches pages 0..3, then its BGW stops.
			w.writeN(1, 0, 4)
			w.await("4 acks", func() bool { return w.acks(1) == 4 })
			w.await("replica caught up", func() bool { return r.ReplayLSN >= p.WAL.FlushedLSN() })
			for i := 0; i < 4; i++ {
				w.s.Post(w.session(2), Read{Page: i})
			}
			w.await("replica reads", func() bool { return len(w.j.Reads) == 4 })
			bgw := r.Procs.BGW
			w.s.Hold(bgw)
			held := r.BGW.ReplayPoint()

			total := 4
			for round := 0; round < 3; round++ {
				w.writeN(1, total, 8)
				total += 8
				w.await(fmt.Sprintf("%d acks", total), func() bool { return w.acks(1) == total })
			}
			w.await("replica replayed all", func() bool { return r.ReplayLSN >= p.WAL.FlushedLSN() })
			w.await("slot follows", func() bool {
				s := p.Slots[0]
				return s.Apply == r.ReplayLSN && s.Restart == held
			})
			require.Equal(t, held, r.BGW.ReplayPoint(), "the BGW was held")
			require.Less(t, p.Slots[0].Restart, p.Slots[0].Apply)
			require.Equal(t, p.Slots[0].Apply, p.FlushGate())
			require.Equal(t, p.Slots[0].Restart, p.RetainLSN())

			// The bgwriter writes past the BGW replay point, up to the
			// replica's replay position.
			w.await("pages written", func() bool { return p.Pool.FlushLen() == 0 })
			require.LessOrEqual(t, p.Index.TruncatedBelow(), held, "LogIndex kept from the BGW replay point")

			// Released, the BGW drops pooled copies storage already has.
			w.s.Release(bgw)
			w.await("BGW caught up", func() bool { return r.BGW.ReplayPoint() >= r.ReplayLSN })
			evicted += int(w.s.Marks().Count("bgw/evict-instead-of-replay"))
			w.await("restart follows", func() bool { return p.Slots[0].Restart == r.ReplayLSN })

			// Every acknowledged write reads back on the replica.
			reads := len(w.j.Reads)
			for i := 0; i < o.pages; i++ {
				w.s.Post(w.session(2), Read{Page: i})
			}
			w.await("replica reads", func() bool { return len(w.j.Reads) == reads+o.pages || len(w.j.Errors) > 0 })
			require.Empty(t, w.j.Errors)
			last := map[[2]int]uint64{}
			for i := 0; i < total; i++ {
				wr := w.distinctWrite(i)
				last[[2]int{wr.Page, int(wr.Slot)}] = wr.Value
			}
			for _, rd := range w.j.Reads[reads:] {
				for k, v := range last {
					if k[0] == int(rd.Page.Block) {
						require.Equal(t, v, rd.Content.Slots[k[1]], "page %d slot %d", k[0], k[1])
					}
				}
			}
		})
	}
	t.Logf("past BGW: %d, evicted: %d", pastBGW, evicted)
	require.Positive(t, pastBGW, "no page was written past the BGW replay point: the test proves nothing")
	require.Positive(t, evicted, "the BGW never evicted instead of replaying")
}

// TestFuturePageIsFatal: a replica read that finds on storage a page newer
// than its replay position refuses it: the client gets the error, the
// backend exits FATAL (polar_is_future_page), and no buffer keeps the
// future image.
func TestFuturePageIsFatal(t *testing.T) {
	w := newWorld(t, 3, defaultWorldOpts())
	p, r := w.node(1), w.node(2)
	const page = 5
	var b [storage.BlockSize]byte
	future := storage.Page{LSN: p.WAL.InsertLSN() + 0x100}
	future.Slots[0] = 42
	future.Marshal(b[:])
	require.NoError(t, p.Mount.WriteAt(p.RelPath(), b[:], page*storage.BlockSize))

	sess := w.session(2)
	w.s.Post(sess, Read{Page: page})
	w.await("read refused", func() bool { return len(w.j.Errors) > 0 })
	require.Empty(t, w.j.Reads, "the future page is never served")
	e := w.j.Errors[0]
	require.Equal(t, r.Cfg.Host, e.Node)
	require.Contains(t, e.Err, ErrFuturePage.Error())
	require.Contains(t, e.Err, fmt.Sprintf("lsn %v, replayed_lsn %v", future.LSN, r.ReplayLSN))
	w.await("backend gone", func() bool { return !w.s.Alive(sess) })
	var exit shmem.ChildExit
	for _, x := range w.exits.Of(r) {
		if x.ID == sess {
			exit = x
		}
	}
	require.Equal(t, shmem.ExitFATAL, exit.Kind)
	require.Contains(t, exit.Err, ErrFuturePage.Error())
	require.EqualValues(t, 1, w.s.Marks().Count("postmaster/future-page"))
	_, pooled := r.Pool.Lookup(r.Page(page))
	require.False(t, pooled, "the future image is not cached")
	require.True(t, w.op().Alive(r), "a backend's FATAL does not take the node down")
}

// TestShutdownSkipsDisconnectedReplica mirrors PolarDB's
// 050_shutdown_disconnected_replica.pl: a replica whose connection is gone
// (its walreceiver died; the node still serves reads) leaves its slot
// inactive. While the primary runs, the slot still holds the flush gate;
// the primary's fast shutdown checkpoint skips it, so it completes, and
// writes pages past that replica's replay position. The replica then
// refuses those pages (FATAL) rather than serve them.
func TestShutdownSkipsDisconnectedReplica(t *testing.T) {
	w := newWorld(t, 2, defaultWorldOpts())
	p, r := w.node(1), w.node(2)
	w.writeN(1, 0, 2)
	w.await("2 acks", func() bool { return w.acks(1) == 2 })
	w.await("replica caught up", func() bool { return r.ReplayLSN >= p.WAL.FlushedLSN() })
	w.await("slot fed", func() bool { return p.Slots[0].Apply == r.ReplayLSN })

	// The connection is lost: the walsender notices and releases the slot.
	w.s.Kill(r.Procs.WALReceiver)
	w.await("slot inactive", func() bool { return !p.Slots[0].Active })
	frozen := r.ReplayLSN

	// Writes to pages the replica never read; the gate (the inactive slot's
	// apply LSN) holds them back while the primary runs.
	for i := 0; i < 4; i++ {
		w.s.Post(w.session(1), Txn{Writes: []Write{{Page: 4 + i, Slot: 1, Value: uint64(7000 + i)}}})
	}
	w.await("4 more acks", func() bool { return w.acks(1) == 6 })
	w.run(200)
	require.Equal(t, 4, p.Pool.FlushLen(), "the inactive slot still gates while the primary runs")

	require.NoError(t, w.op().Stop(p, false))
	w.await("n1 stopped", func() bool { return !w.op().Alive(p) })
	require.Equal(t, frozen, r.ReplayLSN)
	pg, err := storagePage(w.observer(), p.Cfg.Rel, 4)
	require.NoError(t, err)
	require.Greater(t, pg.LSN, frozen, "the shutdown checkpoint wrote past the disconnected replica")

	w.s.Post(w.session(2), Read{Page: 4})
	w.await("read refused", func() bool { return len(w.j.Errors) > 0 })
	require.Contains(t, w.j.Errors[0].Err, ErrFuturePage.Error())
	require.Empty(t, w.j.Reads)
	require.EqualValues(t, 1, w.s.Marks().Count("postmaster/future-page"))
}
