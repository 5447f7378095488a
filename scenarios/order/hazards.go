package order

import "promotesim/shmem"

// HazardVariant pairs a hazard of the catalogue with the variant it is.
type HazardVariant struct {
	Hazard, Variant string
	// Exact: the variant runs the same steps with the same events, so the
	// traces are equal byte for byte; otherwise the hard-wired hazard
	// logs its switch (skip-wait-reset) and only the verdicts agree.
	Exact bool
}

// HazardVariants maps the catalogue's ordering hazards to variants.
func HazardVariants() []HazardVariant {
	return []HazardVariant{
		{"promote-while-primary-writes", "omit:stop-primary", true},
		{"no-backend-wait", "omit:wait-backends", true},
		{"skip-remount", "omit:remount", true},
		{"skip-final-replay", "omit:final-replay", true},
		{"skip-wait-reset", "omit:wait-reset", false},
		{"reset-after-recovery-done", "move:reset-bgw:after:recovery-done", true},
		{"skip-clog-copy", "omit:copy-clog", true},
		{"skip-slot-reload", "omit:reload-slots", true},
	}
}

// HarmlessVariant is a variant known to hold: the two stores of the
// ControlFileLock window swapped inside their one critical section (no
// process can run between them), in StartupXLOG's V15 order.
const HarmlessVariant = "swap:in-production:node-type"

// NotOrderings are the catalogue's hazards that no order of the steps
// gives, and why: they change a value or a guard, not a step's place.
func NotOrderings() map[string]string {
	return map[string]string{
		"replay-from-old-consistent": "a value: where ONLINE_PROMOTE replay starts (polar_reset_bg_replayed_lsn's start LSN), not when the reset runs",
		"insert-lsn-during-promote":  "a value: the oldest LSN a buffer dirtied in ONLINE_PROMOTE takes (polar_fake_oldest_lsn)",
		"checkpoint-during-waiting-reset": "a guard: the checkpointer's WAITING_RESET check (CreateCheckPoint, XL:6696), " +
			"a condition of another process, not a step of the sequence",
		"trigger-file-promote": "an entry point: the operator's trigger file instead of pg_ctl promote, so P5–P10 never run " +
			"and the BGW is never signalled",
		"logindex-off-promote": "a configuration: LogIndex off and the model's refusal switched off",
		"skip-twophase-checkpoint": "a value: what a checkpoint writes (no two-phase state files, CheckPointTwoPhase), " +
			"in the checkpointer, not a step of the promote sequence",
		"keep-aborted-contrecord": "a value: whether a replica's end of WAL keeps an aborted contrecord (ReadRecord's " +
			"abortedRecPtr), which decides where the promote opens WAL, not when",
		"replay-keeps-reused-page": "a value: how LogIndex replay applies a BKPBLOCK_WILL_INIT record to a valid buffer, " +
			"in the BGW and its workers, not a step of the promote sequence",
	}
}

// Find looks a variant of profile p up by ID.
func Find(p shmem.Profile, id string) (Variant, bool) {
	for _, v := range Generate(p) {
		if v.ID == id {
			return v, true
		}
	}
	return Variant{}, false
}
