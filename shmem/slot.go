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

// Slot is a physical replication slot (pg_replslot/<name>/state). Its
// restart LSN is how far the replica behind it has applied: the primary's
// flush gate never writes a page beyond the oldest slot, so a replica never
// reads a "future page" from storage.
type Slot struct {
	Name    string
	Restart storage.LSN
	// Active is true while a walsender streams to it (memory only).
	Active bool
}

func (s Slot) String() string { return fmt.Sprintf("%s(restart=%v)", s.Name, s.Restart) }

// SlotName is the slot a replica on host h uses ("replica1" for n2, ...),
// after the switchover walkthrough's names.
func SlotName(h storage.HostID) string { return fmt.Sprintf("replica%d", int(h)-1) }

// StandbySlotName is the slot standby k (1, 2, ...) streams through
// ("standby1", the switchover walkthrough's name for a standby with its own
// storage).
func StandbySlotName(k int) string { return fmt.Sprintf("standby%d", k) }

// IsStandbySlot reports whether a slot belongs to a standby (a node with its
// own storage), by its name: the slot files on storage carry only the
// restart LSN, so the name is what a primary that reloads them knows.
func IsStandbySlot(name string) bool { return strings.HasPrefix(name, "standby") }

func slotPath(name string) string { return "pg_replslot/" + name + "/state" }

// WriteSlot persists one slot.
func WriteSlot(m *storage.Mount, s Slot) error {
	p := slotPath(s.Name)
	if !m.Exists(p) {
		if err := m.Create(p); err != nil {
			return err
		}
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(s.Restart))
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
		var b [8]byte
		if _, err := m.ReadAt(p, b[:], 0); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		out = append(out, Slot{Name: name, Restart: storage.LSN(binary.LittleEndian.Uint64(b[:]))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
