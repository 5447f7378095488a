package shmem

import "promotesim/storage"

// ZeroBuffer is ReadBuffer in RBM_ZERO_AND_LOCK mode: the caller is about
// to initialise the page (a reused or new page, a record whose block
// carries BKPBLOCK_WILL_INIT), so a page not in the pool gets a zeroed
// buffer without reading storage (bufmgr.c ReadBuffer_common: MemSet
// instead of smgrread), and a pooled page is returned as it is (the found
// path). loaded is always false: nothing was read.
func (n *Node) ZeroBuffer(page storage.PageID) (id storage.BufferID, loaded bool, err error) {
	return n.buffer(page, true)
}
