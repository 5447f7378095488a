package swarm

import (
	"fmt"

	"promotesim/scenarios/script"
	"promotesim/storage"
)

// twoPhaseGIDs is how many global ids the planner draws from: few enough
// that a gid is sometimes still in use (PREPARE refused, the transaction
// rolled back), enough that several transactions stay prepared across a
// promote, a crash or a restart.
const twoPhaseGIDs = 4

// genTwoPhase (ClassTwoPhase) prepares one-write transactions on the node
// clients write to, and finishes (COMMIT PREPARED, sometimes ROLLBACK
// PREPARED) one its primary holds prepared. Many are left prepared for a
// while, so that promotes, crashes and checkpoints meet them: at promote
// RecoverPreparedTransactions, at a restart restoreTwoPhaseData and crash
// recovery, at a checkpoint their state files (CheckPointTwoPhase).
func genTwoPhase(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassTwoPhase == 0 {
		return
	}
	target := w.writeTarget(v.p, v.writer)
	if target == nil {
		return
	}
	h := target.Cfg.Host
	add(8, func() []script.Command {
		rnd := w.plan
		return one(script.Prepare{Node: h, Page: rnd.Intn(w.Swarm.Opts.Pages), Slot: rnd.Intn(storage.PageSlots),
			GID: fmt.Sprintf("g%d", 1+rnd.Intn(twoPhaseGIDs)), Submit: true})
	})
	var gids []string
	for _, g := range target.TwoPhase.All() {
		if g.Valid {
			gids = append(gids, g.GID)
		}
	}
	if len(gids) == 0 {
		return
	}
	add(4, func() []script.Command {
		rnd := w.plan
		gid := gids[rnd.Intn(len(gids))]
		return one(script.FinishPrepared{Node: h, GID: gid, Commit: rnd.Intn(4) != 0, Submit: true})
	})
}
