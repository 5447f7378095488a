package oracle

import (
	"encoding/binary"

	"promotesim/logindex"
	"promotesim/storage"
)

// LastInit returns the last init record (logindex.RecInitPage: a reused
// or new page, BKPBLOCK_WILL_INIT) of page's history ending at or below at,
// and whether there is one. The page's content restarts there: Page
// applies it by emptying the page, and nothing written before it can be in
// the page at any position at or past its end.
func (o *Oracle) LastInit(page int, at storage.LSN) (*logindex.Record, bool) {
	if page < 0 || page >= o.pages {
		return nil, false
	}
	l := o.byPage[page]
	for j := o.upto(page, at) - 1; j >= 0; j-- {
		if r := &o.recs[l[j]]; r.Type == logindex.RecInitPage {
			return r, true
		}
	}
	return nil, false
}

// applyOracle applies r to page id's image the way the oracle defines
// redo: an init record first empties the page (its content restarts
// there, whatever the page held), then Record.Apply sets the record's
// slots. Emptying here and not only in Record.Apply keeps the oracle's
// definition of a reused page independent of the code the model replays
// with, so a replay that kept old content would disagree with it.
func applyOracle(r *logindex.Record, id storage.PageID, img *storage.Page) {
	if r.Type == logindex.RecInitPage && img.LSN < r.End {
		img.Slots = [storage.PageSlots]uint64{}
	}
	r.Apply(id, img)
}

// overwritten: the invalid record at chunk position pos (history position
// o.end, header length n) is skipped if the next WAL page starts with a
// valid OVERWRITE_CONTRECORD naming it with the expected prev link, as
// logindex.Reader.Read skips it. It returns how many bytes to skip to that
// record (0: not skipped), leaving o.rec decoded as it.
func (o *Oracle) overwritten(from storage.LSN, pos, n int, prev storage.LSN) (int, error) {
	next := logindex.PageStart(o.end) + logindex.WALPageSize
	if n > logindex.MaxRecordLen || o.end+storage.LSN(n) <= next {
		return 0, nil
	}
	if o.end+recHeader <= next && (len(o.chunk) < pos+recHeader || !logindex.HeaderLinks(o.chunk[pos:pos+recHeader], prev)) {
		return 0, nil // a whole header must link back (stale bytes are no record)
	}
	skip := int(next - o.end)
	at := pos + skip
	if ok, err := o.fill(from, at+recHeader); err != nil || !ok {
		return 0, err
	}
	m := int(binary.LittleEndian.Uint32(o.chunk[at:]))
	if m < recHeader || m > recMax {
		return 0, nil
	}
	if ok, err := o.fill(from, at+m); err != nil || !ok {
		return 0, err
	}
	if o.rec.Decode(o.chunk[at:at+m]) != nil || prev.Valid() && o.rec.Prev != prev ||
		o.rec.Type != logindex.RecOverwriteContrecord || o.rec.Aborted != o.end {
		return 0, nil
	}
	return skip, nil
}
