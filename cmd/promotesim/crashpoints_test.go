package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCrashpointsCleanAndFailing guards the command's contract: on the
// fixed model the switchover's power-loss points all recover and it says
// so with exit 0; with a hazard it exits 1 and writes the failing point
// as a script that replay -script reproduces; -json carries the counts.
func TestCrashpointsCleanAndFailing(t *testing.T) {
	code, out, stderr := runCmd("crashpoints", "-kinds", "power")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "0 acknowledged commits lost")
	require.Regexp(t, `power +\d+ crash points tried, +\d+ recovered cleanly`, out)

	dir := t.TempDir()
	code, out, stderr = runCmd("crashpoints", "-hazard", "reset-after-recovery-done", "-kinds", "old-primary", "-out", dir)
	require.Equal(t, exitViolation, code, stderr)
	require.Contains(t, out, "FAILED: ")
	files, err := filepath.Glob(filepath.Join(dir, "crash-*.txt"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.Contains(t, out, "replay it: promotesim replay -script "+files[0])
	code, rout, stderr := runCmd("replay", "-script", files[0])
	require.Equal(t, exitViolation, code, stderr)
	require.Contains(t, rout, "recurred at step")

	code, out, stderr = runCmd("crashpoints", "-kinds", "promoting", "-json")
	require.Equal(t, exitOK, code, stderr)
	var rep struct {
		Tried map[string]int `json:"tried"`
		Clean map[string]int `json:"clean"`
		Lost  int            `json:"lost"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.Positive(t, rep.Tried["promoting"])
	require.Equal(t, rep.Tried["promoting"], rep.Clean["promoting"])
}

// TestCrashpointsBadUsage: bad flags are exit 2 with a message.
func TestCrashpointsBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-kinds", "bogus"}, {"-seed", "0"}, {"-profile", "v99"}, {"-hazard", "no-such"}, {"extra"},
	} {
		code, _, stderr := runCmd(append([]string{"crashpoints"}, args...)...)
		require.Equal(t, exitUsage, code, "%v: %s", args, stderr)
		require.True(t, strings.HasPrefix(stderr, "promotesim crashpoints: "), stderr)
	}
}
