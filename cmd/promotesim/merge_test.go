package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// sweepArgs is the sweep the merge tests split: profile v15 (PolarDB's code)
// fails seeds 82 (PromoteCompletes), 85, 96, 154, 191 and 202
// (BGWLegalTransitions) in the range 3..202 (explore -profile v15 -seed 3
// -seeds 200 -keep-going), so the lowest failing seed (82) is in shard 2,
// neither shard 0 nor shard 3 (merged first), and every shard fails.
func sweepArgs(out string, keepGoing bool, extra ...string) []string {
	args := []string{"explore", "-profile", "v15", "-seed", "3", "-seeds", "200", "-workers", "1",
		"-shrink-attempts", "50", "-out", out, "-json"}
	if keepGoing {
		args = append(args, "-keep-going")
	}
	return append(args, extra...)
}

// runReport runs promotesim in-process and returns stdout and the status.
func runReport(t *testing.T, args ...string) ([]byte, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.Bytes(), errb.String(), code
}

// shardReports runs the sweep's four shards and writes their reports,
// returned highest shard first (merge must not depend on the order).
func shardReports(t *testing.T, dir, cx string, keepGoing bool) []string {
	t.Helper()
	var paths []string
	for i := 3; i >= 0; i-- {
		out, stderr, code := runReport(t, sweepArgs(cx, keepGoing, "-shard", fmt.Sprintf("%d/4", i))...)
		require.Contains(t, []int{0, 1}, code, "shard %d: %s", i, stderr)
		p := filepath.Join(dir, fmt.Sprintf("shard-%d.json", i))
		require.NoError(t, os.WriteFile(p, out, 0o644))
		paths = append(paths, p)
	}
	return paths
}

func decodeMap(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m), "%s", data)
	return m
}

// timingFields are the fields a merge cannot reproduce (wall time and
// rates, the workers that ran, peak memory), and "merge", which only a
// merged report has. Everything else must be equal.
var timingFields = []string{"elapsed_s", "steps_per_s", "steps_per_s_per_core", "workers", "peak_rss_bytes", "merge"}

// shrinkWallTime is the shrinker's wall time inside the counterexample's
// shrink summary ("51 replays in 176ms"): timing too.
var shrinkWallTime = regexp.MustCompile(` in [0-9.]+[µm]?s`)

func withoutTiming(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for _, k := range timingFields {
		delete(out, k)
	}
	if cx, ok := out["counterexample"].(map[string]any); ok {
		if s, ok := cx["shrink"].(string); ok {
			cx["shrink"] = shrinkWallTime.ReplaceAllString(s, " in T")
		}
	}
	return out
}

// TestMergeEqualsUnsharded guards the point of merge: the four shards of a
// seed range, merged, are field for field the report of the range run on
// one machine (but for the timing fields listed), including the lowest
// failing seed, the failure list, the counts by checker, the claim counts
// and marks, and the shrunk counterexample; and the text summary's lines
// are explore's.
func TestMergeEqualsUnsharded(t *testing.T) {
	dir, cx := t.TempDir(), t.TempDir()
	whole, stderr, code := runReport(t, sweepArgs(cx, true)...)
	require.Equal(t, 1, code, stderr)
	paths := shardReports(t, dir, cx, true)

	merged, stderr, code := runReport(t, append([]string{"merge", "-json"}, paths...)...)
	require.Equal(t, 1, code, "merge of failing shards exits 1 as explore does: %s", stderr)
	w, m := decodeMap(t, whole), decodeMap(t, merged)
	require.Equal(t, withoutTiming(w), withoutTiming(m))
	for k := range w {
		require.Contains(t, m, k, "merged report lacks explore's field %q", k)
	}
	require.Equal(t, true, m["merge"].(map[string]any)["exact"])
	// The sweep must exercise what it claims to: several failures, the
	// lowest not in the first report merged nor in shard 0.
	fs := w["failures"].([]any)
	require.GreaterOrEqual(t, len(fs), 3)
	require.Equal(t, 82.0, fs[0].(map[string]any)["seed"])

	var textArgs []string
	for _, a := range sweepArgs(cx, true) {
		if a != "-json" {
			textArgs = append(textArgs, a)
		}
	}
	wholeText, _, _ := runReport(t, textArgs...)
	text, _, code := runReport(t, append([]string{"merge"}, paths...)...)
	require.Equal(t, 1, code)
	require.Equal(t, summaryTail(t, string(wholeText)), summaryTail(t, string(text)))
}

