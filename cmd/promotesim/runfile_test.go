package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/cluster"
)

// cxHeader is a counterexample header of this model (checker and seed).
func cxHeader(checker string) string {
	return "# checker: " + checker + "\n# seed: 1\n# model-version: " + cluster.ModelVersion + "\n# schedule: -\n\n"
}

// A cluster line and its recorded output, taken from a committed script
// so the probes differ from a good file only where they say.
func goodCluster(t *testing.T) string {
	data, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "testdata", "scripts", "switchover.txt"))
	require.NoError(t, err)
	s := string(data)
	i := strings.Index(s, "cluster nodes=2 pages=4\n----\n")
	require.GreaterOrEqual(t, i, 0)
	j := strings.Index(s[i:], "\n\n")
	return s[i : i+j+2]
}

// TestBadScriptsExitTwo guards issue 15's probes: each bad script, through
// both promotesim run and replay -script, exits 2 with a message naming
// the file and the line at fault (they used to replay to "did NOT recur:
// ... delete the file" and exit 0).
func TestBadScriptsExitTwo(t *testing.T) {
	cl := goodCluster(t) // lines 1-17 of each probe below
	cases := []struct{ name, text, msg string }{
		{"unknown command", cl + "frobnicate node=1\n----\nx\n", `:18: frobnicate node=1: unknown command "frobnicate"`},
		{"bad option", cl + "writes node=1 count=zero\n----\nx\n", `:18: writes node=1 count=zero: count: want 1..10000`},
		{"bad cluster option", "cluster nodes=2 pages=lots\n----\nx\n", `:1: cluster nodes=2 pages=lots:`},
		{"unknown cluster option", "cluster nodes=2 color=red\n----\nx\n", `:1: cluster nodes=2 color=red: cluster does not take color`},
		{"refused command", cl + "promote node=7\n----\nok\n", `:18: promote node=7: refused:`},
		{"missing separator", cl + "writes node=1 count=2\nrun steps=5\n----\n2 of 2\n", `:19: "run steps=5" follows the command of line 18 before its ----`},
		{"no separator at the end", cl + "writes node=1 count=2\n", `:18: writes node=1 count=2: no ----`},
		{"unclosed block", cl + "status\n----\n----\nx\n", `:18: status: its ----/---- output has no closing`},
		{"stray separator", "----\nx\n", `:1: ---- without a command`},
		{"run steps overflow", cl + "run steps=9223372036854775807\n----\n", `:18: run steps=9223372036854775807: steps=9223372036854775807: want 1..1000000`},
		{"cluster budget overflow", "cluster nodes=2 budget=99999999999\n----\nx\n", `:1: cluster nodes=2 budget=99999999999: budget=99999999999: want 1..1000000 steps`},
		{"run-until budget", cl + "run-until caught-up node=2 budget=0\n----\n", `:18: run-until caught-up node=2 budget=0: budget=0: want 1..1000000 steps`},
		{"liveness budget", cl + "liveness budget=2000000\n----\n", `:18: liveness budget=2000000: budget=2000000: want 1..1000000 steps`},
		{"no commands", "# only a comment\n", ": no commands"},
		{"counterexample cut after its cluster line", cxHeader("NoUnexpectedExit") + cl, `:6: the file ends at "cluster nodes=2 pages=4" without the violation of NoUnexpectedExit`},
		{"counterexample without a cluster line", cxHeader("NoUnexpectedExit") + "run steps=5\n----\n", `:6: the first command must be the cluster line`},
	}
	dir := t.TempDir()
	for i, c := range cases {
		path := filepath.Join(dir, "probe"+string(rune('a'+i))+".txt")
		require.NoError(t, os.WriteFile(path, []byte(c.text), 0o644))
		for _, args := range [][]string{{"run", path}, {"replay", "-script", path}} {
			code, out, stderr := runCmd(args...)
			require.Equal(t, exitUsage, code, "%s %v: %s%s", c.name, args, out, stderr)
			require.Contains(t, stderr, path+c.msg, "%s %v", c.name, args)
		}
	}
}

