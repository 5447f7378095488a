package check

import (
	"fmt"

	"promotesim/scenarios/oracle"
	"promotesim/shmem"
	"promotesim/storage"
)

// reusedPageFresh: a buffer holding a reused page (one whose history has an
// init record at or below the buffer's page LSN) holds exactly the
// oracle's page at that LSN, so none of the content the page had before its
// init record survived replay (XLogReadBufferForRedoExtended zeroes a
// BKPBLOCK_WILL_INIT block; a backend's RBM_ZERO_AND_LOCK read skips the
// page's old LogIndex history, which the BGW then finds already past).
// Buffers at an LSN past the WAL on storage are left to the read checks.
func (k *Checks) reusedPageFresh(n *shmem.Node) error {
	o := k.O
	if !k.shared(n) || k.displaced(n) {
		// The oracle is shared storage's history: a standby on its own disk
		// (promoted, its own history) and a displaced primary are judged
		// elsewhere, as BuffersMatchOracle does.
		return nil
	}
	for i := range n.Pool.Frames() {
		b := n.Pool.Get(storage.BufferID(i))
		if !b.Valid || b.Tag.Rel != o.Rel() || int(b.Tag.Block) >= o.PageCount() || b.Page.LSN > o.End() {
			continue
		}
		p := int(b.Tag.Block)
		init, ok := o.LastInit(p, b.Page.LSN)
		if !ok {
			continue
		}
		k.hit(cReusedPageFresh)
		want := o.Page(p, b.Page.LSN)
		if b.Page != want {
			return fmt.Errorf("%v holds reused page %d (init record at %v) as %s, the oracle has %s: content from before the init record survived",
				n.Cfg.Host, p, init.Start, oracle.FormatPage(b.Page), oracle.FormatPage(want))
		}
	}
	return nil
}
