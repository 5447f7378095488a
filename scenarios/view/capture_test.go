package view

import (
	"errors"
	"os"
	"testing"

	"promotesim/scenarios/explore"
	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
	"promotesim/sim"
)

// plainHash runs p's commands through a plain Runner (no viewer) and
// returns the trace hash.
func plainHash(t *testing.T, p Program) uint64 {
	t.Helper()
	r := script.NewRunner(p.Seed, sim.LevelStory, sim.FormatText)
	if p.Scripted {
		r.Chooser = sim.NewScripted(p.Schedule...)
	}
	for _, c := range p.Cmds {
		if _, err := r.Exec(c.Text); err != nil {
			var v *sim.Violation
			if errors.As(err, &v) {
				break
			}
		}
	}
	return r.C.S.Trace().Hash()
}

func switchover(t *testing.T) (Program, *Doc) {
	t.Helper()
	p, err := DemoProgram("switchover")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Capture(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, d
}

// TestCaptureChangesNothing: the captured run is the plain run, step for
// step (same trace hash), and its snapshots cover every step.
func TestCaptureChangesNothing(t *testing.T) {
	p, d := switchover(t)
	if got, want := d.Hash, plainHash(t, p); got != want {
		t.Fatalf("captured run's trace hash %016x, the plain run's %016x", got, want)
	}
	if d.Violation != nil {
		t.Fatalf("switchover violated %v", d.Violation)
	}
	if len(d.Frames) != int(d.Last-d.First+1) || d.First == 0 {
		t.Fatalf("frames %d for steps %d..%d", len(d.Frames), d.First, d.Last)
	}
	t.Logf("switchover: steps %d..%d, %d events, %d lanes, %d parts", d.First, d.Last, len(d.Events), len(d.Lanes), len(d.Parts))
}

// TestCaptureSeesWaitingReset: the promoted node's BGW passes through
// WAITING_RESET on its way to ONLINE_PROMOTE, and the snapshot of that
// step says so.
func TestCaptureSeesWaitingReset(t *testing.T) {
	_, d := switchover(t)
	var tr *Transition
	for i := range d.BGW {
		if d.BGW[i].Node == "n2" && d.BGW[i].To == "WAITING_RESET" {
			tr = &d.BGW[i]
			break
		}
	}
	if tr == nil {
		t.Fatalf("no WAITING_RESET transition on n2 in %v", d.BGW)
	}
	s := d.Snaps[snapIndex(d, tr.Step)]
	if s.Step != tr.Step || s.Nodes[1].BGW != "WAITING_RESET" {
		t.Fatalf("snapshot at step %d: %+v", tr.Step, s.Nodes[1])
	}
	prev := d.Snaps[snapIndex(d, tr.Step-1)]
	if prev.Nodes[1].BGW == "WAITING_RESET" {
		t.Fatalf("n2 already WAITING_RESET at step %d", tr.Step-1)
	}
	found := false
	for _, e := range d.Events {
		if e.Step == tr.Step && e.Verb == "enter-waiting-reset" {
			found = true
		}
	}
	if !found {
		t.Errorf("no trace event at step %d names WAITING_RESET", tr.Step)
	}
}

func counterexample(t *testing.T) (Program, *Doc) {
	t.Helper()
	path := "../testdata/counterexamples/skip-wait-reset-BGWLegalTransitions-22.txt"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ScriptProgram(path, data)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Capture(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, d
}

// replayScript runs a script file as promotesim replay -script does and
// returns the violation it meets.
func replayScript(t *testing.T, file string) *sim.Violation {
	t.Helper()
	cx, err := explore.ReadCounterexample(file)
	if err != nil {
		t.Fatalf("%s does not parse as replay -script reads it: %v", file, err)
	}
	return cx.Replay(nil, 0, 0)
}

// TestWorldProgramIsTheWorld: the viewer's run of an explorer world is
// the world replay -seed runs: same violation at the same step. The
// world runs v15-fixed (the hazard's catch, not one of v15's findings);
// seed 2 is the lowest that fails there (promotesim explore -profile
// v15-fixed -hazard skip-remount -seeds 10).
func TestWorldProgramIsTheWorld(t *testing.T) {
	p, err := WorldProgram(2, "v15-fixed", "none", "skip-remount")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Capture(p)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := swarm.DeriveSwarm(2, swarm.Base{Hazard: "skip-remount", Fixed: true})
	if err != nil {
		t.Fatal(err)
	}
	o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Violation == nil || d.Violation == nil || o.Violation.Step != d.Violation.Step || o.Violation.Checker != d.Violation.Checker {
		t.Fatalf("world: %v; viewer: %+v", o.Violation, d.Violation)
	}
}
