package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// BlockSize is the size of one device block and of one page. Pages are tiny on
// purpose: what matters to online promote is which changes a page contains, not
// its payload.
const BlockSize = 64

// PageSlots is the number of values a page holds.
const PageSlots = 4

// Page is a data page image: the page LSN (LSN of the last record applied to
// it, PostgreSQL's pd_lsn) and a few slots of values.
type Page struct {
	LSN   LSN
	Slots [PageSlots]uint64
}

// ErrPageChecksum reports a page image whose checksum does not match: a torn
// or never-written block.
var ErrPageChecksum = errors.New("storage: page checksum mismatch")

// pageEncodedSize: LSN (8) + slots (8 each) + checksum (4).
const pageEncodedSize = 8 + 8*PageSlots + 4

// Marshal writes the page image into b (len(b) >= BlockSize) with a checksum.
func (p *Page) Marshal(b []byte) {
	_ = b[BlockSize-1]
	binary.LittleEndian.PutUint64(b[0:], uint64(p.LSN))
	for i, v := range p.Slots {
		binary.LittleEndian.PutUint64(b[8+8*i:], v)
	}
	sum := crc32.ChecksumIEEE(b[:pageEncodedSize-4])
	binary.LittleEndian.PutUint32(b[pageEncodedSize-4:], sum)
	clear(b[pageEncodedSize:BlockSize])
}

// UnmarshalPage decodes a page image. An all-zero block is a valid empty page
// (PostgreSQL treats a new page the same way); anything else must carry a
// matching checksum.
func UnmarshalPage(b []byte) (Page, error) {
	var p Page
	if len(b) < BlockSize {
		return p, fmt.Errorf("storage: page image of %d bytes, want %d", len(b), BlockSize)
	}
	allZero := true
	for _, c := range b[:BlockSize] {
		if c != 0 {
			allZero = false
			break
		}
	}
	if allZero {
		return p, nil
	}
	sum := crc32.ChecksumIEEE(b[:pageEncodedSize-4])
	if binary.LittleEndian.Uint32(b[pageEncodedSize-4:]) != sum {
		return p, ErrPageChecksum
	}
	p.LSN = LSN(binary.LittleEndian.Uint64(b[0:]))
	for i := range p.Slots {
		p.Slots[i] = binary.LittleEndian.Uint64(b[8+8*i:])
	}
	return p, nil
}
