package startup

import (
	"fmt"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
)

// A standby's promote (PolarDB 15, polar_enable_parallel_replay_standby_mode).
// POLAR_LOGINDEX_ENABLE_ONLINE_PROMOTE() is false on a standby (it needs
// polar_is_replica()), so the postmaster takes the vanilla path: SIGUSR2 to
// startup only, no backend is terminated, nothing is remounted (the standby
// owns its disk), and the BGW gets no signal. The trigger file works the
// same way (CheckForStandbyTrigger looks at both). What differs from a
// replica's online promote, following xlogrecovery.c FinishWalRecovery and
// xlog.c StartupXLOG with polar_logindex_promote_standby set:
//
//	SP1 standby-promote  the trigger is noticed only once every flushed
//	                     record was parsed (WaitForWALToBecomeAvailable);
//	                     XLogShutdownWalRcv; end of WAL E = end of the last
//	                     record replayed. No polar_check_before_promote, no
//	                     polar_request_last_restartpoint, no wait for
//	                     WAITING_RESET (all three are promote_ro only).
//	SP2 end-of-wal       a NEW timeline (ArchiveRecoveryRequested and not
//	                     promote_ro: findNewestTimeLine + 1,
//	                     XLogInitNewTimeline); WAL insertion from E.
//	SP3 promote-data     polar_standby_promote_data: the WAL meta queue
//	                     released and reset, LogIndex promoted info at E.
//	                     No clog copy and no slot reload: its clog and
//	                     pg_replslot are its own disk's.
//	SP4 end-of-recovery  CreateEndOfRecoveryRecord at E (the shared step).
//	SP5 control          under ControlFileLock: DB_IN_PRODUCTION, node type
//	                     primary, polar_set_bg_redo_state(ONLINE_PROMOTE)
//	                     (no polar_reset_bg_replayed_lsn: the replay point
//	                     and fake oldest LSN stay where parallel replay left
//	                     them), recovery done, control file.
//	SP6 exit             no RequestCheckpoint here: the BGW requests
//	                     CHECKPOINT_FORCE once it replayed up to E
//	                     (polar_logindex_bg_online_promote).
//
// No Fidelity switch is consulted here: SP5 is one step even under
// ControlWindowSteps (the window's interleavings are a replica's concern:
// a standby's BGW is not reset in it), and PromoteOneShot's
// received_promote belongs to the replica path only.
//
// The model keeps one WAL file set per disk, named on timeline 1 whatever
// the control file says (its records carry no timeline): the standby's disk
// holds a single history, and nothing follows the promoted standby.

// standbyPromoteDue reports whether a standby in streaming has a promote to
// act on now: requested (SIGUSR2 or the trigger file) and every record the
// walreceiver flushed parsed.
func (p *Process) standbyPromoteDue() bool {
	n := p.n
	return (p.promoteReq || n.TriggerFile) && n.ReplayLSN >= n.ReceivedLSN
}

// beginStandbyPromote is SP1.
func (p *Process) beginStandbyPromote(c *sim.Ctx) {
	n := p.n
	p.trigger = !p.promoteReq
	p.promoteReq = false
	n.TriggerFile = false
	n.StopWALReceiver = true
	p.end, p.endLast = n.ReplayLSN, p.last
	p.to(StateStandbyEndOfWAL, StateStandbyStreaming)
	c.Mark("startup/standby-promote")
	if p.trigger {
		c.Mark("startup/standby-trigger-file")
	}
	c.Story("promote", sim.Str("from", StateStandbyStreaming.String()), sim.Bool("trigger-file", p.trigger),
		sim.LSNField("replayed", uint64(n.ReplayLSN)), sim.Str("bgw", n.BGW.State().String()),
		sim.LSNField("replay-point", uint64(n.BGW.ReplayPoint())))
}

// stepStandbyEndOfWAL is SP2: a new timeline, WAL opened for insertion at E.
func (p *Process) stepStandbyEndOfWAL(c *sim.Ctx) {
	n := p.n
	w, err := logindex.NewWAL(n.Mount, n.Cfg.LogIndex, p.end, p.endLast)
	if err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: open WAL at %v: %v", p.end, err))
		return
	}
	n.WAL = w
	n.Control.TLI++
	p.to(StateStandbyPromoteData, StateStandbyEndOfWAL)
	c.Story("end-of-wal", sim.LSNField("end", uint64(p.end)), sim.LSNField("last", uint64(p.endLast)),
		sim.Uint("tli", uint64(n.Control.TLI)), sim.Bool("new-timeline", true))
}

// stepStandbyPromoteData is SP3 (polar_standby_promote_data).
func (p *Process) stepStandbyPromoteData(c *sim.Ctx) {
	n := p.n
	n.Queue.Reset()
	if err := n.Index.SetPromoted(p.end); err != nil {
		p.exit(c, shmem.ExitFATAL, fmt.Sprintf("startup: promoted info: %v", err))
		return
	}
	p.to(StateEndOfRecovery, StateStandbyPromoteData)
	c.Story("promote-data", sim.Bool("clog", false), sim.Int("committed", int64(len(n.Clog.Committed()))),
		sim.Bool("slots", false), sim.Int("nslots", int64(len(n.Slots))), sim.LSNField("promoted-end", uint64(p.end)))
}

// stepStandbyControl is SP5: one critical section under ControlFileLock.
func (p *Process) stepStandbyControl(c *sim.Ctx) {
	n := p.n
	n.Local.State = shmem.DBInProduction
	n.Primary = true
	from := n.BGW.State()
	n.BGW.PromoteStandby(p.end)
	c.Story("role-switch", sim.Str("state", n.Local.State.String()), sim.Str("bgw-was", from.String()),
		sim.Str("bgw", n.BGW.State().String()), sim.LSNField("replay-point", uint64(n.BGW.ReplayPoint())),
		sim.LSNField("end", uint64(p.end)))
	if !p.recoveryDone(c) {
		return
	}
	p.to(StateDone, StateStandbyControl)
}

// standbyPromoting: a standby's promote is under way (a second request
// changes nothing).
func (s State) standbyPromoting() bool {
	switch s {
	case StateStandbyEndOfWAL, StateStandbyPromoteData, StateEndOfRecovery, StateStandbyControl, StateDone:
		return true
	}
	return false
}
