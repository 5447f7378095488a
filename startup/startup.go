package startup

import (
	"errors"
	"fmt"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// Mode says which recovery the startup process runs.
type Mode uint8

const (
	// ModeReplica is the streaming recovery of a LogIndex replica, ending in
	// online promote on SIGUSR2 (or waiting forever on a trigger file).
	ModeReplica Mode = iota + 1
	// ModeCrash is a primary's crash recovery (or restart after a stop): redo
	// from the control file's redo pointer to the end of valid WAL.
	ModeCrash
	// ModeStandby is a standby's recovery on its own storage (standby.go):
	// redo from its base backup's redo pointer to consistency, then index
	// the WAL its walreceiver writes for the BGW's parallel replay.
	ModeStandby
)

func (m Mode) String() string {
	switch m {
	case ModeReplica:
		return "replica"
	case ModeCrash:
		return "crash"
	case ModeStandby:
		return "standby"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// State is the startup process's state. The zero value is invalid.
type State uint8

const (
	// StateInit: nothing done yet; the first step reads the control file.
	StateInit State = iota + 1
	// StateCatchUp: replica before hot standby, reading WAL from storage from
	// the redo pointer to the end of valid WAL, one record per step.
	StateCatchUp
	// StateStreaming: hot standby, consuming the WAL meta queue.
	StateStreaming
	// StateStorageRead: hot standby, reading WAL from storage because the
	// queue said so (storage-begin marker) or skipped records (a gap).
	StateStorageRead
	// StateFinalReplay: P1, reading the rest of the old primary's WAL from
	// storage.
	StateFinalReplay
	// StateRestartpoint: P2, the last checkpoint becomes the restartpoint.
	StateRestartpoint
	// StateWaitReset: P3, waiting for the BGW in POLAR_BG_WAITING_RESET.
	StateWaitReset
	// StateEndOfWAL: P4, re-check the end of WAL and open WAL for insertion.
	StateEndOfWAL
	// StatePromoteData: P5, clog to shared storage, slots, queue, promoted info.
	StatePromoteData
	// StateEndOfRecovery: P6, the end-of-recovery record.
	StateEndOfRecovery
	// StateControl: P7, the control-file critical section (V15: role switch,
	// BGW reset, recovery done; V11: role switch and recovery done only).
	StateControl
	// StateResetBGW: P7 second half in the V11 order: the BGW reset after
	// recovery was marked done.
	StateResetBGW
	// StateDone: P8, promote finished; the next step exits.
	StateDone
	// StateCrashRedo: crash recovery, replaying WAL into buffers.
	StateCrashRedo
	// StateCrashDone: crash recovery reached the end of WAL; the next step
	// opens WAL, writes end-of-recovery and the control file, and exits.
	StateCrashDone
	// StateExited: the process has exited.
	StateExited
	// StateStandbyRedo: standby before consistency, replaying its own WAL
	// into buffers itself.
	StateStandbyRedo
	// StateStandbyStreaming: standby at consistency, indexing the WAL its
	// walreceiver wrote; the BGW replays it in POLAR_BG_PARALLEL_REPLAYING.
	StateStandbyStreaming
	// StateReindex: before crash redo (primary) or catch-up (replica):
	// indexing the WAL between the last saved LogIndex table and the redo
	// pointer, one record per step, without replaying it (reindex.go).
	StateReindex
	// StateStandbyEndOfWAL, StateStandbyPromoteData, StateStandbyControl: a
	// standby's promote (standby_promote.go), SP2, SP3 and SP5.
	StateStandbyEndOfWAL
	StateStandbyPromoteData
	StateStandbyControl
)

var stateNames = [...]string{"invalid", "init", "catch-up", "streaming", "storage-read", "final-replay",
	"restartpoint", "wait-reset", "end-of-wal", "promote-data", "end-of-recovery", "control",
	"reset-bgw", "done", "crash-redo", "crash-done", "exited", "standby-redo", "standby-streaming", "reindex",
	"standby-end-of-wal", "standby-promote-data", "standby-control"}

func (s State) String() string {
	if int(s) < len(stateNames) && s != 0 {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Retry delays, in virtual ticks.
const (
	retryRingFull = 8 // memtable ring full: wait for the primary to save
	retryWALWait  = 4 // storage read reached the end of written WAL
	retryIO       = 4 // a read error or busy buffers
)

// Errors of the modelled world.
var (
	// ErrRecordAfterEnd: at P4 a valid record follows the end of WAL found
	// in P1, so the old primary still writes (PANIC in PolarDB's terms).
	ErrRecordAfterEnd = errors.New("startup: record after end of recovery: the old primary is still writing WAL")
)

// Process is the startup process of one node (actor n<h>/startup).
type Process struct {
	n    *shmem.Node
	mode Mode
	name string
	st   State

	// blocked: waiting for a Wake timer (memtable ring full, end of
	// written WAL, read error, buffers busy).
	blocked bool
	// promoteReq: SIGUSR2 arrived before catch-up began (before the control
	// file was read, or while indexing below the redo pointer).
	promoteReq bool
	// trigger: promote was started by the trigger file, not SIGUSR2.
	trigger bool
	// snapshotPending: promote began before hot standby (in catch-up), so
	// the final read is where hot standby is first reached
	// (Fidelity.HotStandbyInFinalRead; PolarDB's test
	// 003_promote_replica_pending).
	snapshotPending bool

	ref    logindex.Ref
	hasRef bool
	// target: in StateStorageRead, the LSN where the queue takes over again
	// (storage-end marker, or the first queued meta after a gap); valid only
	// if hasTarget.
	target    storage.LSN
	hasTarget bool

	// redo is where replay started (the control file's redo pointer).
	redo storage.LSN
	// last is the start of the last valid record consumed (the next record's
	// prev link); InvalidLSN before the first.
	last storage.LSN
	// ckpt and ckptRedo: the last checkpoint seen (control file, then WAL):
	// the restartpoint at P2.
	ckpt, ckptRedo storage.LSN
	// maxXID is the largest xid seen in WAL.
	maxXID logindex.XID
	// end and endLast: the end of valid WAL found in P1 (E) and the start of
	// the record before it.
	end, endLast storage.LSN
	// ctlStep: the next store of the control-file window under
	// Fidelity.ControlWindowSteps (stepControlWindow).
	ctlStep int
	// endChecked: polar_check_before_promote already ran, before the
	// restartpoint (Fidelity.CheckEndBeforeRestartpoint); P4 then only opens
	// WAL at E.
	endChecked bool
	// aborted, missing: an aborted contrecord this replica met at the end
	// of WAL and kept (only with Orderings.ForgetAbortedContrecord off:
	// keptAborted); zero when none.
	aborted, missing storage.LSN
	// reindex and reindexPrev: in StateReindex, the next record to index
	// and the start of the one before it; afterReindex is the state that
	// follows (reindex.go).
	reindex, reindexPrev storage.LSN
	afterReindex         State

	// seq: the promote sequence, when the node's config names one
	// (sequence.go).
	seq sequencer

	rec   logindex.Record
	pkt   logindex.Packet
	pages []storage.PageID
	ids   []storage.BufferID
}

// New returns the startup process of node n in the given mode.
func New(n *shmem.Node, mode Mode) *Process {
	sim.Assertf(mode == ModeReplica || mode == ModeCrash || mode == ModeStandby, "startup: invalid mode %v", mode)
	p := &Process{n: n, mode: mode, name: n.Proc("startup"), st: StateInit}
	if n.Cfg.Sequence != "" {
		seq, err := shmem.ParseSequence(n.Cfg.Sequence)
		sim.Assertf(err == nil, "startup: %v (Config.Validate admits only valid sequences)", err)
		p.seq.steps = seq
	}
	return p
}

// Name implements sim.Actor.
func (p *Process) Name() string { return p.name }

// State returns the current state.
func (p *Process) State() State { return p.st }

// Mode returns the recovery mode.
func (p *Process) Mode() Mode { return p.mode }

// End returns the end of the old primary's WAL found at promote (E) and the
// start of the last valid record; both invalid before P1 finished.
func (p *Process) End() (end, last storage.LSN) { return p.end, p.endLast }

// Redo returns the redo pointer replay started from (the control file's).
func (p *Process) Redo() storage.LSN { return p.redo }

// WakeOn implements sim.Sleeper: Ready reads the node's shared memory,
// which its steps write.
func (p *Process) WakeOn(w *sim.Wakes) { p.n.WakeOn(w) }

// Ready implements sim.Actor. It reads shared memory only.
func (p *Process) Ready() bool {
	if p.blocked {
		return false
	}
	switch p.st {
	case StateInit, StateCatchUp, StateStorageRead, StateFinalReplay, StateRestartpoint,
		StateEndOfWAL, StatePromoteData, StateEndOfRecovery, StateControl, StateResetBGW,
		StateDone, StateCrashRedo, StateCrashDone, StateStandbyRedo, StateReindex,
		StateStandbyEndOfWAL, StateStandbyPromoteData, StateStandbyControl:
		return true
	case StateStandbyStreaming:
		return p.n.ReplayLSN < p.n.ReceivedLSN || p.standbyPromoteDue()
	case StateStreaming:
		if p.n.TriggerFile {
			return true
		}
		k, err := p.n.Queue.Pending(p.ref)
		return err != nil || k > 0
	case StateWaitReset:
		return p.n.BGW.State() == shmem.BGWaitingReset
	}
	return false
}

// Receive implements sim.Actor: signals and wake-ups.
func (p *Process) Receive(c *sim.Ctx, m sim.Msg) {
	switch m := m.(type) {
	case shmem.Wake:
		p.blocked = false
		c.Detail("wake", sim.Str("why", m.Why), sim.Str("state", p.st.String()))
	case shmem.Signal:
		switch m {
		case shmem.SIGTERM, shmem.SIGINT, shmem.SIGQUIT:
			c.Log("signal", sim.Str("sig", m.String()), sim.Str("state", p.st.String()))
			p.exit(c, shmem.ExitKilled, "")
		case shmem.SIGUSR2:
			p.onPromoteSignal(c)
		default:
			c.Detail("ignore-signal", sim.Str("sig", m.String()), sim.Str("state", p.st.String()))
		}
	default:
		sim.Failf("startup: unexpected message %v", m)
	}
}

// onPromoteSignal handles SIGUSR2 (PolarDB's online promote request).
func (p *Process) onPromoteSignal(c *sim.Ctx) {
	if p.mode == ModeStandby && p.st != StateExited && !p.st.standbyPromoting() {
		// StartupProcTriggerHandler: promote_signaled; CheckForStandbyTrigger
		// acts on it once no flushed WAL is left to replay.
		p.promoteReq = true
		c.Log("promote-requested", sim.Str("state", p.st.String()))
		return
	}
	if p.mode != ModeReplica {
		c.Log("ignore-sigusr2", sim.Str("mode", p.mode.String()), sim.Str("state", p.st.String()))
		return
	}
	switch p.st {
	case StateInit, StateReindex:
		p.promoteReq = true
		c.Log("promote-requested", sim.Str("state", p.st.String()))
	case StateCatchUp, StateStreaming, StateStorageRead:
		if !p.n.Index.Enabled() {
			// The vanilla path writes files on a read-only view and
			// crashes (the seed report's segfault); the model PANICs.
			p.exit(c, shmem.ExitPANIC, shmem.ErrLogIndexDisabled.Error())
			return
		}
		if p.st == StateCatchUp {
			c.Mark("startup/promote-before-hot-standby")
		}
		p.beginPromote(c, false)
	default:
		c.Log("ignore-sigusr2", sim.Str("state", p.st.String()))
	}
}

// Step implements sim.Actor: one atomic critical section.
func (p *Process) Step(c *sim.Ctx) {
	if p.seq.on {
		p.stepSequence(c)
		return
	}
	switch p.st {
	case StateInit:
		p.stepInit(c)
	case StateCatchUp:
		if p.triggered(c) {
			return
		}
		p.stepCatchUp(c)
	case StateStreaming:
		if p.triggered(c) {
			return
		}
		p.stepStreaming(c)
	case StateStorageRead:
		if p.triggered(c) {
			return
		}
		p.stepStorageRead(c)
	case StateFinalReplay:
		p.stepFinalReplay(c)
	case StateRestartpoint:
		p.stepRestartpoint(c)
	case StateWaitReset:
		p.stepWaitReset(c)
	case StateEndOfWAL:
		p.stepEndOfWAL(c)
	case StatePromoteData:
		p.stepPromoteData(c)
	case StateEndOfRecovery:
		p.stepEndOfRecovery(c)
	case StateControl:
		p.stepControl(c)
	case StateResetBGW:
		p.stepResetBGW(c)
	case StateDone:
		c.Story("promote-done", sim.LSNField("end", uint64(p.end)), sim.LSNField("insert", uint64(p.n.WAL.InsertLSN())))
		p.exit(c, shmem.ExitNormal, "")
	case StateReindex:
		p.stepReindex(c)
	case StateCrashRedo:
		p.stepCrashRedo(c)
	case StateCrashDone:
		p.stepCrashDone(c)
	case StateStandbyRedo:
		p.stepStandbyRedo(c)
	case StateStandbyStreaming:
		if p.standbyPromoteDue() {
			p.beginStandbyPromote(c)
			return
		}
		p.stepStandbyStreaming(c)
	case StateStandbyEndOfWAL:
		p.stepStandbyEndOfWAL(c)
	case StateStandbyPromoteData:
		p.stepStandbyPromoteData(c)
	case StateStandbyControl:
		p.stepStandbyControl(c)
	default:
		sim.Failf("startup: step in state %v", p.st)
	}
}

// to changes state after asserting the predecessor is allowed.
func (p *Process) to(next State, from ...State) {
	for _, f := range from {
		if p.st == f {
			p.st = next
			return
		}
	}
	sim.Failf("startup: illegal transition %v -> %v", p.st, next)
}

func (p *Process) wait(c *sim.Ctx, why string, ticks sim.Time) {
	p.blocked = true
	c.Wake(shmem.Wake{Why: why}, ticks)
}

// exit ends the process, recording the exit and telling postmaster.
func (p *Process) exit(c *sim.Ctx, kind shmem.ExitKind, msg string) {
	if kind == shmem.ExitPANIC || kind == shmem.ExitFATAL {
		c.Story(kind.String(), sim.Str("err", msg), sim.Str("state", p.st.String()))
	} else {
		c.Story("exit", sim.Str("kind", kind.String()), sim.Str("state", p.st.String()))
	}
	p.st = StateExited
	p.blocked = false
	p.n.Exit(c, shmem.ChildExit{Name: p.name, Kind: kind, Err: msg})
}

// ---- init --------------------------------------------------------------

// stepInit reads the shared control file: the redo pointer is where replay
// starts (StartupXLOG reading pg_control).
func (p *Process) stepInit(c *sim.Ctx) {
	n := p.n
	ctl, err := shmem.ReadControl(n.Mount)
	if err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: read control file: %v", err))
		return
	}
	n.Control = ctl
	n.Local = ctl
	p.redo, p.ckpt, p.ckptRedo = ctl.Redo, ctl.CheckPoint, ctl.Redo
	n.ReplayLSN = ctl.Redo
	n.InRecovery = true
	// The local clog cache starts from what shared storage has (commits
	// before the redo pointer); WAL replay adds the rest.
	shared, err := shmem.ReadClog(n.Mount)
	if err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: read clog: %v", err))
		return
	}
	mergeClog(&n.Clog, &shared)
	if !p.restoreTwoPhaseData(c) {
		return
	}
	if p.mode == ModeCrash {
		// SyncDataDirectory (StartupXLOG after an unclean shutdown): what
		// the crashed server wrote but never fsynced (its fsync failed and
		// it PANICked) must be durable before replay trusts it. A page
		// already carrying a record's change is not redone, so nothing
		// would sync it again, and the next checkpoint moves redo past
		// the record; likewise replayed WAL counts as flushed. As with
		// data_sync_retry off, a failed sync PANICs.
		if ctl.State != shmem.DBShutdowned && ctl.State != shmem.DBShutdownedInRecovery {
			if err := n.Mount.SyncAll(); err != nil {
				p.exit(c, shmem.ExitPANIC, fmt.Sprintf("startup: sync data directory: %v", err))
				return
			}
		}
		// StartupReplicationSlots: a primary starting up loads the slots
		// its replicas stream through from pg_replslot (persisted at
		// checkpoints), so its flush gate holds from the first page it
		// writes: a replica that lags, or has not reconnected yet, must not
		// find a future page on storage.
		slots, err := shmem.ReadSlots(n.Mount)
		if err != nil {
			p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: load slots: %v", err))
			return
		}
		n.Slots = slots
		if n.LogicalSlots, err = shmem.ReadLogicalSlots(n.Mount); err != nil {
			p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: load logical slots: %v", err))
			return
		}
		n.Local.State = shmem.DBInCrashRecovery
		c.Story("crash-recovery", sim.LSNField("redo", uint64(p.redo)), sim.LSNField("checkpoint", uint64(ctl.CheckPoint)))
		p.beginReindex(c, StateCrashRedo)
		return
	}
	if p.mode == ModeStandby {
		p.initStandby(c)
		return
	}
	n.Local.State = shmem.DBInArchiveRecovery
	ref, err := n.Queue.NewRef("startup", true)
	if err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: WAL meta queue: %v", err))
		return
	}
	p.ref, p.hasRef = ref, true
	c.Story("catch-up", sim.LSNField("redo", uint64(p.redo)), sim.LSNField("checkpoint", uint64(ctl.CheckPoint)),
		sim.Bool("logindex", n.Index.Enabled()))
	p.beginReindex(c, StateCatchUp)
}

// mergeClog fills statuses dst does not know from src.
func mergeClog(dst, src *shmem.Clog) {
	for x := 0; x < src.Len(); x++ {
		xid := logindex.XID(x)
		if s := src.Get(xid); s != shmem.XactInProgress && dst.Get(xid) == shmem.XactInProgress {
			dst.Set(xid, s)
		}
	}
}

// ---- consuming records -----------------------------------------------

type outcome uint8

const (
	consumed outcome = iota + 1
	stalled          // memtable ring full: retry later
	failed           // the process exited
)

// readNext reads the record at n.ReplayLSN from storage into p.rec. ok is
// false at the end of valid WAL; err is a device error (not the end).
func (p *Process) readNext() (ok bool, err error) {
	err = p.n.Reader.Read(p.n.ReplayLSN, p.last, &p.rec)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, logindex.ErrInvalidRecord) {
		return false, nil
	}
	return false, err
}

// readOrWait is readNext for a step that reads the next record from
// storage: a read error is traced and the step retried after retryIO
// (retry; ok is then false too).
func (p *Process) readOrWait(c *sim.Ctx) (ok, retry bool) {
	ok, err := p.readNext()
	if err != nil {
		c.Log("read-error", sim.LSNField("lsn", uint64(p.n.ReplayLSN)), sim.Str("err", err.Error()))
		p.wait(c, "read-error", retryIO)
		return false, true
	}
	return ok, false
}

// consume indexes or replays one record given by its WAL meta, as
// polar_logindex_redo's parse step does for a replica: page records go to
// LogIndex (and mark a pooled copy outdated), commit and abort go to the
// local clog cache, a checkpoint is remembered for the restartpoint.
func (p *Process) consume(c *sim.Ctx, m *logindex.Meta, src string) outcome {
	n := p.n
	if m.Start < n.ReplayLSN {
		c.Detail("skip-duplicate", sim.Str("src", src), sim.LSNField("lsn", uint64(m.Start)), sim.LSNField("replayed", uint64(n.ReplayLSN)))
		return consumed
	}
	switch {
	case m.Type.HasPages():
		if n.Index.Enabled() {
			if o := p.index(c, m); o != consumed {
				return o
			}
		}
		for _, pg := range m.PageList() {
			if id, ok := n.Pool.Lookup(pg); ok {
				n.Pool.Get(id).Outdated = true
			}
		}
	case m.Type == logindex.RecCommit:
		n.Clog.Set(m.XID, shmem.XactCommitted)
	case m.Type == logindex.RecAbort:
		n.Clog.Set(m.XID, shmem.XactAborted)
	case p.redoTwoPhase(c, m):
	case m.Type == logindex.RecCheckpoint:
		p.ckpt, p.ckptRedo = m.Start, m.Redo
		n.NoteCheckpoint(m.Start, m.Redo) // a restartpoint candidate for the checkpointer
		c.Log("checkpoint-seen", sim.LSNField("lsn", uint64(m.Start)), sim.LSNField("redo", uint64(m.Redo)))
	}
	if m.XID > p.maxXID {
		p.maxXID = m.XID
	}
	p.last = m.Start
	n.ReplayLSN = m.End
	c.Detail("consume", sim.Str("src", src), sim.Str("type", m.Type.String()), sim.LSNField("lsn", uint64(m.Start)),
		sim.LSNField("end", uint64(m.End)), sim.Uint("xid", uint64(m.XID)))
	return consumed
}

// index adds a page record to LogIndex. When the memtable ring is full, a
// read-only snapshot rereads the primary's meta to reuse saved tables; a
// writable one (after the BGW's SIGUSR2 handling) saves its own tables. If
// still full, startup stalls: the primary has stopped saving.
func (p *Process) index(c *sim.Ctx, m *logindex.Meta) outcome {
	n := p.n
	err := n.Index.AddMeta(m)
	if errors.Is(err, logindex.ErrMemtablesFull) {
		if n.Index.Writable() {
			if !n.SaveStalled { // fault: this node's saving is stalled
				_, serr := n.Index.Save(n.ReplayLSN)
				if serr != nil && !errors.Is(serr, logindex.ErrWALNotFlushed) {
					p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: save LogIndex: %v", serr))
					return failed
				}
			}
		} else if err = n.Index.Refresh(); err != nil {
			p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: refresh LogIndex: %v", err))
			return failed
		}
		err = n.Index.AddMeta(m)
	}
	if errors.Is(err, logindex.ErrMemtablesFull) {
		c.Mark("startup/memtable-ring-full")
		c.Story("memtable-ring-full", sim.LSNField("lsn", uint64(m.Start)), sim.LSNField("saved", uint64(n.Index.Saved().MaxLSN)))
		p.wait(c, "memtable-ring-full", retryRingFull)
		return stalled
	}
	if err != nil {
		p.exit(c, shmem.ExitPANIC, fmt.Sprintf("startup: index record at %v: %v", m.Start, err))
		return failed
	}
	return consumed
}

// readAndConsume reads one record from storage at n.ReplayLSN and consumes
// it. It returns whether a record was consumed and whether valid WAL ended.
func (p *Process) readAndConsume(c *sim.Ctx) (o outcome, atEnd bool) {
	ok, retry := p.readOrWait(c)
	if retry {
		return stalled, false
	}
	if !ok {
		return consumed, true
	}
	m := p.rec.Meta()
	return p.consume(c, &m, "storage"), false
}

// triggered starts promote on the trigger file (no SIGUSR2: the BGW never
// learns of it). Startup removes the file as it takes it
// (xlogrecovery.c CheckForStandbyTrigger: unlink(PromoteTriggerFile)).
func (p *Process) triggered(c *sim.Ctx) bool {
	if !p.n.TriggerFile {
		return false
	}
	p.n.TriggerFile = false
	p.beginPromote(c, true)
	return true
}

// ---- replica: catch-up and streaming ----------------------------------

func (p *Process) stepCatchUp(c *sim.Ctx) {
	o, atEnd := p.readAndConsume(c)
	if o != consumed || !atEnd {
		return
	}
	p.keepAborted(c)
	p.enterHotStandby(c)
}

// enterHotStandby: valid WAL ended; the replica serves reads and the BGW
// starts replaying pooled pages (POLAR_BG_REPLICA_BUF_REPLAYING).
func (p *Process) enterHotStandby(c *sim.Ctx) {
	n := p.n
	p.to(StateStreaming, StateCatchUp)
	switch {
	case !n.Index.Enabled():
	case n.BGW.State() == shmem.BGRedoNotStart:
		n.BGW.StartReplicaBufReplaying(p.redo)
	case n.BGW.Unchecked():
		// The BGW already took a promote's SIGUSR2 (WAITING_RESET) before
		// startup, which has not handled its own yet, reached hot
		// standby: CheckRecoveryConsistency (xlogrecovery.c) calls
		// polar_logindex_wakeup_bg_replay all the same, whose plain
		// store overwrites the state and sets bg_replayed_lsn
		// (docs/findings.md F1).
		from := n.BGW.State()
		n.BGW.WakeupBGReplay(n.ReplayLSN, n.Cfg.ReplicaPrewarm)
		if from == shmem.BGWaitingReset {
			c.Mark("startup/waiting-reset-overwritten")
		}
		c.Story("hot-standby-wakeup-overwrote", sim.Str("bgw-was", from.String()), sim.Str("bgw", n.BGW.State().String()))
	}
	n.Accepting = true
	c.Mark("startup/hot-standby")
	c.Story("hot-standby", sim.LSNField("replayed", uint64(n.ReplayLSN)), sim.LSNField("redo", uint64(p.redo)),
		sim.Str("bgw", n.BGW.State().String()))
}

// hotStandbyInFinalRead is CheckRecoveryConsistency (xlogrecovery.c)
// reaching hot standby during the final read of a replica promoted before
// it: polar_logindex_wakeup_bg_replay writes bg_replayed_lsn (the end of the
// last replayed record, lastReplayedEndRecPtr) and REPLICA_BUF_REPLAYING (the
// node type is still replica: it becomes primary only in the control-file
// window) over whatever the BGW's state is, WAITING_RESET included.
// PMSIGNAL_BEGIN_HOT_STANDBY does nothing: postmaster left PM_RECOVERY when
// it received the promote (polar_postmaster_receive_promote).
func (p *Process) hotStandbyInFinalRead(c *sim.Ctx) {
	n := p.n
	p.snapshotPending = false
	from := n.BGW.State()
	if n.Index.Enabled() {
		n.BGW.WakeupBGReplay(n.ReplayLSN, n.Cfg.ReplicaPrewarm)
		if n.Cfg.ReplicaPrewarm {
			c.Mark("startup/prewarm-parallel-replaying")
		}
	}
	c.Mark("startup/hot-standby-in-final-read")
	if from == shmem.BGWaitingReset && n.BGW.State() != shmem.BGWaitingReset {
		c.Mark("startup/waiting-reset-overwritten")
	}
	c.Story("hot-standby-in-final-read", sim.LSNField("replayed", uint64(n.ReplayLSN)), sim.LSNField("redo", uint64(p.redo)),
		sim.Str("bgw-was", from.String()), sim.Str("bgw", n.BGW.State().String()))
}

// stepStreaming consumes one queue packet.
func (p *Process) stepStreaming(c *sim.Ctx) {
	n := p.n
	ok, err := n.Queue.Peek(p.ref, &p.pkt)
	if err != nil {
		// The reference was released or evicted: take a new one and read
		// from storage until the queue takes over again.
		p.renewRef(c, err)
		p.enterStorageRead(c, storage.InvalidLSN, false, "ref-invalid")
		return
	}
	if !ok {
		return
	}
	switch p.pkt.Kind {
	case logindex.PacketMeta:
		m := &p.pkt.Meta
		if m.Start > n.ReplayLSN {
			// Records between ReplayLSN and this meta never came through
			// the queue: read them from storage first.
			c.Mark("startup/queue-gap")
			p.enterStorageRead(c, m.Start, true, "gap")
			return
		}
		if p.consume(c, m, "queue") == consumed {
			n.Queue.Pop(p.ref, &p.pkt)
		}
	case logindex.PacketStorageBegin:
		n.Queue.Pop(p.ref, &p.pkt)
		c.Mark("startup/queue-overflow-storage-read")
		p.enterStorageRead(c, storage.InvalidLSN, false, "storage-begin")
	case logindex.PacketStorageEnd:
		// Already past the storage stretch (a new reference can start
		// at an end marker).
		n.Queue.Pop(p.ref, &p.pkt)
		c.Detail("storage-end", sim.LSNField("lsn", uint64(p.pkt.LSN)))
	default:
		sim.Failf("startup: packet kind %v", p.pkt.Kind)
	}
}

func (p *Process) renewRef(c *sim.Ctx, why error) {
	n := p.n
	n.Queue.Release(p.ref)
	ref, err := n.Queue.NewRef("startup", true)
	if err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: WAL meta queue: %v", err))
		return
	}
	p.ref = ref
	c.Log("queue-ref-renewed", sim.Str("why", why.Error()))
}

