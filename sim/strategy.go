package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// StrategyKind names a scheduling strategy: how the "sched" site picks among
// the enabled steps. Every other site is answered by the seeded Random driver
// whatever the strategy, so a fault stream does not depend on it.
type StrategyKind uint8

const (
	// Uniform draws uniformly among the enabled steps (Random).
	Uniform StrategyKind = iota
	// PCTKind is probabilistic concurrency testing (PCT).
	PCTKind
	// PreemptKind is the bounded-preemption random walk (Preempt).
	PreemptKind
	// Swarm derives one of the others from each run's seed (DeriveStrategy).
	Swarm
)

// Strategy is a parsed scheduling strategy. Its text form, accepted by
// ParseStrategy and printed by String:
//
//	uniform                          uniform random (the default)
//	pct[:d=N][,steps=N]              PCT, depth d (d-1 change points), over steps decisions
//	preempt[:k=N][,p=A/B][,steps=N]  at most k preemptions, each with probability p
//	swarm                            each seed derives its own strategy
//
// Parameters are comma separated, in any order, each at most once.
type Strategy struct {
	Kind StrategyKind
	// Depth is PCT's d: the bug depth it targets, d-1 change points.
	Depth int
	// Preemptions is the walk's K.
	Preemptions int
	// Steps is the estimated number of scheduling decisions of a run: PCT
	// draws its change points over it, and both leave scheduling to the
	// uniform draw after it.
	Steps int
	// P is the walk's probability of preempting at a decision; zero means
	// Preemptions/Steps (K preemptions expected over the estimated run).
	P Prob
}

// Defaults of the parameters a strategy's text leaves out.
const (
	DefaultPCTDepth    = 3
	DefaultPreemptions = 2
	DefaultSteps       = 1000
)

const strategyUsage = "uniform, pct[:d=N][,steps=N], preempt[:k=N][,p=A/B][,steps=N] or swarm"

// ParseStrategy parses a strategy's text form (see Strategy).
func ParseStrategy(text string) (Strategy, error) {
	name, params, hasParams := strings.Cut(text, ":")
	var st Strategy
	switch name {
	case "uniform":
		st.Kind = Uniform
	case "pct":
		st = Strategy{Kind: PCTKind, Depth: DefaultPCTDepth, Steps: DefaultSteps}
	case "preempt":
		st = Strategy{Kind: PreemptKind, Preemptions: DefaultPreemptions, Steps: DefaultSteps}
	case "swarm":
		st.Kind = Swarm
	default:
		return Strategy{}, fmt.Errorf("unknown scheduling strategy %q (want %s)", text, strategyUsage)
	}
	if !hasParams {
		return st, nil
	}
	if st.Kind == Uniform || st.Kind == Swarm {
		return Strategy{}, fmt.Errorf("scheduling strategy %q: %s takes no parameters", text, name)
	}
	seen := map[string]bool{} // looked up only
	for _, kv := range strings.Split(params, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			return Strategy{}, fmt.Errorf("scheduling strategy %q: bad or repeated parameter %q (want %s)", text, kv, strategyUsage)
		}
		seen[k] = true
		if err := st.set(k, v); err != nil {
			return Strategy{}, fmt.Errorf("scheduling strategy %q: %v", text, err)
		}
	}
	return st, st.Validate()
}

func (st *Strategy) set(k, v string) error {
	switch {
	case k == "steps":
		return atoiMin(v, 1, &st.Steps, "steps")
	case k == "d" && st.Kind == PCTKind:
		return atoiMin(v, 1, &st.Depth, "d")
	case k == "k" && st.Kind == PreemptKind:
		return atoiMin(v, 0, &st.Preemptions, "k")
	case k == "p" && st.Kind == PreemptKind:
		a, b, ok := strings.Cut(v, "/")
		num, err1 := strconv.ParseUint(a, 10, 32)
		den, err2 := strconv.ParseUint(b, 10, 32)
		if !ok || err1 != nil || err2 != nil || den == 0 || num > den {
			return fmt.Errorf("p=%q is not a probability A/B with 0 <= A <= B, B > 0", v)
		}
		st.P = Prob{uint32(num), uint32(den)}
		return nil
	}
	return fmt.Errorf("unknown parameter %q", k)
}

