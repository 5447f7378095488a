package scenarios

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/explore"
	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
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
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			expect := headerValue(data, "expect")
			require.NotEmpty(t, expect, "%s: no '# expect: none|CHECKER' line", path)
			f, err := explore.ParseCounterexample(path, data)
			require.NoError(t, err)
			cx := explore.Counterexample{Cluster: f.Commands[0].(script.Cluster), Actions: f.Commands[1:],
				Scripted: f.Header.Scripted, Schedule: f.Header.Schedule, Seed: f.Header.Seed, Checker: f.Header.Checker}
			o, err := cx.Run(swarm.RunConfig{})
			require.NoError(t, err)
			// "# requires-mark: M" lines: the run must still pass through the
			// story the file guards (a mark its code path records).
			for _, mark := range headerValues(data, "requires-mark") {
				require.Contains(t, o.Marks, mark, "%s: the run no longer reaches the path it guards", path)
			}
			if expect == "none" {
				require.Nil(t, o.Violation, "%s: want no violation; reproduce: %s", path, explore.ReproduceCommand(path))
				return
			}
			require.NotNil(t, o.Violation, "%s: want %s, got no violation", path, expect)
			require.Equal(t, expect, o.Violation.Checker, "%s: a different checker fired: %v", path, o.Violation)
		})
	}
}

// headerValues are the values of every "# key: value" line before the
// first command.
func headerValues(data []byte, key string) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			break
		}
		if v, ok := strings.CutPrefix(l, "# "+key+":"); ok {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// headerValue is the value of a file's "# key: value" line before its
// first command ("" when absent).
func headerValue(data []byte, key string) string {
	if v := headerValues(data, key); len(v) > 0 {
		return v[0]
	}
	return ""
}
