package postmaster

import (
	"fmt"
	"strings"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/startup"
	"promotesim/storage"
)

// A standby is a node with its OWN storage (a local disk, not the shared
// device): PolarDB's disaster-recovery node. It receives the full WAL from
// the primary over physical streaming replication (slot standby<k>), writes
// and syncs it to its own pg_wal, and replays it with LogIndex: its startup
// parses every record into LogIndex, its BGW runs in
// POLAR_BG_PARALLEL_REPLAYING and dispatches (page, LSN) tasks to parallel
// replay workers, which replay every page and dirty it
// (polar_enable_parallel_replay_standby_mode); its bgwriter writes the dirty
// pages to its own disk. It serves read-only hot standby reads. It never
// mounts, reads or writes the shared device: its base backup is taken by the
// primary (pg_basebackup streams files through the primary's walsender).
//
// After an online promote on the shared device the standby's walreceiver
// reconnects to whichever node is primary now and resumes at the end of the
// WAL on its disk: online promote keeps the timeline and the new primary's
// WAL continues at the end of the old primary's, so the stream is the same
// byte sequence (the xl_prev link of the first new record, the
// end-of-recovery record, points at the old primary's last record).

// walData is one whole WAL record on the physical replication stream to a
// standby (the XLogData message of the streaming protocol).
type walData struct {
	Rec    logindex.Record
	Sender sim.ActorID
	// Prefix are the stream's bytes before Rec that are no record: the
	// first part of an aborted record that Rec, an OVERWRITE_CONTRECORD,
	// names (contrecordPrefix).
	Prefix []byte
}

func (m walData) String() string {
	return fmt.Sprintf("wal-data(%v %v..%v)", m.Rec.Type, m.Rec.Start, m.Rec.End)
}

// cloneRecord copies rec (the reader's scratch record) so the message owns it.
func cloneRecord(rec *logindex.Record) logindex.Record {
	r := *rec
	r.Changes = append([]logindex.Change(nil), rec.Changes...)
	return r
}

// standbyExcluded are the directories a base backup does not copy: slots
// belong to the primary (pg_basebackup skips pg_replslot/), and the standby
// builds its own LogIndex from the WAL it replays (the primary's tables
// index WAL the standby replays with its own startup before consistency).
var standbyExcluded = []string{"pg_replslot/", "pg_logindex/"}

// BaseBackup copies primary p's data directory to a standby's own device dst
// as host h (pg_basebackup, here one atomic operator step): the control
// file, data files, clog and every WAL segment, each written and synced. It
// reads through p's mount (the primary serves the backup); the standby
// never touches shared storage. It returns the backup's redo pointer and the
// end of the WAL copied; no page copied is ahead of that end (WAL before
// data), so the standby is consistent once it replayed its copied WAL.
func (o Operator) BaseBackup(p *shmem.Node, dst *storage.Device, h storage.HostID) (redo, end storage.LSN, err error) {
	if p.Mount == nil || p.WAL == nil {
		return 0, 0, fmt.Errorf("base backup: %v is not a running primary", p.Cfg.Host)
	}
	m, err := dst.Mount(h, storage.MountReadWrite)
	if err != nil {
		return 0, 0, fmt.Errorf("base backup: mount %v's own device: %w", h, err)
	}
	defer dst.Unmount(h)
	var buf [storage.BlockSize]byte
	files := 0
	for _, path := range p.Mount.List("") {
		if excludedFromBackup(path) {
			continue
		}
		size, err := p.Mount.Size(path)
		if err != nil {
			return 0, 0, fmt.Errorf("base backup: %s: %w", path, err)
		}
		if !m.Exists(path) {
			if err := m.Create(path); err != nil {
				return 0, 0, fmt.Errorf("base backup: create %s: %w", path, err)
			}
		}
		for off := int64(0); off < size; off += storage.BlockSize {
			n := min(size-off, storage.BlockSize)
			if _, err := p.Mount.ReadAt(path, buf[:n], off); err != nil {
				return 0, 0, fmt.Errorf("base backup: read %s at %d: %w", path, off, err)
			}
			if err := m.WriteAt(path, buf[:n], off); err != nil {
				return 0, 0, fmt.Errorf("base backup: write %s at %d: %w", path, off, err)
			}
		}
		if err := m.Sync(path); err != nil {
			return 0, 0, fmt.Errorf("base backup: sync %s: %w", path, err)
		}
		files++
	}
	ctl, err := shmem.ReadControl(m)
	if err != nil {
		return 0, 0, fmt.Errorf("base backup: control file: %w", err)
	}
	end = p.WAL.FlushedLSN()
	o.S.Emit(p.Proc("operator"), sim.LevelStory, "base-backup", sim.Str("to", h.String()), sim.Int("files", int64(files)),
		sim.LSNField("redo", uint64(ctl.Redo)), sim.LSNField("end", uint64(end)))
	return ctl.Redo, end, nil
}

