package script

import (
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
