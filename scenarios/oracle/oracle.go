package oracle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"promotesim/logindex"
	"promotesim/scenarios/cluster"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// ObserverHost is the host id of the checkers' read-only mount of the shared
// device. No node uses it: a read-only mount sees every accepted write
// (direct I/O) and changes nothing a process can observe.
const ObserverHost storage.HostID = 200

// snapEvery is how many records of one page separate two cached page
// images, so Page replays at most snapEvery records, not the whole WAL.
const snapEvery = 64

// fullEvery bounds how long a WAL change nobody wrote can go unseen: a
// crash of a host that is already unmounted drops its unsynced WAL without
// a write or a mount change, so every fullEvery steps the oracle compares
// all of the WAL it knows with storage.
const fullEvery = 1024

// maxRecords bounds one Sync's parse loop (the device is finite anyway).
const maxRecords = 1 << 24

// Oracle is the reference every correctness check compares against (docs/model.md
// §2 "Oracle"). It knows the WAL on shared storage and nothing else: it
// reads it through its own read-only mount (ObserverHost) and decodes it
// with logindex's record format (the same framing, CRC and prev-link rules
// as logindex.Reader, which a test holds it to), never through a node, so
// a process that gets the protocol wrong cannot fool it. The acknowledged
// commits it is compared with are the clients' (postmaster.Journal.Acks).
//
// API: Sync (catch up; cheap when nothing changed), End (end of valid
// WAL), Page (a page's expected content at an LSN), Status (an xid's clog
// status at an LSN), LastChange (the end of a page's last change below an
// LSN), Records, RecordAt, CommitRecord, and Lost and Cuts (what the
// history ever held that it no longer does).
//
// The current history is the chain of valid records from logindex.FirstLSN
// to the end of valid WAL (each record's prev link names the one before,
// as PostgreSQL's xl_prev check). From it the oracle answers, for any LSN
// X, what every page of the workload relation and the clog must contain
// if every record ending at or below X were applied (docs/model.md §2: records apply
// in order, only to a page whose LSN is below the record's end).
//
// Sync catches up incrementally. It parses only records past the known end,
// and keeps a copy of the WAL bytes below the end: when the device's write
// log shows a WAL segment was written, or a host's mount changed (a crash
// drops unsynced writes without writing), it compares storage with that copy
// and re-parses from the first record whose bytes changed. A once-valid
// record that leaves the history is remembered (Lost): overwritten by an
// accepted write (WAL inserted below an end of valid WAL, which no correct
// protocol does) or retracted (its unsynced bytes were dropped by a crash,
// which is how unflushed WAL legitimately disappears).
type Oracle struct {
	s     *sim.Scheduler
	dev   *storage.Device
	m     *storage.Mount
	seg   int64
	rel   storage.RelID
	pages int
	// hosts returns how many node hosts to watch for mount changes.
	hosts func() int

	seen     uint64           // device write count already looked at
	mounts   []*storage.Mount // per host-1, the mount seen last
	lastFull uint64           // step of the last full comparison
	// mountStep: the step whose mounts were looked at (mountLooked false:
	// look again even in the same step, after an operator's action).
	mountStep   uint64
	mountLooked bool
	needFull    bool // a full comparison is owed (observer was blind)

	recs   []logindex.Record // current history, ascending Start
	arena  []logindex.Change // Changes of recs point into it (append only)
	end    storage.LSN       // end of valid WAL
	mirror []byte            // WAL bytes [0, end) as last read

	byPage [][]int32        // per page: indices of records touching it
	snaps  [][]storage.Page // per page: image after each snapEvery records
	byXID  [][]int32        // per xid: indices of its records (page, commit, abort)

	lost []LostRecord
	cuts []Cut

	rec       logindex.Record
	chunk     []byte
	chunkEOF  bool
	names     []string // segment names by number
	wbuf      []storage.WriteRecord
	segs      []uint64
	hostOfSeg []storage.HostID
	segOf     map[string]uint64 // WAL path -> segment number (lookup only)
	buf       []byte
	pgs       []storage.PageID
}

