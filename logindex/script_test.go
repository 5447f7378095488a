package logindex

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/stretchr/testify/require"

	"promotesim/storage"
)

// Script tests: testdata/*.txt, one handler per command. Run with -rewrite
// to regenerate expected output.

func parseLSN(t testing.TB, s string) storage.LSN {
	t.Helper()
	hi, lo, ok := strings.Cut(s, "/")
	require.True(t, ok, "LSN %q", s)
	h, err := strconv.ParseUint(hi, 16, 32)
	require.NoError(t, err)
	l, err := strconv.ParseUint(lo, 16, 32)
	require.NoError(t, err)
	return storage.LSN(h<<32 | l)
}

func parsePage(t testing.TB, s string) storage.PageID {
	t.Helper()
	r, b, ok := strings.Cut(s, "/")
	require.True(t, ok, "page %q", s)
	rel, err := strconv.ParseUint(r, 10, 32)
	require.NoError(t, err)
	blk, err := strconv.ParseUint(b, 10, 32)
	require.NoError(t, err)
	return pg(uint32(rel), uint32(blk))
}

func lsnArg(t *testing.T, d *datadriven.TestData, key string, def storage.LSN) storage.LSN {
	if a, ok := d.Arg(key); ok {
		return parseLSN(t, a.SingleVal(t))
	}
	return def
}

func intArg(t *testing.T, d *datadriven.TestData, key string, def int) int {
	if d.HasArg(key) {
		var v int
		d.ScanArgs(t, key, &v)
		return v
	}
	return def
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return "error: " + err.Error()
}

// parseRecord reads one line: "page xid=7 1/0[0]=11 ...", "fpi 3/9=1,2,3,4",
// "commit xid=7", "abort xid=8", "checkpoint redo=0/1A8", "end-of-recovery".
func parseRecord(t *testing.T, line string) *Record {
	f := strings.Fields(line)
	typ, err := ParseRecordType(f[0])
	require.NoError(t, err)
	r := &Record{Type: typ}
	for _, w := range f[1:] {
		k, v, _ := strings.Cut(w, "=")
		switch {
		case k == "xid":
			x, err := strconv.ParseUint(v, 10, 32)
			require.NoError(t, err)
			r.XID = XID(x)
		case k == "redo":
			r.Redo = parseLSN(t, v)
		case typ == RecFullPage:
			r.Block = parsePage(t, k)
			for i, s := range strings.Split(v, ",") {
				x, err := strconv.ParseUint(s, 10, 64)
				require.NoError(t, err)
				r.Image.Slots[i] = x
			}
		default:
			p, slot, ok := strings.Cut(strings.TrimSuffix(k, "]"), "[")
			require.True(t, ok, "change %q", w)
			s, err := strconv.ParseUint(slot, 10, 8)
			require.NoError(t, err)
			x, err := strconv.ParseUint(v, 10, 64)
			require.NoError(t, err)
			r.Changes = append(r.Changes, Change{Page: parsePage(t, p), Slot: uint8(s), Value: x})
		}
	}
	return r
}

type walEnv struct {
	cfg Config
	dev *storage.Device
	rw  *storage.Mount
	ro  *storage.Mount
	wal *WAL
}

func (e *walEnv) positions() string {
	return fmt.Sprintf("insert=%v written=%v flushed=%v unwritten=%d", e.wal.InsertLSN(), e.wal.WrittenLSN(), e.wal.FlushedLSN(), e.wal.Unwritten())
}

