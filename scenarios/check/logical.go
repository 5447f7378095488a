package check

import (
	"fmt"

	"promotesim/shmem"
)

// logicalSlotsSurvive checks LogicalSlotsSurvive: the read-write primary
// holding the writer role has every logical slot a client was told of,
// with restart_lsn and confirmed_flush at or past the positions last
// acknowledged (they were saved to shared storage before the client was
// told, so promotes and crashes must keep them). Past them is allowed: a
// get_changes whose save failed moved the slot in memory and told the
// client nothing, and a checkpoint may save that later; a later call that
// found the slot so moved saved nothing and is no acknowledgement (the
// script runner journals only calls that saved). Incremental: it looks again only when the
// journal's acknowledgements, the writer instance or its slot list moved.
func (k *Checks) logicalSlotsSurvive() error {
	acks := k.c.Journal.LogicalSlots
	n := k.servingWriter()
	if n == nil || len(acks) == 0 {
		return nil
	}
	t := &k.lg
	// A slot's values change only with an acknowledgement (get_changes),
	// a reload (the list fills at promote) or a new instance (crash
	// recovery loads it).
	if t.node == n && t.acks == len(acks) && t.slots == len(n.LogicalSlots) {
		return nil
	}
	t.node, t.acks, t.slots = n, len(acks), len(n.LogicalSlots)
	for i := range acks {
		a := &acks[i]
		if last, _ := k.c.Journal.LastLogicalAck(a.Name); last != *a {
			continue // a later acknowledgement of the slot supersedes this one
		}
		k.hit(cLogicalSlotsSurvive)
		sl, ok := n.LogicalSlot(a.Name)
		if !ok {
			return fmt.Errorf("logical slot %s (acknowledged by %v at step %d) is missing on the primary %v", a.Name, a.Node, a.Step, n.Cfg.Host)
		}
		if sl.Restart < a.Restart || sl.ConfirmedFlush < a.ConfirmedFlush {
			return fmt.Errorf("logical slot on the primary %v is %v, behind restart=%v confirmed_flush=%v acknowledged by %v at step %d",
				n.Cfg.Host, *sl, a.Restart, a.ConfirmedFlush, a.Node, a.Step)
		}
	}
	return nil
}

// logicalSeen is LogicalSlotsSurvive's memory: the writer instance and the
// numbers of acknowledgements and slots it last compared.
type logicalSeen struct {
	node  *shmem.Node
	acks  int
	slots int
}
