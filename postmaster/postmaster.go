package postmaster

import (
	"errors"
	"fmt"
	"slices"

	"promotesim/bgw"
	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/startup"
	"promotesim/storage"
)

// pmState is the postmaster's state. The zero value is invalid.
type pmState uint8

const (
	pmStarting pmState = iota + 1
	// pmRecovery: startup is running (replica recovery or crash recovery).
	pmRecovery
	// pmRun: normal operation as primary (read-write service).
	pmRun
	// pmPromoteWaitBackends: promote began; SIGTERM sent to every backend.
	pmPromoteWaitBackends
	// pmPromoteRemount: backends gone (or not waited for): remount next.
	pmPromoteRemount
	// pmPromoteWaitStartup: SIGUSR2 sent; waiting for startup to exit.
	pmPromoteWaitStartup
	// pmShutdownBackends: fast shutdown: waiting for backends to exit.
	pmShutdownBackends
	// pmShutdownCheckpoint: waiting for the shutdown checkpoint.
	pmShutdownCheckpoint
	pmStopped
	// pmDown: the node went down after a PANIC or a FATAL postmaster.
	pmDown
)

func (s pmState) String() string {
	switch s {
	case pmStarting:
		return "starting"
	case pmRecovery:
		return "recovery"
	case pmRun:
		return "run"
	case pmPromoteWaitBackends:
		return "promote-wait-backends"
	case pmPromoteRemount:
		return "promote-remount"
	case pmPromoteWaitStartup:
		return "promote-wait-startup"
	case pmShutdownBackends:
		return "shutdown-backends"
	case pmShutdownCheckpoint:
		return "shutdown-checkpoint"
	case pmStopped:
		return "stopped"
	case pmDown:
		return "down"
	}
	return fmt.Sprintf("pmState(%d)", uint8(s))
}

// Role says how a node starts.
type Role uint8

const (
	// RolePrimary starts as primary: crash recovery from the shared control
	// file's redo pointer, then read-write service.
	RolePrimary Role = iota + 1
	// RoleReplica starts as a LogIndex replica (replica.signal present).
	RoleReplica
	// RoleStandby starts a standby on its own storage (standby.signal):
	// full WAL over streaming replication, parallel replay (standby.go).
	RoleStandby
)

