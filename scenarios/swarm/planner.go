package swarm

import (
	"promotesim/scenarios/cluster"
	"promotesim/scenarios/script"
	"promotesim/shmem"
	"promotesim/storage"
)

// The planner draws the safety phase's commands from the world's plan
// stream, looking at the cluster as it goes so the operator's actions make
// sense. Every draw happens in a fixed order (a seed's program must not
// change when the code is reorganised): first the forced steps (drop the
// new primary's own slot, the switchover past half of the actions), then
// one weighted choice among the action classes the seed enabled, each
// offered by its own generator below.

// view is what the planner sees of the cluster before one action.
type view struct {
	p, writer            *shmem.Node // the live primary, the live writer
	replicas, down, live []storage.HostID
	promoting            bool // some node was asked to promote and has not finished
}

// choice is one weighted option of an action.
type choice struct {
	weight int
	cmds   func() []script.Command
}

// generator offers the choices of one action class.
type generator func(w *World, v *view, add func(weight int, f func() []script.Command))

// generators are the action classes in the order they are offered (the
// order is part of every seed's program).
var generators = []generator{genRun, genSubmit, genRead, genPromote, genStop, genCrash, genRestart,
	genIOError, genLatency, genHeal, genPause, genStallSave, genCheckpoint, genStandby, genTwoPhase, genLogical, genReuse, genTornWAL,
	genKill, genPendingPromote, genLagPromote}

// next draws the commands of safety-phase action i.
func (w *World) next(i int) []script.Command {
	v := w.look()
	if cmds := w.forced(i, v); cmds != nil {
		return cmds
	}
	cs := w.choices[:0]
	add := func(weight int, f func() []script.Command) { cs = append(cs, choice{weight, f}) }
	for _, g := range generators {
		g(w, v, add)
	}
	clear(cs[len(cs):cap(cs)]) // drop an earlier action's leftovers
	w.choices = cs
	total := 0
	for _, ch := range cs {
		total += ch.weight
	}
	x := w.plan.Intn(total)
	for _, ch := range cs {
		if x < ch.weight {
			return ch.cmds()
		}
		x -= ch.weight
	}
	return nil
}

// look takes the planner's view of the cluster, in the world's one view
// (an action's offers use it only while next draws them).
func (w *World) look() *view {
	c := w.R.C
	v := &w.seen
	*v = view{p: w.R.LivePrimary(), writer: w.liveWriter(), replicas: v.replicas[:0], down: v.down[:0], live: v.live[:0]}
	for _, h := range c.Hosts() {
		n := c.Node(h)
		switch {
		case n == nil || !c.Op.Alive(n):
			v.down = append(v.down, h)
		default:
			v.live = append(v.live, h)
			if n.InRecovery && script.Serving(n) && !w.R.Promoting(h) {
				v.replicas = append(v.replicas, h)
			}
		}
	}
	for _, h := range c.Hosts() {
		if w.R.Promoting(h) {
			v.promoting = true
		}
	}
	return v
}

// forced is an action the operator must take now, if any.
func (w *World) forced(i int, v *view) []script.Command {
	// After a promote the operator drops the new primary's own former
	// slot: nobody will stream from it, and it would pin the flush gate.
	if v.p != nil {
		if own := cluster.OwnSlot(v.p); own != "" {
			return one(script.DropSlot{Node: v.p.Cfg.Host, Name: own})
		}
	}
	// The trigger file's promote hangs: once startup has taken the file,
	// the operator runs pg_ctl promote. A promote that ended otherwise (the
	// node crashed or was restarted: a new instance has no promote to
	// finish) needs none, and pg_ctl promote then would promote a replica
	// beside whatever primary runs by then.
	if w.rescue != 0 {
		switch n := w.R.C.Node(w.rescue); {
		case !w.R.Promoting(w.rescue):
			w.rescue = 0
		case !n.TriggerFile:
			return one(w.rescueCmd())
		}
	}
	// Every world promotes at least once: past half of the actions, a
	// world that has not promoted yet does the switchover now.
	if w.promoted == 0 && i >= w.Swarm.Actions/2 && len(v.replicas) > 0 && !v.promoting && w.rescue == 0 {
		if v.writer != nil && !w.promoteAllowedWith(v.writer) {
			// Stop the old primary first; the promote comes at a later
			// action, once it is really down (a paused process can hold a
			// fast shutdown up until the faults heal).
			return w.huntStop(v.writer.Cfg.Host, w.stopMode())
		}
		return w.promoteCmds(v.replicas[w.plan.Intn(len(v.replicas))])
	}
	return nil
}

