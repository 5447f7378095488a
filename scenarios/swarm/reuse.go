package swarm

import (
	"promotesim/scenarios/script"
	"promotesim/storage"
)

// genReuse (ClassReuse) frees a page and later reuses it, the life of a
// hash overflow page in PolarDB's test
// 014_zero_and_lock_ovflpage_during_online_promote: a free empties the page
// through an ordinary record (XLOG_HASH_SQUEEZE_PAGE), a reuse reads it
// with RBM_ZERO_AND_LOCK and logs an init record (XLOG_HASH_ADD_OVFL_PAGE,
// BKPBLOCK_WILL_INIT). Drawn while a promote is under way too, so a new
// primary's backends reinitialise pages whose old history the BGW has not
// replayed yet.
func genReuse(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassReuse == 0 {
		return
	}
	target := w.writeTarget(v.p, v.writer)
	if target == nil {
		return
	}
	add(12, func() []script.Command {
		rnd := w.plan
		page := rnd.Intn(w.Swarm.Opts.Pages)
		slot := rnd.Intn(storage.PageSlots)
		h := target.Cfg.Host
		switch rnd.Intn(3) {
		case 0: // free only: a later reuse, or none
			return one(script.Submit{Node: h, Page: page, Slot: slot, Free: true})
		case 1: // reuse only: the page was freed earlier, or extends
			return one(script.Submit{Node: h, Page: page, Slot: slot, Init: true})
		}
		return []script.Command{
			script.Submit{Node: h, Page: page, Slot: slot, Free: true},
			script.Run{Steps: 1 + rnd.Intn(40)},
			script.Submit{Node: h, Page: page, Slot: slot, Init: true},
		}
	})
}
