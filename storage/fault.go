package storage

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"promotesim/sim"
)

// Op is the kind of I/O a fault applies to.
type Op uint8

const (
	OpRead Op = iota + 1
	OpWrite
	OpSync
)

func (o Op) String() string {
	switch o {
	case OpRead:
		return "read"
	case OpWrite:
		return "write"
	case OpSync:
		return "sync"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// FaultSpec makes the next Count matching operations fail with
// ErrInjectedIO. Host 0 matches any host; PathPrefix "" matches any path.
type FaultSpec struct {
	Op         Op
	Host       HostID
	PathPrefix string
	Count      int
}

func (f FaultSpec) String() string {
	return fmt.Sprintf("%s host=%s prefix=%q count=%d", f.Op, f.Host, f.PathPrefix, f.Count)
}

// InjectError arms a fault. Faults are matched in the order they were armed;
// one failing operation consumes one count of the first matching fault.
func (d *Device) InjectError(f FaultSpec) {
	if f.Op < OpRead || f.Op > OpSync || f.Count < 1 {
		sim.Failf("storage: invalid fault %v", f)
	}
	d.faults = append(d.faults, f)
}

// ClearFaults disarms every fault.
func (d *Device) ClearFaults() { d.faults = d.faults[:0] }

// Faults returns the armed faults with their remaining counts.
func (d *Device) Faults() []FaultSpec { return slices.Clone(d.faults) }

// ReadFaultFor reports whether an armed read fault could hit a read by
// host: one for any host, or for that host. It is what an observer asks
// after every step, so it copies nothing.
func (d *Device) ReadFaultFor(host HostID) bool {
	for i := range d.faults {
		if f := &d.faults[i]; f.Op == OpRead && (f.Host == 0 || f.Host == host) {
			return true
		}
	}
	return false
}

// hit consumes one count of the first fault matching the operation.
func (d *Device) hit(op Op, host HostID, path string) bool {
	for i := range d.faults {
		f := &d.faults[i]
		if f.Op != op || (f.Host != 0 && f.Host != host) || !strings.HasPrefix(path, f.PathPrefix) {
			continue
		}
		f.Count--
		if f.Count == 0 {
			d.faults = slices.Delete(d.faults, i, i+1)
		}
		return true
	}
	return false
}

// SetLatency makes host's I/O slow: every operation completes ticks virtual
// ticks after it is issued. The device only reports the delay; the scheduler
// makes the issuing process wait.
func (d *Device) SetLatency(host HostID, ticks int64) {
	if ticks < 0 {
		sim.Failf("storage: negative latency %d for %s", ticks, host)
	}
	d.latency[host] = ticks
}

// Latency is host's I/O completion delay in virtual ticks (0: immediate).
func (d *Device) Latency(host HostID) int64 { return d.latency[host] }

// KeepMode is what a crash does to one pending (unsynced) block write.
type KeepMode uint8

const (
	// Drop: the write is lost; the block reverts to its durable image.
	Drop KeepMode = iota + 1
	// Keep: the write reached the media after all.
	Keep
	// Tear: the write was half done: the first half of the block is new,
	// the second half old (PFS writes are atomic; this is a fault mode).
	Tear
)

func (k KeepMode) String() string {
	switch k {
	case Drop:
		return "drop"
	case Keep:
		return "keep"
	case Tear:
		return "tear"
	}
	return fmt.Sprintf("KeepMode(%d)", uint8(k))
}

// PendingWrite is one accepted but unsynced block write (consecutive writes
// of one block by one host are folded together). Off is the file offset of
// the block's first byte.
type PendingWrite struct {
	Host  HostID
	Path  string
	Block BlockNo
	Off   int64
}

func (p PendingWrite) String() string {
	return fmt.Sprintf("%s %s off=%d block=%d", p.Host, p.Path, p.Off, p.Block)
}

type pendingRef struct {
	PendingWrite
	entry int32
	seq   uint64
}

func (d *Device) pendingOf(host HostID) []pendingRef {
	var out []pendingRef
	for _, f := range d.dirty {
		if f.removed {
			continue
		}
		for _, i := range f.pending {
			b := f.blocks[i]
			for e := d.blocks[b].head; e != noPend; e = d.pend[e].next {
				if d.pend[e].host != host {
					continue
				}
				out = append(out, pendingRef{
					PendingWrite: PendingWrite{Host: host, Path: f.name, Block: b, Off: int64(i) * BlockSize},
					entry:        e,
					seq:          d.pend[e].seq,
				})
			}
		}
	}
	slices.SortFunc(out, func(a, b pendingRef) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), cmp.Compare(a.Off, b.Off), cmp.Compare(a.seq, b.seq))
	})
	return out
}

// Pending lists host's unsynced writes, sorted by path, offset, then age.
func (d *Device) Pending(host HostID) []PendingWrite {
	refs := d.pendingOf(host)
	out := make([]PendingWrite, len(refs))
	for i, r := range refs {
		out[i] = r.PendingWrite
	}
	return out
}

// Crash models host losing power: each of its unsynced writes, in Pending
// order, is dropped, kept or torn as keep decides (nil keep drops all), then
// the host is unmounted (releasing the writer role if it held it). Other
// hosts' pending writes are untouched. Use Clone first to build a crash image
// without disturbing the running device.
//
// A write another host has read is not the crashed host's to lose, and keep
// is not asked about it: it stays pending. The reader saw it on the shared
// device (PFS does direct I/O, polar_vfs's pfs/dio backends; no host has a
// cache of its own), so only a power loss of the device itself (PowerLoss)
// can take it back, and the next sync makes it durable (syncFile). Without
// this rule a replica could index and replay WAL that its primary's crash
// then erased (its catch-up reads pg_wal to the end of valid WAL:
// XLogPageRead in xlogrecovery.c bounds only the streaming source by
// flushedUpto), a history the shared device cannot produce.
func (d *Device) Crash(host HostID, keep func(PendingWrite) KeepMode) {
	d.crash(host, keep, false)
}

// PowerLoss models the device and every host losing power at once: every
// pending write of every host is dropped, seen or not, and every host is
// unmounted. The result is the durable image, what crash recovery finds.
func (d *Device) PowerLoss() {
	for h := 1; h < len(d.mounts); h++ {
		d.crash(HostID(h), nil, true)
	}
}

// crash is Crash; all drops seen writes too (PowerLoss).
func (d *Device) crash(host HostID, keep func(PendingWrite) KeepMode, all bool) {
	for _, r := range d.pendingOf(host) {
		if d.pend[r.entry].seen && !all {
			continue
		}
		mode := Drop
		if keep != nil {
			mode = keep(r.PendingWrite)
		}
		blk := &d.blocks[r.Block]
		switch mode {
		case Drop:
			d.dropPend(blk, r.entry)
		case Keep:
			d.persist(blk, r.entry, d.pend[r.entry].img)
		case Tear:
			img := blk.durable
			copy(img[:BlockSize/2], d.pend[r.entry].img[:BlockSize/2])
			d.markTorn(r.seq, r.Block)
			d.persist(blk, r.entry, img)
		default:
			sim.Failf("storage: invalid keep mode %d", mode)
		}
	}
	for _, f := range d.dirty {
		if !f.removed {
			d.compactFile(f)
		}
	}
	d.compactDirty()
	d.Unmount(host)
}
