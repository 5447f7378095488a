package postmaster

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// worldOpts shape a small world built the way scenarios.NewCluster builds
// one (this package cannot import scenarios, which imports it).
type worldOpts struct {
	replicas    int
	profile     shmem.Profile
	logIndexMem int // polar_logindex_mem_size on every node (0: disabled)
	sessions    int
	pages       int
	frames      int
	// faithful: every node runs shmem.FaithfulV15 PolarDB-as-coded switches.
	faithful bool
	// prewarm: polar_enable_replica_prewarm on every node.
	prewarm bool
}

func defaultWorldOpts() worldOpts {
	return worldOpts{replicas: 1, profile: shmem.ProfileV15, logIndexMem: 4, sessions: 2, pages: 8, frames: 6}
}

// event is one parsed trace line.
type event struct {
	idx   int // position in the trace
	step  uint64
	actor string
	verb  string
	line  string
}

// traceLog keeps every trace line written at the world's trace level.
type traceLog struct{ events []event }

func (l *traceLog) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		step, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, err
		}
		l.events = append(l.events, event{idx: len(l.events), step: step, actor: f[2], verb: f[3], line: line})
	}
	return len(p), nil
}

// find returns the events of actor with verb, in order.
func (l *traceLog) find(actor, verb string) []event {
	var out []event
	for _, e := range l.events {
		if e.actor == actor && e.verb == verb {
			out = append(out, e)
		}
	}
	return out
}

// first returns the first event of actor with verb, failing if none.
func (l *traceLog) first(t *testing.T, actor, verb string) event {
	t.Helper()
	es := l.find(actor, verb)
	require.NotEmpty(t, es, "no %s %s in trace", actor, verb)
	return es[0]
}

// tail renders the last n lines.
func (l *traceLog) tail(n int) string {
	es := l.events[max(0, len(l.events)-n):]
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.line)
		b.WriteByte('\n')
	}
	return b.String()
}

func (l *traceLog) String() string {
	var b strings.Builder
	for _, e := range l.events {
		b.WriteString(e.line)
		b.WriteByte('\n')
	}
	return b.String()
}

// world is one shared device, its nodes, the clients' journal and the
// scheduler.
type world struct {
	t     *testing.T
	o     worldOpts
	s     *sim.Scheduler
	dev   *storage.Device
	net   *Net
	j     *Journal
	log   *traceLog
	exits *shmem.ExitLog // the processes' exits s reports
	nodes []*shmem.Node  // by host - 1
	next  []int          // next session per node
}

const budget = 20000

func (o worldOpts) config(h storage.HostID) shmem.Config {
	c := shmem.DefaultConfig(h)
	c.Profile = o.profile
	c.Orderings = shmem.OrderingsFor(o.profile)
	if o.faithful {
		c.Fidelity = shmem.FaithfulV15()
	}
	c.ReplicaPrewarm = o.prewarm
	c.Pages = o.pages
	c.PoolFrames = o.frames
	c.LogIndex.MemSize = o.logIndexMem
	c.LogIndex.QueueBuffers = 64
	return c
}

// newWorld runs initdb from n1, boots n1 as primary and waits for
// read-write service, then boots every replica and waits for hot standby.
func newWorld(t *testing.T, seed uint64, o worldOpts) *world {
	t.Helper()
	log := &traceLog{}
	s := sim.New(sim.Config{Seed: seed, Chooser: sim.NewRandom(seed), Trace: sim.TraceConfig{Out: log, Level: sim.LevelStep}})
	dev, err := storage.NewDevice(storage.DeviceConfig{Blocks: 4096, Fence: storage.FenceNone})
	require.NoError(t, err)
	w := &world{t: t, o: o, s: s, dev: dev, net: &Net{}, j: &Journal{}, log: log, exits: shmem.WatchExits(s),
		nodes: make([]*shmem.Node, 1+o.replicas), next: make([]int, 1+o.replicas)}
	require.NoError(t, InitDB(dev, o.config(1)))
	w.boot(1, RolePrimary)
	w.await("n1 read-write", func() bool { return w.node(1).ReadWrite && len(w.node(1).Procs.Backends) == o.sessions })
	for h := 2; h <= 1+o.replicas; h++ {
		w.boot(storage.HostID(h), RoleReplica)
	}
	for h := 2; h <= 1+o.replicas; h++ {
		n := w.node(storage.HostID(h))
		w.await(fmt.Sprintf("n%d read-only service", h), func() bool { return n.Accepting && len(n.Procs.Backends) == o.sessions })
	}
	return w
}

func (w *world) node(h storage.HostID) *shmem.Node { return w.nodes[h-1] }

// op runs the operator's procedures on w's nodes.
func (w *world) op() Operator { return Operator{S: w.s, Net: w.net, Journal: w.j} }

func (w *world) boot(h storage.HostID, role Role) {
	w.t.Helper()
	var local shmem.Control
	if old := w.nodes[h-1]; old != nil {
		local = old.Local
	}
	n, err := w.op().Boot(w.dev, w.o.config(h), role, local, w.o.sessions)
	require.NoError(w.t, err)
	w.nodes[h-1] = n
	w.next[h-1] = 0
}

// await runs until cond holds; a violation or an exhausted budget fails.
func (w *world) await(what string, cond func() bool) sim.Result {
	w.t.Helper()
	r := w.s.RunUntil(cond, budget)
	if r.Violation != nil {
		w.t.Fatalf("waiting for %s: %s", what, r.Violation.Report())
	}
	if !r.Done {
		w.t.Fatalf("waiting for %s: %v (seed %d)\n%s", what, r, w.s.Seed(), w.log.tail(40))
	}
	return r
}

