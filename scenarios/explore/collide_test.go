package explore

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/swarm"
	"promotesim/sim"
)

// The fingerprint's soundness, tested where it matters: two runs of the
// window that reach the same fingerprint by different choices must have
// the same future. The search below records, for every fingerprint, the
// first choice script that reached it; every later script reaching it is
// a pair. Both scripts of a pair are replayed and continued by the same
// policy, which picks among the enabled steps by their actors' names (the
// candidates' order is not state), and at each scheduling decision the two
// worlds must show the same fingerprint and the same enabled steps. A
// fingerprint that leaves out something the future depends on
// (under-abstraction) fails here, naming the decision and the leaves that
// differ after it.

// collisionSearch runs the window's search under cfg, recording pairs of
// scripts that meet at one fingerprint (at most limit).
func collisionSearch(t *testing.T, cfg ExhaustiveConfig, limit int) (*ExhaustiveResult, *exTemplate, [][2][]int) {
	t.Helper()
	res := &ExhaustiveResult{}
	res.Cluster, res.Before, res.Promote = ExhaustiveWorld(cfg.Base)
	sr, err := newSearcher(res, newStateHasher())
	require.NoError(t, err)
	s := sr.search(cfg, res, func() bool { return false })
	var rec *sim.Recorder
	first := map[uint64][]int{} // looked up only
	var pairs [][2][]int
	newWorld := s.New
	s.New = func(ch sim.Chooser) *exWorld {
		rec = &sim.Recorder{Inner: ch}
		return newWorld(rec)
	}
	fp := s.Fingerprint
	s.Fingerprint = func(w *exWorld) uint64 {
		h := fp(w)
		got, ok := first[h]
		switch {
		case !ok:
			first[h] = slices.Clone(rec.Choices)
		case len(pairs) < limit && !slices.Equal(got, rec.Choices):
			pairs = append(pairs, [2][]int{got, slices.Clone(rec.Choices)})
		}
		return h
	}
	_, err = s.Run()
	require.NoError(t, err)
	return res, sr.tmpl, pairs
}

// policyChooser replays a Recorder's script, then decides by a seeded
// generator over the enabled steps sorted by actor name, logging what it
// saw at each scheduling decision past the script.
type policyChooser struct {
	script []int
	pos    int
	rng    *sim.Rand
	w      *exWorld
	hs     *stateHasher
	log    []string
	// leaves, when diag is set, is every decision's leaf map (a diagnosis).
	diag   bool
	leaves []map[string]uint64
}

func (p *policyChooser) replaying() bool { return p.pos < len(p.script) }

func (p *policyChooser) next() int { p.pos++; return p.script[p.pos-1] }

func (p *policyChooser) Choose(_ sim.Site, n int) int {
	if n > 1 && p.replaying() {
		return p.next()
	}
	if n <= 1 {
		return 0
	}
	p.log = append(p.log, fmt.Sprintf("choose %d", n))
	return int(p.rng.Uint64() % uint64(n))
}

func (p *policyChooser) Chance(_ sim.Site, pr sim.Prob) bool {
	if pr.Num == 0 || pr.Num >= pr.Den {
		return pr.Num != 0
	}
	if p.replaying() {
		return p.next() == 1
	}
	p.log = append(p.log, "chance")
	return p.rng.Uint64()%2 == 1
}

func (p *policyChooser) ChooseStep(_ sim.Site, e sim.Enabled) int {
	if p.replaying() {
		return p.next()
	}
	s := p.w.r.C.S
	keys := make([]string, e.Len())
	for i := range keys {
		keys[i] = s.Name(e.Actor(i))
		if e.Message(i) {
			keys[i] += "<-" + s.Name(e.From(i))
		}
	}
	if p.diag {
		m := map[string]uint64{}
		p.hs.worldFingerprint(p.w.r, p.w.phase<<16|p.w.answered, m)
		p.leaves = append(p.leaves, m)
	}
	sorted := slices.Clone(keys)
	sort.Strings(sorted)
	p.log = append(p.log, fmt.Sprintf("fp %x last %s enabled %s", p.hs.fastWorldFingerprint(p.w.r, p.w.phase<<16|p.w.answered),
		s.Name(e.Last()), strings.Join(sorted, ",")))
	pick := sorted[p.rng.Uint64()%uint64(len(sorted))]
	return slices.Index(keys, pick)
}

// follow replays script from the template and continues it by the policy
// of seed, returning the log past the script and the verdict.
func follow(t *testing.T, tmpl *exTemplate, res *ExhaustiveResult, script []int, seed uint64, diag bool) *policyChooser {
	t.Helper()
	p := &policyChooser{script: script, rng: sim.NewRand(seed), hs: newStateHasher(), diag: diag}
	w, err := tmpl.instance(p)
	require.NoError(t, err)
	p.w = w
	v := driveWindow(w, res)
	verdict := "held"
	if v != nil {
		verdict = v.Checker
	}
	p.log = append(p.log, fmt.Sprintf("phase %d verdict %s", w.phase, verdict))
	return p
}

