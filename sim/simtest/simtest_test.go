package simtest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"promotesim/sim"
)

// worker is an always-ready actor taking n steps; it writes its name to
// order at each.
type worker struct {
	name  string
	n     int
	done  *int
	order *strings.Builder
}

func (w *worker) Name() string { return w.name }
func (w *worker) Ready() bool  { return *w.done < w.n }
func (w *worker) Step(c *sim.Ctx) {
	*w.done++
	if w.order != nil {
		w.order.WriteString(w.name)
	}
	c.Log("work", sim.Int("i", int64(*w.done)))
}
func (w *worker) Receive(*sim.Ctx, sim.Msg) {}

// threeWorkers is a world of three workers of three steps each with a
// checker that fails when c has taken two steps before a took any: FIFO
// never does that, so only a reordered schedule finds it.
func threeWorkers(c sim.Chooser, withBug bool) (*sim.Scheduler, *strings.Builder) {
	s := sim.New(sim.Config{Chooser: c})
	var order strings.Builder
	var done [3]int
	for i, name := range []string{"a", "b", "c"} {
		s.Add(&worker{name: name, n: 3, done: &done[i], order: &order})
	}
	s.Checkers().Add("AFirst", func() error {
		if withBug && done[2] >= 2 && done[0] == 0 {
			return fmt.Errorf("c ran twice before a")
		}
		return nil
	})
	return s, &order
}

func TestRapidChooserRanges(t *testing.T) {
	Check(t, func(rt *rapid.T) {
		c := NewRapid(rt)
		site := sim.Site{ID: 1, Label: "x"}
		n := rapid.IntRange(1, 50).Draw(rt, "n")
		if v := c.Choose(site, n); v < 0 || v >= n {
			rt.Fatalf("Choose(%d) = %d", n, v)
		}
		if c.Chance(site, sim.Never) || !c.Chance(site, sim.Per(3, 3)) {
			rt.Fatal("certain events")
		}
		c.Chance(site, sim.Per(1, 10))
	})
	// Both answers of a Chance and every option of a Choose are reachable.
	seenTrue, seenFalse := false, false
	seen := map[int]bool{}
	Check(t, func(rt *rapid.T) {
		c := NewRapid(rt)
		if c.Chance(sim.Site{Label: "f"}, sim.Per(1, 4)) {
			seenTrue = true
		} else {
			seenFalse = true
		}
		seen[c.Choose(sim.Site{Label: "s"}, 3)] = true
	})
	if !seenTrue || !seenFalse || len(seen) != 3 {
		t.Fatalf("true %t false %t options %v", seenTrue, seenFalse, seen)
	}
}

func TestRapidRunsWorlds(t *testing.T) {
	Check(t, func(rt *rapid.T) {
		s, order := threeWorkers(NewRapid(rt), false)
		r := s.Run(100)
		if !r.Quiescent || r.Violation != nil || order.Len() != 9 {
			rt.Fatalf("%v: %s", r, order)
		}
	})
}

// fakeTB records failures instead of ending the test, so a test can check
// that a helper fails when it should.
type fakeTB struct {
	testing.TB
	fails []string
}

func (f *fakeTB) Helper()             {}
func (f *fakeTB) Name() string        { return "fake" }
func (f *fakeTB) Logf(string, ...any) {}
func (f *fakeTB) Log(...any)          {}
func (f *fakeTB) Errorf(format string, a ...any) {
	f.fails = append(f.fails, fmt.Sprintf(format, a...))
}
func (f *fakeTB) Error(a ...any)                 { f.fails = append(f.fails, fmt.Sprint(a...)) }
func (f *fakeTB) Fatalf(format string, a ...any) { f.Errorf(format, a...) }
func (f *fakeTB) Fatal(a ...any)                 { f.Error(a...) }
func (f *fakeTB) Fail()                          { f.fails = append(f.fails, "Fail") }
func (f *fakeTB) FailNow()                       { f.Fail() }
func (f *fakeTB) Failed() bool                   { return len(f.fails) > 0 }
func (f *fakeTB) Skipf(format string, a ...any)  { panic("skip") }
func (f *fakeTB) Skip(...any)                    { panic("skip") }
func (f *fakeTB) SkipNow()                       { panic("skip") }

