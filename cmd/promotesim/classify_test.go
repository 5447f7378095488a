package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/explore"
	"promotesim/scenarios/swarm"
	"promotesim/shmem"
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

// The two v11-fixed soak worlds that found F7 before its fix landed
// (docs/findings.md) fail again with that one point as PolarDB's code does
// it (-faithful promote-writes-no-twophase-files), and classify names them
// F7 by their traces: the signature holds on explorer worlds, not only on
// the hand-written file.
func TestClassifyFindsF7WithItsSwitch(t *testing.T) {
	for _, c := range []struct{ seed, fence, sched string }{{"53526", "none", "uniform"}, {"77634", "epoch", "swarm"}} {
		args := []string{"classify", "-profile", "v11-fixed", "-fence", c.fence, "-sched", c.sched, "-seed", c.seed, "-seeds", "1", "-v"}
		code, stdout, stderr := runCmd(args...)
		require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
		require.Contains(t, stdout, "1 worlds, 0 fail", "the fix holds")
		code, stdout, stderr = runCmd(append(args, "-faithful", "promote-writes-no-twophase-files")...)
		require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
		require.Contains(t, stdout, "seed "+c.seed+" PreparedSurvives: F7 (state file removed as a future one): step ")
	}
}

// explore's finding line on a failure no signature matches, and on one
// whose traced replay does not meet the world's violation: a planted
// hazard's failure (reset-after-recovery-done, ConsistentLSNDurable) read
// as if no hazard were planted is a candidate, and the same failure with
// its recorded step moved is refused as not classified, never named.
func TestFindingLineOtherAndUnclassified(t *testing.T) {
	base := swarm.Base{Profile: shmem.ProfileV15, Fixed: true, Hazard: "reset-after-recovery-done"}
	res, err := explore.Explore(context.Background(), explore.ExploreConfig{Base: base, FirstSeed: 1, Seeds: 40, Workers: 1, NoControl: true})
	require.NoError(t, err)
	require.NotNil(t, res.First)
	require.Empty(t, findingLine(res.First, base), "a hazard run names no finding")
	clean := swarm.Base{Profile: shmem.ProfileV15, Fixed: true}
	require.Equal(t, "finding: none of docs/findings.md's (promotesim classify's signatures): a finding candidate, real until explained",
		findingLine(res.First, clean))
	moved := *res.First
	v := *moved.Outcome.Violation
	v.Step++
	moved.Outcome.Violation = &v
	require.Contains(t, findingLine(&moved, clean), "finding: not classified: seed ")
}
