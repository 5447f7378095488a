package view

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestForkCrashReplays: a crash fork is a deterministic branch: capturing
// it twice gives the same run, and the script it exports, read back as
// replay -script reads it, is the same run step for step (trace hash).
func TestForkCrashReplays(t *testing.T) {
	root, _ := switchover(t)
	path := Path{{Step: 150, Action: "crash.n2"}}
	p, d, err := Resolve(root, path)
	if err != nil {
		t.Fatal(err)
	}
	_, d2, err := Resolve(root, path)
	if err != nil {
		t.Fatal(err)
	}
	if d.Hash != d2.Hash || d.Last != d2.Last {
		t.Fatalf("the same fork twice: %016x/%d vs %016x/%d", d.Hash, d.Last, d2.Hash, d2.Last)
	}
	if d.Path != "150:crash.n2" || d.Parent == nil || d.Parent.Last != 787 {
		t.Fatalf("branch path %q parent %+v", d.Path, d.Parent)
	}
	if !strings.Contains(d.Script, "crash node=2") || !strings.Contains(d.Script, "# schedule: ") {
		t.Fatalf("script:\n%s", d.Script)
	}
	if n2 := d.Snaps[len(d.Snaps)-1].Nodes[1]; n2.Up {
		t.Fatalf("after the crash n2 is up: %+v", n2)
	}
	file := filepath.Join(t.TempDir(), "branch.txt")
	if err := os.WriteFile(file, []byte(d.Script), 0o644); err != nil {
		t.Fatal(err)
	}
	if v := replayScript(t, file); v != nil {
		t.Fatalf("replay -script of the branch: %v", v)
	}
	sp, err := ScriptProgram("branch.txt", []byte(d.Script))
	if err != nil {
		t.Fatal(err)
	}
	d3, err := Capture(sp)
	if err != nil {
		t.Fatal(err)
	}
	if d3.Hash != d.Hash || d3.Last != d.Last {
		t.Fatalf("the exported script is another run: %016x/%d vs %016x/%d", d3.Hash, d3.Last, d.Hash, d.Last)
	}
	if got := plainHash(t, p); got != d.Hash {
		t.Fatalf("the branch without the viewer: hash %016x, captured %016x", got, d.Hash)
	}
}

// TestForkPickRunsAnotherStep: a pick fork runs the chosen enabled step
// next, and only the schedule differs from the parent up to the fork.
func TestForkPickRunsAnotherStep(t *testing.T) {
	root, d := switchover(t)
	var at uint64
	for _, s := range d.Snaps {
		if len(s.Cands) >= 2 && s.Step > 185 && cmdAt(d, s.Step+1) != "" && splittable(cmdAt(d, s.Step+1)) {
			at = s.Step
			break
		}
	}
	if at == 0 {
		t.Fatal("no step with two enabled steps inside a run-until")
	}
	cands := d.Snaps[snapIndex(d, at)].Cands
	_, b, err := Resolve(root, Path{{Step: at, Action: "pick.1"}})
	if err != nil {
		t.Fatal(err)
	}
	// The branch's first event after the fork is the picked process's.
	want := strings.Fields(cands[1])[0]
	for _, e := range b.Events {
		if e.Step == at+1 {
			if got := b.Lanes[e.Lane].Node + "/" + b.Lanes[e.Lane].Name; got != want && !strings.HasPrefix(want, got) {
				t.Fatalf("step %d ran %s, the pick was %s (%q)", at+1, got, want, cands)
			}
			break
		}
	}
	if b.Hash == d.Hash {
		t.Fatal("the pick changed nothing")
	}
	if _, err := Branch(root, d, Fork{Step: at, Action: "pick.99"}); err == nil {
		t.Fatal("pick of a step that is not enabled accepted")
	}
}

// TestForkInsideWriteTakesEffectAtItsEnd: a fault inside a command a
// script cannot cut (writes) takes effect at its end, and the branch says so.
func TestForkInsideWriteTakesEffectAtItsEnd(t *testing.T) {
	root, d := switchover(t)
	p, err := Branch(root, d, Fork{Step: 100, Action: "crash.n2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "writes node=1 count=6") || !strings.Contains(p.Notes[0], "step 269") {
		t.Fatalf("notes %q", p.Notes)
	}
	for _, bad := range []Fork{{Step: 5, Action: "crash.n2"}, {Step: 100, Action: "explode.n1"}, {Step: 99999, Action: "crash.n1"}} {
		if _, err := Branch(root, d, bad); err == nil {
			t.Errorf("fork %+v accepted", bad)
		}
	}
}

// TestCounterexampleViolationMarked: a counterexample file opens on its
// violation, at the step the file records.
func TestCounterexampleViolationMarked(t *testing.T) {
	p, d := counterexample(t)
	if d.Violation == nil || d.Violation.Checker != "BGWLegalTransitions" {
		t.Fatalf("%s: violation %+v", p.Title, d.Violation)
	}
	if d.Last != d.Violation.Step {
		t.Fatalf("run ends at %d, the violation is at %d", d.Last, d.Violation.Step)
	}
	if m := Mermaid(d); !strings.Contains(m, "REPLICA_BUF_REPLAYING --> ONLINE_PROMOTE: ILLEGAL, taken at step 35") {
		t.Fatalf("the illegal transition is not in the diagram:\n%s", m)
	}
	if _, err := Branch(p, d, Fork{Step: d.Violation.Step, Action: "crash.n1"}); err == nil {
		t.Fatal("fork at the violation accepted")
	}
}

// TestForkOfRandomWorldReplays: a fork of a seeded world (random
// schedule, faults drawn from the seed) keeps every choice the world made
// up to the fork: the branch agrees with its parent on every step before
// it, and its exported script is the same run.
func TestForkOfRandomWorldReplays(t *testing.T) {
	root, err := WorldProgram(5, "v15", "none", "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Capture(root)
	if err != nil {
		t.Fatal(err)
	}
	at := d.First + (d.Last-d.First)/2
	if d.Violation != nil && at >= d.Violation.Step {
		at = d.First + 1
	}
	_, b, err := Resolve(root, Path{{Step: at, Action: "crash.n1"}})
	if err != nil {
		t.Fatal(err)
	}
	// The same events up to the fork (the crash comes after step at).
	for i := range b.Events {
		if b.Events[i].Step >= at {
			break
		}
		be, de := b.Events[i], d.Events[i]
		be.Lane, de.Lane = 0, 0
		if be != de || b.Lanes[b.Events[i].Lane] != d.Lanes[d.Events[i].Lane] {
			t.Fatalf("event %d differs before the fork at %d: %+v vs %+v", i, at, b.Events[i], d.Events[i])
		}
	}
	sp, err := ScriptProgram("branch.txt", []byte(b.Script))
	if err != nil {
		t.Fatal(err)
	}
	b2, err := Capture(sp)
	if err != nil {
		t.Fatal(err)
	}
	if b2.Hash != b.Hash {
		t.Fatalf("the exported script of the world's branch is another run")
	}
}
