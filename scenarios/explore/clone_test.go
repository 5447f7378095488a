package explore

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/cluster"
	"promotesim/scenarios/hazard"
	"promotesim/scenarios/swarm"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// listChooser answers every choice from a fixed list, cyclically: a chooser
// with state of its own, which a copy of the world copies with it.
type listChooser struct {
	choices []int
	pos     int
}

func (c *listChooser) next(n int) int {
	v := c.choices[c.pos%len(c.choices)] % n
	c.pos++
	return v
}

func (c *listChooser) Choose(_ sim.Site, n int) int { return c.next(n) }
func (c *listChooser) Chance(_ sim.Site, p sim.Prob) bool {
	return p.Num > 0 && c.next(int(p.Den)) < int(p.Num)
}
func (c *listChooser) ChooseStep(_ sim.Site, e sim.Enabled) int { return c.next(e.Len()) }

// outcome is everything a finished run shows: its trace's hash and length,
// its step, its violation and the commands it ran.
func outcome(w *exWorld, v *sim.Violation) string {
	s := w.r.C.S
	return fmt.Sprintf("trace %x/%d step %d phase %d violation %v ran %v", s.Trace().Hash(), s.Trace().Count(), s.StepNo(), w.phase, v, w.ran)
}

// A copy of a world continues byte for byte as the original does: copied
// at the promote or k steps into the window, under many schedules, both
// reach the same trace (hash and length), step, violation and commands,
// and the same fingerprint on the way; and a copy shares nothing with its
// original (running the copy leaves the original's fingerprint alone).
func TestCloneContinuesIdentically(t *testing.T) {
	for _, hz := range []string{"", "skip-wait-reset"} {
		res := &ExhaustiveResult{}
		res.Cluster, res.Before, res.Promote = ExhaustiveWorld(swarm.Base{Hazard: hz, Fixed: hz != ""})
		cp, hs := newCopier(), newStateHasher()
		for seed := range uint64(30) {
			rng := sim.NewRand(seed + 1)
			ch := &listChooser{}
			for range 64 {
				ch.choices = append(ch.choices, int(rng.Uint64()%7))
			}
			w, err := buildExWorld(res, ch, nil)
			require.NoError(t, err)
			if seed%2 == 1 { // k steps into the window
				w.gate.Open = true
				w.exec(res.Promote)
				w.phase = 1
				w.r.C.S.Run(int(seed))
			}
			c, err := cloneWorld(cp, w)
			require.NoError(t, err)
			require.NotSame(t, w.r.C.S, c.r.C.S)
			fp := hs.fastWorldFingerprint(w.r, w.phase)
			require.Equal(t, fp, hs.fastWorldFingerprint(c.r, c.phase), "seed %d: the copy's state", seed)
			var vc *sim.Violation
			if seed%2 == 1 {
				vc = c.r.C.S.Run(300).Violation
			} else {
				vc = driveWindow(c, res)
			}
			require.Equal(t, fp, hs.fastWorldFingerprint(w.r, w.phase), "seed %d: running the copy changed the original", seed)
			var vw *sim.Violation
			if seed%2 == 1 {
				vw = w.r.C.S.Run(300).Violation
			} else {
				vw = driveWindow(w, res)
			}
			require.Equal(t, outcome(w, vw), outcome(c, vc), "seed %d hazard %q", seed, hz)
		}
	}
}

// toy is a world in miniature with every kind of sharing a real one has.
type toy struct {
	A, B  *toyNode         // the same node twice
	Field *int             // points into A's node
	Arena []int            // a backing array ...
	Part  []int            // ... and a slice of part of it, with a smaller cap
	Tail  []int            // ... and one starting inside it
	M, M2 map[int]*toyNode // one map, twice
	Any   any              // an interface holding a pointer
	Box   any              // an interface holding a value with a pointer in it
	Name  string
}

type toyNode struct {
	N    int
	Next *toyNode // a cycle
}

