package startup

import (
	"promotesim/shmem"
	"promotesim/sim"
)

// The promote sequence as data (issue 14). With shmem.Config.Sequence set,
// the startup process runs its promote steps in that order instead of the
// hard-wired transitions of startup.go: each named step is the same code
// the hard-wired path runs (finalReplay, checkEnd, restartpoint, ...), and
// the steps of one group run in one scheduler step. The state a group runs
// in is the state the hard-wired path runs that step in, so Ready, traces
// and checkers see the same process; shmem.DefaultSequence gives the same
// trace byte for byte (sequence_test.go). Steps left out are not run; a
// variant whose step needs a value a later step makes is refused before it
// runs (scenarios/order reports it as "cannot run").

// sequencer is the startup process's place in its Sequence.
type sequencer struct {
	steps shmem.Sequence
	// on: the sequence is running (from the promote trigger until the
	// last group finished).
	on bool
	// group and pos: the group running and the next step in it (a step
	// that takes several scheduler steps, the final replay, keeps pos).
	group, pos int
}

// beginSequence starts the sequence at the promote trigger.
func (p *Process) beginSequence(c *sim.Ctx) {
	n := p.n
	if !p.seq.steps.Has(shmem.StepFinalReplay) {
		// As hazard skip-final-replay: the end is wherever the queue got to.
		p.end, p.endLast = n.ReplayLSN, p.last
		c.Story("skip-final-replay", sim.LSNField("end", uint64(p.end)))
	}
	p.seq.on, p.seq.group, p.seq.pos = true, 0, 0
	p.enterGroup(c)
}

// stepSequence runs the current group from its next step.
func (p *Process) stepSequence(c *sim.Ctx) {
	g := p.seq.steps[p.seq.group]
	for p.seq.pos < len(g) {
		done := p.runStep(c, g[p.seq.pos])
		if p.st == StateExited {
			p.seq.on = false
			return
		}
		if !done {
			return
		}
		p.seq.pos++
	}
	p.seq.group, p.seq.pos = p.seq.group+1, 0
	p.enterGroup(c)
}

// enterGroup moves to the state of the next group, or to StateDone after
// the last. Entering the wait for the BGW announces it, as the hard-wired
// restartpoint step does.
func (p *Process) enterGroup(c *sim.Ctx) {
	if p.seq.group == len(p.seq.steps) {
		p.seq.on = false
		p.st = StateDone
		return
	}
	first := p.seq.steps[p.seq.group][0]
	p.st = p.stepState(first)
	if first == shmem.StepWaitReset {
		p.announceWaitReset(c)
	}
}

// stepState is the state the hard-wired path runs a step in.
func (p *Process) stepState(name string) State {
	switch name {
	case shmem.StepFinalReplay:
		return StateFinalReplay
	case shmem.StepRestartpoint:
		return StateRestartpoint
	case shmem.StepWaitReset:
		return StateWaitReset
	case shmem.StepCheckEnd, shmem.StepOpenWAL:
		return StateEndOfWAL
	case shmem.StepPromoteData:
		return StatePromoteData
	case shmem.StepEndOfRecovery:
		return StateEndOfRecovery
	case shmem.StepResetBGW:
		if !p.n.InRecovery {
			return StateResetBGW // V11's late reset
		}
	}
	return StateControl
}

// runStep runs one named step and reports whether it finished (false:
// it needs more scheduler steps, or startup exited).
func (p *Process) runStep(c *sim.Ctx, name string) bool {
	n := p.n
	switch name {
	case shmem.StepFinalReplay:
		return p.finalReplay(c)
	case shmem.StepCheckEnd:
		if !p.checkEnd(c) {
			return false
		}
		if n.Cfg.Fidelity.CheckEndBeforeRestartpoint {
			c.Log("check-before-promote", sim.LSNField("end", uint64(p.end)))
		}
	case shmem.StepRestartpoint:
		p.restartpoint(c)
	case shmem.StepWaitReset:
		sim.Assertf(n.BGW.State() == shmem.BGWaitingReset, "startup: wait-reset stepped with BGW %v", n.BGW.State())
		c.Log("bgw-waiting-reset", sim.LSNField("replay-point", uint64(n.BGW.ReplayPoint())))
	case shmem.StepOpenWAL:
		return p.openWALAtEnd(c)
	case shmem.StepPromoteData:
		return p.promoteData(c)
	case shmem.StepEndOfRecovery:
		return p.endOfRecovery(c)
	case shmem.StepInProduction:
		n.Local.State = shmem.DBInProduction
		if len(p.seq.steps[p.seq.group]) == 1 {
			// A step of its own (the V15 window split in steps,
			// Fidelity.ControlWindowSteps) shows in the story.
			c.Story("in-production", sim.Str("local", n.Local.State.String()), sim.Str("bgw", n.BGW.State().String()))
		}
	case shmem.StepNodeType:
		n.Primary = true
		c.Story("role-switch", sim.Str("state", n.Local.State.String()), sim.Str("bgw", n.BGW.State().String()))
	case shmem.StepResetBGW:
		return p.resetBGW(c)
	case shmem.StepRecoveryDone:
		return p.recoveryDone(c)
	default:
		sim.Failf("startup: unknown sequence step %q", name)
	}
	return true
}
