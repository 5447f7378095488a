package sim_test

import (
	"strings"
	"testing"

	"pgregory.net/rapid"

	"promotesim/sim"
	"promotesim/sim/simtest"
)

func TestParseStrategy(t *testing.T) {
	good := map[string]string{ // text -> canonical String
		"uniform":                    "uniform",
		"swarm":                      "swarm",
		"pct":                        "pct:d=3,steps=1000",
		"pct:d=1":                    "pct:d=1,steps=1000",
		"pct:steps=50,d=4":           "pct:d=4,steps=50",
		"preempt":                    "preempt:k=2,steps=1000",
		"preempt:k=0":                "preempt:k=0,steps=1000",
		"preempt:k=3,p=1/8,steps=99": "preempt:k=3,p=1/8,steps=99",
	}
	for text, want := range good { // determinism:ok a test table: each entry is checked alone
		st, err := sim.ParseStrategy(text)
		if err != nil || st.String() != want {
			t.Errorf("ParseStrategy(%q) = %v, %v; want %s", text, st, err, want)
			continue
		}
		again, err := sim.ParseStrategy(st.String())
		if err != nil || again != st {
			t.Errorf("%q does not read back: %v, %v", st.String(), again, err)
		}
	}
	bad := map[string]string{ // text -> a word the error must carry
		"":                      "unknown scheduling strategy",
		"random":                "unknown scheduling strategy",
		"PCT":                   "unknown scheduling strategy",
		"uniform:d=3":           "takes no parameters",
		"swarm:k=1":             "takes no parameters",
		"pct:":                  "bad or repeated parameter",
		"pct:d":                 "bad or repeated parameter",
		"pct:d=3,d=4":           "bad or repeated parameter",
		"pct:d=0":               "d=\"0\" is not an integer",
		"pct:d=x":               "d=\"x\" is not an integer",
		"pct:k=2":               "unknown parameter \"k\"",
		"pct:steps=0":           "steps=\"0\" is not an integer",
		"preempt:k=-1":          "k=\"-1\" is not an integer",
		"preempt:d=2":           "unknown parameter \"d\"",
		"preempt:p=3/2":         "not a probability",
		"preempt:p=1/0":         "not a probability",
		"preempt:p=half":        "not a probability",
		"preempt:k=99999999999": "is not an integer",
	}
	for text, want := range bad { // determinism:ok a test table: each entry is checked alone
		st, err := sim.ParseStrategy(text)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseStrategy(%q) = %v, %v; want an error with %q", text, st, err, want)
		}
	}
}

func TestStrategyValidate(t *testing.T) {
	for _, st := range []sim.Strategy{
		{Kind: sim.PCTKind, Depth: 0, Steps: 10},
		{Kind: sim.PCTKind, Depth: 2},
		{Kind: sim.PreemptKind, Preemptions: -1, Steps: 10},
		{Kind: sim.PreemptKind, Steps: 10, P: sim.Prob{Num: 1}},
		{Kind: 9},
	} {
		if st.Validate() == nil {
			t.Errorf("%v validates", st)
		}
		func() {
			defer func() {
				if _, ok := recover().(*sim.AssertionError); !ok {
					t.Errorf("NewChooser(%v) did not fail its assertion", st)
				}
			}()
			sim.NewChooser(st, 1)
		}()
	}
}

// The swarm derivation is a function of the stream, reaches every kind with
// parameters in their ranges, and Resolve never leaves a run on Swarm.
func TestDeriveStrategy(t *testing.T) {
	kinds := map[sim.StrategyKind]int{}
	for seed := range uint64(300) {
		a := sim.DeriveStrategy(sim.NewRand(seed).Fork("x"))
		if b := sim.DeriveStrategy(sim.NewRand(seed).Fork("x")); a != b {
			t.Fatalf("seed %d: derived %v then %v", seed, a, b)
		}
		if err := a.Validate(); err != nil || a.Kind == sim.Swarm {
			t.Fatalf("seed %d: derived %v (%v)", seed, a, err)
		}
		if a.Kind == sim.PCTKind && (a.Depth < 1 || a.Depth > 4) || a.Kind == sim.PreemptKind && a.Preemptions > 3 {
			t.Fatalf("seed %d: %v out of range", seed, a)
		}
		kinds[a.Kind]++
		r := sim.Strategy{Kind: sim.Swarm}.Resolve(seed)
		if r.Kind == sim.Swarm || r != (sim.Strategy{Kind: sim.Swarm}).Resolve(seed) {
			t.Fatalf("seed %d: swarm resolves to %v", seed, r)
		}
	}
	for _, k := range []sim.StrategyKind{sim.Uniform, sim.PCTKind, sim.PreemptKind} {
		if kinds[k] < 60 {
			t.Errorf("kind %d derived %d times of 300", k, kinds[k])
		}
	}
}

var strategyTexts = []string{"uniform", "swarm", "pct:d=1", "pct", "pct:d=4,steps=20", "preempt:k=0", "preempt", "preempt:k=3,p=1/3,steps=40"}

func mustStrategy(t interface{ Fatal(...any) }, text string) sim.Strategy {
	st, err := sim.ParseStrategy(text)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Uniform is exactly the Random driver, so every old seed replays as before.
func TestUniformIsRandom(t *testing.T) {
	for seed := range uint64(20) {
		want, _ := chancy(seed, sim.NewRandom(seed))
		got, _ := chancy(seed, sim.NewChooser(mustStrategy(t, "uniform"), seed))
		if got != want {
			t.Fatalf("seed %d: uniform %x, Random %x", seed, got, want)
		}
	}
}

// Under every strategy a seed is deterministic, and a recorded run replays
// under Scripted unchanged: the recorded scheduling choices are candidate
// indices, whatever strategy picked them.
func TestStrategiesRecordAndReplay(t *testing.T) {
	simtest.Check(t, func(t *rapid.T) {
		st := mustStrategy(t, rapid.SampledFrom(strategyTexts).Draw(t, "strategy"))
		seed := rapid.Uint64().Draw(t, "seed")
		rec := &sim.Recorder{Inner: sim.NewChooser(st, seed)}
		want, _ := chancy(seed, rec)
		if again, _ := chancy(seed, sim.NewChooser(st, seed)); again != want {
			t.Fatalf("%v seed %d: %x then %x", st, seed, want, again)
		}
		sc := sim.NewScripted(rec.Choices...)
		got, _ := chancy(seed+1, sc)
		if got != want || sc.Used() != len(rec.Choices) || sc.Clamped != 0 {
			t.Fatalf("%v seed %d: replay %x, recorded %x; used %d of %d, clamped %d", st, seed, got, want, sc.Used(), len(rec.Choices), sc.Clamped)
		}
	})
}