type toyBox struct{ P *toyNode }

// The copier keeps every alias of the original (a pointer to a field, a
// sub-slice, a slice from inside an array, a shared map, a cycle) and
// shares nothing mutable with it.
func TestCloneKeepsAliasing(t *testing.T) {
	n := &toyNode{N: 1}
	n.Next = n
	arena := make([]int, 4, 8)
	m := map[int]*toyNode{1: n}
	w := &toy{A: n, B: n, Field: &n.N, Arena: arena, Part: arena[:2:2], Tail: arena[3:6], M: m, M2: m,
		Any: n, Box: toyBox{P: n}, Name: "w"}
	cp := newCopier()
	require.NoError(t, cp.prepare(w))
	// The first copy runs the compiled fixes and records them; the second
	// and third replay the record (reloc.go), the third over the second's
	// released memory.
	for i := range 3 {
		out, err := cp.copy()
		require.NoError(t, err)
		requireToyCopy(t, w, out.(*toy), fmt.Sprintf("copy %d", i+1))
		if i == 1 {
			cp.release()
		}
	}
	require.NotEmpty(t, cp.relocs)
	require.NotEmpty(t, cp.dyns, "the map and the boxed interface are fixed by every copy")
}

// requireToyCopy holds c, a copy of w, to every alias of w and to sharing
// nothing mutable with it (c is changed on the way).
func requireToyCopy(t *testing.T, w, c *toy, what string) {
	n, arena, m := w.A, w.Arena, w.M
	require.NotSame(t, w.A, c.A, what)
	require.Same(t, c.A, c.B, what)
	require.Same(t, c.A, c.A.Next, "%s: the cycle", what)
	require.Same(t, &c.A.N, c.Field, "%s: the pointer to a field", what)
	require.Same(t, c.A, c.M[1], what)
	require.Same(t, c.A, c.Any.(*toyNode), what)
	require.Same(t, c.A, c.Box.(toyBox).P, what)
	c.Arena[1], c.Arena[3] = 7, 9
	require.Equal(t, 7, c.Part[1], "%s: the sub-slice shares the copy's array", what)
	require.Equal(t, 9, c.Tail[0], "%s: so does the slice from inside it", what)
	require.Equal(t, 2, cap(c.Part), what)
	require.Equal(t, 5, cap(c.Tail), what)
	c.M2[2] = nil
	require.Len(t, c.M, 2, "%s: the map is one map in the copy too", what)
	c.A.N = 5
	require.Equal(t, 1, n.N, "%s: the copy shares nothing mutable with the original", what)
	require.Equal(t, 0, arena[1], what)
	require.Len(t, m, 1, what)
}

// Copies of one prepared world after the first (relocated from its
// record) continue as the first does: the search's template is copied so
// for every run. Each of a handful of copies, some over released memory,
// hashes as the original and runs the same schedule to the same outcome.
func TestCloneRelocatedMatchesFirst(t *testing.T) {
	res := &ExhaustiveResult{}
	res.Cluster, res.Before, res.Promote = ExhaustiveWorld(swarm.Base{})
	w, err := buildExWorld(res, nil, nil)
	require.NoError(t, err)
	tmpl, err := newTemplate(w)
	require.NoError(t, err)
	hs := newStateHasher()
	fp := hs.fastWorldFingerprint(w.r, w.phase)
	var want []string
	for i := range 6 {
		ch := &listChooser{choices: []int{i % 3, 1, 2, 0, 2 * (i % 3)}}
		c, err := tmpl.instance(ch)
		require.NoError(t, err)
		require.Equal(t, fp, hs.fastWorldFingerprint(c.r, c.phase), "copy %d: the template's state", i)
		got := outcome(c, driveWindow(c, res))
		if i < 3 {
			want = append(want, got) // copy 0 records; 1 and 2 replay it
		} else {
			require.Equal(t, want[i-3], got, "copy %d runs as copy %d did", i, i-3)
		}
		if i%2 == 1 {
			tmpl.cp.release()
		}
	}
	require.Equal(t, fp, hs.fastWorldFingerprint(w.r, w.phase), "the copies left the template alone")
}

