package storage

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"promotesim/sim"
)

// Errors of the modelled world. Callers match them with errors.Is; the device
// wraps them with the path and host involved.
var (
	// ErrReadOnly mirrors polar_fd.c's check on a replica's shared-storage
	// file operations; the message is PolarDB's own wording.
	ErrReadOnly = errors.New("storage: replica can't modify file in shared storage")
	// ErrFenced: fence mode epoch rejected an operation carrying an epoch older
	// than the device's (the displaced writer gets an I/O error and stops).
	ErrFenced = errors.New("storage: fenced: epoch older than the device's")
	// ErrWriterDeath: fence mode detect found another writer's RWID when the
	// stale writer updated the control file (polar_check_double_write); the
	// caller PANICs.
	ErrWriterDeath = errors.New("storage: shared storage is unavailable: RWID belongs to another writer")
	// ErrNotExist: no such file.
	ErrNotExist = errors.New("storage: file does not exist")
	// ErrExists: Create of a file that is already there.
	ErrExists = errors.New("storage: file already exists")
	// ErrNoSpace: not enough free blocks; Grow the device.
	ErrNoSpace = errors.New("storage: no space left on device")
	// ErrInjectedIO: a fault injected with InjectError.
	ErrInjectedIO = errors.New("storage: injected I/O error")
	// ErrWriterExists: a plain read-write mount while another host holds the
	// writer role (only RemountRW takes it by force).
	ErrWriterExists = errors.New("storage: another host holds the writer role")
	// ErrNotMounted: the host has no (or no longer a) mount.
	ErrNotMounted = errors.New("storage: host has no mount")
	// ErrMounted: a second mount by the same host.
	ErrMounted = errors.New("storage: host already mounted")
	// ErrBadPath: a path outside the shared namespace.
	ErrBadPath = errors.New("storage: path outside the shared namespace")
)

// ControlFile is the shared control file. In fence mode detect, a write to it
// is where a stale writer learns it was displaced.
const ControlFile = "global/pg_control"

// namespace lists the top-level directories of the shared data directory the
// model knows. Anything else is a programming error of the caller, reported as
// ErrBadPath so scripts can show it.
var namespace = [...]string{
	"base/", "global/", "pg_wal/", "pg_xact/", "pg_commit_ts/", "pg_multixact/",
	"pg_replslot/", "pg_logindex/", "pg_twophase/",
}

// maxBlocks bounds the device so that a bad Grow cannot exhaust memory.
const maxBlocks = 1 << 24

// writeLogSize bounds the ring of recent write records. StaleWrites is kept
// complete separately, because it is the evidence a checker needs.
const writeLogSize = 1 << 12

// noPend marks an empty pending chain / free list.
const noPend = -1

// DeviceConfig configures a shared device.
type DeviceConfig struct {
	Blocks int       // initial capacity in blocks of BlockSize bytes
	Fence  FenceMode // IO fencing mode (required)
	// Local is local-disk mode (no PFS): RemountRW does nothing, because
	// the local file system has no remount hook.
	Local bool
}

// Device is the shared block device with a tiny PFS-like file namespace on
// top. It is a plain value driven by the scheduler: every method is one atomic
// step.
type Device struct {
	cfg DeviceConfig

	// blocks holds the blocks ever allocated, a prefix of the device:
	// every block at or past len(blocks) (up to capacity) is free and
	// pristine, so it is materialised only when alloc first hands it out.
	// A world writes a few dozen blocks of a device of hundreds or
	// thousands, and building them all cost more than its steps.
	blocks   []block
	capacity int // blocks of the device, materialised or not
	free     int // number of free blocks
	lowFree  int // no free block below this index

	files map[string]*file // lookup only; never iterated
	names []string         // sorted paths, for List
	dirty []*file          // files that may hold pending writes, first-dirtied order

	pend     []pending // slab of pending (unsynced) block images
	pendFree int32     // head of the slab's free list

	mounts    [256]*Mount
	writer    HostID
	hasWriter bool
	epoch     Epoch // highest epoch handed to a read-write mount
	rwid      rwid  // detect mode: the writer id stored on the device
	rwidGen   uint64

	seq   uint64
	ring  []WriteRecord // recent writes; record s lives at (s-1) % writeLogSize
	stale []WriteRecord // every accepted write by a non-writer, ascending Seq

	faults  []FaultSpec
	latency [256]int64
}

// rwid is PolarDB's RWID (polar_io_fencing.c): the holder's host id plus a
// random part; here a generation number stands in for the random part.
type rwid struct {
	host HostID
	gen  uint64
}