// LostRecord is a once-valid record of the history that is no longer in it.
type LostRecord struct {
	Rec logindex.Record
	// Overwritten: an accepted write changed its bytes (By is the writing
	// host); otherwise a crash or torn write took it back.
	Overwritten bool
	By          storage.HostID
	OldEnd      storage.LSN // end of valid WAL before it was lost
	Step        uint64
}

// Cut is one change of the history: every record from LSN on was
// re-read, and at least one once-valid record was lost.
type Cut struct {
	LSN         storage.LSN
	OldEnd      storage.LSN
	Overwritten bool
	Step        uint64
}

// Rebind points the oracle's host count at c, the cluster it watches: a
// copy of a world (the exhaustive check's snapshots) cannot copy the
// closure New took, which still counts the original's hosts.
func (o *Oracle) Rebind(c *cluster.Cluster) { o.hosts = c.HostCount }

// NewOracle returns an oracle over c's shared device, mounting it
// read-only as ObserverHost.
func New(c *cluster.Cluster) (*Oracle, error) {
	cfg := c.NodeConfig(1)
	m, ok := c.Dev.Mounted(ObserverHost)
	if !ok {
		var err error
		if m, err = c.Dev.Observe(ObserverHost); err != nil {
			return nil, fmt.Errorf("oracle: mount observer: %w", err)
		}
	}
	o := &Oracle{s: c.S, dev: c.Dev, m: m, seg: cfg.LogIndex.WALSegmentSize, rel: cfg.Rel, pages: c.Opts.Pages,
		hosts: c.HostCount, end: logindex.FirstLSN,
		mirror: make([]byte, logindex.FirstLSN), segOf: map[string]uint64{},
		byPage: make([][]int32, c.Opts.Pages), snaps: make([][]storage.Page, c.Opts.Pages),
		// Room for a small world's history, so it does not regrow from one.
		recs: make([]logindex.Record, 0, 64), arena: make([]logindex.Change, 0, 64), byXID: make([][]int32, 0, 64)}
	return o, nil
}

// Progress is what the checkers consume of the oracle's state: when none
// of it moved, nothing they read of the oracle did.
type Progress struct {
	Seen             uint64
	End              storage.LSN
	Recs, Lost, Cuts int
}

// Progress returns the oracle's progress now.
func (o *Oracle) Progress() Progress {
	return Progress{Seen: o.seen, End: o.end, Recs: len(o.recs), Lost: len(o.lost), Cuts: len(o.cuts)}
}

// Mount is the oracle's read-only observer mount of the shared device
// (ObserverHost), for checkers that read storage themselves.
func (o *Oracle) Mount() *storage.Mount { return o.m }

// Memory is the oracle's memory that decides what it reports later
// (scratch buffers left out): its progress, its last full comparison and
// whether one is owed, the mounts it saw and its change arena. The
// checkers' watch test holds it still across a skipped step.
type Memory struct {
	Progress
	LastFull      uint64
	NeedFull      bool
	Mounts, Arena int
}

// Memory returns the oracle's memory now.
func (o *Oracle) Memory() Memory {
	return Memory{Progress: o.Progress(), LastFull: o.lastFull, NeedFull: o.needFull, Mounts: len(o.mounts), Arena: len(o.arena)}
}

// Rel is the workload relation the oracle follows.
func (o *Oracle) Rel() storage.RelID { return o.rel }

// PageCount is the number of workload pages.
func (o *Oracle) PageCount() int { return o.pages }

// End is the end of valid WAL on storage (the current history).
func (o *Oracle) End() storage.LSN { return o.end }

// Records returns the current history (read only).
func (o *Oracle) Records() []logindex.Record { return o.recs }

// Lost returns every once-valid record that left the history, in order.
func (o *Oracle) Lost() []LostRecord { return o.lost }

// Cuts returns every change of the history that lost a record, in order.
func (o *Oracle) Cuts() []Cut { return o.cuts }

// Blind reports whether reading now could consume an injected read fault
// meant for a node (a fault for any host, or for the observer): then the
// oracle does not read this step, so observing never changes the world.
func Blind(d *storage.Device) bool { return d.ReadFaultFor(ObserverHost) }

