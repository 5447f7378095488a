package script

import (
	"fmt"
	"strings"

	"promotesim/postmaster"
	"promotesim/scenarios/cluster"
	"promotesim/shmem"
)

func (r *Runner) run(a Args) (string, error) {
	if err := a.only("run", "steps"); err != nil {
		return "", err
	}
	steps, err := a.int("steps", 200)
	if err != nil || steps < 1 {
		return "", fmt.Errorf("steps: want a positive number")
	}
	res := r.C.S.Run(steps)
	if res.Violation != nil {
		return "", res.Violation
	}
	return "", nil
}

// untilCond is one condition run-until understands, about one node.
type untilCond struct {
	name  string
	holds func(c *cluster.Cluster, n *shmem.Node) bool
}

// untilConds are the conditions of run-until, in the order its usage
// message lists them.
var untilConds = []untilCond{
	{"bgw-not-start", func(c *cluster.Cluster, n *shmem.Node) bool {
		return n.BGW.State() == shmem.BGRedoNotStart && n.Primary && !n.InRecovery
	}},
	{"caught-up", func(c *cluster.Cluster, n *shmem.Node) bool {
		p := c.Primary()
		return p != nil && n.InRecovery && Serving(n) && n.ReplayLSN >= p.WAL.FlushedLSN()
	}},
	{"consistent-caught-up", func(c *cluster.Cluster, n *shmem.Node) bool {
		return n.WAL != nil && n.Pool.FlushLen() == 0 && n.Pool.ConsistentLSN() >= n.WAL.InsertLSN()
	}},
	{"hot-standby", func(c *cluster.Cluster, n *shmem.Node) bool { return Serving(n) && n.InRecovery }},
	{"online-promote", func(c *cluster.Cluster, n *shmem.Node) bool { return n.BGW.State() == shmem.BGOnlinePromote }},
	{"read-write", func(c *cluster.Cluster, n *shmem.Node) bool {
		return n.ReadWrite && Serving(n) && postmaster.Alive(c.S, n)
	}},
	// recovery-done-waiting-reset: V11's window, a primary out of
	// recovery whose BGW still waits for its reset.
	{"recovery-done-waiting-reset", func(c *cluster.Cluster, n *shmem.Node) bool {
		return n.Primary && !n.InRecovery && n.BGW.State() == shmem.BGWaitingReset
	}},
	{"stopped", func(c *cluster.Cluster, n *shmem.Node) bool { return !postmaster.Alive(c.S, n) }},
	{"waiting-reset", func(c *cluster.Cluster, n *shmem.Node) bool { return n.BGW.State() == shmem.BGWaitingReset }},
}

// Serving reports whether a node accepts client sessions now (postmaster
// has forked its backends).
func Serving(n *shmem.Node) bool { return n.Accepting && len(n.Procs.Backends) > 0 }

func (r *Runner) runUntil(a Args) (string, error) {
	var cond *untilCond
	for i := range untilConds {
		if a[untilConds[i].name] == "true" {
			if cond != nil {
				return "", fmt.Errorf("run-until takes one condition")
			}
			cond = &untilConds[i]
		}
	}
	if cond == nil {
		names := make([]string, len(untilConds))
		for i, uc := range untilConds {
			names[i] = uc.name
		}
		return "", fmt.Errorf("run-until needs a condition: one of %s", strings.Join(names, ", "))
	}
	delete(a, cond.name)
	h, err := a.node("run-until", "budget")
	if err != nil {
		return "", err
	}
	n, err := r.C.Host(h)
	if err != nil {
		return "", err
	}
	budget, err := a.int("budget", r.Budget)
	if err != nil {
		return "", err
	}
	f := cond.holds
	start := r.C.S.StepNo()
	res := r.C.S.RunUntil(func() bool { return f(r.C, r.C.Node(h)) }, budget)
	_ = n
	if res.Violation != nil {
		return "", res.Violation
	}
	if !res.Done {
		return fmt.Sprintf("%s on %v NOT reached within %d steps", cond.name, h, budget), nil
	}
	return fmt.Sprintf("%s on %v after %d steps", cond.name, h, r.C.S.StepNo()-start), nil
}