// block is one device block.
//
// Invariants: data is the visible image: the image of the newest pending
// entry, or durable when the chain is empty. Bytes of a file's last block at
// or beyond the file size are zero in data, durable and every pending image.
type block struct {
	data    [BlockSize]byte
	durable [BlockSize]byte
	head    int32 // oldest pending entry, noPend if none
	tail    int32 // newest pending entry
	file    *file // owner; nil when free
	idx     int32 // index of this block within file
	listed  bool  // in file.pending
	last    WriteRecord
}

// pending is an accepted but unsynced write of a whole block image by one
// host. Consecutive writes of a block by the same host coalesce into one
// entry, except into one another host has read (seen): those bytes are on
// the shared media, and a later write must not be able to take them back
// with it when its host crashes.
type pending struct {
	img  [BlockSize]byte
	seq  uint64 // newest write folded into this entry
	next int32
	blk  BlockNo
	host HostID
	seen bool // another host read this image (Device.Crash leaves it)
}

type file struct {
	name    string
	size    int64
	blocks  []BlockNo
	pending []int32 // indices into blocks that may have pending writes
	listed  bool    // in Device.dirty
	removed bool
}

// WriteRecord describes one accepted block write, so a checker can prove or
// refute "single writer".
type WriteRecord struct {
	Seq    uint64
	Host   HostID
	Epoch  Epoch     // the writing mount's epoch
	Mode   MountMode // the writing mount's mode (always rw: ro writes are refused)
	Writer bool      // the host held the writer role when writing
	Path   string
	Block  BlockNo
	// FileBlock is the block's index within its file (Block is the
	// device's): which page of a relation was written.
	FileBlock BlockNo
	Torn      bool // a crash tore this write (set after the fact)
}

func (r WriteRecord) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s epoch=%d %s %s block=%d", r.Seq, r.Host, r.Epoch, r.Mode, r.Path, r.Block)
	if !r.Writer {
		b.WriteString(" stale")
	}
	if r.Torn {
		b.WriteString(" torn")
	}
	return b.String()
}

// NewDevice returns an empty device.
func NewDevice(cfg DeviceConfig) (*Device, error) {
	if cfg.Blocks < 1 || cfg.Blocks > maxBlocks {
		return nil, fmt.Errorf("storage: device of %d blocks, want 1..%d", cfg.Blocks, maxBlocks)
	}
	switch cfg.Fence {
	case FenceNone, FenceEpoch, FenceDetect:
	default:
		return nil, fmt.Errorf("storage: invalid fence mode %d", cfg.Fence)
	}
	d := &Device{cfg: cfg, files: make(map[string]*file), pendFree: noPend}
	d.addBlocks(cfg.Blocks)
	// Room for what a small world writes, so the first few dozen blocks
	// and writes do not regrow these from one.
	d.blocks = make([]block, 0, min(cfg.Blocks, 64))
	d.ring = make([]WriteRecord, 0, 128)
	return d, nil
}

// Config returns the configuration the device was created with (Blocks is the
// initial capacity).
func (d *Device) Config() DeviceConfig { return d.cfg }

func (d *Device) addBlocks(n int) {
	d.capacity += n
	d.free += n
}

// Grow enlarges the device online, as the reference series grows the loop
// device under a running cluster. Capacity only increases.
func (d *Device) Grow(blocks int) error {
	if blocks < d.capacity {
		return fmt.Errorf("storage: grow to %d blocks below capacity %d", blocks, d.capacity)
	}
	if blocks > maxBlocks {
		return fmt.Errorf("storage: grow to %d blocks above limit %d", blocks, maxBlocks)
	}
	d.addBlocks(blocks - d.capacity)
	return nil
}

// Capacity is the number of blocks of the device.
func (d *Device) Capacity() int { return d.capacity }

// Used is the number of blocks allocated to files.
func (d *Device) Used() int { return d.capacity - d.free }

// Writer reports the holder of the writer role and the device epoch.
func (d *Device) Writer() (HostID, Epoch, bool) { return d.writer, d.epoch, d.hasWriter }

// Epoch is the highest epoch handed to a read-write mount (in every fence
// mode; only mode epoch enforces it).
func (d *Device) Epoch() Epoch { return d.epoch }

// WriteCount is the sequence number of the last accepted block write.
func (d *Device) WriteCount() uint64 { return d.seq }

// WritesSince returns the retained records with Seq > seq, ascending. The log
// is a ring of the most recent writes: if the first record's Seq is above
// seq+1, older ones were overwritten.
func (d *Device) WritesSince(seq uint64) []WriteRecord {
	return d.AppendWritesSince(nil, seq)
}

