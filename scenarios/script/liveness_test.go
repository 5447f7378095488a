package script

import (
	"strings"
	"testing"

	"promotesim/sim"

	"github.com/stretchr/testify/require"
)

// liveness rescue=N is the operator's pg_ctl promote of a replica waiting
// in a trigger file's promote: without it the promote never completes
// (PromoteCompletes: PolarDB's trigger file path never signals the BGW,
// docs/model.md), with it the cluster converges and the output says who
// was rescued. A rescue of a node in no such promote is a note, not a
// second promote.
func TestLivenessRescue(t *testing.T) {
	run := func(live string) (string, error) {
		r := NewRunner(1, sim.LevelStory, sim.FormatText)
		var out strings.Builder
		for _, line := range []string{"cluster nodes=3 pages=4", "write node=1 page=0", "stop node=1 mode=fast", "trigger node=2", "run steps=40", live} {
			o, err := r.Exec(line)
			out.WriteString(o)
			if err != nil {
				return out.String(), err
			}
		}
		return out.String(), nil
	}
	_, err := run("liveness budget=3000")
	require.ErrorContains(t, err, "PromoteCompletes")
	out, err := run("liveness rescue=2")
	require.NoError(t, err, out)
	require.Contains(t, out, "rescue: pg_ctl promote n2 (startup took its trigger file)")
	require.Contains(t, out, "cluster converged")
	out, err = run("liveness rescue=3,2")
	require.NoError(t, err, out)
	require.Contains(t, out, "rescue: n3 is in no promote: no pg_ctl promote")
	require.Contains(t, out, "rescue: pg_ctl promote n2")
	// An operator who already sent pg_ctl promote sends no second one.
	r := NewRunner(1, sim.LevelStory, sim.FormatText)
	var b strings.Builder
	for _, line := range []string{"cluster nodes=3 pages=4", "write node=1 page=0", "stop node=1 mode=fast", "trigger node=2", "run steps=40", "promote node=2", "liveness rescue=2"} {
		o, err := r.Exec(line)
		require.NoError(t, err, line)
		b.WriteString(o)
	}
	require.Contains(t, b.String(), "rescue: n2 was sent pg_ctl promote already: no pg_ctl promote")
	require.Contains(t, b.String(), "cluster converged")
	_, err = run("liveness rescue=9")
	require.ErrorContains(t, err, "rescue=9: no node n9 (the cluster has 3, standbys included)")
}

// rescue= round-trips and a bad list is refused with a clear message.
func TestLivenessRescueParse(t *testing.T) {
	c, err := Parse("liveness budget=500 rescue=2,3")
	require.NoError(t, err)
	require.Equal(t, "liveness budget=500 rescue=2,3", c.String())
	for _, c := range []struct{ line, want string }{
		{"liveness rescue=", `rescue="": want node numbers like 2 or 2,3`},
		{"liveness rescue=two", `want node numbers`},
		{"liveness rescue=2,2", "node 2 given twice"},
		{"liveness rescue=0", "want node numbers"},
	} {
		_, err := Parse(c.line)
		require.ErrorContains(t, err, c.want, c.line)
	}
}

// A standby's host is a host rescue= may name (the crash-point sweep lists
// every trigger window's node): a standby finishes its trigger file's
// promote by itself, so liveness only notes that it rescues nothing.
func TestLivenessRescueSkipsStandby(t *testing.T) {
	r := NewRunner(1, sim.LevelStory, sim.FormatText)
	var out strings.Builder
	for _, line := range []string{"cluster nodes=2 pages=4 standbys=1", "write node=1 page=0", "liveness rescue=3"} {
		o, err := r.Exec(line)
		require.NoError(t, err, line)
		out.WriteString(o)
	}
	require.Contains(t, out.String(), "rescue: n3 is a standby, which finishes a trigger file's promote by itself: no pg_ctl promote")
	_, err := r.Exec("liveness rescue=4")
	require.ErrorContains(t, err, "rescue=4: no node n4 (the cluster has 3, standbys included)")
}

// The rescue's two ways to send nothing after its wait: startup has not
// taken the trigger file when the budget runs out (then the promote fails
// PromoteCompletes, and the output still says the rescue was not sent),
// and the node leaving its promote before startup took the file (its
// startup held and the node stopped here: rescueOne itself, since the
// liveness phase notes a node already down before any wait).
func TestLivenessRescueWaitEnds(t *testing.T) {
	trigger := []string{"cluster nodes=3 pages=4", "write node=1 page=0", "stop node=1 mode=fast", "trigger node=2"}
	r := NewRunner(1, sim.LevelStory, sim.FormatText)
	for _, line := range trigger {
		_, err := r.Exec(line)
		require.NoError(t, err, line)
	}
	out, err := r.Exec("liveness budget=1 rescue=2")
	require.ErrorContains(t, err, "PromoteCompletes")
	require.Contains(t, out, "rescue: startup of n2 did not take its trigger file in 1 steps: no pg_ctl promote")
	require.NotContains(t, out, "pg_ctl-promote")

	r = NewRunner(1, sim.LevelStory, sim.FormatText)
	for _, line := range append(trigger, "pause node=2 proc=startup", "stop node=2 mode=immediate") {
		_, err := r.Exec(line)
		require.NoError(t, err, line)
	}
	l := &liveRun{r: r, c: r.C, budget: 200}
	var b strings.Builder
	require.Nil(t, l.rescueOne(&b, 2))
	require.Equal(t, "rescue: n2 left its promote before startup took the trigger file: no pg_ctl promote\n", b.String())
}
