package crashpoint

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/explore"
	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/view"
	"promotesim/sim"
)

// TestSwitchoverEveryStepRecovers guards the sweep's coverage and the
// fixed model's durability: the switchover story (v15-fixed) has its two
// promote windows, every step of each is crashed in all three ways (the
// count is the windows' length times the kinds: a skipped step or kind
// fails it), and every point recovers with nothing acknowledged lost and
// every claim holding.
func TestSwitchoverEveryStepRecovers(t *testing.T) {
	p, err := Switchover("v15-fixed", "")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Sweep("switchover", p, Options{Kinds: Kinds})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Windows) != 2 || rep.RootViolation != "" {
		t.Fatalf("windows %+v, root violation %q: want the story's two promotes, no violation", rep.Windows, rep.RootViolation)
	}
	want := 0
	for _, w := range rep.Windows {
		if !w.Finished || w.Old == "" || w.Len() < 10 {
			t.Fatalf("window %s: want a finished promote with an old primary", w)
		}
		want += w.Len()
	}
	for _, k := range Kinds {
		if rep.Tried[k] != want || rep.Clean[k] != want || rep.Moved[k] != 0 {
			t.Errorf("%s: tried %d, clean %d, moved %d; want %d, %d, 0", k, rep.Tried[k], rep.Clean[k], rep.Moved[k], want, want)
		}
	}
	if rep.Lost != 0 || rep.Violations != 0 {
		t.Fatalf("lost %d, violations %d: first %+v", rep.Lost, rep.Violations, rep.Failures[0])
	}
}

