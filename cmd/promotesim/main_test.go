package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestUsageErrorsExitTwo(t *testing.T) {
	cases := []struct {
		args []string
		msg  string
	}{
		{nil, "usage: promotesim"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"demo", "nosuch"}, `unknown demo "nosuch"`},
		{[]string{"demo", "foundation", "-v", "loud"}, `unknown trace level "loud"`},
		{[]string{"demo", "foundation", "-format", "xml"}, `unknown trace format "xml"`},
		{[]string{"demo", "foundation", "-seed", "minus-one"}, `invalid value "minus-one"`},
		{[]string{"demo", "foundation", "extra"}, `unexpected argument "extra"`},
		{[]string{"version", "-bogus"}, "flag provided but not defined"},
		{[]string{"explore", "-profile", "v9"}, `-profile "v9": want v15, v15-fixed, v11, v11-fixed`},
		{[]string{"explore", "-fence", "maybe"}, `-fence "maybe": want none, epoch or detect`},
		{[]string{"explore", "-fence", "detect"}, "fence=detect is PolarDB 11's"},
		{[]string{"explore", "-hazard", "nosuch"}, `unknown hazard "nosuch"`},
		{[]string{"explore", "-faithful", "promote-one-shot"}, "-faithful undoes corrections of a fixed profile: give -profile v15-fixed or v11-fixed (v15 is PolarDB's code throughout)"},
		{[]string{"explore", "-profile", "v15-fixed", "-faithful", "nosuch"}, `-faithful: faithful switch "nosuch": want one of unchecked-bgw-state, `},
		{[]string{"explore", "-profile", "v15-fixed", "-faithful", "promote-one-shot,promote-one-shot"}, "named twice"},
		{[]string{"explore", "-profile", "v15-fixed", "-faithful", "hot-standby-in-final-read"}, `faithful switch "hot-standby-in-final-read" needs "unchecked-bgw-state" too: the wake-up writes the BGW state`},
		{[]string{"replay", "-script", "x.txt", "-faithful", "promote-one-shot"}, "-faithful does not go with -script"},
		{[]string{"explore", "-hunt", "nosuch"}, `-hunt "nosuch": want one of `},
		{[]string{"explore", "-hazard", "all", "-hunt", "prepared-below-adopted-redo"}, "-hunt does not go with -hazard all"},
		{[]string{"check", "-exhaustive", "-hunt", "prepared-below-adopted-redo"}, "the exhaustive check runs one fixed world (drop -hunt)"},
		{[]string{"replay", "-script", "x.txt", "-hunt", "prepared-below-adopted-redo"}, "-hunt does not go with -script"},
		{[]string{"classify", "-profile", "v11", "-faithful", "promote-one-shot"}, "-faithful undoes corrections of a fixed profile"},
		{[]string{"explore", "-shard", "4/4"}, `-shard "4/4": want i/n`},
		{[]string{"explore", "-shard", "x"}, `-shard "x": want i/n`},
		{[]string{"explore", "-seeds", "-3"}, `invalid value "-3"`},
		{[]string{"explore", "-duration", "soon"}, `invalid value "soon"`},
		{[]string{"explore", "-workers", "-1"}, "-workers -1"},
		{[]string{"explore", "-trials", "3"}, "-trials is for -hazard all"},
		{[]string{"explore", "-shrink-time", "0s"}, "-shrink-time 0s"},
		{[]string{"explore", "stray"}, `unexpected argument "stray"`},
		{[]string{"explore", "-sched", "lifo"}, `-sched: unknown scheduling strategy "lifo"`},
		{[]string{"explore", "-sched", "pct:d=0"}, `-sched: scheduling strategy "pct:d=0"`},
		{[]string{"replay", "-seed", "1", "-sched", "uniform:k=1"}, "uniform takes no parameters"},
		{[]string{"replay", "-script", "x.txt", "-sched", "pct"}, "-sched does not go with -script"},
		{[]string{"replay"}, "give -seed S"},
		{[]string{"replay", "-seed", "1", "-hazard", "all"}, "-hazard all is for explore"},
		{[]string{"replay", "-seed", "1", "-v", "loud"}, `unknown trace level "loud"`},
		{[]string{"replay", "-script", "x.txt", "-seed", "3"}, "-seed does not go with -script"},
		{[]string{"replay", "-script", "/nonexistent/cx.txt"}, "no such file"},
		{[]string{"hazards", "extra"}, `unexpected argument "extra"`},
		{[]string{"check"}, "say -exhaustive"},
		{[]string{"check", "-exhaustive", "-preemptions", "-2"}, `-preemptions "-2": want a number K >= 0, none or auto`},
		{[]string{"check", "-exhaustive", "-max-states", "-1"}, "-max-states -1"},
		{[]string{"check", "-exhaustive", "-hazard", "nosuch"}, `unknown hazard "nosuch"`},
	}
	for _, c := range cases {
		code, _, stderr := runCmd(c.args...)
		require.Equal(t, exitUsage, code, "args %q", c.args)
		require.Contains(t, stderr, c.msg, "args %q", c.args)
	}
}

