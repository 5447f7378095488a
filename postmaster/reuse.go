package postmaster

import (
	"promotesim/logindex"
	"promotesim/sim"
	"promotesim/storage"
)

// writeRecord is the WAL record of one write of transaction xid to page: an
// ordinary page record, a free (every slot emptied, like
// XLOG_HASH_SQUEEZE_PAGE reinitialising the freed overflow page through an
// ordinary buffer read) or an init record for a reused page
// (XLOG_HASH_ADD_OVFL_PAGE registers the recycled page REGBUF_WILL_INIT).
func writeRecord(xid logindex.XID, page storage.PageID, w Write) logindex.Record {
	rec := logindex.Record{Type: logindex.RecPage, XID: xid}
	switch {
	case w.Free:
		for s := range storage.PageSlots {
			rec.Changes = append(rec.Changes, logindex.Change{Page: page, Slot: uint8(s)})
		}
	case w.Init:
		rec.Type = logindex.RecInitPage
		fallthrough
	default:
		rec.Changes = []logindex.Change{{Page: page, Slot: w.Slot % storage.PageSlots, Value: w.Value}}
	}
	return rec
}

// zeroBuffer pins page for a write that reinitialises it: ReadBuffer in
// RBM_ZERO_AND_LOCK mode. PolarDB's polar_require_backend_redo
// (bufmgr.c) returns POLAR_REDO_NO_ACTION for the zero modes, so even
// during ONLINE_PROMOTE the backend replays none of the page's old WAL: the
// init record makes the page's history restart, and the BGW, replaying the
// old records later, finds the page LSN past them and skips them
// (XLogReadBufferForRedoExtended's BLK_DONE).
func (b *backend) zeroBuffer(c *sim.Ctx, page storage.PageID) (storage.BufferID, bool) {
	n := b.n
	if _, need, err := b.needsPromoteReplay(page); err == nil && need {
		c.Mark("postmaster/page-reuse-during-online-promote")
		c.Story("zero-and-lock", sim.Str("page", page.String()), sim.LSNField("bgw-replayed", uint64(n.BGW.ReplayPoint())),
			sim.LSNField("promote-end", uint64(n.BGW.PromoteEnd)))
	}
	id, _, err := n.ZeroBuffer(c, page)
	return b.readyToChange(c, id, err)
}
