package script

import (
	"fmt"
	"strings"

	"promotesim/postmaster"
	"promotesim/shmem"
	"promotesim/storage"
)

// Logical slots (PolarDB's test 006): create-logical-slot node=N name=S,
// logical-get-changes node=N name=S, logical-slots node=N, and the
// assertion check logical-slot node=N name=S.

// LogicalSlotCmd is create-logical-slot or logical-get-changes.
type LogicalSlotCmd struct {
	Verb string
	Node storage.HostID
	Name string
}

func parseLogicalSlot(verb string, a args) (Command, error) {
	h, err := a.node(verb, "name")
	if err != nil {
		return nil, err
	}
	if a["name"] == "" {
		return nil, fmt.Errorf("%s: missing name=SLOT", verb)
	}
	return LogicalSlotCmd{Verb: verb, Node: h, Name: a["name"]}, nil
}

func (c LogicalSlotCmd) String() string {
	return newLine(c.Verb).node(c.Node).kv("name", c.Name).String()
}

func (c LogicalSlotCmd) run(r *Runner) (string, error) {
	n, err := r.C.Host(c.Node)
	if err != nil {
		return "", err
	}
	j := r.C.Journal
	if c.Verb == "create-logical-slot" {
		sl, err := r.C.Op.CreateLogicalSlot(n, c.Name)
		if err != nil {
			return "error: " + err.Error(), nil
		}
		j.LogicalSlots = append(j.LogicalSlots, postmaster.LogicalSlotAck{Name: sl.Name, Node: c.Node, Restart: sl.Restart,
			ConfirmedFlush: sl.ConfirmedFlush, Step: r.C.S.StepNo()})
		return sl.String(), nil
	}
	commits, sl, saved, err := r.C.Op.LogicalGetChanges(n, c.Name)
	if err != nil {
		return "error: " + err.Error(), nil
	}
	// Only a call that saved the slot makes its positions a durable
	// promise (LogicalSlotsSurvive): one that found the slot moved in
	// memory by an earlier failed save returns rows without saving, as
	// PolarDB's does, and a crash may take the slot back (v15-fixed seed
	// 67245).
	if saved {
		j.LogicalSlots = append(j.LogicalSlots, postmaster.LogicalSlotAck{Name: sl.Name, Node: c.Node, Restart: sl.Restart,
			ConfirmedFlush: sl.ConfirmedFlush, Step: r.C.S.StepNo()})
	}
	return fmt.Sprintf("%d committed transactions decoded; %v", commits, sl), nil
}

// LogicalSlots lists a node's logical slots: logical-slots node=N.
type LogicalSlots struct{ Node storage.HostID }

func parseLogicalSlots(_ string, a args) (Command, error) {
	h, err := a.node("logical-slots")
	if err != nil {
		return nil, err
	}
	return LogicalSlots{Node: h}, nil
}

func (c LogicalSlots) String() string { return newLine("logical-slots").node(c.Node).String() }

func (c LogicalSlots) run(r *Runner) (string, error) {
	n, err := r.C.Host(c.Node)
	if err != nil {
		return "", err
	}
	if len(n.LogicalSlots) == 0 {
		return fmt.Sprintf("%v: no logical slots", c.Node), nil
	}
	rows := make([]string, len(n.LogicalSlots))
	for i, s := range n.LogicalSlots {
		rows[i] = s.String()
	}
	return fmt.Sprintf("%v: %s", c.Node, strings.Join(rows, " ")), nil
}

// CheckLogicalSlot asserts that node N holds logical slot S with
// restart_lsn and confirmed_flush never behind those last acknowledged to a
// client (on any node: they were saved to shared storage when told; a
// failed save may have moved them further, see LogicalSlotsSurvive), and
// that decoding can start there: WAL at restart_lsn is valid, or
// restart_lsn is the end of valid WAL. check logical-slot node=N name=S.
type CheckLogicalSlot struct {
	Node storage.HostID
	Name string
}

func parseCheckLogicalSlot(a args) (Command, error) {
	delete(a, "logical-slot")
	h, err := a.node("check logical-slot", "name")
	if err != nil {
		return nil, err
	}
	if a["name"] == "" {
		return nil, fmt.Errorf("check logical-slot: missing name=SLOT")
	}
	return CheckLogicalSlot{Node: h, Name: a["name"]}, nil
}

func (c CheckLogicalSlot) String() string {
	return newLine("check").word("logical-slot").node(c.Node).kv("name", c.Name).String()
}

func (c CheckLogicalSlot) run(r *Runner) (string, error) {
	n, err := r.C.Host(c.Node)
	if err != nil {
		return "", err
	}
	ack, ok := r.C.Journal.LastLogicalAck(c.Name)
	if !ok {
		return "", fmt.Errorf("check logical-slot: no client was told of slot %q", c.Name)
	}
	sl, ok := n.LogicalSlot(c.Name)
	if !ok {
		return "", fmt.Errorf("logical slot %q (acknowledged by %v at step %d) is missing on %v", c.Name, ack.Node, ack.Step, c.Node)
	}
	if sl.Restart < ack.Restart || sl.ConfirmedFlush < ack.ConfirmedFlush {
		return "", fmt.Errorf("logical slot on %v is %v, behind restart=%v confirmed_flush=%v acknowledged by %v at step %d",
			c.Node, *sl, ack.Restart, ack.ConfirmedFlush, ack.Node, ack.Step)
	}
	if err := r.K.O.Sync(); err != nil {
		return "", err
	}
	if end := r.K.O.End(); sl.Restart != end {
		if _, ok := r.K.O.RecordAt(sl.Restart); !ok {
			return "", fmt.Errorf("logical slot %v: no valid WAL record at its restart_lsn (valid WAL ends %v)", *sl, end)
		}
	}
	what := "as acknowledged"
	if *sl != (shmem.LogicalSlot{Name: ack.Name, Restart: ack.Restart, ConfirmedFlush: ack.ConfirmedFlush}) {
		what = fmt.Sprintf("past the acknowledged restart=%v confirmed_flush=%v", ack.Restart, ack.ConfirmedFlush)
	}
	return fmt.Sprintf("%v on %v holds restart=%v confirmed_flush=%v %s", c.Name, c.Node, sl.Restart, sl.ConfirmedFlush, what), nil
}
