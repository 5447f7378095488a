package order

import (
	"promotesim/scenarios/hazard"
	"promotesim/shmem"
)

// Kind says how the study may vary a step.
type Kind uint8

const (
	// Movable: a startup step the sequence runs (left out, swapped, moved).
	Movable Kind = iota
	// OmitOnly: a step with a switch that leaves it out; the model runs it
	// at a fixed place.
	OmitOnly
	// Fixed: listed for the picture, not varied (Why says why).
	Fixed
)

// Step is one named step of the promote sequence.
type Step struct {
	// ID is docs/promote-steps.md's step id (P.., S.., G.., O1).
	ID   string
	Name string
	// Proc is the process that runs it.
	Proc string
	// Code is the PolarDB file:function:line per profile (file
	// abbreviations of docs/promote-steps.md).
	V15, V11 string
	Kind     Kind
	// Needs are values the step reads that another step makes; Makes the
	// values it makes (the "cannot run" rule).
	Needs, Makes []string
	// Why a Fixed step is not varied.
	Why string
}

// Values the dependency rule knows.
const (
	// valEnd: the end of WAL E (final-replay; without it, the queue's end
	// at the trigger).
	valEnd = "the end of WAL (E)"
	// valWAL: WAL open for insertion at E.
	valWAL = "WAL open for insertion"
)

