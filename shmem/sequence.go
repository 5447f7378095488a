package shmem

import (
	"fmt"
	"strings"
)

// The startup process's promote steps by name, in the vocabulary of
// docs/promote-steps.md §1.2 (the ids in brackets). A Sequence lists them in
// the order the startup process runs them; scenarios/order generates
// variants of PolarDB's order and the startup process consumes them
// (startup/sequence.go).
const (
	// StepFinalReplay [S5a–S7]: read the old primary's remaining WAL from
	// storage to its end (polar_xlog_recv_queue_pop_ahead's storage read).
	StepFinalReplay = "final-replay"
	// StepCheckEnd [S11]: polar_check_before_promote: PANIC if a valid
	// record follows the end.
	StepCheckEnd = "check-end"
	// StepRestartpoint [S12]: polar_request_last_restartpoint: the old
	// primary's last checkpoint becomes the local restartpoint.
	StepRestartpoint = "restartpoint"
	// StepWaitReset [S13]: polar_wait_logindex_bg_stop_replay: wait until
	// the BGW is in POLAR_BG_WAITING_RESET (a wait point).
	StepWaitReset = "wait-reset"
	// StepOpenWAL [S15]: re-read the last record, WAL insertion starts at
	// its end (endOfLog).
	StepOpenWAL = "open-wal"
	// StepPromoteData [S17]: polar_online_promote_data: clog copy, slot
	// reload, WAL meta queue reset, LogIndex promoted info.
	StepPromoteData = "promote-data"
	// StepEndOfRecovery [S19]: CreateEndOfRecoveryRecord.
	StepEndOfRecovery = "end-of-recovery"
	// StepInProduction [S21–S22]: ControlFile->state = DB_IN_PRODUCTION,
	// the local control file.
	StepInProduction = "in-production"
	// StepNodeType [S23]: polar_set_node_type(POLAR_PRIMARY).
	StepNodeType = "node-type"
	// StepResetBGW [S24]: polar_reset_bg_replayed_lsn: the BGW enters
	// ONLINE_PROMOTE.
	StepResetBGW = "reset-bgw"
	// StepRecoveryDone [S25–S26]: SharedRecoveryState = DONE, the shared
	// control file.
	StepRecoveryDone = "recovery-done"
)

// StartupSteps lists every startup step name, in V15's order.
func StartupSteps() []string {
	return []string{StepFinalReplay, StepCheckEnd, StepRestartpoint, StepWaitReset, StepOpenWAL, StepPromoteData,
		StepEndOfRecovery, StepInProduction, StepNodeType, StepResetBGW, StepRecoveryDone}
}

// Sequence is the startup process's promote steps in order, grouped into
// atomic steps of the simulation: the steps of one group run in one
// critical section (PolarDB's ControlFileLock window is one group unless
// Fidelity.ControlWindowSteps splits it), the groups one scheduler step
// or more each. A step left out is not run.
type Sequence [][]string

// String is the text form ParseSequence reads: groups separated by ".",
// steps of a group by "+".
func (s Sequence) String() string {
	parts := make([]string, len(s))
	for i, g := range s {
		parts[i] = strings.Join(g, "+")
	}
	return strings.Join(parts, ".")
}

// Has reports whether the sequence runs step name.
func (s Sequence) Has(name string) bool {
	for _, g := range s {
		for _, n := range g {
			if n == name {
				return true
			}
		}
	}
	return false
}

// ParseSequence reads a Sequence's text form, rejecting unknown and
// repeated steps and empty groups.
func ParseSequence(text string) (Sequence, error) {
	known := map[string]bool{}
	for _, n := range StartupSteps() {
		known[n] = true
	}
	seen := map[string]bool{}
	var seq Sequence
	for _, g := range strings.Split(text, ".") {
		var group []string
		for _, n := range strings.Split(g, "+") {
			switch {
			case n == "":
				return nil, fmt.Errorf("shmem: sequence %q: empty step or group", text)
			case !known[n]:
				return nil, fmt.Errorf("shmem: sequence %q: unknown step %q (known: %s)", text, n, strings.Join(StartupSteps(), ", "))
			case seen[n]:
				return nil, fmt.Errorf("shmem: sequence %q: step %q twice", text, n)
			}
			seen[n] = true
			group = append(group, n)
		}
		if len(group) > 1 && (contains(group, StepFinalReplay) || contains(group, StepWaitReset)) {
			// A group is one critical section: a read loop and a wait
			// each take scheduler steps of their own.
			return nil, fmt.Errorf("shmem: sequence %q: %s and %s stand alone in their group", text, StepFinalReplay, StepWaitReset)
		}
		seq = append(seq, group)
	}
	return seq, nil
}

// DefaultSequence is the startup order the hard-wired promote path runs
// for a profile and fidelity: running it as a Sequence gives the same
// trace, byte for byte (startup's sequence tests).
func DefaultSequence(p Profile, f Fidelity) Sequence {
	var seq Sequence
	if f.CheckEndBeforeRestartpoint {
		seq = Sequence{{StepFinalReplay}, {StepCheckEnd}, {StepRestartpoint}, {StepWaitReset}, {StepOpenWAL}}
	} else {
		seq = Sequence{{StepFinalReplay}, {StepRestartpoint}, {StepWaitReset}, {StepCheckEnd, StepOpenWAL}}
	}
	seq = append(seq, []string{StepPromoteData}, []string{StepEndOfRecovery})
	switch {
	case p == ProfileV11:
		seq = append(seq, []string{StepInProduction, StepNodeType, StepRecoveryDone}, []string{StepResetBGW})
	case f.ControlWindowSteps:
		seq = append(seq, []string{StepInProduction}, []string{StepNodeType}, []string{StepResetBGW}, []string{StepRecoveryDone})
	default:
		seq = append(seq, []string{StepInProduction, StepNodeType, StepResetBGW, StepRecoveryDone})
	}
	return seq
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
