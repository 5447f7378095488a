package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A hazard whose catch needs the -fixed profile (a guard PolarDB really
// has masks it in the faithful one) is checked on that profile when
// -profile is not given, and the output says so; an explicit -profile
// wins and prints no note.
func TestCheckHazardProfile(t *testing.T) {
	dir := t.TempDir()
	args := []string{"check", "-exhaustive", "-hazard", "reset-after-recovery-done", "-preemptions", "0", "-max-states", "50", "-out", dir}
	var out, errb bytes.Buffer
	run(args, &out, &errb)
	require.Contains(t, out.String(), "note: hazard reset-after-recovery-done runs on profile v15-fixed")
	require.Contains(t, out.String(), "profile=v15-fixed hazard=reset-after-recovery-done")

	out.Reset()
	run(append(args, "-profile", "v15"), &out, &errb)
	require.NotContains(t, out.String(), "note: hazard")
	require.Contains(t, out.String(), "profile=v15 hazard=reset-after-recovery-done")
	require.False(t, strings.Contains(out.String(), "v15-fixed"), out.String())

	out.Reset()
	run([]string{"check", "-exhaustive", "-hazard", "skip-wait-reset", "-preemptions", "0", "-max-states", "50", "-out", dir}, &out, &errb)
	require.NotContains(t, out.String(), "note: hazard", "a hazard v15 shows keeps the default profile")
	require.Contains(t, out.String(), "profile=v15 hazard=skip-wait-reset")
}
