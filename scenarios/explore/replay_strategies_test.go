package explore

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
	"promotesim/sim"
)

// TestWorldFilesReplayUnderEveryStrategy: for every scheduling strategy and
// many swarm seeds, a world's unshrunk counterexample file, read back from
// disk, replays to the world's own outcome: the same violation at the same
// step; a clean world (no file is written for it) replays from its
// commands' lines, parsed back, to the same steps and trace hash. A world and its file must
// ask the chooser the same questions in the same order; seed 1 under pct
// did not, because the world's commands waited at most worldWaitBudget
// steps while the file's replay waited the script runner's 50000 (a fast
// stop PCT starves outlasted one and not the other), until the cluster line
// carried the budget. The worlds run v15-fixed, where the hazard is caught
// (hazard.Fixed: PolarDB 15's guard masks it in v15, whose worlds then
// fail, if at all, only by the faithful profile's own findings).
func TestWorldFilesReplayUnderEveryStrategy(t *testing.T) {
	seeds := uint64(40)
	if testing.Short() {
		seeds = 10
	}
	failed, clean := 0, 0
	for _, name := range []string{"uniform", "pct", "preempt", "swarm"} {
		st, err := sim.ParseStrategy(name)
		require.NoError(t, err)
		for seed := uint64(1); seed <= seeds; seed++ {
			sw, err := swarm.DeriveSwarm(seed, swarm.Base{Hazard: "reset-after-recovery-done", Fixed: true, Sched: st})
			require.NoError(t, err)
			o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
			require.NoError(t, err)
			where := name + " " + sw.String()
			if o.Violation == nil {
				requireCleanReplay(t, o, where)
				clean++
				continue
			}
			failed++
			cx := FromOutcome(o)
			path, err := SaveCounterexample(t.TempDir(), &cx)
			require.NoError(t, err, where)
			f, err := ReadCounterexample(path)
			require.NoError(t, err, where)
			v := f.Replay(nil, sim.LevelStory, sim.FormatText)
			require.NotNil(t, v, "%s: the world failed %s at step %d, its file replays clean", where, o.Violation.Checker, o.Violation.Step)
			require.Equal(t, o.Violation.Checker, v.Checker, where)
			require.Equal(t, o.Violation.Step, v.Step, where)
		}
	}
	t.Logf("%d of %d worlds failed", failed, 4*seeds)
	require.Positive(t, failed, "no world failed under the hazard: the test compares only clean traces")
	require.Positive(t, clean, "every world failed: the test compares no clean trace")
}

// requireCleanReplay replays a clean world from its commands' script text
// (each line through script.Parse, as a file would be read) and requires
// the world's trace hash: a command whose line loses an argument replays
// another command.
func requireCleanReplay(t *testing.T, o swarm.Outcome, where string) {
	t.Helper()
	x := NewReplayer(o.Swarm.Seed, nil, false, sim.LevelStory, sim.FormatText)
	x.R.Quiet = true
	for _, cmd := range append([]script.Command{o.Cluster}, o.Actions...) {
		back, err := script.Parse(cmd.String())
		require.NoError(t, err, "%s: %q does not parse back", where, cmd.String())
		require.Equal(t, cmd.String(), back.String(), where)
		x.Exec(back)
		require.Nil(t, x.V, "%s: a clean world's script fails at %q", where, cmd.String())
	}
	require.Equal(t, o.Steps, x.R.C.S.StepNo(), "%s: the script replay took another number of steps", where)
	require.Equal(t, o.Hash, x.R.C.S.Trace().Hash(), "%s: a clean world's script replays another trace", where)
}