func excludedFromBackup(path string) bool {
	for _, dir := range standbyExcluded {
		if strings.HasPrefix(path, dir) {
			return true
		}
	}
	return false
}

// BootStandby starts a standby on its own device own (already holding a base
// backup, or its files from an earlier run): fresh shared memory, the device
// mounted read-write (local-disk mode: the standby is its only writer), and
// a postmaster that forks startup (ModeStandby), the BGW with its parallel
// replay workers, the walreceiver (streaming through slot) and the bgwriter.
func (o Operator) BootStandby(own *storage.Device, cfg shmem.Config, slot string, sessions int) (*shmem.Node, error) {
	n, err := shmem.NewNode(cfg, own)
	if err != nil {
		return nil, err
	}
	if err := n.Attach(storage.MountReadWrite); err != nil {
		return nil, fmt.Errorf("boot %v as standby: %w", cfg.Host, err)
	}
	o.Net.Add(n)
	pm := NewPostmaster(n, o.Net, o.Journal, RoleStandby, sessions)
	pm.slot = slot
	n.Procs.Postmaster = o.S.Add(pm)
	o.S.Emit(n.Proc("operator"), sim.LevelStory, "pg_ctl-start", sim.Str("role", RoleStandby.String()),
		sim.Str("mount", storage.MountReadWrite.String()), sim.Str("storage", "own"), sim.Str("slot", slot))
	return n, nil
}

// startStandby forks a standby's processes: startup, the BGW and its
// workers, walreceiver, bgwriter and a checkpointer that runs restartpoints
// on its own disk (standby_restartpoint.go). There is no polar worker (no
// WAL meta queue) and no walwriter (the walreceiver syncs what it writes).
func (p *Postmaster) startStandby(c *sim.Ctx) {
	n := p.n
	p.state = pmRecovery
	n.InRecovery = true
	n.Procs.Startup = c.Spawn(startup.New(n, startup.ModeStandby))
	p.spawnBGW(c)
	n.Procs.WALReceiver = c.Spawn(newStandbyReceiver(n, p.net, p.slot))
	n.Procs.BGWriter = c.Spawn(newStandbyWriter(n))
	n.Procs.Checkpointer = c.Spawn(newCheckpointer(n))
	c.Story("start", sim.Str("role", RoleStandby.String()), sim.Str("mount", n.Mount.Mode().String()), sim.Str("storage", "own"))
}

// promoteStandby answers pg_ctl promote on a standby as postmaster.c's
// sigusr1_handler does when POLAR_LOGINDEX_ENABLE_ONLINE_PROMOTE() is false
// (a standby is not polar_is_replica()): signal_child(StartupPID, SIGUSR2)
// and nothing else. Backends keep their sessions (hot standby reads go on),
// nothing is remounted (the standby owns its disk) and the BGW is not
// signalled: startup runs the promote (startup/standby_promote.go) and
// read-write service opens when it exits, as after a replica's promote.
func (p *Postmaster) promoteStandby(c *sim.Ctx) {
	n := p.n
	// received_promote is polar_postmaster_receive_promote's, the replica
	// path's: the vanilla path leaves it alone.
	p.promoting = true
	p.state = pmPromoteWaitStartup
	if n.Procs.Startup != shmem.NoProc && c.Alive(n.Procs.Startup) {
		c.Send(n.Procs.Startup, shmem.SIGUSR2)
	}
	c.Mark("postmaster/standby-promote")
	c.Story("promote-standby", sim.Str("to", "startup"), sim.Int("backends", int64(len(n.Procs.Backends))),
		sim.LSNField("received", uint64(n.ReceivedLSN)), sim.LSNField("replay", uint64(n.ReplayLSN)))
}

