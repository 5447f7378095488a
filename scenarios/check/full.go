package check

import (
	"fmt"

	"promotesim/shmem"
)

// Full runs the expensive whole-state checks: every live pool's invariants,
// offline crash recovery (CrashRecovers, plus CommitDurable against the
// durable WAL) and AckedVisible. The error is a *sim.Violation. It checks
// nothing while a read fault that the observer could consume is armed
// (reading would change the world); call it again once it is healed.
func (k *Checks) Full() error {
	if !k.canObserve() {
		return nil
	}
	if err := k.O.SyncFull(); err != nil {
		return k.c.S.Violation("CrashRecovers", err)
	}
	for _, n := range k.c.AllNodes() {
		if !k.alive(n) {
			continue
		}
		if err := k.flushOrder(n); err != nil {
			return k.c.S.Violation("FlushListOrdered", err)
		}
		if err := n.Pool.Check(); err != nil {
			return k.c.S.Violation("FlushListOrdered", fmt.Errorf("%v: %w", n.Cfg.Host, err))
		}
		if err := k.reusedPageFresh(n); err != nil {
			return k.c.S.Violation("ReusedPageFresh", err)
		}
	}
	k.hit(cCrashRecovers)
	if name, err := k.crashRecovers(); err != nil {
		return k.c.S.Violation(name, err)
	}
	if err := k.ackedVisible(); err != nil {
		return k.c.S.Violation("AckedVisible", err)
	}
	if err := k.promotedStandbysRecover(); err != nil {
		return k.c.S.Violation("PromotedStandbyRecovers", err)
	}
	return nil
}

// ackedVisible: at the end of valid WAL every acknowledged write is either
// still in its slot, committed, or was replaced by a later record of the
// history. The model keeps one value per slot (no tuple versions), so a
// later write of any status hides an older one; whether that later write
// commits is the business of its own acknowledgement.
func (k *Checks) ackedVisible() error {
	o := k.O
	end := o.End()
	for _, a := range k.c.Journal.Acks {
		k.hit(cAckedVisible)
		if k.ownHistory(&a) {
			continue // PromotedStandbyRecovers
		}
		if st := o.Status(a.XID, end); st != shmem.XactCommitted {
			return fmt.Errorf("acknowledged xid %d (by %v, commit end %v) is %v at the end of WAL %v", a.XID, a.Node, a.CommitEnd, st, end)
		}
		for _, w := range a.Writes {
			mine := o.WriteOf(a.XID, w.Page, int(w.Slot), w.Value, a.CommitEnd)
			if mine < 0 {
				return fmt.Errorf("acknowledged xid %d (by %v): its write of page %d slot %d = x%d.%d is not in the WAL before its commit %v",
					a.XID, a.Node, w.Page, w.Slot, a.XID, uint32(w.Value), a.CommitEnd)
			}
			last := o.LastWriter(w.Page, int(w.Slot), end)
			if last < mine {
				got := o.Page(w.Page, end).Slots[w.Slot]
				return fmt.Errorf("acknowledged xid %d (by %v): page %d slot %d holds x%d.%d at the end of WAL %v, want x%d.%d or a later write",
					a.XID, a.Node, w.Page, w.Slot, got>>32, uint32(got), end, a.XID, uint32(w.Value))
			}
		}
	}
	return nil
}
