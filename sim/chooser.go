package sim

import "fmt"

// Site names one place in the model where something nondeterministic is
// decided: which enabled step runs next, whether a write fails, which worker
// gets a task. Drivers see the site, so a seeded driver can give each site its
// own stream (adding a site does not change what other sites draw) and a
// rapid-backed driver can label its draws.
type Site struct {
	ID    int
	Label string
}

// Sites hands out Site values by label. Registering a label twice returns the
// same site.
type Sites struct {
	byLabel map[string]Site // looked up only, never iterated
	list    []Site
}

// Get returns the site for label, registering it on first use.
func (s *Sites) Get(label string) Site {
	if st, ok := s.byLabel[label]; ok {
		return st
	}
	if s.byLabel == nil {
		s.byLabel = make(map[string]Site)
	}
	st := Site{ID: len(s.list), Label: label}
	s.byLabel[label] = st
	s.list = append(s.list, st)
	return st
}

// Chooser decides every nondeterministic choice of a run. Choice 0 is always
// the boring one (the step that waited longest, no fault), so a shrinker that
// moves choices toward 0 moves toward simple schedules.
type Chooser interface {
	// Choose returns a value in [0, n); n >= 1.
	Choose(site Site, n int) int
	// Chance returns true with probability p where probabilities mean
	// anything; false is the boring answer.
	Chance(site Site, p Prob) bool
}

// Random is the seeded driver used by swarm runs: each site draws from its own
// stream forked from the seed by the site's label.
type Random struct {
	root    *Rand
	streams []*Rand // by Site.ID
}

// NewRandom returns a seeded random driver.
func NewRandom(seed uint64) *Random { return &Random{root: NewRand(seed).Fork("chooser")} }

func (r *Random) stream(site Site) *Rand {
	for len(r.streams) <= site.ID {
		r.streams = append(r.streams, nil)
	}
	s := r.streams[site.ID]
	if s == nil {
		s = r.root.Fork(site.Label)
		r.streams[site.ID] = s
	}
	return s
}

// Choose implements Chooser.
func (r *Random) Choose(site Site, n int) int {
	if n == 1 {
		return 0
	}
	return r.stream(site).Intn(n)
}

// Chance implements Chooser.
func (r *Random) Chance(site Site, p Prob) bool { return r.stream(site).Chance(p) }

// Scripted replays a fixed list of choices (scenarios, demos, counterexamples).
// Choices with a single option consume nothing; once the script runs out every
// choice is 0. A value out of range is clamped to the last option and counted,
// so a stale script degrades visibly instead of panicking.
type Scripted struct {
	Script  []int
	pos     int
	Clamped int
}

// NewScripted returns a driver that replays choices.
func NewScripted(choices ...int) *Scripted { return &Scripted{Script: choices} }

// Choose implements Chooser.
func (s *Scripted) Choose(_ Site, n int) int {
	if n == 1 {
		return 0
	}
	if s.pos >= len(s.Script) {
		return 0
	}
	v := s.Script[s.pos]
	s.pos++
	if v < 0 || v >= n {
		s.Clamped++
		if v < 0 {
			return 0
		}
		return n - 1
	}
	return v
}

// Chance implements Chooser: a script value other than 0 means true.
// Impossible and certain events are not choices and consume nothing.
func (s *Scripted) Chance(site Site, p Prob) bool {
	if p.Num == 0 || p.Num >= p.Den {
		return p.Num != 0
	}
	return s.Choose(site, 2) == 1
}

// Used returns how many script entries were consumed.
func (s *Scripted) Used() int { return s.pos }

// Recorder wraps a Chooser and records every choice with more than one option,
// so any run (random, rapid) can be replayed by a Scripted driver.
type Recorder struct {
	Inner   Chooser
	Choices []int
}

// Choose implements Chooser.
func (r *Recorder) Choose(site Site, n int) int {
	v := r.Inner.Choose(site, n)
	if n > 1 {
		r.Choices = append(r.Choices, v)
	}
	return v
}