// mountsChanged notes a mount or unmount of any node host since the last
// look (a crash drops that host's unsynced writes without a write record).
func (o *Oracle) mountsChanged() bool {
	n := o.hosts()
	for len(o.mounts) < n {
		o.mounts = append(o.mounts, nil)
	}
	changed := false
	for i := 0; i < n; i++ {
		m, _ := o.dev.Mounted(storage.HostID(i + 1))
		if m != o.mounts[i] {
			o.mounts[i] = m
			changed = true
		}
	}
	return changed
}

// Sync catches up with storage. It is cheap when nothing changed: a
// comparison of the device's write count and of the node hosts' mounts.
func (o *Oracle) Sync() error { return o.sync(false) }

// SyncFull compares all of the known WAL with storage, then catches up.
func (o *Oracle) SyncFull() error { return o.sync(true) }

// Touch makes the next Sync look at the hosts' mounts again, although no
// step ran: for checks run between steps, after an operator's action.
func (o *Oracle) Touch() { o.mountLooked = false }

// Quiet reports whether a Sync now would do nothing but look at the write
// count and the mounts: no full comparison is owed or due.
func (o *Oracle) Quiet() bool {
	return !o.needFull && o.mountLooked && o.s.StepNo()-o.lastFull < fullEvery
}

func (o *Oracle) sync(force bool) error {
	wc := o.dev.WriteCount()
	step := o.s.StepNo()
	full := force || o.needFull || step-o.lastFull >= fullEvery
	// Mounts change only in a step or by an operator between steps: one
	// look per step serves every checker of the round.
	if step != o.mountStep || !o.mountLooked {
		o.mountStep, o.mountLooked = step, true
		full = o.mountsChanged() || full
	}
	if wc == o.seen && !full {
		return nil
	}
	if Blind(o.dev) {
		o.needFull = o.needFull || full
		return nil
	}
	walWritten, gap, err := o.followWrites(wc)
	if err != nil {
		return err
	}
	full = full || gap
	if full {
		o.lastFull, o.needFull = step, false
	}
	if !walWritten && !full {
		return nil
	}
	diff, over, by, err := o.firstDifference(full)
	if err != nil {
		return err
	}
	if diff < o.end {
		return o.reparse(diff, over, by, step)
	}
	return o.parse()
}

// followWrites notes the WAL segments written since the oracle last
// looked (o.segs, with the host of each) up to write count wc, and
// reports whether WAL was written and whether the device's write log
// dropped records the oracle did not see (then a full comparison is due).
func (o *Oracle) followWrites(wc uint64) (walWritten, gap bool, err error) {
	o.segs, o.hostOfSeg = o.segs[:0], o.hostOfSeg[:0]
	if wc == o.seen {
		return false, false, nil
	}
	o.wbuf = o.dev.AppendWritesSince(o.wbuf[:0], o.seen)
	if len(o.wbuf) == 0 || o.wbuf[0].Seq > o.seen+1 {
		gap = true // the ring dropped records we did not see
	}
	for i := range o.wbuf {
		r := &o.wbuf[i]
		if !strings.HasPrefix(r.Path, "pg_wal/") {
			continue
		}
		walWritten = true
		sn, err := o.segNo(r.Path)
		if err != nil {
			return false, false, err
		}
		if !containsSeg(o.segs, sn) {
			o.segs = append(o.segs, sn)
			o.hostOfSeg = append(o.hostOfSeg, r.Host)
		}
	}
	o.seen = wc
	return walWritten, gap, nil
}

// firstDifference is the first byte below the end that storage no longer
// agrees with (o.end if none), comparing every segment when full, else
// those just written; over says a segment written now holds it, by whom.
func (o *Oracle) firstDifference(full bool) (diff storage.LSN, over bool, by storage.HostID, err error) {
	diff = o.end
	consider := func(sn uint64) error {
		d, err := o.compareSegment(sn)
		if err != nil {
			return err
		}
		if d < diff {
			diff = d
			over = false
			for i, s := range o.segs {
				if s == sn {
					over, by = true, o.hostOfSeg[i]
				}
			}
		}
		return nil
	}
	if full {
		for sn := uint64(0); int64(sn)*o.seg < int64(o.end); sn++ {
			if err := consider(sn); err != nil {
				return 0, false, 0, err
			}
		}
	} else {
		for _, sn := range o.segs {
			if err := consider(sn); err != nil {
				return 0, false, 0, err
			}
		}
	}
	return diff, over, by, nil
}

