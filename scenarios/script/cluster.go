package script

import (
	"fmt"
	"strconv"

	"promotesim/scenarios/check"
	"promotesim/scenarios/cluster"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

func (r *Runner) cluster(a Args) (string, error) {
	if err := a.only("cluster", "nodes", "pages", "pool", "queue", "logindex-mem", "replica-logindex-mem", "table-size", "batch", "workers",
		"fence", "profile", "sessions", "seed", "sched", "hazard", "standbys"); err != nil {
		return "", err
	}
	o := cluster.DefaultOptions()
	var err error
	ints := []struct {
		key string
		dst *int
	}{{"nodes", &o.Nodes}, {"pages", &o.Pages}, {"pool", &o.PoolFrames}, {"queue", &o.QueueBuffers},
		{"logindex-mem", &o.LogIndexMem}, {"replica-logindex-mem", &o.ReplicaLogIndexMem}, {"table-size", &o.TableSize}, {"batch", &o.BatchSize},
		{"workers", &o.ReplayWorkers}, {"sessions", &o.Sessions}, {"standbys", &o.Standbys}}
	for _, f := range ints {
		if *f.dst, err = a.int(f.key, *f.dst); err != nil {
			return "", err
		}
	}
	if v, ok := a["fence"]; ok {
		if o.Fence, err = storage.ParseFenceMode(v); err != nil {
			return "", err
		}
	}
	if v, ok := a["profile"]; ok {
		if o.Profile, err = shmem.ParseProfile(v); err != nil {
			return "", err
		}
	}
	// hazard=NAME switches one wrong ordering on (the catalogue in
	// hazards.go); Options.Validate names the known ones.
	o.Hazard = a["hazard"]
	seed := r.seed
	if v, ok := a["seed"]; ok {
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			return "", fmt.Errorf("seed=%q: want a whole number", v)
		}
	}
	// sched=fifo (the default for scripts: choice 0 everywhere, the boring
	// fair schedule) or sched=random (seeded interleavings).
	var ch sim.Chooser = sim.NewScripted()
	switch a["sched"] {
	case "", "fifo":
	case "random":
		ch = nil
	default:
		return "", fmt.Errorf("sched=%q: want fifo or random", a["sched"])
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
	c, k, err := check.NewCluster(cluster.Config{Opts: o, Seed: seed, Chooser: ch, Trace: tc})
	if err != nil {
		return "", err
	}
	r.C, r.K = c, k
	res := fmt.Sprintf("cluster: %d nodes, %d pages, fence=%v, profile=%v, logindex-mem=%d, queue=%d",
		o.Nodes, o.Pages, o.Fence, o.Profile, o.LogIndexMem, o.QueueBuffers)
	if o.Hazard != "" {
		res += ", hazard=" + o.Hazard
	}
	return res, nil
}
