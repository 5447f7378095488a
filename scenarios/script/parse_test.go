package script_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/script"
	"promotesim/sim"
)

// Every command of every script, hazard canary, checker script and
// counterexample parses, prints as a line that parses back to the same
// value, and a counterexample's lines (written by the explorer from
// values) print exactly as the file has them.
func TestCommandsPrintAsTheirLines(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "*", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	n := 0
	for _, path := range files {
		for _, line := range fixture.ScriptCommands(t, path) {
			c, err := script.Parse(line)
			require.NoError(t, err, "%s: %s", path, line)
			back, err := script.Parse(c.String())
			require.NoError(t, err, "%s: %s printed as %s", path, line, c)
			require.Equal(t, c, back, "%s: %s printed as %s", path, line, c)
			if strings.Contains(path, "counterexamples") {
				require.Equal(t, line, c.String(), path)
			}
			n++
		}
	}
	require.Greater(t, n, 300)
}

// A bad line is reported with its line number; blank lines and comments
// are skipped.
func TestParseScriptNamesTheBadLine(t *testing.T) {
	cmds, err := script.ParseScript("# a comment\n\ncluster nodes=2\nrun steps=5\n")
	require.NoError(t, err)
	require.Equal(t, script.Run{Steps: 5}, cmds[1])
	require.Len(t, cmds, 2)
	for _, c := range []struct{ text, want string }{
		{"cluster nodes=2\nrun steps=0\n", "line 2: run steps=0: steps=0: want 1..1000000"},
		{"cluster\n\nfrobnicate node=1", `line 3: frobnicate node=1: unknown command "frobnicate"`},
		{"submit node=1 page=x", `line 1: submit node=1 page=x: page="x": want a whole number`},
		{"fault node=1 kind=latency count=2", "line 1: fault node=1 kind=latency count=2: fault kind=latency does not take count"},
		{"run-until node=2 read-write stopped", "run-until takes one condition"},
		{"cluster nodes=2 nodes=3", `argument "nodes" given twice`},
	} {
		_, err := script.ParseScript(c.text)
		require.ErrorContains(t, err, c.want, c.text)
	}
}

// The cluster command's line comes from the one option table: every
// setting round-trips through a cluster line.
func TestClusterLineRoundTrip(t *testing.T) {
	c, err := script.Parse("cluster nodes=3 pages=5 pool=7 queue=9 logindex-mem=3 replica-logindex-mem=2 table-size=12 batch=3 " +
		"workers=2 sessions=1 fence=epoch profile=v11 hazard=skip-remount standbys=1 seed=9 sched=random")
	require.NoError(t, err)
	cl := c.(script.Cluster)
	o := cl.Opts
	require.Equal(t, []int{3, 5, 7, 9, 3, 2, 12, 3, 2, 1, 1}, []int{o.Nodes, o.Pages, o.PoolFrames, o.QueueBuffers, o.LogIndexMem,
		o.ReplicaLogIndexMem, o.TableSize, o.BatchSize, o.ReplayWorkers, o.Sessions, o.Standbys})
	require.Equal(t, "epoch", o.Fence.String())
	require.Equal(t, "v11", o.Profile.String())
	require.Equal(t, "skip-remount", o.Hazard)
	require.True(t, cl.HasSeed)
	require.Equal(t, uint64(9), cl.Seed)
	back, err := script.Parse(c.String())
	require.NoError(t, err)
	require.Equal(t, c, back)
	require.Equal(t, "cluster nodes=3 pages=5 pool=7 queue=9 logindex-mem=3 replica-logindex-mem=2 table-size=12 batch=3 "+
		"workers=2 sessions=1 fence=epoch profile=v11 hazard=skip-remount standbys=1 seed=9 sched=random", c.String())
}

// sched= takes a scheduling strategy: the line round-trips it, its own
// chooser is that strategy's for the seed, and a bad one is refused.
func TestClusterLineSchedStrategy(t *testing.T) {
	for _, sched := range []string{"pct:d=2,steps=100", "preempt:k=1,p=1/50,steps=200"} {
		c, err := script.Parse("cluster seed=3 sched=" + sched)
		require.NoError(t, err)
		cl := c.(script.Cluster)
		require.True(t, cl.Seeded())
		st, err := cl.Strategy()
		require.NoError(t, err)
		require.Equal(t, sched, st.String())
		require.Contains(t, cl.String(), "sched="+sched)
		_, isStep := cl.Chooser(3).(sim.StepChooser)
		require.True(t, isStep, "%s's chooser sees the candidates", sched)
	}
	for _, sched := range []string{"", "fifo"} {
		cl := script.Cluster{Sched: sched}
		require.False(t, cl.Seeded())
	}
	cl := script.Cluster{Sched: "random"}
	st, err := cl.Strategy()
	require.NoError(t, err)
	require.Equal(t, sim.Uniform, st.Kind)
	require.Equal(t, "random", script.SchedFor(st), "uniform lines stay as they were")
	_, err = script.Parse("cluster sched=pct:d=0")
	require.ErrorContains(t, err, "want fifo, random or a scheduling strategy")
	_, err = script.Parse("cluster sched=lifo")
	require.ErrorContains(t, err, "unknown scheduling strategy")
}