func TestCloneRefusesClosures(t *testing.T) {
	type withFunc struct{ F func() int }
	type withChan struct{ C chan int }
	_, err := newCopier().clonePtr(&withFunc{F: func() int { return 1 }})
	require.ErrorContains(t, err, "func() int the copy cannot share")
	_, err = newCopier().clonePtr(&withChan{C: make(chan int)})
	require.ErrorContains(t, err, "chan int the copy cannot share")
	_, err = newCopier().clonePtr(&withFunc{}) // a nil func is no closure
	require.NoError(t, err)
	_, err = newCopier().clonePtr(withFunc{})
	require.ErrorContains(t, err, "is not a pointer")
}

// Every world the check can be asked for (each profile, each hazard) can
// be copied: none holds a closure or an aliasing the copier refuses, and
// its copy hashes as the original does.
func TestTemplateEveryWorld(t *testing.T) {
	hs := newStateHasher()
	for _, prof := range cluster.ProfileNames() {
		p, fixed, err := cluster.ParseProfile(prof)
		require.NoError(t, err)
		for _, hz := range append([]string{""}, hazard.Names()...) {
			res := &ExhaustiveResult{}
			res.Cluster, res.Before, res.Promote = ExhaustiveWorld(swarm.Base{Profile: p, Fixed: fixed, Hazard: hz})
			tmpl, err := exhaustiveTemplate(res)
			require.NoError(t, err, "%s %s", prof, hz)
			w, err := tmpl.instance(sim.NewScripted())
			require.NoError(t, err, "%s %s", prof, hz)
			require.Equal(t, hs.fastWorldFingerprint(tmpl.w.r, 0), hs.fastWorldFingerprint(w.r, 0), "%s %s", prof, hz)
		}
	}
	for _, f := range []string{"epoch", "detect"} {
		fence, err := storage.ParseFenceMode(f)
		require.NoError(t, err)
		res := &ExhaustiveResult{}
		res.Cluster, res.Before, res.Promote = ExhaustiveWorld(swarm.Base{Profile: shmem.ProfileV11, Fence: fence})
		tmpl, err := exhaustiveTemplate(res)
		require.NoError(t, err, f)
		_, err = tmpl.instance(sim.NewScripted())
		require.NoError(t, err, f)
	}
}

// A copy made in released memory is as good as a fresh one: it starts at
// the template's fingerprint and runs on to the same outcome under the
// same schedule as a copy in memory of its own, whatever the run before it
// left in that memory.
func TestReleasedCopyIsFresh(t *testing.T) {
	res := &ExhaustiveResult{}
	res.Cluster, res.Before, res.Promote = ExhaustiveWorld(swarm.Base{})
	tmpl, err := exhaustiveTemplate(res)
	require.NoError(t, err)
	hs := newStateHasher()
	start := hs.fastWorldFingerprint(tmpl.w.r, tmpl.w.phase)
	run := func(seed uint64) (*exWorld, string) {
		w, err := tmpl.instance(sim.NewRandom(seed))
		require.NoError(t, err)
		require.Equal(t, start, hs.fastWorldFingerprint(w.r, w.phase), "seed %d: a copy's state at the promote", seed)
		return w, outcome(w, driveWindow(w, res))
	}
	for seed := uint64(1); seed <= 12; seed++ {
		_, fresh := run(seed) // in memory of its own
		last, other := run(seed + 100)
		tmpl.cp.release() // the next copy overwrites the last one's memory
		reused, again := run(seed)
		require.Same(t, last, reused, "seed %d: the memory was not reused", seed)
		require.Equal(t, fresh, again, "seed %d: the copy in released memory ran differently", seed)
		require.NotEqual(t, fresh, other, "seed %d: two schedules ran the same (the test sees nothing)", seed)
	}
}
