package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestViewUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"view", "nosuch", "-o", "x.html"}, `no script demo "nosuch"`},
		{[]string{"view", "switchover", "-seed", "3"}, "give one of DEMO, -seed S or -script FILE"},
		{[]string{"view", "-hazard", "skip-remount"}, "-hazard goes with -seed"},
		{[]string{"view", "-format", "pdf"}, `-format "pdf"`},
		{[]string{"view", "-path", "12"}, "want STEP:ACTION"},
		{[]string{"view", "-path", "12:explode.n2"}, `action "explode.n2"`},
		{[]string{"view", "-path", "99999:crash.n2", "-format", "script"}, "the run shows steps"},
		{[]string{"view", "-script", "no/such/file.txt"}, "-script"},
		{[]string{"view", "-port", "70000"}, "-port 70000"},
		{[]string{"demo", "switchover", "-seed", "7"}, "no seed changes it"},
	}
	for _, c := range cases {
		code, _, stderr := runCmd(c.args...)
		require.Equal(t, exitUsage, code, "%v: %s", c.args, stderr)
		require.Contains(t, stderr, c.msg, "%v", c.args)
	}
}

// TestViewWritesPageAndScript: view -o writes one page with no network
// reference; -format script exports a branch that replay -script runs to
// the same end; -format mermaid gives both diagrams.
func TestViewWritesPageAndScript(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "sw.html")
	code, out, stderr := runCmd("view", "-o", page)
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "wrote "+page)
	b, err := os.ReadFile(page)
	require.NoError(t, err)
	// The SVG namespace is a name, not a fetch; anything else that could
	// load something is refused.
	text := strings.ReplaceAll(string(b), `"http://www.w3.org/2000/svg"`, "")
	for _, net := range []string{"http://", "https://", "<script src", "<img", "<link", "fetch(", "XMLHttpRequest", "import("} {
		require.False(t, strings.Contains(text, net), "a static page must not load anything, but it has %q", net)
	}
	script := filepath.Join(dir, "branch.txt")
	code, _, stderr = runCmd("view", "switchover", "-path", "150:crash.n2", "-format", "script", "-o", script)
	require.Equal(t, exitOK, code, stderr)
	code, out, stderr = runCmd("replay", "-script", script)
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "# held: no violation, as the file records")
	require.Contains(t, out, "> crash node=2")

	code, out, _ = runCmd("view", "-format", "mermaid")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "sequenceDiagram")
	require.Contains(t, out, "REPLICA_BUF_REPLAYING --> WAITING_RESET: taken at step")
	require.Equal(t, 3, strings.Count(out, "stateDiagram-v2"), "one BGW diagram per node: primary, replica, standby")
	code, demo, _ := runCmd("demo", "switchover", "-format", "mermaid")
	require.Equal(t, exitOK, code)
	require.Equal(t, out, demo, "demo -format mermaid is the view's diagrams")
	code, out, _ = runCmd("replay", "-script", "../../scenarios/testdata/counterexamples/skip-wait-reset-BGWLegalTransitions-22.txt", "-format", "mermaid")
	require.Equal(t, exitViolation, code, "the run ends in its violation")
	require.Contains(t, out, "ILLEGAL, taken at step 35")
	code, _, stderr = runCmd("demo", "foundation", "-format", "mermaid")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "no script demo")
	code, _, stderr = runCmd("replay", "-format", "mermaid")
	require.Equal(t, exitUsage, code)
	require.Contains(t, stderr, "give -seed S")
}

// A seeded world's base flags reach the viewer and the exhaustive check:
// view -seed and check -exhaustive run the world with its faithful switch,
// and both say so (the viewer in the world's cluster line it writes as a
// script, check in its world line).
func TestFaithfulReachesViewAndCheck(t *testing.T) {
	script := filepath.Join(t.TempDir(), "w.txt")
	code, _, stderr := runCmd("view", "-seed", "82", "-profile", "v15-fixed", "-faithful", "restart-after-crash", "-format", "script", "-o", script)
	require.Equal(t, exitOK, code, stderr)
	b, err := os.ReadFile(script)
	require.NoError(t, err)
	require.Regexp(t, `(?m)^cluster .*profile=v15-fixed faithful=restart-after-crash `, string(b))
	code, out, stderr := runCmd("check", "-exhaustive", "-profile", "v15-fixed", "-faithful", "control-window-steps", "-preemptions", "0", "-max-states", "300")
	require.Contains(t, []int{exitOK, exitViolation}, code, stderr)
	require.Contains(t, out, "profile v15-fixed, fence none, hazard -, faithful control-window-steps")
	require.Regexp(t, `world: cluster .*profile=v15-fixed faithful=control-window-steps `, out)
}
