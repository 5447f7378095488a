package hazard

import (
	"fmt"
	"strings"

	"promotesim/shmem"
)

// Variants of the promote order (issue 14's ordering study, package
// scenarios/order) are hazards too, named by what they run, so every tool
// that takes a hazard name (swarm, explore with its control runs,
// counterexample files, replay -script, view -script) runs them unchanged:
//
//	order:<profile>:<startup sequence>[~without:<step>+<step>...]
//
// The startup sequence is shmem.Sequence's text (groups "." steps "+").
// The other steps can only be left out, each through the switch the
// catalogue's hazard of that name uses: OmitSteps.
const VariantPrefix = "order:"

// Omit-only steps: the operator's and the postmaster's steps and the two
// halves of polar_online_promote_data the catalogue switches off. The
// model runs the postmaster's P7, P8 and P10 as fixed states (postmaster.go
// pmPromoteWaitBackends, pmPromoteRemount: remountAndSignal runs P8 and P10
// in one step), so they are left out, never moved.
const (
	// StepStopPrimary [O1]: the operator stops the old primary first.
	StepStopPrimary = "stop-primary"
	// StepWaitBackends [P7]: the postmaster waits for every backend to exit.
	StepWaitBackends = "wait-backends"
	// StepRemount [P8]: the postmaster remounts shared storage read-write.
	StepRemount = "remount"
	// StepCopyClog [S17, polar_promote_clog]: the clog copy.
	StepCopyClog = "copy-clog"
	// StepReloadSlots [S17, polar_reload_replication_slots_from_shared_storage].
	StepReloadSlots = "reload-slots"
)

// OmitSteps lists the omit-only steps in promote order.
func OmitSteps() []string {
	return []string{StepStopPrimary, StepWaitBackends, StepRemount, StepCopyClog, StepReloadSlots}
}

// VariantName is the hazard name of a variant.
func VariantName(p shmem.Profile, seq shmem.Sequence, without []string) string {
	name := VariantPrefix + p.String() + ":" + seq.String()
	if len(without) > 0 {
		name += "~without:" + strings.Join(without, "+")
	}
	return name
}

// Variant resolves a variant's name into the hazard that runs it.
func Variant(name string) (Hazard, error) {
	rest, ok := strings.CutPrefix(name, VariantPrefix)
	prof, rest, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return Hazard{}, fmt.Errorf("variant %q: want %s<profile>:<sequence>[~without:<steps>]", name, VariantPrefix)
	}
	p, err := shmem.ParseProfile(prof)
	if err != nil {
		return Hazard{}, fmt.Errorf("variant %q: %w", name, err)
	}
	seqText, omitText, hasOmit := strings.Cut(rest, "~without:")
	seq, err := shmem.ParseSequence(seqText)
	if err != nil {
		return Hazard{}, fmt.Errorf("variant %q: %w", name, err)
	}
	h := Hazard{Name: name, Profile: p, Sequence: seq.String(),
		Right: "PolarDB's promote order (docs/promote-steps.md)", Wrong: "the order " + rest,
		Consequence: "what the ordering study (docs/orderings.md) finds"}
	var omit []string
	if hasOmit {
		omit = strings.Split(omitText, "+")
	}
	flags := map[string]bool{}
	for _, s := range omit {
		switch s {
		case StepStopPrimary:
			h.KeepPrimaryRunning = true
		case StepWaitBackends, StepRemount, StepCopyClog, StepReloadSlots:
			flags[s] = true
		default:
			return Hazard{}, fmt.Errorf("variant %q: unknown omitted step %q (known: %s)", name, s, strings.Join(OmitSteps(), ", "))
		}
	}
	h.Orderings = func(o *shmem.Orderings) {
		o.WaitBackends = o.WaitBackends && !flags[StepWaitBackends]
		o.Remount = o.Remount && !flags[StepRemount]
		o.CopyClog = o.CopyClog && !flags[StepCopyClog]
		o.ReloadSlots = o.ReloadSlots && !flags[StepReloadSlots]
	}
	return h, nil
}
