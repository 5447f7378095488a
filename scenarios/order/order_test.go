package order

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/hazard"
	"promotesim/scenarios/swarm"
	"promotesim/shmem"
)

// runHash runs one swarm world and returns its trace hash and violation.
func runHash(t *testing.T, seed uint64, p shmem.Profile, hz string) (uint64, string) {
	t.Helper()
	return runHashIn(t, seed, p, hz, hz)
}

// runHashIn runs hazard hz in the world seed derives for hazard world: a
// hazard's variant runs in the hazard's own world, biased as its hunt is
// (swarm/hunt.go, Swarm.Hunt), so the two compare on the same world.
func runHashIn(t *testing.T, seed uint64, p shmem.Profile, world, hz string) (uint64, string) {
	t.Helper()
	// The study runs on the fixed model: under PolarDB's faithful v15 the
	// baseline itself fails on many seeds (docs/findings.md F1–F4).
	sw, err := swarm.DeriveSwarm(seed, swarm.Base{Profile: p, Fixed: true, Hazard: world})
	require.NoError(t, err)
	sw.Opts.Hazard = hz
	o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
	require.NoError(t, err)
	v := ""
	if o.Violation != nil {
		v = o.Violation.Checker
	}
	return o.Hash, v
}

// The default sequences, run as sequences by startup/sequence.go, give
// the hard-wired path's trace byte for byte.
func TestDefaultSequenceIsTheHardWiredOrder(t *testing.T) {
	for _, p := range Profiles() {
		def, _ := Default(p)
		name := hazard.VariantName(p, def, nil)
		for seed := uint64(1); seed <= 40; seed++ {
			h0, v0 := runHash(t, seed, p, "")
			h1, v1 := runHash(t, seed, p, name)
			require.Equal(t, v0, v1, "%v seed %d", p, seed)
			require.Equal(t, h0, h1, "%v seed %d: the default sequence's trace differs from the hard-wired one", p, seed)
		}
	}
}

// Every hazard of the catalogue that is an ordering is a generated
// variant: on the same seeds both fail with the same checker, and the
// exact ones (the same steps, the same events) give the same trace.
func TestOrderingHazardsAreVariants(t *testing.T) {
	for _, m := range HazardVariants() {
		hz, err := hazard.Lookup(m.Hazard)
		require.NoError(t, err)
		p := shmem.ProfileV15
		if hz.Profile != 0 {
			p = hz.Profile
		}
		v, ok := Find(p, m.Variant)
		require.True(t, ok, "%s: no variant %s", m.Hazard, m.Variant)
		require.Empty(t, v.CannotRun, m.Hazard)
		failed := 0
		for seed := uint64(1); seed <= 60; seed++ {
			h0, v0 := runHash(t, seed, p, m.Hazard)
			h1, v1 := runHashIn(t, seed, p, m.Hazard, v.Name())
			require.Equal(t, v0, v1, "%s vs %s seed %d", m.Hazard, m.Variant, seed)
			if m.Exact {
				require.Equal(t, h0, h1, "%s vs %s seed %d", m.Hazard, m.Variant, seed)
			}
			if v0 != "" {
				failed++
			}
		}
		t.Logf("%s = %s: %d of 60 seeds fail", m.Hazard, m.Variant, failed)
	}
}

// A variant known to be harmless holds: the two stores of the
// ControlFileLock window swapped inside their one critical section (no
// process can run between them), on every seed the swarm test runs.
func TestHarmlessVariantHolds(t *testing.T) {
	v, ok := Find(shmem.ProfileV15, HarmlessVariant)
	require.True(t, ok)
	require.Empty(t, v.CannotRun)
	for seed := uint64(1); seed <= 150; seed++ {
		_, checker := runHash(t, seed, shmem.ProfileV15, v.Name())
		require.Empty(t, checker, "seed %d", seed)
	}
}

// Generation classifies every variant: each is runnable or says why
// not, none repeats an order, and none is PolarDB's own.
func TestGenerateClassifiesEveryVariant(t *testing.T) {
	for _, p := range Profiles() {
		def, _ := Default(p)
		seen := map[string]bool{}
		for _, v := range Generate(p) {
			if v.CannotRun != "" {
				continue
			}
			require.False(t, seen[v.key()], "%v %s repeats an order", p, v.ID)
			seen[v.key()] = true
			require.NotEqual(t, hazard.VariantName(p, def, nil), v.Name(), v.ID)
			h, err := hazard.Lookup(v.Name())
			require.NoError(t, err, v.ID)
			require.Equal(t, v.Seq.String(), h.Sequence)
		}
		require.Greater(t, len(seen), 30, "%v", p)
	}
	_, err := hazard.Lookup("order:v15:final-replay.nosuch")
	require.ErrorContains(t, err, `unknown step "nosuch"`)
	_, err = hazard.Lookup("order:v15:final-replay+wait-reset")
	require.ErrorContains(t, err, "stand alone")
	_, err = hazard.Lookup("order:v15:final-replay~without:fly")
	require.ErrorContains(t, err, `unknown omitted step "fly"`)
}