func TestHelpExitsZero(t *testing.T) {
	code, stdout, _ := runCmd("-h")
	require.Equal(t, exitOK, code)
	require.Contains(t, stdout, "demo")
	code, _, stderr := runCmd("demo", "-h")
	require.Equal(t, exitOK, code)
	require.Contains(t, stderr, "-seed")
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runCmd("version")
	require.Equal(t, exitOK, code)
	require.True(t, strings.HasPrefix(stdout, "promotesim model "))
}

func TestDemoListAndRun(t *testing.T) {
	code, stdout, _ := runCmd("demo")
	require.Equal(t, exitOK, code)
	require.Contains(t, stdout, "foundation")

	code, a, stderr := runCmd("demo", "foundation", "-seed", "3")
	require.Equal(t, exitOK, code, stderr)
	_, b, _ := runCmd("demo", "foundation", "-seed", "3")
	require.Equal(t, a, b, "same seed must print the same trace")

	code, jl, stderr := runCmd("demo", "foundation", "-format", "jsonl")
	require.Equal(t, exitOK, code, stderr)
	for _, line := range strings.Split(strings.TrimSpace(jl), "\n") {
		require.True(t, strings.HasPrefix(line, "{"), "jsonl line %q", line)
	}
}

func TestSwitchoverDemo(t *testing.T) {
	code, a, stderr := runCmd("demo", "switchover")
	require.Equal(t, exitOK, code, stderr)
	for _, want := range []string{"POLAR_BG_WAITING_RESET", "remount-rw", "reset-bgw", "read-write",
		"acknowledged commits visible on n1", "pg_stat_replication: application_name=n2 state=streaming"} {
		require.Contains(t, a, want)
	}
	// The seed walkthrough's steps: the standby's slot survives promote,
	// the old primary is rebuilt through replica1 (no new replica0) and
	// streams there; the LogIndex-off refusal (demo logindex-off) names
	// the settings.
	for _, want := range []string{"n2 slots: replica1 restart_lsn=", "; standby1 restart_lsn=", "primary_slot_name=replica1",
		"application_name=n1 state=streaming slot=replica1", "start node=2 role=replica"} {
		require.Contains(t, a, want)
	}
	require.NotContains(t, a, "replica0")
	_, b, _ := runCmd("demo", "switchover")
	require.Equal(t, a, b, "same seed, same story")

	code, out, stderr := runCmd("demo", "logindex-off")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "promote-refused")
	for _, want := range []string{"polar_logindex_mem_size", "polar_xlog_queue_buffers", "polar_xlog_page_buffers"} {
		require.Contains(t, out, want)
	}

	code, jl, stderr := runCmd("demo", "switchover", "-format", "jsonl", "-v", "step")
	require.Equal(t, exitOK, code, stderr)
	for _, line := range strings.Split(strings.TrimSpace(jl), "\n") {
		require.True(t, strings.HasPrefix(line, "{"), "jsonl line %q", line)
	}
}

