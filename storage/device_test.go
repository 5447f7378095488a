package storage

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"promotesim/sim/simtest"
)

// newTestDevice returns a device with n1 mounted rw and n2 mounted ro.
func newTestDevice(t testing.TB, fence FenceMode, blocks int) (*Device, *Mount, *Mount) {
	t.Helper()
	d, err := NewDevice(DeviceConfig{Blocks: blocks, Fence: fence})
	require.NoError(t, err)
	rw, err := d.Mount(1, MountReadWrite)
	require.NoError(t, err)
	ro, err := d.Mount(2, MountReadOnly)
	require.NoError(t, err)
	return d, rw, ro
}

func readAll(t testing.TB, m *Mount, path string) []byte {
	t.Helper()
	size, err := m.Size(path)
	require.NoError(t, err)
	buf := make([]byte, size)
	n, err := m.ReadAt(path, buf, 0)
	require.NoError(t, err)
	require.Equal(t, int(size), n)
	return buf
}

// durable returns the durable content of path (what a crash dropping every
// pending write would leave).
func durable(d *Device, path string) []byte {
	f := d.files[path]
	out := make([]byte, 0, f.size)
	for i, b := range f.blocks {
		n := min(int64(BlockSize), f.size-int64(i)*BlockSize)
		out = append(out, d.blocks[b].durable[:n]...)
	}
	return out
}

func TestDeviceConfig(t *testing.T) {
	_, err := NewDevice(DeviceConfig{Blocks: 0, Fence: FenceNone})
	require.Error(t, err)
	_, err = NewDevice(DeviceConfig{Blocks: 4})
	require.Error(t, err, "zero fence mode is invalid")
	d, err := NewDevice(DeviceConfig{Blocks: 4, Fence: FenceEpoch})
	require.NoError(t, err)
	require.Equal(t, 4, d.Capacity())
	require.Equal(t, 0, d.Used())
	_, _, ok := d.Writer()
	require.False(t, ok)

	for _, f := range []FenceMode{FenceNone, FenceEpoch, FenceDetect} {
		g, err := ParseFenceMode(f.String())
		require.NoError(t, err)
		require.Equal(t, f, g)
	}
	_, err = ParseFenceMode("stonith")
	require.Error(t, err)
	require.Equal(t, "ro", MountReadOnly.String())
	require.Equal(t, "rw", MountReadWrite.String())
}

func TestReadOnlyMount(t *testing.T) {
	_, rw, ro := newTestDevice(t, FenceNone, 8)
	require.NoError(t, rw.Create("base/1"))
	require.NoError(t, rw.WriteAt("base/1", []byte("abc"), 0))

	for _, err := range []error{
		ro.WriteAt("base/1", []byte("x"), 0),
		ro.Create("base/2"),
		ro.Truncate("base/1", 0),
		ro.Remove("base/1"),
	} {
		require.ErrorIs(t, err, ErrReadOnly)
		require.Contains(t, err.Error(), "replica can't modify file in shared storage")
	}
	require.Equal(t, []byte("abc"), readAll(t, ro, "base/1"))
	require.NoError(t, ro.Sync("base/1"), "a replica has nothing to sync")
}

func TestMountRules(t *testing.T) {
	d, rw, ro := newTestDevice(t, FenceEpoch, 8)
	_, err := d.Mount(3, MountReadWrite)
	require.ErrorIs(t, err, ErrWriterExists)
	_, err = d.Mount(2, MountReadOnly)
	require.ErrorIs(t, err, ErrMounted)
	_, err = d.Mount(0, MountReadOnly)
	require.Error(t, err)

	require.NoError(t, ro.RemountRW())
	h, ep, ok := d.Writer()
	require.True(t, ok)
	require.Equal(t, HostID(2), h)
	require.Equal(t, Epoch(2), ep)
	require.Equal(t, MountReadWrite, rw.Mode(), "the old writer is not told")
	require.False(t, rw.Writer())
	require.True(t, ro.Writer())

	d.Unmount(2)
	require.ErrorIs(t, ro.Create("base/1"), ErrNotMounted)
	_, ok = d.Mounted(2)
	require.False(t, ok)
	_, _, ok = d.Writer()
	require.False(t, ok, "unmounting the writer releases the role")
	// n1 is still mounted rw with epoch 1, but the device is at epoch 2.
	require.ErrorIs(t, rw.Create("base/1"), ErrFenced)

	local, err := NewDevice(DeviceConfig{Blocks: 2, Fence: FenceNone, Local: true})
	require.NoError(t, err)
	m, err := local.Mount(2, MountReadOnly)
	require.NoError(t, err)
	require.NoError(t, m.RemountRW())
	require.Equal(t, MountReadOnly, m.Mode(), "local-disk remount does nothing")
}