func (p *Process) enterStorageRead(c *sim.Ctx, target storage.LSN, hasTarget bool, why string) {
	if p.st == StateExited {
		return
	}
	p.to(StateStorageRead, StateStreaming)
	p.target, p.hasTarget = target, hasTarget
	f := []sim.Field{sim.Str("why", why), sim.LSNField("from", uint64(p.n.ReplayLSN))}
	if hasTarget {
		f = append(f, sim.LSNField("to", uint64(target)))
	}
	c.Story("storage-read", f...)
}

// stepStorageRead reads one record from storage, until the LSN where the
// queue takes over again (storage-end marker). Without an end marker yet it
// reads while valid records exist, then waits.
func (p *Process) stepStorageRead(c *sim.Ctx) {
	n := p.n
	if !p.hasTarget {
		ok, err := n.Queue.Peek(p.ref, &p.pkt)
		if err != nil {
			p.renewRef(c, err)
			return
		}
		if ok {
			switch p.pkt.Kind {
			case logindex.PacketStorageEnd:
				n.Queue.Pop(p.ref, &p.pkt)
				p.target, p.hasTarget = p.pkt.LSN, true
			case logindex.PacketMeta:
				p.target, p.hasTarget = p.pkt.Meta.Start, true
			case logindex.PacketStorageBegin:
				n.Queue.Pop(p.ref, &p.pkt) // nested marker: keep reading
			}
		}
	}
	if p.hasTarget && n.ReplayLSN >= p.target {
		p.to(StateStreaming, StateStorageRead)
		c.Story("queue-resume", sim.LSNField("replayed", uint64(n.ReplayLSN)), sim.LSNField("target", uint64(p.target)))
		p.hasTarget = false
		return
	}
	o, atEnd := p.readAndConsume(c)
	if o == consumed && atEnd {
		p.keepAborted(c)
		// The WAL the queue skipped is not written yet (or is torn): wait.
		c.Detail("storage-read-wait", sim.LSNField("at", uint64(n.ReplayLSN)))
		p.wait(c, "wal-wait", retryWALWait)
	}
}