// run takes up to steps steps; a violation fails.
func (w *world) run(steps int) {
	w.t.Helper()
	r := w.s.Run(steps)
	if r.Violation != nil {
		w.t.Fatalf("%s", r.Violation.Report())
	}
}

// session picks host h's next client session.
func (w *world) session(h storage.HostID) sim.ActorID {
	w.t.Helper()
	n := w.node(h)
	require.True(w.t, n.Accepting, "%v not accepting", h)
	require.NotEmpty(w.t, n.Procs.Backends)
	i := w.next[h-1] % len(n.Procs.Backends)
	w.next[h-1]++
	return n.Procs.Backends[i]
}

// distinctWrite is the i-th write of a test: every i below pages*PageSlots
// names its own (page, slot), so the last acknowledged value of each is
// known regardless of commit order.
func (w *world) distinctWrite(i int) Write {
	return Write{Page: i % w.o.pages, Slot: uint8(i / w.o.pages % storage.PageSlots), Value: uint64(1000 + i)}
}

// writeN sends n one-write transactions, the first being write number from,
// to host h's sessions round robin.
func (w *world) writeN(h storage.HostID, from, n int) {
	w.t.Helper()
	for i := from; i < from+n; i++ {
		w.s.Post(w.session(h), Txn{Writes: []Write{w.distinctWrite(i)}})
	}
}

// acks returns the number of acknowledged commits by host h.
func (w *world) acks(h storage.HostID) int {
	k := 0
	for _, a := range w.j.Acks {
		if a.Node == h {
			k++
		}
	}
	return k
}

// observer returns a read-only mount of the device for checkers, on a host
// no node uses: reads see every accepted write and change nothing.
func (w *world) observer() *storage.Mount {
	w.t.Helper()
	if m, ok := w.dev.Mounted(observerHost); ok {
		return m
	}
	m, err := w.dev.Mount(observerHost, storage.MountReadOnly)
	require.NoError(w.t, err)
	return m
}

const observerHost storage.HostID = 200

// storagePage decodes page i of the relation as shared storage has it.
func storagePage(m *storage.Mount, rel storage.RelID, i int) (storage.Page, error) {
	var b [storage.BlockSize]byte
	_, err := m.ReadAt(fmt.Sprintf("base/%d", rel), b[:], int64(i)*storage.BlockSize)
	if err != nil && !errors.Is(err, io.EOF) {
		return storage.Page{}, err
	}
	if errors.Is(err, io.EOF) {
		clear(b[:])
	}
	return storage.UnmarshalPage(b[:])
}

// commitDurable returns the CommitDurable check: every acknowledgement,
// at the step it is given, carries a commit end at or below the
// acknowledging node's flushed WAL (synchronous commit, docs/model.md §2).
func (w *world) commitDurable() func() error {
	seen := 0
	return func() error {
		for ; seen < len(w.j.Acks); seen++ {
			a := w.j.Acks[seen]
			if a.Step != w.s.StepNo() {
				return fmt.Errorf("ack of xid %d stamped step %d, given at step %d", a.XID, a.Step, w.s.StepNo())
			}
			n := w.node(a.Node)
			if n.WAL == nil {
				return fmt.Errorf("%v acknowledged xid %d without WAL", a.Node, a.XID)
			}
			if a.CommitEnd > n.WAL.FlushedLSN() {
				return fmt.Errorf("%v acknowledged xid %d with commit end %v above flushed %v", a.Node, a.XID, a.CommitEnd, n.WAL.FlushedLSN())
			}
		}
		return nil
	}
}

// slotGate is the primary's flush gate computed here, independently of
// shmem.Node.FlushGate: the oldest apply LSN of its slots (during a
// shutdown checkpoint only active ones); ok is false when no slot limits.
func slotGate(n *shmem.Node) (gate storage.LSN, ok bool) {
	for _, s := range n.Slots {
		if n.ShuttingDown && !s.Active {
			continue
		}
		if !ok || s.Apply < gate {
			gate, ok = s.Apply, true
		}
	}
	return gate, ok
}

// noFuturePage returns the NoFuturePage check for primary host h: after
// every step, every page of the relation whose image on storage changed in
// that step has a page LSN at or below the primary's flush gate (the oldest
// LSN its replicas applied), so no replica reads a future page. Pages
// written before any slot existed are not the gate's business (no replica
// had told the primary where it was).
func (w *world) noFuturePage(h storage.HostID) func() error {
	m := w.observer()
	writes := w.dev.WriteCount()
	last := map[int]storage.Page{}
	return func() error {
		if w.dev.WriteCount() == writes {
			return nil
		}
		writes = w.dev.WriteCount()
		n := w.node(h)
		gate, ok := slotGate(n)
		for i := 0; i < n.Cfg.Pages; i++ {
			p, err := storagePage(m, n.Cfg.Rel, i)
			if err != nil {
				return fmt.Errorf("page %d: %w", i, err)
			}
			if p == last[i] {
				continue
			}
			last[i] = p
			if ok && p.LSN > gate {
				return fmt.Errorf("page %d written at %v, above the replicas' applied LSN %v", i, p.LSN, gate)
			}
		}
		return nil
	}
}