// AppendWritesSince is WritesSince appending to dst, so a checker running
// after every step can reuse its buffer.
func (d *Device) AppendWritesSince(dst []WriteRecord, seq uint64) []WriteRecord {
	oldest := uint64(1)
	if d.seq > uint64(len(d.ring)) {
		oldest = d.seq - uint64(len(d.ring)) + 1
	}
	for s := max(seq+1, oldest); s <= d.seq; s++ {
		dst = append(dst, d.ring[(s-1)%writeLogSize])
	}
	return dst
}

// LastWrite returns the last accepted write of block b (kept when the block
// is freed, until it is written again).
func (d *Device) LastWrite(b BlockNo) (WriteRecord, bool) {
	if int(b) >= len(d.blocks) {
		return WriteRecord{}, false // never allocated (or past the device)
	}
	r := d.blocks[b].last
	return r, r.Seq != 0
}

// StaleWrites returns every accepted write by a host that did not hold the
// writer role (possible in fence modes none and detect), ascending Seq.
func (d *Device) StaleWrites() []WriteRecord { return slices.Clone(d.stale) }

// StaleCount is len(StaleWrites()) without copying.
func (d *Device) StaleCount() int { return len(d.stale) }

// Clone returns a deep copy of the device, including mounts (which belong to
// the copy), pending writes, the write log and faults.
func (d *Device) Clone() *Device {
	c := *d
	c.blocks = slices.Clone(d.blocks)
	c.pend = slices.Clone(d.pend)
	c.ring = slices.Clone(d.ring)
	c.stale = slices.Clone(d.stale)
	c.faults = slices.Clone(d.faults)
	c.names = slices.Clone(d.names)
	c.files = make(map[string]*file, len(d.files))
	remap := make(map[*file]*file, len(d.files))
	for _, name := range d.names {
		f := d.files[name]
		nf := &file{
			name:    f.name,
			size:    f.size,
			blocks:  slices.Clone(f.blocks),
			pending: slices.Clone(f.pending),
			listed:  f.listed,
		}
		c.files[name] = nf
		remap[f] = nf
	}
	c.dirty = nil
	for _, f := range d.dirty {
		if nf, ok := remap[f]; ok {
			c.dirty = append(c.dirty, nf)
		}
	}
	for i := range c.blocks {
		if f := c.blocks[i].file; f != nil {
			c.blocks[i].file = remap[f]
		}
	}
	for h, m := range d.mounts {
		if m != nil {
			nm := *m
			nm.dev = &c
			c.mounts[h] = &nm
		}
	}
	return &c
}

// validPath reports whether path names a file of the shared namespace.
func validPath(path string) bool {
	if len(path) > 255 || strings.HasSuffix(path, "/") || strings.Contains(path, "//") {
		return false
	}
	for _, elem := range strings.Split(path, "/") {
		if elem == "." || elem == ".." {
			return false
		}
	}
	if path == ControlFile {
		return true
	}
	for _, dir := range namespace {
		if len(path) > len(dir) && strings.HasPrefix(path, dir) {
			return true
		}
	}
	return false
}

func (d *Device) create(path string) error {
	if !validPath(path) {
		return fmt.Errorf("%w: %q", ErrBadPath, path)
	}
	if _, ok := d.files[path]; ok {
		return fmt.Errorf("%w: %s", ErrExists, path)
	}
	d.files[path] = &file{name: path}
	i, _ := slices.BinarySearch(d.names, path)
	d.names = slices.Insert(d.names, i, path)
	return nil
}

func (d *Device) lookup(path string) (*file, error) {
	f := d.files[path]
	if f == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotExist, path)
	}
	return f, nil
}

func (d *Device) remove(f *file) {
	d.shrink(f, 0)
	f.removed = true
	if f.listed {
		// Removal is rare; keeping d.dirty free of dead files bounds it by
		// the number of live files.
		f.listed = false
		d.dirty = slices.DeleteFunc(d.dirty, func(x *file) bool { return x == f })
	}
	delete(d.files, f.name)
	i, ok := slices.BinarySearch(d.names, f.name)
	if !ok {
		sim.Failf("storage: file %s missing from the name index", f.name)
	}
	d.names = slices.Delete(d.names, i, i+1)
}

func (d *Device) list(dir string) []string {
	prefix := strings.TrimSuffix(dir, "/")
	if prefix != "" {
		prefix += "/"
	}
	i, _ := slices.BinarySearch(d.names, prefix)
	var out []string
	for ; i < len(d.names) && strings.HasPrefix(d.names[i], prefix); i++ {
		out = append(out, d.names[i])
	}
	return out
}