// TestFenceModes is the promote-while-old-primary-runs story of
// testdata/device/fencing.txt, checked through errors.Is.
func TestFenceModes(t *testing.T) {
	for _, fence := range []FenceMode{FenceNone, FenceEpoch, FenceDetect} {
		t.Run(fence.String(), func(t *testing.T) {
			d, old, repl := newTestDevice(t, fence, 8)
			for _, p := range []string{"base/1", "pg_wal/1", ControlFile} {
				require.NoError(t, old.Create(p))
			}
			require.NoError(t, repl.RemountRW())

			errPage := old.WriteAt("base/1", []byte("old"), 0)
			errWAL := old.WriteAt("pg_wal/1", []byte("old"), 0)
			errCtl := old.WriteAt(ControlFile, []byte("old"), 0)
			require.NoError(t, repl.WriteAt(ControlFile, []byte("new"), 0))

			switch fence {
			case FenceNone:
				require.NoError(t, errPage)
				require.NoError(t, errWAL)
				require.NoError(t, errCtl)
				require.Len(t, d.StaleWrites(), 3)
			case FenceEpoch:
				require.ErrorIs(t, errPage, ErrFenced)
				require.ErrorIs(t, errWAL, ErrFenced)
				require.ErrorIs(t, errCtl, ErrFenced)
				require.Empty(t, d.StaleWrites())
			case FenceDetect:
				require.NoError(t, errPage)
				require.NoError(t, errWAL)
				require.ErrorIs(t, errCtl, ErrWriterDeath)
				stale := d.StaleWrites()
				require.Len(t, stale, 2)
				require.Equal(t, "base/1", stale[0].Path)
				require.Equal(t, "pg_wal/1", stale[1].Path)
			}
			for _, r := range d.StaleWrites() {
				require.Equal(t, HostID(1), r.Host)
				require.Equal(t, Epoch(1), r.Epoch)
				require.False(t, r.Writer)
			}
			last, ok := d.LastWrite(d.files[ControlFile].blocks[0])
			require.True(t, ok)
			require.Equal(t, HostID(2), last.Host)
			require.True(t, last.Writer)
		})
	}
}

// TestCrashKeepsWhatAnotherHostRead: a replica read the primary's unsynced
// WAL, then the primary's host crashed. The bytes the replica read were on
// the shared media, so the crash leaves them (pending: not durable until a
// sync, and a power loss of the device still takes them back); what nobody
// read is lost, and so is a later write over a block the replica read. An
// observer's reads (the checkers') change nothing. (Regression: the replica
// indexed WAL the crash then erased, and its BGW PANICked on a zero-length
// record after promote; scenarios/testdata/scripts/replica_read_unsynced_wal.txt.)
func TestCrashKeepsWhatAnotherHostRead(t *testing.T) {
	d, n1, n2 := newTestDevice(t, FenceNone, 8)
	obs, err := d.Observe(3)
	require.NoError(t, err)
	require.NoError(t, n1.Create("pg_wal/1"))
	wal := make([]byte, 2*BlockSize)
	copy(wal, "rec1")
	copy(wal[BlockSize:], "rec2")
	require.NoError(t, n1.WriteAt("pg_wal/1", wal, 0))
	require.Equal(t, wal, readAll(t, obs, "pg_wal/1"))
	var head [4]byte
	_, err = n2.ReadAt("pg_wal/1", head[:], 0) // the replica reads block 0 only
	require.NoError(t, err)
	require.NoError(t, n1.WriteAt("pg_wal/1", []byte("more"), 4)) // unseen, over the seen block

	img := d.Clone()
	img.Crash(1, nil)
	m, err := img.Observe(4)
	require.NoError(t, err)
	got := readAll(t, m, "pg_wal/1")
	require.Equal(t, "rec1\x00\x00\x00\x00", string(got[:8]), "the read bytes stay, the later write is lost")
	require.Equal(t, make([]byte, BlockSize), got[BlockSize:], "block 1, read only by the observer, is lost")
	require.Len(t, img.Pending(1), 1, "what the replica read stays pending, not durable")
	img.PowerLoss()
	m, err = img.Observe(4)
	require.NoError(t, err)
	require.Equal(t, make([]byte, 2*BlockSize), readAll(t, m, "pg_wal/1"), "a power loss takes back everything unsynced")

	// Promoted, the replica syncs the file: what it read becomes durable.
	img = d.Clone()
	img.Crash(1, nil)
	m2, ok := img.Mounted(2)
	require.True(t, ok)
	require.NoError(t, m2.RemountRW())
	require.NoError(t, m2.Sync("pg_wal/1"))
	img.PowerLoss()
	m, err = img.Observe(4)
	require.NoError(t, err)
	require.Equal(t, "rec1", string(readAll(t, m, "pg_wal/1")[:4]))
}

