package oracle

import (
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