// blocksFor is the number of blocks a file of size bytes occupies.
func blocksFor(size int64) int { return int((size + BlockSize - 1) / BlockSize) }

// extend grows f to at least size bytes, allocating zeroed blocks. All or
// nothing: ErrNoSpace leaves f unchanged.
func (d *Device) extend(f *file, size int64) error {
	if size <= f.size {
		return nil
	}
	need := blocksFor(size) - len(f.blocks)
	if need > d.free {
		return fmt.Errorf("%w: %s needs %d more blocks, %d free", ErrNoSpace, f.name, need, d.free)
	}
	for range need {
		b := d.alloc()
		blk := &d.blocks[b]
		blk.file = f
		blk.idx = int32(len(f.blocks))
		f.blocks = append(f.blocks, b)
	}
	f.size = size
	return nil
}

// alloc takes the lowest free block, so layouts are deterministic.
func (d *Device) alloc() BlockNo {
	for i := d.lowFree; i < len(d.blocks); i++ {
		if d.blocks[i].file == nil {
			d.lowFree = i + 1
			d.free--
			return BlockNo(i)
		}
	}
	if len(d.blocks) < d.capacity {
		// Every materialised block is taken: the lowest free one is the
		// first never handed out.
		d.blocks = append(d.blocks, block{head: noPend, tail: noPend})
		d.lowFree = len(d.blocks)
		d.free--
		return BlockNo(len(d.blocks) - 1)
	}
	sim.Failf("storage: free count %d but no free block", d.free)
	return 0
}

// shrink truncates f to size <= f.size: blocks past the end are freed and the
// tail of the new last block is zeroed in every image (metadata changes are
// durable at once, as PFS journals them synchronously).
func (d *Device) shrink(f *file, size int64) {
	keep := blocksFor(size)
	for _, b := range f.blocks[keep:] {
		d.freeBlock(b)
	}
	f.blocks = f.blocks[:keep]
	if tail := int(size % BlockSize); tail != 0 {
		blk := &d.blocks[f.blocks[keep-1]]
		clear(blk.data[tail:])
		clear(blk.durable[tail:])
		for e := blk.head; e != noPend; e = d.pend[e].next {
			clear(d.pend[e].img[tail:])
		}
	}
	f.pending = slices.DeleteFunc(f.pending, func(i int32) bool { return int(i) >= keep })
	f.size = size
}

func (d *Device) freeBlock(b BlockNo) {
	blk := &d.blocks[b]
	for e := blk.head; e != noPend; {
		next := d.pend[e].next
		d.releasePend(e)
		e = next
	}
	last := blk.last
	*blk = block{head: noPend, tail: noPend, last: last}
	d.free++
	d.lowFree = min(d.lowFree, int(b))
}

func (d *Device) allocPend() int32 {
	if d.pendFree != noPend {
		e := d.pendFree
		d.pendFree = d.pend[e].next
		return e
	}
	d.pend = append(d.pend, pending{})
	return int32(len(d.pend) - 1)
}

func (d *Device) releasePend(e int32) {
	d.pend[e] = pending{next: d.pendFree}
	d.pendFree = e
}

// writeAt writes p at off of f on behalf of m. The caller checked mount,
// fencing and faults; space is checked here before any block changes, so a
// failed write changes nothing.
func (d *Device) writeAt(m *Mount, f *file, p []byte, off int64) error {
	end := off + int64(len(p))
	if err := d.extend(f, end); err != nil {
		return err
	}
	isWriter := d.hasWriter && d.writer == m.host
	for len(p) > 0 {
		bi := off / BlockSize
		boff := int(off % BlockSize)
		b := f.blocks[bi]
		blk := &d.blocks[b]
		n := copy(blk.data[boff:], p)
		p = p[n:]
		off += int64(n)

		d.seq++
		rec := WriteRecord{
			Seq: d.seq, Host: m.host, Epoch: m.epoch, Mode: m.mode,
			Writer: isWriter, Path: f.name, Block: b, FileBlock: BlockNo(bi),
		}
		if len(d.ring) < writeLogSize {
			d.ring = append(d.ring, rec)
		} else {
			d.ring[(d.seq-1)%writeLogSize] = rec
		}
		blk.last = rec
		if !isWriter {
			d.stale = append(d.stale, rec)
		}

		if blk.tail != noPend && d.pend[blk.tail].host == m.host && !d.pend[blk.tail].seen {
			e := &d.pend[blk.tail]
			e.img = blk.data
			e.seq = d.seq
			continue
		}
		i := d.allocPend()
		e := &d.pend[i]
		e.img = blk.data
		e.seq = d.seq
		e.blk = b
		e.host = m.host
		e.seen = false
		e.next = noPend
		if blk.tail == noPend {
			blk.head = i
		} else {
			d.pend[blk.tail].next = i
		}
		blk.tail = i
		if !blk.listed {
			blk.listed = true
			f.pending = append(f.pending, blk.idx)
		}
		if !f.listed {
			f.listed = true
			d.dirty = append(d.dirty, f)
		}
	}
	return nil
}

