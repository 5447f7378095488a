package check

import (
	"fmt"

	"promotesim/logindex"
	"promotesim/postmaster"
	"promotesim/scenarios/oracle"
	"promotesim/shmem"
	"promotesim/storage"
)

// A promoted standby is the primary of another history, on its own disk
// (startup/standby_promote.go): the shared device's oracle knows nothing of
// what it acknowledges. Its commits are judged on its own disk instead, as
// PolarDB's test 007 does after `stop -m i`: crash recovery of that disk
// must show every one of them.

// ownHistory reports whether ack a was given by a standby host: a standby
// acknowledges nothing until it is promoted, and from then on writes only
// its own disk.
func (k *Checks) ownHistory(a *postmaster.Ack) bool { return k.c.IsStandby(a.Node) }

// slotKey names one slot of one page.
type slotKey struct {
	page int
	slot uint8
}

// promotedStandbysRecover: for every standby whose disk says it was
// promoted, offline crash recovery of a crash image of that disk reaches a
// clog where each commit it acknowledged is committed, and each of its
// writes is in the WAL before its commit and still holds its slot unless a
// later record of that WAL wrote the slot (PromotedStandbyRecovers).
func (k *Checks) promotedStandbysRecover() error {
	for _, h := range k.c.StandbyHosts() {
		dev := k.c.StandbyDevice(h)
		if dev == nil || !k.c.StandbyPromoted(h) {
			continue
		}
		if err := k.standbyRecovers(h, dev); err != nil {
			return err
		}
	}
	return nil
}

func (k *Checks) standbyRecovers(h storage.HostID, dev *storage.Device) error {
	cfg := k.c.NodeConfig(h)
	img := oracle.CrashImage(dev)
	rec, err := oracle.RecoverOffline(img, cfg, nil)
	if err != nil {
		return fmt.Errorf("%v (promoted standby): crash recovery of its own disk: %w", h, err)
	}
	writes, err := walWrites(img, cfg)
	if err != nil {
		return fmt.Errorf("%v (promoted standby): read its WAL: %w", h, err)
	}
	for i := range k.c.Journal.Acks {
		a := &k.c.Journal.Acks[i]
		if a.Node != h {
			continue
		}
		if st := rec.Clog.Get(a.XID); st != shmem.XactCommitted {
			return fmt.Errorf("%v (promoted standby) acknowledged xid %d (commit end %v, step %d); after crash recovery of its disk (end %v) it is %v",
				h, a.XID, a.CommitEnd, a.Step, rec.End, st)
		}
		for _, w := range a.Writes {
			if err := standbyWriteHolds(h, a, w, writes[slotKey{w.Page, w.Slot}], rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// walWrites lists, per slot of the workload relation, every value the
// valid WAL on img writes there, in WAL order, from the first record on (a
// standby's disk holds every segment since initdb: its base backup copied
// them all and nothing recycles WAL).
func walWrites(img *storage.Device, cfg shmem.Config) (map[slotKey][]uint64, error) {
	m, err := img.Mount(oracle.ObserverHost, storage.MountReadOnly)
	if err != nil {
		return nil, err
	}
	defer img.Unmount(oracle.ObserverHost)
	rd, err := logindex.NewReader(m, cfg.LogIndex)
	if err != nil {
		return nil, err
	}
	writes := map[slotKey][]uint64{}
	var r logindex.Record
	_, err = rd.FindEnd(logindex.FirstLSN, storage.InvalidLSN, &r, func(r *logindex.Record) error {
		for _, ch := range r.Changes {
			if ch.Page.Rel == cfg.Rel {
				key := slotKey{int(ch.Page.Block), ch.Slot}
				writes[key] = append(writes[key], ch.Value)
			}
		}
		return nil
	})
	return writes, err
}

// standbyWriteHolds: ack a's write w is among the values the WAL wrote to
// its slot, and the recovered page holds the last of them (its own or a
// later write).
func standbyWriteHolds(h storage.HostID, a *postmaster.Ack, w postmaster.Write, vals []uint64, rec *oracle.Recovered) error {
	found := false
	for _, v := range vals {
		found = found || v == w.Value
	}
	if !found {
		return fmt.Errorf("%v (promoted standby): xid %d's write x%d.%d of page %d slot %d is not in the WAL on its disk",
			h, a.XID, a.XID, uint32(w.Value), w.Page, w.Slot)
	}
	if w.Page >= len(rec.Pages) {
		return fmt.Errorf("%v (promoted standby): xid %d wrote page %d beyond the relation's %d pages", h, a.XID, w.Page, len(rec.Pages))
	}
	if got, last := rec.Pages[w.Page].Slots[w.Slot], vals[len(vals)-1]; got != last {
		return fmt.Errorf("%v (promoted standby): after crash recovery of its disk page %d slot %d holds x%d.%d, want x%d.%d (xid %d's write or the last after it)",
			h, w.Page, w.Slot, postmaster.ValueXID(got), uint32(got), postmaster.ValueXID(last), uint32(last), a.XID)
	}
	return nil
}
