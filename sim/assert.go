package sim

import "fmt"

// AssertionError is the panic value of a failed Assertf: a programmer error in
// the model, never a condition of the modelled world (those are Go errors, and a
// PostgreSQL FATAL/PANIC is an event in the simulation).
type AssertionError struct{ Msg string }

func (e *AssertionError) Error() string { return "assertion failed: " + e.Msg }

// Assertf panics with an *AssertionError when cond is false. Assertions are
// always on: the simulation is only as trustworthy as its dense self-checks.
func Assertf(cond bool, format string, args ...any) {
	if !cond {
		panic(&AssertionError{Msg: fmt.Sprintf(format, args...)})
	}
}

// Failf panics with an *AssertionError unconditionally. Hot paths write
// `if !ok { sim.Failf(...) }` instead of Assertf, because Assertf's variadic
// arguments are boxed (and allocate) even when the assertion holds.
func Failf(format string, args ...any) {
	panic(&AssertionError{Msg: fmt.Sprintf(format, args...)})
}
