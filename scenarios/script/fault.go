package script

import (
	"fmt"

	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// fault arms a storage fault:
//
//	fault node=N kind=io-error op=read|write|sync [path=PREFIX] [count=C]
//	fault node=N kind=latency ticks=T
func (r *Runner) fault(a Args) (string, error) {
	h, err := a.node("fault", "kind", "op", "path", "count", "ticks")
	if err != nil {
		return "", err
	}
	switch a["kind"] {
	case "io-error":
		if _, ok := a["ticks"]; ok {
			return "", fmt.Errorf("fault kind=io-error does not take ticks")
		}
		var op storage.Op
		switch a["op"] {
		case "read":
			op = storage.OpRead
		case "write":
			op = storage.OpWrite
		case "sync":
			op = storage.OpSync
		default:
			return "", fmt.Errorf("op=%q: want read, write or sync", a["op"])
		}
		count, err := a.int("count", 1)
		if err != nil || count < 1 || count > 1000 {
			return "", fmt.Errorf("count: want 1..1000")
		}
		f := storage.FaultSpec{Op: op, Host: h, PathPrefix: a["path"], Count: count}
		r.C.Dev.InjectError(f)
		r.C.S.Emit("operator", sim.LevelStory, "inject-fault", sim.Str("fault", f.String()))
	case "latency":
		for _, k := range []string{"op", "path", "count"} {
			if _, ok := a[k]; ok {
				return "", fmt.Errorf("fault kind=latency does not take %s", k)
			}
		}
		ticks, err := a.int("ticks", 0)
		if err != nil || ticks < 0 || ticks > 1000 {
			return "", fmt.Errorf("ticks: want 0..1000")
		}
		r.C.Dev.SetLatency(h, int64(ticks))
		r.C.S.Emit("operator", sim.LevelStory, "slow-io", sim.Str("host", h.String()), sim.Int("ticks", int64(ticks)))
	default:
		return "", fmt.Errorf("kind=%q: want io-error or latency", a["kind"])
	}
	return "", nil
}

// heal clears every fault: storage errors and latency, paused processes,
// stalled LogIndex saves. What the liveness phase starts from.
func (r *Runner) heal(a Args) (string, error) {
	if err := a.only("heal"); err != nil {
		return "", err
	}
	r.healAll()
	return "", nil
}

func (r *Runner) healAll() {
	c := r.C
	c.Dev.ClearFaults()
	for _, h := range c.Hosts() {
		c.Dev.SetLatency(h, 0)
		n := c.Node(h)
		if n == nil {
			continue
		}
		n.SaveStalled = false
		for _, id := range procIDs(n) {
			if id != shmem.NoProc && c.S.Alive(id) && c.S.Held(id) {
				c.S.Release(id)
			}
		}
	}
	c.S.Emit("operator", sim.LevelStory, "heal")
}