// summaryTail is the text summary from its seeds line on (the line before
// is timing).
func summaryTail(t *testing.T, s string) string {
	t.Helper()
	i := strings.Index(s, "\n  seeds ")
	require.GreaterOrEqual(t, i, 0, "no summary in:\n%s", s)
	return s[i:]
}

// TestMergeWithoutKeepGoing guards the lowest-failing-seed logic when
// every shard stops at its own first failure: the merged report names the
// one machine's failure and counterexample, reports one violation as
// explore does, and says that its totals are not the one-machine ones
// (the shards ran seeds above seed 82 that one machine would not).
func TestMergeWithoutKeepGoing(t *testing.T) {
	dir, cx := t.TempDir(), t.TempDir()
	whole, _, code := runReport(t, sweepArgs(cx, false)...)
	require.Equal(t, 1, code)
	merged, _, code := runReport(t, append([]string{"merge", "-json"}, shardReports(t, dir, cx, false)...)...)
	require.Equal(t, 1, code)
	w, m := withoutTiming(decodeMap(t, whole)), decodeMap(t, merged)
	for _, k := range []string{"failures", "counterexample", "violations", "violations_by_checker", "first_seed", "base", "run"} {
		require.Equal(t, w[k], withoutTiming(m)[k], "field %s", k)
	}
	mg := m["merge"].(map[string]any)
	require.Equal(t, false, mg["exact"])
	require.Contains(t, mg["why_inexact"], "-keep-going")
	require.Contains(t, mg["inexact_fields"], "worlds")
}

// TestMergeBadInput guards merge's refusals: anything but the complete,
// non-overlapping shards of one sweep is bad usage (exit 2) with a message
// naming the problem; -allow-missing turns missing shards into a warning
// and an inexact report.
func TestMergeBadInput(t *testing.T) {
	dir, cx := t.TempDir(), t.TempDir()
	paths := shardReports(t, dir, cx, true) // shards 3, 2, 1, 0
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	other, _, _ := runReport(t, append(sweepArgs(cx, true), "-fence", "epoch", "-shard", "0/4")...)
	otherSeeds, _, _ := runReport(t, "explore", "-profile", "v15", "-seed", "3", "-seeds", "100", "-workers", "1", "-keep-going",
		"-shrink-attempts", "50", "-out", cx, "-json", "-shard", "0/4")
	otherSplit, _, _ := runReport(t, append(sweepArgs(cx, true), "-shard", "0/2")...)
	merged, _, _ := runReport(t, append([]string{"merge", "-json"}, paths...)...)
	hunt := `{"model_version": "x", "base": "y", "hazards": []}`
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "give the -json reports"},
		{[]string{filepath.Join(dir, "nope.json")}, "no such file"},
		{[]string{write("text.json", "explore: 3 worlds\n")}, "not an explore -json report"},
		{[]string{write("other.json", `{"worlds": 3}`)}, `no "model_version" field`},
		{[]string{write("hunt.json", hunt)}, "-hazard all table"},
		{[]string{write("merged.json", string(merged))}, "already a merged report"},
		{[]string{write("shard.json", strings.Replace(string(otherSplit), `"0/2"`, `"2/1"`, 1))}, `shard "2/1"`},
		{append(paths[:3:3], write("fence.json", string(other))), "different worlds"},
		{append(paths[:3:3], write("seeds.json", string(otherSeeds))), "different ranges or options"},
		{append(paths[:3:3], write("split.json", string(otherSplit))), "shards of different splits"},
		{append(paths[:3:3], paths[2]), "overlapping shards"},
		{paths[:3], "missing shards 0 of 4"},
		{[]string{"-nonsense", paths[0]}, "flag provided but not defined"},
	} {
		_, stderr, code := runReport(t, append([]string{"merge"}, c.args...)...)
		require.Equal(t, 2, code, "merge %v: %s", c.args, stderr)
		require.Contains(t, stderr, c.want, "merge %v", c.args)
	}
	out, stderr, code := runReport(t, append([]string{"merge", "-json", "-allow-missing"}, paths[:3]...)...)
	require.Equal(t, 1, code, stderr)
	require.Contains(t, stderr, "warning: shards 0 of 4 are missing")
	mg := decodeMap(t, out)["merge"].(map[string]any)
	require.Equal(t, false, mg["exact"])
	require.Equal(t, []any{0.0}, mg["missing_shards"])
}

