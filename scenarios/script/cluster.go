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
// when left out) and sched=fifo|random (fifo when left out: choice 0
// everywhere, the boring fair schedule; random: seeded interleavings).
type Cluster struct {
	Opts cluster.Options
	// Seed is the scheduler's seed when HasSeed.
	Seed    uint64
	HasSeed bool
	// Sched is "", "fifo" or "random".
	Sched string
}

func parseCluster(_ string, a args) (Command, error) {
	if err := a.only("cluster", append(cluster.SettingKeys(), "seed", "sched")...); err != nil {
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
	switch c.Sched = a["sched"]; c.Sched {
	case "", "fifo", "random":
	default:
		return nil, fmt.Errorf("sched=%q: want fifo or random", c.Sched)
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
	return l.String()
}

func (c Cluster) run(r *Runner) (string, error) {
	o := c.Opts
	seed := r.seed
	if c.HasSeed {
		seed = c.Seed
	}
	var ch sim.Chooser = sim.NewScripted()
	if c.Sched == "random" {
		ch = nil
	}
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
	cl, k, err := check.NewCluster(cluster.Config{Opts: o, Seed: seed, Chooser: ch, Trace: tc})
	if err != nil {
		return "", err
	}
	r.C, r.K = cl, k
	res := fmt.Sprintf("cluster: %d nodes, %d pages, fence=%v, profile=%v, logindex-mem=%d, queue=%d",
		o.Nodes, o.Pages, o.Fence, cluster.ProfileName(o.Profile, o.Fixed), o.LogIndexMem, o.QueueBuffers)
	if o.Hazard != "" {
		res += ", hazard=" + o.Hazard
	}
	return res, nil
}
