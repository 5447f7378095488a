package scenarios

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCounterexamples runs every counterexample the explorer recorded
// (testdata/counterexamples, written by promotesim explore) as a
// datadriven script: each command must print what it printed when it was
// found, and the file must end in the violation its header names. A hazard
// that stops being caught, or a schedule that no longer leads where it
// did, fails here. Regenerate expected output with -rewrite (the violation
// must still recur).
func TestCounterexamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "counterexamples", "*.txt"))
	require.NoError(t, err)
	if len(files) == 0 {
		t.Skip("no counterexamples recorded")
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			f, x := replayRecorded(t, path)
			h := f.Header
			require.NotNil(t, x.V, "%s: the recorded violation of %s did not recur", path, h.Checker)
			require.Equal(t, h.Checker, x.V.Checker, "%s: a different checker fired: %v", path, x.V)
		})
	}
}
