package explore

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/check"
	"promotesim/scenarios/swarm"
	"promotesim/sim"
)

func TestSeedRangeShards(t *testing.T) {
	// The shards of a range partition it: every seed in exactly one.
	const first, n, shards = 7, 50, 4
	seen := map[uint64]int{}
	for i := uint64(0); i < shards; i++ {
		r, err := newSeedRange(ExploreConfig{FirstSeed: first, Seeds: n, Shard: i, Shards: shards})
		require.NoError(t, err)
		for k := uint64(0); ; k++ {
			s, ok := r.seed(k)
			if !ok {
				break
			}
			require.Equal(t, i, s%shards, "seed %d in shard %d", s, i)
			seen[s]++
		}
	}
	require.Len(t, seen, n)
	for s := uint64(first); s < first+n; s++ {
		require.Equal(t, 1, seen[s], "seed %d", s)
	}
	_, err := newSeedRange(ExploreConfig{Shard: 3, Shards: 3})
	require.Error(t, err)
	// An open range (duration-bound) goes on.
	r, err := newSeedRange(ExploreConfig{FirstSeed: 1})
	require.NoError(t, err)
	s, ok := r.seed(1 << 20)
	require.True(t, ok)
	require.Equal(t, uint64(1<<20+1), s)
}

// The explorer's report does not depend on how many workers ran it: the
// same lowest failing seed, and (with KeepGoing) the same failures, worlds
// and steps.
func TestExploreIndependentOfWorkers(t *testing.T) {
	hz := "reset-after-recovery-done"
	var firsts []uint64
	for _, workers := range []int{1, 2, 4} {
		res, err := Explore(context.Background(), ExploreConfig{Base: swarm.Base{Hazard: hz, Fixed: true}, FirstSeed: 1, Seeds: 30, Workers: workers})
		require.NoError(t, err)
		require.NotNil(t, res.First, "hazard %s not caught in 30 seeds", hz)
		require.Len(t, res.Failures, 1)
		firsts = append(firsts, res.First.Swarm.Seed)
	}
	require.Equal(t, firsts[0], firsts[1])
	require.Equal(t, firsts[0], firsts[2])

	var runs []*ExploreResult
	for _, workers := range []int{1, 3} {
		res, err := Explore(context.Background(), ExploreConfig{Base: swarm.Base{Hazard: hz}, FirstSeed: 1, Seeds: 12, Workers: workers, KeepGoing: true})
		require.NoError(t, err)
		require.True(t, res.Exhausted)
		runs = append(runs, res)
	}
	a, b := runs[0], runs[1]
	require.Equal(t, uint64(12), a.Worlds)
	require.Equal(t, a.Worlds, b.Worlds)
	require.Equal(t, a.Steps, b.Steps)
	require.Equal(t, a.Marks, b.Marks)
	require.Equal(t, a.Exercised, b.Exercised)
	require.Equal(t, a.NeverExercised, b.NeverExercised)
	require.Equal(t, len(a.Failures), len(b.Failures))
	for i := range a.Failures {
		require.Equal(t, a.Failures[i].Swarm.Seed, b.Failures[i].Swarm.Seed)
		require.Equal(t, a.Failures[i].Outcome.Hash, b.Failures[i].Outcome.Hash)
	}
}

func TestExploreNeedsABudget(t *testing.T) {
	_, err := Explore(context.Background(), ExploreConfig{})
	require.ErrorContains(t, err, "number of seeds or a duration")
	_, err = Explore(context.Background(), ExploreConfig{Seeds: 1, Base: swarm.Base{Hazard: "nope"}})
	require.ErrorContains(t, err, "nope")
}

// The determinism self-check passes on a deterministic world and finds
// the first step where two runs part when they do.
func TestDeterminismCheck(t *testing.T) {
	sw, err := swarm.DeriveSwarm(5, swarm.Base{})
	require.NoError(t, err)
	o, d, err := CheckDeterminismOf(sw)
	require.NoError(t, err)
	require.Nil(t, d, "seed 5 ran differently twice: %v", d)
	require.NotZero(t, o.Steps)

	// Two different traces: the hasher reports the first differing line.
	h1, h2 := newStepHasher(), newStepHasher()
	h2.ref = h1
	for _, l := range []string{"     1      0 a x", "     2      1 b y", "     3      2 c z"} {
		_, _ = h1.Write([]byte(l + "\n"))
	}
	for _, l := range []string{"     1      0 a x", "     2      1 b Y", "     3      2 c z"} {
		_, _ = h2.Write([]byte(l + "\n"))
	}
	require.Equal(t, 1, h2.diffAt)
	require.Equal(t, uint64(2), h1.steps[h2.diffAt])
	require.Equal(t, "     2      1 b Y", h2.diffTxt)
}

