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

// Observe registers fn to be called with every report from now on.
func (s *Scheduler) Observe(fn func(r any)) { s.observers = append(s.observers, fn) }

// Report hands r to every observer (operator procedures between steps
// report through the scheduler, processes through their Ctx).
func (s *Scheduler) Report(r any) {
	for _, fn := range s.observers {
		fn(r)
	}
}

// Report hands r to the run's observers.
func (c *Ctx) Report(r any) { c.s.Report(r) }