func containsSeg(s []uint64, x uint64) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// segNo parses a WAL segment path (logindex.SegmentName's format).
func (o *Oracle) segNo(path string) (uint64, error) {
	if sn, ok := o.segOf[path]; ok {
		return sn, nil
	}
	name := strings.TrimPrefix(path, "pg_wal/")
	if len(name) != 24 {
		return 0, fmt.Errorf("oracle: WAL file %q is not a segment name", path)
	}
	hi, err1 := strconv.ParseUint(name[8:16], 16, 32)
	lo, err2 := strconv.ParseUint(name[16:24], 16, 32)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("oracle: WAL file %q is not a segment name", path)
	}
	sn := hi*(uint64(0x100000000)/uint64(o.seg)) + lo
	o.segOf[path] = sn
	return sn, nil
}

// readWAL fills p with the WAL bytes at lsn as storage has them now; n is
// how many bytes exist (a missing segment or short file ends the WAL).
func (o *Oracle) readWAL(lsn storage.LSN, p []byte) (int, error) {
	done := 0
	for done < len(p) {
		sn := logindex.SegNo(lsn, o.seg)
		off := logindex.SegOffset(lsn, o.seg)
		k := min(int64(len(p)-done), o.seg-off)
		got, err := o.m.ReadAt(o.segName(sn), p[done:done+int(k)], off)
		done += got
		if errors.Is(err, io.EOF) || errors.Is(err, storage.ErrNotExist) {
			return done, nil
		}
		if err != nil {
			return done, fmt.Errorf("oracle: read WAL at %v: %w", lsn, err)
		}
		lsn += storage.LSN(k)
	}
	return done, nil
}

// segName is logindex.SegmentName, cached (formatting costs more than
// the read).
func (o *Oracle) segName(sn uint64) string {
	for uint64(len(o.names)) <= sn {
		o.names = append(o.names, "")
	}
	if o.names[sn] == "" {
		o.names[sn] = logindex.SegmentName(sn, o.seg)
	}
	return o.names[sn]
}

// compareSegment returns the first LSN of segment sn below the end whose
// byte differs from the copy (o.end if none).
func (o *Oracle) compareSegment(sn uint64) (storage.LSN, error) {
	lo := storage.LSN(int64(sn) * o.seg)
	hi := min(lo+storage.LSN(o.seg), o.end)
	lo = max(lo, logindex.FirstLSN)
	if hi <= lo {
		return o.end, nil
	}
	n := int(hi - lo)
	if cap(o.buf) < n {
		// Grow geometrically: the end moves on a little with every WAL
		// write, and an exact fit was a new buffer each time.
		o.buf = make([]byte, n, min(max(n, 2*cap(o.buf)), int(o.seg)))
	}
	b := o.buf[:n]
	got, err := o.readWAL(lo, b)
	if err != nil {
		return 0, err
	}
	// Bytes past the end of a file read as zeros (a record's padding may
	// not be written yet), as parse assumed.
	clear(b[got:])
	want := o.mirror[lo:hi]
	if bytes.Equal(b, want) {
		return o.end, nil
	}
	for i := range b {
		if b[i] != want[i] {
			return lo + storage.LSN(i), nil
		}
	}
	return o.end, nil
}