// checkCollisions follows both scripts of every pair under a few policies
// and requires the same log.
func checkCollisions(t *testing.T, cfg ExhaustiveConfig, limit, policies int) int {
	res, tmpl, pairs := collisionSearch(t, cfg, limit)
	require.NotEmpty(t, pairs, "no two schedules met at a state: the search prunes nothing")
	for i, pair := range pairs {
		for seed := range uint64(policies) {
			a := follow(t, tmpl, res, pair[0], seed, false)
			b := follow(t, tmpl, res, pair[1], seed, false)
			require.NotEmpty(t, a.log)
			require.True(t, strings.HasPrefix(a.log[0], "fp ") || strings.HasPrefix(a.log[0], "phase"), a.log[0])
			if !slices.Equal(a.log, b.log) {
				k := 0
				for k < min(len(a.log), len(b.log)) && a.log[k] == b.log[k] {
					k++
				}
				t.Fatalf("pair %d (policy %d): scripts %v and %v meet at one fingerprint but part at decision %d past it:\n  %s\n  %s\n%s",
					i, seed, pair[0], pair[1], k, at(a.log, k), at(b.log, k), leafDiff(t, tmpl, res, pair, seed, k))
			}
		}
	}
	return len(pairs)
}

// leafDiff names the leaves that differ between the pair's worlds at
// their k-th decision past the scripts.
func leafDiff(t *testing.T, tmpl *exTemplate, res *ExhaustiveResult, pair [2][]int, seed uint64, k int) string {
	a := follow(t, tmpl, res, pair[0], seed, true)
	b := follow(t, tmpl, res, pair[1], seed, true)
	if k >= len(a.leaves) || k >= len(b.leaves) {
		return "  (one run ended)"
	}
	var out []string
	for key, va := range a.leaves[k] { // determinism:ok sorted below
		if vb, ok := b.leaves[k][key]; !ok || va != vb {
			out = append(out, "  differs: "+key)
		}
	}
	for key := range b.leaves[k] { // determinism:ok sorted below
		if _, ok := a.leaves[k][key]; !ok {
			out = append(out, "  only in the second: "+key)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func at(log []string, k int) string {
	if k < len(log) {
		return log[k]
	}
	return "(ended)"
}

// Two schedules that meet at one fingerprint go on alike: the same
// fingerprints and enabled steps at every later decision, the same
// verdict, under several continuations (the non-preemptive search's first
// states, where most schedules of the window meet).
func TestFingerprintCollisionsShareFutures(t *testing.T) {
	n := checkCollisions(t, ExhaustiveConfig{BoundPreemptions: true, MaxStates: 6000}, 2000, 2)
	require.Greater(t, n, 100)
}

// One space, three orders: the whole non-preemptive search of the window's
// first steps, on one worker, on two, and with every choice's options tried
// last to first, stores the same set of states. A fingerprint that merges
// states whose futures differ stores what the first-explored of them
// leads to, and fails here; so does pruning that depends on the order.
func TestExhaustiveStatesIndependentOfOrder(t *testing.T) {
	for _, c := range []struct {
		base  swarm.Base
		depth int
	}{{swarm.Base{}, 36}, {swarm.Base{Hazard: "skip-wait-reset", Fixed: true}, 24}} {
		var sets []map[uint64]bool
		var counts []int
		for _, mode := range []struct {
			workers int
			reverse bool
		}{{1, false}, {2, false}, {1, true}} {
			rec := &recordedStates{fps: map[uint64]bool{}}
			res, err := CheckExhaustive(context.Background(), ExhaustiveConfig{Base: c.base, BoundPreemptions: true,
				WindowDepth: c.depth, Workers: mode.workers, Reverse: mode.reverse, record: rec})
			require.NoError(t, err)
			require.True(t, res.Search.Complete, "%+v", mode)
			require.Equal(t, len(rec.fps), res.Search.States, "the report counts what was stored")
			sets, counts = append(sets, rec.fps), append(counts, res.Search.States)
		}
		require.Greater(t, counts[0], 1000, "%s: a space worth searching", c.base.Hazard)
		require.Zero(t, setDiff(sets[0], sets[1])+setDiff(sets[1], sets[0]), "%s: 1 and 2 workers store different states (%v)", c.base.Hazard, counts)
		require.Zero(t, setDiff(sets[0], sets[2])+setDiff(sets[2], sets[0]), "%s: forward and reversed orders store different states (%v)", c.base.Hazard, counts)
	}
}

// setDiff counts the states of a not in b.
func setDiff(a, b map[uint64]bool) int {
	n := 0
	for fp := range a { // determinism:ok only counted
		if !b[fp] {
			n++
		}
	}
	return n
}
