package shmem

import (
	"promotesim/logindex"
	"promotesim/sim"
	"promotesim/storage"
)

// ZeroBuffer is ReadBuffer in RBM_ZERO_AND_LOCK mode: the caller is about
// to initialise the page (a reused or new page, a record whose block
// carries BKPBLOCK_WILL_INIT), so a page not in the pool gets a zeroed
// buffer without reading storage (bufmgr.c ReadBuffer_common: MemSet
// instead of smgrread), and a pooled page is returned as it is (the found
// path). loaded is always false: nothing was read. A dirty victim is
// written as in Buffer, reported through r.
func (n *Node) ZeroBuffer(r sim.Reporter, page storage.PageID) (id storage.BufferID, loaded bool, err error) {
	return n.buffer(r, page, true)
}

// applyReplayed applies a record LogIndex replay read from WAL to a valid
// buffer. An init record reinitialises the page (Orderings.ZeroInitInReplay);
// with that switched off (hazard replay-keeps-reused-page) its changes land
// on the page's old content, as a redo routine that did not initialise a
// valid buffer would leave it.
func (n *Node) applyReplayed(rec *logindex.Record, id storage.BufferID) bool {
	tag := n.Pool.Get(id).Tag
	if rec.Type != logindex.RecInitPage || n.Cfg.Orderings.ZeroInitInReplay {
		return rec.Apply(tag, n.Pool.Modify(id))
	}
	r := *rec
	r.Type = logindex.RecPage
	return r.Apply(tag, n.Pool.Modify(id))
}