// rapid finds the bug and shrinks the schedule itself: from a random failing
// schedule of up to nine steps to one of a few steps where c runs twice
// before a ever runs.
func TestRapidShrinksSchedule(t *testing.T) {
	t.Chdir(t.TempDir()) // rapid writes a fail file under testdata/
	var last string
	fake := &fakeTB{TB: t}
	Check(fake, func(rt *rapid.T) {
		s, order := threeWorkers(NewRapid(rt), true)
		r := s.Run(100)
		last = order.String()
		if r.Violation != nil {
			rt.Fatalf("%v", r.Violation)
		}
	})
	if !fake.Failed() {
		t.Fatal("rapid did not find the reordering bug")
	}
	// rapid minimizes the draws, not the step count, so it may settle on
	// "bcc" ([1 1 2]) or "bcbc" ([1 1 1 1]) rather than "cc" ([2 2]); every
	// answer is a few steps with no a and exactly two c.
	if len(last) > 4 || strings.Count(last, "a") != 0 || strings.Count(last, "c") != 2 {
		t.Fatalf("shrunk schedule %q: want a few steps, c twice, no a", last)
	}
}

// counterWorld is deterministic unless leak is set: then it carries state
// from one run into the next, the bug RunTwice exists to catch.
func counterWorld(leak *int) World {
	return func(seed uint64, c sim.Chooser) uint64 {
		s := sim.New(sim.Config{Seed: seed, Chooser: c})
		n := 3
		if leak != nil {
			*leak++
			n += *leak
		}
		var done [3]int
		for i, name := range []string{"a", "b", "c"} {
			s.Add(&worker{name: name, n: n, done: &done[i]})
		}
		s.Run(1000)
		return s.Trace().Hash()
	}
}

func TestRunTwice(t *testing.T) {
	h := RunTwice(t, 7, counterWorld(nil))
	if h == 0 || h != RunTwice(t, 7, counterWorld(nil)) {
		t.Fatal("hash")
	}
	if RunTwice(t, 8, counterWorld(nil)) == h {
		t.Fatal("seed 8 ran the same schedule as seed 7")
	}
	fake := &fakeTB{TB: t}
	leak := 0
	RunTwice(fake, 7, counterWorld(&leak))
	if len(fake.fails) != 1 || !strings.Contains(fake.fails[0], "seed 7 is not deterministic") {
		t.Fatalf("fails %q", fake.fails)
	}
}

func TestRunTwiceProcs(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	var procs []int
	w := func(seed uint64, c sim.Chooser) uint64 {
		procs = append(procs, runtime.GOMAXPROCS(0))
		return counterWorld(nil)(seed, c)
	}
	RunTwiceProcs(t, 3, w)
	if len(procs) != 2 || procs[0] != 1 || procs[1] != 2 || runtime.GOMAXPROCS(0) != before {
		t.Fatalf("procs %v, restored to %d of %d", procs, runtime.GOMAXPROCS(0), before)
	}
	fake := &fakeTB{TB: t}
	leak := 0
	RunTwiceProcs(fake, 3, counterWorld(&leak))
	if len(fake.fails) != 1 || !strings.Contains(fake.fails[0], "GOMAXPROCS=1") || runtime.GOMAXPROCS(0) != before {
		t.Fatalf("fails %q", fake.fails)
	}
}

func TestGolden(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "trace.txt")
	fake := &fakeTB{TB: t}
	Golden(fake, path, "x\n")
	if len(fake.fails) != 1 || !strings.Contains(fake.fails[0], "-update") {
		t.Fatalf("missing file: %q", fake.fails)
	}
	*update = true
	Golden(t, path, "one\ntwo\nthree\n")
	*update = false
	if !Updating() {
		Golden(t, path, "one\ntwo\nthree\n")
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "one\ntwo\nthree\n" {
		t.Fatalf("file %q %v", b, err)
	}
	fake = &fakeTB{TB: t}
	Golden(fake, path, "one\n2\nthree\n")
	if len(fake.fails) != 1 || !strings.Contains(fake.fails[0], "-two\n+2\n") {
		t.Fatalf("diff: %q", fake.fails)
	}
}

// firstDraws runs prop-free checks under Check and returns each check's
// first draw: the seed set rapid used.
func firstDraws(t *testing.T) []int {
	var got []int
	Check(t, func(rt *rapid.T) {
		got = append(got, rapid.IntRange(0, 1<<30).Draw(rt, "x"))
	})
	return got
}

