package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/hazard"
	"promotesim/scenarios/order"
	"promotesim/shmem"
)

func TestOrderingsUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"orderings", "-profile", "v9"}, `-profile "v9": want v15, v11 or all`},
		{[]string{"orderings", "-budget", "5", "-duration", "1s"}, "-budget and -duration do not go together"},
		{[]string{"orderings", "-sched", "pct,fifo"}, `-sched "pct,fifo": unknown scheduler "fifo"`},
		{[]string{"orderings", "-sched", "pct,pct"}, `-sched "pct,pct": pct twice`},
		{[]string{"orderings", "-budget", "x"}, `-budget "x": want a positive number`},
		{[]string{"orderings", "-budget", "pct=5,exhaustive=3"}, `want SCHED=N with SCHED one of uniform, pct, preempt`},
		{[]string{"orderings", "-sched", "uniform", "-budget", "pct=5"}, `-budget "pct=5": pct is not in -sched "uniform"`},
		{[]string{"orderings", "-max-states", "0"}, "-max-states 0: want at least 1"},
		{[]string{"orderings", "-shard", "2/2"}, `-shard "2/2": want i/n`},
		{[]string{"orderings", "-report", "x.md", "-duration", "1s"}, "-report needs a seed budget"},
		{[]string{"orderings", "-report", "x.md", "-shard", "0/2"}, "-report needs every variant"},
		{[]string{"orderings", "-shrink-attempts", "0"}, "-shrink-attempts 0"},
		{[]string{"orderings", "stray"}, `unexpected argument "stray"`},
	}
	for _, c := range cases {
		code, _, stderr := runCmd(c.args...)
		require.Equal(t, exitUsage, code, "args %q", c.args)
		require.Contains(t, stderr, c.msg, "args %q", c.args)
	}
}

// The report generator on a small budget is deterministic: two runs write
// the same report and the same counterexamples, byte for byte, and every
// linked counterexample replays.
func TestOrderingsReportDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every variant twice")
	}
	read := func(dir string) map[string]string { // paths in the files as DIR
		out := map[string]string{}
		files, err := filepath.Glob(filepath.Join(dir, "orderings", "*.txt"))
		require.NoError(t, err)
		for _, f := range files {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			out[filepath.Base(f)] = strings.ReplaceAll(string(b), dir, "DIR")
		}
		b, err := os.ReadFile(filepath.Join(dir, "orderings.md"))
		require.NoError(t, err)
		out["orderings.md"] = strings.ReplaceAll(string(b), dir, "DIR")
		return out
	}
	var runs []map[string]string
	var first string
	for range 2 {
		dir := t.TempDir()
		if first == "" {
			first = dir
		}
		report := filepath.Join(dir, "orderings.md")
		code, _, stderr := runCmd("orderings", "-profile", "v15", "-budget", "3", "-max-states", "200", "-shrink-attempts", "20", "-report", report)
		require.Equal(t, 0, code, stderr)
		runs = append(runs, read(dir))
	}
	require.Greater(t, len(runs[0]), 5, "a 3-seed study finds breaking variants")
	require.Equal(t, len(runs[0]), len(runs[1]))
	for name, body := range runs[0] {
		other, ok := runs[1][name]
		require.True(t, ok, name)
		require.Equal(t, body, other, name)
	}
	require.Contains(t, runs[0]["orderings.md"], "move:reset-bgw:after:recovery-done")
	// Every scheduler ran: the breaking table has a column for each, and
	// a linked counterexample of each replays: its violation recurs.
	require.Contains(t, runs[0]["orderings.md"], "| variant | change | uniform | pct | preempt | exhaustive |")
	for _, sched := range []string{"uniform", "pct", "preempt", "exhaustive"} {
		cx, err := filepath.Glob(filepath.Join(first, "orderings", "v15-omit_remount-"+sched+"-*.txt"))
		require.NoError(t, err)
		require.Len(t, cx, 1, sched)
		code, stdout, stderr := runCmd("replay", "-script", cx[0])
		require.Contains(t, stdout+stderr, "recurred", "%s: exit %d", sched, code)
	}
}

// The committed report links only counterexamples that exist, and each
// one replays to its recorded violation (replay -script).
func TestCommittedOrderingsReport(t *testing.T) {
	body, err := os.ReadFile("../../docs/orderings.md")
	require.NoError(t, err)
	links := regexp.MustCompile(`\]\((orderings/[^)]+\.txt)\)`).FindAllStringSubmatch(string(body), -1)
	require.NotEmpty(t, links, "the report links its counterexamples")
	files, err := filepath.Glob("../../docs/orderings/*.txt")
	require.NoError(t, err)
	require.Len(t, files, len(links), "docs/orderings holds exactly the linked counterexamples")
	for _, l := range links {
		path := filepath.Join("../../docs", l[1])
		code, stdout, stderr := runCmd("replay", "-script", path)
		require.Contains(t, stdout+stderr, "recurred", "%s: exit %d", path, code)
	}
	// Every ordering hazard of the catalogue is a breaking variant of the
	// study, and the one known to be harmless is among the variants that
	// hold.
	for _, m := range order.HazardVariants() {
		hz, err := hazard.Lookup(m.Hazard)
		require.NoError(t, err)
		p := shmem.ProfileV15
		if hz.Profile != 0 {
			p = hz.Profile
		}
		require.Contains(t, reportRows(string(body), "Breaking variants", p), m.Variant, "hazard %s", m.Hazard)
	}
	require.Contains(t, reportRows(string(body), "Incidental orderings", shmem.ProfileV15), order.HarmlessVariant)
}

// reportRows lists the variant ids of one table of the report: the rows
// of section "### <title> (<profile>)".
func reportRows(body, title string, p shmem.Profile) []string {
	_, sec, ok := strings.Cut(body, "### "+title+" ("+p.String()+")")
	if !ok {
		return nil
	}
	sec, _, _ = strings.Cut(sec, "\n### ")
	var ids []string
	for _, line := range strings.Split(sec, "\n") {
		if f := strings.Split(line, " | "); len(f) > 2 && strings.HasPrefix(f[0], "| ") && strings.Contains(f[0], ":") {
			ids = append(ids, strings.TrimPrefix(f[0], "| "))
		}
	}
	return ids
}
