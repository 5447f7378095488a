package shmem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"promotesim/storage"
)

// LogicalSlot is a logical replication slot (pg_create_logical_replication_slot)
// with the two positions PolarDB's test 006 needs to survive a promote:
// restart_lsn, where decoding must start reading WAL, and confirmed_flush,
// up to where the client has consumed changes. Like a physical slot its
// persistent data is in pg_replslot/<name>/ on shared storage, saved when
// created and when the client confirms (LogicalConfirmReceivedLocation
// saves at once when restart_lsn moves), and at checkpoints
// (CheckPointReplicationSlots); crash recovery loads it
// (StartupReplicationSlots) and a promoted node reloads it
// (polar_reload_replication_slots_from_shared_storage).
//
// The model keeps it in its own file, pg_replslot/<name>/logical, so that
// the physical slots' readers (flush gate, retain LSN) never see it: a
// logical slot retains WAL (ReplicationSlotsComputeRequiredLSN), which the
// model never recycles, and feeds no flush gate. There are no running-xacts
// records and no decoding of transactions in progress, so restart_lsn
// follows confirmed_flush.
type LogicalSlot struct {
	Name           string
	Restart        storage.LSN
	ConfirmedFlush storage.LSN
}

func (s LogicalSlot) String() string {
	return fmt.Sprintf("%s(logical restart=%v confirmed_flush=%v)", s.Name, s.Restart, s.ConfirmedFlush)
}

const logicalSuffix = "/logical"

func logicalSlotPath(name string) string { return "pg_replslot/" + name + logicalSuffix }

// WriteLogicalSlot persists s (ReplicationSlotSave) and syncs it.
func WriteLogicalSlot(m *storage.Mount, s LogicalSlot) error {
	p := logicalSlotPath(s.Name)
	if !m.Exists(p) {
		if err := m.Create(p); err != nil {
			return err
		}
	}
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(s.Restart))
	binary.LittleEndian.PutUint64(b[8:], uint64(s.ConfirmedFlush))
	if err := m.WriteAt(p, b[:], 0); err != nil {
		return err
	}
	return m.Sync(p)
}

// ReadLogicalSlots loads every logical slot from storage, sorted by name.
func ReadLogicalSlots(m *storage.Mount) ([]LogicalSlot, error) {
	var out []LogicalSlot
	for _, p := range m.List("pg_replslot/") {
		if !strings.HasSuffix(p, logicalSuffix) {
			continue
		}
		var b [16]byte
		k, err := m.ReadAt(p, b[:], 0)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if k == 0 {
			// A creation that failed after the file was made: PolarDB
			// writes a new slot in pg_replslot/<name>.tmp and renames it
			// only once saved (slot.c CreateSlotOnDisk), and startup
			// removes leftover .tmp directories (StartupReplicationSlots);
			// the model has no rename, so an empty file is that leftover.
			continue
		}
		if k < len(b) {
			return nil, fmt.Errorf("shmem: logical slot file %s is %d bytes, want %d", p, k, len(b))
		}
		out = append(out, LogicalSlot{Name: strings.TrimSuffix(strings.TrimPrefix(p, "pg_replslot/"), logicalSuffix),
			Restart: storage.LSN(binary.LittleEndian.Uint64(b[:8])), ConfirmedFlush: storage.LSN(binary.LittleEndian.Uint64(b[8:]))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// LogicalSlot returns the node's logical slot name, if any.
func (n *Node) LogicalSlot(name string) (*LogicalSlot, bool) {
	for i := range n.LogicalSlots {
		if n.LogicalSlots[i].Name == name {
			return &n.LogicalSlots[i], true
		}
	}
	return nil, false
}
