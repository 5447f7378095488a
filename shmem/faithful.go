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

// faithfulSwitch is one switch: its name and the correction it undoes.
type faithfulSwitch struct {
	name string
	set  func(c *Config)
}

// faithfulSwitches are the switches, in the order a canonical list names
// them: the ten Fidelity points (issue 10), then the two orderings fixed
// profiles take that no PolarDB version has (FixedOrderingsFor).
var faithfulSwitches = []faithfulSwitch{
	{"unchecked-bgw-state", func(c *Config) { c.Fidelity.UncheckedBGWState = true }},
	{"hot-standby-in-final-read", func(c *Config) { c.Fidelity.HotStandbyInFinalRead = true }},
	{"promote-one-shot", func(c *Config) { c.Fidelity.PromoteOneShot = true }},
	{"restart-after-crash", func(c *Config) { c.Fidelity.RestartAfterCrash = true }},
	{"force-checkpoint-after-promote", func(c *Config) { c.Fidelity.ForceCheckpointAfterPromote = true }},
	{"check-end-before-restartpoint", func(c *Config) { c.Fidelity.CheckEndBeforeRestartpoint = true }},
	{"final-read-ends-at-failed-read", func(c *Config) { c.Fidelity.FinalReadEndsAtFailedRead = true }},
	{"control-window-steps", func(c *Config) { c.Fidelity.ControlWindowSteps = true }},
	{"promote-replay-from-consistent", func(c *Config) { c.Fidelity.PromoteReplayFromConsistent = true }},
	{"twophase-file-left-on-write-error", func(c *Config) { c.Fidelity.TwoPhaseFileLeftOnWriteError = true }},
	// polar_online_promote_evict_buffer keeps an outdated buffer whose page
	// LSN is at or above the redo (F5's proposed fix evicts it too).
	{"reset-keeps-outdated-at-redo", func(c *Config) { c.Orderings.EvictAllOutdated = false }},
	// The promote writes no state file on shared storage for a prepared
	// transaction below the redo it adopts (F7's proposed fix writes them).
	{"promote-writes-no-twophase-files", func(c *Config) { c.Orderings.PromoteTwoPhaseFiles = false }},
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
		if on[s.name] {
			out = append(out, s.name)
		}
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
