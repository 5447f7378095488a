package script

import (
	"fmt"

	"promotesim/postmaster"
	"promotesim/storage"
)

// The operator's procedures on one node (pg_ctl, src/bin/pg_ctl/pg_ctl.c):
// each posts its input and returns, except stop, which waits for the node
// to go down.

// Promote is pg_ctl promote: promote node=N.
type Promote struct{ Node storage.HostID }

// Trigger promotes through the trigger file: trigger node=N.
type Trigger struct{ Node storage.HostID }

// Crash kills a node's every process and drops its unsynced writes:
// crash node=N.
type Crash struct{ Node storage.HostID }

// Rebuild reinitialises a stopped node as a replica of the current
// primary: rebuild node=N [slot=NAME] (primary_slot_name; left out, the
// node's configured one).
type Rebuild struct {
	Node storage.HostID
	Slot string
}

func parseNodeOp(verb string, a args) (Command, error) {
	h, err := a.node(verb)
	if err != nil {
		return nil, err
	}
	switch verb {
	case "promote":
		return Promote{h}, nil
	case "trigger":
		return Trigger{h}, nil
	case "crash":
		return Crash{h}, nil
	}
	return Rebuild{Node: h}, nil
}

func parseRebuild(_ string, a args) (Command, error) {
	h, err := a.node("rebuild", "slot")
	if err != nil {
		return nil, err
	}
	return Rebuild{Node: h, Slot: a["slot"]}, nil
}

func (c Promote) String() string { return newLine("promote").node(c.Node).String() }
func (c Trigger) String() string { return newLine("trigger").node(c.Node).String() }
func (c Crash) String() string   { return newLine("crash").node(c.Node).String() }
func (c Rebuild) String() string {
	l := newLine("rebuild").node(c.Node)
	if c.Slot != "" {
		l.kv("slot", c.Slot)
	}
	return l.String()
}

func (c Promote) run(r *Runner) (string, error) {
	err := r.C.Promote(c.Node)
	if err == nil {
		r.promoteRequested(c.Node, true)
	}
	return "", err
}

func (c Trigger) run(r *Runner) (string, error) {
	err := r.C.Trigger(c.Node)
	if err == nil {
		r.promoteRequested(c.Node, false)
	}
	return "", err
}

func (c Crash) run(r *Runner) (string, error)   { return "", r.C.Crash(c.Node) }
func (c Rebuild) run(r *Runner) (string, error) { return "", r.C.RebuildThrough(c.Node, c.Slot) }

// Stop is pg_ctl stop, waiting for the node to go down: stop node=N
// [mode=fast|immediate] (fast when left out).
type Stop struct {
	Node storage.HostID
	Mode string // "", "fast" or "immediate"
}

func parseStop(_ string, a args) (Command, error) {
	h, err := a.node("stop", "mode")
	if err != nil {
		return nil, err
	}
	switch a["mode"] {
	case "", "fast", "immediate":
	default:
		return nil, fmt.Errorf("mode=%q: want fast or immediate", a["mode"])
	}
	return Stop{Node: h, Mode: a["mode"]}, nil
}

func (c Stop) String() string {
	l := newLine("stop").node(c.Node)
	if c.Mode != "" {
		l.kv("mode", c.Mode)
	}
	return l.String()
}

func (c Stop) run(r *Runner) (string, error) {
	h := c.Node
	if err := r.C.Stop(h, c.Mode == "immediate"); err != nil {
		return "", err
	}
	n := r.C.Node(h)
	res := r.C.S.RunUntil(func() bool { return !r.C.Op.Alive(n) }, r.Budget)
	if res.Violation != nil {
		return "", res.Violation
	}
	if !res.Done {
		r.ws().stopping[h] = n
		return fmt.Sprintf("%v still running after %d steps", h, r.Budget), nil
	}
	return fmt.Sprintf("%v stopped", h), nil
}

// Start is pg_ctl start in a role: start node=N role=primary|replica|standby
// (a promoted standby starts as primary on its own disk).
type Start struct {
	Node storage.HostID
	Role string // "primary", "replica" or "standby"
}

func parseStart(_ string, a args) (Command, error) {
	h, err := a.node("start", "role")
	if err != nil {
		return nil, err
	}
	switch a["role"] {
	case "primary", "replica", "standby":
	default:
		return nil, fmt.Errorf("role=%q: want primary, replica or standby", a["role"])
	}
	return Start{Node: h, Role: a["role"]}, nil
}

func (c Start) String() string { return newLine("start").node(c.Node).kv("role", c.Role).String() }

func (c Start) run(r *Runner) (string, error) {
	role := postmaster.RolePrimary
	switch c.Role {
	case "replica":
		role = postmaster.RoleReplica
	case "standby":
		role = postmaster.RoleStandby
	}
	return "", r.C.Start(c.Node, role)
}

// DropSlot is pg_drop_replication_slot on a node: drop-slot node=N
// name=SLOT.
type DropSlot struct {
	Node storage.HostID
	Name string
}

func parseDropSlot(_ string, a args) (Command, error) {
	h, err := a.node("drop-slot", "name")
	if err != nil {
		return nil, err
	}
	name, ok := a["name"]
	if !ok {
		return nil, fmt.Errorf("missing name=SLOT")
	}
	return DropSlot{Node: h, Name: name}, nil
}

func (c DropSlot) String() string {
	return newLine("drop-slot").node(c.Node).kv("name", c.Name).String()
}

func (c DropSlot) run(r *Runner) (string, error) { return "", r.C.DropSlot(c.Node, c.Name) }
