package script

import (
	"strings"
	"testing"

	"promotesim/sim"

	"github.com/stretchr/testify/require"
)

// Bad script input gets a clear error, never a panic.
func TestRunnerRejectsBadInput(t *testing.T) {
	r := NewRunner(1, sim.LevelStory, sim.FormatText)
	for _, c := range []struct{ line, want string }{
		{"write node=1", "no cluster yet"},
		{"cluster nodes=two", `nodes="two": want a whole number`},
		{"cluster fence=paxos", "fence"},
		{"cluster profile=v9", "unknown profile"},
		{"cluster bogus=1", "cluster does not take bogus"},
		{"cluster nodes=2 nodes=3", "given twice"},
	} {
		_, err := r.Exec(c.line)
		require.Error(t, err, c.line)
		require.Contains(t, err.Error(), c.want, c.line)
	}
	_, err := r.Exec("cluster nodes=2 pages=4")
	require.NoError(t, err)
	for _, c := range []struct{ line, want string }{
		{"frobnicate", `unknown command "frobnicate"`},
		{"write node=9 page=0", "no node n9"},
		{"write node=1 page=99", "out of range"},
		{"stop node=1 mode=gentle", "want fast or immediate"},
		{"start node=1 role=king", "want primary, replica or standby"},
		{"start node=1 role=primary", "already running"},
		{"drop-slot node=1 name=nosuch", "does not exist"},
		{"run-until node=2", "needs a condition"},
		{"pause node=2 proc=janitor", "proc=\"janitor\""},
		{"rebuild node=1", "stop n1 first"},
	} {
		_, err := r.Exec(c.line)
		require.Error(t, err, c.line)
		require.Contains(t, err.Error(), c.want, c.line)
	}
}

// budget= on the cluster line sets how long the script's waiting commands
// wait (a swarm world's line carries its shorter budget, so its file
// replays the same waits); it round-trips and a bad one is refused.
func TestClusterLineBudget(t *testing.T) {
	r := NewRunner(1, sim.LevelStory, sim.FormatText)
	require.Equal(t, 50000, r.Budget)
	c, err := Parse("cluster nodes=2 seed=4 sched=random budget=300")
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(c.String(), " seed=4 sched=random budget=300"), c.String())
	back, err := Parse(c.String())
	require.NoError(t, err)
	require.Equal(t, c, back)
	_, err = r.Run(c)
	require.NoError(t, err)
	require.Equal(t, 300, r.Budget)
	out, err := r.Exec("pause node=1 proc=postmaster")
	require.NoError(t, err, out)
	out, err = r.Exec("stop node=1 mode=fast")
	require.NoError(t, err)
	require.Contains(t, out, "still running after 300 steps", "the stop waits the line's budget")
	for _, line := range []string{"cluster budget=0", "cluster budget=-5", "cluster budget=many"} {
		_, err := Parse(line)
		require.Error(t, err, line)
		require.Contains(t, err.Error(), "budget=", line)
	}
}
