package shmem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"

	"promotesim/logindex"
	"promotesim/storage"
)

// GXact is one prepared transaction in shared memory (PostgreSQL's
// GlobalTransactionData in src/backend/access/transam/twophase.c): its xid
// and gid, where its PREPARE record lies while its state is only in WAL
// (prepare_start_lsn / prepare_end_lsn), and whether its state file in
// pg_twophase/ holds it instead (ondisk).
type GXact struct {
	XID          logindex.XID
	GID          string
	PrepareStart storage.LSN
	PrepareEnd   storage.LSN
	// OnDisk: the state is in the file (CheckPointTwoPhase wrote it, or
	// restoreTwoPhaseData read it); the prepare LSNs are then invalid.
	OnDisk bool
	// Valid: prepared and visible in pg_prepared_xacts (MarkAsPrepared, or
	// RecoverPreparedTransactions at the end of recovery). InRedo: added by
	// recovery (PrepareRedoAdd) and not yet recovered.
	Valid, InRedo bool
	// Locked: a backend is finishing it (locking_backend in LockGXact).
	Locked bool
}

func (g GXact) String() string {
	where := fmt.Sprintf("wal=%v", g.PrepareStart)
	if g.OnDisk {
		where = "file"
	}
	return fmt.Sprintf("xid=%d gid=%s %s", g.XID, g.GID, where)
}

// MaxPreparedXacts is max_prepared_transactions (PostgreSQL's default is 0,
// which disables PREPARE; PolarDB's 001 test turns it on).
const MaxPreparedXacts = 8

// TwoPhase is TwoPhaseState: the node's prepared transactions in the order
// they were added. Backends add and remove (PREPARE, COMMIT/ROLLBACK
// PREPARED), startup adds and removes in redo and recovers them at the end
// of recovery, the checkpointer moves their state to files.
type TwoPhase struct {
	xacts []GXact
	gen   uint64
}

// Gen counts the changes of membership and validity (for checkers that
// look again only when it moved).
func (t *TwoPhase) Gen() uint64 { return t.gen }

// MarkValid makes xid's entry a prepared transaction (MarkAsPrepared, or
// RecoverPreparedTransactions' MarkAsPreparingGuts): valid, no longer in
// redo, unlocked.
func (t *TwoPhase) MarkValid(xid logindex.XID) bool {
	g, ok := t.ByXID(xid)
	if ok {
		g.Valid, g.InRedo, g.Locked = true, false, false
		t.gen++
	}
	return ok
}

// All returns the prepared transactions (not a copy: read only).
func (t *TwoPhase) All() []GXact { return t.xacts }

// Len is the number of entries.
func (t *TwoPhase) Len() int { return len(t.xacts) }

// ByGID returns the entry with gid, if any.
func (t *TwoPhase) ByGID(gid string) (*GXact, bool) {
	for i := range t.xacts {
		if t.xacts[i].GID == gid {
			return &t.xacts[i], true
		}
	}
	return nil, false
}

// ByXID returns the entry of xid, if any.
func (t *TwoPhase) ByXID(xid logindex.XID) (*GXact, bool) {
	for i := range t.xacts {
		if t.xacts[i].XID == xid {
			return &t.xacts[i], true
		}
	}
	return nil, false
}

// Add appends an entry (MarkAsPreparing, PrepareRedoAdd).
func (t *TwoPhase) Add(g GXact) {
	t.xacts = append(t.xacts, g)
	t.gen++
}

// Remove drops xid's entry (RemoveGXact, PrepareRedoRemove) and returns it.
func (t *TwoPhase) Remove(xid logindex.XID) (GXact, bool) {
	for i := range t.xacts {
		if t.xacts[i].XID == xid {
			g := t.xacts[i]
			t.xacts = append(t.xacts[:i], t.xacts[i+1:]...)
			t.gen++
			return g, true
		}
	}
	return GXact{}, false
}

// TwoPhaseDir is the state-file directory on a writable node's storage
// (POLAR_TWOPHASE_DIR: polar_datadir/pg_twophase on a primary or standby).
const TwoPhaseDir = "pg_twophase/"

// TwoPhaseFilePath is xid's state file (POLAR_TWO_PHASE_FILE_PATH:
// eight upper-case hex digits).
func TwoPhaseFilePath(xid logindex.XID) string {
	return fmt.Sprintf("%s%08X", TwoPhaseDir, uint32(xid))
}

var twoPhaseCRC = crc32.MakeTable(crc32.Castagnoli)

// WriteTwoPhaseFile writes and syncs xid's state file (RecreateTwoPhaseFile:
// header with xid and gid, then a CRC-32C).
func WriteTwoPhaseFile(m *storage.Mount, xid logindex.XID, gid string) error {
	b := make([]byte, 8+len(gid)+4)
	binary.LittleEndian.PutUint32(b[0:], uint32(xid))
	binary.LittleEndian.PutUint32(b[4:], uint32(len(gid)))
	copy(b[8:], gid)
	binary.LittleEndian.PutUint32(b[8+len(gid):], crc32.Checksum(b[:8+len(gid)], twoPhaseCRC))
	p := TwoPhaseFilePath(xid)
	if m.Exists(p) {
		if err := m.Truncate(p, 0); err != nil {
			return err
		}
	} else if err := m.Create(p); err != nil {
		return err
	}
	if err := m.WriteAt(p, b, 0); err != nil {
		return err
	}
	return m.Sync(p)
}

