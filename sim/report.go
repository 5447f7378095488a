package sim

// Reports are facts the model states for observers outside it: a process
// exited, a page was written, a published value was not moved back. They
// are how a checker or a test learns what happened inside a step without
// the model keeping a record for it: the model reports, the observer keeps
// whatever history it needs (the model does, the checkers judge).
//
// A report is neither written to the trace nor folded into its hash, so
// adding one, or observing it, leaves every trace byte for byte. Observers
// run synchronously inside the reporting step, in the order they were
// registered, and may read the world as it is at that moment; like
// checkers, they must change nothing a process can see.

// Reporter is what a report goes through: the Ctx of the step that makes
// it, or the Scheduler for an operator procedure between steps. Code that
// may run in either takes a Reporter.
type Reporter interface{ Report(r any) }

// Observer receives reports. It is an interface, not a func, so an
// observer is a value of the world like any other: a deep copy of the
// world (scenarios/explore's snapshots) copies it and its registration
// points at the copy's observer, where a closure would still reach the
// original's.
type Observer interface{ Observe(r any) }

// Observe registers o to be given every report from now on.
func (s *Scheduler) Observe(o Observer) { s.observers = append(s.observers, o) }

// Report hands r to every observer (operator procedures between steps
// report through the scheduler, processes through their Ctx).
func (s *Scheduler) Report(r any) {
	for _, o := range s.observers {
		o.Observe(r)
	}
}

// Report hands r to the run's observers.
func (c *Ctx) Report(r any) { c.s.Report(r) }
