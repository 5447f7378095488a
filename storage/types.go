package storage

import "fmt"

// LSN is a byte position in the WAL, printed the way PostgreSQL prints it
// (high 32 bits / low 32 bits, upper-case hex): 0/1A8.
type LSN uint64

// InvalidLSN is PostgreSQL's InvalidXLogRecPtr: "no position".
const InvalidLSN LSN = 0

func (l LSN) String() string { return fmt.Sprintf("%X/%X", uint64(l)>>32, uint64(l)&0xFFFFFFFF) }

// Valid reports whether l is a real position.
func (l LSN) Valid() bool { return l != InvalidLSN }

// BlockNo numbers a block of the shared device, or a page within a relation.
type BlockNo uint32

// HostID names a node of the cluster (1 is the first primary).
type HostID uint8

func (h HostID) String() string { return fmt.Sprintf("n%d", uint8(h)) }

// Epoch numbers read-write mounts in fence mode epoch; a write carrying an
// older epoch than the device's is fenced.
type Epoch uint64

// RelID names a relation (PostgreSQL's relfilenode); pages of relation r live in
// file base/<r>.
type RelID uint32

// PageID is a buffer tag: which page of which relation.
type PageID struct {
	Rel   RelID
	Block BlockNo
}

func (p PageID) String() string { return fmt.Sprintf("%d/%d", p.Rel, p.Block) }

// Less orders page ids by relation, then block, so iteration is deterministic.
func (p PageID) Less(q PageID) bool {
	if p.Rel != q.Rel {
		return p.Rel < q.Rel
	}
	return p.Block < q.Block
}
