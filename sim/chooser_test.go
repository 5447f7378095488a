package sim_test

import (
	"strings"
	"testing"

	"promotesim/sim"
)

// twoWorkers runs two actors of k steps each under c and returns the schedule
// as a string of actor names.
func twoWorkers(c sim.Chooser, k int) (string, sim.Result) {
	s := sim.New(sim.Config{Chooser: c})
	var order strings.Builder
	for _, name := range []string{"a", "b"} {
		done := 0
		s.Add(&toy{name: name, ready: func() bool { return done < k }, step: func(*sim.Ctx) {
			done++
			order.WriteString(name)
		}})
	}
	r := s.Run(1000)
	return order.String(), r
}

func binomial(n, k int) int {
	r := 1
	for i := 1; i <= k; i++ {
		r = r * (n - k + i) / i
	}
	return r
}

func TestEnumeratorCountsInterleavings(t *testing.T) {
	for k := 1; k <= 5; k++ {
		e := sim.NewEnumerator(100)
		seen := map[string]bool{}
		for c := e.Next(); c != nil; c = e.Next() {
			got, r := twoWorkers(c, k)
			if !r.Quiescent || len(got) != 2*k {
				t.Fatalf("k=%d: run %v gave %q", k, r, got)
			}
			if seen[got] {
				t.Fatalf("k=%d: schedule %s enumerated twice", k, got)
			}
			seen[got] = true
		}
		if want := binomial(2*k, k); len(seen) != want || e.Runs() != want || e.Truncated() != 0 {
			t.Fatalf("k=%d: %d schedules in %d runs (%d truncated), want C(%d,%d)=%d", k, len(seen), e.Runs(), e.Truncated(), 2*k, k, want)
		}
	}
}

func TestEnumeratorDepthBound(t *testing.T) {
	// k=3 with at most 4 branching choices: the 6 prefixes with two steps
	// of each actor are cut; 2 runs end after 3 choices (aaa, bbb) and 6
	// after 4, for 14 runs.
	e := sim.NewEnumerator(4)
	seen := map[string]bool{}
	for c := e.Next(); c != nil; c = e.Next() {
		got, _ := twoWorkers(c, 3)
		seen[got] = true
		if len(e.Path()) > 4 {
			t.Fatalf("path %v beyond the bound", e.Path())
		}
	}
	if e.Runs() != 14 || e.Truncated() != 6 || len(seen) != 14 {
		t.Fatalf("runs %d truncated %d distinct %d, want 14, 6, 14", e.Runs(), e.Truncated(), len(seen))
	}
	if e.Truncated() != 6 {
		t.Fatal("Truncated changed after the end")
	}
	// Depth 0 is the boring schedule alone.
	e = sim.NewEnumerator(0)
	c := e.Next()
	got, _ := twoWorkers(c, 2)
	if got != "abab" || e.Truncated() != 1 || e.Next() != nil || e.Runs() != 1 || e.Truncated() != 1 {
		t.Fatalf("depth 0: %s, runs %d truncated %d", got, e.Runs(), e.Truncated())
	}
}

func TestEnumeratorDetectsNondeterminism(t *testing.T) {
	// The number of options changes between runs with the same prefix.
	e := sim.NewEnumerator(10)
	actors := 2
	var last sim.Result
	for c := e.Next(); c != nil; c = e.Next() {
		s := sim.New(sim.Config{Chooser: c})
		for i := range actors {
			s.Add(worker(string(rune('a'+i)), 2))
		}
		actors++ // the world leaks state from one run into the next
		if last = s.Run(100); last.Violation != nil {
			break
		}
	}
	if last.Violation == nil || last.Violation.Checker != "assert" || !strings.Contains(last.Violation.Err.Error(), "nondeterministic world") {
		t.Fatalf("not detected: %v", last)
	}
	// The world makes fewer choices than the prefix it replays.
	e = sim.NewEnumerator(10)
	k := 2
	c := e.Next()
	twoWorkers(c, k)
	k = 1
	c = e.Next()
	twoWorkers(c, k)
	mustPanic(t, "short run", func() { e.Next() })
}

