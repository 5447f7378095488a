package check

import (
	"promotesim/shmem"
	"promotesim/storage"
)

// The checkers' record of what the model reports (sim.Scheduler.Observe):
// the facts a claim needs from inside a step that PolarDB's processes keep
// nowhere, so no model struct holds them. Process exits go to a
// shmem.ExitLog (Checks.exits); the rest arrives here.

// Observe takes one report into the checkers' memory (sim.Observer). It
// runs inside the reporting step, so it sees the reporter's state as it is
// then; like every checker, it changes nothing a process can see.
func (k *Checks) Observe(r any) {
	switch r := r.(type) {
	case shmem.PageWritten:
		k.pageWritten(r)
	case shmem.ConsistentRegressed:
		k.regressed(r)
	}
}

// exemptWrite is a page written past the applied position of a replica
// whose slot the writer's flush gate left out (inactive during a shutdown
// checkpoint or crash recovery): that replica may meet it as a future page.
type exemptWrite struct {
	slot string
	page storage.PageID
	lsn  storage.LSN
}

// maxExempt bounds the exempt writes kept of one node instance (a node
// writes each page once per shutdown).
const maxExempt = 4096

// hostExempt is one host's exempt writes, of every instance, and how many
// its current instance made.
type hostExempt struct {
	n      *shmem.Node
	seen   int
	writes []exemptWrite
}

// pageWritten notes a page written past a disconnected replica's slot while
// the flush gate left it out: Node.FlushGate skips inactive slots during a
// shutdown checkpoint (polar_flush_buffer_for_shutdown) and a primary's
// crash recovery, which is the accepted way a replica meets a future page
// (PolarDB's 050_shutdown_disconnected_replica). The write is visible from
// here on, synced or not.
func (k *Checks) pageWritten(w shmem.PageWritten) {
	n := w.Node
	if !n.ShuttingDown && !n.InRecovery {
		return
	}
	i := int(n.Cfg.Host) - 1
	for len(k.exempt) <= i {
		k.exempt = append(k.exempt, hostExempt{})
	}
	he := &k.exempt[i]
	if he.n != n {
		he.n, he.seen = n, 0
	}
	for _, s := range n.Slots {
		if !s.Active && !shmem.IsStandbySlot(s.Name) && s.Apply < w.LSN && he.seen < maxExempt {
			he.writes = append(he.writes, exemptWrite{slot: s.Name, page: w.Page, lsn: w.LSN})
			he.seen++
		}
	}
}

// exemptWrite reports whether a host other than reader wrote page at lsn
// past reader's slot while its flush gate left the slot out.
func (k *Checks) exemptWrite(reader storage.HostID, page storage.PageID, lsn storage.LSN) bool {
	slot := k.c.SlotOf(reader)
	for i := range k.exempt {
		if storage.HostID(i+1) == reader {
			continue
		}
		for _, e := range k.exempt[i].writes {
			if e.slot == slot && e.page == page && e.lsn == lsn {
				return true
			}
		}
	}
	return false
}

// poolRegressions counts the consistent LSN regressions of one host's
// current pool (a restart or a crash reinitialisation builds a new one)
// and keeps the last.
type poolRegressions struct {
	pool      *storage.Pool
	count     int
	raw, prev storage.LSN
}

func (k *Checks) regressed(r shmem.ConsistentRegressed) {
	i := int(r.Node.Cfg.Host) - 1
	for len(k.regressions) <= i {
		k.regressions = append(k.regressions, poolRegressions{})
	}
	g := &k.regressions[i]
	if g.pool != r.Node.Pool {
		*g = poolRegressions{pool: r.Node.Pool}
	}
	g.count++
	g.raw, g.prev = r.Raw, r.Published
}

// regressionsOf returns n's current pool's regressions (none reported: the
// zero value).
func (k *Checks) regressionsOf(n *shmem.Node) poolRegressions {
	i := int(n.Cfg.Host) - 1
	if i < len(k.regressions) && k.regressions[i].pool == n.Pool {
		return k.regressions[i]
	}
	return poolRegressions{}
}
