package scenarios

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/explore"
)

// TestRegressions replays every permanent regression script
// (testdata/regressions/*.txt): a failure once found, kept as its cluster
// line, commands and scheduler choices (the counterexample file format),
// not as a seed a planner or traffic change would reshuffle. Each file's
// header says what it guards and, in "# expect:", the outcome: "none" (the
// run, liveness and whole-state checks included, holds) or the checker
// that must fire; "# requires-mark:" lines name marks the run must record
// (so a script that stops reaching its story fails too). A fix that regresses, or a checker that stops catching
// a recorded bug, fails here. Only the outcome is compared, not the trace,
// so a change to trace wording does not make the files stale.
func TestRegressions(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "regressions", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "testdata/regressions holds the permanent regressions; none found")
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			sf, err := explore.ReadScript(path)
			require.NoError(t, err)
			require.True(t, explore.IsRegression(sf), "%s: no '# expect: none|CHECKER' line", path)
			rr, err := explore.RunRegression(sf)
			require.NoError(t, err)
			require.Empty(t, rr.MissingMarks, "%s: the run no longer reaches the path it guards", path)
			if rr.Expect == "none" {
				require.Nil(t, rr.V, "%s: want no violation; reproduce: %s", path, explore.ReproduceCommand(path))
				return
			}
			require.NotNil(t, rr.V, "%s: want %s, got no violation", path, rr.Expect)
			require.Equal(t, rr.Expect, rr.V.Checker, "%s: a different checker fired: %v", path, rr.V)
		})
	}
}
