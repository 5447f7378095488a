package crashpoint

import (
	"fmt"

	"promotesim/scenarios/view"
)

// Window is one promote window of a captured run.
type Window struct {
	// Node is the promoted node (n2), Old the primary before it ("" when
	// the run had none the snapshots saw).
	Node, Old string
	// First is the step of the promote request, Last the step the promote
	// ended at (the node read-write, its BGW in REDO_NOT_START).
	First, Last uint64
	// Finished: the run reached the end of the promote; otherwise Last is
	// the run's last step a fork may take (before a violation).
	Finished bool
	// Trigger: the window was opened by the trigger file, not pg_ctl
	// promote. Rescue is then the step of the operator's pg_ctl promote
	// of the same node that completes it (the swarm's ClassTriggerFile), 0
	// when none follows (the root run stopped or crashed the node first,
	// or its hazard is trigger-file-promote).
	Trigger bool
	Rescue  uint64
}

// Len is the number of crash points of one kind in the window.
func (w Window) Len() int { return int(w.Last - w.First + 1) }

func (w Window) String() string {
	end := "end of promote"
	if !w.Finished {
		end = "end of run, promote unfinished"
	}
	old := w.Old
	if old == "" {
		old = "none"
	}
	return fmt.Sprintf("promote of %s (old primary %s): steps %d..%d (%s)", w.Node, old, w.First, w.Last, end)
}

// Windows finds every promote window of d: one per pg_ctl-promote event.
func Windows(d *view.Doc) []Window {
	last := d.Last
	if d.Violation != nil {
		if d.Violation.Step <= d.First {
			return nil
		}
		last = d.Violation.Step - 1 // view.Branch forks only before it
	}
	var out []Window
	for _, e := range d.Events {
		if e.Verb != "pg_ctl-promote" && e.Verb != "touch-trigger-file" {
			continue
		}
		node := d.Lanes[e.Lane].Node
		if e.Step < d.First || e.Step > last {
			continue
		}
		w := Window{Node: node, Old: oldPrimary(d, node, e.Step), First: e.Step, Last: last}
		if end, ok := promoteEnd(d, node, e.Step, last); ok {
			w.Last, w.Finished = end, true
		}
		if e.Verb == "touch-trigger-file" {
			w.Trigger = true
			w.Rescue = rescueStep(d, e.Lane, e.Step, w.Last)
		}
		out = append(out, w)
	}
	return out
}

// rescueStep is the step of the first pg_ctl-promote on lane's node after
// step first and up to last (0: none).
func rescueStep(d *view.Doc, lane int, first, last uint64) uint64 {
	node := d.Lanes[lane].Node
	for _, e := range d.Events {
		if e.Verb == "pg_ctl-promote" && d.Lanes[e.Lane].Node == node && e.Step > first && e.Step <= last {
			return e.Step
		}
	}
	return 0
}

// promoteEnd is the first step after first at which node is a read-write
// primary whose BGW is back in REDO_NOT_START.
func promoteEnd(d *view.Doc, node string, first, last uint64) (uint64, bool) {
	for _, s := range d.Snaps {
		if s.Step <= first || s.Step > last {
			continue
		}
		for _, n := range s.Nodes {
			if n.Name == node && n.Up && n.Role == "primary" && n.Service == "read-write" && n.BGW == "REDO_NOT_START" {
				return s.Step, true
			}
		}
	}
	return 0, false
}

// oldPrimary is the last node other than node seen as the primary at or
// before step (in the switchover it is down by the request: stopped first).
func oldPrimary(d *view.Doc, node string, step uint64) string {
	old := ""
	for _, s := range d.Snaps {
		if s.Step > step {
			break
		}
		for _, n := range s.Nodes {
			if n.Name != node && n.Role == "primary" {
				old = n.Name
			}
		}
	}
	return old
}
