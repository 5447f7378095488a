package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// flakyLog is the shape of a failing TestClusterProperties log: the
// program and schedule of issue 15's flaky seed (as
// scenarios/testdata/regressions/flaky-property-unsynced-wal-read.txt
// keeps them), among rapid's other lines.
const flakyLog = `    rapid.go:39: [rapid] draw sched: 0
    property_test.go:60: VIOLATION NoUnexpectedExit
        program:
          cluster nodes=3 pages=2 pool=3 queue=3 logindex-mem=4 table-size=8 batch=1 workers=1 sessions=2 fence=epoch profile=v15 seed=1 sched=random
          fault node=1 kind=io-error op=sync path=
          promote node=1
          promote node=3
          submit node=1 page=0 slot=0 abort=true count=4
          run steps=19
          crash node=1
          run steps=10
        schedule: [0 1 0 0 0 2 0 0 0 0 1 1 0 0 0 0 4 1 5 6 6 0 3 4 0 0]
FAIL
`

// regress turns a property's failure log into a regression script that
// replay -script runs to the same outcome, and a seeded world into one with
// its commands and choices; bad usage exits 2.
func TestRegressWritesReplayableScripts(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log.txt")
	require.NoError(t, os.WriteFile(log, []byte(flakyLog), 0o644))
	out := filepath.Join(dir, "flaky.txt")
	code, stdout, stderr := runCmd("regress", "-from-log", log, "-guards", "issue 15's flaky seed", "-o", out)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	require.Contains(t, stdout, "expect: none")
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	text := string(data)
	for _, want := range []string{"# issue 15's flaky seed", "# expect: none", "# schedule: 0 1 0*3 2 0*4 1 1 0*4 4 1 5 6 6 0 3 4\n",
		"profile=v15 seed=1 sched=fifo\n----\n", "crash node=1\n----\n"} {
		require.Contains(t, text, want)
	}
	code, stdout, _ = runCmd("replay", "-script", out)
	require.Equal(t, exitOK, code, stdout)
	require.Contains(t, stdout, "final-replay-done      end=0/90", "n3 replays n1's unsynced records, as the failing run did")
	require.Contains(t, stdout, "held: no violation")

	seeded := filepath.Join(dir, "seed.txt")
	code, stdout, stderr = runCmd("regress", "-seed", "1524", "-guards", "seed 1524", "-o", seeded)
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	code, stdout, _ = runCmd("replay", "-script", seeded)
	require.Equal(t, exitOK, code, stdout)
	require.True(t, strings.Contains(stdout, "held: no violation"), stdout)

	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"regress", "-seed", "1", "-o", seeded}, "give -guards TEXT and -o FILE"},
		{[]string{"regress", "-guards", "x", "-o", seeded}, "exactly one of -seed S and -from-log FILE"},
		{[]string{"regress", "-seed", "1", "-from-log", log, "-guards", "x", "-o", seeded}, "exactly one of"},
		{[]string{"regress", "-from-log", seeded, "-guards", "x", "-o", out}, "no 'program:' block"},
		{[]string{"regress", "-from-log", "/nonexistent", "-guards", "x", "-o", out}, "no such file"},
		{[]string{"regress", "-seed", "1", "-with", "nosuch", "-guards", "x", "-o", out}, `unknown action class "nosuch"`},
	} {
		code, _, stderr := runCmd(c.args...)
		require.Equal(t, exitUsage, code, "args %q", c.args)
		require.Contains(t, stderr, c.msg, "args %q", c.args)
	}
}
