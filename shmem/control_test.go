package shmem

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/logindex"
	"promotesim/storage"
)

// newDevice returns a small shared device with host 1 mounted read-write and
// host 2 mounted read-only.
func newDevice(t *testing.T) (*storage.Device, *storage.Mount, *storage.Mount) {
	t.Helper()
	dev, err := storage.NewDevice(storage.DeviceConfig{Blocks: 1024, Fence: storage.FenceNone})
	require.NoError(t, err)
	rw, err := dev.Mount(1, storage.MountReadWrite)
	require.NoError(t, err)
	ro, err := dev.Mount(2, storage.MountReadOnly)
	require.NoError(t, err)
	return dev, rw, ro
}

func sampleControl() Control {
	return Control{State: DBInProduction, CheckPoint: 0x1A8, Redo: 0x150, TLI: 3, NextXID: 77, Primary: 2}
}

func TestControlRoundTrip(t *testing.T) {
	for _, c := range []Control{
		sampleControl(),
		{State: DBShutdowned, CheckPoint: logindex.FirstLSN, Redo: logindex.FirstLSN, TLI: 1, NextXID: 1, Primary: 1},
		{State: DBInArchiveRecovery, CheckPoint: 1<<40 + 8, Redo: 1 << 40, TLI: 1<<32 - 1, NextXID: 1<<32 - 1, Primary: 255},
	} {
		var b [storage.BlockSize]byte
		c.Encode(b[:])
		got, err := DecodeControl(b[:])
		require.NoError(t, err)
		require.Equal(t, c, got)
	}
}

func TestControlCorruption(t *testing.T) {
	var good [storage.BlockSize]byte
	sampleControl().Encode(good[:])

	// Every single-bit flip in the checksummed bytes or in the checksum is
	// detected.
	for i := 0; i < controlSize; i++ {
		for bit := 0; bit < 8; bit++ {
			b := good
			b[i] ^= 1 << bit
			_, err := DecodeControl(b[:])
			require.ErrorIs(t, err, ErrNoControl, "byte %d bit %d", i, bit)
		}
	}
	// A never-written (all-zero) block, a short buffer and a zero state with
	// a valid checksum are no control file either.
	var zero [storage.BlockSize]byte
	_, err := DecodeControl(zero[:])
	require.ErrorIs(t, err, ErrNoControl)
	_, err = DecodeControl(good[:controlSize-1])
	require.ErrorIs(t, err, ErrNoControl)
	var noState [storage.BlockSize]byte
	c := sampleControl()
	c.State = 0
	c.Encode(noState[:])
	_, err = DecodeControl(noState[:])
	require.ErrorIs(t, err, ErrNoControl)
}

func TestWriteReadControl(t *testing.T) {
	_, rw, ro := newDevice(t)
	_, err := ReadControl(ro)
	require.ErrorIs(t, err, ErrNoControl, "no control file yet")

	c := sampleControl()
	require.NoError(t, WriteControl(rw, c))
	got, err := ReadControl(ro)
	require.NoError(t, err)
	require.Equal(t, c, got)

	// Overwrite in place.
	c.State, c.Redo = DBShutdowned, 0x200
	require.NoError(t, WriteControl(rw, c))
	got, err = ReadControl(rw)
	require.NoError(t, err)
	require.Equal(t, c, got)

	// A replica's read-only mount refuses, and the file is unchanged.
	bad := c
	bad.State = DBInCrashRecovery
	err = WriteControl(ro, bad)
	require.ErrorIs(t, err, storage.ErrReadOnly)
	got, err = ReadControl(ro)
	require.NoError(t, err)
	require.Equal(t, c, got)
}

func TestWriteControlReadOnlyFresh(t *testing.T) {
	_, _, ro := newDevice(t)
	require.ErrorIs(t, WriteControl(ro, sampleControl()), storage.ErrReadOnly)
	_, err := ReadControl(ro)
	require.ErrorIs(t, err, ErrNoControl)
}

func TestClog(t *testing.T) {
	var c Clog
	require.Equal(t, 0, c.Len())
	require.Equal(t, XactInProgress, c.Get(5))
	require.Empty(t, c.Committed())

	c.Set(3, XactCommitted)
	c.Set(1, XactAborted)
	c.Set(7, XactCommitted)
	c.Set(2, XactCommitted)
	require.Equal(t, 8, c.Len())
	require.Equal(t, XactAborted, c.Get(1))
	require.Equal(t, XactCommitted, c.Get(2))
	require.Equal(t, XactInProgress, c.Get(4))
	require.Equal(t, XactInProgress, c.Get(100))
	require.Equal(t, []logindex.XID{2, 3, 7}, c.Committed())

	// A clone is independent both ways.
	d := c.Clone()
	d.Set(4, XactCommitted)
	c.Set(3, XactAborted)
	require.Equal(t, XactInProgress, c.Get(4))
	require.Equal(t, XactCommitted, d.Get(3))
	require.Equal(t, []logindex.XID{2, 7}, c.Committed())
	require.Equal(t, []logindex.XID{2, 3, 4, 7}, d.Committed())

	require.Equal(t, "committed", XactCommitted.String())
	require.Equal(t, "aborted", XactAborted.String())
	require.Equal(t, "in-progress", XactInProgress.String())
}