// TestCrashTwoWriters: in fence mode none two hosts can have pending writes
// on one block. Each host's crash only drops its own; a sync makes the
// block's visible image durable, the other host's bytes included.
func TestCrashTwoWriters(t *testing.T) {
	d, n1, n2 := newTestDevice(t, FenceNone, 8)
	require.NoError(t, n1.Create("base/1"))
	require.NoError(t, n2.RemountRW())
	require.NoError(t, n1.WriteAt("base/1", []byte("aa"), 0))
	require.NoError(t, n2.WriteAt("base/1", []byte("bb"), 2))

	img := d.Clone()
	img.Crash(2, nil)
	m, err := img.Observe(3)
	require.NoError(t, err)
	require.Equal(t, []byte("aa\x00\x00"), readAll(t, m, "base/1"), "n1's write is still pending and visible")
	img.Crash(1, nil)
	require.Equal(t, []byte{0, 0, 0, 0}, readAll(t, m, "base/1"))

	// n2's sync makes its image durable; it contains n1's bytes, so n1's
	// older pending write is subsumed and a crash of n1 loses nothing.
	require.NoError(t, n2.Sync("base/1"))
	require.Empty(t, d.Pending(1))
	require.Empty(t, d.Pending(2))
	d.Crash(1, nil)
	require.Equal(t, []byte("aabb"), readAll(t, n2, "base/1"))
	_, ok := d.Mounted(1)
	require.False(t, ok)
}

// TestSyncFlushesOtherHostsWrites: a sync makes the whole visible file
// durable, other hosts' unsynced blocks included, so a host that read
// another's unsynced WAL and synced after appending to it cannot be left with
// a hole below its own durable WAL when the first host loses power. A
// read-only mount's sync flushes nothing.
func TestSyncFlushesOtherHostsWrites(t *testing.T) {
	for _, fence := range []FenceMode{FenceNone, FenceEpoch, FenceDetect} {
		t.Run(fence.String(), func(t *testing.T) {
			d, n1, n2 := newTestDevice(t, fence, 8)
			const wal = "pg_wal/000000010000000000000000"
			require.NoError(t, n1.Create(wal))
			require.NoError(t, n1.WriteAt(wal, bytes.Repeat([]byte("a"), BlockSize), 0))
			require.NoError(t, n1.Sync(wal))
			require.NoError(t, n1.WriteAt(wal, bytes.Repeat([]byte("b"), BlockSize), BlockSize))
			d.InjectError(FaultSpec{Op: OpSync, Host: 1, PathPrefix: wal, Count: 1})
			require.ErrorIs(t, n1.Sync(wal), ErrInjectedIO)

			require.NoError(t, n2.Sync(wal))
			require.NoError(t, n2.SyncAll())
			require.Len(t, d.Pending(1), 1, "a replica's sync leaves the primary's write pending")

			require.NoError(t, n2.RemountRW())
			require.NoError(t, n2.WriteAt(wal, bytes.Repeat([]byte("c"), BlockSize), 2*BlockSize))
			require.NoError(t, n2.Sync(wal))
			require.Empty(t, d.Pending(1), "n2's sync flushed n1's block too")
			require.Empty(t, d.Pending(2))

			want := append(append(bytes.Repeat([]byte("a"), BlockSize), bytes.Repeat([]byte("b"), BlockSize)...), bytes.Repeat([]byte("c"), BlockSize)...)
			img := d.Clone()
			img.Crash(1, nil)
			img.Crash(2, nil)
			require.Equal(t, want, durable(img, wal), "no hole below n2's durable WAL")
		})
	}
}

// TestSyncAllFlushesOtherHostsWrites: SyncAll is Sync of every file with
// pending writes, whoever wrote them.
func TestSyncAllFlushesOtherHostsWrites(t *testing.T) {
	d, n1, n2 := newTestDevice(t, FenceNone, 8)
	require.NoError(t, n1.Create("base/1"))
	require.NoError(t, n1.Create("pg_xact/0000"))
	require.NoError(t, n1.WriteAt("base/1", []byte("page"), 0))
	require.NoError(t, n2.RemountRW())
	require.NoError(t, n2.WriteAt("pg_xact/0000", []byte("clog"), 0))
	require.NoError(t, n2.SyncAll())
	require.Empty(t, d.Pending(1))
	require.Empty(t, d.Pending(2))
	img := d.Clone()
	img.Crash(1, nil)
	require.Equal(t, []byte("page"), durable(img, "base/1"))
	require.Equal(t, []byte("clog"), durable(img, "pg_xact/0000"))
}

