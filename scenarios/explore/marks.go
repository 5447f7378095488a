package explore

import (
	"sort"

	"promotesim/scenarios/hazard"
	"promotesim/scenarios/swarm"
	"promotesim/shmem"
)

// Not every known mark is reachable in every run: a few mark a path only a
// hazard's wrong step takes, and a few mark paths of PolarDB 15's own code
// (the v15 profile's findings, docs/findings.md) that the -fixed profiles
// replace. The explorer reports those apart from the marks a run missed.

// hazardMark is a mark only a wrong ordering reaches.
type hazardMark struct {
	mark string
	// reached reports whether orderings o take the path.
	reached func(o shmem.Orderings) bool
	why     string
}

var hazardMarks = []hazardMark{
	{"startup/reset-without-waiting-reset", func(o shmem.Orderings) bool { return !o.WaitReset },
		"only hazard skip-wait-reset resets a BGW that is not in WAITING_RESET: PolarDB's startup waits for it " +
			"(polar_wait_logindex_bg_stop_replay), and the one way out of WAITING_RESET before the reset, " +
			"finding F1, is a violation in its own step"},
}

// fixedMarks are the marks of PolarDB 15's paths that the -fixed profiles
// switch off (shmem.Fidelity's zero value), with the switches that take
// the path (a fixed profile's faithful switches turn them back on).
var fixedMarks = []struct {
	mark, why string
	reached   func(f shmem.Fidelity) bool
}{
	{"postmaster/restart-after-crash", "Fidelity.RestartAfterCrash off: a crashed child takes the node down (finding F2)",
		func(f shmem.Fidelity) bool { return f.RestartAfterCrash }},
	{"postmaster/restart-after-kill-9", "Fidelity.RestartAfterCrash off: a crashed child takes the node down (finding F2)",
		func(f shmem.Fidelity) bool { return f.RestartAfterCrash }},
	{"startup/final-read-failed", "Fidelity.FinalReadEndsAtFailedRead off: the final read retries a failed read (finding F3)",
		func(f shmem.Fidelity) bool { return f.FinalReadEndsAtFailedRead }},
	{"startup/hot-standby-in-final-read", "Fidelity.HotStandbyInFinalRead off: hot standby is entered only from catch-up (finding F1)",
		func(f shmem.Fidelity) bool { return f.HotStandbyInFinalRead }},
	{"startup/prewarm-parallel-replaying", "Fidelity.HotStandbyInFinalRead off: no wake-up of the BGW in the final read (findings F1, F4)",
		func(f shmem.Fidelity) bool { return f.HotStandbyInFinalRead }},
	{"startup/waiting-reset-overwritten", "Fidelity.UncheckedBGWState and HotStandbyInFinalRead off: nothing overwrites WAITING_RESET (finding F1)",
		func(f shmem.Fidelity) bool { return f.UncheckedBGWState && f.HotStandbyInFinalRead }},
}

// UnreachableMarks returns the known marks a run with base b cannot
// reach, each with the reason.
func UnreachableMarks(b swarm.Base) map[string]string {
	out := map[string]string{}
	p := b.Profile
	if p == 0 {
		p = shmem.ProfileV15
	}
	o := shmem.OrderingsFor(p)
	if hz, err := hazard.Lookup(b.Hazard); err == nil && hz.Orderings != nil {
		hz.Orderings(&o)
	}
	for _, m := range hazardMarks {
		if !m.reached(o) {
			out[m.mark] = m.why
		}
	}
	f := shmem.FaithfulV15()
	if b.Fixed {
		c := shmem.Config{Orderings: shmem.FixedOrderingsFor(p)}
		if err := c.ApplyFaithful(b.Faithful); err == nil {
			f = c.Fidelity
		} else {
			f = shmem.Fidelity{}
		}
	}
	for _, m := range fixedMarks {
		if !m.reached(f) {
			out[m.mark] = m.why
		}
	}
	return out
}

// MissedMarks splits the known marks a run did not reach into those it
// could have reached (missed) and those it cannot (unreachable), both
// sorted.
func MissedMarks(b swarm.Base, reached []string) (missed, unreachable []string) {
	got := map[string]bool{} // looked up only
	for _, m := range reached {
		got[m] = true
	}
	excused := UnreachableMarks(b)
	for _, m := range knownMarks {
		switch {
		case got[m]:
		case excused[m] != "":
			unreachable = append(unreachable, m)
		default:
			missed = append(missed, m)
		}
	}
	sort.Strings(missed)
	sort.Strings(unreachable)
	return missed, unreachable
}
