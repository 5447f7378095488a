package shmem

import (
	"promotesim/sim"
	"promotesim/storage"
)

// The reports a node's processes make for observers (sim.Ctx.Report): what
// the checkers and tests need to know of a step and PolarDB keeps nowhere.
// A node keeps no record of them; an observer that wants one keeps it
// (ExitLog, the checkers of scenarios/check).

// ExitReport is a process exit: what the server log shows of it (elog.c
// reports a PANIC or FATAL; postmaster.c LogChildExit, a child killed by a
// signal). Node is the instance the process belonged to; a crash
// reinitialisation (Reinit) keeps the instance.
type ExitReport struct {
	Node *Node
	Exit ChildExit
}

// PageWritten is a data page written to shared storage (WritePage, the
// smgrwrite of FlushBuffer), reported after the write and before its sync,
// with the page LSN the image carries. An observer may read the writer's
// state (its slots, whether it shuts down or recovers) as it is at the
// write.
type PageWritten struct {
	Node *Node
	Page storage.PageID
	LSN  storage.LSN
}

// ConsistentRegressed is an UpdateConsistentLSN whose computed value fell
// below the published one: polar_set_consistent_lsn keeps the published
// value, but a buffer then carries an oldest LSN the consistent LSN has
// already passed.
type ConsistentRegressed struct {
	Node           *Node
	Raw, Published storage.LSN
}

// ExitLog keeps the process exits a run reports (ExitReport), for each host
// the ones of its latest node instance: a restart (a new Node) starts an
// empty list, a crash reinitialisation keeps it.
type ExitLog struct {
	hosts []hostExits // by host
}

type hostExits struct {
	n     *Node
	exits []ChildExit
}

// WatchExits returns an ExitLog that observes s from now on.
func WatchExits(s *sim.Scheduler) *ExitLog {
	l := &ExitLog{}
	s.Observe(l)
	return l
}

// Observe records r if it is an exit (sim.Observer).
func (l *ExitLog) Observe(r any) {
	e, ok := r.(ExitReport)
	if !ok {
		return
	}
	i := int(e.Node.Cfg.Host)
	for len(l.hosts) <= i {
		l.hosts = append(l.hosts, hostExits{})
	}
	h := &l.hosts[i]
	if h.n != e.Node {
		h.n, h.exits = e.Node, nil
	}
	h.exits = append(h.exits, e.Exit)
}

// Of returns the exits reported for node instance n, oldest first (nil for
// none, or when a later instance of its host has reported since).
func (l *ExitLog) Of(n *Node) []ChildExit {
	i := int(n.Cfg.Host)
	if i >= len(l.hosts) || l.hosts[i].n != n {
		return nil
	}
	return l.hosts[i].exits
}
