package scenarios

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/script"
	"promotesim/sim"
)

// TestFindings replays every finding of docs/findings.md
// (testdata/findings): PolarDB's behaviour as modelled (profile v15, or
// v11 for PolarDB 11's findings V11-*) runs into the violation the file
// records, printing what it printed when it was written, and the same
// commands and schedule under the model's fixes (v15-fixed or v11-fixed,
// the proposed fix) hold. Regenerate the expected output with
// -rewrite (the violation must still recur).
func TestFindings(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "findings", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "docs/findings.md's counterexamples")
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			f, x := replayRecorded(t, path)
			h := f.Header
			require.NotNil(t, x.V, "%s: the recorded violation of %s did not recur", path, h.Checker)
			require.Equal(t, h.Checker, x.V.Checker, "%s: a different checker fired: %v", path, x.V)
			cl, ok := f.Commands[0].(script.Cluster)
			require.True(t, ok, "%s: the first command is not a cluster line", path)
			require.False(t, cl.Opts.Fixed, "a finding is PolarDB's behaviour: profile v15 or v11, not %s", cl.Opts.Get("profile"))
			fixed := cl.Opts.Get("profile") + "-fixed"

			require.NoError(t, f.SetProfile(fixed))
			v := f.Replay(nil, sim.LevelStory, sim.FormatText)
			require.Nil(t, v, "%s: the fix (%s) does not hold: %v", path, fixed, v)
		})
	}
}
