package script

import (
	"fmt"

	"promotesim/postmaster"
	"promotesim/sim"
	"promotesim/storage"
)

// Checkpoint is the operator's SQL CHECKPOINT on node=N: a forced,
// immediate checkpoint the session waits for (CHECKPOINT_WAIT). It is not
// lazy (postmaster.CheckpointRequest says why): its redo is the insert
// position at its start and it writes every buffer dirty then. It waits
// for as long as the checkpointer skips (the BGW in WAITING_RESET), a
// buffer's write is held by the flush gate, or the BGW is promoting; the
// runner's budget bounds the wait, and a checkpoint still pending then is
// reported, not an error (it completes later, like a cancelled session's
// request).
type Checkpoint struct{ Node storage.HostID }

func parseCheckpoint(_ string, a args) (Command, error) {
	h, err := a.node("checkpoint")
	if err != nil {
		return nil, err
	}
	return Checkpoint{h}, nil
}

func (c Checkpoint) String() string { return newLine("checkpoint").node(c.Node).String() }

func (c Checkpoint) run(r *Runner) (string, error) {
	h := c.Node
	n, err := r.C.Host(h)
	if err != nil {
		return "", err
	}
	before, ok := r.C.Op.CheckpointsAnswered(n)
	if !ok {
		return "", fmt.Errorf("%v has no running checkpointer", h)
	}
	r.C.S.Emit(n.Proc("operator"), sim.LevelStory, "checkpoint")
	r.C.S.Post(n.Procs.Checkpointer, postmaster.CheckpointRequest{})
	res := r.C.S.RunUntil(func() bool {
		got, ok := r.C.Op.CheckpointsAnswered(n)
		return !ok || got > before
	}, r.Budget)
	if res.Violation != nil {
		return "", res.Violation
	}
	if got, ok := r.C.Op.CheckpointsAnswered(n); !ok || got <= before {
		return fmt.Sprintf("checkpoint on %v still waiting after %d steps", h, res.Steps), nil
	}
	return fmt.Sprintf("checkpoint on %v answered after %d steps", h, res.Steps), nil
}