// ---- promote -----------------------------------------------------------

// beginPromote: stop consuming the queue. On a trigger file the BGW never
// got SIGUSR2, so P3 will wait forever on a LogIndex replica.
func (p *Process) beginPromote(c *sim.Ctx, trigger bool) {
	n := p.n
	from := p.st
	p.trigger = trigger
	p.blocked = false // any pending Wake is harmless
	p.snapshotPending = from == StateCatchUp && n.Cfg.Fidelity.HotStandbyInFinalRead
	if from == StateStorageRead {
		// The queue had not caught up: startup was reading WAL from
		// storage (polar_queue_manager.c xlog_queue_catch_up false).
		c.Mark("startup/promote-queue-not-caught-up")
	}
	c.Story("promote", sim.Str("from", from.String()), sim.Bool("trigger-file", trigger),
		sim.LSNField("replayed", uint64(n.ReplayLSN)), sim.Str("bgw", n.BGW.State().String()))
	if p.seq.steps != nil {
		p.beginSequence(c)
		return
	}
	if n.Cfg.Orderings.FinalReplay {
		p.to(StateFinalReplay, StateCatchUp, StateStreaming, StateStorageRead)
		return
	}
	// Hazard skip-final-replay: the end is wherever the queue got to.
	p.end, p.endLast = n.ReplayLSN, p.last
	c.Story("skip-final-replay", sim.LSNField("end", uint64(p.end)))
	if n.Cfg.Fidelity.CheckEndBeforeRestartpoint {
		p.to(StateEndOfWAL, StateCatchUp, StateStreaming, StateStorageRead)
		return
	}
	p.to(StateRestartpoint, StateCatchUp, StateStreaming, StateStorageRead)
}

