package check

import (
	"fmt"

	"promotesim/scenarios/oracle"
	"promotesim/shmem"
	"promotesim/storage"
)

// frameSeen is what BuffersMatchOracle last judged of one frame.
type frameSeen struct {
	valid bool
	tag   storage.PageID
	lsn   storage.LSN
}

// poolSeen is BuffersMatchOracle's memory of one node incarnation's pool
// (a crash reinitialisation builds a new pool: shmem.Node.Reinit).
type poolSeen struct {
	inc    incarnation
	frames []frameSeen
	cuts   int
}

// buffersMatchOracle: a pooled page is the oracle's page at its page LSN:
// whoever built it (a read from storage, redo on a replica or in crash
// recovery, the BGW's or a backend's replay during promote, a new write)
// applied every record of the history up to that LSN, and nothing else
// (docs/model.md §2 and §5: idempotent redo, XLogReadBufferForRedo; a
// replica rebuilds a page from storage plus its LogIndex history). Judged
// for the frames whose page or page LSN changed since the last look, and
// only where the oracle knows the WAL: a primary's page whose records are
// still in WAL buffers is judged when it next changes; a displaced
// primary's pool is not judged (displaced). A history cut (a
// crash retracted WAL) restarts the memory: pages built on the retracted
// WAL are ReplicaReadsMatchOracle's to judge when read.
func (k *Checks) buffersMatchOracle() error {
	o := k.O
	if err := o.Sync(); err != nil {
		return err
	}
	for i, n := range k.c.AllNodes() {
		for len(k.pools) <= i {
			k.pools = append(k.pools, poolSeen{})
		}
		ps := &k.pools[i]
		if n == nil || !k.alive(n) || !k.shared(n) || k.displaced(n) {
			ps.inc = incarnation{}
			continue
		}
		fresh := ps.inc != incarnationOf(n) || ps.cuts != len(o.Cuts())
		if fresh {
			ps.inc, ps.cuts = incarnationOf(n), len(o.Cuts())
			ps.frames = append(ps.frames[:0], make([]frameSeen, n.Pool.Frames())...)
		}
		for id := range ps.frames {
			b := n.Pool.Get(storage.BufferID(id))
			now := frameSeen{valid: b.Valid, tag: b.Tag, lsn: b.Page.LSN}
			if now == ps.frames[id] {
				continue
			}
			ps.frames[id] = now
			if fresh || !b.Valid || b.Tag.Rel != o.Rel() || b.Page.LSN > o.End() || int(b.Tag.Block) >= o.PageCount() {
				continue
			}
			k.hit(cBuffersMatchOracle)
			if want := o.Page(int(b.Tag.Block), b.Page.LSN); b.Page != want {
				return fmt.Errorf("%v buffer %d holds page %d at %v: %s, the oracle has %s (dirty %t, outdated %t)",
					n.Cfg.Host, id, b.Tag.Block, b.Page.LSN, oracle.FormatPage(b.Page), oracle.FormatPage(want), b.Dirty, b.Outdated)
			}
		}
	}
	return nil
}

// displaced reports whether n is a primary (or a read-write mount) that
// does not hold the writer role: a promote took it, so its pool holds its own WAL's changes, which never reached storage
// (fenced) or were overwritten there (SingleWriter's business), so the
// history does not describe them (as for ReadsReflectAcked's reads).
func (k *Checks) displaced(n *shmem.Node) bool {
	w, _, ok := k.c.Dev.Writer()
	writer := ok && w == n.Cfg.Host
	if n.Primary {
		return !writer // also a primary whose mount a stop already took
	}
	m := n.Mount
	return m != nil && m.Mode() == storage.MountReadWrite && !writer
}