func TestHazardsLists(t *testing.T) {
	code, out, _ := runCmd("hazards")
	require.Equal(t, exitOK, code)
	for _, want := range []string{"promote-while-primary-writes", "reset-after-recovery-done", "wrong:", "result:"} {
		require.Contains(t, out, want)
	}
	code, out, _ = runCmd("hazards", "-v")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "right:")
}

// A hazard is caught at once: explore exits 1, prints the failing seed's
// options first, the checker, the shrunk counterexample and how to
// reproduce it, and writes the script; replay -script reproduces it.
func TestExploreFindsAndReplays(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := runCmd("explore", "-profile", "v15-fixed", "-hazard", "reset-after-recovery-done", "-seeds", "40", "-out", dir, "-shrink-attempts", "300", "-shrink-time", "1h")
	require.Equal(t, exitViolation, code, stderr)
	require.True(t, strings.HasPrefix(out, "FAILING SEED seed="), out)
	for _, want := range []string{"checker: ", "shrunk counterexample: ", "scheduler choices: ", "written: " + dir, "reproduce: go run ./cmd/promotesim replay -script ", "violations: 1 (lowest failing seed"} {
		require.Contains(t, out, want)
	}
	files, err := filepath.Glob(filepath.Join(dir, "reset-after-recovery-done-*.txt"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	code, rout, stderr := runCmd("replay", "-script", files[0])
	require.Equal(t, exitViolation, code, stderr)
	require.Contains(t, rout, "recurred at step")

	// A stale file: a clear message and exit 2, not a panic.
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	stale := filepath.Join(dir, "stale.txt")
	require.NoError(t, os.WriteFile(stale, []byte(strings.Replace(string(data), "# model-version: ", "# model-version: 0.0.0-", 1)), 0o644))
	code, _, stderr = runCmd("replay", "-script", stale)
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "stale counterexample")
	require.Contains(t, stderr, "recorded with model 0.0.0-")
	// A malformed one too.
	bad := filepath.Join(dir, "bad.txt")
	require.NoError(t, os.WriteFile(bad, []byte("hello\n----\nworld\n"), 0o644))
	code, _, stderr = runCmd("replay", "-script", bad)
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, `bad.txt:1: hello: unknown command "hello"`)
}

// On PolarDB's code as it is (profile v15) the lowest failing world is
// named as the finding of docs/findings.md it is (seed 82: a killed
// bgwriter's reinitialisation loses the promote, F2), in the text report
// and in the JSON one; a run with a hazard planted names none (its
// failures are the hazard's), and TestExploreFindsAndReplays' hazard run
// has no finding line.
func TestExploreNamesTheFinding(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := runCmd("explore", "-seed", "82", "-seeds", "1", "-out", dir, "-shrink-attempts", "50")
	require.Equal(t, exitViolation, code, stderr)
	require.Contains(t, out, "\nfinding: F2 (mount=ro), known (docs/findings.md): A child crash during the promote loses the promote; evidence: step ")
	code, out, stderr = runCmd("explore", "-seed", "82", "-seeds", "1", "-out", dir, "-shrink-attempts", "50", "-json")
	require.Equal(t, exitViolation, code, stderr)
	var rep struct{ Failures []struct{ Finding string } }
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.Len(t, rep.Failures, 1)
	require.True(t, strings.HasPrefix(rep.Failures[0].Finding, "F2 (mount=ro), known"), rep.Failures[0].Finding)
	code, out, stderr = runCmd("explore", "-profile", "v15-fixed", "-hazard", "skip-remount", "-seeds", "5", "-out", dir, "-shrink-attempts", "50")
	require.Equal(t, exitViolation, code, stderr)
	require.NotContains(t, out, "\nfinding: ")
}