func TestEnumeratorChance(t *testing.T) {
	e := sim.NewEnumerator(10)
	var outcomes []string
	for c := e.Next(); c != nil; c = e.Next() {
		site := sim.Site{Label: "fault"}
		outcomes = append(outcomes, strings.Join([]string{
			yes(c.Chance(site, sim.Per(1, 100))),
			yes(c.Chance(site, sim.Never)),     // not a choice: always no
			yes(c.Chance(site, sim.Per(3, 3))), // not a choice: always yes
			yes(c.Chance(site, sim.Per(1, 2))),
		}, ""))
	}
	if got := strings.Join(outcomes, " "); got != "nnyn nnyy ynyn ynyy" {
		t.Fatalf("outcomes %s", got)
	}
}

func yes(b bool) string {
	if b {
		return "y"
	}
	return "n"
}

// chancy is a world with every kind of choice: schedule, Choose and Chance.
func chancy(seed uint64, c sim.Chooser) (uint64, *sim.Scheduler) {
	s := sim.New(sim.Config{Seed: seed, Chooser: c, Trace: sim.TraceConfig{Ring: -1}})
	sink := s.Add(&toy{name: "sink", recv: func(x *sim.Ctx, m sim.Msg) {
		x.Log("recv", sim.Str("m", m.String()))
	}})
	for _, name := range []string{"p", "q", "r"} {
		n := 0
		s.Add(&toy{name: name, ready: func() bool { return n < 6 }, step: func(x *sim.Ctx) {
			n++
			if !x.Chance(x.Site(name+"/up"), sim.Per(1, 1)) || x.Chance(x.Site(name+"/never"), sim.Never) {
				x.Log("impossible")
			}
			if x.Chance(x.Site(name+"/fault"), sim.Per(1, 3)) {
				x.Log("fault")
				return
			}
			v := x.Choose(x.Site(name+"/pick"), 4)
			x.Send(sink, msg(strings.Repeat(name, v+1)))
			if v == 3 {
				x.Wake(msg("t"), sim.Time(v))
			}
		}})
	}
	s.Run(1000)
	return s.Trace().Hash(), s
}

func TestRecordAndReplay(t *testing.T) {
	for seed := range uint64(20) {
		rec := &sim.Recorder{Inner: sim.NewRandom(seed)}
		want, _ := chancy(seed, rec)
		sc := sim.NewScripted(rec.Choices...)
		// The seed only feeds the Random driver, which the script replaces.
		got, _ := chancy(seed+1000, sc)
		if got != want || sc.Used() != len(rec.Choices) || sc.Clamped != 0 {
			t.Fatalf("seed %d: replay hash %x, recorded %x; used %d of %d, clamped %d", seed, got, want, sc.Used(), len(rec.Choices), sc.Clamped)
		}
	}
}

func TestScriptedClampsAndDefaults(t *testing.T) {
	sc := sim.NewScripted(5, -1, 1)
	site := sim.Site{Label: "x"}
	if sc.Choose(site, 1) != 0 || sc.Used() != 0 {
		t.Fatal("a single option consumed the script")
	}
	if sc.Choose(site, 3) != 2 || sc.Choose(site, 3) != 0 || sc.Clamped != 2 {
		t.Fatal("clamping")
	}
	if !sc.Chance(site, sim.Per(1, 9)) || sc.Chance(site, sim.Per(1, 9)) || sc.Choose(site, 7) != 0 {
		t.Fatal("after the script every choice is 0")
	}
	if sc.Chance(site, sim.Never) || !sc.Chance(site, sim.Per(2, 2)) || sc.Used() != 3 {
		t.Fatal("an impossible or certain event consumed the script")
	}
}

func TestRandomSitesAreIndependent(t *testing.T) {
	var sites sim.Sites
	a, b := sites.Get("a"), sites.Get("b")
	r1, r2 := sim.NewRandom(9), sim.NewRandom(9)
	var x, y []int
	for range 20 {
		x = append(x, r1.Choose(a, 1000))
		r2.Choose(b, 1000) // draws at another site do not shift site a
		r2.Chance(b, sim.Per(1, 2))
		y = append(y, r2.Choose(a, 1000))
	}
	if !slicesEqual(x, y) {
		t.Fatalf("site a depends on site b: %v vs %v", x, y)
	}
	if r1.Choose(a, 1) != 0 {
		t.Fatal("one option")
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
