package swarm

import (
	"fmt"
	"sort"

	"promotesim/scenarios/script"
	"promotesim/sim"
	"promotesim/storage"
)

// A hazard's wrong step often does its damage only in a narrow part of
// the world space: no-backend-wait only while a replica read is still in
// flight when the BGW starts its ONLINE_PROMOTE replay, which takes a slow
// disk under the promoted replica; replay-from-old-consistent only when
// the promoted node's checkpointer judges the redo it takes against a
// control file the promote failed to write. Uniformly drawn worlds meet
// those by chance, about one world in thousands, so a hunt for such a
// hazard biases the worlds it derives toward them (swarm testing's point:
// the configuration decides what a world can reach). The worlds stay
// random: the bias only forces the classes the damage needs on, draws the
// options it needs from a range of their own (replay-from-old-consistent:
// frequent lazy checkpoints, so one falls inside the promote) and, at
// some of the operator's promotes (half for the slow read, three in four
// for the control-file fault) and stops of the old primary (half), adds
// the commands that open the window; every other draw is the seed's. The
// explorer's control run still replays the same commands without the
// hazard, so what the bias makes likely without the hazard is never
// blamed on it.

// huntBias is what the worlds of one hazard's hunt favour.
type huntBias struct {
	// with: classes forced on; without: classes forced off (paths that
	// only open PolarDB's own findings, which would otherwise be caught
	// first).
	with, without Class
	// slowRead: the promote comes with the promoted replica's I/O slowed
	// and reads in flight on it (a session in the middle of a read when
	// the operator promotes, its interrupts held until the page is
	// replayed).
	slowRead bool
	// controlFault: the promote comes with an I/O error armed on the
	// promoted node's next write or sync under global/ (pg_control: the
	// promote's own control-file write, startup's FATAL).
	controlFault bool
	// checkpointBeforeStop: the operator's stop of the old primary comes
	// after a burst of writes and a CHECKPOINT on it, and is immediate
	// (huntStop): the replicas' last redo is then the CHECKPOINT's, the
	// insert position at its start, which the consistent LSN they last
	// heard of may lie below, and the burst moves the consistent LSN far
	// enough for a lazy checkpoint. Measured before the checkpoint
	// distance was drawn too: it doubled the hunt's catches (13 against
	// 6 of 6,000 v15 worlds).
	checkpointBeforeStop bool
	// checkpointDistance: the world's lazy-checkpoint distance is drawn
	// from [lo, hi] bytes of WAL (0: the default): frequent lazy
	// checkpoints, so one falls inside the promote's window.
	checkpointDistance [2]int
	// failedShutdown: half the operator's stops of the old primary come
	// as docs/findings.md F7's story opens (failedShutdownCmds).
	failedShutdown bool
	// crashAtReadWrite: after half the operator's promotes, the promoted
	// node crashes as soon as it serves read-write, before the checkpoint
	// its promote requested.
	crashAtReadWrite bool
}

// huntBiases are the hazards whose hunts are biased (by name: a map
// looked up only, never ranged over).
var huntBiases = map[string]huntBias{
	// F7's story, a hunt with no hazard: under a fixed profile with
	// -faithful promote-writes-no-twophase-files (the fix undone) it finds
	// the finding; with the fix it must find nothing.
	"prepared-below-adopted-redo": {with: ClassTwoPhase, failedShutdown: true, crashAtReadWrite: true},
	"no-backend-wait":             {with: ClassRead | ClassLatency, slowRead: true},
	"replay-from-old-consistent": {with: ClassIOError, without: ClassPendingPromote | ClassLagPromote,
		controlFault: true, checkpointBeforeStop: true,
		checkpointDistance: [2]int{0x40, 0x100}},
}