func one(c script.Command) []script.Command { return []script.Command{c} }

// stopMode draws pg_ctl stop's mode.
func (w *World) stopMode() string {
	if w.plan.Intn(2) == 0 {
		return "immediate"
	}
	return "fast"
}

// pick draws one host of hs.
func (w *World) pick(hs []storage.HostID) storage.HostID { return hs[w.plan.Intn(len(hs))] }

// genRun lets time pass: mostly short runs, sometimes long ones.
func genRun(w *World, _ *view, add func(int, func() []script.Command)) {
	add(30, func() []script.Command {
		rnd := w.plan
		steps := 1 + rnd.Intn(100)
		if rnd.Intn(6) == 0 {
			steps = 100 + rnd.Intn(600)
		}
		return one(script.Run{Steps: steps})
	})
}

// genSubmit (ClassWrite, aborts with ClassAbort) posts writes to where
// clients send them, sometimes a burst.
func genSubmit(w *World, v *view, add func(int, func() []script.Command)) {
	target := w.writeTarget(v.p, v.writer)
	if target == nil {
		return
	}
	add(30, func() []script.Command {
		rnd := w.plan
		abort := w.Swarm.Classes&ClassAbort != 0 && rnd.Intn(6) == 0
		count := 0
		if rnd.Intn(4) == 0 {
			count = 2 + rnd.Intn(30)
		}
		page := rnd.Intn(w.Swarm.Opts.Pages)
		slot := rnd.Intn(storage.PageSlots)
		return one(script.Submit{Node: target.Cfg.Host, Page: page, Slot: slot, Abort: abort, Count: count})
	})
}

// genRead (ClassRead) posts reads on any live node.
func genRead(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassRead == 0 || len(v.live) == 0 {
		return
	}
	add(15, func() []script.Command {
		rnd := w.plan
		count := 0
		if rnd.Intn(3) == 0 {
			count = 2 + rnd.Intn(2*w.Swarm.Opts.Pages)
		}
		h := w.pick(v.live)
		return one(script.SubmitRead{Node: h, Page: rnd.Intn(w.Swarm.Opts.Pages), Count: count})
	})
}

// genPromote (ClassPromote) promotes a replica when the operator may.
func genPromote(w *World, v *view, add func(int, func() []script.Command)) {
	if len(v.replicas) > 0 && !v.promoting && w.rescue == 0 && (v.writer == nil || w.promoteAllowedWith(v.writer)) {
		add(6, func() []script.Command { return w.promoteCmds(w.pick(v.replicas)) })
	}
}

// genStop (ClassStop) stops a live node, fast or immediate.
func genStop(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassStop == 0 || len(v.live) == 0 {
		return
	}
	add(3, func() []script.Command {
		mode := w.stopMode()
		h := w.pick(v.live)
		if v.writer != nil && h == v.writer.Cfg.Host {
			return w.huntStop(h, mode)
		}
		return one(script.Stop{Node: h, Mode: mode})
	})
}

// genCrash (ClassCrash) crashes a live node.
func genCrash(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassCrash != 0 && len(v.live) > 0 {
		add(3, func() []script.Command { return one(script.Crash{Node: w.pick(v.live)}) })
	}
}

// genRestart (ClassRestart) brings a down node back: rebuilt as a replica
// when a primary runs, else started as the primary.
func genRestart(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassRestart == 0 || len(v.down) == 0 {
		return
	}
	h := w.pick(v.down)
	switch {
	case v.p != nil:
		add(6, func() []script.Command { return one(script.Rebuild{Node: h}) })
	case v.writer == nil && !v.promoting && w.R.C.Node(h) != nil:
		add(3, func() []script.Command { return one(script.Start{Node: h, Role: "primary"}) })
	}
}

