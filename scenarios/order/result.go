package order

import (
	"slices"
	"strings"

	"promotesim/scenarios/hazard"
)

// Class is a variant's verdict.
type Class string

const (
	// Breaks: a checker fired on a seed that holds with PolarDB's order.
	Breaks Class = "breaks"
	// Holds: the budget ran out with no such seed.
	Holds Class = "holds"
	// CannotRun: the variant's steps need values a later step makes.
	CannotRun Class = "cannot run"
)

// Result is one variant run under one scheduler.
type Result struct {
	Variant Variant `json:"-"`
	ID      string  `json:"id"`
	Profile string  `json:"profile"`
	Hazard  string  `json:"hazard"`
	Class   Class   `json:"class"`
	Reason  string  `json:"reason,omitempty"`
	// Sched is the scheduler (sim strategy) the worlds ran under.
	Sched string `json:"sched"`
	// Checker and Seed: the lowest failing seed and the claim it broke;
	// SeedsToDetection counts the seeds run up to it.
	Checker          string `json:"checker,omitempty"`
	Seed             uint64 `json:"seed,omitempty"`
	SeedsToDetection uint64 `json:"seeds_to_detection,omitempty"`
	// DetectNanos is the wall time to detection (never in the report).
	DetectNanos int64 `json:"time_to_detection_ns,omitempty"`
	// Worlds, Steps: the budget spent; Background: failing seeds that fail
	// the same way in PolarDB's order (not detections). The exhaustive
	// check's SeedsToDetection is the runs it took to its first failure.
	Worlds     uint64 `json:"worlds"`
	Steps      uint64 `json:"steps"`
	Background uint64 `json:"background"`
	// Marks are the coverage marks the worlds reached.
	Marks []string `json:"marks,omitempty"`
	// Message is the violation's error (before shrinking).
	Message string `json:"message,omitempty"`
	// Attributed names a step of the profile's own order the break is
	// PolarDB's own failure of (Attribute), "" when the variant is to blame.
	Attributed string `json:"attributed,omitempty"`
	// Counterexample is the shrunk script's path ("" when none).
	Counterexample string `json:"counterexample,omitempty"`
	ShrinkNote     string `json:"shrink_note,omitempty"`
	// States counts the distinct states the exhaustive check stored (its
	// budget; Worlds then counts its runs, Steps its transitions).
	States int `json:"states,omitempty"`
	// PerSched holds, in a combined result (Combine), the variant's
	// result under each scheduler; its own fields are the verdict's.
	PerSched []Result `json:"-"`
}

// NewResult starts a variant's result (cannot run ones are final).
func NewResult(v Variant, sched string) Result {
	r := Result{Variant: v, ID: v.ID, Profile: v.Profile.String(), Sched: sched}
	if v.CannotRun != "" {
		r.Class, r.Reason = CannotRun, v.CannotRun
		return r
	}
	r.Hazard = v.Name()
	return r
}

// Plan reports whether a variant changes the operator's plan (then a
// control run cannot tell its failures from background ones, as for the
// catalogue's plan hazards).
func (v Variant) Plan() bool { return slices.Contains(v.Without, hazard.StepStopPrimary) }

// backendRace is the BGW's assertion when a backend still replays from
// below the reset (polar_logindex_bg_dispatch's POLAR_ASSERT_PANIC): the
// failure of an order without the backend wait (hazard no-backend-wait).
const backendRace = "(a backend replays from"

// Attribute blames a break on the profile's own order when the profile
// lacks the step whose absence produces exactly that failure: an order
// without the backend wait (P7) has its own backend race, so a variant
// that only shifts its schedule can expose the race on a seed where the
// order happened to miss it. Such a break says nothing about the
// variant's order. Neither fixed profile lacks P7 now (v11-fixed took
// V15's wait, docs/findings.md V11-1), so nothing is attributed; the rule
// stays for a profile whose order lacks it.
func Attribute(r *Result) {
	_, omits := Default(r.Variant.Profile)
	if r.Class == Breaks && !slices.Contains(omits, hazard.StepWaitBackends) && strings.Contains(r.Message, backendRace) {
		r.Attributed = hazard.StepWaitBackends
	}
}

// The schedulers a variant runs under: the swarm's three seeded
// strategies (sim.ParseStrategy, at their default parameters) and the
// exhaustive check of the small world (explore.CheckExhaustive), in the
// report's column order.
const (
	SchedUniform    = "uniform"
	SchedPCT        = "pct"
	SchedPreempt    = "preempt"
	SchedExhaustive = "exhaustive"
)

// Scheds lists the schedulers in the report's order.
func Scheds() []string { return []string{SchedUniform, SchedPCT, SchedPreempt, SchedExhaustive} }

// Combine merges the results of each variant under every scheduler into
// one, in the order the variants first appear: it breaks if any scheduler
// found a break of the variant's own (the first such scheduler's verdict
// is the variant's; a break that is only the profile's own comes after),
// holds if none did and one ran it, and cannot run otherwise. The budget
// spent (the seeded schedulers' worlds and steps, the exhaustive check's
// states) and the marks are summed over the schedulers; PerSched keeps each
// scheduler's own result for the report's columns.
func Combine(results []Result) []Result {
	var out []Result
	at := map[string]int{}
	for _, r := range results {
		k := r.Variant.key()
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			c := r
			c.PerSched, c.Sched, c.Marks = nil, "", nil
			c.Worlds, c.Steps, c.Background, c.States = 0, 0, 0, 0
			out = append(out, c)
			i = len(out) - 1
		}
		merge(&out[i], r)
	}
	return out
}

// rank orders verdicts for Combine: the variant's own break over the
// profile's own, over holds, over cannot run.
func rank(r Result) int {
	switch {
	case r.Class == Breaks && r.Attributed == "":
		return 3
	case r.Class == Breaks:
		return 2
	case r.Class == Holds:
		return 1
	}
	return 0
}

func merge(c *Result, r Result) {
	c.PerSched = append(c.PerSched, r)
	// The exhaustive check's runs and transitions are not seeded worlds:
	// its budget is its states.
	if r.Sched != SchedExhaustive {
		c.Worlds, c.Steps = c.Worlds+r.Worlds, c.Steps+r.Steps
	}
	c.Background, c.States = c.Background+r.Background, c.States+r.States
	for _, m := range r.Marks {
		if !slices.Contains(c.Marks, m) {
			c.Marks = append(c.Marks, m)
		}
	}
	slices.Sort(c.Marks)
	if rank(r) > rank(*c) || len(c.PerSched) == 1 {
		keep := c.PerSched
		w, s, b, st, marks := c.Worlds, c.Steps, c.Background, c.States, c.Marks
		*c = r
		c.PerSched, c.Worlds, c.Steps, c.Background, c.States, c.Marks = keep, w, s, b, st, marks
	}
}

// Of returns the result of scheduler sched among a combined result's
// (ok false when it did not run under it).
func (r Result) Of(sched string) (Result, bool) {
	for _, x := range r.PerSched {
		if x.Sched == sched {
			return x, true
		}
	}
	return Result{}, false
}
