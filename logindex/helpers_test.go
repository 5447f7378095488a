package logindex

import (
	"github.com/stretchr/testify/require"

	"promotesim/storage"
)

// tb is what both *testing.T and *rapid.T offer.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	FailNow()
	Fatal(args ...any)
}

// newDevice makes a shared device with the primary (n1) mounted RW and a
// replica (n2) mounted RO.
func newDevice(t tb) (*storage.Device, *storage.Mount, *storage.Mount) {
	t.Helper()
	d, err := storage.NewDevice(storage.DeviceConfig{Blocks: 1 << 16, Fence: storage.FenceNone})
	require.NoError(t, err)
	rw, err := d.Mount(1, storage.MountReadWrite)
	require.NoError(t, err)
	ro, err := d.Mount(2, storage.MountReadOnly)
	require.NoError(t, err)
	return d, rw, ro
}

func pg(rel, blk uint32) storage.PageID {
	return storage.PageID{Rel: storage.RelID(rel), Block: storage.BlockNo(blk)}
}

func pageRec(xid XID, changes ...Change) *Record {
	return &Record{Type: RecPage, XID: xid, Changes: changes}
}

func set(p storage.PageID, slot uint8, v uint64) Change { return Change{Page: p, Slot: slot, Value: v} }