// genIOError (ClassIOError) arms an I/O error on a live node.
func genIOError(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassIOError == 0 || len(v.live) == 0 {
		return
	}
	add(2, func() []script.Command {
		rnd := w.plan
		ops := []string{"write", "sync", "read"}
		paths := []string{"", "base/", "pg_wal/", "pg_logindex/", "global/"}
		h := w.pick(v.live)
		op := ops[rnd.Intn(len(ops))]
		path := paths[rnd.Intn(len(paths))]
		return one(script.Fault{Node: h, Op: op, Path: path, HasPath: true, Count: 1 + rnd.Intn(2)})
	})
}

// genLatency (ClassLatency) slows a node's I/O, most often a replica's.
func genLatency(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassLatency == 0 || len(v.live) == 0 {
		return
	}
	add(2, func() []script.Command {
		rnd := w.plan
		ticks := 1 + rnd.Intn(20)
		if rnd.Intn(2) == 0 {
			ticks = 20 + rnd.Intn(300) // slow enough to hold a read across a promote
		}
		target := w.pick(v.live)
		if len(v.replicas) > 0 && rnd.Intn(3) > 0 {
			target = w.pick(v.replicas) // a replica's slow reads
		}
		return one(script.Fault{Node: target, Latency: true, Ticks: ticks})
	})
}

// genHeal (with any fault class) clears every fault.
func genHeal(w *World, _ *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&(ClassIOError|ClassLatency|ClassPause|ClassStallSave) != 0 {
		add(2, func() []script.Command { return one(script.Heal{}) })
	}
}

// genPause (ClassPause) holds a process at PolarDB's injection points
// (most often a replica's BGW, so it lags), and later releases what it
// held.
func genPause(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassPause == 0 || len(v.live) == 0 {
		return
	}
	add(3, func() []script.Command {
		rnd := w.plan
		procs := []string{"bgw", "bgw", "bgw", "startup", "startup", "bgwriter", "walreceiver", "checkpointer"}
		target := w.pick(v.live)
		if len(v.replicas) > 0 && rnd.Intn(3) > 0 {
			target = w.pick(v.replicas) // a lagging replica
		}
		p := script.Pause{Node: target, Proc: procs[rnd.Intn(len(procs))]}
		w.paused = append(w.paused, p)
		return one(p)
	})
	if len(w.paused) > 0 {
		add(2, func() []script.Command {
			i := w.plan.Intn(len(w.paused))
			p := w.paused[i]
			w.paused = append(w.paused[:i], w.paused[i+1:]...)
			p.Resume = true
			return one(p)
		})
	}
}

// genStallSave (ClassStallSave): the primary stops saving LogIndex tables
// (and later resumes), so replicas' memtable rings fill up behind it.
func genStallSave(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassStallSave == 0 || v.p == nil {
		return
	}
	c := script.StallSave{Node: v.p.Cfg.Host}
	weight := 4
	if v.p.SaveStalled {
		c.Resume, weight = true, 1
	}
	add(weight, func() []script.Command { return one(c) })
}

// genCheckpoint (ClassCheckpoint): the operator's CHECKPOINT on the
// writer, the promoting node included.
func genCheckpoint(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassCheckpoint != 0 && v.writer != nil {
		add(2, func() []script.Command { return one(script.Checkpoint{Node: v.writer.Cfg.Host}) })
	}
}

// liveWriter is the live node that writes shared storage, or believes it
// may (a primary, or a node in the middle of a promote), if any. A primary
// still in crash recovery counts too: it holds the read-write mount and
// writes its end-of-recovery record when replay ends.
func (w *World) liveWriter() *shmem.Node {
	c := w.R.C
	for _, h := range c.Hosts() {
		n := c.Node(h)
		if n != nil && c.Op.Alive(n) && (n.Primary || !n.InRecovery ||
			n.Mount != nil && n.Mount.Mode() == storage.MountReadWrite) {
			return n
		}
	}
	return nil
}