// TestRunRefusesNonRegularAndHugeFiles guards the size cap: /dev/zero is
// refused before it is read (replay -script /dev/zero once read until
// memory ran out), and so is a file past script.MaxFileBytes.
func TestRunRefusesNonRegularAndHugeFiles(t *testing.T) {
	for _, args := range [][]string{{"run", "/dev/zero"}, {"replay", "-script", "/dev/zero"}} {
		code, _, stderr := runCmd(args...)
		require.Equal(t, exitUsage, code, "%v", args)
		require.Contains(t, stderr, "/dev/zero: not a regular file")
	}
	big := filepath.Join(t.TempDir(), "big.txt")
	f, err := os.Create(big)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(9<<20)) // sparse: no disk used
	require.NoError(t, f.Close())
	code, _, stderr := runCmd("run", big)
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "larger than a script may be")
	code, _, stderr = runCmd("run")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "give a script FILE")
}

// TestNonRecurringCounterexampleExitsOne guards CI's view of a stale
// counterexample: a well-formed file whose violation no longer happens
// (here a committed counterexample with its hazard taken off the cluster
// line) exits 1 with the advice, from run and from replay -script.
func TestNonRecurringCounterexampleExitsOne(t *testing.T) {
	src := filepath.Join("..", "..", "scenarios", "testdata", "counterexamples", "skip-remount-NoUnexpectedExit-1.txt")
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	text := strings.Replace(string(data), " hazard=skip-remount seed=1", " seed=1", 1)
	require.NotEqual(t, string(data), text, "the cluster line names its hazard")
	path := filepath.Join(t.TempDir(), "gone.txt")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	code, out, stderr := runCmd("run", path)
	require.Equal(t, exitViolation, code, "%s%s", out, stderr)
	require.Contains(t, out, "did NOT recur")
	require.Contains(t, out, "output differs from the file")
	code, out, stderr = runCmd("replay", "-script", path)
	require.Equal(t, exitViolation, code, "%s%s", out, stderr)
	require.Contains(t, out, "did NOT recur")
}

// TestRunEveryScriptExitsZero guards promotesim run against the tests it
// mirrors: every datadriven file under scenarios/testdata (stories,
// checker scripts, hazard canaries, findings, counterexamples) runs with
// every output as recorded, every regression script with its expected
// outcome; and a story whose recorded output is changed
// exits 1 with a diff naming the line.
func TestRunEveryScriptExitsZero(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "scenarios", "testdata", "*", "*.txt"))
	require.NoError(t, err)
	require.Greater(t, len(files), 40)
	for _, f := range files {
		code, out, stderr := runCmd("run", f)
		require.Equal(t, exitOK, code, "%s: %s%s", f, out, stderr)
		if strings.Contains(f, "regressions") {
			// A regression script records no outputs: its outcome is judged.
			require.Contains(t, out, "as expected")
			continue
		}
		require.Contains(t, out, "every output as recorded")
	}
	data, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "testdata", "scripts", "switchover.txt"))
	require.NoError(t, err)
	changed := strings.Replace(string(data), "n1 stopped\n", "n1 still running\n", 1)
	require.NotEqual(t, string(data), changed)
	path := filepath.Join(t.TempDir(), "changed.txt")
	require.NoError(t, os.WriteFile(path, []byte(changed), 0o644))
	code, out, _ := runCmd("run", path)
	require.Equal(t, exitViolation, code)
	require.Contains(t, out, "-n1 still running")
	require.Contains(t, out, "+n1 stopped")
	require.Contains(t, out, "FAIL: 1 of")
}

// A regression script is judged by its outcome: one whose "# expect:" the
// replay does not meet, or whose required mark the run no longer records,
// exits 1 and says which.
func TestRunJudgesRegressionOutcome(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "scenarios", "testdata", "regressions", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	for _, c := range []struct{ from, to, want string }{
		{"# expect: none\n", "# expect: SingleWriter\n", "regression expects SingleWriter, the replay ended in none"},
		{"# expect: none\n", "# expect: none\n# requires-mark: no/such-mark\n", "no longer records mark no/such-mark"},
	} {
		changed := strings.Replace(string(data), c.from, c.to, 1)
		require.NotEqual(t, string(data), changed, "%s has no %q line", files[0], c.from)
		path := filepath.Join(t.TempDir(), "changed.txt")
		require.NoError(t, os.WriteFile(path, []byte(changed), 0o644))
		code, out, stderr := runCmd("run", path)
		require.Equal(t, exitViolation, code, "%s%s", out, stderr)
		require.Contains(t, out, c.want)
	}
}