// standbyReceiver is a standby's walreceiver: once startup reached
// consistency it connects to the primary for whole records from the end of
// the WAL on its disk, writes and syncs each record to its own pg_wal (one
// step: XLogWalRcvWrite + XLogWalRcvFlush), publishes the flushed end
// (n.ReceivedLSN, WalRcv->flushedUpto) for startup, and reports it as
// feedback, which moves its slot's restart and apply LSNs (the slot retains
// WAL only: shmem.Node.FlushGate and RetainLSN ignore it).
//
// Mirrors src/backend/replication/walreceiver.c (XLogWalRcvProcessMsg,
// XLogWalRcvWrite, XLogWalRcvFlush, XLogWalRcvSendReply).
type standbyReceiver struct {
	n    *shmem.Node
	slot string
	wal  *logindex.WAL // writes received records to our own pg_wal
	stream
	announced storage.HostID // the primary the trace last said we stream from
	fed       storage.LSN    // last flushed position fed back
}

func newStandbyReceiver(n *shmem.Node, net *Net, slot string) *standbyReceiver {
	return &standbyReceiver{n: n, slot: slot, stream: stream{net: net, peer: shmem.NoProc}}
}

func (a *standbyReceiver) Name() string { return a.n.Proc("walreceiver") }

// WakeOn implements sim.Sleeper: Ready reads the node's shared memory,
// which its steps write.
func (a *standbyReceiver) WakeOn(w *sim.Wakes) { a.n.WakeOn(w) }

func (a *standbyReceiver) Ready() bool {
	n := a.n
	if n.StopWALReceiver {
		return true // XLogShutdownWalRcv: exit
	}
	if ok, decided := a.ready(n); decided {
		return ok
	}
	return n.ReceivedLSN > a.fed && a.peer != shmem.NoProc
}

func (a *standbyReceiver) Step(c *sim.Ctx) {
	if a.n.StopWALReceiver {
		c.Log("stop", sim.Str("why", "promote"), sim.LSNField("flushed", uint64(a.n.ReceivedLSN)))
		exitProc(c, a.n, a.Name(), shmem.ExitNormal, nil)
		return
	}
	if a.connecting(c) {
		a.connect(c)
		return
	}
	if flushed := a.n.ReceivedLSN; flushed > a.fed && a.peer != shmem.NoProc {
		a.fed = flushed
		if c.Alive(a.peer) {
			c.Send(a.peer, shmem.Feedback{Host: a.n.Cfg.Host, Slot: a.slot, Applied: a.fed})
		}
	}
}

func (a *standbyReceiver) connect(c *sim.Ctx) {
	n := a.n
	p := a.dial(c, n, n.ReceivedLSN)
	if p == nil {
		return
	}
	c.Send(p.Procs.Postmaster, Connect{From: n.Cfg.Host, Slot: a.slot, Receiver: c.Self(), Start: a.expected, Full: true})
	c.Log("connect", sim.Str("primary", p.Cfg.Host.String()), sim.LSNField("start", uint64(a.expected)), sim.Str("slot", a.slot))
}

func (a *standbyReceiver) Receive(c *sim.Ctx, m sim.Msg) {
	switch m := m.(type) {
	case walData:
		if a.n.StopWALReceiver {
			return // startup fixed the end of WAL: nothing more is written
		}
		if m.Rec.Start != a.expected+storage.LSN(len(m.Prefix)) {
			c.Detail("skip-record", sim.LSNField("lsn", uint64(m.Rec.Start)), sim.LSNField("expected", uint64(a.expected)))
			return
		}
		a.peer = m.Sender
		if a.sender != a.announced {
			a.announced = a.sender
			c.Story("streaming", sim.Str("primary", a.sender.String()), sim.LSNField("from", uint64(m.Rec.Start)), sim.Str("slot", a.slot))
		}
		if len(m.Prefix) > 0 && !a.writePrefix(c, m.Prefix, m.Rec.Prev) {
			return
		}
		a.write(c, m.Rec)
	case shmem.Keepalive:
		// An idle stream still names its walsender: feedback can go there,
		// and the connection is alive.
		a.peer = m.Sender
	case shmem.Wake:
		a.checkAlive(c)
		c.Wake(shmem.Wake{Why: "reconnect"}, reconnectTicks)
	case shmem.Signal:
		if m == shmem.SIGTERM || m == shmem.SIGQUIT || m == shmem.SIGINT {
			exitProc(c, a.n, a.Name(), shmem.ExitKilled, nil)
		}
	}
}

