package check

import (
	"fmt"
	"strings"

	"promotesim/logindex"
	"promotesim/storage"
)

// logindexDir is where LogIndex files live on shared storage
// (logindex.MetaPath's directory).
var logindexDir = logindex.MetaPath[:strings.LastIndex(logindex.MetaPath, "/")+1]

// logindexSaved: every write of a LogIndex file on shared storage comes
// from a node whose LogIndex is a writable snapshot (a primary, or a
// promoting replica past the BGW's polar_logindex_online_promote), and
// every meta it writes names a largest saved LSN at or below its durable
// WAL, or in recovery its replay position (docs/model.md §4: a table is
// saved only once the WAL up to its largest LSN is durable; PolarDB's
// log_index_flush_table asks the snapshot's table_flushable).
// The meta is read back from storage in the step that wrote it.
func (k *Checks) logindexSaved() error {
	recs, _ := k.liW.next(k.c.Dev)
	for i := range recs {
		r := &recs[i]
		if !strings.HasPrefix(r.Path, logindexDir) {
			continue
		}
		n := k.c.Node(r.Host)
		if n == nil || n.Dev != k.c.Dev {
			continue
		}
		k.hit(cLogIndexSavedAfterWAL)
		if n.Index == nil || !n.Index.Writable() {
			return fmt.Errorf("%v wrote %s (write #%d) without a writable LogIndex snapshot", r.Host, r.Path, r.Seq)
		}
		if r.Path != logindex.MetaPath || !k.canObserve() {
			continue
		}
		m, err := k.readMeta()
		if err != nil {
			return err
		}
		flushed := storage.InvalidLSN
		if n.WAL != nil {
			flushed = n.WAL.FlushedLSN()
		}
		if n.InRecovery {
			// In recovery PolarDB compares with the replay position, not
			// the flushed one (log_index_flush_table, polar_logindex.c:
			// "During crash recovery GetFlushRecPtr return invalid value,
			// so we compare with GetXLogReplayRecPtr()"): a promoting
			// node saves what it replayed from storage.
			flushed = max(flushed, n.ReplayLSN)
		}
		if m.MaxLSN > flushed {
			return fmt.Errorf("%v wrote the LogIndex meta naming table %d up to %v (write #%d), above its durable WAL %v",
				r.Host, m.MaxTableID, m.MaxLSN, r.Seq, flushed)
		}
	}
	return nil
}

// readMeta reads the LogIndex meta on shared storage.
func (k *Checks) readMeta() (logindex.SavedMeta, error) {
	b := k.metaBuf[:]
	got, err := k.O.Mount().ReadAt(logindex.MetaPath, b, 0)
	if got < len(b) {
		return logindex.SavedMeta{}, fmt.Errorf("read %s: %d bytes: %v", logindex.MetaPath, got, err)
	}
	return logindex.DecodeMeta(b)
}

// logindexMetaMonotone: the LogIndex meta on shared storage never moves
// back: the last saved table and its LSN, and the truncation point, only
// grow (docs/model.md §4; log_index_meta_t is rewritten only forward). It
// is read whenever something wrote it. A meta whose sync an injected fault
// failed may revert at a crash (metaSyncFailed): the baseline then restarts.
func (k *Checks) logindexMetaMonotone() error {
	if !k.canObserve() || !k.lmetaDirty() {
		return nil
	}
	m, err := k.readMeta()
	if err != nil {
		return err
	}
	old := k.lmeta
	k.lmeta = m
	if !k.lmetaKnown || k.metaSyncFailed {
		k.lmetaKnown = true
		return nil
	}
	k.hit(cLogIndexMetaMonotone)
	if m.MaxTableID < old.MaxTableID || m.MaxLSN < old.MaxLSN || m.TruncTableID < old.TruncTableID || m.TruncLSN < old.TruncLSN {
		return fmt.Errorf("LogIndex meta moved back by %v: table %d up to %v, truncated %d below %v; it was table %d up to %v, truncated %d below %v",
			k.lmetaBy, m.MaxTableID, m.MaxLSN, m.TruncTableID, m.TruncLSN, old.MaxTableID, old.MaxLSN, old.TruncTableID, old.TruncLSN)
	}
	return nil
}

// lmetaDirty reports whether the meta was written since the last look
// (or the write log has a gap).
func (k *Checks) lmetaDirty() bool {
	recs, overflow := k.lmW.next(k.c.Dev)
	dirty := overflow
	for i := range recs {
		if recs[i].Path == logindex.MetaPath {
			dirty, k.lmetaBy = true, recs[i].Host
		}
	}
	return dirty
}
