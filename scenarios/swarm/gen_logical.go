package swarm

import (
	"promotesim/scenarios/script"
)

// logicalSlotNames are the logical slots the planner creates and consumes.
var logicalSlotNames = []string{"l1", "l2"}

// genLogical (ClassLogical) creates a logical slot on the node clients
// write to (pg_create_logical_replication_slot) or consumes one's changes
// (pg_logical_slot_get_changes), PolarDB's test 006: the positions a
// client was told must survive every promote and crash
// (LogicalSlotsSurvive).
func genLogical(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassLogical == 0 {
		return
	}
	target := w.writeTarget(v.p, v.writer)
	if target == nil {
		return
	}
	h := target.Cfg.Host
	add(4, func() []script.Command {
		name := logicalSlotNames[w.plan.Intn(len(logicalSlotNames))]
		verb := "logical-get-changes"
		if _, ok := target.LogicalSlot(name); !ok {
			verb = "create-logical-slot"
		}
		return one(script.LogicalSlotCmd{Verb: verb, Node: h, Name: name})
	})
}