// reparse drops the records from the one holding diff on, parses again,
// and records every old record that did not come back.
func (o *Oracle) reparse(diff storage.LSN, over bool, by storage.HostID, step uint64) error {
	k := sort.Search(len(o.recs), func(i int) bool { return o.recs[i].Start > diff }) - 1
	k = max(k, 0)
	oldEnd := o.end
	old := append([]logindex.Record(nil), o.recs[k:]...)
	o.truncate(k)
	if err := o.parse(); err != nil {
		return err
	}
	cut := Cut{LSN: oldEnd, OldEnd: oldEnd, Overwritten: over, Step: step}
	for i := range old {
		r := &old[i]
		j := sort.Search(len(o.recs), func(x int) bool { return o.recs[x].Start >= r.Start })
		if j < len(o.recs) && o.recs[j].Start == r.Start && SameRecord(&o.recs[j], r) {
			continue
		}
		keep := *r
		keep.Changes = append([]logindex.Change(nil), r.Changes...)
		o.lost = append(o.lost, LostRecord{Rec: keep, Overwritten: over, By: by, OldEnd: oldEnd, Step: step})
		cut.LSN = min(cut.LSN, r.Start)
	}
	if cut.LSN < oldEnd {
		o.cuts = append(o.cuts, cut)
	}
	return nil
}

// SameRecord compares everything a record says.
func SameRecord(a, b *logindex.Record) bool {
	if a.Type != b.Type || a.XID != b.XID || a.Start != b.Start || a.End != b.End || a.Prev != b.Prev ||
		a.Redo != b.Redo || a.Block != b.Block || a.Image != b.Image || len(a.Changes) != len(b.Changes) {
		return false
	}
	for i := range a.Changes {
		if a.Changes[i] != b.Changes[i] {
			return false
		}
	}
	return true
}

// truncate drops records k.. from the history and every index.
func (o *Oracle) truncate(k int) {
	for i := len(o.recs) - 1; i >= k; i-- {
		r := &o.recs[i]
		o.pgs = o.PagesOf(r, o.pgs[:0])
		for _, pg := range o.pgs {
			p := pg.Block
			l := o.byPage[p]
			o.byPage[p] = l[:len(l)-1]
			o.snaps[p] = o.snaps[p][:len(o.byPage[p])/snapEvery]
		}
		if r.XID != 0 && int(r.XID) < len(o.byXID) {
			l := o.byXID[r.XID]
			o.byXID[r.XID] = l[:len(l)-1]
		}
	}
	o.end = logindex.FirstLSN
	if k > 0 {
		o.end = o.recs[k-1].End
	}
	o.recs = o.recs[:k]
	o.mirror = o.mirror[:o.end]
}

// PagesOf appends the workload pages r touches (page numbers).
func (o *Oracle) PagesOf(r *logindex.Record, dst []storage.PageID) []storage.PageID {
	base := len(dst)
	dst = r.Pages(dst)
	out := dst[:base]
	for _, p := range dst[base:] {
		if p.Rel == o.rel && int(p.Block) < o.pages {
			out = append(out, p)
		}
	}
	return out
}

// Record framing the oracle parses with (logindex's encoding: a 24-byte
// header starting with the total length; Record.Decode checks the rest).
const (
	recHeader = 24
	recMax    = 4096 // far above any record; a larger length is garbage
	chunkMin  = 512
)

// parse reads valid records past the end and indexes them. It reads the
// WAL in chunks and lets logindex.Record.Decode validate each record
// (length, type, CRC), then checks the prev link the way Reader.Read does;
// TestOracleMatchesReader holds it to the Reader's FindEnd.
func (o *Oracle) parse() error {
	prev := storage.InvalidLSN
	if len(o.recs) > 0 {
		prev = o.recs[len(o.recs)-1].Start
	}
	from := o.end
	o.chunk, o.chunkEOF = o.chunk[:0], false
	pos := 0
	for range maxRecords {
		ok, err := o.fill(from, pos+recHeader)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		n := int(binary.LittleEndian.Uint32(o.chunk[pos:]))
		if n < recHeader || n > recMax {
			break
		}
		if ok, err = o.fill(from, pos+n); err != nil {
			return err
		}
		if !ok || o.rec.Decode(o.chunk[pos:pos+n]) != nil || prev.Valid() && o.rec.Prev != prev {
			// The record may be one crash recovery declared aborted
			// (an OVERWRITE_CONTRECORD at its missing page names it):
			// the history goes on there.
			skip, err := o.overwritten(from, pos, n, prev)
			if err != nil {
				return err
			}
			if skip == 0 {
				break
			}
			pos += skip
			o.end += storage.LSN(skip)
			n = int(binary.LittleEndian.Uint32(o.chunk[pos:]))
		}
		al := int(logindex.Align(storage.LSN(n)))
		o.rec.Start, o.rec.End = o.end, o.end+storage.LSN(al)
		o.add(&o.rec)
		// The padding may not be on storage yet: it reads as zeros.
		if _, err := o.fill(from, pos+al); err != nil {
			return err
		}
		prev, o.end = o.rec.Start, o.rec.End
		pos += al
	}
	have := min(pos, len(o.chunk))
	o.mirror = append(o.mirror, o.chunk[:have]...)
	for range pos - have {
		o.mirror = append(o.mirror, 0)
	}
	return nil
}

