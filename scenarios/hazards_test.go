package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/stretchr/testify/require"

	"promotesim/scenarios/check"
	"promotesim/scenarios/cluster"
	"promotesim/scenarios/hazard"
	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/script"
	"promotesim/shmem"
	"promotesim/sim"
)

// caughtBy is the general claim that must catch each hazard in its canary
// script (testdata/hazards/<name>.txt): the first violation the script
// runs into. It is what the catalogue's Consequence promises, pinned.
var caughtBy = map[string]string{
	"promote-while-primary-writes":    "SingleWriter",
	"no-backend-wait":                 "NoBackendAtRemount",
	"skip-remount":                    "NoUnexpectedExit",
	"skip-final-replay":               "NoUnexpectedExit",
	"skip-wait-reset":                 "BGWLegalTransitions",
	"replay-from-old-consistent":      "PromoteReplayStart",
	"reset-after-recovery-done":       "ConsistentLSNDurable",
	"insert-lsn-during-promote":       "ConsistentLSNDurable",
	"skip-clog-copy":                  "ClogCopiedAtPromote",
	"skip-twophase-checkpoint":        "PreparedSurvives",
	"skip-slot-reload":                "SlotsReloadedAtPromote",
	"trigger-file-promote":            script.LivePromoteCompletes,
	"logindex-off-promote":            "NoUnexpectedExit",
	"checkpoint-during-waiting-reset": "NoCheckpointInWaitingReset",
	"keep-aborted-contrecord":         "NoWALBelowOldEnd",
	"replay-keeps-reused-page":        "BuffersMatchOracle",
}

// unobservable are the hazards no general checker can see in the model,
// with the reason (the catalogue's Consequence says the same). Their
// scripts show the wrong path taken and must run clean both ways: if a
// checker ever catches one, this test fails and the entry must move to
// caughtBy.
var unobservable = map[string]string{}

// livenessClaims are the liveness phase's claims (script/liveness.go): general,
// like the safety claims of the checkers' catalogue.
var livenessClaims = []string{script.LivePromoteCompletes, script.LivePrimaryServes, script.LiveBGWReturns, script.LiveReplicasCatchUp, script.LiveConsistentCatchUp}

// isGeneralClaim reports whether a violation names a checker of the
// catalogue (or a liveness claim), not a check written for one hazard.
func isGeneralClaim(name string) bool {
	if check.IsClaim(name) {
		return true
	}
	for _, l := range livenessClaims {
		if l == name {
			return true
		}
	}
	return false
}

