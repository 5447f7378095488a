package script

import (
	"fmt"
	"strconv"

	"promotesim/scenarios/check"
	"promotesim/scenarios/cluster"
	"promotesim/sim"
)

// Cluster builds a checked cluster (check.NewCluster): cluster KEY=VALUE...
// with the options of cluster.Settings, then seed=S (the runner's seed
// when left out) and sched=fifo|random|STRATEGY (fifo when left out:
// choice 0 everywhere, the boring fair schedule; random: seeded uniform
// interleavings; a scheduling strategy in sim.ParseStrategy's text form,
// pct:d=3,steps=1000 or preempt:k=2,steps=1000: seeded interleavings
// under that strategy, so a counterexample's cluster line records the
// strategy that found it), then budget=B: the steps every waiting command
// of the script (stop, submit, run-until without its own budget=...) waits
// before it gives up (the runner's Budget, 50000, when left out). A swarm
// world waits less (worldWaitBudget) and says so on its line: under an
// unfair strategy such as PCT a stop can wait forever, and a replay that
// waited longer would ask the scheduler different questions from then on.
type Cluster struct {
	Opts cluster.Options
	// Seed is the scheduler's seed when HasSeed.
	Seed    uint64
	HasSeed bool
	// Sched is "", "fifo", "random" or a strategy sim.ParseStrategy reads
	// ("uniform" is "random").
	Sched string
	// Budget is the runner's wait budget from this line on when HasBudget.
	Budget    int
	HasBudget bool
}

// Seeded reports whether the line's schedule is drawn from its seed
// (random or a strategy) rather than FIFO.
func (c Cluster) Seeded() bool { return c.Sched != "" && c.Sched != "fifo" }

// Strategy returns the seeded schedule's strategy (Uniform for random).
func (c Cluster) Strategy() (sim.Strategy, error) {
	if c.Sched == "random" || !c.Seeded() {
		return sim.Strategy{Kind: sim.Uniform}, nil
	}
	return sim.ParseStrategy(c.Sched)
}

// Chooser returns the chooser the line's own schedule uses for a world of
// seed: FIFO (an empty script) or the seeded strategy. A shrinker replays a
// seeded world under it, recorded.
func (c Cluster) Chooser(seed uint64) sim.Chooser {
	if !c.Seeded() {
		return sim.NewScripted()
	}
	st, err := c.Strategy()
	if err != nil {
		sim.Failf("script: cluster line with a bad sched=%q: %v", c.Sched, err)
	}
	return StrategyChooser(st, seed)
}

// StrategyChooser is strategy st's chooser for a world of seed, made fair
// by the liveness command (sim.Fair): a liveness claim assumes a fair
// scheduler, and PCT and the preemption walk are not. Uniform is plain
// sim.NewRandom, as it always was.
func StrategyChooser(st sim.Strategy, seed uint64) sim.Chooser {
	ch := sim.NewChooser(st, seed)
	if st.Resolve(seed).Kind == sim.Uniform {
		return ch
	}
	return &sim.Fair{Inner: ch, Uniform: sim.NewRandom(seed)}
}

// SchedFor is the sched= value of a seeded strategy: random for uniform
// (what lines said before strategies existed), else its text form.
func SchedFor(st sim.Strategy) string {
	if st.Kind == sim.Uniform {
		return "random"
	}
	return st.String()
}

func parseCluster(_ string, a args) (Command, error) {
	if err := a.only("cluster", append(cluster.SettingKeys(), "seed", "sched", "budget")...); err != nil {
		return nil, err
	}
	c := Cluster{Opts: cluster.DefaultOptions()}
	for _, key := range cluster.SettingKeys() {
		if v, ok := a[key]; ok {
			if err := c.Opts.Set(key, v); err != nil {
				return nil, err
			}
		}
	}
	if v, ok := a["seed"]; ok {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("seed=%q: want a whole number", v)
		}
		c.Seed, c.HasSeed = n, true
	}
	if _, ok := a["budget"]; ok {
		n, err := a.int("budget", 0)
		if err != nil || n < 1 || n > MaxSteps {
			return nil, fmt.Errorf("budget=%s: want 1..%d steps", a["budget"], MaxSteps)
		}
		c.Budget, c.HasBudget = n, true
	}
	switch c.Sched = a["sched"]; c.Sched {
	case "", "fifo", "random":
	default:
		if _, err := sim.ParseStrategy(c.Sched); err != nil {
			return nil, fmt.Errorf("sched=%q: want fifo, random or a scheduling strategy: %v", c.Sched, err)
		}
	}
	return c, nil
}

func (c Cluster) String() string {
	l := newLine("cluster")
	if opts := c.Opts.Line(); opts != "" {
		l.word(opts)
	}
	if c.HasSeed {
		l.kv("seed", strconv.FormatUint(c.Seed, 10))
	}
	if c.Sched != "" {
		l.kv("sched", c.Sched)
	}
	if c.HasBudget {
		l.num("budget", c.Budget)
	}
	return l.String()
}

func (c Cluster) run(r *Runner) (string, error) {
	o := c.Opts
	seed := r.seed
	if c.HasSeed {
		seed = c.Seed
	}
	ch := c.Chooser(seed)
	if r.Chooser != nil {
		ch = r.Chooser
	}
	tc := sim.TraceConfig{Out: &r.out, Level: r.level, Format: r.format}
	if r.TraceTo != nil {
		tc.Out = r.TraceTo
	}
	if r.Quiet {
		tc.Out = nil
	}
	cl, k, err := check.NewCluster(cluster.Config{Opts: o, Seed: seed, Chooser: ch, Trace: tc, CheckWakes: r.CheckWakes})
	if err != nil {
		return "", err
	}
	r.C, r.K = cl, k
	if c.HasBudget {
		r.Budget = c.Budget
	}
	res := fmt.Sprintf("cluster: %d nodes, %d pages, fence=%v, profile=%v, logindex-mem=%d, queue=%d",
		o.Nodes, o.Pages, o.Fence, cluster.ProfileName(o.Profile, o.Fixed), o.LogIndexMem, o.QueueBuffers)
	if o.Faithful != "" {
		res += ", faithful=" + o.Faithful
	}
	if o.Hazard != "" {
		res += ", hazard=" + o.Hazard
	}
	return res, nil
}
