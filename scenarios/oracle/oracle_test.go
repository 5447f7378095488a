package oracle_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/postmaster"
	"promotesim/scenarios/check"
	"promotesim/scenarios/cluster"
	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/oracle"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// naivePage applies every record of recs ending at or below at to an
// empty page: the definition the oracle's indexes and snapshots implement.
func naivePage(recs []logindex.Record, id storage.PageID, at storage.LSN) storage.Page {
	var p storage.Page
	for i := range recs {
		if recs[i].End <= at {
			recs[i].Apply(id, &p)
		}
	}
	return p
}

func naiveStatus(recs []logindex.Record, xid logindex.XID, at storage.LSN) shmem.XactStatus {
	st := shmem.XactInProgress
	for i := range recs {
		r := &recs[i]
		if r.End > at || r.XID != xid {
			continue
		}
		switch r.Type {
		case logindex.RecCommit:
			st = shmem.XactCommitted
		case logindex.RecAbort:
			st = shmem.XactAborted
		}
	}
	return st
}

// readerHistory reads the valid WAL from the start with logindex's Reader.
func readerHistory(t *testing.T, c *cluster.Cluster, k *check.Checks) ([]logindex.Record, logindex.EndOfWAL) {
	t.Helper()
	rd, err := logindex.NewReader(k.O.Mount(), c.NodeConfig(1).LogIndex)
	require.NoError(t, err)
	var out []logindex.Record
	var rec logindex.Record
	e, err := rd.FindEnd(logindex.FirstLSN, storage.InvalidLSN, &rec, func(r *logindex.Record) error {
		c := *r
		c.Changes = append([]logindex.Change(nil), r.Changes...)
		out = append(out, c)
		return nil
	})
	require.NoError(t, err)
	return out, e
}

func TestOracleMatchesReader(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		c, k := fixture.BusyWorld(t, seed, 4)
		o := k.O
		want, e := readerHistory(t, c, k)
		require.Equal(t, e.End, o.End())
		require.Equal(t, len(want), len(o.Records()))
		for i := range want {
			require.True(t, oracle.SameRecord(&want[i], &o.Records()[i]), "record %d: reader %v, oracle %v", i, &want[i], &o.Records()[i])
		}
		// A fresh oracle over the same storage parses the same history
		// in one go.
		fresh, err := oracle.New(c)
		require.NoError(t, err)
		require.NoError(t, fresh.Sync())
		require.Equal(t, o.End(), fresh.End())
		require.Equal(t, len(o.Records()), len(fresh.Records()))
	}
}

func TestOracleMatchesNaiveModel(t *testing.T) {
	// One page, so it collects far more than snapEvery records.
	_, k := fixture.BusyWorld(t, 7, 1)
	o := k.O
	recs := o.Records()
	require.Greater(t, oracle.PageRecords(o, 0), 2*oracle.SnapEvery)
	id := oracle.PageID(o, 0)
	var ats []storage.LSN
	ats = append(ats, 0, logindex.FirstLSN, o.End()+64)
	for i := range recs {
		ats = append(ats, recs[i].Start, recs[i].End, recs[i].End-1)
	}
	for _, at := range ats {
		require.Equal(t, naivePage(recs, id, at), o.Page(0, at), "page at %v", at)
	}
	for x := logindex.XID(0); x <= o.MaxXID()+1; x++ {
		for _, at := range []storage.LSN{o.End(), o.End() / 2} {
			require.Equal(t, naiveStatus(recs, x, at), o.Status(x, at), "xid %d at %v", x, at)
		}
	}
	// LastChange: the end of the last record of the page starting below.
	for _, below := range ats {
		var want storage.LSN
		for i := range recs {
			if recs[i].Start < below && (recs[i].Type == logindex.RecPage || recs[i].Type == logindex.RecFullPage) {
				var p storage.Page
				if recs[i].Apply(id, &p) {
					want = recs[i].End
				}
			}
		}
		require.Equal(t, want, o.LastChange(0, below), "below %v", below)
	}
	require.Equal(t, storage.Page{}, o.Page(-1, o.End()))
	require.Equal(t, storage.Page{}, o.Page(5, o.End()))
}

func TestOracleSyncIsCheapWhenNothingChanged(t *testing.T) {
	c, k := fixture.NewCluster(t, nil)
	fixture.Commit(t, c, 1, 0, 0)
	o := k.O
	require.NoError(t, o.Sync())
	end, n := o.End(), len(o.Records())
	allocs := testing.AllocsPerRun(100, func() { _ = o.Sync() })
	require.Zero(t, allocs)
	require.Equal(t, end, o.End())
	require.Equal(t, n, len(o.Records()))
}

// The oracle never changes the world: a run with it syncing after every
// step (checkers on) traces exactly like a run with the checkers off.
func TestCheckersDoNotSteer(t *testing.T) {
	hash := func(off bool) uint64 {
		c, k, err := check.NewCluster(cluster.Config{Opts: cluster.DefaultOptions(), Seed: 9, Chooser: sim.NewRandom(9)})
		require.NoError(t, err)
		k.Off = off
		for i := 0; i < 40; i++ {
			_ = c.Write(1, postmaster.Txn{Writes: []postmaster.Write{{Page: i % 8, Slot: uint8(i % 4), Value: uint64(i + 1)}}})
			_ = c.Read(2, i%8)
			require.Nil(t, c.S.Run(50).Violation)
		}
		return c.S.Trace().Hash()
	}
	require.Equal(t, hash(true), hash(false))
}
