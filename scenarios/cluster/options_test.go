package cluster

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/shmem"
	"promotesim/storage"
)

func TestOptionsValidate(t *testing.T) {
	require.NoError(t, DefaultOptions().Validate())
	cases := []struct {
		mutate func(*Options)
		want   string
	}{
		{func(o *Options) { o.Nodes = 0 }, "nodes=0"},
		{func(o *Options) { o.Pages = 5000 }, "pages=5000"},
		{func(o *Options) { o.PoolFrames = 1 }, "pool=1"},
		{func(o *Options) { o.QueueBuffers = 2 }, "polar_xlog_queue_buffers"},
		{func(o *Options) { o.LogIndexMem = -1 }, "polar_logindex_mem_size"},
		{func(o *Options) { o.TableSize = 1 }, "table-size=1"},
		{func(o *Options) { o.BatchSize = 0 }, "polar_bg_replay_batch_size"},
		{func(o *Options) { o.ReplayWorkers = 0 }, "polar_parallel_replay_proc_num"},
		{func(o *Options) { o.Fence = storage.FenceDetect }, "fence=detect is PolarDB 11's"},
		{func(o *Options) { o.Fence = 0 }, "fence: want none, epoch or detect"},
		{func(o *Options) { o.Profile = 0 }, "profile: want v15, v15-fixed, v11, v11-fixed"},
		{func(o *Options) { o.Sessions = 0 }, "sessions=0"},
		{func(o *Options) { o.Faithful = "promote-one-shot" }, "faithful=promote-one-shot: the switches undo corrections of a fixed profile"},
		{func(o *Options) { o.Fixed, o.Faithful = true, "nosuch" }, `faithful="nosuch": faithful switch "nosuch"`},
		{func(o *Options) { o.Fixed, o.Faithful = true, "restart-after-crash,promote-one-shot" },
			"name the switches in their order: faithful=promote-one-shot,restart-after-crash"},
	}
	for _, c := range cases {
		o := DefaultOptions()
		c.mutate(&o)
		err := o.Validate()
		require.Error(t, err, c.want)
		require.Contains(t, err.Error(), c.want)
	}
	// Several problems are reported together, not one at a time.
	o := DefaultOptions()
	o.Nodes, o.Pages = 0, 0
	err := o.Validate()
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "nodes=0") && strings.Contains(err.Error(), "pages=0"), err.Error())

	// detect is fine with v11.
	o = DefaultOptions()
	o.Fence, o.Profile = storage.FenceDetect, shmem.ProfileV11
	require.NoError(t, o.Validate())
}

// A fixed profile's faithful switches reach every node's configuration,
// and only with them does a fixed node do that point PolarDB's way.
func TestFaithfulReachesNodes(t *testing.T) {
	o := DefaultOptions()
	o.Fixed, o.Faithful = true, "restart-after-crash,promote-writes-no-twophase-files"
	require.NoError(t, o.Validate())
	for _, c := range o.NodeConfigs() {
		require.True(t, c.Fidelity.RestartAfterCrash)
		require.False(t, c.Fidelity.PromoteOneShot)
		require.False(t, c.Orderings.PromoteTwoPhaseFiles)
		require.True(t, c.Orderings.EvictAllOutdated)
	}
	o.Faithful = ""
	for _, c := range o.NodeConfigs() {
		require.Equal(t, shmem.Fidelity{}, c.Fidelity)
		require.True(t, c.Orderings.PromoteTwoPhaseFiles)
	}
}