// -faithful hunts one of PolarDB's behaviours under a fixed profile: seed
// 82 holds under v15-fixed, and with the postmaster's restart after a
// child crash as PolarDB's code does it, it is F2 again; the summary, the
// failing seed's options, its reproduce line and its file's cluster line
// all carry the switch.
func TestExploreFaithfulSwitch(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := runCmd("explore", "-profile", "v15-fixed", "-seed", "82", "-seeds", "1", "-out", dir)
	require.Equal(t, 0, code, stderr+out)
	code, out, stderr = runCmd("explore", "-profile", "v15-fixed", "-faithful", "restart-after-crash", "-seed", "82", "-seeds", "1", "-out", dir, "-shrink-attempts", "50")
	require.Equal(t, exitViolation, code, stderr)
	for _, want := range []string{"FAILING SEED seed=82 profile=v15-fixed fence=none hazard=- faithful=restart-after-crash ",
		"\nfinding: F2 ", "replay -seed 82 -profile v15-fixed -faithful restart-after-crash\n",
		"profile v15-fixed, fence none, hazard -, faithful restart-after-crash"} {
		require.Contains(t, out, want)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	require.Regexp(t, `(?m)^cluster .* profile=v15-fixed faithful=restart-after-crash `, string(data))
	code, _, stderr = runCmd("replay", "-script", files[0])
	require.Equal(t, exitViolation, code, stderr)
}

// -hunt biases the worlds toward a finding's story without a hazard: on
// PolarDB's code (v15) F7's hunt finds F7 at seed 58, named by its
// signature, and the reproduce line carries the hunt.
func TestExploreHuntFindsF7(t *testing.T) {
	code, out, stderr := runCmd("explore", "-hunt", "prepared-below-adopted-redo", "-seed", "58", "-seeds", "1", "-out", t.TempDir(), "-shrink-attempts", "50")
	require.Equal(t, exitViolation, code, stderr)
	require.Contains(t, out, "\nfinding: F7 (state file removed as a future one), known (docs/findings.md): ")
	require.Contains(t, out, "the whole world: go run ./cmd/promotesim replay -seed 58 -hunt prepared-below-adopted-redo\n")
	require.Contains(t, out, "profile v15, fence none, hazard -, hunt prepared-below-adopted-redo")
}

func TestExploreJSONAndSeedReplay(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := runCmd("explore", "-profile", "v15-fixed", "-hazard", "reset-after-recovery-done", "-seeds", "40", "-out", dir, "-json", "-shrink-attempts", "200", "-shrink-time", "1h")
	require.Equal(t, exitViolation, code, stderr)
	var rep struct {
		Worlds         uint64 `json:"worlds"`
		Violations     uint64 `json:"violations"`
		Failures       []struct{ Seed uint64 }
		Counterexample struct {
			Checker string `json:"checker"`
			Path    string `json:"path"`
		} `json:"counterexample"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.Equal(t, uint64(1), rep.Violations)
	require.Len(t, rep.Failures, 1)
	require.NotEmpty(t, rep.Counterexample.Checker)
	require.FileExists(t, rep.Counterexample.Path)

	seed := strconv.FormatUint(rep.Failures[0].Seed, 10)
	code, a, _ := runCmd("replay", "-seed", seed, "-profile", "v15-fixed", "-hazard", "reset-after-recovery-done")
	require.Equal(t, exitViolation, code)
	require.Contains(t, a, "VIOLATION "+rep.Counterexample.Checker)
	_, b, _ := runCmd("replay", "-seed", seed, "-profile", "v15-fixed", "-hazard", "reset-after-recovery-done")
	require.Equal(t, a, b, "same seed, same trace")

	// The same world as JSON lines: one object per trace line of the text.
	code, jl, stderr := runCmd("replay", "-seed", seed, "-profile", "v15-fixed", "-hazard", "reset-after-recovery-done", "-format", "jsonl")
	require.Equal(t, exitViolation, code)
	require.Contains(t, stderr, "VIOLATION "+rep.Counterexample.Checker)
	textLines := 0
	for _, l := range strings.Split(a, "\n") {
		if strings.HasPrefix(l, "# actions") {
			break // the outcome follows the trace
		}
		if strings.HasPrefix(l, " ") {
			textLines++
		}
	}
	jsonLines := strings.Split(strings.TrimSpace(jl), "\n")
	for _, l := range jsonLines {
		require.True(t, strings.HasPrefix(l, "{"), "jsonl line %q", l)
	}
	require.Equal(t, textLines, len(jsonLines))
}

func TestExhaustiveCheck(t *testing.T) {
	code, out, stderr := runCmd("check", "-exhaustive", "-profile", "v15-fixed", "-preemptions", "0", "-max-states", "300", "-json")
	require.Equal(t, exitOK, code, "%s\n%s", out, stderr)
	var rep struct {
		States      int     `json:"distinct_states"`
		Transitions int     `json:"transitions"`
		Preemptions int     `json:"preemptions"`
		Depth       int     `json:"depth_from_promote"`
		PerSec      float64 `json:"states_per_s"`
		Complete    bool    `json:"complete"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.GreaterOrEqual(t, rep.States, 300)
	require.GreaterOrEqual(t, rep.Transitions, rep.States-1)
	require.Equal(t, 0, rep.Preemptions)
	require.Positive(t, rep.Depth)
	require.Positive(t, rep.PerSec)
	require.False(t, rep.Complete, "stopped by -max-states")

	dir := t.TempDir()
	code, out, _ = runCmd("check", "-exhaustive", "-preemptions", "none", "-stop-at-first", "-profile", "v15-fixed", "-hazard", "reset-after-recovery-done", "-out", dir)
	require.Equal(t, exitViolation, code)
	require.Contains(t, out, "runs FAIL")
	require.Contains(t, out, "written: "+dir)
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	code, out, _ = runCmd("replay", "-script", files[0])
	require.Equal(t, exitViolation, code)
	require.Contains(t, out, "recurred at step")
}

// A finding's counterexample fails under its own profile (v15) and holds
// when replayed under the fixed one; a bad -profile is a usage error.
func TestReplayFindingUnderFixedProfile(t *testing.T) {
	path := filepath.Join("..", "..", "scenarios", "testdata", "findings", "F1-waiting-reset-overwritten-BGWLegalTransitions.txt")
	code, out, stderr := runCmd("replay", "-script", path)
	require.Equal(t, exitViolation, code, stderr)
	require.Contains(t, out, "recurred at step")
	code, out, stderr = runCmd("replay", "-script", path, "-profile", "v15-fixed")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "replayed under profile v15-fixed")
	require.Contains(t, out, "held under profile v15-fixed")
	code, _, stderr = runCmd("replay", "-script", path, "-profile", "v9")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "-profile")
}