// fill makes o.chunk (the WAL from from on) at least need bytes long,
// reading more from storage; false if the WAL on storage is shorter.
func (o *Oracle) fill(from storage.LSN, need int) (bool, error) {
	for len(o.chunk) < need {
		if o.chunkEOF {
			return false, nil
		}
		base := len(o.chunk)
		want := max(need-base, chunkMin)
		o.chunk = append(o.chunk, make([]byte, want)...)
		got, err := o.readWAL(from+storage.LSN(base), o.chunk[base:])
		if err != nil {
			return false, err
		}
		if got < want {
			o.chunkEOF = true
		}
		o.chunk = o.chunk[:base+got]
	}
	return true, nil
}

// add appends r (its Changes copied into the arena) and indexes it.
func (o *Oracle) add(r *logindex.Record) {
	i := int32(len(o.recs))
	c := *r
	base := len(o.arena)
	o.arena = append(o.arena, r.Changes...)
	c.Changes = o.arena[base:len(o.arena):len(o.arena)]
	o.recs = append(o.recs, c)
	o.pgs = o.PagesOf(&c, o.pgs[:0])
	for _, p := range o.pgs {
		l := append(o.byPage[p.Block], i)
		o.byPage[p.Block] = l
		if len(l)%snapEvery == 0 {
			var img storage.Page
			if s := o.snaps[p.Block]; len(s) > 0 {
				img = s[len(s)-1]
			}
			for _, j := range l[len(l)-snapEvery:] {
				applyOracle(&o.recs[j], p, &img)
			}
			o.snaps[p.Block] = append(o.snaps[p.Block], img)
		}
	}
	if c.XID != 0 {
		for int(c.XID) >= len(o.byXID) {
			o.byXID = append(o.byXID, nil)
		}
		o.byXID[c.XID] = append(o.byXID[c.XID], i)
	}
}

// pageID is workload page i.
func (o *Oracle) pageID(i int) storage.PageID {
	return storage.PageID{Rel: o.rel, Block: storage.BlockNo(i)}
}

// upto is how many of page's records end at or below at.
func (o *Oracle) upto(page int, at storage.LSN) int {
	l := o.byPage[page]
	return sort.Search(len(l), func(i int) bool { return o.recs[l[i]].End > at })
}

// Page returns page as it must be once every record of the history ending
// at or below at is applied to an empty page. Pages outside the relation
// are empty.
func (o *Oracle) Page(page int, at storage.LSN) storage.Page {
	var img storage.Page
	if page < 0 || page >= o.pages {
		return img
	}
	j := o.upto(page, at)
	from := 0
	if s := j / snapEvery; s > 0 {
		img, from = o.snaps[page][s-1], s*snapEvery
	}
	id := o.pageID(page)
	for _, i := range o.byPage[page][from:j] {
		applyOracle(&o.recs[i], id, &img)
	}
	return img
}

// LastChange returns the end of the last record of the history that
// changes page and starts below below (InvalidLSN if none): what a page
// written to storage must at least contain once the consistent LSN is
// below (ConsistentLSNDurable).
func (o *Oracle) LastChange(page int, below storage.LSN) storage.LSN {
	if page < 0 || page >= o.pages {
		return storage.InvalidLSN
	}
	l := o.byPage[page]
	j := sort.Search(len(l), func(i int) bool { return o.recs[l[i]].Start >= below })
	if j == 0 {
		return storage.InvalidLSN
	}
	return o.recs[l[j-1]].End
}