func TestHazardCatalogue(t *testing.T) {
	hs := hazard.All()
	require.NotEmpty(t, hs)
	seen := map[string]bool{}
	v15 := shmem.OrderingsFor(shmem.ProfileV15)
	for _, h := range hs {
		require.NotEmpty(t, h.Name)
		require.False(t, seen[h.Name], "hazard %s listed twice", h.Name)
		seen[h.Name] = true
		require.NotEmpty(t, h.Right, h.Name)
		require.NotEmpty(t, h.Wrong, h.Name)
		require.NotEmpty(t, h.Consequence, h.Name)
		got, err := hazard.Lookup(h.Name)
		require.NoError(t, err)
		require.Equal(t, h.Name, got.Name)

		plan := h.KeepPrimaryRunning || h.TriggerFile || h.LogIndexOff
		require.True(t, plan || h.Orderings != nil, "%s changes nothing", h.Name)
		if h.Orderings != nil {
			// One step the wrong way: exactly one flag flips from V15's
			// value (every flag on but the V11-only guards).
			o := v15
			h.Orderings(&o)
			a, b := reflect.ValueOf(v15), reflect.ValueOf(o)
			var flipped []string
			for i := 0; i < a.NumField(); i++ {
				if a.Field(i).Bool() != b.Field(i).Bool() {
					flipped = append(flipped, a.Type().Field(i).Name)
				}
			}
			require.Len(t, flipped, 1, "%s flips %v", h.Name, flipped)
		}

		// Every hazard has a canary script and is either caught or
		// explained.
		_, err = os.Stat(filepath.Join("testdata", "hazards", h.Name+".txt"))
		require.NoError(t, err, "%s has no canary script", h.Name)
		_, caught := caughtBy[h.Name]
		_, why := unobservable[h.Name]
		rare := h.Counterexample != ""
		n := 0
		for _, b := range []bool{caught, why, rare} {
			if b {
				n++
			}
		}
		require.Equal(t, 1, n, "%s must be exactly one of caughtBy, unobservable, or rare (Counterexample)", h.Name)
		if rare {
			_, err := os.Stat(filepath.Join("testdata", "counterexamples", h.Counterexample))
			require.NoError(t, err, "%s: its counterexample is missing", h.Name)
		}
		if caught {
			require.True(t, isGeneralClaim(caughtBy[h.Name]), "%s: %s is not a general claim", h.Name, caughtBy[h.Name])
		}
	}
	for name := range caughtBy {
		require.True(t, seen[name], "caughtBy names unknown hazard %s", name)
	}
	for name := range unobservable {
		require.True(t, seen[name], "unobservable names unknown hazard %s", name)
	}
	require.Equal(t, hazard.Names()[0], hs[0].Name)

	_, err := hazard.Lookup("no-such-hazard")
	require.ErrorContains(t, err, `unknown hazard "no-such-hazard"`)
	require.ErrorContains(t, err, "skip-final-replay")

	o := cluster.DefaultOptions()
	o.Hazard = "skip-remount"
	require.NoError(t, o.Validate())
	require.False(t, o.NodeConfigs()[1].Orderings.Remount)
	require.True(t, cluster.DefaultOptions().NodeConfigs()[1].Orderings.Remount)
	o.Hazard = "logindex-off-promote"
	require.Zero(t, o.NodeConfigs()[0].LogIndex.MemSize)
	require.Zero(t, o.NodeConfigs()[1].LogIndex.MemSize)
	require.False(t, o.NodeConfigs()[1].Orderings.RefuseWithoutLogIndex)
	o.Hazard = "no-such-hazard"
	err = o.Validate()
	require.ErrorContains(t, err, `hazard="no-such-hazard"`)
	require.ErrorContains(t, err, "trigger-file-promote")
}

// scriptViolation is one violation a script ran into: which command, and
// which cluster of the script (scripts may build more than one).
type scriptViolation struct {
	v       *sim.Violation
	cmd     string
	cluster int
}

// runHazardLine runs one script line through the plan-aware runner and
// notes a violation.
func runHazardLine(r *script.Runner, line string, clusters *int, got *[]scriptViolation) (string, error) {
	if strings.HasPrefix(line, "cluster") {
		*clusters++
	}
	out, err := r.Exec(line)
	var v *sim.Violation
	if errors.As(err, &v) {
		*got = append(*got, scriptViolation{v: v, cmd: line, cluster: *clusters})
	}
	return out, err
}

var hazardArg = regexp.MustCompile(`\s+hazard=\S+`)