// ErrTwoPhaseFile is a missing, short or corrupt state file
// (ReadTwoPhaseFile's "could not open/read file", "calculated CRC checksum
// does not match value stored in file").
var ErrTwoPhaseFile = errors.New("shmem: two-phase state file")

// ReadTwoPhaseFile reads xid's state file and returns its gid.
func ReadTwoPhaseFile(m *storage.Mount, xid logindex.XID) (string, error) {
	p := TwoPhaseFilePath(xid)
	size, err := m.Size(p)
	if errors.Is(err, storage.ErrNotExist) {
		return "", fmt.Errorf("%w: could not open file %q", ErrTwoPhaseFile, p)
	}
	if err != nil {
		return "", err
	}
	if size < 12 {
		return "", fmt.Errorf("%w: %q is too short (%d bytes)", ErrTwoPhaseFile, p, size)
	}
	b := make([]byte, size)
	if n, err := m.ReadAt(p, b, 0); err != nil || int64(n) < size {
		return "", fmt.Errorf("%w: could not read file %q: %v", ErrTwoPhaseFile, p, err)
	}
	le := binary.LittleEndian
	n := int(le.Uint32(b[4:]))
	if logindex.XID(le.Uint32(b[0:])) != xid || 8+n+4 != len(b) ||
		crc32.Checksum(b[:8+n], twoPhaseCRC) != le.Uint32(b[8+n:]) {
		return "", fmt.Errorf("%w: corrupted two-phase state in file %q", ErrTwoPhaseFile, p)
	}
	return string(b[8 : 8+n]), nil
}

// RemoveTwoPhaseFile removes xid's state file (RemoveTwoPhaseFile; a
// missing file is no error, as with giveWarning=false).
func RemoveTwoPhaseFile(m *storage.Mount, xid logindex.XID) error {
	p := TwoPhaseFilePath(xid)
	if !m.Exists(p) {
		return nil
	}
	return m.Remove(p)
}

// TwoPhaseFiles lists the xids that have a state file, ascending (the
// directory scan of restoreTwoPhaseData: names of eight hex digits only).
func TwoPhaseFiles(m *storage.Mount) []logindex.XID {
	var out []logindex.XID
	for _, p := range m.List(TwoPhaseDir) {
		name := strings.TrimPrefix(p, TwoPhaseDir)
		if len(name) != 8 || strings.Trim(name, "0123456789ABCDEF") != "" {
			continue
		}
		x, err := strconv.ParseUint(name, 16, 32)
		if err == nil {
			out = append(out, logindex.XID(x))
		}
	}
	return out
}

// CheckPointTwoPhase moves to state files every prepared transaction whose
// PREPARE record ends at or below the checkpoint's redo horizon and is not
// on disk yet (twophase.c CheckPointTwoPhase, called last in CheckPointGuts
// before the checkpoint record is inserted): past this checkpoint, crash
// recovery starts above their records and finds them in pg_twophase/.
// It returns how many it wrote.
// A failed write leaves its file for Fidelity.TwoPhaseFileLeftOnWriteError
// (leaveLeftover: RecreateTwoPhaseFile's O_TRUNC rewrite, which destroys
// a good file another node wrote on shared storage). Otherwise (the fixed
// model) a valid file already there for the same gid is kept as it is,
// not rewritten, and a failed write of a new file removes it.
func (t *TwoPhase) CheckPointTwoPhase(m *storage.Mount, redo storage.LSN, leaveLeftover bool) (int, error) {
	wrote := 0
	for i := range t.xacts {
		g := &t.xacts[i]
		if !(g.Valid || g.InRedo) || g.OnDisk || g.PrepareEnd > redo {
			continue
		}
		if !leaveLeftover {
			if gid, err := ReadTwoPhaseFile(m, g.XID); err == nil && gid == g.GID {
				g.OnDisk, g.PrepareStart, g.PrepareEnd = true, storage.InvalidLSN, storage.InvalidLSN
				continue
			}
		}
		if err := WriteTwoPhaseFile(m, g.XID, g.GID); err != nil {
			if !leaveLeftover {
				_ = RemoveTwoPhaseFile(m, g.XID) // best effort: the error reported is the write's
			}
			return wrote, err
		}
		g.OnDisk, g.PrepareStart, g.PrepareEnd = true, storage.InvalidLSN, storage.InvalidLSN
		wrote++
	}
	return wrote, nil
}

// ReadTwoPhaseState reads prepared transaction g's state back, as startup's
// ProcessTwoPhaseBuffer and a backend's FinishPreparedTransaction do: the
// state file if it is on disk (ReadTwoPhaseFile), else the PREPARE record
// at its start (XlogReadTwoPhaseData, which ERRORs unless the record there
// is that transaction's PREPARE).
func (n *Node) ReadTwoPhaseState(g *GXact) error {
	if g.OnDisk {
		gid, err := ReadTwoPhaseFile(n.Mount, g.XID)
		if err == nil && gid != g.GID {
			err = fmt.Errorf("%w: file of xid %d holds gid %q, want %q", ErrTwoPhaseFile, g.XID, gid, g.GID)
		}
		return err
	}
	var rec logindex.Record
	if err := n.Reader.Read(g.PrepareStart, storage.InvalidLSN, &rec); err != nil {
		return fmt.Errorf("could not read two-phase state from WAL at %v: %w", g.PrepareStart, err)
	}
	if rec.Type != logindex.RecPrepare || rec.XID != g.XID || rec.GID != g.GID {
		return fmt.Errorf("expected two-phase state data is not present in WAL at %v", g.PrepareStart)
	}
	return nil
}
