package explore

import (
	"promotesim/scenarios/cluster"
	"promotesim/scenarios/script"
	"promotesim/sim"
)

// The shrinker's passes beyond deletion: other schedules for a candidate
// the current schedule no longer fails, simpler forms of a command, and a
// cluster line moved toward the default options.

// freshTries is how many fresh seeded schedules tryElsewhere tries for one
// candidate after FIFO.
const freshTries = 6

// freshStrategies are the strategies the fresh schedules take turns with:
// the cluster line's own (uniform for random and fifo) and PCT, whose
// random priorities keep one actor ahead for many steps (the windows a
// uniform draw rarely holds open).
var freshStrategies = []sim.Strategy{{}, {Kind: sim.PCTKind, Depth: 3, Steps: sim.DefaultSteps}}

// tryElsewhere runs a candidate (cluster line cl and actions) that does not
// fail under the current schedule under others: the FIFO schedule, then
// fresh seeded ones, each recorded. The first that fails the same way (and
// holds without the hazard) is kept, with its recorded schedule.
func (s *shrinker) tryElsewhere(cl script.Cluster, actions []script.Command) bool {
	if (!s.cx.Scripted || len(s.cx.Schedule) > 0) && s.budget() && s.failsOn(cl, actions, true, []int{}) {
		s.adopt(cl, actions, []int{})
		return true
	}
	for k := 0; k < freshTries && s.budget(); k++ {
		s.fresh++
		st := freshStrategies[s.fresh%uint64(len(freshStrategies))]
		if st.Kind == sim.Uniform {
			st = s.sched
		}
		rec := &sim.Recorder{Inner: script.StrategyChooser(st, s.seed^s.fresh*0x9E3779B97F4A7C15)}
		var ch sim.Chooser = rec
		if s.maxChoices > 0 {
			ch = &sim.Capped{Inner: rec, Max: s.maxChoices}
		}
		s.attempts++
		o, err := s.replayWith(cl, actions, ch)
		if err != nil || o.Violation == nil || o.Violation.Checker != s.checker {
			continue
		}
		sched := trimZeros(rec.Choices)
		if s.failsOn(cl, actions, true, sched) { // the control, and a check of the recording
			s.adopt(cl, actions, sched)
			return true
		}
	}
	return false
}

// adopt makes a candidate found under a scripted schedule the current
// counterexample.
func (s *shrinker) adopt(cl script.Cluster, actions []script.Command, sched []int) {
	s.cx.Cluster, s.cx.Actions, s.cx.Scripted, s.cx.Schedule = cl, actions, true, sched
	s.toFIFO()
}

// maxPairActions bounds the action lists dropPairs works on (its
// candidates grow with the square of the length).
const maxPairActions = 24

// dropPairs removes two commands at once, wherever they are (a command that
// needs another, a stop and its start, goes only with it), latest pairs
// first, on a short enough list.
func (s *shrinker) dropPairs() bool {
	n := len(s.cx.Actions)
	if n > maxPairActions {
		return false
	}
	for j := n - 1; j >= 1 && !s.out; j-- {
		for i := j - 1; i >= 0 && !s.out; i-- {
			acts := s.cx.Actions
			cand := make([]script.Command, 0, len(acts)-2)
			cand = append(cand, acts[:i]...)
			cand = append(cand, acts[i+1:j]...)
			cand = append(cand, acts[j+1:]...)
			if s.tryActions(cand) {
				return true
			}
		}
	}
	return false
}

// simpler returns simpler forms of one command to try in its place: the
// default stop mode, a plain write for one that aborts or reuses a page.
func simpler(cmd script.Command) []script.Command {
	var out []script.Command
	switch c := cmd.(type) {
	case script.Stop:
		if c.Mode != "" {
			c.Mode = ""
			out = append(out, c)
		}
	case script.Submit:
		if c.Abort || c.Init || c.Free {
			c.Abort, c.Init, c.Free = false, false, false
			out = append(out, c)
		}
	}
	return out
}

// simplifyCommands replaces commands by their simpler forms while the
// failure persists.
func (s *shrinker) simplifyCommands() bool {
	progress := false
	for i := 0; i < len(s.cx.Actions) && !s.out; i++ {
		for _, next := range simpler(s.cx.Actions[i]) {
			cand := append([]script.Command(nil), s.cx.Actions...)
			cand[i] = next
			if s.tryActions(cand) {
				progress = true
				break
			}
		}
	}
	return progress
}

// simplifyCluster moves the cluster line's options toward the defaults,
// one option at a time (fewer nodes and standbys first: whole processes
// gone), keeping each change that still fails the same way.
func (s *shrinker) simplifyCluster() bool {
	progress := false
	def := cluster.DefaultOptions()
	for _, f := range clusterSimplifications {
		if s.out {
			break
		}
		cl := s.cx.Cluster
		if !f(&cl.Opts, def) || cl.Opts.Validate() != nil {
			continue
		}
		if !s.budget() {
			break
		}
		if s.failsOn(cl, s.cx.Actions, s.cx.Scripted, s.cx.Schedule) {
			s.cx.Cluster = cl
			progress = true
			continue
		}
		if s.tryElsewhere(cl, s.cx.Actions) {
			progress = true
		}
	}
	return progress
}

// clusterSimplifications each move one option of o toward its default in
// def, reporting whether anything changed.
var clusterSimplifications = []func(o *cluster.Options, def cluster.Options) bool{
	func(o *cluster.Options, def cluster.Options) bool { return setInt(&o.Standbys, 0) },
	func(o *cluster.Options, def cluster.Options) bool { return setInt(&o.Nodes, def.Nodes) },
	func(o *cluster.Options, def cluster.Options) bool { return setBool(&o.WALWriteBehind, false) },
	func(o *cluster.Options, def cluster.Options) bool { return setBool(&o.Prewarm, false) },
	func(o *cluster.Options, def cluster.Options) bool {
		return setInt(&o.ReplicaLogIndexMem, def.ReplicaLogIndexMem)
	},
	func(o *cluster.Options, def cluster.Options) bool { return setInt(&o.LogIndexMem, def.LogIndexMem) },
	func(o *cluster.Options, def cluster.Options) bool { return setInt(&o.QueueBuffers, def.QueueBuffers) },
	func(o *cluster.Options, def cluster.Options) bool { return setInt(&o.PoolFrames, def.PoolFrames) },
	func(o *cluster.Options, def cluster.Options) bool { return setInt(&o.TableSize, def.TableSize) },
	func(o *cluster.Options, def cluster.Options) bool { return setInt(&o.BatchSize, def.BatchSize) },
	func(o *cluster.Options, def cluster.Options) bool { return setInt(&o.ReplayWorkers, def.ReplayWorkers) },
	func(o *cluster.Options, def cluster.Options) bool { return setInt(&o.Sessions, def.Sessions) },
}

func setInt(p *int, v int) bool {
	if *p == v {
		return false
	}
	*p = v
	return true
}

func setBool(p *bool, v bool) bool {
	if *p == v {
		return false
	}
	*p = v
	return true
}