// A Go panic inside a world is a violation of CheckPanic, not a crash of
// the explorer.
func TestRunGuardedCatchesPanics(t *testing.T) {
	sw, err := swarm.DeriveSwarm(1, swarm.Base{})
	require.NoError(t, err)
	o, err := runGuarded(sw, swarm.RunConfig{Chooser: panicky{}})
	require.NoError(t, err)
	require.NotNil(t, o.Violation)
	require.Equal(t, CheckPanic, o.Violation.Checker)
	require.Contains(t, o.Violation.Err.Error(), "boom")
}

type panicky struct{}

func (panicky) Choose(sim.Site, int) int       { panic("boom") }
func (panicky) Chance(sim.Site, sim.Prob) bool { panic("boom") }

// Every mark the model can hit is in knownMarks, and every name there is
// hit somewhere: the explorer's "marks reached / known" stays honest.
func TestKnownMarksMatchSource(t *testing.T) {
	var inSource []string
	scen, err := filepath.Glob("../*")
	require.NoError(t, err)
	for _, dir := range append([]string{"../../sim", "../../storage", "../../logindex", "../../shmem", "../../bgw", "../../startup", "../../postmaster"}, scen...) {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			src, err := os.ReadFile(path)
			require.NoError(t, err)
			f, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
			require.NoError(t, err)
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) != 1 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "Mark" {
					return true
				}
				if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					inSource = append(inSource, s)
				}
				return true
			})
		}
	}
	sort.Strings(inSource)
	inSource = compactStrings(inSource)
	known := KnownMarks()
	require.True(t, sort.StringsAreSorted(known), "knownMarks in explore.go must stay sorted")
	require.Equal(t, inSource, known, "scenarios/explore/explore.go's knownMarks must list exactly the Mark(\"...\") names "+
		"in the model's source (add a new mark there, sorted; remove one that is gone)")
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func TestKeepLowest(t *testing.T) {
	var list []*Failure
	for _, i := range []uint64{9, 3, 7, 1, 8, 2} {
		list = keepLowest(list, &Failure{Index: i}, 4)
	}
	var got []uint64
	for _, f := range list {
		got = append(got, f.Index)
	}
	require.Equal(t, []uint64{1, 2, 3, 7}, got)
}

// The summary's claim counts are the sum of the worlds' own, and the
// claims it lists as never exercised are exactly those whose sum is zero.
func TestExploreSumsClaimsExercised(t *testing.T) {
	res, err := Explore(context.Background(), ExploreConfig{FirstSeed: 1, Seeds: 4, Workers: 2, KeepGoing: true})
	require.NoError(t, err)
	want := check.NoExercise()
	for seed := uint64(1); seed <= 4; seed++ {
		sw, err := swarm.DeriveSwarm(seed, swarm.Base{})
		require.NoError(t, err)
		o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
		require.NoError(t, err)
		require.Len(t, o.Exercised, len(want))
		for i, e := range o.Exercised {
			require.Equal(t, want[i].Name, e.Name)
			want[i].Count += e.Count
		}
	}
	require.Equal(t, want, res.Exercised)
	var never []string
	for _, e := range want {
		if e.Count == 0 {
			never = append(never, e.Name)
		}
	}
	require.Equal(t, never, res.NeverExercised)
	require.NotZero(t, want[0].Count, "every world writes: SingleWriter judged its writes")
}

// The marks a run cannot reach are known marks, and they depend on the
// run's hazard and profile as marks.go says.
func TestUnreachableMarks(t *testing.T) {
	known := map[string]bool{}
	for _, m := range KnownMarks() {
		known[m] = true
	}
	plain := UnreachableMarks(swarm.Base{})
	require.Contains(t, plain, "startup/reset-without-waiting-reset")
	require.NotContains(t, plain, "startup/waiting-reset-overwritten")
	require.NotContains(t, UnreachableMarks(swarm.Base{Hazard: "skip-wait-reset"}), "startup/reset-without-waiting-reset")
	fixed := UnreachableMarks(swarm.Base{Fixed: true})
	require.Contains(t, fixed, "startup/waiting-reset-overwritten")
	for m, why := range fixed {
		require.True(t, known[m], "%s is not a known mark", m)
		require.NotEmpty(t, why)
	}
	// A faithful switch opens its paths again, and only its own.
	ub := UnreachableMarks(swarm.Base{Fixed: true, Faithful: "unchecked-bgw-state"})
	require.Contains(t, ub, "startup/hot-standby-in-final-read")
	require.Contains(t, ub, "startup/waiting-reset-overwritten", "needs hot-standby-in-final-read too")
	both := UnreachableMarks(swarm.Base{Fixed: true, Faithful: "unchecked-bgw-state,hot-standby-in-final-read"})
	require.NotContains(t, both, "startup/hot-standby-in-final-read")
	require.NotContains(t, both, "startup/prewarm-parallel-replaying")
	require.NotContains(t, both, "startup/waiting-reset-overwritten")
	require.Contains(t, both, "postmaster/restart-after-crash")
	missed, unreachable := MissedMarks(swarm.Base{}, []string{"startup/hot-standby"})
	require.Equal(t, []string{"startup/reset-without-waiting-reset"}, unreachable)
	require.Len(t, missed, len(KnownMarks())-2)
}
