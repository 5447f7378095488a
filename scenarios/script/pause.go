package script

import (
	"fmt"

	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// procID finds a process of node h by name (as in its trace name).
func (r *Runner) procID(h storage.HostID, name string) (sim.ActorID, error) {
	n, err := r.C.Host(h)
	if err != nil {
		return 0, err
	}
	pr := n.Procs
	ids := map[string]sim.ActorID{"postmaster": pr.Postmaster, "startup": pr.Startup, "bgw": pr.BGW,
		"bgwriter": pr.BGWriter, "checkpointer": pr.Checkpointer, "walwriter": pr.WALWriter,
		"walreceiver": pr.WALReceiver, "polar-worker": pr.PolarWorker}
	for i, b := range pr.Backends {
		ids[fmt.Sprintf("backend%d", i)] = b // a client session
	}
	id, ok := ids[name]
	var i int
	if _, err := fmt.Sscanf(name, "backend%d", &i); err == nil && fmt.Sprintf("backend%d", i) == name {
		// A client session (PolarDB's tests hold one with a fault
		// injection point, e.g. fault_inject_for_first_contrecord).
		id, ok = shmem.NoProc, true
		if i >= 0 && i < len(pr.Backends) {
			id = pr.Backends[i]
		}
	}
	if !ok {
		return 0, fmt.Errorf("proc=%q: want postmaster, startup, bgw, bgwriter, checkpointer, walwriter, walreceiver, polar-worker or backendN", name)
	}
	if id == shmem.NoProc || !r.C.S.Alive(id) {
		return 0, fmt.Errorf("%v has no running %s", h, name)
	}
	return id, nil
}

// Pause holds a process (an injection point in PolarDB's tests); resume
// releases it: pause|resume node=N proc=NAME.
type Pause struct {
	Resume bool
	Node   storage.HostID
	Proc   string
}

func parsePause(verb string, a args) (Command, error) {
	h, err := a.node(verb, "proc")
	if err != nil {
		return nil, err
	}
	return Pause{Resume: verb == "resume", Node: h, Proc: a["proc"]}, nil
}

func (c Pause) verb() string {
	if c.Resume {
		return "resume"
	}
	return "pause"
}

func (c Pause) String() string { return newLine(c.verb()).node(c.Node).kv("proc", c.Proc).String() }

func (c Pause) run(r *Runner) (string, error) {
	id, err := r.procID(c.Node, c.Proc)
	if err != nil {
		return "", err
	}
	if c.Resume {
		r.C.S.Release(id)
	} else {
		r.C.S.Hold(id)
	}
	r.C.S.Emit(r.C.Node(c.Node).Proc("operator"), sim.LevelStory, c.verb(), sim.Str("proc", r.C.S.Name(id)))
	return "", nil
}

// StallSave makes a primary stop saving LogIndex tables (resume-save: go
// on): stall-save|resume-save node=N.
type StallSave struct {
	Resume bool
	Node   storage.HostID
}

func parseStallSave(verb string, a args) (Command, error) {
	h, err := a.node(verb)
	if err != nil {
		return nil, err
	}
	return StallSave{Resume: verb == "resume-save", Node: h}, nil
}

func (c StallSave) verb() string {
	if c.Resume {
		return "resume-save"
	}
	return "stall-save"
}

func (c StallSave) String() string { return newLine(c.verb()).node(c.Node).String() }

func (c StallSave) run(r *Runner) (string, error) {
	n, err := r.C.Host(c.Node)
	if err != nil {
		return "", err
	}
	n.SaveStalled = !c.Resume
	r.C.S.Emit(n.Proc("operator"), sim.LevelStory, c.verb())
	return "", nil
}
