package sim_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/sim"
)

// ball is the message the two players exchange.
type ball struct{ n int }

func (b ball) String() string { return fmt.Sprintf("ball#%d", b.n) }

// player returns the ball to its peer until it has been hit four times. It
// never calls the peer: it emits a Send, and the scheduler delivers it as a
// later step.
type player struct {
	name string
	peer sim.ActorID
}

func (p *player) Name() string  { return p.name }
func (p *player) Ready() bool   { return false } // only reacts to messages
func (p *player) Step(*sim.Ctx) {}
func (p *player) Receive(c *sim.Ctx, m sim.Msg) {
	b := m.(ball)
	c.Log("hit", sim.Int("ball", int64(b.n)), sim.LSNField("lsn", uint64(b.n)*0x1A8))
	if b.n < 4 {
		c.Send(p.peer, ball{b.n + 1})
	}
}

// A two-actor world: the trace has fixed columns (step, virtual time,
// actor, verb, fields), and every step takes one tick.
func ExampleScheduler() {
	s := sim.New(sim.Config{Seed: 1, Trace: sim.TraceConfig{Out: os.Stdout}})
	ping, pong := &player{name: "n1/ping"}, &player{name: "n2/pong"}
	a, b := s.Add(ping), s.Add(pong)
	ping.peer, pong.peer = b, a
	s.Post(a, ball{1})
	fmt.Println(s.Run(100))
	// Output:
	//      1      0 n1/ping        hit                    ball=1 lsn=0/1A8
	//      2      1 n2/pong        hit                    ball=2 lsn=0/350
	//      3      2 n1/ping        hit                    ball=3 lsn=0/4F8
	//      4      3 n2/pong        hit                    ball=4 lsn=0/6A0
	// 4 steps, quiescent
}

// Two always-ready actors taking two steps each can interleave in C(4,2) = 6
// ways; the Enumerator runs each exactly once, starting from the boring
// fair-FIFO schedule.
func ExampleEnumerator() {
	e := sim.NewEnumerator(10)
	for c := e.Next(); c != nil; c = e.Next() {
		s := sim.New(sim.Config{Chooser: c})
		order := ""
		for _, name := range []string{"a", "b"} {
			left := 2
			s.Add(&toy{name: name, ready: func() bool { return left > 0 }, step: func(*sim.Ctx) {
				left--
				order += name
			}})
		}
		s.Run(10)
		fmt.Println(order, e.Path())
	}
	fmt.Println(e.Runs(), "schedules")
	// Output:
	// abab [0 0 0]
	// abba [0 0 1]
	// aabb [0 1]
	// baba [1 0 0]
	// baab [1 0 1]
	// bbaa [1 1]
	// 6 schedules
}

// A Recorder turns any run into a script that a Scripted driver replays: the
// way a swarm failure becomes a permanent scenario.
func ExampleRecorder() {
	world := func(c sim.Chooser) uint64 {
		s := sim.New(sim.Config{Chooser: c})
		for _, name := range []string{"a", "b", "c"} {
			s.Add(worker(name, 3))
		}
		s.Run(100)
		return s.Trace().Hash()
	}
	rec := &sim.Recorder{Inner: sim.NewRandom(7)}
	h1 := world(rec)
	h2 := world(sim.NewScripted(rec.Choices...))
	fmt.Println(h1 == h2)
	// Output: true
}

// Forked streams depend only on the parent's seed and the label, never on
// what was drawn before.
func ExampleRand_Fork() {
	root := sim.NewRand(42)
	a := root.Fork("n2/bgw").Uint64()
	root.Uint64()
	root.Uint64()
	b := root.Fork("n2/bgw").Uint64()
	fmt.Println(a == b)
	// Output: true
}

// The ping-pong world of ExampleScheduler is a pure function of its seed:
// two runs give the same trace hash, and the ball is hit exactly four times.
func TestExampleWorldRepeats(t *testing.T) {
	run := func() (uint64, sim.Result) {
		s := sim.New(sim.Config{Seed: 1})
		ping, pong := &player{name: "n1/ping"}, &player{name: "n2/pong"}
		a, b := s.Add(ping), s.Add(pong)
		ping.peer, pong.peer = b, a
		s.Post(a, ball{1})
		r := s.Run(100)
		return s.Trace().Hash(), r
	}
	h1, r1 := run()
	h2, _ := run()
	require.Equal(t, h1, h2)
	require.Equal(t, 4, r1.Steps)
	require.True(t, r1.Quiescent)
}
