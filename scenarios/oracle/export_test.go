package oracle

import "promotesim/storage"

// Internals the external tests look at.

// SnapEvery is how many records of a page lie between two snapshots.
const SnapEvery = snapEvery

// PageRecords is the number of history records that change page i.
func PageRecords(o *Oracle, i int) int { return len(o.byPage[i]) }

// PageID is the page id of workload page i.
func PageID(o *Oracle, i int) storage.PageID { return o.pageID(i) }