// Every catalogue hazard is either an ordering (a variant) or named as
// not one, with the reason.
func TestEveryHazardIsPlaced(t *testing.T) {
	placed := map[string]bool{}
	for _, m := range HazardVariants() {
		placed[m.Hazard] = true
	}
	for name, why := range NotOrderings() {
		require.False(t, placed[name], name)
		require.NotEmpty(t, why)
		placed[name] = true
	}
	for _, name := range hazard.Names() {
		require.True(t, placed[name], "hazard %s is neither a variant nor listed in NotOrderings", name)
	}
}

// A break that is the backend race is blamed on the profile only when its
// order lacks the backend wait. Both fixed profiles wait now (v11-fixed
// took V15's wait, docs/findings.md V11-1): in either the race is the
// variant's, and counts as a constraint.
func TestAttributeBackendRace(t *testing.T) {
	msg := "n2/bgw PANIC: bgw: polar assertion failed: replayed oldest LSN 0/548 would move back to 0/28 (a backend replays from 0/28)"
	for _, c := range []struct {
		p    shmem.Profile
		want string
	}{{shmem.ProfileV11, ""}, {shmem.ProfileV15, ""}} {
		v, ok := Find(c.p, "swap:final-replay:restartpoint")
		require.True(t, ok)
		r := NewResult(v, "uniform")
		r.Class, r.Message = Breaks, msg
		Attribute(&r)
		require.Equal(t, c.want, r.Attributed, "%v", c.p)
		minimal, _ := Constraints([]Result{r})
		require.Equal(t, c.want == "", len(minimal) == 1, "%v: an attributed break adds no constraint", c.p)
	}
}

// Combine merges a variant's results under every scheduler: its own
// break wins over the profile's own and over holds whatever the order,
// the seeded budget is summed without the exhaustive check's runs, and
// the report gives each scheduler its cell.
func TestCombineAndSchedulerColumns(t *testing.T) {
	v, ok := Find(shmem.ProfileV11, "swap:final-replay:restartpoint")
	require.True(t, ok)
	h, ok := Find(shmem.ProfileV11, HarmlessVariant)
	require.True(t, ok)
	res := func(v Variant, sched string, c Class, checker string, worlds uint64, marks ...string) Result {
		r := NewResult(v, sched)
		r.Class, r.Checker, r.Worlds, r.Steps, r.Marks, r.Seed, r.SeedsToDetection = c, checker, worlds, 10*worlds, marks, worlds, worlds
		if c == Breaks {
			r.Message, r.Counterexample = "x", "/d/orderings/"+sched+".txt"
		}
		return r
	}
	own := res(v, SchedUniform, Breaks, "BGWLegalTransitions", 7, "a")
	own.Message = "bgw PANIC (a backend replays from 0/28)"
	// What Attribute sets for a profile whose order lacks the backend
	// wait; neither fixed profile lacks it since v11-fixed took V15's
	// wait (TestAttributeBackendRace pins that nothing is attributed now), but
	// Combine must still rank such a break below a variant's own.
	own.Attributed = "wait-backends"
	ex := res(v, SchedExhaustive, Breaks, "CheckpointRedo", 40)
	ex.States = 300
	all := []Result{own, res(v, SchedPCT, Holds, "", 100, "b", "a"), res(v, SchedPreempt, Breaks, "ClogCopiedAtPromote", 3, "c"), ex,
		res(h, SchedUniform, Holds, "", 100, "a"), res(h, SchedExhaustive, Holds, "", 50)}
	c := Combine(all)
	require.Len(t, c, 2)
	require.Equal(t, Breaks, c[0].Class)
	require.Equal(t, SchedPreempt, c[0].Sched, "the first scheduler with the variant's own break gives the verdict")
	require.Equal(t, "ClogCopiedAtPromote", c[0].Checker)
	require.Empty(t, c[0].Attributed)
	require.Equal(t, uint64(110), c[0].Worlds, "seeded worlds only")
	require.Equal(t, []string{"a", "b", "c"}, c[0].Marks)
	require.Len(t, c[0].PerSched, 4)
	x, ok := c[0].Of(SchedExhaustive)
	require.True(t, ok)
	require.Equal(t, 300, x.States)
	require.Equal(t, Holds, c[1].Class)
	require.Equal(t, uint64(100), c[1].Worlds)

	cfg := ReportConfig{Command: "test", FirstSeed: 1, States: 300,
		Budgets: []SchedBudget{{SchedUniform, 100}, {SchedPCT, 100}, {SchedPreempt, 100}},
		Link:    func(p string) string { return p[len("/d/"):] }}
	body := string(Report(cfg, all))
	require.Contains(t, body, "| variant | change | uniform | pct | preempt | exhaustive |")
	require.Contains(t, body, "| swap:final-replay:restartpoint | swap final-replay and restartpoint | "+
		"[BGWLegalTransitions](orderings/uniform.txt) (the profile's own: no wait-backends), seed 7 (7 seeds) | holds | "+
		"[ClogCopiedAtPromote](orderings/preempt.txt), seed 3 (3 seeds) | [CheckpointRedo](orderings/exhaustive.txt), run 40, 300 states |")
	require.Contains(t, body, "uniform 0 of 2, pct 0 of 1, preempt 1 of 1, exhaustive 1 of 2")
	require.Contains(t, body, "| "+HarmlessVariant+" | swap in-production and node-type | 100 | 1000 | 1 | 0 | 0 |")
}
