package swarm

import (
	"promotesim/scenarios/script"
	"promotesim/storage"
)

// genStandby (ClassStandby) drives the world's standbys, the nodes on
// their own disks (PolarDB's tests 007 and 101-105 promote them): hold a
// standby's BGW so parallel replay lags, promote it (pg_ctl promote, or the
// trigger file, which a standby's startup acts on alone), write to a
// promoted standby, crash or stop it immediately, and start it again: as
// a standby while it was never promoted, as the primary of its own disk
// after (test 007's `stop -m i` then start). A promoted standby is another
// history: the shared cluster's planner never looks at it.
func genStandby(w *World, _ *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassStandby == 0 {
		return
	}
	c := w.R.C
	for _, h := range c.StandbyHosts() {
		n := c.Node(h)
		switch {
		case n == nil || !c.Op.Alive(n):
			role := "standby"
			if c.StandbyPromoted(h) {
				role = "primary"
			}
			add(3, func() []script.Command { return one(script.Start{Node: h, Role: role}) })
		case n.InRecovery && !w.R.Promoting(h):
			add(2, func() []script.Command { return w.standbyPromoteCmds(h) })
			add(2, func() []script.Command {
				p := script.Pause{Node: h, Proc: "bgw"}
				w.paused = append(w.paused, p)
				return one(p)
			})
		case n.ReadWrite && n.Primary:
			add(10, func() []script.Command { return w.standbyWrites(h) })
			add(2, func() []script.Command { return one(script.Crash{Node: h}) })
			add(1, func() []script.Command { return one(script.Stop{Node: h, Mode: "immediate"}) })
		}
	}
}

// standbyPromoteCmds promotes standby h: by pg_ctl promote mostly, by the
// trigger file a third of the time; a read in flight comes with it half the
// time (hot standby sessions survive a standby's promote).
func (w *World) standbyPromoteCmds(h storage.HostID) []script.Command {
	var cmds []script.Command
	if w.Swarm.Classes&ClassRead != 0 && w.plan.Intn(2) == 0 {
		cmds = append(cmds, script.SubmitRead{Node: h, Page: 0, Count: w.Swarm.Opts.Pages})
	}
	if w.plan.Intn(3) == 0 {
		return append(cmds, script.Trigger{Node: h})
	}
	return append(cmds, script.Promote{Node: h})
}

// standbyWrites posts writes to a promoted standby, sometimes a burst.
func (w *World) standbyWrites(h storage.HostID) []script.Command {
	rnd := w.plan
	count := 0
	if rnd.Intn(3) == 0 {
		count = 2 + rnd.Intn(20)
	}
	return one(script.Submit{Node: h, Page: rnd.Intn(w.Swarm.Opts.Pages), Slot: rnd.Intn(storage.PageSlots), Count: count})
}