// HuntNames lists the hunts -hunt accepts, sorted: the biased hazards'
// and the stories of findings that need no hazard.
func HuntNames() []string {
	out := make([]string, 0, len(huntBiases))
	for name := range huntBiases { // determinism:ok sorted below
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// HuntClasses returns the classes a world of hazard name's hunt forces on
// (none for a hazard whose hunt is not biased).
func HuntClasses(name string) Class { return huntBiases[name].with }

// HuntMasks returns the classes a world of hazard name's hunt forces off.
func HuntMasks(name string) Class { return huntBiases[name].without }

// huntRand is the world's hunt stream (nil: the world is not biased).
func (w *World) huntRand() (huntBias, *sim.Rand) {
	b, ok := huntBiases[w.Swarm.Hunt]
	if !ok {
		return huntBias{}, nil
	}
	if w.hunt == nil {
		w.hunt = sim.NewRand(w.Swarm.Seed).Fork("hunt")
	}
	return b, w.hunt
}

// huntStop is the operator's stop of the old primary writer, in mode
// (drawn by the caller, so the plan stream keeps its draws), with what the
// bias adds to it: half the time a burst of writes and a CHECKPOINT first,
// then an immediate stop, so the last redo the replicas replay is that
// checkpoint's (the insert position at its start) while the consistent LSN
// they heard of is the one published before it.
func (w *World) huntStop(writer storage.HostID, mode string) []script.Command {
	stop := script.Stop{Node: writer, Mode: mode}
	b, rnd := w.huntRand()
	if b.failedShutdown && rnd.Intn(2) == 0 {
		return w.failedShutdownCmds(writer, rnd)
	}
	if !b.checkpointBeforeStop || rnd.Intn(2) != 0 {
		return one(stop)
	}
	burst := script.Submit{Node: writer, Page: rnd.Intn(w.Swarm.Opts.Pages), Slot: rnd.Intn(storage.PageSlots), Count: 16 + rnd.Intn(16)}
	stop.Mode = "immediate"
	return []script.Command{burst, script.Checkpoint{Node: writer}, stop}
}

// failedShutdownCmds open F7's story on the old primary: a transaction
// prepared on it and given time to prepare; two I/O errors armed on its
// writes under global/; a fast stop, whose shutdown checkpoint writes the
// state file (CheckPointTwoPhase) and its record and then fails on
// pg_control; and a start, whose crash recovery from the older checkpoint
// removes the file as a future one (restoreTwoPhaseData) and then FATALs on
// pg_control. A replica that replayed the record takes it for a
// restartpoint. The operator then waits for the restarted node to go down
// again: with fence none a promote while its crash recovery still writes
// the shared device would be a second writer the operator made. (The
// v15-fixed failures the first version of this hunt met were not that:
// the same seeds fail with the wait, as docs/findings.md F8.)
func (w *World) failedShutdownCmds(writer storage.HostID, rnd *sim.Rand) []script.Command {
	return []script.Command{
		script.Prepare{Node: writer, Page: rnd.Intn(w.Swarm.Opts.Pages), Slot: rnd.Intn(storage.PageSlots),
			GID: fmt.Sprintf("g%d", 1+rnd.Intn(twoPhaseGIDs)), Submit: true},
		script.Run{Steps: 60},
		script.Fault{Node: writer, Op: "write", Path: "global/", HasPath: true, Count: 2},
		script.Stop{Node: writer, Mode: "fast"},
		script.Start{Node: writer, Role: "primary"},
		script.RunUntil{Cond: "stopped", Node: writer, Budget: restartWait, HasBudget: true},
	}
}

// restartWait bounds failedShutdownCmds' wait for the restarted old
// primary to go down.
const restartWait = 1000

// huntAfterPromote is what the bias adds right after the operator promotes
// h (nil: nothing, and the planner's own afterPromote runs).
func (w *World) huntAfterPromote(h storage.HostID) []script.Command {
	b, rnd := w.huntRand()
	if !b.crashAtReadWrite || rnd.Intn(2) != 0 {
		return nil
	}
	return []script.Command{script.RunUntil{Cond: "read-write", Node: h, Budget: postPromoteWait, HasBudget: true},
		script.Crash{Node: h}}
}

// huntCmds are what the bias adds right before the operator promotes h,
// drawn from the world's own hunt stream (so unbiased worlds and the
// plan stream keep their draws).
func (w *World) huntCmds(h storage.HostID) []script.Command {
	b, rnd := w.huntRand()
	if rnd == nil {
		return nil
	}
	var cmds []script.Command
	if b.slowRead && rnd.Intn(2) == 0 {
		cmds = append(cmds, script.Fault{Node: h, Latency: true, Ticks: 20 + rnd.Intn(100)},
			script.SubmitRead{Node: h, Page: rnd.Intn(w.Swarm.Opts.Pages), Count: 1 + rnd.Intn(w.Swarm.Opts.Pages)})
	}
	if b.controlFault && rnd.Intn(4) != 0 {
		ops := []string{"write", "sync"}
		cmds = append(cmds, script.Fault{Node: h, Op: ops[rnd.Intn(len(ops))], Path: "global/", HasPath: true, Count: 1})
	}
	return cmds
}