// readAt reads f for m. A block whose visible image is another host's
// pending write is marked seen (unless m is an observer's mount): the reader
// may build on those bytes, so they are on the shared media, not in flight.
func (d *Device) readAt(m *Mount, f *file, p []byte, off int64) (int, error) {
	if off >= f.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := len(p)
	if rest := f.size - off; int64(want) > rest {
		p = p[:rest]
	}
	n := 0
	for len(p) > 0 {
		blk := &d.blocks[f.blocks[off/BlockSize]]
		if blk.tail != noPend && !m.observer && d.pend[blk.tail].host != m.host {
			d.pend[blk.tail].seen = true
		}
		c := copy(p, blk.data[off%BlockSize:])
		p = p[c:]
		off += int64(c)
		n += c
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

// syncFile makes f's visible image durable: for each block with pending
// entries, the newest entry (whatever its host) becomes the durable image and
// subsumes the older ones. fsync is a property of the file, not of its
// writer: every host reads the one shared image (direct I/O), so a sync that
// left another host's visible bytes volatile would let a later crash of that
// host take back bytes the syncing host already read and built on.
func (d *Device) syncFile(f *file) {
	for _, i := range f.pending {
		blk := &d.blocks[f.blocks[i]]
		if blk.tail != noPend {
			d.persist(blk, blk.tail, d.pend[blk.tail].img)
		}
	}
	d.compactFile(f)
}

// persist makes img the durable image of blk and drops pending entries up to
// and including upto.
func (d *Device) persist(blk *block, upto int32, img [BlockSize]byte) {
	blk.durable = img
	for e := blk.head; ; {
		next := d.pend[e].next
		d.releasePend(e)
		if e == upto {
			blk.head = next
			break
		}
		e = next
	}
	if blk.head == noPend {
		blk.tail = noPend
		blk.data = blk.durable
	}
}

// dropPend removes entry e from blk's chain without making it durable; the
// visible image falls back to the newest remaining entry or the durable one.
func (d *Device) dropPend(blk *block, e int32) {
	var prev int32 = noPend
	for x := blk.head; x != e; x = d.pend[x].next {
		if x == noPend {
			sim.Failf("storage: pending entry %d not in its block's chain", e)
		}
		prev = x
	}
	next := d.pend[e].next
	if prev == noPend {
		blk.head = next
	} else {
		d.pend[prev].next = next
	}
	if blk.tail == e {
		blk.tail = prev
	}
	d.releasePend(e)
	if blk.tail == noPend {
		blk.data = blk.durable
	} else {
		blk.data = d.pend[blk.tail].img
	}
}

// compactFile drops blocks without pending entries from f.pending.
func (d *Device) compactFile(f *file) {
	f.pending = slices.DeleteFunc(f.pending, func(i int32) bool {
		blk := &d.blocks[f.blocks[i]]
		if blk.head == noPend {
			blk.listed = false
			return true
		}
		return false
	})
}

// compactDirty drops removed and clean files from d.dirty.
func (d *Device) compactDirty() {
	d.dirty = slices.DeleteFunc(d.dirty, func(f *file) bool {
		if f.removed || len(f.pending) == 0 {
			f.listed = false
			return true
		}
		return false
	})
}

// markTorn flags the record with sequence seq as torn wherever it is kept.
func (d *Device) markTorn(seq uint64, b BlockNo) {
	if seq+uint64(len(d.ring)) > d.seq {
		d.ring[(seq-1)%writeLogSize].Torn = true
	}
	if blk := &d.blocks[b]; blk.last.Seq == seq {
		blk.last.Torn = true
	}
	if i, ok := slices.BinarySearchFunc(d.stale, seq, func(r WriteRecord, s uint64) int {
		switch {
		case r.Seq < s:
			return -1
		case r.Seq > s:
			return 1
		}
		return 0
	}); ok {
		d.stale[i].Torn = true
	}
}
