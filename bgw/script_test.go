package bgw

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// Script tests: testdata/*.txt, one handler per command. Run with -rewrite
// to regenerate expected output.
//
// Commands:
//
//	world pages=N frames=N workers=K batch=B   a fresh device and old primary
//	write                                      old primary inserts records, one a line:
//	                                           "page xid=1 0[0]=10 1[2]=7" (block[slot]=value)
//	                                           or "commit xid=1"
//	checkpoint                                 old primary writes every page: the redo pointer
//	replica                                    node n2 mounts read-only, indexes all WAL
//	index                                      n2's startup indexes WAL written since
//	load page=N [upto=P]                       n2 reads a page into its pool (replayed below P)
//	consistent at=P                            the primary's consistent LSN n2 learned
//	hot-standby                                startup starts REPLICA_BUF_REPLAYING at redo
//	promote                                    postmaster: remount read-write, SIGUSR2 to the BGW
//	reset [start=P]                            startup: new WAL at the end, BGW reset to P (redo)
//	run [steps=N]                              run the scheduler; prints the trace
//	signal sig=SIGTERM to=bgw|replay<i>        deliver a signal
//	pin page=N / unpin page=N                  a backend pins or unpins a pooled page
//	backend-begin at=P / backend-end at=P      a backend replays a page from P
//	pool / bgw / check / marks                 show pool, BGW, oracle comparison, marks
//
// Points P: "redo", "end" (n2's replay LSN), "rN" (start of record N), or
// an LSN like 0/1A8.
type scriptEnv struct {
	w *world
	t *testing.T
	// printed is how much of the trace was already shown.
	printed int
}

func (e *scriptEnv) point(s string) storage.LSN {
	t := e.t
	switch {
	case s == "redo":
		return e.w.redo
	case s == "end":
		return e.w.n.ReplayLSN
	case strings.HasPrefix(s, "r"):
		i, err := strconv.Atoi(s[1:])
		require.NoError(t, err)
		require.Less(t, i, len(e.w.recs))
		return e.w.recs[i]
	}
	hi, lo, ok := strings.Cut(s, "/")
	require.True(t, ok, "point %q", s)
	h, err := strconv.ParseUint(hi, 16, 32)
	require.NoError(t, err)
	l, err := strconv.ParseUint(lo, 16, 32)
	require.NoError(t, err)
	return storage.LSN(h<<32 | l)
}

func intArg(t *testing.T, d *datadriven.TestData, key string, def int) int {
	if d.HasArg(key) {
		var v int
		d.ScanArgs(t, key, &v)
		return v
	}
	return def
}

func strArg(t *testing.T, d *datadriven.TestData, key, def string) string {
	if d.HasArg(key) {
		var v string
		d.ScanArgs(t, key, &v)
		return v
	}
	return def
}

func (e *scriptEnv) parseRecord(line string) *logindex.Record {
	t := e.t
	f := strings.Fields(line)
	typ, err := logindex.ParseRecordType(f[0])
	require.NoError(t, err)
	r := &logindex.Record{Type: typ}
	for _, w := range f[1:] {
		k, v, _ := strings.Cut(w, "=")
		if k == "xid" {
			x, err := strconv.ParseUint(v, 10, 32)
			require.NoError(t, err)
			r.XID = logindex.XID(x)
			continue
		}
		p, slot, ok := strings.Cut(strings.TrimSuffix(k, "]"), "[")
		require.True(t, ok, "change %q", w)
		blk, err := strconv.Atoi(p)
		require.NoError(t, err)
		s, err := strconv.ParseUint(slot, 10, 8)
		require.NoError(t, err)
		x, err := strconv.ParseUint(v, 10, 64)
		require.NoError(t, err)
		r.Changes = append(r.Changes, logindex.Change{Page: e.w.page(blk), Slot: uint8(s), Value: x})
	}
	return r
}