func TestWriteReadClog(t *testing.T) {
	_, rw, ro := newDevice(t)
	got, err := ReadClog(ro)
	require.NoError(t, err)
	require.Equal(t, 0, got.Len(), "no clog file reads as empty")

	var empty Clog
	require.NoError(t, WriteClog(rw, &empty))
	require.True(t, rw.Exists(ClogPath), "writing an empty clog creates the file")
	got, err = ReadClog(ro)
	require.NoError(t, err)
	require.Equal(t, 0, got.Len())

	var c Clog
	for x := logindex.XID(1); x < 150; x++ { // spans several device blocks
		switch x % 3 {
		case 0:
			c.Set(x, XactCommitted)
		case 1:
			c.Set(x, XactAborted)
		}
	}
	require.NoError(t, WriteClog(rw, &c))
	got, err = ReadClog(ro)
	require.NoError(t, err)
	require.Equal(t, c.Clone(), got) // Clone: statuses only, no Set count
	require.Equal(t, c.Committed(), got.Committed())

	require.ErrorIs(t, WriteClog(ro, &c), storage.ErrReadOnly)
}

func TestSlots(t *testing.T) {
	_, rw, ro := newDevice(t)
	got, err := ReadSlots(ro)
	require.NoError(t, err)
	require.Empty(t, got)

	require.Equal(t, "replica1", SlotName(2))
	require.Equal(t, "replica2", SlotName(3))
	require.Equal(t, "replica0", SlotName(1))

	for _, s := range []Slot{
		{Name: "standby1", Restart: 0x300, Apply: 0x300},
		{Name: "replica2", Restart: 0x100, Apply: 0x140},
		{Name: "replica1", Restart: 0x200, Apply: 0x260, Active: true},
	} {
		require.NoError(t, WriteSlot(rw, s))
	}
	got, err = ReadSlots(ro)
	require.NoError(t, err)
	// Sorted by name; both LSNs persist (polar_replica_apply_lsn is part of
	// the slot's persistent data); Active lives in memory only.
	require.Equal(t, []Slot{
		{Name: "replica1", Restart: 0x200, Apply: 0x260},
		{Name: "replica2", Restart: 0x100, Apply: 0x140},
		{Name: "standby1", Restart: 0x300, Apply: 0x300},
	}, got)

	// Rewriting moves the LSNs.
	require.NoError(t, WriteSlot(rw, Slot{Name: "replica2", Restart: 0x180, Apply: 0x1C0}))
	require.NoError(t, DropSlot(rw, "standby1"))
	require.NoError(t, DropSlot(rw, "standby1"), "dropping a missing slot is not an error")
	got, err = ReadSlots(ro)
	require.NoError(t, err)
	require.Equal(t, []Slot{{Name: "replica1", Restart: 0x200, Apply: 0x260}, {Name: "replica2", Restart: 0x180, Apply: 0x1C0}}, got)
	require.Equal(t, "replica2(restart=0/180 apply=0/1C0)", got[1].String())

	// A replica may not touch slots on shared storage.
	require.ErrorIs(t, WriteSlot(ro, Slot{Name: "replica3", Restart: 1}), storage.ErrReadOnly)
	err = DropSlot(ro, "replica1")
	require.True(t, errors.Is(err, storage.ErrReadOnly), "got %v", err)
	got, err = ReadSlots(rw)
	require.NoError(t, err)
	require.Len(t, got, 2)
}

// A slot file of the model's older format holds only the restart LSN: it
// loads with the restart LSN as its apply LSN too, the older of the two, so
// the flush gate a primary computes from it stays safe.
func TestSlotOldFormat(t *testing.T) {
	_, rw, ro := newDevice(t)
	p := "pg_replslot/replica1/state"
	require.NoError(t, rw.Create(p))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], 0x2A0)
	require.NoError(t, rw.WriteAt(p, b[:], 0))
	got, err := ReadSlots(ro)
	require.NoError(t, err)
	require.Equal(t, []Slot{{Name: "replica1", Restart: 0x2A0, Apply: 0x2A0}}, got)

	// Saving it again writes the current format.
	require.NoError(t, WriteSlot(rw, Slot{Name: "replica1", Restart: 0x2A0, Apply: 0x300}))
	size, err := ro.Size(p)
	require.NoError(t, err)
	require.EqualValues(t, slotFileSize, size)
	got, err = ReadSlots(ro)
	require.NoError(t, err)
	require.Equal(t, []Slot{{Name: "replica1", Restart: 0x2A0, Apply: 0x300}}, got)
}