// stepFinalReplay (P1) reads the old primary's remaining WAL from storage,
// one record per step, until the end of valid WAL.
func (p *Process) stepFinalReplay(c *sim.Ctx) {
	if !p.finalReplay(c) {
		return
	}
	if p.n.Cfg.Fidelity.CheckEndBeforeRestartpoint {
		// FinishWalRecovery (xlogrecovery.c) runs polar_check_before_promote
		// first, then polar_request_last_restartpoint, then
		// polar_wait_logindex_bg_stop_replay.
		p.to(StateEndOfWAL, StateFinalReplay)
		return
	}
	p.to(StateRestartpoint, StateFinalReplay)
}

// finalReplay reads one record of P1 and reports whether the end of valid
// WAL is reached, which sets the end E.
func (p *Process) finalReplay(c *sim.Ctx) bool {
	o, atEnd := p.finalRead(c)
	if o != consumed || !atEnd {
		return false
	}
	if p.snapshotPending {
		p.hotStandbyInFinalRead(c)
	}
	p.end, p.endLast = p.n.ReplayLSN, p.last
	c.Story("final-replay-done", sim.LSNField("end", uint64(p.end)), sim.LSNField("last", uint64(p.endLast)))
	return true
}

// finalRead reads and consumes one record of P1. Under
// Fidelity.FinalReadEndsAtFailedRead a read error ends the read where it
// stands, as PolarDB's queue reader takes any read that decodes nothing,
// once the trigger is set, as the end (polar_xlog_recv_queue_pop).
func (p *Process) finalRead(c *sim.Ctx) (o outcome, atEnd bool) {
	if !p.n.Cfg.Fidelity.FinalReadEndsAtFailedRead {
		return p.readAndConsume(c)
	}
	ok, err := p.readNext()
	if err != nil {
		c.Mark("startup/final-read-failed")
		c.Story("final-read-failed", sim.LSNField("lsn", uint64(p.n.ReplayLSN)), sim.Str("err", err.Error()))
		return consumed, true
	}
	if !ok {
		return consumed, true
	}
	m := p.rec.Meta()
	return p.consume(c, &m, "storage"), false
}