// TestHazardScripts is the canary: every hazard's script runs twice. With
// its hazard, it must end in a violation of the general claim caughtBy
// names (the expected output, a short counterexample, is pinned; rewrite
// with -rewrite and read the diff). With hazard= removed from its cluster
// lines, the same commands must run into no violation, and the whole-state
// checks must hold at the end.
func TestHazardScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "hazards", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		if strings.HasPrefix(name, "v11-") {
			continue // profile counterexamples: TestV11Scripts
		}
		t.Run(name, func(t *testing.T) {
			hz, err := hazard.Lookup(name)
			require.NoError(t, err, "a hazard script is named after its hazard")

			// With the hazard.
			r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
			var got []scriptViolation
			clusters := 0
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				line := fixture.Line(d)
				require.Contains(t, []string{"", "hazard=" + hz.Name}, hazardOf(line), "cluster lines name the script's own hazard")
				out, err := runHazardLine(r, line, &clusters, &got)
				return fixture.Output(out, err)
			})
			if want, ok := caughtBy[name]; ok {
				require.NotEmpty(t, got, "%s: nothing caught", name)
				first := got[0]
				require.Equal(t, want, first.v.Checker, "%s: caught by %s at %q: %v", name, first.v.Checker, first.cmd, first.v)
				require.True(t, isGeneralClaim(first.v.Checker))
				require.Equal(t, 1, first.cluster, "the first cluster of the script is the one with the hazard")
				for _, g := range got[1:] {
					require.Equal(t, first.cluster, g.cluster, "%s: a later cluster of the script ran into %v", name, g.v)
				}
				t.Logf("%s caught by %s at step %d (command %q): %v", name, first.v.Checker, first.v.Step, first.cmd, first.v.Err)
			} else {
				require.Empty(t, got, "%s is listed unobservable or rare (%s) but its canary was caught", name, unobservable[name])
				// Not only on the FIFO schedule the script pins.
				seeds := uint64(20)
				if testing.Short() {
					seeds = 5
				}
				for seed := uint64(1); seed <= seeds; seed++ {
					r := script.NewRunner(seed, sim.LevelStory, sim.FormatText)
					got, clusters = nil, 0
					for _, line := range fixture.ScriptCommands(t, path) {
						if strings.HasPrefix(line, "cluster") {
							line += " sched=random"
						}
						_, _ = runHazardLine(r, line, &clusters, &got)
						require.Empty(t, got, "%s under seed %d: %v", name, seed, got)
					}
					require.NoError(t, r.K.RunAll(), "%s under seed %d: whole-state checks", name, seed)
				}
			}

			// Without it: the same commands must report nothing.
			r = script.NewRunner(1, sim.LevelStory, sim.FormatText)
			got, clusters = nil, 0
			for _, line := range fixture.ScriptCommands(t, path) {
				line = hazardArg.ReplaceAllString(line, "")
				_, _ = runHazardLine(r, line, &clusters, &got)
				require.Empty(t, got, "%s without its hazard: %v", name, got)
			}
			require.NoError(t, r.K.RunAll(), "%s without its hazard: whole-state checks", name)
		})
	}
}

// TestV11Scripts pins what the checkers find in profile v11 (docs/model.md §8): each
// testdata/hazards/v11-*.txt is a counterexample of the V11 orderings and
// must end in a violation of a general claim; the same script in profile
// v15 (fence=detect replaced by none) reports nothing.
func TestV11Scripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "hazards", "v11-*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
			var got []scriptViolation
			clusters := 0
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				out, err := runHazardLine(r, fixture.Line(d), &clusters, &got)
				return fixture.Output(out, err)
			})
			require.NotEmpty(t, got, "nothing caught in profile v11")
			require.True(t, isGeneralClaim(got[0].v.Checker))
			t.Logf("v11 caught by %s at step %d (command %q): %v", got[0].v.Checker, got[0].v.Step, got[0].cmd, got[0].v.Err)

			r = script.NewRunner(1, sim.LevelStory, sim.FormatText)
			got, clusters = nil, 0
			for _, line := range fixture.ScriptCommands(t, path) {
				line = strings.NewReplacer("profile=v11", "profile=v15", "fence=detect", "fence=none").Replace(line)
				_, _ = runHazardLine(r, line, &clusters, &got)
				require.Empty(t, got, "the same script in profile v15: %v", got)
			}
			require.NoError(t, r.K.RunAll())
		})
	}
}

// hazardOf returns the hazard=NAME argument of a line, if any.
func hazardOf(line string) string {
	return strings.TrimSpace(hazardArg.FindString(line))
}