func atoiMin(v string, lo int, dst *int, name string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > 1<<30 {
		return fmt.Errorf("%s=%q is not an integer in [%d, 2^30]", name, v, lo)
	}
	*dst = n
	return nil
}

// Validate reports a strategy no text could have produced (one built by
// hand with a bad field).
func (st Strategy) Validate() error {
	switch st.Kind {
	case Uniform, Swarm:
		return nil
	case PCTKind:
		if st.Depth < 1 || st.Steps < 1 {
			return fmt.Errorf("pct needs d >= 1 and steps >= 1, got d=%d steps=%d", st.Depth, st.Steps)
		}
		return nil
	case PreemptKind:
		if st.Preemptions < 0 || st.Steps < 1 || st.P.Num > st.P.Den || (st.P != Prob{} && st.P.Den == 0) {
			return fmt.Errorf("preempt needs k >= 0, steps >= 1 and p in [0, 1], got k=%d steps=%d p=%d/%d", st.Preemptions, st.Steps, st.P.Num, st.P.Den)
		}
		return nil
	}
	return fmt.Errorf("unknown strategy kind %d", st.Kind)
}

// String returns the canonical text form, which ParseStrategy reads back.
func (st Strategy) String() string {
	switch st.Kind {
	case Uniform:
		return "uniform"
	case PCTKind:
		return fmt.Sprintf("pct:d=%d,steps=%d", st.Depth, st.Steps)
	case PreemptKind:
		if st.P == (Prob{}) {
			return fmt.Sprintf("preempt:k=%d,steps=%d", st.Preemptions, st.Steps)
		}
		return fmt.Sprintf("preempt:k=%d,p=%d/%d,steps=%d", st.Preemptions, st.P.Num, st.P.Den, st.Steps)
	case Swarm:
		return "swarm"
	}
	return fmt.Sprintf("strategy(%d)", st.Kind)
}

// Resolve returns the strategy a run of seed uses: a Swarm strategy derives
// one from the seed's "sched-strategy" stream, the others are themselves.
func (st Strategy) Resolve(seed uint64) Strategy {
	if st.Kind == Swarm {
		return DeriveStrategy(NewRand(seed).Fork("sched-strategy"))
	}
	return st
}

// NewChooser returns the chooser of strategy st for a run of seed. Every
// site other than "sched" draws from NewRandom(seed) under every strategy,
// and Uniform is exactly NewRandom(seed), so existing seeds replay as
// before. PCT and the walk draw from their own streams forked from the seed.
// It panics with an *AssertionError on a strategy Validate rejects.
func NewChooser(st Strategy, seed uint64) Chooser {
	if err := st.Validate(); err != nil {
		Failf("sim: %v", err)
	}
	st = st.Resolve(seed)
	inner := NewRandom(seed)
	switch st.Kind {
	case PCTKind:
		return NewPCT(inner, NewRand(seed).Fork("pct"), st.Depth, st.Steps)
	case PreemptKind:
		p := st.P
		if p == (Prob{}) {
			p = Prob{uint32(min(st.Preemptions, st.Steps)), uint32(st.Steps)}
		}
		return NewPreempt(inner, NewRand(seed).Fork("preempt"), st.Preemptions, p, st.Steps)
	}
	return inner
}

// swarmSteps are the estimated run lengths a swarm strategy picks from: a
// short window, a typical world, a long one.
var swarmSteps = [...]int{200, 1000, 5000}

// DeriveStrategy picks a strategy from r, each parameter from its own fork
// (so adding a parameter later does not change the others): uniform, PCT
// and the walk a third each; PCT's d in [1, 4], the walk's k in [0, 3], the
// step estimate from swarmSteps. The scenarios' swarm derivation calls it on
// a stream it forks by label, like every other option.
func DeriveStrategy(r *Rand) Strategy {
	steps := swarmSteps[r.Fork("steps").Intn(len(swarmSteps))]
	switch r.Fork("kind").Intn(3) {
	case 1:
		return Strategy{Kind: PCTKind, Depth: 1 + r.Fork("d").Intn(4), Steps: steps}
	case 2:
		return Strategy{Kind: PreemptKind, Preemptions: r.Fork("k").Intn(4), Steps: steps}
	}
	return Strategy{Kind: Uniform}
}