func (e *walEnv) handle(t *testing.T, d *datadriven.TestData) string {
	var b strings.Builder
	switch d.Cmd {
	case "wal":
		e.cfg = DefaultConfig()
		e.cfg.WALSegmentSize = int64(intArg(t, d, "segment", 4096))
		e.cfg.WALBuffers = intArg(t, d, "buffers", 4096)
		e.dev, e.rw, e.ro = newDevice(t)
		// The reader is an observer: its reads do not make the primary's
		// unsynced WAL survive the primary's crash, as a replica's would
		// (storage.Device.Crash), so the script can show the loss.
		e.dev.Unmount(2)
		var err error
		e.ro, err = e.dev.Observe(2)
		require.NoError(t, err)
		e.wal, err = NewWAL(e.rw, e.cfg, FirstLSN, storage.InvalidLSN)
		require.NoError(t, err)
		return e.positions()
	case "insert":
		for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
			r := parseRecord(t, line)
			if err := e.wal.Insert(r); err != nil {
				fmt.Fprintf(&b, "%s: %s\n", line, errString(err))
				continue
			}
			fmt.Fprintf(&b, "%v\n", r)
		}
		b.WriteString(e.positions())
	case "write":
		b.WriteString(errString(e.wal.Write(lsnArg(t, d, "upto", e.wal.InsertLSN()))) + "\n")
		b.WriteString(e.positions())
	case "sync":
		b.WriteString(errString(e.wal.Sync()) + "\n")
		b.WriteString(e.positions())
	case "crash":
		// The primary's unsynced writes are lost; a reader remains.
		e.dev.Crash(1, nil)
		return "n1 crashed"
	case "corrupt":
		lsn := lsnArg(t, d, "lsn", FirstLSN)
		name := SegmentName(SegNo(lsn, e.cfg.WALSegmentSize), e.cfg.WALSegmentSize)
		off := SegOffset(lsn, e.cfg.WALSegmentSize)
		c := []byte{0}
		_, err := e.ro.ReadAt(name, c, off)
		require.NoError(t, err)
		c[0] ^= 0xFF
		m, _ := e.dev.Mounted(1)
		if m == nil {
			m, err = e.dev.Mount(1, storage.MountReadWrite)
			require.NoError(t, err)
		}
		require.NoError(t, m.WriteAt(name, c, off))
		return fmt.Sprintf("flipped byte at %v in %s", lsn, name)
	case "end-of-wal":
		rd, err := NewReader(e.ro, e.cfg)
		require.NoError(t, err)
		var rec Record
		end, err := rd.FindEnd(lsnArg(t, d, "from", FirstLSN), storage.InvalidLSN, &rec, func(r *Record) error {
			fmt.Fprintf(&b, "%v\n", r)
			return nil
		})
		if err != nil {
			return b.String() + errString(err)
		}
		fmt.Fprintf(&b, "end=%v last=%v records=%d\nreason: %v", end.End, end.Last, end.Records, end.Reason)
	case "read":
		rd, err := NewReader(e.ro, e.cfg)
		require.NoError(t, err)
		var rec Record
		if err := rd.Read(lsnArg(t, d, "lsn", FirstLSN), lsnArg(t, d, "prev", 0), &rec); err != nil {
			return errString(err)
		}
		return rec.String()
	default:
		d.Fatalf(t, "unknown command %s", d.Cmd)
	}
	return b.String()
}

type queueEnv struct {
	q    *Queue
	refs map[string]Ref
	next int
}

func (e *queueEnv) state() string {
	var b strings.Builder
	fmt.Fprintf(&b, "len=%d free=%d storage-mode=%t", e.q.Len(), e.q.Free(), e.q.InStorageMode())
	for _, r := range e.q.Refs(nil) {
		kind := "weak"
		if r.Strong {
			kind = "strong"
		}
		state := "valid"
		if !r.Valid {
			state = "EVICTED"
		}
		fmt.Fprintf(&b, "\nref %s %s %s pending=%d", r.Name, kind, state, r.Pending)
	}
	return b.String()
}