// TestMergeUnknownFields guards how merge carries fields explore's report
// gains after merge was written: one value all shards agree on is kept, a
// boolean (a flag like "interrupted") is true if any shard's is, and values that
// differ otherwise are listed per shard with a warning (and the report is
// marked inexact), never dropped.
func TestMergeUnknownFields(t *testing.T) {
	dir, cx := t.TempDir(), t.TempDir()
	paths := shardReports(t, dir, cx, true) // shards 3, 2, 1, 0
	for i, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(data, &m))
		m["flagged"] = i == 1 // shard 2
		m["build"] = "same"
		m["odd"] = 3 - i // the shard's index
		data, err = json.Marshal(m)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	out, stderr, code := runReport(t, append([]string{"merge", "-json"}, paths...)...)
	require.Equal(t, 1, code, stderr)
	require.Contains(t, stderr, "fields odd differ between shards")
	m := decodeMap(t, out)
	require.Equal(t, true, m["flagged"])
	require.Equal(t, "same", m["build"])
	require.NotContains(t, m, "odd")
	mg := m["merge"].(map[string]any)
	require.Equal(t, []any{0.0, 1.0, 2.0, 3.0}, mg["unmerged"].(map[string]any)["odd"], "per shard, in shard order")
	require.Equal(t, false, mg["exact"])
	text, _, _ := runReport(t, append([]string{"merge"}, paths...)...)
	require.Contains(t, string(text), "  flagged: true\n")
	require.Contains(t, string(text), "  odd (per shard, not merged): 0, 1, 2, 3\n")
}

// TestMergeDeterminismField guards the merge of the determinism verdict
// explore's -json gains with -determinism (and of "interrupted"): the
// merged verdict counts every shard's worlds as re-run, a divergence-free
// sweep says so in the text, and an interrupted shard makes the merged
// report inexact.
func TestMergeDeterminismField(t *testing.T) {
	dir, cx := t.TempDir(), t.TempDir()
	paths := shardReports(t, dir, cx, true)
	total := 0.0
	for i, p := range paths {
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		m := decodeMap(t, data)
		total += m["worlds"].(float64)
		m["determinism"] = map[string]any{"checked": true, "worlds_rerun": m["worlds"], "diverged": 0}
		m["interrupted"] = i == 3 // shard 0
		data, err = json.Marshal(m)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	out, stderr, _ := runReport(t, append([]string{"merge", "-json"}, paths...)...)
	require.NotContains(t, stderr, "differ between shards")
	m := decodeMap(t, out)
	require.Equal(t, map[string]any{"checked": true, "worlds_rerun": total, "diverged": 0.0}, m["determinism"])
	mg := m["merge"].(map[string]any)
	require.Equal(t, false, mg["exact"])
	require.Contains(t, mg["why_inexact"], "interrupted")
	text, _, _ := runReport(t, append([]string{"merge"}, paths...)...)
	require.Contains(t, string(text), fmt.Sprintf("  determinism: %.0f worlds re-run, no divergence\n", total))
	require.Contains(t, string(text), "  interrupted (SIGINT)")
}
