package shmem

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// orderingFlags returns every Orderings field by name.
func orderingFlags(o Orderings) map[string]bool {
	v := reflect.ValueOf(o)
	out := make(map[string]bool, v.NumField())
	for i := 0; i < v.NumField(); i++ {
		out[v.Type().Field(i).Name] = v.Field(i).Bool()
	}
	return out
}

func TestOrderingsFor(t *testing.T) {
	// V11-only guards: on in v11, off in v15, where V15's order never
	// reaches the state they guard (HoldConsistentInWaitingReset: the BGW
	// waits for its reset only while the node is still in recovery).
	// Fixed-only: a fix no PolarDB version has, off in both profiles
	// (EvictAllOutdated, docs/findings.md F5).
	v11Only := map[string]bool{"HoldConsistentInWaitingReset": true}
	fixedOnly := map[string]bool{"EvictAllOutdated": true, "PromoteTwoPhaseFiles": true}
	v15 := orderingFlags(OrderingsFor(ProfileV15))
	require.Len(t, v15, reflect.TypeOf(Orderings{}).NumField())
	for name, on := range v15 {
		require.Equal(t, !v11Only[name] && !fixedOnly[name], on, "v15 %s", name)
	}
	// docs/model.md §8: V11 does not wait for backends, restarts replay from
	// min(consistent, replay point) instead of the redo pointer, does not
	// evict stale buffers, and switches role before the BGW reset; its
	// bgwriter holds the consistent LSN in that window. (Its fencing is a
	// device option, not an ordering.)
	wantOff := map[string]bool{"WaitBackends": true, "ReplayFromRedo": true, "EvictStale": true, "ResetBeforeRecoveryDone": true,
		"EvictAllOutdated": true, "PromoteTwoPhaseFiles": true}
	for name, on := range orderingFlags(OrderingsFor(ProfileV11)) {
		require.Equal(t, !wantOff[name], on, "v11 %s", name)
	}
	require.True(t, OrderingsFor(ProfileV11).HoldConsistentInWaitingReset)
	require.False(t, OrderingsFor(ProfileV15).HoldConsistentInWaitingReset)
}

// TestFixedOrderingsFor: the -fixed profiles keep PolarDB's order except
// V11's two findings, where v11-fixed takes V15's fix (docs/findings.md
// V11-1: the backend wait; V11-2: the reset's eviction), and both take
// F5's fix (the reset evicts every outdated buffer) and F7's (the promote
// writes the state files its adopted redo needs).
func TestFixedOrderingsFor(t *testing.T) {
	changedBy := func(p Profile) []string {
		faithful, fixed := orderingFlags(OrderingsFor(p)), orderingFlags(FixedOrderingsFor(p))
		var changed []string
		for name, on := range fixed {
			if on != faithful[name] {
				require.True(t, on, "%v-fixed turns %s off", p, name)
				changed = append(changed, name)
			}
		}
		return changed
	}
	// F5's and F7's fixes are in both fixed profiles; V11-1 and V11-2 take
	// V15's order.
	require.ElementsMatch(t, []string{"EvictAllOutdated", "PromoteTwoPhaseFiles"}, changedBy(ProfileV15))
	require.ElementsMatch(t, []string{"WaitBackends", "EvictStale", "EvictAllOutdated", "PromoteTwoPhaseFiles"}, changedBy(ProfileV11))
}

// TestFidelity: the zero Fidelity is the fixed model (every switch off);
// FaithfulV15 turns every switch on, and DefaultConfig is still fixed.
func TestFidelity(t *testing.T) {
	v := reflect.ValueOf(FaithfulV15())
	for i := 0; i < v.NumField(); i++ {
		require.True(t, v.Field(i).Bool(), "FaithfulV15 leaves %s off", v.Type().Field(i).Name)
	}
	require.Equal(t, Fidelity{}, DefaultConfig(1).Fidelity)
}

func TestParseProfile(t *testing.T) {
	for _, p := range []Profile{ProfileV15, ProfileV11} {
		got, err := ParseProfile(p.String())
		require.NoError(t, err)
		require.Equal(t, p, got)
	}
	for _, s := range []string{"", "V15", "v12", " v15", "v15 ", "15", "v1"} {
		_, err := ParseProfile(s)
		require.Error(t, err, "%q", s)
		require.Contains(t, err.Error(), "unknown profile")
		require.Contains(t, err.Error(), "want v15 or v11")
	}
	require.Equal(t, "Profile(0)", Profile(0).String())
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, DefaultConfig(1).Validate())
	require.NoError(t, DefaultConfig(7).Validate())

	// Each setting's complaint has a distinctive token; a message about one
	// bad setting carries no other setting's token.
	tokens := []string{"host id", "profile must", "out of range 1..65536", "shared_buffers", "polar_xlog_queue_buffers",
		"polar_parallel_replay_proc_num", "checkpoint distance"}
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		names string // the setting the message must name
		token string // its distinctive token
	}{
		{"host", func(c *Config) { c.Host = 0 }, "host id", "host id"},
		{"profile zero", func(c *Config) { c.Profile = 0 }, "profile", "profile must"},
		{"profile unknown", func(c *Config) { c.Profile = 9 }, "profile", "profile must"},
		{"pages zero", func(c *Config) { c.Pages = 0 }, "pages 0", "out of range 1..65536"},
		{"pages huge", func(c *Config) { c.Pages = 1<<16 + 1 }, "pages 65537", "out of range 1..65536"},
		{"pool", func(c *Config) { c.PoolFrames = 1 }, "shared_buffers 1", "shared_buffers"},
		{"logindex", func(c *Config) { c.LogIndex.QueueBuffers = 1 }, "polar_xlog_queue_buffers 1", "polar_xlog_queue_buffers"},
		{"workers zero", func(c *Config) { c.LogIndex.ParallelReplayProcNum = 0 }, "polar_parallel_replay_proc_num 0", "polar_parallel_replay_proc_num"},
		{"workers many", func(c *Config) { c.LogIndex.ParallelReplayProcNum = 17 }, "polar_parallel_replay_proc_num 17", "polar_parallel_replay_proc_num"},
		{"checkpoint distance", func(c *Config) { c.CheckpointDistance = 0 }, "checkpoint distance", "checkpoint distance"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig(2)
			tc.edit(&c)
			err := c.Validate()
			require.Error(t, err)
			msg := err.Error()
			require.True(t, strings.HasPrefix(msg, "shmem: invalid node config: "), msg)
			require.Contains(t, msg, tc.names)
			for _, other := range tokens {
				if other != tc.token {
					require.NotContains(t, msg, other, "only %s is wrong", tc.names)
				}
			}
			_, err = NewNode(c, nil)
			require.Error(t, err, "NewNode validates")
		})
	}

	// Several bad fields are all named.
	c := DefaultConfig(1)
	c.Host, c.Pages, c.CheckpointDistance = 0, 0, -1
	err := c.Validate()
	require.Error(t, err)
	for _, s := range []string{"host id", "pages", "checkpoint distance"} {
		require.Contains(t, err.Error(), s)
	}
}