func (e *queueEnv) handle(t *testing.T, d *datadriven.TestData) string {
	var b strings.Builder
	name := ""
	if d.HasArg("ref") {
		d.ScanArgs(t, "ref", &name)
	}
	switch d.Cmd {
	case "queue":
		var err error
		e.q, err = NewQueue(intArg(t, d, "cap", 4))
		require.NoError(t, err)
		e.refs = map[string]Ref{}
		return e.state()
	case "ref":
		r, err := e.q.NewRef(name, d.HasArg("strong"))
		if err != nil {
			return errString(err)
		}
		e.refs[name] = r
		return e.state()
	case "push":
		for range intArg(t, d, "n", 1) {
			m := metaAt(e.next)
			e.next++
			if e.q.Push(m) {
				fmt.Fprintf(&b, "queued %v-%v\n", m.Start, m.End)
			} else {
				fmt.Fprintf(&b, "dropped %v-%v (read from storage)\n", m.Start, m.End)
			}
		}
		b.WriteString(e.state())
	case "bypass":
		e.q.Bypass(metaAt(e.next).Start)
		return e.state()
	case "pop":
		var p Packet
		for range intArg(t, d, "n", 1000) {
			ok, err := e.q.Pop(e.refs[name], &p)
			if err != nil {
				b.WriteString(errString(err) + "\n")
				break
			}
			if !ok {
				b.WriteString("empty\n")
				break
			}
			fmt.Fprintf(&b, "%v %v\n", p.Kind, p.LSN)
		}
		b.WriteString(e.state())
	case "release":
		e.q.Release(e.refs[name])
		delete(e.refs, name)
		return e.state()
	case "reset":
		e.q.Reset()
		return e.state()
	case "stats":
		s := e.q.Stats()
		return fmt.Sprintf("pushed=%d dropped=%d evicted=%d resets=%d", s.Pushed, s.Dropped, s.Evicted, s.Resets)
	default:
		d.Fatalf(t, "unknown command %s", d.Cmd)
	}
	return b.String()
}

type indexEnv struct {
	dev        *storage.Device
	rw, ro     *storage.Mount
	prim, repl *Index
}

func (e *indexEnv) targets(t *testing.T, d *datadriven.TestData) []*Index {
	on := "both"
	if d.HasArg("on") {
		d.ScanArgs(t, "on", &on)
	}
	switch on {
	case "both":
		return []*Index{e.prim, e.repl}
	case "primary":
		return []*Index{e.prim}
	case "replica":
		return []*Index{e.repl}
	}
	d.Fatalf(t, "on=%s", on)
	return nil
}

func (e *indexEnv) name(ix *Index) string {
	if ix == e.prim {
		return "primary"
	}
	return "replica"
}

func (e *indexEnv) tables(ix *Index) string {
	var b strings.Builder
	sm := ix.Saved()
	fmt.Fprintf(&b, "%s: saved table=%d lsn=%v", e.name(ix), sm.MaxTableID, sm.MaxLSN)
	if sm.TruncLSN.Valid() {
		fmt.Fprintf(&b, " truncated table=%d lsn=%v", sm.TruncTableID, sm.TruncLSN)
	}
	b.WriteString(";")
	for i, s := range ix.Tables(nil) {
		mark := " "
		if i == ix.ActiveSlot() {
			mark = "*"
		}
		fmt.Fprintf(&b, " %s%s", mark, s.State)
		if s.Len > 0 {
			fmt.Fprintf(&b, "(%d/%d %v..%v)", s.Len, s.Cap, s.Min, s.Max)
		}
	}
	return b.String()
}

