package check

import (
	"fmt"
	"sort"

	"promotesim/postmaster"
	"promotesim/scenarios/oracle"
	"promotesim/shmem"
	"promotesim/storage"
)

type pendingRead struct {
	idx     int
	node    *shmem.Node
	reinits int           // node.Reinits when the read was served
	epoch   storage.Epoch // the device's writer epoch when the read was served
}

// replicaReads: a read served in recovery returns exactly the oracle's page
// at the replay position it was served at. A position past the end of
// valid WAL means the replica applied WAL storage no longer has.
func (k *Checks) replicaReads() error {
	reads := k.c.Journal.Reads
	if k.replicaSeen == len(reads) {
		return nil
	}
	if err := k.O.Sync(); err != nil {
		return err
	}
	for ; k.replicaSeen < len(reads); k.replicaSeen++ {
		rr := &reads[k.replicaSeen]
		if rr.Primary || rr.Page.Rel != k.O.Rel() {
			continue
		}
		k.hit(cReplicaReadsMatchOracle)
		if err := k.matchOracle(rr, "replay position"); err != nil {
			k.replicaSeen++
			return err
		}
	}
	return nil
}

func (k *Checks) matchOracle(rr *postmaster.ReadResult, what string) error {
	if rr.At > k.O.End() {
		return fmt.Errorf("%v read page %d at %s %v, past the end of valid WAL %v", rr.Node, rr.Page.Block, what, rr.At, k.O.End())
	}
	want := k.O.Page(int(rr.Page.Block), rr.At)
	if rr.Content != want {
		return fmt.Errorf("%v read page %d at %s %v: got %s, the oracle has %s", rr.Node, rr.Page.Block, what, rr.At,
			oracle.FormatPage(rr.Content), oracle.FormatPage(want))
	}
	return nil
}

// readsReflectAcked: a read on the read-write primary that holds the
// writer role (1) was served at a
// position covering every commit acknowledged before it began, (2) shows
// every slot value of such a commit as visible, and (3) equals the oracle's
// page at that position, which then holds every such commit's writes or
// later ones. The primary serves at its insert position, which may be past
// the WAL on storage (records still in WAL buffers): (3) waits until the
// WAL is there, and is dropped if the node dies first, a crash
// reinitialisation included (shmem.Node.Reinits: its unwritten WAL is
// gone, and the position may later hold other records), or loses the
// writer role first (a promote remounted another node read-write: under
// fence epoch the displaced node's WAL writes fail, PANIC, and the new
// primary's WAL takes the position, seeds 64659 and 69173).
func (k *Checks) readsReflectAcked() error {
	j := k.c.Journal
	for len(k.ackSteps) < len(j.Acks) {
		a := &j.Acks[len(k.ackSteps)]
		m := a.CommitEnd
		if k.ownHistory(a) {
			m = 0 // another history: not the shared primary's to reflect
		}
		if l := len(k.ackMaxEnd); l > 0 {
			m = max(m, k.ackMaxEnd[l-1])
		}
		k.ackSteps = append(k.ackSteps, a.Step)
		k.ackMaxEnd = append(k.ackMaxEnd, m)
		if _, ok := k.ackByXID[a.XID]; !ok && !k.ownHistory(a) {
			k.ackByXID[a.XID] = a.Step
		}
	}
	if k.primarySeen == len(j.Reads) && len(k.pending) == 0 {
		return nil
	}
	if err := k.O.Sync(); err != nil {
		return err
	}
	for ; k.primarySeen < len(j.Reads); k.primarySeen++ {
		rr := &j.Reads[k.primarySeen]
		if !rr.Primary || rr.Page.Rel != k.O.Rel() {
			continue
		}
		w, epoch, ok := k.c.Dev.Writer()
		if !ok || w != rr.Node {
			// A displaced primary (its writer role taken by a promote)
			// still serves reads from its own memory; fencing stops its
			// writes, not its reads, and its pages hold its own WAL,
			// which the new primary's overwrote. Not the claim's reads.
			continue
		}
		k.hit(cReadsReflectAcked)
		if err := k.reflectsAcked(rr); err != nil {
			k.primarySeen++
			return err
		}
		n := k.c.Node(rr.Node)
		k.pending = append(k.pending, pendingRead{idx: k.primarySeen, node: n, reinits: n.Reinits, epoch: epoch})
	}
	w, epoch, hasWriter := k.c.Dev.Writer()
	keep := k.pending[:0]
	var err error
	for _, p := range k.pending {
		rr := &j.Reads[p.idx]
		switch {
		case err != nil:
			keep = append(keep, p)
		case !hasWriter || w != rr.Node || epoch != p.epoch:
			// Displaced before its WAL reached storage: what storage
			// holds at the position is another writer's.
		case rr.At <= k.O.End():
			err = k.matchOracle(rr, "insert position")
		case k.c.Node(rr.Node) == p.node && k.alive(p.node) && p.node.Reinits == p.reinits:
			keep = append(keep, p)
		}
	}
	k.pending = keep
	return err
}

func (k *Checks) reflectsAcked(rr *postmaster.ReadResult) error {
	// Acks with Step < Began: steps are appended in order.
	i := sort.Search(len(k.ackSteps), func(i int) bool { return k.ackSteps[i] >= rr.Began })
	if i > 0 && k.ackMaxEnd[i-1] > rr.At {
		last := -1
		for x := 0; x < i; x++ {
			if k.c.Journal.Acks[x].CommitEnd == k.ackMaxEnd[i-1] {
				last = x
			}
		}
		a := k.c.Journal.Acks[last]
		return fmt.Errorf("%v read page %d at %v (began step %d), below the commit end %v of xid %d acknowledged by %v at step %d",
			rr.Node, rr.Page.Block, rr.At, rr.Began, a.CommitEnd, a.XID, a.Node, a.Step)
	}
	for s, v := range rr.Content.Slots {
		if v == 0 {
			continue
		}
		xid := postmaster.ValueXID(v)
		if step, ok := k.ackByXID[xid]; ok && step < rr.Began && !rr.Visible[s] {
			return fmt.Errorf("%v read page %d slot %d: x%d.%d invisible, though xid %d was acknowledged at step %d before the read began (step %d)",
				rr.Node, rr.Page.Block, s, xid, uint32(v), xid, step, rr.Began)
		}
	}
	return nil
}