// promoteAllowedWith reports whether the operator may promote a replica
// while writer still runs: only when fencing protects the old writer's
// storage, or when the hazard under test is exactly that.
func (w *World) promoteAllowedWith(writer *shmem.Node) bool {
	if writer == nil || w.hz.KeepPrimaryRunning {
		return true
	}
	return w.Swarm.Opts.Fence != storage.FenceNone
}

// writeTarget is where clients send writes: the read-write primary, or
// under promote-while-primary-writes the old primary while it lives.
func (w *World) writeTarget(p, writer *shmem.Node) *shmem.Node {
	if w.hz.KeepPrimaryRunning && writer != nil && writer.ReadWrite {
		return writer
	}
	return p
}

// promoteCmd is the operator's promote of replica h: pg_ctl promote, the
// trigger file under the hazard trigger-file-promote, and in a
// ClassTriggerFile world half the time the trigger file followed, once
// startup took it, by pg_ctl promote (rescueCmd). Only with no writer
// left: a fenced promote of a replica while the old primary runs relies on
// the remount, which the trigger file does not do, so startup's end of WAL
// would be passed by the old primary's writes (the PANIC of its end-of-WAL
// check, for the operator's mistake, not the model's).
func (w *World) promoteCmd(h storage.HostID) script.Command {
	w.promoted++
	if w.hz.TriggerFile {
		return script.Trigger{Node: h}
	}
	if w.Swarm.Classes&ClassTriggerFile != 0 && w.liveWriter() == nil && w.post.Intn(2) == 0 {
		w.rescue = h
		return script.Trigger{Node: h}
	}
	return script.Promote{Node: h}
}

// rescueCmd is the pg_ctl promote that completes a trigger file's promote:
// postmaster remounts and signals the BGW, which enters WAITING_RESET, and
// startup, waiting for it in P3, goes on.
func (w *World) rescueCmd() script.Command {
	h := w.rescue
	w.rescue = 0
	return script.Promote{Node: h}
}

// afterPromote is what the operator does right after promoting h: in a
// ClassCheckpoint world, half the time, CHECKPOINT as soon as
// pg_is_in_recovery() turns false (failover tools checkpoint the new
// primary so pg_rewind sees its timeline: Patroni's checkpoint after
// promote). In V11's order that lands in the window where the node is out
// of recovery and its BGW still waits for its reset.
func (w *World) afterPromote(h storage.HostID) []script.Command {
	if cmds := w.huntAfterPromote(h); cmds != nil {
		return cmds
	}
	if w.Swarm.Classes&ClassCheckpoint == 0 || w.rescue != 0 || w.post.Intn(2) != 0 {
		return nil
	}
	return []script.Command{script.RunUntil{Cond: "out-of-recovery", Node: h, Budget: postPromoteWait, HasBudget: true},
		script.Checkpoint{Node: h}}
}

// postPromoteWait bounds afterPromote's wait for the end of recovery.
const postPromoteWait = 400

// promoteCmds promotes h; clients reading on h until the last moment
// (a read still in flight when promote begins) come with it half the time.
func (w *World) promoteCmds(h storage.HostID) []script.Command {
	var cmds []script.Command
	if w.Swarm.Classes&ClassPause != 0 && w.plan.Intn(3) == 0 {
		// Another replica lags through the promote (its startup held):
		// the new primary must still hold its flush gate and LogIndex.
		for _, o := range w.R.C.Hosts() {
			if n := w.R.C.Node(o); o != h && n != nil && n.InRecovery && w.R.C.Op.Alive(n) {
				p := script.Pause{Node: o, Proc: "startup"}
				w.paused = append(w.paused, p)
				cmds = append(cmds, p)
				break
			}
		}
	}
	if w.Swarm.Classes&ClassRead != 0 && w.plan.Intn(2) == 0 {
		cmds = append(cmds, script.SubmitRead{Node: h, Page: 0, Count: w.Swarm.Opts.Pages})
	}
	cmds = append(cmds, w.huntCmds(h)...)
	cmds = append(cmds, w.promoteCmd(h))
	return append(cmds, w.afterPromote(h)...)
}
