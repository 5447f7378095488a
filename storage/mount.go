package storage

import "fmt"

// FenceMode selects how the device treats a writer that lost the writer role.
type FenceMode uint8

const (
	// FenceNone is PolarDB's real behaviour: nothing stops a displaced
	// writer; its writes are accepted and recorded in StaleWrites.
	FenceNone FenceMode = iota + 1
	// FenceEpoch is the proposed fix: every read-write mount takes a higher
	// epoch and the device rejects operations carrying an older one.
	FenceEpoch
	// FenceDetect is V11's RWID/DEATH check: the displaced writer learns of
	// its successor only when it next writes the control file.
	FenceDetect
)

func (f FenceMode) String() string {
	switch f {
	case FenceNone:
		return "none"
	case FenceEpoch:
		return "epoch"
	case FenceDetect:
		return "detect"
	}
	return fmt.Sprintf("FenceMode(%d)", uint8(f))
}

// ParseFenceMode parses "none", "epoch" or "detect".
func ParseFenceMode(s string) (FenceMode, error) {
	for _, f := range [...]FenceMode{FenceNone, FenceEpoch, FenceDetect} {
		if f.String() == s {
			return f, nil
		}
	}
	return 0, fmt.Errorf("storage: unknown fence mode %q (want none, epoch or detect)", s)
}

// MountMode is how a host mounted the device.
type MountMode uint8

const (
	MountReadOnly  MountMode = iota + 1 // replica
	MountReadWrite                      // primary
)

func (m MountMode) String() string {
	switch m {
	case MountReadOnly:
		return "ro"
	case MountReadWrite:
		return "rw"
	}
	return fmt.Sprintf("MountMode(%d)", uint8(m))
}

// Mount is one host's view of the device (PFS mount). A host has at most one.
// After Unmount or Crash the value is dead: every operation returns
// ErrNotMounted.
type Mount struct {
	dev     *Device
	host    HostID
	mode    MountMode
	epoch   Epoch // epoch of the last time this mount took the writer role
	rwid    rwid  // detect mode: the RWID this mount wrote, kept in memory
	mounted bool
	// observer: a checker's read-only mount (Observe); its reads leave no
	// trace on the device (they mark no pending write seen).
	observer bool
}

// Mount mounts the device on host. A read-write mount makes host the writer
// (new epoch; in detect mode a fresh RWID is written, as
// polar_hold_shared_storage does), and fails with ErrWriterExists while
// another host holds the role.
func (d *Device) Mount(host HostID, mode MountMode) (*Mount, error) {
	if host == 0 {
		return nil, fmt.Errorf("storage: invalid host %s", host)
	}
	if mode != MountReadOnly && mode != MountReadWrite {
		return nil, fmt.Errorf("storage: invalid mount mode %d", mode)
	}
	if d.mounts[host] != nil {
		return nil, fmt.Errorf("%w: %s", ErrMounted, host)
	}
	if mode == MountReadWrite && d.hasWriter {
		return nil, fmt.Errorf("%w: %s cannot mount rw, %s is the writer", ErrWriterExists, host, d.writer)
	}
	m := &Mount{dev: d, host: host, mode: MountReadOnly, mounted: true}
	if mode == MountReadWrite {
		d.takeWriter(m)
	}
	d.mounts[host] = m
	return m, nil
}

// Observe mounts the device read-only on host for a checker: like a
// read-only Mount, except that its reads never mark a pending write seen, so
// looking at the device does not change what a later crash keeps.
func (d *Device) Observe(host HostID) (*Mount, error) {
	m, err := d.Mount(host, MountReadOnly)
	if err != nil {
		return nil, err
	}
	m.observer = true
	return m, nil
}

// Unmount detaches host (no-op if not mounted). A writer releases the role.
// Pending writes stay pending: unmounting does not sync.
func (d *Device) Unmount(host HostID) {
	m := d.mounts[host]
	if m == nil {
		return
	}
	m.mounted = false
	d.mounts[host] = nil
	if d.hasWriter && d.writer == host {
		d.hasWriter = false
		d.writer = 0
	}
}

// Mounted returns host's mount.
func (d *Device) Mounted(host HostID) (*Mount, bool) {
	m := d.mounts[host]
	return m, m != nil
}

