package swarm

import (
	"promotesim/postmaster"
	"promotesim/scenarios/script"
	"promotesim/storage"
)

// The generators of the paths PolarDB's code opens where the model used to
// be stricter (issue 10): a child killed and restarted, a replica promoted
// before hot standby, a replica promoted while its queue lags. Each offers
// nothing unless its class is on, so the programs of seeds without it do
// not change.

// genKill (ClassKill): kill -9 of one child of a live node, most often the
// primary's or a promoting node's bgwriter (PolarDB's test
// 002_promote_kill kills the bgwriter right after the promote).
func genKill(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassKill == 0 || len(v.live) == 0 {
		return
	}
	add(2, func() []script.Command {
		rnd := w.plan
		target := w.pick(v.live)
		if v.writer != nil && rnd.Intn(2) == 0 {
			target = v.writer.Cfg.Host
		}
		proc := postmaster.KillChildren[0]
		if rnd.Intn(2) == 0 {
			proc = postmaster.KillChildren[rnd.Intn(len(postmaster.KillChildren))]
		}
		return one(script.Kill{Node: target, Proc: proc})
	})
}

// genPendingPromote (ClassPendingPromote): a replica is restarted and
// promoted while it still catches up from storage, before hot standby:
// PolarDB's test 003_promote_replica_pending (docs/promote-steps.md
// §3(1)). When the old writer must be stopped first (no fencing), this
// action only stops it (fast or immediate: a fast stop's shutdown
// checkpoint is the record that ends a pending snapshot), after a burst of
// writes half the time so the replica has WAL to catch up on; the promote
// comes at a later action, once it is really down, as in forced.
func genPendingPromote(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassPendingPromote == 0 || v.promoting || len(v.replicas) == 0 {
		return
	}
	add(3, func() []script.Command {
		rnd := w.plan
		if v.writer != nil && !w.promoteAllowedWith(v.writer) {
			var cmds []script.Command
			if v.writer.ReadWrite && rnd.Intn(2) == 0 {
				cmds = append(cmds, script.Submit{Node: v.writer.Cfg.Host, Page: rnd.Intn(w.Swarm.Opts.Pages),
					Slot: rnd.Intn(storage.PageSlots), Count: 4 + rnd.Intn(20)}, script.Run{Steps: 20 + rnd.Intn(200)})
			}
			return append(cmds, script.Stop{Node: v.writer.Cfg.Host, Mode: w.stopMode()})
		}
		h := w.pick(v.replicas)
		return []script.Command{script.Crash{Node: h}, script.Start{Node: h, Role: "replica"},
			script.Run{Steps: 1 + rnd.Intn(40)}, w.promoteCmd(h)}
	})
}

// genLagPromote (ClassLagPromote): a replica's startup is held while the
// primary writes past its queue (polar_xlog_queue_buffers), then released
// and the replica promoted a few steps later, so the trigger finds it
// reading WAL from storage with the queue not caught up
// (polar_queue_manager.c xlog_queue_catch_up false). Without fencing the
// old primary is stopped in the same action and the release and promote
// come at a later one, once it is down (w.lagged remembers the replica).
func genLagPromote(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassLagPromote == 0 || v.promoting {
		return
	}
	if h := w.lagged; h != 0 {
		if n := w.R.C.Node(h); n == nil || !w.R.C.Op.Alive(n) || !n.InRecovery || w.R.Promoting(h) {
			w.lagged = 0 // the replica went away meanwhile
		} else if v.writer == nil || w.promoteAllowedWith(v.writer) {
			add(6, func() []script.Command {
				w.lagged = 0
				return append(w.release(h, "startup"), script.Run{Steps: 1 + w.plan.Intn(8)}, w.promoteCmd(h))
			})
		}
		return
	}
	if len(v.replicas) == 0 || v.p == nil || !v.p.ReadWrite {
		return
	}
	add(3, func() []script.Command {
		rnd := w.plan
		h := w.pick(v.replicas)
		p := script.Pause{Node: h, Proc: "startup"}
		w.paused = append(w.paused, p)
		cmds := []script.Command{p,
			script.Submit{Node: v.p.Cfg.Host, Page: rnd.Intn(w.Swarm.Opts.Pages), Slot: rnd.Intn(storage.PageSlots),
				Count: w.Swarm.Opts.QueueBuffers + 4 + rnd.Intn(16)},
			script.Run{Steps: 100 + rnd.Intn(400)},
		}
		if !w.promoteAllowedWith(v.p) {
			w.lagged = h
			return append(cmds, script.Stop{Node: v.p.Cfg.Host, Mode: w.stopMode()})
		}
		return append(append(cmds, w.release(h, "startup")...), script.Run{Steps: 1 + rnd.Intn(8)}, w.promoteCmd(h))
	})
}

// release resumes proc on h if the planner holds it (and forgets it).
func (w *World) release(h storage.HostID, proc string) []script.Command {
	for i, p := range w.paused {
		if p.Node == h && p.Proc == proc {
			w.paused = append(w.paused[:i], w.paused[i+1:]...)
			p.Resume = true
			return one(p)
		}
	}
	return nil
}
