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
	// the same way in PolarDB's order (not detections).
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
