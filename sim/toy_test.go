package sim_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/sim"
)

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

// The toy adapter itself: an actor with no ready function is never ready,
// steps dispatch to step, messages to recv; worker and logger do what the
// other tests assume of them.
func TestToyActors(t *testing.T) {
	require.False(t, (&toy{name: "idle"}).Ready())
	var got []string
	s := sim.New(sim.Config{Seed: 1})
	w := s.Add(worker("w", 3))
	l := s.Add(logger("l", &got))
	s.Post(l, msg("hello"))
	r := s.Run(100)
	require.True(t, r.Quiescent)
	require.Equal(t, []string{"hello"}, got)
	require.False(t, s.Actor(w).Ready(), "the worker took its three steps")
	require.Equal(t, 4, r.Steps, "three worker steps and one delivery")
}