func (d *Device) takeWriter(m *Mount) {
	d.epoch++
	m.epoch = d.epoch
	m.mode = MountReadWrite
	d.writer = m.host
	d.hasWriter = true
	if d.cfg.Fence == FenceDetect {
		d.rwidGen++
		d.rwid = rwid{host: m.host, gen: d.rwidGen}
		m.rwid = d.rwid
	}
}

// RemountRW takes the writer role by force, as PFS's PAXOS_BYFORCE remount on
// promote (polar_vfs remount hook): it never waits for, nor checks, the old
// writer, whose mount stays read-write without it knowing. In local-disk mode
// it does nothing (the local vfs has no remount hook) and returns nil.
func (m *Mount) RemountRW() error {
	if !m.mounted {
		return fmt.Errorf("%w: %s remount", ErrNotMounted, m.host)
	}
	d := m.dev
	if d.cfg.Local {
		return nil
	}
	if m.mode == MountReadWrite && d.hasWriter && d.writer == m.host {
		return nil
	}
	d.takeWriter(m)
	return nil
}

// Host is the mounting host.
func (m *Mount) Host() HostID { return m.host }

// Mode is the mount mode.
func (m *Mount) Mode() MountMode { return m.mode }

// Epoch is the epoch the mount took with the writer role (0 if never).
func (m *Mount) Epoch() Epoch { return m.epoch }

// Writer reports whether this mount's host currently holds the writer role.
func (m *Mount) Writer() bool {
	return m.mounted && m.dev.hasWriter && m.dev.writer == m.host
}

// checkModify is the gate of every modifying operation: mounted, read-write,
// not fenced. In detect mode only a write to the control file checks the RWID
// (control is true then); everything else a stale writer does is accepted.
func (m *Mount) checkModify(op, path string, control bool) error {
	if !m.mounted {
		return fmt.Errorf("%w: %s %s by %s", ErrNotMounted, op, path, m.host)
	}
	if m.mode != MountReadWrite {
		return fmt.Errorf("%w: %s %s by %s", ErrReadOnly, op, path, m.host)
	}
	return m.checkFence(op, path, control)
}

func (m *Mount) checkFence(op, path string, control bool) error {
	d := m.dev
	switch d.cfg.Fence {
	case FenceEpoch:
		if m.epoch < d.epoch {
			return fmt.Errorf("%w: %s %s by %s at epoch %d, device at %d",
				ErrFenced, op, path, m.host, m.epoch, d.epoch)
		}
	case FenceDetect:
		if control && m.rwid != d.rwid {
			return fmt.Errorf("%w: %s %s by %s, owner is %s",
				ErrWriterDeath, op, path, m.host, d.rwid.host)
		}
	}
	return nil
}

// Create creates an empty file.
func (m *Mount) Create(path string) error {
	if err := m.checkModify("create", path, false); err != nil {
		return err
	}
	return m.dev.create(path)
}

// Exists reports whether path exists (false on a dead mount).
func (m *Mount) Exists(path string) bool {
	if !m.mounted {
		return false
	}
	_, ok := m.dev.files[path]
	return ok
}

// ExistsBytes is Exists for a path held in a byte slice (the map lookup
// converts it without allocating): for a checker that builds paths into a
// buffer.
func (m *Mount) ExistsBytes(path []byte) bool {
	if !m.mounted {
		return false
	}
	_, ok := m.dev.files[string(path)]
	return ok
}

// Size is the file size in bytes.
func (m *Mount) Size(path string) (int64, error) {
	if !m.mounted {
		return 0, fmt.Errorf("%w: size %s by %s", ErrNotMounted, path, m.host)
	}
	f, err := m.dev.lookup(path)
	if err != nil {
		return 0, err
	}
	return f.size, nil
}

// ReadAt reads len(p) bytes at off. Reads see the latest accepted write of
// any host, synced or not (PFS does direct I/O; there is no page cache to
// invalidate). Reading past the end returns io.EOF with the bytes read.
func (m *Mount) ReadAt(path string, p []byte, off int64) (int, error) {
	if !m.mounted {
		return 0, fmt.Errorf("%w: read %s by %s", ErrNotMounted, path, m.host)
	}
	d := m.dev
	f := d.files[path]
	if f == nil {
		return 0, fmt.Errorf("%w: %s", ErrNotExist, path)
	}
	if off < 0 {
		return 0, fmt.Errorf("storage: read %s at negative offset %d", path, off)
	}
	if len(d.faults) > 0 && d.hit(OpRead, m.host, path) {
		return 0, fmt.Errorf("%w: read %s by %s", ErrInjectedIO, path, m.host)
	}
	return d.readAt(m, f, p, off)
}