func TestHazardPlanVerbs(t *testing.T) {
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	_, err := r.Exec("plan-stop node=1")
	require.ErrorContains(t, err, "no cluster yet")

	_, err = r.Exec("cluster nodes=2 pages=2 hazard=no-such")
	require.ErrorContains(t, err, `hazard="no-such": want one of promote-while-primary-writes, no-backend-wait`)

	out, err := r.Exec("cluster nodes=2 pages=2 hazard=trigger-file-promote")
	require.NoError(t, err)
	require.Contains(t, out, "hazard=trigger-file-promote")
	_, err = r.Exec("plan-promote node=2 mode=fast")
	require.ErrorContains(t, err, "plan-promote does not take mode")
	_, err = r.Exec("plan-stop")
	require.ErrorContains(t, err, "missing node=N")
	out, err = r.Exec("plan-stop node=1 mode=fast")
	require.NoError(t, err)
	require.Contains(t, out, "plan: stop node=1 mode=fast")
	require.Contains(t, out, "n1 stopped")
	out, err = r.Exec("plan-promote node=2")
	require.NoError(t, err)
	require.Contains(t, out, "plan: trigger node=2")
	require.True(t, r.C.Node(2).TriggerFile)
	require.False(t, r.C.Node(2).PromoteFile)

	_, err = r.Exec("cluster nodes=2 pages=2 hazard=promote-while-primary-writes")
	require.NoError(t, err)
	out, err = r.Exec("plan-stop node=1")
	require.NoError(t, err)
	require.Equal(t, "plan: n1 keeps running (promote-while-primary-writes)", out)
	out, err = r.Exec("plan-promote node=2")
	require.NoError(t, err)
	require.Contains(t, out, "plan: promote node=2")
	require.True(t, r.C.Node(2).PromoteFile)
	require.False(t, r.C.Node(2).TriggerFile)
}

// TestV11HoldsConsistentInWaitingReset: hazard reset-after-recovery-done's
// story (V15 with V11's order, caught by ConsistentLSNDurable) runs clean in
// profile v11, whose bgwriter holds the consistent LSN while the BGW waits
// for its reset (Orderings.HoldConsistentInWaitingReset): the guard is what
// makes V11's order safe in that window.
func TestV11HoldsConsistentInWaitingReset(t *testing.T) {
	r := runResetAfterRecoveryDone(t, func(line string) string {
		return hazardArg.ReplaceAllString(profileArg.ReplaceAllString(line, ""), "") + " profile=v11 fence=detect"
	})
	require.True(t, r.C.NodeConfig(2).Orderings.HoldConsistentInWaitingReset)
}

// The faithful v15 profile masks hazard reset-after-recovery-done: its
// control-file window is PolarDB's separate steps, in which
// update_consistent_lsn_delta's WAITING_RESET hold is live
// (Fidelity.ControlWindowSteps), so V11's order holds the consistent LSN
// too. That is why the hazard's canary and hunt run v15-fixed
// (hazard.Hazard.Fixed).
func TestFaithfulV15MasksResetAfterRecoveryDone(t *testing.T) {
	hz, err := hazard.Lookup("reset-after-recovery-done")
	require.NoError(t, err)
	require.True(t, hz.Fixed)
	r := runResetAfterRecoveryDone(t, func(line string) string { return profileArg.ReplaceAllString(line, "") })
	require.Equal(t, "v15", cluster.ProfileName(r.C.NodeConfig(2).Profile, false))
	require.True(t, r.C.NodeConfig(2).Fidelity.ControlWindowSteps)
}

var profileArg = regexp.MustCompile(` profile=\S+`)

// runResetAfterRecoveryDone runs the hazard's canary with its cluster line
// rewritten by edit and requires it clean, n2 promoted.
func runResetAfterRecoveryDone(t *testing.T, edit func(string) string) *script.Runner {
	path := filepath.Join("testdata", "hazards", "reset-after-recovery-done.txt")
	r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
	var got []scriptViolation
	clusters := 0
	for _, line := range fixture.ScriptCommands(t, path) {
		if strings.HasPrefix(line, "cluster") {
			line = edit(line)
		}
		_, _ = runHazardLine(r, line, &clusters, &got)
		require.Empty(t, got, "%s: %v", line, got)
	}
	n := r.C.Node(2)
	require.True(t, n.Primary && !n.InRecovery && n.ReadWrite, "n2 promoted")
	require.NoError(t, r.K.RunAll())
	return r
}

// The catalogue's Unobservable flag and this test's list agree.
func TestUnobservableFlagMatches(t *testing.T) {
	for _, h := range hazard.All() {
		_, listed := unobservable[h.Name]
		require.Equal(t, listed, h.Unobservable, "%s: Unobservable flag and the unobservable list disagree", h.Name)
	}
}
