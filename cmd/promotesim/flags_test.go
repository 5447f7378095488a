package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/explore"
	"promotesim/scenarios/swarm"
)

// helperEnv makes the test binary act as promotesim itself (TestMain), so
// a test can send it a real SIGINT.
const helperEnv = "PROMOTESIM_TEST_AS_MAIN"

// armedLine is what the helper process prints to stderr once its SIGINT
// handler is installed: a signal sent earlier would kill it instead.
const armedLine = "promotesim-test: SIGINT handler armed"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		orig := notifyInterrupt
		notifyInterrupt = func() (context.Context, context.CancelFunc) {
			ctx, cancel := orig()
			fmt.Fprintln(os.Stderr, armedLine)
			return ctx, cancel
		}
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// Every probe of issue 15 and its kind, per command: zero and nonsense
// values, overflow, unknown flags and stray arguments are bad usage (exit
// 2) with a message naming the flag. Guards against a flag that silently
// falls back to a default (`explore -seeds 0` used to run 20 s) or that a
// run error reports as exit 1.
func TestFlagProbesExitTwo(t *testing.T) {
	const big = "99999999999999999999999"
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"explore", "-seeds", "0"}, "-seeds 0: want at least 1"},
		{[]string{"explore", "-duration", "0"}, "-duration 0s: want a positive duration"},
		{[]string{"explore", "-duration", "-5s"}, "-duration -5s: want a positive duration"},
		{[]string{"explore", "-seeds", "5", "-duration", "0s"}, "-duration 0s"},
		{[]string{"explore", "-seed", big}, `invalid value "` + big + `" for flag -seed: value out of range`},
		{[]string{"explore", "-seeds", big}, "for flag -seeds: value out of range"},
		{[]string{"explore", "-seed", "18446744073709551615", "-seeds", "2"}, "runs past the largest seed"},
		{[]string{"explore", "-workers", "5000"}, "-workers 5000: want 1..1024"},
		{[]string{"explore", "-workers", big}, "for flag -workers: value out of range"},
		{[]string{"explore", "-out", ""}, `-out "": want a directory`},
		{[]string{"explore", "-shrink-attempts", "0"}, "-shrink-attempts 0"},
		{[]string{"explore", "-trials", "0"}, "-trials 0: want 1..1000"},
		{[]string{"explore", "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"explore", "-seeds", "3", "extra"}, `unexpected argument "extra"`},
		{[]string{"replay", "-seed", big}, "for flag -seed: value out of range"},
		{[]string{"replay", "-seed", "1", "-format", "xml"}, `unknown trace format "xml"`},
		{[]string{"replay", "-seed", "1", "extra"}, `unexpected argument "extra"`},
		{[]string{"replay", "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"check", "-exhaustive", "-max-states", big}, "for flag -max-states: value out of range"},
		{[]string{"check", "-exhaustive", "-preemptions", big}, `-preemptions "` + big + `": want a number`},
		{[]string{"check", "-exhaustive", "-budget", "-1s"}, "-budget -1s: want a positive duration"},
		{[]string{"check", "-exhaustive", "-out", ""}, `-out "": want a directory`},
		{[]string{"check", "-exhaustive", "extra"}, `unexpected argument "extra"`},
		{[]string{"check", "-exhaustive", "-workers", "-1"}, "-workers -1: want 1..1024, or 0 for every core"},
		{[]string{"check", "-exhaustive", "-workers", "1025"}, "-workers 1025: want 1..1024, or 0 for every core"},
		{[]string{"check", "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"orderings", "-budget", "0"}, "-budget 0: want at least 1"},
		{[]string{"orderings", "-duration", "0s"}, "-duration 0s: want a positive duration"},
		{[]string{"orderings", "-budget", big}, `-budget "` + big + `": value out of range`},
		{[]string{"orderings", "-seed", "18446744073709551615", "-budget", "2"}, "runs past the largest seed"},
		{[]string{"orderings", "-seed", "18446744073709551615"}, "with 5000 seeds runs past the largest seed"},
		{[]string{"orderings", "-workers", "-1"}, "-workers -1: want 1..1024"},
		{[]string{"orderings", "-shrink-attempts", "0"}, "-shrink-attempts 0"},
		{[]string{"orderings", "-profile", "v9"}, `-profile "v9"`},
		{[]string{"orderings", "extra"}, `unexpected argument "extra"`},
		{[]string{"orderings", "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"demo", "foundation", "-seed", big}, "for flag -seed: value out of range"},
		{[]string{"demo", "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"view", "-seed", big}, "for flag -seed: value out of range"},
		{[]string{"view", "-port", "70000"}, "-port 70000: want 0..65535"},
		{[]string{"view", "-port", big}, "for flag -port: value out of range"},
		{[]string{"view", "-format", "pdf", "-o", "x"}, `-format "pdf": want html, mermaid or script`},
		{[]string{"view", "switchover", "extra"}, `unexpected argument "extra"`},
		{[]string{"view", "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"hazards", "-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"hazards", "-v", "extra"}, `unexpected argument "extra"`},
		{[]string{"version", "extra"}, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		code, stdout, stderr := runCmd(c.args...)
		require.Equal(t, exitUsage, code, "args %q\n%s%s", c.args, stdout, stderr)
		require.Contains(t, stderr, c.msg, "args %q", c.args)
		require.Empty(t, stdout, "args %q: bad usage must not start a run", c.args)
	}
}

// The zeros that do mean something are documented as such in the flag
// help: check's -max-states 0 and -budget 0 (no limit), -workers 0 (every
// core), view's -port 0 (any free port). Guards the help text against
// losing the meaning while the value is still accepted.
func TestDocumentedZeros(t *testing.T) {
	for _, c := range []struct {
		cmd  string
		want []string
	}{
		{"check", []string{"(0: no limit; the report says it is incomplete)", "stop after this wall time (0: no limit)"}},
		{"explore", []string{"0, the default: every core", "at least 1", "positive wall time"}},
		{"orderings", []string{"0, the default: every core", "at least 1"}},
		{"view", []string{"(0: any free port)"}},
	} {
		code, _, stderr := runCmd(c.cmd, "-h")
		require.Equal(t, exitOK, code, c.cmd)
		for _, w := range c.want {
			require.Contains(t, stderr, w, c.cmd)
		}
	}
}

// cancelledInterrupt makes the commands see an interrupt at once through
// the seam (no signal): the run stops before its first world or state.
func cancelledInterrupt(t *testing.T) {
	orig := notifyInterrupt
	t.Cleanup(func() { notifyInterrupt = orig })
	notifyInterrupt = func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx, cancel
	}
}

// An interrupted explore, check or orderings exits 130 and says so, in
// text and in -json ("interrupted": true); an uninterrupted one says
// "interrupted": false. Guards against a cut-short sweep that looks like
// a clean pass (exit 0) to a script or CI.
func TestInterruptSeamExits130(t *testing.T) {
	dir := t.TempDir()
	runs := [][]string{
		{"explore", "-profile", "v15-fixed", "-duration", "1h", "-out", dir},
		{"check", "-exhaustive", "-preemptions", "none", "-budget", "0", "-out", dir},
		{"orderings", "-profile", "v11", "-budget", "5", "-out", dir},
	}
	cancelledInterrupt(t)
	for _, args := range runs {
		code, out, stderr := runCmd(args...)
		require.Equal(t, exitInterrupted, code, "%q\n%s%s", args, out, stderr)
		require.Contains(t, out, "interrupted", args)
		code, out, stderr = runCmd(append(args, "-json")...)
		require.Equal(t, exitInterrupted, code, "%q -json\n%s", args, stderr)
		var rep struct {
			Interrupted *bool `json:"interrupted"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
		require.NotNil(t, rep.Interrupted, "%q -json has no interrupted field", args)
		require.True(t, *rep.Interrupted, args)
	}
	notifyInterrupt = func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }
	code, out, stderr := runCmd("explore", "-profile", "v15-fixed", "-seeds", "2", "-json")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, `"interrupted": false`)
}

// A real SIGINT to a running explore (the test binary re-run as
// promotesim): the workers stop, the summary is printed with
// "interrupted", and the exit status is 130. Guards the signal wiring
// itself, which the seam test above bypasses.
func TestSIGINTStopsExplore(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a subprocess")
	}
	cmd := exec.Command(os.Args[0], "explore", "-profile", "v15-fixed", "-duration", "1h", "-workers", "1", "-out", t.TempDir())
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	errPipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	armed := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(errPipe)
		ok := false
		for sc.Scan() {
			if sc.Text() == armedLine && !ok {
				ok = true
				armed <- true
			}
		}
		if !ok {
			armed <- false
		}
	}()
	select {
	case ok := <-armed:
		require.True(t, ok, "the helper exited before arming its handler")
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the helper never armed its SIGINT handler")
	}
	time.Sleep(200 * time.Millisecond) // let some worlds run
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("explore did not stop within 60 s of SIGINT")
	}
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "want a non-zero exit, got %v", err)
	require.Equal(t, exitInterrupted, ee.ExitCode(), stdout.String())
	out := stdout.String()
	require.Contains(t, out, "explore: ")
	require.Contains(t, out, "interrupted (SIGINT): stopped handing out seeds")
	require.True(t, strings.Contains(out, "violations: 0"), out)
}

// -determinism's verdict is in the text summary as one explicit line and
// in -json as a field; without -determinism the field is absent. Guards
// against a determinism run whose result the reader has to infer from the
// absence of a failure.
func TestDeterminismReported(t *testing.T) {
	code, out, stderr := runCmd("explore", "-profile", "v15-fixed", "-seeds", "4", "-determinism")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "  determinism: 4 worlds re-run, no divergence\n")

	code, out, stderr = runCmd("explore", "-profile", "v15-fixed", "-seeds", "4", "-determinism", "-json")
	require.Equal(t, exitOK, code, stderr)
	var rep struct {
		Determinism *jsonDeterminism `json:"determinism"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	require.NotNil(t, rep.Determinism, out)
	require.Equal(t, jsonDeterminism{Checked: true, Worlds: 4}, *rep.Determinism)

	code, out, _ = runCmd("explore", "-profile", "v15-fixed", "-seeds", "2", "-json")
	require.Equal(t, exitOK, code)
	var plain map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &plain), out)
	require.NotContains(t, plain, "determinism", "no determinism result without -determinism")
	code, out, _ = runCmd("explore", "-profile", "v15-fixed", "-seeds", "2")
	require.Equal(t, exitOK, code)
	require.NotContains(t, out, "determinism:")
}

// A divergence (which a deterministic model never produces, so it is
// built by hand here) is named in the text and the JSON with its seed and
// step. Guards the report of the one outcome -determinism exists for.
func TestDeterminismDivergenceReported(t *testing.T) {
	cfg := explore.ExploreConfig{Determinism: true}
	f := &explore.Failure{Swarm: swarm.Swarm{Seed: 17}, Diff: &explore.DeterminismDiff{Step: 321}}
	res := &explore.ExploreResult{ExploreStats: explore.ExploreStats{Worlds: 9}, Failures: []*explore.Failure{f}, First: f,
		ByChecker: map[string]uint64{explore.CheckDeterminism: 1}}
	require.Equal(t, &jsonDeterminism{Checked: true, Worlds: 9, Diverged: 1, Seed: 17, Step: 321}, determinismOf(cfg, res))
	var b bytes.Buffer
	printDeterminism(&b, cfg, res)
	require.Equal(t, "  determinism: 9 worlds re-run, 1 DIVERGED (lowest seed 17, from step 321)\n", b.String())
}
