package script

import (
	"strings"

	"promotesim/storage"
)

// Status prints every node's status line: status.
type Status struct{}

func parseStatus(_ string, a args) (Command, error) {
	if err := a.only("status"); err != nil {
		return nil, err
	}
	return Status{}, nil
}

func (Status) String() string { return "status" }

func (Status) run(r *Runner) (string, error) {
	var b strings.Builder
	r.C.Status(&b)
	return strings.TrimRight(b.String(), "\n"), nil
}

// Slots prints a node's replication slots: slots node=N.
type Slots struct{ Node storage.HostID }

// StatReplication prints a node's pg_stat_replication:
// stat-replication node=N.
type StatReplication struct{ Node storage.HostID }

func parseNodeQuery(verb string, a args) (Command, error) {
	if err := a.only(verb, "node"); err != nil {
		return nil, err
	}
	h, err := a.host("node")
	if err != nil {
		return nil, err
	}
	if verb == "slots" {
		return Slots{h}, nil
	}
	return StatReplication{h}, nil
}

func (c Slots) String() string           { return newLine("slots").node(c.Node).String() }
func (c StatReplication) String() string { return newLine("stat-replication").node(c.Node).String() }

func (c Slots) run(r *Runner) (string, error)           { return r.C.Slots(c.Node) }
func (c StatReplication) run(r *Runner) (string, error) { return r.C.StatReplication(c.Node) }