// write appends one received record to our own pg_wal and syncs it. The
// record is re-encoded at the same position with the same prev link, so the
// bytes are the primary's.
func (a *standbyReceiver) write(c *sim.Ctx, rec logindex.Record) {
	n := a.n
	if a.wal == nil || a.wal.InsertLSN() != rec.Start {
		w, err := logindex.NewWAL(n.Mount, n.Cfg.LogIndex, rec.Start, rec.Prev)
		if err != nil {
			exitProc(c, n, a.Name(), shmem.ExitFATAL, fmt.Errorf("walreceiver: open WAL at %v: %w", rec.Start, err))
			return
		}
		a.wal = w
		n.WAL = w // WAL before data on this disk: pages are written only below what is flushed here
	} else if rec.Prev != a.wal.PrevLSN() {
		// Not the continuation of our WAL (another history): stop, as a
		// walreceiver does on a timeline it cannot follow.
		exitProc(c, n, a.Name(), shmem.ExitFATAL, fmt.Errorf("walreceiver: record at %v links back to %v, our last record is at %v",
			rec.Start, rec.Prev, a.wal.PrevLSN()))
		return
	}
	end := rec.End
	if err := a.wal.Insert(&rec); err != nil {
		exitProc(c, n, a.Name(), shmem.ExitFATAL, fmt.Errorf("walreceiver: write %v: %w", rec.Start, err))
		return
	}
	sim.Assertf(rec.End == end, "walreceiver: record at %v re-encoded to end %v, sent with end %v", rec.Start, rec.End, end)
	if err := a.wal.Flush(rec.End); err != nil {
		exitProc(c, n, a.Name(), shmem.ExitFATAL, fmt.Errorf("walreceiver: flush %v: %w", rec.End, err))
		return
	}
	a.expected = rec.End
	n.ReceivedLSN = rec.End
	c.Mark("postmaster/standby-wal-received")
	c.Detail("receive", sim.Str("type", rec.Type.String()), sim.LSNField("lsn", uint64(rec.Start)), sim.LSNField("flushed", uint64(rec.End)))
}

// standbyWriter is a standby's bgwriter: it writes dirty buffers from the
// flush-list head to the standby's OWN disk once its own WAL covers them,
// and publishes the consistent LSN (the fake oldest LSN while the BGW is in
// POLAR_BG_PARALLEL_REPLAYING). No flush gate applies: nobody else reads
// this disk.
//
// Mirrors src/backend/postmaster/bgwriter.c and polar_bufmgr.c on a standby.
//
// Once the standby is promoted and out of recovery it is the same process
// running a primary's rounds (bgWriter): the promoted standby's primary
// bgwriter on its own disk.
type standbyWriter struct {
	n       *shmem.Node
	primary bgWriter
}

func newStandbyWriter(n *shmem.Node) *standbyWriter {
	return &standbyWriter{n: n, primary: bgWriter{n: n}}
}

func (a *standbyWriter) Name() string { return a.n.Proc("bgwriter") }

// WakeOn implements sim.Sleeper: Ready reads the node's shared memory,
// which its steps write.
func (a *standbyWriter) WakeOn(w *sim.Wakes) { a.n.WakeOn(w) }

func (a *standbyWriter) Ready() bool {
	n := a.n
	if bgwriterActive(n) {
		return a.primary.Ready()
	}
	if !n.InRecovery || n.Primary {
		return false
	}
	if id, ok := n.Pool.FlushHead(); ok && n.CanWrite(n.Pool.Get(id).Page.LSN) {
		return true
	}
	return n.Pool.FlushLen() == 0 && n.ConsistentFallback() > n.Pool.ConsistentLSN()
}

func (a *standbyWriter) Receive(c *sim.Ctx, m sim.Msg) {
	if killedBy(m) {
		exitProc(c, a.n, a.Name(), shmem.ExitKilled, nil)
	}
}

func (a *standbyWriter) Step(c *sim.Ctx) {
	n := a.n
	if bgwriterActive(n) {
		a.primary.Step(c)
		return
	}
	wrote, alive := writeFlushHead(c, n, a.Name())
	if !alive {
		return
	}
	if wrote {
		c.Mark("postmaster/standby-write-page")
	}
	before := n.Pool.ConsistentLSN()
	if after := n.UpdateConsistentLSN(c); after != before {
		c.Log("consistent-lsn", sim.LSNField("lsn", uint64(after)), sim.Int("dirty", int64(n.Pool.FlushLen())))
	}
}