// Steps is the whole promote sequence in V15's order.
func Steps() []Step {
	return []Step{
		{ID: "O1", Name: hazard.StepStopPrimary, Proc: "operator", Kind: OmitOnly,
			V15: "operator: stop the old primary, then pg_ctl promote (PolarDB's docs; no code checks it)", V11: "same"},
		{ID: "P5", Name: "terminate-backends", Proc: "postmaster", Kind: Fixed,
			V15: "PM:polar_postmaster_receive_promote:7169–7172", V11: "PM:polar_postmaster_online_promote:8070–8088",
			Why: "runs with P4 (refuse connections) in the postmaster's one promote-begin step"},
		{ID: "P7", Name: hazard.StepWaitBackends, Proc: "postmaster", Kind: OmitOnly,
			V15: "PM:PostmasterStateMachine:4454–4456", V11: "absent (V11 remounts at once); v11-fixed waits, as V15 does (docs/findings.md V11-1)"},
		{ID: "P8", Name: hazard.StepRemount, Proc: "postmaster", Kind: OmitOnly,
			V15: "PM:polar_postmaster_online_promote:7192–7206", V11: "PM:polar_postmaster_online_promote:8089 (polar_remount)"},
		{ID: "P10", Name: "signal", Proc: "postmaster", Kind: Fixed,
			V15: "PM:polar_postmaster_online_promote:7213–7223", V11: "PM:polar_postmaster_online_promote:8090–8100",
			Why: "the trigger of every startup and BGW step; the model runs it in one step with P8"},
		{ID: "G4", Name: "bgw-waiting-reset", Proc: "BGW", Kind: Fixed,
			V15: "BW:bgworker_handle_online_promote:78–85", V11: "BW:279–312",
			Why: "the BGW's answer to SIGUSR2; its place against startup is set by S13's wait"},
		{ID: "S5", Name: shmem.StepFinalReplay, Proc: "startup", Kind: Movable, Makes: []string{valEnd},
			V15: "QM:polar_xlog_recv_queue_pop_ahead:1515–1522", V11: "XL:polar_xlog_recv_queue_pop (queue manager)"},
		{ID: "S11", Name: shmem.StepCheckEnd, Proc: "startup", Kind: Movable, Needs: []string{valEnd},
			V15: "XR:polar_check_before_promote:5282–5297", V11: "absent in V11 (the model's v11 profile checks)"},
		{ID: "S12", Name: shmem.StepRestartpoint, Proc: "startup", Kind: Movable,
			V15: "XL:polar_request_last_restartpoint:9962–9976 (XR:1547)", V11: "XL:StartupXLOG:8781–8795"},
		{ID: "S13", Name: shmem.StepWaitReset, Proc: "startup", Kind: Movable,
			V15: "LR:polar_wait_logindex_bg_stop_replay:2713–2727 (XR:1554)", V11: "XL:StartupXLOG:8781–8795, LR:2514"},
		{ID: "S15", Name: shmem.StepOpenWAL, Proc: "startup", Kind: Movable, Needs: []string{valEnd}, Makes: []string{valWAL},
			V15: "XR:FinishWalRecovery:1577–1579", V11: "XL:StartupXLOG (EndOfLog)"},
		{ID: "S17", Name: shmem.StepPromoteData, Proc: "startup", Kind: Movable, Needs: []string{valEnd},
			V15: "LR:polar_online_promote_data:2648–2688 (XL:5841)", V11: "LR:polar_online_promote_data:2455–2488 (XL:9276)"},
		{ID: "S17a", Name: hazard.StepCopyClog, Proc: "startup", Kind: OmitOnly,
			V15: "LR:polar_online_promote_data (polar_promote_clog)", V11: "LR:polar_online_promote_data"},
		{ID: "S17b", Name: hazard.StepReloadSlots, Proc: "startup", Kind: OmitOnly,
			V15: "SL:polar_reload_replication_slots_from_shared_storage:2170", V11: "LR:polar_online_promote_data"},
		{ID: "S19", Name: shmem.StepEndOfRecovery, Proc: "startup", Kind: Movable, Needs: []string{valWAL},
			V15: "XL:PerformRecoveryXLogAction:6094–6127 (CreateEndOfRecoveryRecord)", V11: "XL:StartupXLOG (CreateEndOfRecoveryRecord)"},
		{ID: "S21", Name: shmem.StepInProduction, Proc: "startup", Kind: Movable,
			V15: "XL:StartupXLOG:5907–5937", V11: "XL:StartupXLOG:9344–9360"},
		{ID: "S23", Name: shmem.StepNodeType, Proc: "startup", Kind: Movable,
			V15: "XL:StartupXLOG:5939 (polar_set_node_type)", V11: "XL:StartupXLOG:9362 (POLAR_MASTER)"},
		{ID: "S24", Name: shmem.StepResetBGW, Proc: "startup", Kind: Movable, Needs: []string{valEnd},
			V15: "XL:5949, LR:polar_reset_bg_replayed_lsn:2576–2629", V11: "XL:9378–9386, LR:polar_reset_bg_replayed_lsn:2420–2452"},
		{ID: "S25", Name: shmem.StepRecoveryDone, Proc: "startup", Kind: Movable,
			V15: "XL:StartupXLOG:5955–5960", V11: "XL:StartupXLOG:9366–9370"},
		{ID: "G6–G11", Name: "bgw-online-promote", Proc: "BGW", Kind: Fixed,
			V15: "LR:polar_logindex_bg_online_promote:1895–1963", V11: "LR:polar_logindex_bg_online_promote",
			Why: "the BGW's replay loop; it starts on S24's state and ends on its own"},
	}
}

// stepByName finds a step of the table.
func stepByName(name string) (Step, bool) {
	for _, s := range Steps() {
		if s.Name == name {
			return s, true
		}
	}
	return Step{}, false
}

// Profiles are the profiles the study runs.
func Profiles() []shmem.Profile { return []shmem.Profile{shmem.ProfileV15, shmem.ProfileV11} }

// Default is a profile's order as the study runs it, on the fixed model
// (shmem.FixedOrderingsFor, the zero shmem.Fidelity): its startup sequence
// and the omit-only steps it has. Both profiles wait for the backends (P7):
// v11-fixed takes V15's wait (docs/findings.md V11-1), so V11's own order,
// without it, is the variant omit:wait-backends.
func Default(p shmem.Profile) (shmem.Sequence, []string) {
	omit := []string{hazard.StepStopPrimary, hazard.StepWaitBackends, hazard.StepRemount, hazard.StepCopyClog, hazard.StepReloadSlots}
	return shmem.DefaultSequence(p, shmem.Fidelity{}), omit
}
