package shmem

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"promotesim/logindex"
	"promotesim/storage"
)

// XactStatus is a transaction's status in the clog.
type XactStatus uint8

const (
	XactInProgress XactStatus = iota // zero: nothing recorded
	XactCommitted
	XactAborted
)

func (s XactStatus) String() string {
	switch s {
	case XactInProgress:
		return "in-progress"
	case XactCommitted:
		return "committed"
	case XactAborted:
		return "aborted"
	}
	return fmt.Sprintf("XactStatus(%d)", uint8(s))
}

// ClogPath is the one clog segment the model uses (one byte per xid).
const ClogPath = "pg_xact/0000"

// Clog is commit status by transaction id: a node's in-memory clog (the
// primary's SLRU buffers, or a replica's local clog cache, which it may not
// write to shared storage). Its content is flushed to ClogPath at checkpoint
// (primary) or copied there at promote (from the replica's cache).
type Clog struct {
	status []XactStatus // by xid; xid 0 is invalid
	gen    uint64       // counts Set calls (for checkers that look only when it moved)
}

// Gen counts the statuses set so far.
func (c *Clog) Gen() uint64 { return c.gen }

// Set records a transaction's status.
func (c *Clog) Set(xid logindex.XID, s XactStatus) {
	c.gen++
	for int(xid) >= len(c.status) {
		c.status = append(c.status, XactInProgress)
	}
	c.status[xid] = s
}

// Get returns a transaction's status.
func (c *Clog) Get(xid logindex.XID) XactStatus {
	if int(xid) >= len(c.status) {
		return XactInProgress
	}
	return c.status[xid]
}

// Len returns one past the largest xid with a status.
func (c *Clog) Len() int { return len(c.status) }

// Clone returns an independent copy.
func (c *Clog) Clone() Clog { return Clog{status: append([]XactStatus(nil), c.status...)} }

// Committed lists committed xids, ascending.
func (c *Clog) Committed() []logindex.XID {
	var out []logindex.XID
	for x, s := range c.status {
		if s == XactCommitted {
			out = append(out, logindex.XID(x))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// WriteClog writes the clog to shared storage and syncs it.
func WriteClog(m *storage.Mount, c *Clog) error {
	if !m.Exists(ClogPath) {
		if err := m.Create(ClogPath); err != nil {
			return err
		}
	}
	if len(c.status) == 0 {
		return nil
	}
	b := make([]byte, len(c.status))
	for i, s := range c.status {
		b[i] = byte(s)
	}
	if err := m.WriteAt(ClogPath, b, 0); err != nil {
		return err
	}
	return m.Sync(ClogPath)
}

// ReadClog reads the clog from shared storage (empty if it does not exist).
func ReadClog(m *storage.Mount) (Clog, error) {
	size, err := m.Size(ClogPath)
	if errors.Is(err, storage.ErrNotExist) {
		return Clog{}, nil
	}
	if err != nil {
		return Clog{}, err
	}
	b := make([]byte, size)
	if _, err := m.ReadAt(ClogPath, b, 0); err != nil && !errors.Is(err, io.EOF) {
		return Clog{}, err
	}
	c := Clog{status: make([]XactStatus, len(b))}
	for i, v := range b {
		c.status[i] = XactStatus(v)
	}
	return c, nil
}
