package oracle

import (
	"errors"
	"fmt"
	"io"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/storage"
)

// Recovered is the state offline crash recovery reaches from a device's
// durable image.
type Recovered struct {
	Control shmem.Control
	// End is the end of valid durable WAL replay reached; Replayed counts
	// the records replayed from the redo pointer.
	End      storage.LSN
	Replayed int
	// Pages are the workload pages after replay; Clog is pg_xact after
	// replay of commit and abort records.
	Pages []storage.Page
	Clog  shmem.Clog
}

func IsEOF(err error) bool      { return errors.Is(err, io.EOF) }
func IsNotExist(err error) bool { return errors.Is(err, storage.ErrNotExist) }

// CrashImage returns a copy of dev as it would be after the device and
// every host lost power: every unsynced write of every host dropped
// (Device.PowerLoss), armed faults cleared, nothing mounted. dev itself is
// not touched.
func CrashImage(dev *storage.Device) *storage.Device {
	img := dev.Clone()
	img.ClearFaults()
	img.PowerLoss()
	return img
}

// RecoverOffline runs PostgreSQL crash recovery on img without any node,
// the way StartupXLOG does after a crash: read the shared control file,
// replay every valid WAL record from its redo pointer to the end of valid
// WAL onto the pages as storage has them (Record.Apply changes a page only
// if its LSN is below the record's end, so pages already written are left
// alone), and replay commit and abort records into the clog read from
// pg_xact. visit, if not nil, sees every replayed record first.
//
// It mounts img read-only as ObserverHost: img must be a crash image no
// one else uses (CrashImage).
func RecoverOffline(img *storage.Device, cfg shmem.Config, visit func(*logindex.Record) error) (*Recovered, error) {
	m, err := img.Observe(ObserverHost)
	if err != nil {
		return nil, fmt.Errorf("recovery: mount crash image: %w", err)
	}
	defer img.Unmount(ObserverHost)
	return recoverFrom(m, cfg, visit)
}

// RecoverCrash runs offline crash recovery (RecoverOffline) on the
// oracle's device as a power loss of every host now would leave it. When
// nothing would be lost the device is its own crash image, read through
// the observer mount (a clone costs a copy of every block).
func (o *Oracle) RecoverCrash(cfg shmem.Config, visit func(*logindex.Record) error) (*Recovered, error) {
	if durable(o.dev) {
		return recoverFrom(o.m, cfg, visit)
	}
	return RecoverOffline(CrashImage(o.dev), cfg, visit)
}

// durable reports whether every accepted write on dev is durable (no host
// has a pending write): then the device is its own crash image.
func durable(dev *storage.Device) bool {
	for h := 1; h < 256; h++ {
		if len(dev.Pending(storage.HostID(h))) > 0 {
			return false
		}
	}
	return true
}

// recoverFrom is RecoverOffline reading through m, which must see a
// device no one writes while it runs.
func recoverFrom(m *storage.Mount, cfg shmem.Config, visit func(*logindex.Record) error) (*Recovered, error) {
	ctl, err := shmem.ReadControl(m)
	if err != nil {
		return nil, fmt.Errorf("recovery: %w", err)
	}
	clog, err := shmem.ReadClog(m)
	if err != nil {
		return nil, fmt.Errorf("recovery: read clog: %w", err)
	}
	r := &Recovered{Control: ctl, Clog: clog, Pages: make([]storage.Page, cfg.Pages)}
	raw := make([]byte, cfg.Pages*storage.BlockSize)
	got, err := m.ReadAt(fmt.Sprintf("base/%d", cfg.Rel), raw, 0)
	if err != nil && !IsEOF(err) && !IsNotExist(err) {
		return nil, fmt.Errorf("recovery: read base/%d: %w", cfg.Rel, err)
	}
	clear(raw[got:])
	for p := range r.Pages {
		if r.Pages[p], err = storage.UnmarshalPage(raw[p*storage.BlockSize : (p+1)*storage.BlockSize]); err != nil {
			return nil, fmt.Errorf("recovery: page %d: %w", p, err)
		}
	}
	rd, err := logindex.NewReader(m, cfg.LogIndex)
	if err != nil {
		return nil, err
	}
	var rec logindex.Record
	var pgs []storage.PageID
	e, err := rd.FindEnd(ctl.Redo, storage.InvalidLSN, &rec, func(rec *logindex.Record) error {
		if visit != nil {
			if err := visit(rec); err != nil {
				return err
			}
		}
		pgs = rec.Pages(pgs[:0])
		for _, id := range pgs {
			if id.Rel == cfg.Rel && int(id.Block) < cfg.Pages {
				rec.Apply(id, &r.Pages[id.Block])
			}
		}
		switch rec.Type {
		case logindex.RecCommit, logindex.RecCommitPrepared:
			r.Clog.Set(rec.XID, shmem.XactCommitted)
		case logindex.RecAbort, logindex.RecAbortPrepared:
			r.Clog.Set(rec.XID, shmem.XactAborted)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recovery: replay from %v: %w", ctl.Redo, err)
	}
	r.End, r.Replayed = e.End, e.Records
	return r, nil
}
