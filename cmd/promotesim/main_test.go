package main

import (
	"bytes"
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
	_, b, _ := runCmd("demo", "switchover")
	require.Equal(t, a, b, "same seed, same story")

	code, out, stderr := runCmd("demo", "logindex-off")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "promote-refused")
	require.Contains(t, out, "polar_logindex_mem_size")

	code, jl, stderr := runCmd("demo", "switchover", "-format", "jsonl", "-v", "step")
	require.Equal(t, exitOK, code, stderr)
	for _, line := range strings.Split(strings.TrimSpace(jl), "\n") {
		require.True(t, strings.HasPrefix(line, "{"), "jsonl line %q", line)
	}
}
