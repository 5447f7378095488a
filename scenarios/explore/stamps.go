package explore

import (
	"slices"
	"sort"

	"promotesim/scenarios/script"
	"promotesim/sim"
)

// Step stamps, hashed by their order. The model stamps the step number
// into its state: a backend's request start (postmaster's backend.began),
// every entry of the clients' journal (Ack, ReadResult, ClientError,
// FuturePage, TwoPhaseEvent, LogicalSlotAck), the oracle's lost records
// and cuts, and the checkers' copies of ack steps (ackSteps, ackByXID).
// Nothing does arithmetic on a stamp: ReadsReflectAcked compares them with
// each other, CommitDurable compares one with the current step, and the
// rest only print them. So a state's future depends on the stamps' order
// (ties included) and on which equal the current step, never on their
// values, and every stamp taken later is at least the current step in any
// run. Hashing each stamp as its rank among the world's distinct stamps
// and the current step lets two runs that reach one state at different
// steps meet, soundly: equal ranks stay equal ranks after any step the
// two take alike. TestFingerprintCollisionsShareFutures and
// TestExhaustiveStatesIndependentOfOrder hold it to that.
//
// The ranks are among the stamps collectStamps gathers from where the
// model keeps them. A stamp field holding a value it did not gather (a new
// stamp's holder not added there) turns the whole fingerprint absolute:
// the step number and every gathered value are mixed in, which is what the
// fingerprint was before ranks, so a missed holder costs merges, not
// soundness. A stamp field missing from stampFields is hashed as a plain
// number: unsound, and the two tests above are what catch it.

// stampFields are the fields (Type.field) holding step stamps: a uint64,
// a slice of them, or a map whose values they are.
var stampFields = map[string]bool{ // looked up only
	"postmaster.Ack.Step":            true,
	"postmaster.ReadResult.Began":    true,
	"postmaster.ReadResult.Step":     true,
	"postmaster.ClientError.Step":    true,
	"postmaster.FuturePage.Step":     true,
	"postmaster.TwoPhaseEvent.Step":  true,
	"postmaster.LogicalSlotAck.Step": true,
	"postmaster.backend.began":       true,
	"oracle.LostRecord.Step":         true,
	"oracle.Cut.Step":                true,
	"check.Checks.ackSteps":          true,
	"check.Checks.ackByXID":          true,
}

// beganer is an actor that keeps a step stamp of its own (postmaster's
// backend: the step its request began).
type beganer interface{ Began() uint64 }

// collectStamps gathers the world's distinct stamps and its current step,
// sorted: the ranks stamp leaves hash as.
func (hs *stateHasher) collectStamps(r *script.Runner) {
	s := r.C.S
	st := append(hs.stamps[:0], s.StepNo())
	if j := r.C.Journal; j != nil {
		for i := range j.Acks {
			st = append(st, j.Acks[i].Step)
		}
		for i := range j.Reads {
			st = append(st, j.Reads[i].Began, j.Reads[i].Step)
		}
		for i := range j.Errors {
			st = append(st, j.Errors[i].Step)
		}
		for i := range j.FuturePages {
			st = append(st, j.FuturePages[i].Step)
		}
		for i := range j.TwoPhase {
			st = append(st, j.TwoPhase[i].Step)
		}
		for i := range j.LogicalSlots {
			st = append(st, j.LogicalSlots[i].Step)
		}
	}
	if r.K != nil && r.K.O != nil {
		for _, l := range r.K.O.Lost() {
			st = append(st, l.Step)
		}
		for _, c := range r.K.O.Cuts() {
			st = append(st, c.Step)
		}
	}
	for i := range s.NumActors() {
		if b, ok := s.Actor(sim.ActorID(i)).(beganer); ok {
			st = append(st, b.Began())
		}
	}
	slices.Sort(st)
	hs.stamps, hs.absolute = slices.Compact(st), false
}

// stampHash hashes stamp v as its rank, or as itself (and the fingerprint
// absolute) when collectStamps did not gather it.
func (hs *stateHasher) stampHash(v uint64) uint64 {
	i := sort.Search(len(hs.stamps), func(i int) bool { return hs.stamps[i] >= v })
	if i < len(hs.stamps) && hs.stamps[i] == v {
		return mix(41, uint64(i))
	}
	hs.absolute = true
	return mix(43, v)
}

// stampTail is what a fingerprint ends with: nothing more when every
// stamp was ranked, else the step and the gathered stamps' values.
func (hs *stateHasher) stampTail(h uint64) uint64 {
	if !hs.absolute {
		return mix(h, 47)
	}
	for _, v := range hs.stamps {
		h = mix(h, v)
	}
	return h
}
