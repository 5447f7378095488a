package sim

import (
	"fmt"
	"strings"
)

// A checker observes the world after a step and reports a violated claim as
// an error. Checkers never mutate the world: they are named as the claim they
// check (SingleWriter, ConsistentLSNDurable, ...).
type checker struct {
	name string
	fn   func() error
}

// Checkers is the registry the scheduler runs after every step.
type Checkers struct{ list []checker }

// Add registers a checker. Order of registration is order of running.
func (c *Checkers) Add(name string, fn func() error) {
	for _, k := range c.list {
		if k.name == name {
			Failf("sim: checker %s registered twice", name)
		}
	}
	c.list = append(c.list, checker{name, fn})
}

// Names lists registered checkers in running order.
func (c *Checkers) Names() []string {
	out := make([]string, len(c.list))
	for i, k := range c.list {
		out[i] = k.name
	}
	return out
}

// Run runs every checker and returns the first failure.
func (c *Checkers) Run() (string, error) {
	for _, k := range c.list {
		if err := k.fn(); err != nil {
			return k.name, err
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