// stepRestartpoint (P2): the old primary's last checkpoint becomes the
// local restartpoint.
func (p *Process) stepRestartpoint(c *sim.Ctx) {
	n := p.n
	p.restartpoint(c)
	if !n.Cfg.Orderings.WaitReset {
		p.to(StateEndOfWAL, StateRestartpoint)
		c.Log("skip-wait-reset", sim.Str("bgw", n.BGW.State().String()))
		return
	}
	p.to(StateWaitReset, StateRestartpoint)
	p.announceWaitReset(c)
}

// restartpoint is P2's store: the old primary's last checkpoint seen so
// far becomes the local restartpoint.
func (p *Process) restartpoint(c *sim.Ctx) {
	p.n.Local.CheckPoint, p.n.Local.Redo = p.ckpt, p.ckptRedo
	c.Story("restartpoint", sim.LSNField("checkpoint", uint64(p.ckpt)), sim.LSNField("redo", uint64(p.ckptRedo)))
}

// announceWaitReset: startup starts waiting for POLAR_BG_WAITING_RESET.
func (p *Process) announceWaitReset(c *sim.Ctx) {
	if p.trigger {
		c.Mark("startup/trigger-file-wait")
	}
	c.Story("wait-reset", sim.Str("bgw", p.n.BGW.State().String()), sim.Bool("trigger-file", p.trigger))
}

// stepWaitReset (P3) runs once the BGW is in POLAR_BG_WAITING_RESET
// (polar_wait_logindex_bg_stop_replay).
func (p *Process) stepWaitReset(c *sim.Ctx) {
	n := p.n
	sim.Assertf(n.BGW.State() == shmem.BGWaitingReset, "startup: wait-reset stepped with BGW %v", n.BGW.State())
	p.to(StateEndOfWAL, StateWaitReset)
	c.Log("bgw-waiting-reset", sim.LSNField("replay-point", uint64(n.BGW.ReplayPoint())))
}

// stepEndOfWAL (P4): no valid record may follow E (else the old primary is
// still writing: PANIC); no new timeline; WAL insertion starts at E. Under
// Fidelity.CheckEndBeforeRestartpoint the check is its own step before P2
// (polar_check_before_promote in FinishWalRecovery) and this step, after P3,
// only opens WAL at E: PolarDB re-reads the last record there to find
// endOfLog and does not look past it again.
func (p *Process) stepEndOfWAL(c *sim.Ctx) {
	n := p.n
	if !p.endChecked {
		if !p.checkEnd(c) {
			return
		}
		if n.Cfg.Fidelity.CheckEndBeforeRestartpoint {
			p.endChecked = true
			p.to(StateRestartpoint, StateEndOfWAL)
			c.Log("check-before-promote", sim.LSNField("end", uint64(p.end)))
			return
		}
	}
	if !p.openWALAtEnd(c) {
		return
	}
	p.to(StatePromoteData, StateEndOfWAL)
}