func (r Role) String() string {
	switch r {
	case RolePrimary:
		return "primary"
	case RoleReplica:
		return "replica"
	case RoleStandby:
		return "standby"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Postmaster is a node's postmaster: it forks the node's processes, relays
// signals, runs the promote orchestration (docs/model.md §7) and shutdowns.
//
// Mirrors src/backend/postmaster/postmaster.c: sigusr1_handler's promote
// path (CheckPromoteSignal, polar_... online promote), reaper, pmdie.
type Postmaster struct {
	n        *shmem.Node
	net      *Net
	journal  *Journal
	role     Role
	state    pmState
	sessions int
	// promoting is set from SIGUSR1 until read-write service opens.
	promoting bool
	// receivedPromote is polar_postmaster_receive_promote's static
	// received_promote (postmaster.c): set by the first promote request and
	// never reset, so under Fidelity.PromoteOneShot every later pg_ctl
	// promote to this postmaster is ignored.
	receivedPromote bool
	// usr1Pending: a SIGUSR1 that arrived before the postmaster's first
	// step. PostmasterMain blocks signals (BlockSig) until its children are
	// forked and ServerLoop unblocks them, so such a signal is not lost: it
	// is handled right after start (postmaster.c sigusr1_handler).
	usr1Pending bool
	// crashed lists the children ended by a crash reinitialisation
	// (restartAfterCrash): their exits still in flight are only reaped, as
	// PostmasterStateMachine does while FatalError waits for PM_NO_CHILDREN.
	crashed []sim.ActorID
	// shutdown holds a pending fast shutdown request.
	immediate bool
	// slot is a standby's primary_slot_name (RoleStandby only).
	slot string
}

// NewPostmaster returns the postmaster of node n, which starts in role and
// serves sessions client sessions once it accepts connections.
func NewPostmaster(n *shmem.Node, net *Net, j *Journal, role Role, sessions int) *Postmaster {
	return &Postmaster{n: n, net: net, journal: j, role: role, state: pmStarting, sessions: sessions}
}

// Name implements sim.Actor.
func (p *Postmaster) Name() string { return p.n.Proc("postmaster") }

// State returns the postmaster's state name (for traces and tests).
func (p *Postmaster) State() string { return p.state.String() }

// WakeOn implements sim.Sleeper: Ready reads the node's shared memory,
// which its steps write.
func (p *Postmaster) WakeOn(w *sim.Wakes) { p.n.WakeOn(w) }

// Ready implements sim.Actor.
func (p *Postmaster) Ready() bool {
	switch p.state {
	case pmStarting, pmPromoteRemount:
		return true
	case pmRecovery:
		// Startup reached hot standby: open read-only service.
		return p.n.Accepting && len(p.n.Procs.Backends) == 0 && !p.promoting
	case pmPromoteWaitBackends:
		return !p.n.Cfg.Orderings.WaitBackends || p.backendsGone()
	case pmShutdownBackends:
		return p.backendsGone()
	case pmShutdownCheckpoint:
		return p.n.Procs.Checkpointer == shmem.NoProc
	}
	return false
}

// backendsGone reports whether every backend exited (PostmasterStateMachine's
// CountChildren(BACKEND) == 0).
func (p *Postmaster) backendsGone() bool { return len(p.n.Procs.Backends) == 0 }

// Step implements sim.Actor.
func (p *Postmaster) Step(c *sim.Ctx) {
	switch p.state {
	case pmStarting:
		p.start(c)
	case pmRecovery:
		p.openService(c, false)
		c.Story("read-only", sim.Int("sessions", int64(len(p.n.Procs.Backends))), sim.LSNField("replay", uint64(p.n.ReplayLSN)))
	case pmPromoteWaitBackends:
		p.state = pmPromoteRemount
		if p.backendsGone() {
			c.Log("backends-exited")
		} else {
			c.Story("promote-without-waiting", sim.Int("backends", int64(len(p.n.Procs.Backends))))
		}
	case pmPromoteRemount:
		p.remountAndSignal(c)
	case pmShutdownBackends:
		p.state = pmShutdownCheckpoint
		if p.n.Procs.Checkpointer != shmem.NoProc {
			c.Send(p.n.Procs.Checkpointer, shmem.SIGINT)
			c.Log("shutdown-checkpoint-requested")
		}
	case pmShutdownCheckpoint:
		p.stopAll(c, "stopped")
	default:
		sim.Failf("postmaster: step in state %v", p.state)
	}
}

// start forks the processes of the node's role.
func (p *Postmaster) start(c *sim.Ctx) {
	n := p.n
	n.Procs.Postmaster = c.Self()
	switch p.role {
	case RoleReplica:
		p.state = pmRecovery
		n.InRecovery = true
		n.Procs.Startup = c.Spawn(startup.New(n, startup.ModeReplica))
		p.spawnBGW(c)
		n.Procs.WALReceiver = c.Spawn(newWALReceiver(n, p.net))
		n.Procs.PolarWorker = c.Spawn(newPolarWorker(n))
		p.spawnAux(c)
		c.Story("start", sim.Str("role", "replica"), sim.Str("mount", n.Mount.Mode().String()))
	case RolePrimary:
		p.state = pmRecovery
		n.InRecovery = true
		n.Procs.Startup = c.Spawn(startup.New(n, startup.ModeCrash))
		c.Story("start", sim.Str("role", "primary"), sim.Str("mount", n.Mount.Mode().String()))
	case RoleStandby:
		p.startStandby(c)
	default:
		sim.Failf("postmaster: unknown role %v", p.role)
	}
	if p.usr1Pending {
		p.usr1Pending = false
		p.signal(c, shmem.SIGUSR1)
	}
}

func (p *Postmaster) spawnBGW(c *sim.Ctx) {
	n := p.n
	w := bgw.New(n)
	n.Procs.BGW = c.Spawn(w)
	n.Procs.Workers = n.Procs.Workers[:0]
	for _, r := range w.ReplayWorkers() {
		n.Procs.Workers = append(n.Procs.Workers, c.Spawn(r))
	}
}

func (p *Postmaster) spawnAux(c *sim.Ctx) {
	n := p.n
	if n.Procs.BGWriter == shmem.NoProc {
		n.Procs.BGWriter = c.Spawn(newBGWriter(n))
	}
	if n.Procs.Checkpointer == shmem.NoProc {
		n.Procs.Checkpointer = c.Spawn(newCheckpointer(n))
	}
	if n.Procs.WALWriter == shmem.NoProc {
		n.Procs.WALWriter = c.Spawn(newWALWriter(n))
	}
}

// openService spawns client sessions.
func (p *Postmaster) openService(c *sim.Ctx, readWrite bool) {
	n := p.n
	n.Accepting = true
	n.ReadWrite = readWrite
	if readWrite {
		n.ReadWriteOpens++
	}
	for len(n.Procs.Backends) < p.sessions {
		n.Procs.Backends = append(n.Procs.Backends, c.Spawn(newBackend(n, p.journal, len(n.Procs.Backends))))
	}
}

// Receive implements sim.Actor.
func (p *Postmaster) Receive(c *sim.Ctx, m sim.Msg) {
	switch m := m.(type) {
	case shmem.Signal:
		p.signal(c, m)
	case shmem.ChildExit:
		p.reaper(c, m)
	case Connect:
		p.connect(c, m)
	case Shutdown:
		if m.Immediate {
			p.immediate = true
			c.Story("immediate-shutdown")
			p.stopAll(c, "stopped")
			return
		}
		p.signal(c, shmem.SIGINT)
	default:
		sim.Failf("postmaster: unexpected %v", m)
	}
}

func (p *Postmaster) signal(c *sim.Ctx, s shmem.Signal) {
	n := p.n
	switch s {
	case shmem.SIGUSR1:
		if !n.PromoteFile || p.promoting {
			return
		}
		if p.state == pmStarting {
			p.usr1Pending = true
			return
		}
		if n.Cfg.Fidelity.PromoteOneShot && p.receivedPromote {
			// The promote file stays: PolarDB leaves it for startup to
			// unlink, and this postmaster never looks at it again.
			c.Story("promote-ignored", sim.Str("why", "received_promote already set"))
			return
		}
		n.PromoteFile = false
		if p.state != pmRecovery || !n.InRecovery {
			c.Story("promote-ignored", sim.Str("why", "not in recovery"))
			return
		}
		if p.role == RolePrimary {
			// Crash recovery is not standby mode: its startup never looks
			// for the promote signal (CheckForStandbyTrigger runs only in
			// StandbyMode), and the node comes up read-write by itself.
			c.Story("promote-ignored", sim.Str("why", "crash recovery, not standby mode"))
			return
		}
		if p.role == RoleStandby {
			p.promoteStandby(c)
			return
		}
		if !n.Index.Enabled() && n.Cfg.Orderings.RefuseWithoutLogIndex {
			// PolarDB takes the vanilla path here and crashes on a
			// read-only mount; the model refuses before anything changes
			// (hazard logindex-off-promote lets it through to startup).
			c.Story("promote-refused", sim.Str("err", shmem.ErrLogIndexDisabled.Error()))
			p.journal.Errors = append(p.journal.Errors, ClientError{Node: n.Cfg.Host, What: "pg_ctl promote",
				Err: shmem.ErrLogIndexDisabled.Error(), Step: c.StepNo()})
			return
		}
		p.promoting, p.receivedPromote = true, true
		n.Accepting = false
		for _, b := range n.Procs.Backends {
			c.Send(b, shmem.SIGTERM)
		}
		p.state = pmPromoteWaitBackends
		c.Story("promote-begin", sim.Int("backends", int64(len(n.Procs.Backends))), sim.LSNField("replay", uint64(n.ReplayLSN)))
	case shmem.SIGINT:
		if p.state == pmStopped || p.state == pmDown || p.state == pmShutdownBackends || p.state == pmShutdownCheckpoint {
			return
		}
		n.Accepting = false
		for _, b := range n.Procs.Backends {
			c.Send(b, shmem.SIGTERM)
		}
		c.Story("fast-shutdown", sim.Int("backends", int64(len(n.Procs.Backends))))
		if !n.Primary || n.InRecovery {
			// A replica has nothing to flush: stop everything.
			p.stopAll(c, "stopped")
			return
		}
		p.state = pmShutdownBackends
	default:
		c.Log("ignore-signal", sim.Str("sig", s.String()))
	}
}

// remountAndSignal is promote steps 2 and 3: remount by force, then SIGUSR2
// to startup, the polar worker and the BGW.
func (p *Postmaster) remountAndSignal(c *sim.Ctx) {
	n := p.n
	if n.Cfg.Orderings.Remount {
		if err := n.Mount.RemountRW(); err != nil {
			p.fatal(c, fmt.Errorf("remount read-write: %w", err))
			return
		}
		host, epoch, _ := n.Dev.Writer()
		c.Story("remount-rw", sim.Str("writer", host.String()), sim.Uint("epoch", uint64(epoch)), sim.Str("mode", n.Mount.Mode().String()))
	} else {
		c.Story("remount-skipped", sim.Str("mode", n.Mount.Mode().String()))
	}
	for _, id := range []sim.ActorID{n.Procs.Startup, n.Procs.PolarWorker, n.Procs.BGW} {
		if id != shmem.NoProc && c.Alive(id) {
			c.Send(id, shmem.SIGUSR2)
		}
	}
	// Streaming from the old primary ends: startup no longer consumes it.
	if n.Procs.WALReceiver != shmem.NoProc && c.Alive(n.Procs.WALReceiver) {
		c.Send(n.Procs.WALReceiver, shmem.SIGTERM)
	}
	p.state = pmPromoteWaitStartup
	c.Story("sigusr2", sim.Str("to", "startup, polar worker, bgw"))
}

// reaper handles SIGCHLD.
func (p *Postmaster) reaper(c *sim.Ctx, e shmem.ChildExit) {
	n := p.n
	if slices.Contains(p.crashed, e.ID) {
		c.Log("reaped-after-crash", sim.Str("child", e.Name), sim.Str("kind", e.Kind.String()))
		return
	}
	session := slices.Contains(n.Procs.Backends, e.ID) || slices.Contains(n.Procs.WALSenders, e.ID)
	n.Procs.Backends = remove(n.Procs.Backends, e.ID)
	n.Procs.WALSenders = remove(n.Procs.WALSenders, e.ID)
	n.Procs.Workers = remove(n.Procs.Workers, e.ID)
	for _, slot := range []*sim.ActorID{&n.Procs.Startup, &n.Procs.BGW, &n.Procs.BGWriter, &n.Procs.Checkpointer,
		&n.Procs.WALWriter, &n.Procs.WALReceiver, &n.Procs.PolarWorker} {
		if *slot == e.ID {
			*slot = shmem.NoProc
		}
	}
	switch e.Kind {
	case shmem.ExitPANIC, shmem.ExitCrashed:
		// A PANIC and a kill -9 both reach HandleChildCrash (postmaster.c
		// reaper: EXIT_STATUS_0/1 are the only clean exits).
		ev := "child-panic"
		if e.Kind == shmem.ExitCrashed {
			ev = "child-killed-9"
		}
		c.Story(ev, sim.Str("child", e.Name), sim.Str("err", e.Err))
		if p.restartAfterCrash(c, e) {
			return
		}
		p.stopAll(c, "down")
		return
	case shmem.ExitFATAL:
		c.Story("child-fatal", sim.Str("child", e.Name), sim.Str("err", e.Err))
		if !session && p.restartAfterCrash(c, e) {
			return
		}
		// A backend or walsender that dies FATAL ends one session
		// (postmaster.c CleanupBackend). Any other child (startup, an
		// auxiliary process, the LogIndex BGW or a replay worker) leaves
		// shared memory in an unknown state: HandleChildCrash takes the node
		// down (restart_after_crash is the operator's business here; a BGW
		// stuck in ONLINE_PROMOTE for want of a worker would be worse).
		if !session {
			p.stopAll(c, "down")
			return
		}
	}
	if e.Name == n.Proc("startup") && e.Kind == shmem.ExitNormal {
		p.recoveryDone(c)
	}
}

// restartAfterCrash is HandleChildCrash and the crash reinitialisation of
// PostmasterStateMachine (postmaster.c) under Fidelity.RestartAfterCrash:
// every child is ended (SIGQUIT), shared memory is rebuilt on the same mount
// (shmem.Node.Reinit: no remount) and the node starts again as a primary
// (crash recovery) or a replica, as its node type files say. A crashed
// startup is not restarted ("shutting down due to startup process
// failure"). received_promote is not reset; the model's promoting flag,
// which PolarDB does not have, is. It reports whether it restarted.
func (p *Postmaster) restartAfterCrash(c *sim.Ctx, e shmem.ChildExit) bool {
	n := p.n
	if !n.Cfg.Fidelity.RestartAfterCrash || e.Name == n.Proc("startup") || p.state == pmShutdownBackends ||
		p.state == pmShutdownCheckpoint || p.state == pmStopped || p.state == pmDown {
		return false
	}
	for _, id := range allProcs(n) {
		if id != c.Self() {
			p.crashed = append(p.crashed, id)
			if c.Alive(id) {
				c.Kill(id)
			}
		}
	}
	promoted := n.Primary || n.Local.State == shmem.DBInProduction
	primary, err := n.Reinit()
	if err != nil {
		c.Story("reinitialise-failed", sim.Str("err", err.Error()))
		return false
	}
	switch {
	case p.role == RoleStandby:
		// standby.signal decides (its walreceiver's WAL says nothing):
		// a promoted standby removed it.
		if promoted {
			p.role = RolePrimary
		}
	case primary:
		p.role = RolePrimary
	default:
		p.role = RoleReplica
	}
	p.state, p.promoting = pmStarting, false
	c.Mark("postmaster/restart-after-crash")
	if e.Kind == shmem.ExitCrashed {
		c.Mark("postmaster/restart-after-kill-9")
	}
	c.Story("reinitialise", sim.Str("after", e.Name), sim.Str("role", p.role.String()), sim.Str("mount", n.Mount.Mode().String()),
		sim.Bool("received-promote", p.receivedPromote))
	return true
}

// recoveryDone: startup exited after promote or crash recovery; open
// read-write service (docs/model.md §7 postmaster step 4).
func (p *Postmaster) recoveryDone(c *sim.Ctx) {
	n := p.n
	if p.state != pmRecovery && p.state != pmPromoteWaitStartup {
		return
	}
	if int(n.NextXID) < n.Clog.Len() {
		n.NextXID = logindex.XID(n.Clog.Len())
	}
	if n.NextXID == 0 {
		n.NextXID = 1
	}
	if n.Procs.BGW == shmem.NoProc {
		p.spawnBGW(c)
	}
	p.spawnAux(c)
	p.state = pmRun
	p.promoting = false
	p.openService(c, true)
	c.Story("read-write", sim.LSNField("insert", uint64(n.WAL.InsertLSN())), sim.Str("bgw", n.BGW.State().String()),
		sim.Int("slots", int64(len(n.Slots))))
}

// connect starts a walsender for a replica (only a primary streams).
func (p *Postmaster) connect(c *sim.Ctx, m Connect) {
	n := p.n
	if p.state != pmRun || !n.Primary {
		c.Detail("connect-refused", sim.Str("from", m.From.String()))
		return
	}
	// One walsender per slot: a replica that reconnects replaces its old
	// connection (the old walsender is told to go).
	for _, id := range n.Procs.WALSenders {
		if ws, ok := c.Actor(id).(*walSender); ok && ws.conn.Slot == m.Slot && c.Alive(id) {
			c.Send(id, shmem.SIGTERM)
		}
	}
	ws := newWALSender(n, m)
	n.Procs.WALSenders = append(n.Procs.WALSenders, c.Spawn(ws))
	found := false
	for i := range n.Slots {
		if n.Slots[i].Name == m.Slot {
			n.Slots[i].Active = true
			found = true
		}
	}
	if !found {
		// A new physical slot is written to storage at once
		// (CreateSlotOnDisk); its LSNs are persisted at checkpoints. Both
		// start at the streaming start (WalSndLoop records the start as
		// the slot's apply LSN, polar_record_replica_lsn).
		sl := shmem.Slot{Name: m.Slot, Restart: m.Start, Apply: m.Start, Active: true}
		if err := shmem.WriteSlot(n.Mount, sl); err != nil {
			c.Log("slot-create-failed", sim.Str("slot", m.Slot), sim.Str("err", err.Error()))
			return
		}
		n.Slots = append(n.Slots, sl)
	}
	c.Story("walsender-start", sim.Str("replica", m.From.String()), sim.Str("slot", m.Slot), sim.LSNField("start", uint64(m.Start)))
}

// fatal ends the postmaster itself: the node goes down.
func (p *Postmaster) fatal(c *sim.Ctx, err error) {
	c.Report(shmem.ExitReport{Node: p.n, Exit: shmem.ChildExit{ID: c.Self(), Name: p.Name(), Kind: shmem.ExitFATAL, Err: err.Error()}})
	c.Story("FATAL", sim.Str("err", err.Error()))
	p.stopAll(c, "down")
}

// stopAll kills every child and leaves the node stopped or down.
func (p *Postmaster) stopAll(c *sim.Ctx, how string) {
	n := p.n
	for _, id := range allProcs(n) {
		if id != c.Self() && c.Alive(id) {
			c.Kill(id)
		}
	}
	n.Procs = shmem.NoProcs()
	n.Accepting, n.ReadWrite = false, false
	if n.Mount != nil {
		if how == "stopped" && !p.immediate && n.Mount.Mode() == storage.MountReadWrite {
			// Fast shutdown: everything written is synced before the
			// mount goes away. Errors here change nothing the checkers see.
			_ = n.Mount.SyncAll()
		}
		n.Dev.Unmount(n.Cfg.Host)
	}
	if how == "down" {
		p.state = pmDown
	} else {
		p.state = pmStopped
	}
	c.Story(how)
	c.Exit()
}

func remove(ids []sim.ActorID, id sim.ActorID) []sim.ActorID {
	for i, x := range ids {
		if x == id {
			return append(ids[:i], ids[i+1:]...)
		}
	}
	return ids
}

// allProcs lists every process id of the node (postmaster's children).
func allProcs(n *shmem.Node) []sim.ActorID {
	pr := n.Procs
	ids := []sim.ActorID{pr.Startup, pr.BGW, pr.BGWriter, pr.Checkpointer, pr.WALWriter, pr.WALReceiver, pr.PolarWorker}
	ids = append(ids, pr.Workers...)
	ids = append(ids, pr.WALSenders...)
	ids = append(ids, pr.Backends...)
	out := ids[:0]
	for _, id := range ids {
		if id != shmem.NoProc {
			out = append(out, id)
		}
	}
	return out
}

var errReadOnly = errors.New("cannot execute INSERT in a read-only transaction")
