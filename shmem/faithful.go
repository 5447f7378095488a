package shmem

import (
	"fmt"
	"strings"
)

// The faithful switches undo one correction of a fixed profile each: a
// fixed node's configuration with a switch applied does that one point as
// PolarDB 15's code does, and every other point the model's way. With all
// of them applied, v15-fixed is v15 (TestFaithfulSwitchesMakeV15). They are
// how a researcher hunts a behaviour of PolarDB's that its other findings
// mask: under profile v15 a world usually ends at the first of F1 and F2
// (docs/findings.md) long before it could reach a rarer one, so F7 took a
// soak of a fixed profile to find; v15-fixed with one switch is PolarDB's
// code in that one place only. The cluster line's faithful= names them
// (scenarios/cluster), and explore's -faithful.

// faithfulSwitch is one switch: its name, the correction it undoes, and
// the switches it cannot go without (needs), with why: a point of
// PolarDB's that only works beside another of its points, and beside the
// model's correction of that other would reach a state neither reaches.
type faithfulSwitch struct {
	name  string
	set   func(c *Config)
	needs []string
	why   string
}

// faithfulSwitches are the switches, in the order a canonical list names
// them: the ten Fidelity points (issue 10), then the two orderings fixed
// profiles take that no PolarDB version has (FixedOrderingsFor).
var faithfulSwitches = []faithfulSwitch{
	{name: "unchecked-bgw-state", set: func(c *Config) { c.Fidelity.UncheckedBGWState = true }},
	{name: "hot-standby-in-final-read", set: func(c *Config) { c.Fidelity.HotStandbyInFinalRead = true },
		needs: []string{"unchecked-bgw-state"}, why: "the wake-up writes the BGW state whatever it is, as polar_set_bg_redo_state does; " +
			"the model's checked BGW asserts its transitions (WakeupBGReplay on a checked BGW)"},
	{name: "promote-one-shot", set: func(c *Config) { c.Fidelity.PromoteOneShot = true }},
	{name: "restart-after-crash", set: func(c *Config) { c.Fidelity.RestartAfterCrash = true }},
	{name: "force-checkpoint-after-promote", set: func(c *Config) { c.Fidelity.ForceCheckpointAfterPromote = true }},
	{name: "check-end-before-restartpoint", set: func(c *Config) { c.Fidelity.CheckEndBeforeRestartpoint = true }},
	{name: "final-read-ends-at-failed-read", set: func(c *Config) { c.Fidelity.FinalReadEndsAtFailedRead = true }},
	{name: "control-window-steps", set: func(c *Config) { c.Fidelity.ControlWindowSteps = true }},
	{name: "promote-replay-from-consistent", set: func(c *Config) { c.Fidelity.PromoteReplayFromConsistent = true },
		needs: []string{"hot-standby-in-final-read"}, why: "polar_reset_bg_replayed_lsn PANICs on an invalid bg_replayed_lsn, which PolarDB's " +
			"final read sets when it reaches hot standby; with hot standby only from catch-up, a replica promoted before " +
			"it PANICs"},
	{name: "twophase-file-left-on-write-error", set: func(c *Config) { c.Fidelity.TwoPhaseFileLeftOnWriteError = true }},
	// polar_online_promote_evict_buffer keeps an outdated buffer whose page
	// LSN is at or above the redo (F5's proposed fix evicts it too).
	{name: "reset-keeps-outdated-at-redo", set: func(c *Config) { c.Orderings.EvictAllOutdated = false }},
	// The promote writes no state file on shared storage for a prepared
	// transaction below the redo it adopts (F7's proposed fix writes them).
	{name: "promote-writes-no-twophase-files", set: func(c *Config) { c.Orderings.PromoteTwoPhaseFiles = false }},
}

// FaithfulNames lists every faithful switch, in canonical order.
func FaithfulNames() []string {
	out := make([]string, len(faithfulSwitches))
	for i, s := range faithfulSwitches {
		out[i] = s.name
	}
	return out
}

// ParseFaithful reads a comma-separated list of switch names and returns
// it in canonical order (the switches' own), each once; "" is no switch.
func ParseFaithful(list string) (string, error) {
	if list == "" {
		return "", nil
	}
	on := map[string]bool{} // looked up only
	for _, name := range strings.Split(list, ",") {
		if !isFaithfulName(name) {
			return "", fmt.Errorf("faithful switch %q: want one of %s", name, strings.Join(FaithfulNames(), ", "))
		}
		if on[name] {
			return "", fmt.Errorf("faithful switch %q named twice", name)
		}
		on[name] = true
	}
	var out []string
	for _, s := range faithfulSwitches {
		if !on[s.name] {
			continue
		}
		for _, need := range s.needs {
			if !on[need] {
				return "", fmt.Errorf("faithful switch %q needs %q too: %s", s.name, need, s.why)
			}
		}
		out = append(out, s.name)
	}
	return strings.Join(out, ","), nil
}

func isFaithfulName(name string) bool {
	for _, s := range faithfulSwitches {
		if s.name == name {
			return true
		}
	}
	return false
}

// ApplyFaithful applies the switches of a list ParseFaithful accepts to c;
// an unknown name is an error and changes nothing.
func (c *Config) ApplyFaithful(list string) error {
	canon, err := ParseFaithful(list)
	if err != nil {
		return err
	}
	if canon == "" {
		return nil
	}
	for _, name := range strings.Split(canon, ",") {
		for _, s := range faithfulSwitches {
			if s.name == name {
				s.set(c)
			}
		}
	}
	return nil
}
