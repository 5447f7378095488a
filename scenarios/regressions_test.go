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

// TestRegressionTraces replays the regression scripts under
// testdata/regressions that record their trace (TestRegressions judges
// every regression by its outcome alone): scripts the explorer once
// recorded as violations that were checker false alarms. Each command must
// print what it prints now (regenerate with -rewrite), the script must end
// with no violation, and it must still reach the situation it was kept for. For
// the reuse-rewind scripts (v15-fixed seeds 9434, 10373, 14815, 5446) that
// is a page write below the stored page LSN that StoredPageNeverGoesBack
// accepts as recovery regenerating a reused page from its init record
// (check.Checks.Rewinds): a checker that flags it again fails on the
// violation, and a model change that no longer reaches it fails on the
// count, so the script cannot pass vacuously. The logical-unsaved script
// (seed 67245) guards the journal: a get_changes that saved nothing after an
// earlier failed save is no durable acknowledgement, so LogicalSlotsSurvive
// must not fire when a crash takes the slot back; its recorded trace (the
// failed save, then the call that returns rows) pins that it still gets
// there.
func TestRegressionTraces(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "regressions", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no regression scripts under testdata/regressions")
	traced := 0
	for _, path := range files {
		if !recordsTrace(t, path) {
			continue
		}
		traced++
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			_, x := replayRecorded(t, path)
			require.Nil(t, x.V, "%s: the script is no longer clean: %v", path, x.V)
			if strings.HasPrefix(filepath.Base(path), "reuse-rewind-") {
				require.NotNil(t, x.R.K, "%s: no cluster was built", path)
				require.Positive(t, x.R.K.Rewinds(), "%s: no page write below the stored page LSN was met: the script no longer reaches the rewind it guards", path)
			}
		})
	}
	require.GreaterOrEqual(t, traced, 5, "the reuse-rewind and logical-unsaved scripts record their traces")
}

// recordsTrace reports whether a regression script records any command's
// output (the outcome-only ones record none).
func recordsTrace(t *testing.T, path string) bool {
	sf, err := explore.ReadScript(path)
	require.NoError(t, err)
	for _, d := range sf.Directives {
		if d.Expected != "" {
			return true
		}
	}
	return false
}
