package shmem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"promotesim/storage"
)

// Slot is a physical replication slot (pg_replslot/<name>/state). A
// replica's standby reply carries two positions, and the slot keeps both
// (ProcessStandbyReplyMessage):
//
//   - Apply (polar_replica_apply_lsn, recorded by polar_record_replica_lsn)
//     is how far the replica has replayed (applyPtr, GetXLogReplayRecPtr).
//     It is the flush gate: the primary never writes a page beyond the
//     oldest Apply (polar_get_oldest_applied_lsn, polar_buffer_can_be_flushed),
//     so no replica reads a "future page" from storage.
//   - Restart (restart_lsn) is the oldest LSN the replica may still need
//     WAL and LogIndex from: the reply's bg_replayed_lsn field, which is
//     polar_get_read_min_lsn on the replica (the older of its replay
//     position, its BGW replay point, the LSNs its in-flight reads
//     published and the primary's consistent LSN as it learned it). It
//     bounds LogIndex truncation (polar_calc_min_used_lsn), so a lagging
//     BGW or a read under way still finds the entries it needs.
//
// A standby (its own storage) sends no bg_replayed_lsn: both follow its
// flushed position, and only Restart matters (WAL retention).
type Slot struct {
	Name    string
	Restart storage.LSN
	Apply   storage.LSN
	// Active is true while a walsender streams to it (memory only).
	Active bool
}

func (s Slot) String() string {
	return fmt.Sprintf("%s(restart=%v apply=%v)", s.Name, s.Restart, s.Apply)
}

// SlotName is the slot a replica on host h uses ("replica1" for n2, ...),
// after the switchover walkthrough's names.
func SlotName(h storage.HostID) string {
	if h >= 1 && h <= 10 {
		return slotNames[8*(h-1) : 8*h] // no allocation: a replica's walsender asks often
	}
	return "replica" + strconv.Itoa(int(h)-1)
}

// slotNames are the first ten hosts' slot names, eight bytes each.
const slotNames = "replica0replica1replica2replica3replica4replica5replica6replica7replica8replica9"

// StandbySlotName is the slot standby k (1, 2, ...) streams through
// ("standby1", the switchover walkthrough's name for a standby with its own
// storage).
func StandbySlotName(k int) string { return fmt.Sprintf("standby%d", k) }

// IsStandbySlot reports whether a slot belongs to a standby (a node with its
// own storage), by its name: the slot files on storage carry only LSNs,
// so the name is what a primary that reloads them knows.
func IsStandbySlot(name string) bool { return strings.HasPrefix(name, "standby") }

func slotPath(name string) string { return "pg_replslot/" + name + "/state" }

// slotFileSize is the state file's size: restart LSN, then apply LSN
// (ReplicationSlotPersistentData keeps polar_replica_apply_lsn after the
// upstream fields). A file of only the first 8 bytes is the model's older
// format; ReadSlots takes its restart LSN as the apply LSN too (it was the
// older of the two, so the flush gate stays safe).
const slotFileSize = 16

// WriteSlot persists one slot.
func WriteSlot(m *storage.Mount, s Slot) error {
	p := slotPath(s.Name)
	if !m.Exists(p) {
		if err := m.Create(p); err != nil {
			return err
		}
	}
	var b [slotFileSize]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(s.Restart))
	binary.LittleEndian.PutUint64(b[8:], uint64(s.Apply))
	if err := m.WriteAt(p, b[:], 0); err != nil {
		return err
	}
	return m.Sync(p)
}

// DropSlot removes a slot's file.
func DropSlot(m *storage.Mount, name string) error {
	err := m.Remove(slotPath(name))
	if errors.Is(err, storage.ErrNotExist) {
		return nil
	}
	return err
}

// ReadSlots loads every slot from shared storage, sorted by name.
func ReadSlots(m *storage.Mount) ([]Slot, error) {
	var out []Slot
	for _, p := range m.List("pg_replslot/") {
		if !strings.HasSuffix(p, "/state") {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(p, "pg_replslot/"), "/state")
		var b [slotFileSize]byte
		k, err := m.ReadAt(p, b[:], 0)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		s := Slot{Name: name, Restart: storage.LSN(binary.LittleEndian.Uint64(b[:8]))}
		s.Apply = storage.LSN(binary.LittleEndian.Uint64(b[8:]))
		if k < slotFileSize {
			s.Apply = s.Restart // the older format: see slotFileSize
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
