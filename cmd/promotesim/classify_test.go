package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// classify sorts each failing seed into a finding with its evidence, and
// its counts add up to the failures; a range with no failure prints none.
func TestClassifySortsFailingSeeds(t *testing.T) {
	code, stdout, stderr := runCmd("classify", "-seed", "82", "-seeds", "4", "-v")
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	require.Contains(t, stdout, "seeds 82-85: 4 worlds, 2 fail")
	require.Contains(t, stdout, "seed 82 PromoteCompletes: F2 (mount=ro): step 685 reinitialise after n2/bgwriter")
	require.Contains(t, stdout, "seed 85 BGWLegalTransitions: F1 (WAITING_RESET -> REPLICA_BUF_REPLAYING): n2/startup hot-standby-in-final-read")
	require.NotContains(t, stdout, "other")

	// The same range through explore fails the same number of worlds.
	code, js, stderr := runCmd("explore", "-seed", "82", "-seeds", "4", "-keep-going", "-json", "-workers", "1", "-out", t.TempDir())
	require.Equal(t, exitViolation, code, "%s%s", js, stderr)
	var rep struct{ Violations int }
	require.NoError(t, json.Unmarshal([]byte(js), &rep))
	require.Contains(t, stdout, fmt.Sprintf("4 worlds, %d fail", rep.Violations))

	code, stdout, stderr = runCmd("classify", "-profile", "v15-fixed", "-seed", "82", "-seeds", "4")
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	require.Contains(t, stdout, "4 worlds, 0 fail")

	code, _, stderr = runCmd("classify", "-seeds", "0")
	require.Equal(t, exitUsage, code, stderr)
}