func (e *indexEnv) handle(t *testing.T, d *datadriven.TestData) string {
	var b strings.Builder
	switch d.Cmd {
	case "init":
		cfg := smallConfig(intArg(t, d, "mem", 2), intArg(t, d, "size", 4))
		e.dev, e.rw, e.ro = newDevice(t)
		var err error
		e.prim, err = New(e.rw, cfg, true)
		require.NoError(t, err)
		e.repl, err = New(e.ro, cfg, false)
		require.NoError(t, err)
		if !e.prim.Enabled() {
			return "LogIndex disabled"
		}
		return e.tables(e.prim) + "\n" + e.tables(e.repl)
	case "add":
		start := lsnArg(t, d, "lsn", 0)
		end := lsnArg(t, d, "end", start+0x40)
		a, _ := d.Arg("pages")
		var pages []storage.PageID
		for _, v := range a.Vals {
			pages = append(pages, parsePage(t, v))
		}
		for _, ix := range e.targets(t, d) {
			fmt.Fprintf(&b, "%s: %s\n", e.name(ix), errString(ix.Add(start, end, pages)))
		}
		for _, ix := range e.targets(t, d) {
			b.WriteString(e.tables(ix) + "\n")
		}
	case "tables":
		for _, ix := range e.targets(t, d) {
			b.WriteString(e.tables(ix) + "\n")
		}
	case "save":
		for _, ix := range e.targets(t, d) {
			n, err := ix.Save(lsnArg(t, d, "flushed", 0))
			fmt.Fprintf(&b, "%s: saved %d: %s\n%s\n", e.name(ix), n, errString(err), e.tables(ix))
		}
	case "truncate":
		for _, ix := range e.targets(t, d) {
			n, err := ix.Truncate(lsnArg(t, d, "lsn", 0))
			fmt.Fprintf(&b, "%s: removed %d: %s\n%s\n", e.name(ix), n, errString(err), e.tables(ix))
		}
		fmt.Fprintf(&b, "files: %v\n", tableFiles(e.ro))
	case "refresh":
		for _, ix := range e.targets(t, d) {
			fmt.Fprintf(&b, "%s: %s\n%s\n", e.name(ix), errString(ix.Refresh()), e.tables(ix))
		}
	case "history":
		var page string
		d.ScanArgs(t, "page", &page)
		for _, ix := range e.targets(t, d) {
			got, err := ix.History(nil, parsePage(t, page), lsnArg(t, d, "from", 0), lsnArg(t, d, "to", 0xFFFFFFFF))
			fmt.Fprintf(&b, "%s: %v", e.name(ix), got)
			if err != nil {
				b.WriteString(" " + errString(err))
			}
			b.WriteString("\n")
		}
	case "iterate":
		for _, ix := range e.targets(t, d) {
			it := ix.Iterate(lsnArg(t, d, "from", 0))
			fmt.Fprintf(&b, "%s:", e.name(ix))
			for range 1000 {
				en, ok, err := it.Next()
				if err != nil {
					b.WriteString(" " + errString(err))
				}
				if !ok {
					break
				}
				fmt.Fprintf(&b, " %v@%v", en.Page, en.LSN)
			}
			b.WriteString("\n")
		}
	case "promote":
		// Startup + BGW of docs/model.md §7: remount RW, make LogIndex writable,
		// record the promoted info.
		require.NoError(t, e.ro.RemountRW())
		fmt.Fprintf(&b, "set writable: %s\n", errString(e.repl.SetWritable()))
		end := lsnArg(t, d, "end", 0)
		fmt.Fprintf(&b, "set promoted: %s\n", errString(e.repl.SetPromoted(end)))
		info, _ := e.repl.Promoted()
		fmt.Fprintf(&b, "promoted info: end=%v last=%v saved-table=%d saved-lsn=%v memtable=%d\n",
			info.End, info.LastLSN, info.SavedTableID, info.SavedLSN, info.MemTableID)
		b.WriteString(e.tables(e.repl) + "\n")
	case "restart-replica":
		// A replica started later knows nothing in memory: lookups go to the
		// saved tables.
		cfg := smallConfig(len(e.repl.Tables(nil)), e.repl.Tables(nil)[0].Cap)
		var err error
		e.repl, err = New(e.ro, cfg, false)
		require.NoError(t, err)
		return e.tables(e.repl)
	default:
		d.Fatalf(t, "unknown command %s", d.Cmd)
	}
	return b.String()
}

func TestScripts(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		if !strings.HasSuffix(path, ".txt") {
			t.Skip("not a script")
		}
		var handle func(*testing.T, *datadriven.TestData) string
		switch {
		case strings.HasSuffix(path, "wal.txt"):
			handle = (&walEnv{}).handle
		case strings.HasSuffix(path, "queue.txt"):
			handle = (&queueEnv{}).handle
		case strings.HasSuffix(path, "logindex.txt"):
			handle = (&indexEnv{}).handle
		default:
			t.Fatalf("no handler for %s", path)
		}
		datadriven.RunTest(t, path, handle)
	})
}
