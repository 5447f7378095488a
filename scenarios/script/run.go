package script

import (
	"fmt"
	"strings"

	"promotesim/scenarios/cluster"
	"promotesim/shmem"
	"promotesim/storage"
)

// Run lets the world take steps: run [steps=N] (200 when left out).
type Run struct{ Steps int }

func parseRun(_ string, a args) (Command, error) {
	if err := a.only("run", "steps"); err != nil {
		return nil, err
	}
	steps, err := a.int("steps", 200)
	if err != nil || steps < 1 || steps > MaxSteps {
		return nil, fmt.Errorf("steps=%s: want 1..%d", a["steps"], MaxSteps)
	}
	return Run{Steps: steps}, nil
}

func (c Run) String() string { return newLine("run").num("steps", c.Steps).String() }

func (c Run) run(r *Runner) (string, error) {
	res := r.C.S.Run(c.Steps)
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
	// out-of-recovery: pg_is_in_recovery() is false (RecoveryInProgress:
	// SharedRecoveryState is done) on a running node.
	{"out-of-recovery", func(c *cluster.Cluster, n *shmem.Node) bool {
		return !n.InRecovery && c.Op.Alive(n)
	}},
	{"online-promote", func(c *cluster.Cluster, n *shmem.Node) bool { return n.BGW.State() == shmem.BGOnlinePromote }},
	{"read-write", func(c *cluster.Cluster, n *shmem.Node) bool {
		return n.ReadWrite && Serving(n) && c.Op.Alive(n)
	}},
	// recovery-done-waiting-reset: V11's window, a primary out of
	// recovery whose BGW still waits for its reset.
	{"recovery-done-waiting-reset", func(c *cluster.Cluster, n *shmem.Node) bool {
		return n.Primary && !n.InRecovery && n.BGW.State() == shmem.BGWaitingReset
	}},
	{"stopped", func(c *cluster.Cluster, n *shmem.Node) bool { return !c.Op.Alive(n) }},
	// txn-open: a session has run its transaction's statements and not
	// yet sent its COMMIT or ABORT (postmaster.Operator.TxnOpen).
	{"txn-open", func(c *cluster.Cluster, n *shmem.Node) bool { return c.Op.TxnOpen(n) }},
	// wal-partial: a record is written to storage only in part (up to a
	// WAL page boundary), its continuation still in WAL buffers.
	{"wal-partial", func(c *cluster.Cluster, n *shmem.Node) bool {
		return n.WAL != nil && n.Primary && n.WAL.MidRecord()
	}},
	// wal-partial-synced: wal-partial, and what is written is durable: a
	// power loss now leaves a record whose continuation page is missing.
	{"wal-partial-synced", func(c *cluster.Cluster, n *shmem.Node) bool {
		return n.WAL != nil && n.Primary && n.WAL.MidRecord() && n.WAL.FlushedLSN() == n.WAL.WrittenLSN()
	}},
	{"waiting-reset", func(c *cluster.Cluster, n *shmem.Node) bool { return n.BGW.State() == shmem.BGWaitingReset }},
}

// Serving reports whether a node accepts client sessions now (postmaster
// has forked its backends).
func Serving(n *shmem.Node) bool { return n.Accepting && len(n.Procs.Backends) > 0 }

// RunUntil runs until a condition holds on a node, within a budget of
// steps: run-until COND node=N [budget=B] (the runner's Budget when left
// out). Not reaching it is a result, not an error.
type RunUntil struct {
	Cond      string
	Node      storage.HostID
	Budget    int
	HasBudget bool
}

func parseRunUntil(_ string, a args) (Command, error) {
	var cond *untilCond
	for i := range untilConds {
		if a[untilConds[i].name] == "true" {
			if cond != nil {
				return nil, fmt.Errorf("run-until takes one condition")
			}
			cond = &untilConds[i]
		}
	}
	if cond == nil {
		names := make([]string, len(untilConds))
		for i, uc := range untilConds {
			names[i] = uc.name
		}
		return nil, fmt.Errorf("run-until needs a condition: one of %s", strings.Join(names, ", "))
	}
	delete(a, cond.name)
	h, err := a.node("run-until", "budget")
	if err != nil {
		return nil, err
	}
	c := RunUntil{Cond: cond.name, Node: h}
	if _, ok := a["budget"]; ok {
		if c.Budget, err = a.int("budget", 0); err != nil || c.Budget < 1 || c.Budget > MaxSteps {
			return nil, fmt.Errorf("budget=%s: want 1..%d steps", a["budget"], MaxSteps)
		}
		c.HasBudget = true
	}
	return c, nil
}

func (c RunUntil) String() string {
	l := newLine("run-until").word(c.Cond).node(c.Node)
	if c.HasBudget {
		l.num("budget", c.Budget)
	}
	return l.String()
}

func (c RunUntil) run(r *Runner) (string, error) {
	h := c.Node
	if _, err := r.C.Host(h); err != nil {
		return "", err
	}
	budget := r.Budget
	if c.HasBudget {
		budget = c.Budget
	}
	var holds func(*cluster.Cluster, *shmem.Node) bool
	for _, uc := range untilConds {
		if uc.name == c.Cond {
			holds = uc.holds
		}
	}
	start := r.C.S.StepNo()
	res := r.C.S.RunUntil(func() bool { return holds(r.C, r.C.Node(h)) }, budget)
	if res.Violation != nil {
		return "", res.Violation
	}
	if !res.Done {
		return fmt.Sprintf("%s on %v NOT reached within %d steps", c.Cond, h, budget), nil
	}
	return fmt.Sprintf("%s on %v after %d steps", c.Cond, h, r.C.S.StepNo()-start), nil
}