// The explore summary names the claims no world exercised, and the JSON
// report carries every claim's count; the two agree.
func TestExploreReportsClaimsExercised(t *testing.T) {
	code, out, stderr := runCmd("explore", "-profile", "v15-fixed", "-seeds", "3", "-keep-going", "-json")
	require.Equal(t, 0, code, stderr)
	var rep struct {
		Exercised map[string]uint64 `json:"claims_exercised"`
		Never     []string          `json:"claims_never_exercised"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.NotEmpty(t, rep.Exercised)
	require.NotZero(t, rep.Exercised["SingleWriter"])
	for _, n := range rep.Never {
		require.Zero(t, rep.Exercised[n], n)
	}
	zero := 0
	for _, c := range rep.Exercised {
		if c == 0 {
			zero++
		}
	}
	require.Len(t, rep.Never, zero)

	code, text, stderr := runCmd("explore", "-profile", "v15-fixed", "-seeds", "3", "-keep-going")
	require.Equal(t, 0, code, stderr)
	line := claimsLine(len(rep.Exercised)-len(rep.Never), len(rep.Exercised))
	require.Contains(t, text, line)
	if len(rep.Never) > 0 {
		require.Contains(t, text, "(never exercised: "+strings.Join(rep.Never, ", ")+")")
	}
}

func claimsLine(n, of int) string {
	return "claims exercised: " + strconv.Itoa(n) + "/" + strconv.Itoa(of)
}
