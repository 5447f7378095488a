package scenarios

import (
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/postmaster"
	"promotesim/scenarios/cluster"
	"promotesim/scenarios/script"
	"promotesim/sim"
	"promotesim/storage"
)

func TestStandbyOptions(t *testing.T) {
	for _, c := range []struct {
		mutate func(*cluster.Options)
		want   string
	}{
		{func(o *cluster.Options) { o.Standbys = 3 }, "standbys=3: want 0..2"},
		{func(o *cluster.Options) { o.Standbys = -1 }, "standbys=-1: want 0..2"},
		{func(o *cluster.Options) { o.Standbys, o.LogIndexMem = 1, 0 }, "standbys=1: a standby replays in parallel through LogIndex"},
	} {
		o := cluster.DefaultOptions()
		c.mutate(&o)
		err := o.Validate()
		require.Error(t, err, c.want)
		require.Contains(t, err.Error(), c.want)
	}
	o := cluster.DefaultOptions()
	o.Standbys = 2
	require.NoError(t, o.Validate())
}

// A cluster's standbys: hosts after the shared-storage nodes, each on its own
// disk, refusing the shared-storage roles, and (once settled) holding every
// acknowledged commit on that disk while shared storage never saw them.
func TestStandbyCluster(t *testing.T) {
	r := script.NewRunner(3, sim.LevelStory, sim.FormatText)
	for _, cmd := range []string{"cluster nodes=2 pages=4 standbys=2 sched=random", "writes node=1 count=12",
		"run-until caught-up node=3", "run-until caught-up node=4"} {
		_, err := r.Exec(cmd)
		require.NoError(t, err, cmd)
	}
	c := r.C
	require.Equal(t, []storage.HostID{1, 2}, c.Hosts())
	require.Equal(t, []storage.HostID{3, 4}, c.StandbyHosts())
	require.False(t, c.IsStandby(2))
	require.Nil(t, c.StandbyDevice(2))
	require.ErrorContains(t, c.Rebuild(3), "standby with its own storage")
	require.ErrorContains(t, c.Start(2, postmaster.RoleStandby), "already running")
	require.NoError(t, c.Stop(4, false))
	require.True(t, c.S.RunUntil(func() bool { return !c.Op.Alive(c.Node(4)) }, 1000).Done)
	require.ErrorContains(t, c.Start(4, postmaster.RoleReplica), "is a standby (its own storage), not a replica")
	require.NoError(t, c.Start(4, postmaster.RoleStandby), "a stopped standby restarts on its disk")

	want := map[[2]int]uint64{}
	for _, a := range c.Journal.Acks {
		for _, w := range a.Writes {
			want[[2]int{w.Page, int(w.Slot)}] = w.Value
		}
	}
	require.NotEmpty(t, want)
	for _, h := range c.StandbyHosts() {
		n := c.Node(h)
		p := c.Primary()
		res := c.S.RunUntil(func() bool {
			return script.Serving(n) && n.ReplayLSN >= p.WAL.FlushedLSN() && n.BGW.ReplayPoint() >= n.ReplayLSN && n.Pool.FlushLen() == 0
		}, 20000)
		require.True(t, res.Done, "%v settles: %v\n%s", h, res, c.StandbyStatus(n))
		require.Nil(t, res.Violation)
		_, onShared := c.Dev.Mounted(h)
		require.False(t, onShared, "%v never mounts shared storage", h)
		require.NotSame(t, c.Dev, c.StandbyDevice(h))
		m, err := c.StandbyDevice(h).Mount(200, storage.MountReadOnly)
		require.NoError(t, err)
		for k, v := range want {
			var b [storage.BlockSize]byte
			_, err := m.ReadAt(n.RelPath(), b[:], int64(k[0])*storage.BlockSize)
			if err != nil && !errors.Is(err, io.EOF) {
				require.NoError(t, err)
			}
			pg, err := storage.UnmarshalPage(b[:])
			require.NoError(t, err)
			require.Equal(t, v, pg.Slots[k[1]], "%v disk page %d slot %d", h, k[0], k[1])
		}
		c.StandbyDevice(h).Unmount(200)
	}
	for _, w := range c.Dev.WritesSince(0) {
		require.Less(t, w.Host, storage.HostID(3), "only shared-storage nodes write the shared device")
	}
	out, err := r.Exec("check acked-visible node=4")
	require.NoError(t, err)
	require.Contains(t, out, "acknowledged commits visible on n4")
}