// WriteAt writes p at off, extending the file as needed (a gap reads as
// zeros). Each block write is atomic; a write spanning blocks is recorded as
// one WriteRecord per block. The write is visible at once and durable after
// Sync by this host. A failed write changes nothing.
func (m *Mount) WriteAt(path string, p []byte, off int64) error {
	if err := m.checkModify("write", path, path == ControlFile); err != nil {
		return err
	}
	d := m.dev
	f := d.files[path]
	if f == nil {
		return fmt.Errorf("%w: %s", ErrNotExist, path)
	}
	if off < 0 {
		return fmt.Errorf("storage: write %s at negative offset %d", path, off)
	}
	if len(d.faults) > 0 && d.hit(OpWrite, m.host, path) {
		return fmt.Errorf("%w: write %s by %s", ErrInjectedIO, path, m.host)
	}
	if len(p) == 0 {
		return nil
	}
	return d.writeAt(m, f, p, off)
}

// Truncate sets the file size; growing allocates zeroed blocks. Size changes
// are durable at once.
func (m *Mount) Truncate(path string, size int64) error {
	if err := m.checkModify("truncate", path, false); err != nil {
		return err
	}
	d := m.dev
	f, err := d.lookup(path)
	if err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("storage: truncate %s to negative size %d", path, size)
	}
	if size >= f.size {
		return d.extend(f, size)
	}
	d.shrink(f, size)
	return nil
}

// Remove deletes the file and frees its blocks (pending writes included).
func (m *Mount) Remove(path string) error {
	if err := m.checkModify("remove", path, false); err != nil {
		return err
	}
	f, err := m.dev.lookup(path)
	if err != nil {
		return err
	}
	m.dev.remove(f)
	return nil
}

// List returns the paths under dir ("" for all), sorted.
func (m *Mount) List(dir string) []string {
	if !m.mounted {
		return nil
	}
	return m.dev.list(dir)
}

// Sync makes path's visible content durable (fsync): every pending write to
// it, this host's and any other's, because all hosts read one shared image
// (PFS direct I/O) and fsync flushes a file, not a writer. This is what lets
// a node that recovers or promotes from WAL another host wrote but never
// synced (that host's fsync failed and it PANICked) make it durable before
// building on it, as StartupXLOG's SyncDataDirectory does after a crash.
// A read-only mount has nothing to flush: a replica never writes shared
// storage, so its sync never makes the primary's unflushed writes durable.
// In epoch mode a fenced writer's sync fails too, so nothing becomes durable
// through it after it was displaced.
func (m *Mount) Sync(path string) error {
	if !m.mounted {
		return fmt.Errorf("%w: sync %s by %s", ErrNotMounted, path, m.host)
	}
	d := m.dev
	f, err := d.lookup(path)
	if err != nil {
		return err
	}
	if m.mode == MountReadWrite {
		if err := m.checkFence("sync", path, false); err != nil {
			return err
		}
	}
	if len(d.faults) > 0 && d.hit(OpSync, m.host, path) {
		return fmt.Errorf("%w: sync %s by %s", ErrInjectedIO, path, m.host)
	}
	if m.mode == MountReadWrite && len(f.pending) > 0 {
		// f stays in d.dirty when it becomes clean: the list is bounded by
		// the live files and compacted by SyncAll and Crash.
		d.syncFile(f)
	}
	return nil
}

// SyncAll syncs every file with pending writes (any host's, as Sync), in the
// order the files were first dirtied; an injected fault stops it at that
// file. A read-only mount has nothing to flush.
func (m *Mount) SyncAll() error {
	if !m.mounted {
		return fmt.Errorf("%w: sync by %s", ErrNotMounted, m.host)
	}
	d := m.dev
	if m.mode == MountReadWrite {
		if err := m.checkFence("sync", "*", false); err != nil {
			return err
		}
	}
	if m.mode != MountReadWrite {
		return nil
	}
	defer d.compactDirty()
	for _, f := range d.dirty {
		if f.removed || len(f.pending) == 0 {
			continue
		}
		if len(d.faults) > 0 && d.hit(OpSync, m.host, f.name) {
			return fmt.Errorf("%w: sync %s by %s", ErrInjectedIO, f.name, m.host)
		}
		d.syncFile(f)
	}
	return nil
}