// TestSweepCatchesHazard guards that the sweep can fail and says so: with
// the hazard reset-after-recovery-done (V11's order in V15: the node
// serves as a primary before its BGW is reset) the switchover's second
// promote breaks a claim (ConsistentLSNMonotone today); crash points of the
// old primary (n2, stopped immediately, so its crash only drops the writes
// it left pending) before step 590 recover cleanly, later ones run into
// the hazard. The sweep must report the failing point, stop there (Stop),
// and its script, read back as replay -script reads it, must break the
// same claim. A sweep that never fails, or a script that does not replay,
// fails this test.
func TestSweepCatchesHazard(t *testing.T) {
	p, err := Switchover("v15-fixed", "reset-after-recovery-done")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Sweep("switchover", p, Options{Kinds: []Kind{OldPrimary}, Stop: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failures) != 1 || rep.Clean[OldPrimary] == 0 {
		t.Fatalf("want clean points, then one failure (Stop); got clean %d, failures %+v", rep.Clean[OldPrimary], rep.Failures)
	}
	f := rep.Failures[0]
	file := t.TempDir() + "/point.txt"
	if err := os.WriteFile(file, []byte(f.Script), 0o644); err != nil {
		t.Fatal(err)
	}
	cx, err := explore.ReadCounterexample(file)
	if err != nil {
		t.Fatalf("the point's script does not read back: %v\n%s", err, f.Script)
	}
	v := cx.Replay(nil, sim.LevelStory, sim.FormatText)
	if v == nil || v.Checker != f.Checker {
		t.Fatalf("replay of the point: %v, want %s", v, f.Checker)
	}
}

// TestParseKinds guards the CLI's -kinds: all, a list, and bad input.
func TestParseKinds(t *testing.T) {
	if ks, err := ParseKinds("all"); err != nil || len(ks) != 3 {
		t.Fatalf("all: %v %v", ks, err)
	}
	if ks, err := ParseKinds("power,promoting"); err != nil || len(ks) != 2 || ks[0] != Power {
		t.Fatalf("power,promoting: %v %v", ks, err)
	}
	for _, bad := range []string{"", "crash", "power,power"} {
		if _, err := ParseKinds(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestSmallWorldEveryStep guards the sweep on a swarm world (a seeded
// planner's program, not a story): every promote window it finds is
// crashed at every step in every kind that has a target, and nothing
// acknowledged is lost. Seed 6 is a small world today; should the planner
// reshuffle it, the test still holds the same claims on whatever it
// becomes (and fails if it stops promoting).
func TestSmallWorldEveryStep(t *testing.T) {
	if !sweepWorldClean(t, 6) {
		t.Fatal("world 6: no promote window")
	}
}

// TestSoakCrashpointWorlds is the long sweep (make soak): the swarm worlds
// of seeds 1..PROMOTESIM_SOAK_CRASH_SEEDS (default 30), v15-fixed, every
// crash point of every window clean.
func TestSoakCrashpointWorlds(t *testing.T) {
	n := fixture.SoakSeeds(t, "PROMOTESIM_SOAK_CRASH_SEEDS", 30)
	for seed := uint64(1); seed <= n; seed++ {
		if !sweepWorldClean(t, seed) {
			t.Logf("world %d: no promote window (its planner promotes no node)", seed)
		}
	}
}

// sweepWorldClean sweeps world seed and holds it to every point clean; it
// reports whether the world had a promote window.
func sweepWorldClean(t *testing.T, seed uint64) bool {
	t.Helper()
	p, err := World(seed, "v15-fixed", "")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Sweep("world", p, Options{Kinds: Kinds})
	if err != nil {
		t.Fatal(err)
	}
	if rep.RootViolation != "" {
		t.Fatalf("world %d: the run itself fails: %s", seed, rep.RootViolation)
	}
	if len(rep.Windows) == 0 {
		return false
	}
	for _, k := range Kinds {
		want := 0
		for _, w := range rep.Windows {
			if action(k, w) != "" {
				want += w.Len()
			}
		}
		if rep.Tried[k] != want || rep.Clean[k] != want {
			t.Errorf("world %d %s: tried %d, clean %d, want %d", seed, k, rep.Tried[k], rep.Clean[k], want)
		}
	}
	for i, f := range rep.Failures {
		if i < 3 {
			t.Errorf("world %d: %s at window %d step %d (%s): %s: %s", seed, f.Kind, f.Window, f.Step, f.Action, f.Checker, f.Text)
		}
	}
	t.Logf("world %d: %d windows, %d crash points, %d clean", seed, len(rep.Windows), rep.Total(), rep.Total()-len(rep.Failures))
	return true
}

// capturedWorld is swarm world seed of v15-fixed under hazard hz ("" for
// none) and its capture.
func capturedWorld(t *testing.T, seed uint64, hz string) (view.Program, *view.Doc) {
	t.Helper()
	root, err := World(seed, "v15-fixed", hz)
	require.NoError(t, err)
	d, err := view.Capture(root)
	require.NoError(t, err)
	return root, d
}

// recoversWith requires point p of root (captured as d) to end in the
// liveness line live and to recover cleanly, and returns what its
// recovery printed.
func recoversWith(t *testing.T, root view.Program, d *view.Doc, p Point, live string) string {
	t.Helper()
	b, _, err := program(root, d, p)
	require.NoError(t, err)
	require.Equal(t, live, b.Cmds[len(b.Cmds)-len(recovery)].Text, "%d:%s", p.Step, p.Action)
	checker, text, printed := run(b)
	require.Empty(t, checker, "%d:%s: %s", p.Step, p.Action, text)
	return printed
}

// A crash of another window's old primary inside a trigger-file window,
// before the operator's pg_ctl promote that rescues it, keeps that
// promote: swarm world 1's window 0 (promote of n4, old primary n1)
// overlaps window 1 (n3 by trigger file), and crashing n1 at step 238 once
// dropped n3's rescue, so n3 waited in the trigger wait forever
// (PromoteCompletes in make soak's TestSoakCrashpointWorlds).
func TestCrashKeepsRescueOfAnotherWindow(t *testing.T) {
	root, d := capturedWorld(t, 1, "")
	ws := Windows(d)
	require.GreaterOrEqual(t, len(ws), 2)
	require.Equal(t, "n3", ws[1].Node)
	require.NotZero(t, ws[1].Rescue, "window 1 is the trigger file's, rescued by pg_ctl promote")
	require.Less(t, ws[1].First, ws[1].Rescue)
	p := Point{Kind: OldPrimary, Window: 0, Step: ws[1].First, Action: "crash." + ws[0].Old}
	require.Equal(t, "crash.n1", p.Action)
	printed := recoversWith(t, root, d, p, "liveness rescue=3")
	require.Contains(t, printed, "rescue: pg_ctl promote n3")
	// At the rescue's own step the root run's pg_ctl promote is kept, so
	// none is owed.
	q := Point{Kind: OldPrimary, Window: 0, Step: ws[1].Rescue, Action: p.Action}
	recoversWith(t, root, d, q, "liveness")
}

// A fork between a trigger file and a stop of the same node in the same
// step keeps the trigger and cuts the stop, which in the root run made the
// rescue needless: swarm world 11 touched n2's trigger file and stopped n2
// fast at step 222, so the root run had no rescue, and crashing n1 right
// after the trigger once left n2 in the trigger wait forever
// (PromoteCompletes in make soak's TestSoakCrashpointWorlds). The
// operator's rescue is owed and liveness runs it; a crash of n2 itself at
// that step ends its promote, so liveness rescues nothing.
func TestCrashOwesRescueTheStopMadeNeedless(t *testing.T) {
	root, d := capturedWorld(t, 11, "")
	ws := Windows(d)
	require.NotEmpty(t, ws)
	w := ws[0]
	require.Equal(t, "n2", w.Node)
	require.True(t, w.Trigger)
	require.Zero(t, w.Rescue, "the root run stopped n2 instead of rescuing it")
	printed := recoversWith(t, root, d, Point{Kind: OldPrimary, Window: 0, Step: w.First, Action: "crash.n1"}, "liveness rescue=2")
	require.Contains(t, printed, "rescue: pg_ctl promote n2")
	printed = recoversWith(t, root, d, Point{Kind: Promoting, Window: 0, Step: w.First, Action: "crash.n2"}, "liveness rescue=2")
	require.Contains(t, printed, "rescue: n2 is in no promote: no pg_ctl promote")
	require.NotContains(t, printed, "rescue: pg_ctl promote")
}

// Under the hazard trigger-file-promote the operator never rescues: the
// sweep owes no rescue there.
func TestNoRescueUnderTriggerHazard(t *testing.T) {
	root, d := capturedWorld(t, 11, "trigger-file-promote")
	require.True(t, triggerHazard(root))
	clean, _ := capturedWorld(t, 11, "")
	require.False(t, triggerHazard(clean))
	require.Empty(t, owedRescues(root, d, d.Last))
}
