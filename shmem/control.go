package shmem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"promotesim/storage"
)

// DBState is pg_control's state field.
type DBState uint8

const (
	DBStartup DBState = iota + 1
	DBShutdowned
	DBShutdownedInRecovery
	DBInCrashRecovery
	DBInArchiveRecovery
	DBInProduction
)

func (s DBState) String() string {
	switch s {
	case DBStartup:
		return "starting up"
	case DBShutdowned:
		return "shut down"
	case DBShutdownedInRecovery:
		return "shut down in recovery"
	case DBInCrashRecovery:
		return "in crash recovery"
	case DBInArchiveRecovery:
		return "in archive recovery"
	case DBInProduction:
		return "in production"
	}
	return fmt.Sprintf("DBState(%d)", uint8(s))
}

// Control is the content of pg_control: the shared one on the device
// (global/pg_control) or a node's local copy.
type Control struct {
	State DBState
	// CheckPoint is the start LSN of the last checkpoint record; Redo is its
	// redo pointer (where crash recovery starts).
	CheckPoint storage.LSN
	Redo       storage.LSN
	// TLI is the timeline: online promote keeps it.
	TLI uint32
	// NextXID is the next transaction id at the checkpoint.
	NextXID uint32
	// Primary is the node type's host: which node was primary when written.
	Primary storage.HostID
}

func (c Control) String() string {
	return fmt.Sprintf("state=%q checkpoint=%v redo=%v tli=%d primary=%v", c.State, c.CheckPoint, c.Redo, c.TLI, c.Primary)
}

const controlSize = 1 + 8 + 8 + 4 + 4 + 1 + 4

// ErrNoControl reports a missing or corrupt control file.
var ErrNoControl = errors.New("shmem: no valid control file")

// Encode writes c into one block.
func (c Control) Encode(b []byte) {
	_ = b[storage.BlockSize-1]
	clear(b[:storage.BlockSize])
	b[0] = byte(c.State)
	binary.LittleEndian.PutUint64(b[1:], uint64(c.CheckPoint))
	binary.LittleEndian.PutUint64(b[9:], uint64(c.Redo))
	binary.LittleEndian.PutUint32(b[17:], c.TLI)
	binary.LittleEndian.PutUint32(b[21:], c.NextXID)
	b[25] = byte(c.Primary)
	binary.LittleEndian.PutUint32(b[26:], crc32.ChecksumIEEE(b[:26]))
}

// DecodeControl reads a control file block.
func DecodeControl(b []byte) (Control, error) {
	if len(b) < controlSize || binary.LittleEndian.Uint32(b[26:]) != crc32.ChecksumIEEE(b[:26]) || b[0] == 0 {
		return Control{}, ErrNoControl
	}
	return Control{
		State:      DBState(b[0]),
		CheckPoint: storage.LSN(binary.LittleEndian.Uint64(b[1:])),
		Redo:       storage.LSN(binary.LittleEndian.Uint64(b[9:])),
		TLI:        binary.LittleEndian.Uint32(b[17:]),
		NextXID:    binary.LittleEndian.Uint32(b[21:]),
		Primary:    storage.HostID(b[25]),
	}, nil
}

// WriteControl writes and syncs the shared control file. In fence mode detect
// this is where a displaced writer learns it is displaced (ErrWriterDeath).
func WriteControl(m *storage.Mount, c Control) error {
	var b [storage.BlockSize]byte
	c.Encode(b[:])
	if !m.Exists(storage.ControlFile) {
		if err := m.Create(storage.ControlFile); err != nil {
			return err
		}
	}
	if err := m.WriteAt(storage.ControlFile, b[:], 0); err != nil {
		return err
	}
	return m.Sync(storage.ControlFile)
}

// ReadControl reads the shared control file.
func ReadControl(m *storage.Mount) (Control, error) {
	var b [storage.BlockSize]byte
	if _, err := m.ReadAt(storage.ControlFile, b[:], 0); err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, storage.ErrNotExist) {
			return Control{}, ErrNoControl
		}
		return Control{}, err
	}
	return DecodeControl(b[:])
}