// Status returns xid's clog status once every record ending at or below at
// is replayed (no commit or abort record yet: in progress).
func (o *Oracle) Status(xid logindex.XID, at storage.LSN) shmem.XactStatus {
	st := shmem.XactInProgress
	if int(xid) >= len(o.byXID) {
		return st
	}
	for _, i := range o.byXID[xid] {
		r := &o.recs[i]
		if r.End > at {
			break
		}
		switch r.Type {
		case logindex.RecCommit, logindex.RecCommitPrepared:
			st = shmem.XactCommitted
		case logindex.RecAbort, logindex.RecAbortPrepared:
			st = shmem.XactAborted
		}
	}
	return st
}

// MaxXID is the largest xid any record of the history carries.
func (o *Oracle) MaxXID() logindex.XID {
	for x := len(o.byXID) - 1; x > 0; x-- {
		if len(o.byXID[x]) > 0 {
			return logindex.XID(x)
		}
	}
	return 0
}

// RecordAt returns the history's record starting at lsn.
func (o *Oracle) RecordAt(lsn storage.LSN) (*logindex.Record, bool) {
	j := sort.Search(len(o.recs), func(i int) bool { return o.recs[i].Start >= lsn })
	if j < len(o.recs) && o.recs[j].Start == lsn {
		return &o.recs[j], true
	}
	return nil, false
}

// CommitRecord returns xid's commit record (COMMIT or COMMIT PREPARED) if
// the history has one ending at end.
func (o *Oracle) CommitRecord(xid logindex.XID, end storage.LSN) (*logindex.Record, bool) {
	j := sort.Search(len(o.recs), func(i int) bool { return o.recs[i].End >= end })
	if j < len(o.recs) {
		r := &o.recs[j]
		if r.End == end && (r.Type == logindex.RecCommit || r.Type == logindex.RecCommitPrepared) && r.XID == xid {
			return r, true
		}
	}
	return nil, false
}

// WriteOf returns the index of xid's page record below end that sets slot
// of page to value (-1 if the history has none).
func (o *Oracle) WriteOf(xid logindex.XID, page, slot int, value uint64, end storage.LSN) int {
	if int(xid) >= len(o.byXID) {
		return -1
	}
	for _, i := range o.byXID[xid] {
		r := &o.recs[i]
		if r.Start >= end {
			break
		}
		if !r.Type.HasChanges() {
			continue
		}
		for _, c := range r.Changes {
			if c.Page == o.pageID(page) && int(c.Slot) == slot && c.Value == value {
				return int(i)
			}
		}
	}
	return -1
}

// LastWriter returns the index of the last record ending at or below at
// that sets slot of page (-1 if none).
func (o *Oracle) LastWriter(page, slot int, at storage.LSN) int {
	if page < 0 || page >= o.pages {
		return -1
	}
	l := o.byPage[page]
	id := o.pageID(page)
	for j := o.upto(page, at) - 1; j >= 0; j-- {
		r := &o.recs[l[j]]
		if r.Type == logindex.RecFullPage || r.Type == logindex.RecInitPage {
			// An image or an init record sets every slot: an init
			// record empties those it does not name, so the page's
			// content restarts there.
			return int(l[j])
		}
		for _, c := range r.Changes {
			if c.Page == id && int(c.Slot) == slot {
				return int(l[j])
			}
		}
	}
	return -1
}

// FormatPage renders a page like the scripts do: lsn and slots by writer.
func FormatPage(p storage.Page) string {
	var slots []string
	for _, v := range p.Slots {
		if v == 0 {
			slots = append(slots, "-")
			continue
		}
		slots = append(slots, fmt.Sprintf("x%d.%d", uint64(v)>>32, uint32(v)))
	}
	return fmt.Sprintf("lsn=%v slots=[%s]", p.LSN, strings.Join(slots, " "))
}
