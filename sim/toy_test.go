package sim_test

import "promotesim/sim"

// msg is a message of the toy worlds.
type msg string

func (m msg) String() string { return string(m) }

// toy is an actor assembled from functions, so each test states only the
// behaviour it is about.
type toy struct {
	name  string
	ready func() bool
	step  func(c *sim.Ctx)
	recv  func(c *sim.Ctx, m sim.Msg)
}

func (a *toy) Name() string { return a.name }

func (a *toy) Ready() bool { return a.ready != nil && a.ready() }

func (a *toy) Step(c *sim.Ctx) {
	if a.step != nil {
		a.step(c)
	}
}

func (a *toy) Receive(c *sim.Ctx, m sim.Msg) {
	if a.recv != nil {
		a.recv(c, m)
	}
}

// worker takes n internal steps, logging each.
func worker(name string, n int) *toy {
	done := 0
	return &toy{
		name:  name,
		ready: func() bool { return done < n },
		step: func(c *sim.Ctx) {
			done++
			c.Log("work", sim.Int("i", int64(done)))
		},
	}
}

// logger logs every message it receives, with the time.
func logger(name string, got *[]string) *toy {
	return &toy{name: name, recv: func(c *sim.Ctx, m sim.Msg) {
		*got = append(*got, m.String())
		c.Log("recv", sim.Str("msg", m.String()))
	}}
}
