package script

import (
	"fmt"

	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// Fault arms a storage fault on a node:
//
//	fault node=N kind=io-error op=read|write|sync [path=PREFIX] [count=C]
//	fault node=N kind=latency ticks=T
type Fault struct {
	Node storage.HostID
	// Latency: kind=latency, Ticks extra ticks per I/O; otherwise an
	// io-error on Op, for paths under Path, Count times.
	Latency bool
	Op      string
	Path    string
	HasPath bool
	Count   int // 0: not given (1)
	Ticks   int
}

func parseFault(_ string, a args) (Command, error) {
	h, err := a.node("fault", "kind", "op", "path", "count", "ticks")
	if err != nil {
		return nil, err
	}
	c := Fault{Node: h}
	switch a["kind"] {
	case "io-error":
		if _, ok := a["ticks"]; ok {
			return nil, fmt.Errorf("fault kind=io-error does not take ticks")
		}
		switch a["op"] {
		case "read", "write", "sync":
			c.Op = a["op"]
		default:
			return nil, fmt.Errorf("op=%q: want read, write or sync", a["op"])
		}
		c.Path, c.HasPath = a["path"]
		if c.Count, err = countArg(a, 1000); err != nil {
			return nil, err
		}
	case "latency":
		for _, k := range []string{"op", "path", "count"} {
			if _, ok := a[k]; ok {
				return nil, fmt.Errorf("fault kind=latency does not take %s", k)
			}
		}
		ticks, err := a.int("ticks", 0)
		if err != nil || ticks < 0 || ticks > 1000 {
			return nil, fmt.Errorf("ticks: want 0..1000")
		}
		c.Latency, c.Ticks = true, ticks
	default:
		return nil, fmt.Errorf("kind=%q: want io-error or latency", a["kind"])
	}
	return c, nil
}

func (c Fault) String() string {
	l := newLine("fault").node(c.Node)
	if c.Latency {
		return l.kv("kind", "latency").num("ticks", c.Ticks).String()
	}
	l.kv("kind", "io-error").kv("op", c.Op)
	if c.HasPath {
		l.kv("path", c.Path)
	}
	if c.Count > 0 {
		l.num("count", c.Count)
	}
	return l.String()
}

func (c Fault) run(r *Runner) (string, error) {
	h := c.Node
	if c.Latency {
		r.C.Dev.SetLatency(h, int64(c.Ticks))
		r.C.S.Emit("operator", sim.LevelStory, "slow-io", sim.Str("host", h.String()), sim.Int("ticks", int64(c.Ticks)))
		return "", nil
	}
	op := map[string]storage.Op{"read": storage.OpRead, "write": storage.OpWrite, "sync": storage.OpSync}[c.Op]
	f := storage.FaultSpec{Op: op, Host: h, PathPrefix: c.Path, Count: max(c.Count, 1)}
	r.C.Dev.InjectError(f)
	r.C.S.Emit("operator", sim.LevelStory, "inject-fault", sim.Str("fault", f.String()))
	return "", nil
}

// Heal clears every fault: storage errors and latency, paused processes,
// stalled LogIndex saves. What the liveness phase starts from: heal.
type Heal struct{}

func parseHeal(_ string, a args) (Command, error) {
	if err := a.only("heal"); err != nil {
		return nil, err
	}
	return Heal{}, nil
}

func (Heal) String() string { return "heal" }

func (Heal) run(r *Runner) (string, error) {
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
