package storage

import "strconv"

// LSN is a byte position in the WAL, printed the way PostgreSQL prints it
// (high 32 bits / low 32 bits, upper-case hex): 0/1A8.
type LSN uint64

// InvalidLSN is PostgreSQL's InvalidXLogRecPtr: "no position".
const InvalidLSN LSN = 0

// String is fmt's "%X/%X" of the two halves, built without fmt: traces and
// checkers format LSNs on hot paths (TestStringsMatchFmt pins the text).
func (l LSN) String() string {
	var buf [17]byte
	b := AppendHex(buf[:0], uint64(l)>>32, 0)
	b = append(b, '/')
	return string(AppendHex(b, uint64(l)&0xFFFFFFFF, 0))
}

// AppendHex appends v in upper-case hex, zero-padded to width digits: fmt's
// %0<width>X (width 0: no padding).
func AppendHex(b []byte, v uint64, width int) []byte {
	var digits [16]byte
	i := len(digits)
	for {
		i--
		digits[i] = "0123456789ABCDEF"[v&0xF]
		v >>= 4
		if v == 0 {
			break
		}
	}
	for n := len(digits) - i; n < width; n++ {
		b = append(b, '0')
	}
	return append(b, digits[i:]...)
}

// Valid reports whether l is a real position.
func (l LSN) Valid() bool { return l != InvalidLSN }

// BlockNo numbers a block of the shared device, or a page within a relation.
type BlockNo uint32

// HostID names a node of the cluster (1 is the first primary).
type HostID uint8

// hostNames are the first ten hosts' names, sliced without allocating.
const hostNames = "n0n1n2n3n4n5n6n7n8n9"

// String is "n<h>" (fmt's "n%d"); every process name and trace line
// carries one.
func (h HostID) String() string {
	if h < 10 {
		return hostNames[2*h : 2*h+2]
	}
	return "n" + strconv.Itoa(int(h))
}

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

// String is "rel/block" (fmt's "%d/%d").
func (p PageID) String() string {
	var buf [21]byte
	b := strconv.AppendUint(buf[:0], uint64(p.Rel), 10)
	b = append(b, '/')
	return string(strconv.AppendUint(b, uint64(p.Block), 10))
}

// Less orders page ids by relation, then block, so iteration is deterministic.
func (p PageID) Less(q PageID) bool {
	if p.Rel != q.Rel {
		return p.Rel < q.Rel
	}
	return p.Block < q.Block
}