// Check gives a test the same seeds every run: two runs draw the same
// values, and another test name draws others. Under soak
// (PROMOTESIM_RAPID_RANDOM=1, or a seed named on the command line) the
// seeds are rapid's own and only Random's answer is checked.
func TestCheckSeedsAreFixed(t *testing.T) {
	if Random() {
		if v := os.Getenv(RandomEnv); v != "" {
			t.Logf("%s=%s: rapid picks the seeds", RandomEnv, v)
		}
		return
	}
	t.Setenv(FreshEnv, "0") // the fixed set alone; the fresh seed is tested below
	a, b := firstDraws(t), firstDraws(t)
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Fatalf("two runs of one test drew %v and %v", a, b)
	}
	if Seed("TestA") == Seed("TestB") || Seed("x") == 0 {
		t.Fatalf("seeds: %d %d %d", Seed("TestA"), Seed("TestB"), Seed("x"))
	}
	var other []int
	t.Run("other", func(t *testing.T) { other = firstDraws(t) })
	if slices.Equal(a, other) {
		t.Fatalf("a subtest drew the parent's values %v", a)
	}
	if f := flag.Lookup("rapid.seed"); f == nil || f.Value.String() != "0" {
		t.Fatalf("Check left -rapid.seed at %v", f.Value)
	}
}

func TestRandomEnv(t *testing.T) {
	t.Setenv(RandomEnv, "1")
	if !Random() {
		t.Fatalf("%s=1 must give rapid its own seeds", RandomEnv)
	}
}

// Every rapid property of the module runs through Check, so make test
// uses fixed seeds everywhere (a bare rapid.Check would draw a fresh
// random seed each run and could fail on one commit and pass on the next).
func TestRapidChecksAreSeeded(t *testing.T) {
	root := filepath.Join("..", "..")
	var bad []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "out") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, call := range []string{"rapid" + ".Check(", "rapid" + ".MakeCheck("} {
			if strings.Contains(string(data), call) {
				bad = append(bad, path+": "+call)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("use simtest.Check, not rapid's own (a random seed per run):\n%s", strings.Join(bad, "\n"))
	}
}

// The fresh seed after the fixed set differs between runs, so make test
// widens the search every run; its reproduce command reruns that test on
// that seed from the module root.
func TestCheckRunsAFreshSeed(t *testing.T) {
	if Random() {
		t.Skip("rapid picks the seeds")
	}
	t.Setenv(FreshEnv, "1")
	withFresh := firstDraws(t)
	t.Setenv(FreshEnv, "0")
	fixedOnly := firstDraws(t)
	if len(withFresh) <= len(fixedOnly) || !slices.Equal(withFresh[:len(fixedOnly)], fixedOnly) {
		t.Fatalf("the fixed set must run first and a fresh seed after it: %d draws with, %d without", len(withFresh), len(fixedOnly))
	}
	if a, b := freshSeed(), freshSeed(); a == b || a == 0 {
		t.Fatalf("fresh seeds %d and %d", a, b)
	}
	got := ReproduceCommand("TestX/sub case", 42, "7")
	want := "go test ./sim/simtest/ -count=1 -run '^TestX$/^sub case$' -args -rapid.seed=42 -rapid.checks=7"
	if got != want {
		t.Fatalf("reproduce command %q, want %q", got, want)
	}
}

// A failure on a seed repeats the command that reproduces it.
func TestCheckPrintsReproduceOnFailure(t *testing.T) {
	if Random() {
		t.Skip("rapid picks the seeds")
	}
	t.Chdir(t.TempDir()) // rapid writes a fail file under testdata/
	t.Setenv(FreshEnv, "0")
	fake := &logTB{fakeTB: fakeTB{TB: t}}
	Check(fake, func(rt *rapid.T) {
		if rapid.IntRange(0, 10).Draw(rt, "x") > 5 {
			rt.Fatalf("big")
		}
	})
	if !fake.Failed() {
		t.Fatal("the property did not fail")
	}
	want := "simtest: the fixed seed failed; reproduce: go test ./ -count=1 -run '^fake$' -args -rapid.seed="
	for _, l := range fake.logs {
		if strings.HasPrefix(l, want) {
			return
		}
	}
	t.Fatalf("no reproduce line %q in %q", want, fake.logs)
}

// logTB is fakeTB keeping what was logged.
type logTB struct {
	fakeTB
	logs []string
}

func (f *logTB) Logf(format string, a ...any) { f.logs = append(f.logs, fmt.Sprintf(format, a...)) }