func TestTruncate(t *testing.T) {
	d, rw, _ := newTestDevice(t, FenceNone, 8)
	require.NoError(t, rw.Create("base/1"))
	require.NoError(t, rw.WriteAt("base/1", bytes.Repeat([]byte("x"), 100), 0))
	require.Equal(t, 2, d.Used())
	require.NoError(t, rw.Truncate("base/1", 10))
	require.Equal(t, 1, d.Used())
	require.NoError(t, rw.Truncate("base/1", 70))
	require.Equal(t, 2, d.Used())
	want := append(bytes.Repeat([]byte("x"), 10), make([]byte, 60)...)
	require.Equal(t, want, readAll(t, rw, "base/1"), "truncated bytes read back as zeros")
	d.Crash(1, nil)
	ro, err := d.Mount(3, MountReadOnly)
	require.NoError(t, err)
	require.Equal(t, make([]byte, 70), readAll(t, ro, "base/1"), "size survives, unsynced data does not")
}

func TestReadAtEOFAndErrors(t *testing.T) {
	_, rw, _ := newTestDevice(t, FenceNone, 8)
	buf := make([]byte, 8)
	_, err := rw.ReadAt("base/9", buf, 0)
	require.ErrorIs(t, err, ErrNotExist)
	require.ErrorIs(t, rw.WriteAt("base/9", buf, 0), ErrNotExist)
	require.NoError(t, rw.Create("base/9"))
	require.ErrorIs(t, rw.Create("base/9"), ErrExists)
	require.ErrorIs(t, rw.Create("nowhere/9"), ErrBadPath)
	require.ErrorIs(t, rw.Create("base/../x"), ErrBadPath)
	require.NoError(t, rw.WriteAt("base/9", []byte("abc"), 0))
	n, err := rw.ReadAt("base/9", buf, 1)
	require.Equal(t, 2, n)
	require.ErrorIs(t, err, io.EOF)
	n, err = rw.ReadAt("base/9", buf, 3)
	require.Equal(t, 0, n)
	require.ErrorIs(t, err, io.EOF)
}

func TestNoSpaceChangesNothing(t *testing.T) {
	d, rw, _ := newTestDevice(t, FenceNone, 2)
	require.NoError(t, rw.Create("base/1"))
	require.NoError(t, rw.WriteAt("base/1", []byte("a"), 0))
	before := d.WriteCount()
	err := rw.WriteAt("base/1", make([]byte, 200), 0)
	require.ErrorIs(t, err, ErrNoSpace)
	require.Equal(t, before, d.WriteCount())
	require.Equal(t, []byte("a"), readAll(t, rw, "base/1"))
	require.NoError(t, d.Grow(4))
	require.NoError(t, rw.WriteAt("base/1", make([]byte, 200), 0))
	require.Equal(t, 4, d.Used())
	require.Error(t, d.Grow(3))
}

func TestFaults(t *testing.T) {
	d, rw, ro := newTestDevice(t, FenceNone, 8)
	require.NoError(t, rw.Create("base/1"))
	require.NoError(t, rw.Create("pg_wal/1"))
	d.InjectError(FaultSpec{Op: OpWrite, Host: 1, PathPrefix: "pg_wal/", Count: 2})
	require.NoError(t, rw.WriteAt("base/1", []byte("a"), 0), "prefix does not match")
	require.ErrorIs(t, rw.WriteAt("pg_wal/1", []byte("a"), 0), ErrInjectedIO)
	require.ErrorIs(t, rw.WriteAt("pg_wal/1", []byte("a"), 0), ErrInjectedIO)
	require.NoError(t, rw.WriteAt("pg_wal/1", []byte("a"), 0), "count used up")
	require.Empty(t, d.Faults())

	d.InjectError(FaultSpec{Op: OpSync, Count: 1})
	require.ErrorIs(t, rw.SyncAll(), ErrInjectedIO)
	require.NotEmpty(t, d.Pending(1))
	require.NoError(t, rw.SyncAll())
	require.Empty(t, d.Pending(1))

	d.InjectError(FaultSpec{Op: OpRead, Host: 2, Count: 5})
	_, err := ro.ReadAt("base/1", make([]byte, 1), 0)
	require.ErrorIs(t, err, ErrInjectedIO)
	_, err = rw.ReadAt("base/1", make([]byte, 1), 0)
	require.NoError(t, err, "other host")
	d.ClearFaults()
	_, err = ro.ReadAt("base/1", make([]byte, 1), 0)
	require.NoError(t, err)

	d.SetLatency(1, 7)
	require.Equal(t, int64(7), d.Latency(1))
	require.Equal(t, int64(0), d.Latency(2))
}

