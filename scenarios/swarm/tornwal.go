package swarm

import "promotesim/scenarios/script"

// genTornWAL (ClassTornWAL) loses power on the primary while WAL is still
// being written: rolled-back transactions put WAL in the buffers that no
// backend flushes (an abort record is not XLogFlush'ed), the walwriter
// writes whole WAL pages only and syncs a step later
// (cluster.Options.WALWriteBehind), and the crash takes what is still in
// the buffers: missing last records, or a record whose first WAL page is on
// storage and whose continuation page is not. The host restarts
// as primary at once (restart_after_crash), so its crash recovery meets
// that end of WAL and writes OVERWRITE_CONTRECORD for an aborted
// contrecord; a promote over such an end comes from genPromote and the
// switchover. Rare (weight 1): each is a crash, and the world is about
// promote. The other choice is PolarDB's test 004_polar_overwrite_contrecord
// up to its promote: a replica restarted while the primary's last record
// has only its first WAL page written (rolled-back transactions: nothing
// flushes the rest), so its catch-up meets an aborted contrecord at the
// end of WAL, which a replica must not keep (ArchiveRecoveryRequested).
func genTornWAL(w *World, v *view, add func(int, func() []script.Command)) {
	if w.Swarm.Classes&ClassTornWAL == 0 || v.p == nil || v.p != v.writer || v.promoting {
		return
	}
	h := v.p.Cfg.Host
	if len(v.replicas) > 0 {
		add(1, func() []script.Command {
			rnd := w.plan
			r := w.pick(v.replicas)
			return []script.Command{
				script.Stop{Node: r, Mode: "fast"},
				script.Submit{Node: h, Page: rnd.Intn(w.Swarm.Opts.Pages), Slot: rnd.Intn(4), Abort: true, Count: 2 + rnd.Intn(6)},
				script.RunUntil{Cond: "wal-partial", Node: h, Budget: tornWALWait, HasBudget: true},
				script.Start{Node: r, Role: "replica"},
				script.RunUntil{Cond: "hot-standby", Node: r, Budget: tornWALWait, HasBudget: true},
			}
		})
	}
	add(1, func() []script.Command {
		rnd := w.plan
		return []script.Command{
			script.Submit{Node: h, Page: rnd.Intn(w.Swarm.Opts.Pages), Slot: rnd.Intn(4), Abort: true, Count: 1 + rnd.Intn(4)},
			script.Run{Steps: 1 + rnd.Intn(12)},
			script.Crash{Node: h},
			script.Start{Node: h, Role: "primary"},
		}
	})
}

// tornWALWait bounds the waits of test 004's steps.
const tornWALWait = 300
