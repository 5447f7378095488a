package script

import (
	"fmt"
	"slices"

	"promotesim/postmaster"
	"promotesim/storage"
)

// Kill is the operator's kill -9 of one child process, as PolarDB's test
// 002_promote_kill does to the bgwriter after a promote: kill node=N
// proc=bgwriter|bgw|checkpointer|walwriter. It does not wait: the
// postmaster's answer (postmaster.c HandleChildCrash: a restart of shared
// memory with restart_after_crash, or the node going down) follows in the
// next steps.
type Kill struct {
	Node storage.HostID
	Proc string
}

func parseKill(_ string, a args) (Command, error) {
	h, err := a.node("kill", "proc")
	if err != nil {
		return nil, err
	}
	if !slices.Contains(postmaster.KillChildren, a["proc"]) {
		return nil, fmt.Errorf("proc=%q: want one of %v", a["proc"], postmaster.KillChildren)
	}
	return Kill{Node: h, Proc: a["proc"]}, nil
}

func (c Kill) String() string { return newLine("kill").node(c.Node).kv("proc", c.Proc).String() }

func (c Kill) run(r *Runner) (string, error) { return "", r.C.Kill(c.Node, c.Proc) }