func (e *scriptEnv) bgwLine() string {
	b := &e.w.n.BGW
	return fmt.Sprintf("bgw: state=%s replay=%v fake-oldest=%v ctl=%s inflight=%d checkpoint-requested=%t",
		b.State().String(), b.ReplayPoint(), b.FakeOldest(), e.w.b.Control(), e.w.b.Inflight(), b.CheckpointRequested)
}

func (e *scriptEnv) pool() string {
	var b strings.Builder
	n := e.w.n
	for i := range n.Pool.Frames() {
		buf := n.Pool.Get(storage.BufferID(i))
		if !buf.Valid {
			fmt.Fprintf(&b, "buf %d: free\n", i)
			continue
		}
		fmt.Fprintf(&b, "buf %d: page=%v lsn=%v slots=%v", i, buf.Tag, buf.Page.LSN, buf.Page.Slots)
		if buf.Dirty {
			fmt.Fprintf(&b, " dirty oldest=%v", buf.OldestLSN)
		}
		if n.Pool.Pins(storage.BufferID(i)) > 0 {
			b.WriteString(" pinned")
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "flush list: %d", n.Pool.FlushLen())
	return b.String()
}

func (e *scriptEnv) check() string {
	var b strings.Builder
	want := e.w.oracle()
	ok := true
	for i := range want {
		got, pooled := e.w.current(i)
		where := "storage"
		if pooled {
			where = "pool"
		}
		if got != want[i] {
			ok = false
			fmt.Fprintf(&b, "page %v (%s): lsn=%v slots=%v, oracle lsn=%v slots=%v\n", e.w.page(i), where, got.LSN, got.Slots, want[i].LSN, want[i].Slots)
		}
	}
	if ok {
		b.WriteString("every page (pool or storage) equals the oracle")
	}
	return strings.TrimRight(b.String(), "\n")
}

func (e *scriptEnv) actor(name string) sim.ActorID {
	if name == "bgw" {
		return e.w.bgwID
	}
	i, err := strconv.Atoi(strings.TrimPrefix(name, "replay"))
	require.NoError(e.t, err, "actor %q", name)
	return e.w.workers[i]
}

func parseSignal(t *testing.T, s string) shmem.Signal {
	for _, sig := range []shmem.Signal{shmem.SIGTERM, shmem.SIGINT, shmem.SIGQUIT, shmem.SIGUSR1, shmem.SIGUSR2} {
		if sig.String() == s {
			return sig
		}
	}
	t.Fatalf("unknown signal %q", s)
	return 0
}

func (e *scriptEnv) handle(t *testing.T, d *datadriven.TestData) string {
	e.t = t
	w := e.w
	var b strings.Builder
	switch d.Cmd {
	case "world":
		cfg := shmem.DefaultConfig(2)
		cfg.Pages = intArg(t, d, "pages", 4)
		cfg.PoolFrames = intArg(t, d, "frames", 3)
		cfg.LogIndex.ParallelReplayProcNum = intArg(t, d, "workers", 2)
		cfg.LogIndex.BgReplayBatchSize = intArg(t, d, "batch", 2)
		e.w = newWorld(t, cfg)
		e.printed = 0
		return fmt.Sprintf("device with %d pages of rel %d; old primary n1 writes WAL from %v", cfg.Pages, cfg.Rel, e.w.wal.InsertLSN())
	case "write":
		for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			r := e.parseRecord(line)
			w.insert(r)
			fmt.Fprintf(&b, "r%d %v\n", len(w.recs)-1, r)
		}
		fmt.Fprintf(&b, "flushed=%v", w.wal.FlushedLSN())
	case "checkpoint":
		w.checkpoint()
		fmt.Fprintf(&b, "every page written; redo=%v", w.redo)
	case "replica":
		w.replica(sim.NewScripted(), 1)
		fmt.Fprintf(&b, "n2 mounted read-only; LogIndex holds every page record; replay-lsn=%v\n", w.n.ReplayLSN)
		b.WriteString(e.bgwLine())
	case "index":
		w.index()
		fmt.Fprintf(&b, "replay-lsn=%v", w.n.ReplayLSN)
	case "load":
		upto := w.redo
		if d.HasArg("upto") {
			upto = e.point(strArg(t, d, "upto", ""))
		}
		id := w.load(intArg(t, d, "page", 0), upto)
		p := w.n.Pool.Get(id)
		fmt.Fprintf(&b, "buf %d: page=%v lsn=%v slots=%v", id, p.Tag, p.Page.LSN, p.Page.Slots)
	case "consistent":
		w.n.PrimaryConsistent = e.point(strArg(t, d, "at", "redo"))
		fmt.Fprintf(&b, "primary consistent LSN=%v", w.n.PrimaryConsistent)
	case "hot-standby":
		w.n.BGW.StartReplicaBufReplaying(w.redo)
		b.WriteString(e.bgwLine())
	case "promote":
		w.promote()
		b.WriteString("n2 remounted read-write; SIGUSR2 sent to the BGW")
	case "reset":
		start := w.redo
		if d.HasArg("start") {
			start = e.point(strArg(t, d, "start", ""))
		}
		w.reset(start)
		fmt.Fprintf(&b, "new WAL at %v; BGW reset to start=%v end=%v\n", w.n.WAL.InsertLSN(), w.n.BGW.PromoteStart, w.n.BGW.PromoteEnd)
		b.WriteString(e.bgwLine())
	case "run":
		r := w.run(intArg(t, d, "steps", 1000), nil)
		out := w.trace.String()
		b.WriteString(out[e.printed:])
		e.printed = len(out)
		fmt.Fprintf(&b, "%v\n", r)
		b.WriteString(e.bgwLine())
	case "signal":
		sig := parseSignal(t, strArg(t, d, "sig", "SIGTERM"))
		w.s.Post(e.actor(strArg(t, d, "to", "bgw")), sig)
		fmt.Fprintf(&b, "%v queued", sig)
	case "pin", "unpin":
		id, ok := w.n.Pool.Lookup(w.page(intArg(t, d, "page", 0)))
		require.True(t, ok, "page not pooled")
		if d.Cmd == "pin" {
			w.n.Pool.Pin(id)
		} else {
			w.n.Pool.Unpin(id)
		}
		fmt.Fprintf(&b, "buf %d pins=%d", id, w.n.Pool.Pins(id))
	case "backend-begin":
		w.n.BGW.BeginBackendReplay(e.point(strArg(t, d, "at", "redo")))
		fmt.Fprintf(&b, "backends replaying=%d min start=%v", w.n.BGW.BackendReplaying, w.n.BGW.BackendMinReplayLSN())
	case "backend-end":
		w.n.BGW.EndBackendReplay(e.point(strArg(t, d, "at", "redo")))
		fmt.Fprintf(&b, "backends replaying=%d", w.n.BGW.BackendReplaying)
	case "pool":
		b.WriteString(e.pool())
	case "bgw":
		b.WriteString(e.bgwLine())
	case "check":
		b.WriteString(e.check())
	case "marks":
		for _, m := range w.s.Marks().Names() {
			fmt.Fprintf(&b, "%s %d\n", m, w.s.Marks().Count(m))
		}
		if len(w.exits.Of(w.n)) > 0 {
			for _, x := range w.exits.Of(w.n) {
				fmt.Fprintf(&b, "exit %s %s %s\n", x.Name, x.Kind, x.Err)
			}
		}
	default:
		d.Fatalf(t, "unknown command %s", d.Cmd)
	}
	return strings.TrimRight(b.String(), "\n")
}

func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if !strings.HasSuffix(path, ".txt") {
			t.Skip("not a script")
		}
		datadriven.RunTest(t, path, (&scriptEnv{}).handle)
	})
}
