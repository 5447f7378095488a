package check

import (
	"fmt"
	"strings"

	"promotesim/logindex"
	"promotesim/postmaster"
	"promotesim/shmem"
	"promotesim/storage"
)

// excused lists the errors whose PANIC or FATAL is the model's correct
// reaction to something outside the protocol:
//   - storage.ErrInjectedIO: an injected I/O error (PostgreSQL PANICs on a
//     failed WAL or data write, FATALs on failed reads in startup);
//   - storage.ErrFenced: fence mode epoch refused a displaced writer, which
//     must stop (the fix working);
//   - storage.ErrWriterDeath: fence mode detect's RWID check found another
//     writer at a control-file update (polar_check_double_write PANICs).
//
// Exits carry the error text, not the error (they are process events), so
// the match is on each sentinel's message, which every wrapping keeps.
// Nothing else is excused: a flush-list order PANIC, a write through a
// read-only mount, a record after the end of recovery, a full disk, a
// full LogIndex are failures of the protocol or of the setup (a primary
// whose saves are stalled waits for room; it does not PANIC).
var excused = []error{storage.ErrInjectedIO, storage.ErrFenced, storage.ErrWriterDeath}

func excusedExit(e shmem.ChildExit) bool {
	for _, err := range excused {
		if strings.Contains(e.Err, err.Error()) {
			return true
		}
	}
	return false
}

// exemptFuturePage excuses a replica session's FATAL on a future page that
// some node wrote while its flush gate left this replica's slot out (the
// replica was disconnected during that node's shutdown checkpoint or crash
// recovery): PolarDB accepts this (050_shutdown_disconnected_replica); the
// replica must catch up. A future page written by a node that had no slot
// for the replica, or whose slot was active, is a protocol failure.
func (k *Checks) exemptFuturePage(r *shmem.Node, e shmem.ChildExit) bool {
	if e.Kind != shmem.ExitFATAL || !strings.Contains(e.Err, postmaster.ErrFuturePage.Error()) {
		return false
	}
	fps := k.c.Journal.FuturePages
	for i := len(fps) - 1; i >= 0; i-- {
		fp := fps[i]
		if fp.Node != r.Cfg.Host {
			continue
		}
		return k.exemptWrite(r.Cfg.Host, fp.Page, fp.LSN)
	}
	return false
}

// displacedRead excuses a read failure of a primary another node displaced
// (its read-write mount no longer holds the writer role, or a later
// read-write mount took it since, even if that successor has stopped by
// now): fencing stops its writes, not its reads, and what it reads is its
// successor's storage (a LogIndex table the new writer truncated, say).
// PolarDB's node would die the same way (log_index_report_io_error); it is
// the old primary's end, not a protocol failure. (v11-fixed seed 44160,
// fence epoch: a promoted n3's paused BGW resumed after n2 had promoted,
// truncated the LogIndex and stopped, and read a removed table.)
func displacedRead(n *shmem.Node, e shmem.ChildExit) bool {
	m := n.Mount
	if m == nil || m.Mode() != storage.MountReadWrite || !strings.Contains(e.Err, ": read ") {
		return false
	}
	w, _, ok := n.Dev.Writer()
	if ok && w != n.Cfg.Host {
		return true // another host holds the writer role now
	}
	return m.Epoch() < n.Dev.Epoch() // another read-write mount came after this one
}

func (k *Checks) noUnexpectedExit() error {
	for i, n := range k.c.AllNodes() {
		if n == nil {
			continue
		}
		hs := k.host(i, n)
		if hs.exits != n {
			hs.exits, hs.nexits = n, 0
		}
		exits := k.exits.Of(n)
		for ; hs.nexits < len(exits); hs.nexits++ {
			e := exits[hs.nexits]
			if excusedExit(e) && strings.Contains(e.Err, "sync "+logindex.MetaPath+": ") {
				k.metaSyncFailed = true
			}
			if excusedExit(e) && strings.Contains(e.Err, "sync "+k.relPath+" ") {
				k.dataSyncFailed = true // see storedPageNeverGoesBack
			}
			if e.Kind == shmem.ExitPANIC || e.Kind == shmem.ExitFATAL {
				k.hit(cNoUnexpectedExit)
			}
			if (e.Kind == shmem.ExitPANIC || e.Kind == shmem.ExitFATAL) && !excusedExit(e) && !k.exemptFuturePage(n, e) && !displacedRead(n, e) {
				hs.nexits++
				return fmt.Errorf("%s %v: %s", e.Name, e.Kind, e.Err)
			}
		}
	}
	return nil
}