// openWALAtEnd is P4's second half: WAL insertion starts at E (or, after
// an aborted contrecord a primary's crash recovery kept, at its missing
// page: contrecord.go).
func (p *Process) openWALAtEnd(c *sim.Ctx) bool {
	n := p.n
	if _, ok := p.openWALAtPromote(c); !ok {
		return false
	}
	c.Story("end-of-wal", sim.LSNField("end", uint64(p.end)), sim.LSNField("last", uint64(p.endLast)),
		sim.Uint("tli", uint64(n.Control.TLI)))
	return true
}

// checkEnd is polar_check_before_promote (xlogrecovery.c): a valid record
// at E means the old primary is still writing (PANIC "is not the last valid
// record's EndRecPtr"). It reports whether startup goes on.
func (p *Process) checkEnd(c *sim.Ctx) bool {
	err := p.n.Reader.Read(p.end, p.endLast, &p.rec)
	if err == nil {
		p.exit(c, shmem.ExitPANIC, fmt.Sprintf("%v: record %v at end %v", ErrRecordAfterEnd, &p.rec, p.end))
		return false
	}
	if !errors.Is(err, logindex.ErrInvalidRecord) {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: re-read end of WAL at %v: %v", p.end, err))
		return false
	}
	return true
}

// stepPromoteData (P5, polar_online_promote_data): clog to shared storage,
// slots reloaded, WAL meta queue reset and released, LogIndex promoted info.
func (p *Process) stepPromoteData(c *sim.Ctx) {
	if p.promoteData(c) {
		p.to(StateEndOfRecovery, StatePromoteData)
	}
}

// promoteData is P5's work; false when startup exited.
func (p *Process) promoteData(c *sim.Ctx) bool {
	n := p.n
	o := n.Cfg.Orderings
	// WAL before data: the old primary's WAL this node replayed up to E may
	// be visible on storage without being durable (the old primary died
	// between its write and its fsync). Before anything built on it (the
	// clog copy, the end-of-recovery record, pages) is made durable, the new
	// writer syncs those segments (a sync by the read-write mount persists
	// what the file holds).
	if err := p.syncReplayedWAL(n.Local.Redo); err != nil {
		p.exit(c, shmem.ExitFATAL, err.Error())
		return false
	}
	if !p.recoverPreparedTransactions(c) {
		return false
	}
	if o.CopyClog {
		// The cache already holds the shared clog it started from; merge
		// again in case the old primary flushed more since.
		shared, err := shmem.ReadClog(n.Mount)
		if err != nil {
			p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: read clog: %v", err))
			return false
		}
		mergeClog(&n.Clog, &shared)
		if err := shmem.WriteClog(n.Mount, &n.Clog); err != nil {
			p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: copy clog to shared storage: %v", err))
			return false
		}
	} else {
		// Hazard skip-clog-copy: the local cache stays local, and a
		// primary's clog is pg_xact on shared storage (its SLRU reads
		// there), which lacks what only this replica replayed.
		shared, err := shmem.ReadClog(n.Mount)
		if err != nil {
			p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: read clog: %v", err))
			return false
		}
		n.Clog = shared
	}
	if o.ReloadSlots {
		slots, err := shmem.ReadSlots(n.Mount)
		if err != nil {
			p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: reload slots: %v", err))
			return false
		}
		n.Slots = slots
		if n.LogicalSlots, err = shmem.ReadLogicalSlots(n.Mount); err != nil {
			p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: reload logical slots: %v", err))
			return false
		}
	}
	n.Queue.Reset()
	p.hasRef = false
	if err := n.Index.SetPromoted(p.end); err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: promoted info: %v", err))
		return false
	}
	c.Story("promote-data", sim.Bool("clog", o.CopyClog), sim.Int("committed", int64(len(n.Clog.Committed()))),
		sim.Bool("slots", o.ReloadSlots), sim.Int("nslots", int64(len(n.Slots))), sim.LSNField("promoted-end", uint64(p.end)))
	return true
}

// stepEndOfRecovery (P6) writes and flushes the end-of-recovery record at E.
func (p *Process) stepEndOfRecovery(c *sim.Ctx) {
	if p.endOfRecovery(c) {
		next := StateControl
		if p.mode == ModeStandby {
			next = StateStandbyControl
		}
		p.to(next, StateEndOfRecovery)
	}
}

// endOfRecovery is P6's work; false when startup exited.
func (p *Process) endOfRecovery(c *sim.Ctx) bool {
	n := p.n
	rec := logindex.Record{Type: logindex.RecEndOfRecovery}
	if err := n.WAL.Insert(&rec); err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: insert end-of-recovery: %v", err))
		return false
	}
	if err := n.WAL.Flush(rec.End); err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: flush end-of-recovery: %v", err))
		return false
	}
	c.Story("end-of-recovery", sim.LSNField("lsn", uint64(rec.Start)), sim.LSNField("end", uint64(rec.End)))
	return true
}

// stepControl (P7). V15 (ResetBeforeRecoveryDone): in one critical section
// under the control-file lock: in production, node type primary, BGW reset,
// then recovery done and the shared control file. V11: role switch and
// recovery done now; the BGW reset in a later step.
func (p *Process) stepControl(c *sim.Ctx) {
	n := p.n
	if n.Cfg.Fidelity.ControlWindowSteps && n.Cfg.Orderings.ResetBeforeRecoveryDone {
		p.stepControlWindow(c)
		return
	}
	n.Local.State = shmem.DBInProduction
	n.Primary = true
	c.Story("role-switch", sim.Str("state", n.Local.State.String()), sim.Str("bgw", n.BGW.State().String()))
	if n.Cfg.Orderings.ResetBeforeRecoveryDone {
		if !p.resetBGW(c) {
			return
		}
		if !p.recoveryDone(c) {
			return
		}
		p.to(StateDone, StateControl)
		return
	}
	if !p.recoveryDone(c) {
		return
	}
	p.to(StateResetBGW, StateControl)
}

// Control-window steps (Fidelity.ControlWindowSteps), in the order of
// StartupXLOG (xlog.c) under ControlFileLock. The lock excludes neither the
// bgwriter nor the BGW nor the checkpointer's reads of shared memory, so the
// scheduler may run them between any two of these steps.
const (
	// ctlInProduction: ControlFile->state = DB_IN_PRODUCTION and the first
	// UpdateControlFile, which on a replica writes the local control file
	// (one step: nothing else reads the local file in that moment).
	ctlInProduction = iota
	// ctlNodeType: polar_set_node_type(POLAR_PRIMARY). From here the
	// bgwriter runs the flush-list sync of a primary (polar_bg_buffer_sync:
	// polar_normal_buffer_sync_enabled is false once polar_is_replica() is),
	// while the BGW still waits for its reset: update_consistent_lsn_delta's
	// WAITING_RESET hold is live in this window.
	ctlNodeType
	// ctlReset: polar_reset_bg_replayed_lsn: the BGW enters ONLINE_PROMOTE
	// and its workers start dirtying buffers, recovery still in progress.
	ctlReset
	// ctlRecoveryDone: SharedRecoveryState = RECOVERY_STATE_DONE under
	// info_lck, then UpdateControlFile writes the shared control file and
	// ControlFileLock is released.
	ctlRecoveryDone
)

