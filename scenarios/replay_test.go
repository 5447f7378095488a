package scenarios

import (
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/stretchr/testify/require"

	"promotesim/scenarios/explore"
	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/script"
	"promotesim/sim"
)

// replayRecorded replays a counterexample-format file (a counterexample, a
// finding, a regression script) command by command under its recorded
// seed and scheduler choices, comparing each command's story-level output
// with the file's (-rewrite records it). It returns the file and the
// replayer, whose V is the violation the replay met, if any: the callers
// judge it.
func replayRecorded(t *testing.T, path string) (*explore.CounterexampleFile, *explore.Replayer) {
	t.Helper()
	f, err := explore.ReadCounterexample(path)
	require.NoError(t, err)
	h := f.Header
	x := explore.NewReplayer(h.Seed, h.Schedule, h.Scripted, sim.LevelStory, sim.FormatText)
	datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
		cmd, err := script.Parse(fixture.Line(d))
		require.NoError(t, err)
		out := x.Exec(cmd)
		if out == "" {
			return ""
		}
		return out + "\n"
	})
	return f, x
}
