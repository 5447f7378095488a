package sim_test

import (
	"strings"
	"testing"

	"promotesim/sim"
	"promotesim/sim/simtest"
)

func TestRunTwiceToyWorlds(t *testing.T) {
	worlds := map[string]simtest.World{
		"chancy": func(seed uint64, c sim.Chooser) uint64 { h, _ := chancy(seed, c); return h },
		"pingpong": func(seed uint64, c sim.Chooser) uint64 {
			s := sim.New(sim.Config{Seed: seed, Chooser: c})
			pingPong(s, 20)
			s.Add(worker("noise", 15))
			s.Run(1000)
			return s.Trace().Hash()
		},
	}
	for _, name := range []string{"chancy", "pingpong"} {
		t.Run(name, func(t *testing.T) {
			for seed := range uint64(10) {
				simtest.RunTwice(t, seed, worlds[name])
				simtest.RunTwiceProcs(t, seed, worlds[name])
			}
		})
	}
}

// The full detail-level trace of one seeded run, pinned: any change to the
// scheduler's ordering, the random streams or the trace format shows up as a
// diff here (review it, then rerun with -update).
func TestGoldenTrace(t *testing.T) {
	var b strings.Builder
	s := sim.New(sim.Config{Seed: 1, Trace: sim.TraceConfig{Out: &b, Level: sim.LevelDetail}})
	pingPong(s, 2)
	noise := s.Add(worker("noise", 3))
	s.Add(worker("busy", 3))
	s.Add(&toy{name: "timer", recv: func(c *sim.Ctx, m sim.Msg) {
		c.Story("fired", sim.Str("msg", m.String()), sim.LSNField("lsn", uint64(c.Now())<<32|0x1A8))
	}})
	s.PostAfter(4, msg("late"), 20)
	s.PostAfter(4, msg("early"), 2)
	s.Post(noise, msg("dropped"))
	s.Kill(noise)
	r := s.Run(100)
	s.Emit("test", sim.LevelStory, "end", sim.Str("result", r.String()), sim.Uint("hash", s.Trace().Hash()))
	simtest.Golden(t, "testdata/golden_trace.txt", b.String())
}