// stepControlWindow takes one store of the V15 control-file window a step.
func (p *Process) stepControlWindow(c *sim.Ctx) {
	n := p.n
	switch p.ctlStep {
	case ctlInProduction:
		n.Local.State = shmem.DBInProduction
		c.Story("in-production", sim.Str("local", n.Local.State.String()), sim.Str("bgw", n.BGW.State().String()))
	case ctlNodeType:
		n.Primary = true
		c.Story("role-switch", sim.Str("state", n.Local.State.String()), sim.Str("bgw", n.BGW.State().String()))
	case ctlReset:
		if !p.resetBGW(c) {
			return
		}
	case ctlRecoveryDone:
		if !p.recoveryDone(c) {
			return
		}
		p.to(StateDone, StateControl)
	}
	p.ctlStep++
}

// stepResetBGW is the V11 order's late BGW reset.
func (p *Process) stepResetBGW(c *sim.Ctx) {
	if !p.resetBGW(c) {
		return
	}
	p.to(StateDone, StateResetBGW)
}

// resetBGW mirrors polar_reset_bg_replayed_lsn: evict stale outdated
// buffers (V15), pick the replay start, move the BGW to ONLINE_PROMOTE. It
// reports false when startup exited (Fidelity.PromoteReplayFromConsistent's
// PANICs).
func (p *Process) resetBGW(c *sim.Ctx) bool {
	n := p.n
	o := n.Cfg.Orderings
	if n.Cfg.Fidelity.PromoteReplayFromConsistent && o.ReplayFromRedo {
		return p.resetBGWFaithful(c)
	}
	redo := n.Local.Redo
	if n.BGW.State() != shmem.BGWaitingReset {
		c.Mark("startup/reset-without-waiting-reset")
	}
	evicted, above := 0, 0
	if o.EvictStale {
		evicted, above = p.evictStale(redo, o.EvictAllOutdated)
	}
	if evicted > above {
		// An outdated copy older than the redo was pooled: left in the
		// pool under V11's order it would be replayed forward and
		// flushed over the newer stored page (docs/findings.md V11-2).
		c.Mark("startup/reset-evicted-stale")
	}
	if above > 0 {
		// An outdated copy at or above the redo was pooled: kept, as
		// polar_online_promote_evict_buffer keeps it, ONLINE_PROMOTE's
		// worker would mark it dirty and the bgwriter could write it over
		// newer storage (docs/findings.md F5).
		c.Mark("startup/reset-evicted-above-redo")
	}
	start := redo
	if !o.ReplayFromRedo {
		// V11 (polar_reset_bg_replayed_lsn, POLARDB_11_STABLE's
		// polar_logindex_redo.c): min(old primary's consistent LSN, BGW
		// replay point), where an unknown consistent LSN is the
		// restartpoint (GetOldestRestartPoint) and an invalid replay
		// point (a promote before the BGW replayed anything) gives the
		// consistent LSN alone, not the restartpoint.
		start = n.PrimaryConsistent
		if !start.Valid() {
			start = redo
		}
		if rp := n.BGW.ReplayPoint(); rp.Valid() && rp < start {
			start = rp
		}
	}
	from := n.BGW.State()
	n.BGW.Reset(start, p.end)
	c.Story("reset-bgw", sim.Str("from", from.String()), sim.LSNField("replay-point", uint64(n.BGW.ReplayPoint())),
		sim.LSNField("fake-oldest", uint64(n.BGW.FakeOldest())), sim.LSNField("redo", uint64(redo)),
		sim.LSNField("end", uint64(p.end)), sim.Int("evicted", int64(evicted)))
	return true
}

// resetBGWFaithful is PolarDB 15's polar_reset_bg_replayed_lsn
// (polar_logindex_redo.c) as coded: the old primary's consistent LSN (the
// redo when unknown) raises the oldest replica apply LSN
// (polar_set_oldest_replica_lsn: here every replica slot's apply LSN below
// it, until feedback moves it again); an invalid bg_replayed_lsn PANICs;
// buffers are evicted only when bg_replayed_lsn < redo, and a failed
// eviction PANICs (polar_online_promote_evict_buffer); replay restarts at
// the redo.
func (p *Process) resetBGWFaithful(c *sim.Ctx) bool {
	n := p.n
	redo := n.Local.Redo
	consist := n.PrimaryConsistent
	if !consist.Valid() {
		consist = redo
	}
	raised := raiseOldestApply(n, consist)
	bg := n.BGW.ReplayPoint()
	if !bg.Valid() {
		p.exit(c, shmem.ExitPANIC, "startup: bg_replayed_lsn is invalid")
		return false
	}
	evicted := 0
	if bg < redo {
		k, err := p.evictOutdated(redo)
		if err != nil {
			p.exit(c, shmem.ExitPANIC, err.Error())
			return false
		}
		evicted = k
	}
	from := n.BGW.State()
	n.BGW.Reset(redo, p.end)
	c.Story("reset-bgw", sim.Str("from", from.String()), sim.LSNField("replay-point", uint64(n.BGW.ReplayPoint())),
		sim.LSNField("redo", uint64(redo)), sim.LSNField("end", uint64(p.end)), sim.Int("evicted", int64(evicted)),
		sim.LSNField("bg-replayed", uint64(bg)), sim.LSNField("old-consistent", uint64(consist)), sim.Int("apply-raised", int64(raised)))
	return true
}

// raiseOldestApply is polar_set_oldest_replica_lsn's effect on the flush
// gate: replica slots whose apply LSN is below lsn are taken to be at lsn.
// It returns how many slots moved.
func raiseOldestApply(n *shmem.Node, lsn storage.LSN) int {
	k := 0
	for i, s := range n.Slots {
		if !shmem.IsStandbySlot(s.Name) && s.Apply.Valid() && s.Apply < lsn {
			n.Slots[i].Apply = lsn
			k++
		}
	}
	return k
}

// evictOutdated is polar_online_promote_evict_buffer: every valid outdated
// buffer whose page LSN is invalid or below redo is evicted; one that cannot
// be (pinned by another process, or dirty) is a PANIC ("failed to evict
// buffer"): PolarDB assumes every backend has exited.
func (p *Process) evictOutdated(redo storage.LSN) (int, error) {
	pool := p.n.Pool
	evicted := 0
	for i := range pool.Frames() {
		id := storage.BufferID(i)
		b := pool.Get(id)
		if !b.Valid || !b.Outdated || (b.Page.LSN.Valid() && b.Page.LSN >= redo) {
			continue
		}
		if b.Dirty || pool.Pins(id) > 0 {
			return evicted, fmt.Errorf("startup: failed to evict buffer=%d oldest_redo_ptr:%v page_lsn:%v for %v (pins %d, dirty %v)",
				i, redo, b.Page.LSN, b.Tag, pool.Pins(id), b.Dirty)
		}
		pool.Evict(id)
		evicted++
	}
	return evicted, nil
}

// evictStale drops outdated, unpinned, clean buffers whose page LSN is below
// redo (polar_online_promote_evict_buffer), or, with all
// (Orderings.EvictAllOutdated, F5's fix), every outdated, unpinned, clean
// buffer: storage has everything below redo, and ONLINE_PROMOTE replays
// from redo on top of the storage image, so a dropped copy is rebuilt from
// storage and the LogIndex whatever its LSN. It returns how many it evicted
// and how many of those were at or above redo.
func (p *Process) evictStale(redo storage.LSN, all bool) (evicted, above int) {
	pool := p.n.Pool
	for i := range pool.Frames() {
		id := storage.BufferID(i)
		b := pool.Get(id)
		if !b.Valid || !b.Outdated || b.Dirty || pool.Pins(id) > 0 {
			continue
		}
		if b.Page.LSN >= redo {
			if !all {
				continue
			}
			above++
		}
		pool.Evict(id)
		evicted++
	}
	return evicted, above
}