func TestTornWriteRecorded(t *testing.T) {
	d, rw, _ := newTestDevice(t, FenceNone, 8)
	require.NoError(t, rw.Create("base/1"))
	require.NoError(t, rw.WriteAt("base/1", bytes.Repeat([]byte("o"), BlockSize), 0))
	require.NoError(t, rw.SyncAll())
	require.NoError(t, rw.WriteAt("base/1", bytes.Repeat([]byte("n"), BlockSize), 0))
	pend := d.Pending(1)
	require.Equal(t, []PendingWrite{{Host: 1, Path: "base/1", Block: 0, Off: 0}}, pend)
	d.Crash(1, func(PendingWrite) KeepMode { return Tear })
	ro, err := d.Mount(2+1, MountReadOnly)
	require.NoError(t, err)
	want := append(bytes.Repeat([]byte("n"), BlockSize/2), bytes.Repeat([]byte("o"), BlockSize/2)...)
	require.Equal(t, want, readAll(t, ro, "base/1"))
	last, ok := d.LastWrite(0)
	require.True(t, ok)
	require.True(t, last.Torn)
	ws := d.WritesSince(0)
	require.Len(t, ws, 2)
	require.False(t, ws[0].Torn)
	require.True(t, ws[1].Torn)
}

func TestWriteLogRing(t *testing.T) {
	d, rw, _ := newTestDevice(t, FenceNone, 8)
	require.NoError(t, rw.Create("base/1"))
	total := writeLogSize + 10
	for i := range total {
		require.NoError(t, rw.WriteAt("base/1", []byte{byte(i)}, 0))
	}
	require.Equal(t, uint64(total), d.WriteCount())
	ws := d.WritesSince(0)
	require.Len(t, ws, writeLogSize)
	require.Equal(t, uint64(11), ws[0].Seq)
	require.Equal(t, uint64(total), ws[len(ws)-1].Seq)
	require.Len(t, d.WritesSince(uint64(total-3)), 3)
	require.Empty(t, d.WritesSince(uint64(total)))
}

func TestCloneIsDeep(t *testing.T) {
	d, rw, _ := newTestDevice(t, FenceEpoch, 8)
	require.NoError(t, rw.Create("base/1"))
	require.NoError(t, rw.WriteAt("base/1", []byte("abc"), 0))
	c := d.Clone()
	crw, ok := c.Mounted(1)
	require.True(t, ok)
	require.NoError(t, crw.WriteAt("base/1", []byte("XYZ"), 0))
	require.NoError(t, crw.Create("base/2"))
	require.Equal(t, []byte("abc"), readAll(t, rw, "base/1"))
	require.False(t, rw.Exists("base/2"))
	require.Equal(t, []byte("XYZ"), readAll(t, crw, "base/1"))
	require.Equal(t, uint64(1), d.WriteCount())
	require.Equal(t, uint64(2), c.WriteCount())
}

func TestDeviceNoAllocs(t *testing.T) {
	d, rw, ro := newTestDevice(t, FenceEpoch, 8)
	require.NoError(t, rw.Create("base/1"))
	page := bytes.Repeat([]byte("p"), BlockSize)
	buf := make([]byte, BlockSize)
	require.NoError(t, rw.WriteAt("base/1", page, BlockSize))
	// Warm up the pending slab and write-log ring.
	for range writeLogSize + 1 {
		require.NoError(t, rw.WriteAt("base/1", page, 0))
		require.NoError(t, rw.Sync("base/1"))
	}
	require.Zero(t, testing.AllocsPerRun(100, func() {
		if err := rw.WriteAt("base/1", page, 0); err != nil {
			t.Fatal(err)
		}
		if err := rw.Sync("base/1"); err != nil {
			t.Fatal(err)
		}
	}))
	require.Zero(t, testing.AllocsPerRun(100, func() {
		if _, err := ro.ReadAt("base/1", buf, BlockSize); err != nil {
			t.Fatal(err)
		}
	}))
	name, missing := []byte("base/1"), []byte("base/2")
	require.Zero(t, testing.AllocsPerRun(100, func() {
		if !ro.ExistsBytes(name) || ro.ExistsBytes(missing) {
			t.Fatal("ExistsBytes disagrees with the device")
		}
	}))
	_ = d
}

// deviceModel is the naive model: whole files as byte slices, visible and
// durable. Only n1 writes, so a pending block is exactly one whose visible
// and durable bytes differ or that n1 wrote since its last sync. floor is
// what a crash of n1 that drops everything it may leaves: the durable bytes,
// except where the replica (n2) read n1's pending bytes since the last sync
// (a write another host read stays on a crash of its writer).
type deviceModel struct {
	visible  map[string][]byte
	durable  map[string][]byte
	floor    map[string][]byte
	capacity int
}

