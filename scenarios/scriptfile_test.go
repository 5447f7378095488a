package scenarios

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/stretchr/testify/require"

	"promotesim/scenarios/explore"
	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/script"
)

// TestScriptFileReaderAgreesWithDatadriven guards promotesim run against
// drifting from the tests: for every script file under testdata, the
// reader the CLI uses (explore.ReadScript) finds the same commands, at the
// same lines, with the same recorded output, as cockroachdb/datadriven's
// reader that TestScripts, TestHazardScripts, TestFindings and
// TestCounterexamples use.
func TestScriptFileReaderAgreesWithDatadriven(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.txt"))
	require.NoError(t, err)
	require.Greater(t, len(files), 40)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			sf, err := explore.ReadScript(path)
			require.NoError(t, err)
			i := 0
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				require.Less(t, i, len(sf.Directives), "datadriven found more commands")
				got := sf.Directives[i]
				i++
				require.Equal(t, fmt.Sprintf("%s:%d", path, got.Line), d.Pos)
				want, err := script.Parse(fixture.Line(d))
				require.NoError(t, err)
				require.Equal(t, want.String(), got.Cmd.String())
				require.Equal(t, d.Expected, got.Expected)
				require.Empty(t, strings.TrimSpace(d.Input), "no command has input")
				return d.Expected
			})
			require.Equal(t, len(sf.Directives), i, "datadriven found fewer commands")
		})
	}
}
