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
	id, ok := ids[name]
	if !ok {
		return 0, fmt.Errorf("proc=%q: want postmaster, startup, bgw, bgwriter, checkpointer, walwriter, walreceiver or polar-worker", name)
	}
	if id == shmem.NoProc || !r.C.S.Alive(id) {
		return 0, fmt.Errorf("%v has no running %s", h, name)
	}
	return id, nil
}

// pause holds a process (an injection point in PolarDB's tests); resume
// releases it.
func (r *Runner) pause(cmd string, a Args) (string, error) {
	h, err := a.node(cmd, "proc")
	if err != nil {
		return "", err
	}
	id, err := r.procID(h, a["proc"])
	if err != nil {
		return "", err
	}
	if cmd == "pause" {
		r.C.S.Hold(id)
	} else {
		r.C.S.Release(id)
	}
	r.C.S.Emit(r.C.Node(h).Proc("operator"), sim.LevelStory, cmd, sim.Str("proc", r.C.S.Name(id)))
	return "", nil
}

// stallSave makes a primary stop (or resume) saving LogIndex tables.
func (r *Runner) stallSave(cmd string, a Args) (string, error) {
	h, err := a.node(cmd)
	if err != nil {
		return "", err
	}
	n, err := r.C.Host(h)
	if err != nil {
		return "", err
	}
	n.SaveStalled = cmd == "stall-save"
	r.C.S.Emit(n.Proc("operator"), sim.LevelStory, cmd)
	return "", nil
}