func (m *deviceModel) used() int {
	n := 0
	for _, v := range m.visible {
		n += blocksFor(int64(len(v)))
	}
	return n
}

func (m *deviceModel) paths() []string {
	var ps []string
	for p := range m.visible {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

func resize(b []byte, n int) []byte {
	if n <= len(b) {
		return b[:n:n]
	}
	return append(b, make([]byte, n-len(b))...)
}

// TestDeviceModel drives the device and the naive model with the same random
// operations and compares them after every step.
func TestDeviceModel(t *testing.T) {
	paths := []string{"base/1", "base/2", "pg_wal/1", ControlFile, "pg_xact/0000"}
	simtest.Check(t, func(t *rapid.T) {
		fence := rapid.SampledFrom([]FenceMode{FenceNone, FenceEpoch, FenceDetect}).Draw(t, "fence")
		capacity := rapid.IntRange(1, 12).Draw(t, "blocks")
		d, err := NewDevice(DeviceConfig{Blocks: capacity, Fence: fence})
		if err != nil {
			t.Fatal(err)
		}
		rw, err := d.Mount(1, MountReadWrite)
		if err != nil {
			t.Fatal(err)
		}
		ro, err := d.Mount(2, MountReadOnly)
		if err != nil {
			t.Fatal(err)
		}
		// obs is the checks' view: its reads must not change what a crash
		// keeps.
		obs, err := d.Observe(3)
		if err != nil {
			t.Fatal(err)
		}
		m := &deviceModel{visible: map[string][]byte{}, durable: map[string][]byte{}, floor: map[string][]byte{}, capacity: capacity}
		genPath := rapid.SampledFrom(paths)

		expectSpace := func(err error, path string, newSize int) bool {
			extra := blocksFor(int64(newSize)) - blocksFor(int64(len(m.visible[path])))
			if extra > 0 && m.used()+extra > m.capacity {
				if !errors.Is(err, ErrNoSpace) {
					t.Fatalf("want ErrNoSpace, got %v", err)
				}
				return false
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			return true
		}

		t.Repeat(map[string]func(*rapid.T){
			"create": func(t *rapid.T) {
				p := genPath.Draw(t, "path")
				err := rw.Create(p)
				if _, ok := m.visible[p]; ok {
					if !errors.Is(err, ErrExists) {
						t.Fatalf("want ErrExists, got %v", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				m.visible[p], m.durable[p], m.floor[p] = []byte{}, []byte{}, []byte{}
			},
			"write": func(t *rapid.T) {
				p := genPath.Draw(t, "path")
				off := rapid.IntRange(0, 3*BlockSize).Draw(t, "off")
				data := rapid.SliceOfN(rapid.Byte(), 1, 2*BlockSize).Draw(t, "data")
				err := rw.WriteAt(p, data, int64(off))
				v, ok := m.visible[p]
				if !ok {
					if !errors.Is(err, ErrNotExist) {
						t.Fatalf("want ErrNotExist, got %v", err)
					}
					return
				}
				end := off + len(data)
				if !expectSpace(err, p, max(end, len(v))) {
					return
				}
				if end > len(v) {
					v = resize(v, end)
					m.durable[p] = resize(m.durable[p], end)
					m.floor[p] = resize(m.floor[p], end)
				}
				copy(v[off:], data)
				m.visible[p] = v
			},
			"replicaRead": func(t *rapid.T) {
				// The replica reads a whole file: every pending block of
				// n1's in it is seen, and n1's crash leaves it.
				p := genPath.Draw(t, "path")
				want, ok := m.visible[p]
				if !ok {
					t.Skip("no file")
				}
				got := make([]byte, len(want))
				if _, err := ro.ReadAt(p, got, 0); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("replica ReadAt(%s) = %q, %v; want %q", p, got, err, want)
				}
				m.floor[p] = slices.Clone(want)
			},
			"replicaWrite": func(t *rapid.T) {
				err := ro.WriteAt(genPath.Draw(t, "path"), []byte("x"), 0)
				if !errors.Is(err, ErrReadOnly) {
					t.Fatalf("want ErrReadOnly, got %v", err)
				}
			},
			"faultyWrite": func(t *rapid.T) {
				p := genPath.Draw(t, "path")
				if _, ok := m.visible[p]; !ok {
					t.Skip("no file")
				}
				d.InjectError(FaultSpec{Op: OpWrite, Host: 1, PathPrefix: p, Count: 1})
				if err := rw.WriteAt(p, []byte("zz"), 0); !errors.Is(err, ErrInjectedIO) {
					t.Fatalf("want ErrInjectedIO, got %v", err)
				}
			},
			"truncate": func(t *rapid.T) {
				p := genPath.Draw(t, "path")
				size := rapid.IntRange(0, 3*BlockSize).Draw(t, "size")
				err := rw.Truncate(p, int64(size))
				v, ok := m.visible[p]
				if !ok {
					if !errors.Is(err, ErrNotExist) {
						t.Fatalf("want ErrNotExist, got %v", err)
					}
					return
				}
				if !expectSpace(err, p, size) {
					return
				}
				// Shrinking zeroes the cut bytes in every image: re-extending
				// must not resurrect them.
				m.visible[p] = resize(v, size)
				m.durable[p] = resize(m.durable[p], size)
				m.floor[p] = resize(m.floor[p], size)
			},
			"remove": func(t *rapid.T) {
				p := genPath.Draw(t, "path")
				err := rw.Remove(p)
				if _, ok := m.visible[p]; !ok {
					if !errors.Is(err, ErrNotExist) {
						t.Fatalf("want ErrNotExist, got %v", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				delete(m.visible, p)
				delete(m.durable, p)
				delete(m.floor, p)
			},
			"sync": func(t *rapid.T) {
				p := genPath.Draw(t, "path")
				err := rw.Sync(p)
				if _, ok := m.visible[p]; !ok {
					if !errors.Is(err, ErrNotExist) {
						t.Fatalf("want ErrNotExist, got %v", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				m.durable[p] = slices.Clone(m.visible[p])
				m.floor[p] = slices.Clone(m.visible[p])
			},
			"replicaSync": func(t *rapid.T) {
				// A replica has nothing to flush: durable images stay.
				p := genPath.Draw(t, "path")
				err := ro.Sync(p)
				if _, ok := m.visible[p]; !ok {
					if !errors.Is(err, ErrNotExist) {
						t.Fatalf("want ErrNotExist, got %v", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := ro.SyncAll(); err != nil {
					t.Fatal(err)
				}
			},
			"syncAll": func(t *rapid.T) {
				if err := rw.SyncAll(); err != nil {
					t.Fatal(err)
				}
				for p, v := range m.visible {
					m.durable[p] = slices.Clone(v)
					m.floor[p] = slices.Clone(v)
				}
			},
			"grow": func(t *rapid.T) {
				n := rapid.IntRange(m.capacity, m.capacity+4).Draw(t, "blocks")
				if err := d.Grow(n); err != nil {
					t.Fatal(err)
				}
				m.capacity = n
			},
			"crashImage": func(t *rapid.T) {
				img := d.Clone()
				img.Crash(1, nil)
				io, err := img.Observe(4)
				if err != nil {
					t.Fatal(err)
				}
				for p, want := range m.durable {
					if got := durable(img, p); !bytes.Equal(got, want) {
						t.Fatalf("crash image of %s: got %q want %q", p, got, want)
					}
					got := make([]byte, len(m.floor[p]))
					if _, err := io.ReadAt(p, got, 0); err != nil || !bytes.Equal(got, m.floor[p]) {
						t.Fatalf("crash of n1: %s reads %q, %v; want %q (what the replica read stays)", p, got, err, m.floor[p])
					}
				}
				// A power loss of the device takes back everything unsynced.
				img.PowerLoss()
				if io, err = img.Observe(4); err != nil {
					t.Fatal(err)
				}
				for p, want := range m.durable {
					got := make([]byte, len(want))
					if _, err := io.ReadAt(p, got, 0); err != nil || !bytes.Equal(got, want) {
						t.Fatalf("power loss: %s reads %q, %v; want %q", p, got, err, want)
					}
				}
			},
			"crash": func(t *rapid.T) {
				// Each pending block is dropped or kept by a coin toss.
				d.Crash(1, func(pw PendingWrite) KeepMode {
					lo := int(pw.Off)
					hi := min(lo+BlockSize, len(m.visible[pw.Path]))
					if rapid.Bool().Draw(t, "keep "+pw.String()) {
						copy(m.durable[pw.Path][lo:hi], m.visible[pw.Path][lo:hi])
						copy(m.floor[pw.Path][lo:hi], m.visible[pw.Path][lo:hi])
						return Keep
					}
					return Drop
				})
				for p := range m.visible {
					m.visible[p] = slices.Clone(m.floor[p])
				}
				var err error
				rw, err = d.Mount(1, MountReadWrite)
				if err != nil {
					t.Fatal(err)
				}
			},
			"": func(t *rapid.T) {
				if got, want := obs.List(""), m.paths(); !slices.Equal(got, want) {
					t.Fatalf("List: got %v want %v", got, want)
				}
				for p, want := range m.visible {
					size, err := obs.Size(p)
					if err != nil || size != int64(len(want)) {
						t.Fatalf("Size(%s) = %d, %v; want %d", p, size, err, len(want))
					}
					got := make([]byte, len(want))
					if _, err := obs.ReadAt(p, got, 0); err != nil || !bytes.Equal(got, want) {
						t.Fatalf("ReadAt(%s) = %q, %v; want %q", p, got, err, want)
					}
					if got := durable(d, p); !bytes.Equal(got, m.durable[p]) {
						t.Fatalf("durable %s: got %q want %q", p, got, m.durable[p])
					}
				}
				// Every block whose bytes differ from their durable image
				// must be pending.
				pend := d.Pending(1)
				for p, v := range m.visible {
					for off := 0; off < len(v); off += BlockSize {
						hi := min(off+BlockSize, len(v))
						if bytes.Equal(v[off:hi], m.durable[p][off:hi]) {
							continue
						}
						if !slices.ContainsFunc(pend, func(pw PendingWrite) bool {
							return pw.Path == p && pw.Off == int64(off)
						}) {
							t.Fatalf("%s off %d differs from durable but is not pending", p, off)
						}
					}
				}
				if d.Used() != m.used() || d.Capacity() != m.capacity {
					t.Fatalf("used %d/%d, model %d/%d", d.Used(), d.Capacity(), m.used(), m.capacity)
				}
				if d.StaleCount() != 0 {
					t.Fatalf("stale writes with a single writer: %v", d.StaleWrites())
				}
				checkDeviceInvariants(t, d)
			},
		})
	})
}

// checkDeviceInvariants verifies the device's internal invariants by a full
// scan.
func checkDeviceInvariants(t *rapid.T, d *Device) {
	owned := 0
	for _, name := range d.names {
		f := d.files[name]
		if blocksFor(f.size) != len(f.blocks) {
			t.Fatalf("%s: size %d with %d blocks", name, f.size, len(f.blocks))
		}
		owned += len(f.blocks)
		for i, b := range f.blocks {
			blk := &d.blocks[b]
			if blk.file != f || int(blk.idx) != i {
				t.Fatalf("%s: block %d owner mismatch", name, b)
			}
			want := blk.durable
			if blk.tail != noPend {
				want = d.pend[blk.tail].img
			}
			if want != blk.data {
				t.Fatalf("%s: block %d visible image is not the newest pending/durable one", name, b)
			}
			if blk.head != noPend && !blk.listed {
				t.Fatalf("%s: block %d pending but not listed", name, b)
			}
			if i == len(f.blocks)-1 {
				tail := f.size - int64(i)*BlockSize
				for _, c := range blk.data[tail:] {
					if c != 0 {
						t.Fatalf("%s: nonzero byte past end", name)
					}
				}
			}
		}
	}
	if owned != d.Used() {
		t.Fatalf("files own %d blocks, Used %d", owned, d.Used())
	}
	for i := range d.blocks {
		if d.blocks[i].file == nil && d.blocks[i].head != noPend {
			t.Fatalf("free block %d has pending writes", i)
		}
	}
}

// warmWriteLog fills the write-log ring, so benchmarks measure the steady
// state rather than the ring's one-time growth.
func warmWriteLog(b *testing.B, rw *Mount, page []byte) {
	for i := range writeLogSize {
		require.NoError(b, rw.WriteAt("base/1", page, int64(i%4)*BlockSize))
	}
	require.NoError(b, rw.SyncAll())
}

func BenchmarkWriteAt(b *testing.B) {
	_, rw, _ := newTestDevice(b, FenceEpoch, 8)
	require.NoError(b, rw.Create("base/1"))
	page := bytes.Repeat([]byte("p"), BlockSize)
	warmWriteLog(b, rw, page)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := rw.WriteAt("base/1", page, int64(i%4)*BlockSize); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteAtSync(b *testing.B) {
	_, rw, _ := newTestDevice(b, FenceEpoch, 8)
	require.NoError(b, rw.Create("base/1"))
	page := bytes.Repeat([]byte("p"), BlockSize)
	warmWriteLog(b, rw, page)
	b.ReportAllocs()
	for b.Loop() {
		if err := rw.WriteAt("base/1", page, 0); err != nil {
			b.Fatal(err)
		}
		if err := rw.Sync("base/1"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadAt(b *testing.B) {
	_, rw, ro := newTestDevice(b, FenceEpoch, 8)
	require.NoError(b, rw.Create("base/1"))
	require.NoError(b, rw.WriteAt("base/1", bytes.Repeat([]byte("p"), 4*BlockSize), 0))
	buf := make([]byte, BlockSize)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := ro.ReadAt("base/1", buf, int64(i%4)*BlockSize); err != nil {
			b.Fatal(err)
		}
	}
}