// recoveryDone marks recovery finished and writes the shared control file
// (in production, primary = this host, same checkpoint, redo and timeline).
func (p *Process) recoveryDone(c *sim.Ctx) bool {
	n := p.n
	if !p.promoteTwoPhaseFiles(c) {
		return false
	}
	n.InRecovery = false
	n.NextXID = p.nextXID()
	ctl := shmem.Control{State: shmem.DBInProduction, CheckPoint: n.Local.CheckPoint, Redo: n.Local.Redo,
		TLI: n.Control.TLI, NextXID: uint32(n.NextXID), Primary: n.Cfg.Host}
	if err := shmem.WriteControl(n.Mount, ctl); err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: write control file: %v", err))
		return false
	}
	n.Control = ctl
	n.Local = ctl
	c.Story("recovery-done", sim.Str("state", ctl.State.String()), sim.Str("primary", ctl.Primary.String()),
		sim.LSNField("redo", uint64(ctl.Redo)), sim.Uint("next-xid", uint64(ctl.NextXID)), sim.Str("bgw", n.BGW.State().String()))
	return true
}

func (p *Process) nextXID() logindex.XID {
	x := max(p.n.NextXID, p.maxXID+1, logindex.XID(p.n.Clog.Len()), logindex.XID(p.n.Control.NextXID))
	return x
}

// ---- crash recovery ----------------------------------------------------

// stepCrashRedo replays one record into buffers (the primary's redo loop in
// StartupXLOG): page records dirty their buffers with the record's start as
// oldest LSN; commit and abort update the clog.
func (p *Process) stepCrashRedo(c *sim.Ctx) {
	n := p.n
	ok, retry := p.readOrWait(c)
	if retry {
		return
	}
	if !ok {
		p.end, p.endLast = n.ReplayLSN, p.last
		p.to(StateCrashDone, StateCrashRedo)
		c.Story("redo-done", sim.LSNField("end", uint64(p.end)), sim.LSNField("last", uint64(p.endLast)))
		return
	}
	rec := &p.rec
	if rec.Type.HasPages() {
		if !p.redoPages(c, rec) {
			return
		}
		if n.Index.Enabled() && rec.Start > n.Index.Saved().MaxLSN {
			m := rec.Meta()
			if p.index(c, &m) != consumed {
				return
			}
		}
	}
	m := rec.Meta()
	p.replayNonPage(c, &m)
	p.redone(c, rec)
}

// redone moves the replay position past rec, the last step of replaying
// a record in crash or standby redo.
func (p *Process) redone(c *sim.Ctx, rec *logindex.Record) {
	p.last = rec.Start
	p.n.ReplayLSN = rec.End
	c.Detail("redo", sim.Str("type", rec.Type.String()), sim.LSNField("lsn", uint64(rec.Start)), sim.LSNField("end", uint64(rec.End)))
}

// redoPages applies rec to each page it touches, pinning them for the step.
// It returns false if the step must be retried (buffers busy) or the
// process exited.
func (p *Process) redoPages(c *sim.Ctx, rec *logindex.Record) bool {
	n := p.n
	// Writing a dirty victim needs WAL flushed to its page LSN: everything
	// replayed so far is durable WAL, so a WAL positioned at the replay end
	// serves (XLogFlush during recovery only moves minRecoveryPoint).
	if n.WAL == nil || n.WAL.InsertLSN() != n.ReplayLSN {
		w, err := logindex.NewWAL(n.Mount, n.Cfg.LogIndex, n.ReplayLSN, p.last)
		if err != nil {
			p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: WAL at %v: %v", n.ReplayLSN, err))
			return false
		}
		n.WAL = w
	}
	p.pages = rec.Pages(p.pages[:0])
	p.ids = p.ids[:0]
	defer func() {
		for _, id := range p.ids {
			n.Pool.Unpin(id)
		}
	}()
	for _, pg := range p.pages {
		read := n.Buffer
		if rec.Type == logindex.RecInitPage {
			read = n.ZeroBuffer // BKPBLOCK_WILL_INIT: redo reads nothing
		}
		id, _, err := read(c, pg)
		if errors.Is(err, shmem.ErrBuffersBusy) {
			c.Log("buffers-busy", sim.Str("page", pg.String()), sim.LSNField("lsn", uint64(rec.Start)))
			p.wait(c, "buffers-busy", retryIO)
			return false
		}
		if err != nil {
			c.Log("read-error", sim.Str("page", pg.String()), sim.Str("err", err.Error()))
			p.wait(c, "read-error", retryIO)
			return false
		}
		n.Pool.Pin(id)
		p.ids = append(p.ids, id)
	}
	for i, pg := range p.pages {
		id := p.ids[i]
		if !rec.Apply(pg, n.Pool.Modify(id)) {
			continue
		}
		if err := n.Pool.MarkDirty(id, rec.Start); err != nil {
			p.exit(c, shmem.ExitPANIC, fmt.Sprintf("startup: redo %v: %v", rec.Start, err))
			return false
		}
	}
	return true
}

// syncReplayedWAL makes the WAL this node replayed, from the segment of
// from up to the end of recovery, durable before it builds on it: another
// host may have written that WAL and died before its fsync, leaving it
// visible but volatile (a sync by the read-write mount persists what the
// file holds).
func (p *Process) syncReplayedWAL(from storage.LSN) error {
	n := p.n
	if p.end <= from {
		return nil
	}
	seg := n.Cfg.LogIndex.WALSegmentSize
	for s := logindex.SegNo(from, seg); s <= logindex.SegNo(p.end-1, seg); s++ {
		name := logindex.SegmentName(s, seg)
		if !n.Mount.Exists(name) {
			continue
		}
		if err := n.Mount.Sync(name); err != nil {
			return fmt.Errorf("startup: sync replayed WAL %s: %w", name, err)
		}
	}
	return nil
}

// stepCrashDone opens WAL at the end, writes end-of-recovery and the
// control file, and exits. The WAL replayed is synced first, whoever wrote
// it (the crash recovery counterpart of stepPromoteData's sync).
func (p *Process) stepCrashDone(c *sim.Ctx) {
	n := p.n
	if err := p.syncReplayedWAL(p.redo); err != nil {
		p.exit(c, shmem.ExitPANIC, err.Error())
		return
	}
	if !p.recoverPreparedTransactions(c) {
		return
	}
	w, ok := p.openWALAfterCrash(c)
	if !ok {
		return
	}
	rec := logindex.Record{Type: logindex.RecEndOfRecovery}
	if err := w.Insert(&rec); err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: insert end-of-recovery: %v", err))
		return
	}
	if err := w.Flush(rec.End); err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: flush end-of-recovery: %v", err))
		return
	}
	n.Primary = true
	n.Local.State = shmem.DBInProduction
	c.Story("end-of-recovery", sim.LSNField("lsn", uint64(rec.Start)), sim.LSNField("end", uint64(rec.End)))
	if !p.recoveryDone(c) {
		return
	}
	p.to(StateDone, StateCrashDone)
	p.exit(c, shmem.ExitNormal, "")
}