// A promoted standby's acknowledged commits are judged on its own disk
// (PromotedStandbyRecovers), and the claim fails when the disk lacks one:
// a commit it never made, or a write its disk never got.
func TestPromotedStandbyRecoversCanFail(t *testing.T) {
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	for _, cmd := range []string{"cluster nodes=2 pages=4 standbys=1", "writes node=1 count=3", "run-until caught-up node=3",
		"promote node=3", "run-until read-write node=3", "writes node=3 count=2", "check all"} {
		out, err := r.Exec(cmd)
		require.NoError(t, err, "%s\n%s", cmd, out)
	}
	c := r.C
	require.True(t, c.StandbyPromoted(3))
	require.Equal(t, storage.HostID(1), c.Primary().Cfg.Host, "the shared primary is still n1: the promoted standby is not the cluster's")
	acks := c.Journal.Acks
	var mine *postmaster.Ack
	for i := range acks {
		if acks[i].Node == 3 {
			mine = &acks[i]
		}
	}
	require.NotNil(t, mine, "n3 acknowledged commits after its promote")

	saved := c.Journal.Acks
	c.Journal.Acks = append(append([]postmaster.Ack(nil), saved...), postmaster.Ack{XID: 99, Node: 3, CommitEnd: mine.CommitEnd, Step: mine.Step})
	_, err := r.Exec("check all")
	require.ErrorContains(t, err, "PromotedStandbyRecovers")
	require.ErrorContains(t, err, "xid 99")

	bad := *mine
	bad.Writes = []postmaster.Write{{Page: 3, Slot: 3, Value: postmaster.MakeValue(mine.XID, 77)}}
	c.Journal.Acks = append(append([]postmaster.Ack(nil), saved...), bad)
	_, err = r.Exec("check all")
	require.ErrorContains(t, err, "PromotedStandbyRecovers")
	require.ErrorContains(t, err, "page 3 slot 3 holds x0.0")
	c.Journal.Acks = saved
}

// A standby's restartpoints recycle the WAL below its redo on its own disk
// and keep the rest; WALRetained fails the moment a segment the redo still
// needs is gone.
func TestStandbyRestartpointRecyclesWAL(t *testing.T) {
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	for _, cmd := range []string{"cluster nodes=2 pages=4 standbys=1", "writes node=1 count=40", "run-until caught-up node=3",
		"run steps=400", "writes node=1 count=40", "run-until caught-up node=3", "run steps=400", "check all"} {
		out, err := r.Exec(cmd)
		require.NoError(t, err, "%s\n%s", cmd, out)
	}
	c := r.C
	n := c.Node(3)
	require.Greater(t, n.Control.Redo, logindex.FirstLSN, "a restartpoint moved the standby's redo")
	require.Positive(t, c.S.Marks().Count("postmaster/wal-recycled"))
	size := n.Cfg.LogIndex.WALSegmentSize
	require.False(t, n.Mount.Exists(logindex.SegmentName(0, size)), "the first segment is below the redo: recycled")
	need := logindex.SegmentName(logindex.SegNo(n.Control.Redo, size), size)
	require.True(t, n.Mount.Exists(need))
	require.NoError(t, n.Mount.Remove(need))
	_, err := r.Exec("check all")
	require.ErrorContains(t, err, "WALRetained")
	require.ErrorContains(t, err, need)
}