// ChooseStep implements StepChooser: the inner chooser still sees the
// candidates (PCT needs them) and the index it picks is recorded like any
// other choice, so Scripted replays it.
func (r *Recorder) ChooseStep(site Site, e Enabled) int {
	v := ChooseStep(r.Inner, site, e)
	r.Choices = append(r.Choices, v)
	return v
}

// Chance implements Chooser.
func (r *Recorder) Chance(site Site, p Prob) bool {
	v := r.Inner.Chance(site, p)
	if p.Num == 0 || p.Num >= p.Den {
		return v // not a choice: nothing to replay
	}
	if v {
		r.Choices = append(r.Choices, 1)
	} else {
		r.Choices = append(r.Choices, 0)
	}
	return v
}

// Enumerator drives exhaustive exploration: it enumerates every sequence of
// choices, depth first, up to a bound on the number of branching choices per
// run. Use it as
//
//	e := sim.NewEnumerator(depth)
//	for c := e.Next(); c != nil; c = e.Next() { run(c) }
//
// Beyond the bound every choice is 0 (the boring schedule) and the run is
// counted as truncated. A world that is not deterministic (same prefix,
// different number of options) is a programmer error and fails loudly.
type Enumerator struct {
	maxDepth  int
	path      []branch
	pos       int
	started   bool
	runs      int
	truncated int
	cut       bool
}

type branch struct{ val, width int }

// NewEnumerator returns an enumerator bounded to maxDepth branching choices.
func NewEnumerator(maxDepth int) *Enumerator { return &Enumerator{maxDepth: maxDepth} }

// Next returns the chooser for the next run, or nil when every sequence has
// been enumerated. It panics with an *AssertionError when the previous run
// stopped short of the prefix it was given to replay: the world is not
// deterministic (or the run was abandoned by a nondeterminism violation).
func (e *Enumerator) Next() Chooser {
	if e.started {
		if e.cut {
			e.truncated++
			e.cut = false // counted; Truncated must not count it again
		}
		if e.pos < len(e.path) {
			// The previous run took this same prefix and went further, so a
			// deterministic world consumes all of it.
			panic(&AssertionError{Msg: fmt.Sprintf("sim: nondeterministic world: run made %d choices, its prefix has %d", e.pos, len(e.path))})
		}
		// Backtrack: drop exhausted trailing branches, advance the last one.
		for len(e.path) > 0 && e.path[len(e.path)-1].val == e.path[len(e.path)-1].width-1 {
			e.path = e.path[:len(e.path)-1]
		}
		if len(e.path) == 0 {
			return nil
		}
		e.path[len(e.path)-1].val++
	}
	e.started = true
	e.pos = 0
	e.cut = false
	e.runs++
	return enumChooser{e}
}

// Runs returns how many runs were started.
func (e *Enumerator) Runs() int { return e.runs }

// Truncated returns how many finished runs hit the depth bound.
func (e *Enumerator) Truncated() int {
	if e.cut {
		return e.truncated + 1
	}
	return e.truncated
}

// Path returns the current run's choices so far (a replayable script).
func (e *Enumerator) Path() []int {
	out := make([]int, len(e.path))
	for i, b := range e.path {
		out[i] = b.val
	}
	return out
}

type enumChooser struct{ e *Enumerator }

func (c enumChooser) Choose(_ Site, n int) int {
	e := c.e
	if n == 1 {
		return 0
	}
	if e.pos < len(e.path) {
		b := e.path[e.pos]
		if b.width != n {
			panic(&AssertionError{Msg: fmt.Sprintf("sim: nondeterministic world: choice %d had %d options, now %d", e.pos, b.width, n)})
		}
		e.pos++
		return b.val
	}
	if len(e.path) >= e.maxDepth {
		e.cut = true
		return 0
	}
	e.path = append(e.path, branch{0, n})
	e.pos++
	return 0
}

func (c enumChooser) Chance(site Site, p Prob) bool {
	if p.Num == 0 || p.Num >= p.Den {
		return p.Num != 0 // impossible or certain: nothing to explore
	}
	return c.Choose(site, 2) == 1
}
