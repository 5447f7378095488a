package sim

import (
	"fmt"
	"slices"
	"strings"
)

// A checker observes the world after a step and reports a violated claim as
// an error. Checkers never mutate the world: they are named as the claim they
// check (SingleWriter, ConsistentLSNDurable, ...).
//
// checkRun is one function the registry calls: a single checker (one) or a
// group of consecutive checkers run by one function (group), which saves a
// call per checker on every step.
type checkRun struct {
	first int // index in Checkers.names of the run's first checker
	n     int // how many checkers it runs
	one   func() error
	group func() (int, error)
}

// Checkers is the registry the scheduler runs after every step.
type Checkers struct {
	names []string // in running order
	runs  []checkRun
}

// Add registers a checker. Order of registration is order of running.
func (c *Checkers) Add(name string, fn func() error) {
	c.register(name)
	c.runs = append(c.runs, checkRun{first: len(c.names) - 1, n: 1, one: fn})
}

// AddGroup registers several checkers run by one function: fn runs them in
// the order of names, stops at the first that fails, and returns its index
// in names with the error (any index when there is none). It is Add of each
// name in turn, for checkers that run after every step and are cheap enough
// that a call each would cost as much as their checking.
func (c *Checkers) AddGroup(names []string, fn func() (int, error)) {
	if len(names) == 0 {
		Failf("sim: empty checker group")
	}
	first := len(c.names)
	for _, name := range names {
		c.register(name)
	}
	c.runs = append(c.runs, checkRun{first: first, n: len(names), group: fn})
}

// Rebind replaces the function of the group whose first checker is first
// (a copy of a world rebinds its checkers' closures to the copy's own
// state: a closure cannot be copied). It fails when there is no such group.
func (c *Checkers) Rebind(first string, fn func() (int, error)) {
	for i := range c.runs {
		if r := &c.runs[i]; r.group != nil && c.names[r.first] == first {
			r.group = fn
			return
		}
	}
	Failf("sim: no checker group starts with %s", first)
}

func (c *Checkers) register(name string) {
	if slices.Contains(c.names, name) {
		Failf("sim: checker %s registered twice", name)
	}
	c.names = append(c.names, name)
}

// Names lists registered checkers in running order.
func (c *Checkers) Names() []string { return slices.Clone(c.names) }

// Run runs every checker and returns the first failure.
func (c *Checkers) Run() (string, error) {
	for i := range c.runs {
		r := &c.runs[i]
		if r.one != nil {
			if err := r.one(); err != nil {
				return c.names[r.first], err
			}
			continue
		}
		if j, err := r.group(); err != nil {
			if j < 0 || j >= r.n {
				Failf("sim: checker group failed at %d of %d: %v", j, r.n, err)
			}
			return c.names[r.first+j], err
		}
	}
	return "", nil
}

// Violation reports a failed claim: which checker, at which step of which
// seed, why, and the tail of the trace that led there.
type Violation struct {
	Checker string
	Step    uint64
	Time    Time
	Seed    uint64
	Err     error
	Tail    []string
}

func (v *Violation) Error() string {
	return fmt.Sprintf("violation of %s at step %d (seed %d): %v", v.Checker, v.Step, v.Seed, v.Err)
}

func (v *Violation) Unwrap() error { return v.Err }

// Report renders the violation with its trace tail for a person to read.
func (v *Violation) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "VIOLATION %s\n  step %d, time %d, seed %d\n  %v\n", v.Checker, v.Step, v.Time, v.Seed, v.Err)
	if len(v.Tail) > 0 {
		b.WriteString("  trace tail:\n")
		for _, l := range v.Tail {
			b.WriteString("    ")
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
