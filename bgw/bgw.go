package bgw

import (
	"errors"
	"fmt"

	"promotesim/logindex"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// QueueDepth bounds each parallel replay worker's task queue (PolarDB's task
// scheduler has a fixed number of task nodes per process). A full queue stops
// dispatching for the rest of the BGW's step.
const QueueDepth = 8

// Control is whether the BGW holds replay control, and of which kind
// (polar_logindex_bg_redo_ctl_t: created by create_logindex_bg_redo_ctl when
// the BGW finds itself in a replaying state, released by
// polar_release_bg_redo_ctl on SIGUSR2 and when online promote finishes).
// The zero value is invalid.
type Control uint8

const (
	// ControlReleased: no iterator, no tasks (NOT_START, WAITING_RESET, or
	// not yet created).
	ControlReleased Control = iota + 1
	// ControlBufReplay: REPLICA_BUF_REPLAYING's LSN iterator, no workers.
	ControlBufReplay
	// ControlDispatch: PARALLEL_REPLAYING's or ONLINE_PROMOTE's iterator and
	// task scheduler feeding the parallel replay workers.
	ControlDispatch
)

func (c Control) String() string {
	switch c {
	case ControlReleased:
		return "released"
	case ControlBufReplay:
		return "buf-replay"
	case ControlDispatch:
		return "dispatch"
	}
	return fmt.Sprintf("Control(%d)", uint8(c))
}

// task is one (page, record start LSN) pair handed to a replay worker
// (parallel_replay_task_node_t).
type task struct {
	page   storage.PageID
	lsn    storage.LSN
	worker int
	done   bool
}

// sched is the task scheduler the BGW shares with its workers
// (polar_task_sched_t): per-worker queues and the running queue.
//
// Invariants: running holds every dispatched task not yet retired, in
// dispatch order, which is ascending LSN order; every task in a worker's
// queue is in running and not done; a task of page p is only ever in queue
// workerFor(p).
type sched struct {
	queues  [][]*task
	running []*task
	// from is where workers replay each page from: PromoteStart in
	// ONLINE_PROMOTE, the replay point at creation in PARALLEL_REPLAYING.
	from storage.LSN
}

// Worker is the LogIndex background worker of one node (actor n<h>/bgw),
// polar_logindex_bg_worker_main. Its state is n.BGW.State() (shared memory:
// startup moves it too); the actor keeps only its replay control.
type Worker struct {
	n    *shmem.Node
	name string

	ctl    Control
	mode   shmem.BGWState // the state the control was created in
	resets int            // n.BGW.Resets() when the control was created
	it     logindex.Iterator
	// held is the next entry read from the iterator but not yet processed
	// (its start is the replay point when nothing before it is in flight).
	held    logindex.Entry
	hasHeld bool
	// drained: the last iterator read found nothing more, when LogIndex's
	// last added LSN was drainedLast (a different one means new entries).
	drained     bool
	drainedLast storage.LSN

	s          sched
	workers    []*ReplayWorker
	dispatched int // tasks dispatched by the current control
	// promoting is polar_logindex_bg_worker_main's local
	// polar_online_promoting: set when SIGUSR2 is handled, cleared when
	// online promote finishes (polar_logindex_bg_promoted). While set, a
	// SIGUSR2 is ignored (Fidelity.UncheckedBGWState).
	promoting bool
}

// New returns the BGW of node n with its K = polar_parallel_replay_proc_num
// replay workers (not yet spawned: postmaster spawns the BGW and
// ReplayWorkers and records their ids).
func New(n *shmem.Node) *Worker {
	k := n.Cfg.LogIndex.ParallelReplayProcNum
	sim.Assertf(k >= 1, "bgw: %d parallel replay workers", k)
	w := &Worker{n: n, name: n.Proc("bgw"), ctl: ControlReleased}
	w.s.queues = make([][]*task, k)
	for i := range k {
		w.workers = append(w.workers, &ReplayWorker{bgw: w, idx: i, name: n.Proc(fmt.Sprintf("replay%d", i))})
	}
	return w
}

// ReplayWorkers returns the parallel replay workers (actors n<h>/replay<i>).
func (w *Worker) ReplayWorkers() []*ReplayWorker { return w.workers }

// Control returns the BGW's replay control.
func (w *Worker) Control() Control { return w.ctl }

// Inflight is the number of dispatched tasks not yet retired.
func (w *Worker) Inflight() int { return len(w.s.running) }

// Name is "n<h>/bgw".
func (w *Worker) Name() string { return w.name }

// workerFor is the worker every task of page goes to: one page, one worker,
// so a page's records are replayed in LSN order.
func workerFor(page storage.PageID, k int) int {
	h := uint64(14695981039346656037)
	for _, v := range [2]uint32{uint32(page.Rel), uint32(page.Block)} {
		for range 4 {
			h ^= uint64(v & 0xff)
			h *= 1099511628211
			v >>= 8
		}
	}
	return int(h % uint64(k))
}

// stale reports whether the control does not fit state st: never created,
// created for another state, or the replay point was reset under it.
func (w *Worker) stale(st shmem.BGWState) bool {
	if w.ctl == ControlDispatch && w.standbyPromoted(st) && w.resets == w.n.BGW.Resets() {
		return false
	}
	return w.ctl == ControlReleased || w.mode != st || w.resets != w.n.BGW.Resets()
}

// standbyPromoted: a standby's promote wrote ONLINE_PROMOTE over the
// PARALLEL_REPLAYING the dispatch control was made for. The control stays:
// create_logindex_bg_redo_ctl (polar_logindex_bg_worker.c) builds the same
// parallel control for both states, and nothing resets the replay point.
func (w *Worker) standbyPromoted(st shmem.BGWState) bool {
	return w.mode == shmem.BGParallelReplaying && st == shmem.BGOnlinePromote
}

// bound is the LSN below which entries are replayed in dispatch state st.
func (w *Worker) bound(st shmem.BGWState) storage.LSN {
	if st == shmem.BGOnlinePromote {
		return w.n.BGW.PromoteEnd
	}
	return w.n.ReplayLSN
}

// exhausted: nothing below bound is left to read.
func (w *Worker) exhausted(bound storage.LSN) bool {
	if w.hasHeld {
		return w.held.LSN >= bound
	}
	return w.drained
}

// WakeOn implements sim.Sleeper: Ready reads the node's shared memory
// (the replay workers' queues and tasks included: their steps write the
// node's memory too); its steps write that and the dispatch queues
// (dispatch, release), which its replay workers read: a condition named
// by the BGW's process name, "n2/bgw".
func (w *Worker) WakeOn(wk *sim.Wakes) {
	wk.Reads(w.n.Name())
	wk.Writes(w.n.Name(), w.name)
}

// Ready reports whether the BGW has a step to take. It reads shared memory
// only.
func (w *Worker) Ready() bool {
	n := w.n
	switch st := n.BGW.State(); st {
	case shmem.BGReplicaBufReplaying:
		if w.promoting && n.Cfg.Fidelity.UncheckedBGWState {
			// polar_logindex_bg_worker_main released its control on SIGUSR2
			// and recreates one only for a parallel state: a state written
			// back to REPLICA_BUF_REPLAYING is never replayed in.
			return false
		}
		rp := n.BGW.ReplayPoint()
		if rp >= n.ReplayLSN || n.Index == nil || !n.Index.Enabled() {
			return false
		}
		// Entries to replay, or only non-page records left: either way a
		// round moves the replay point on, to the end of replayed WAL when
		// nothing below it is left (docs/model.md §6).
		return true
	case shmem.BGParallelReplaying, shmem.BGOnlinePromote:
		if w.stale(st) {
			return true
		}
		bound := w.bound(st)
		if len(w.s.running) > 0 && w.s.running[0].done {
			return true // the head finished: retire it, advance
		}
		if w.hasHeld {
			if w.held.LSN < bound && len(w.s.queues[workerFor(w.held.Page, len(w.workers))]) < QueueDepth {
				return true
			}
		} else if w.drained && n.Index != nil && n.Index.LastLSN() != w.drainedLast {
			return true // new entries to read
		}
		if len(w.s.running) == 0 && w.exhausted(bound) {
			if n.BGW.ReplayPoint() < bound {
				return true // forward the replay point to the bound
			}
			return st == shmem.BGOnlinePromote && n.BGW.BackendReplaying == 0
		}
	}
	return false
}

// Step runs one round of background replay for the current state
// (polar_logindex_redo_bg_replay).
func (w *Worker) Step(c *sim.Ctx) {
	st := w.n.BGW.State()
	switch st {
	case shmem.BGReplicaBufReplaying:
		if w.stale(st) {
			w.create(c, st, ControlBufReplay)
		}
		w.replayBuffers(c)
	case shmem.BGParallelReplaying, shmem.BGOnlinePromote:
		if w.stale(st) {
			w.create(c, st, ControlDispatch)
		} else if w.standbyPromoted(st) {
			w.mode = st
			c.Mark("bgw/standby-online-promote")
			c.Story("standby-online-promote", sim.LSNField("replay", uint64(w.n.BGW.ReplayPoint())),
				sim.LSNField("fake-oldest", uint64(w.n.BGW.FakeOldest())), sim.LSNField("end", uint64(w.n.BGW.PromoteEnd)),
				sim.Int("inflight", int64(len(w.s.running))))
		}
		w.dispatch(c, st)
	default:
		c.Detail("idle", sim.Str("state", st.String()))
	}
}

// Receive handles signals: SIGUSR2 is online promote, SIGTERM/SIGINT/SIGQUIT
// end the process.
func (w *Worker) Receive(c *sim.Ctx, m sim.Msg) {
	switch m := m.(type) {
	case shmem.Signal:
		switch m {
		case shmem.SIGUSR2:
			w.onlinePromote(c)
		case shmem.SIGTERM, shmem.SIGINT, shmem.SIGQUIT:
			w.release(c, m.String())
			exit(c, w.n, w.name, shmem.ExitKilled, fmt.Errorf("bgw: %v", m))
		default:
			c.Detail("ignore-signal", sim.Str("sig", m.String()))
		}
	case shmem.Wake:
		c.Detail("wake", sim.Str("why", m.Why))
	default:
		sim.Failf("bgw: %s got unexpected %v", w.name, m)
	}
}

// onlinePromote is SIGUSR2 (online_promote_trigger, then
// bgworker_handle_online_promote in the main loop): make LogIndex writable,
// release replay control, enter WAITING_RESET. A second SIGUSR2 while the
// promote is under way is ignored, as the polar_online_promoting flag does.
//
// Under Fidelity.UncheckedBGWState it is PolarDB 15's code: the signal is
// ignored only while polar_online_promoting is set, whatever the state, and
// WAITING_RESET is written over whatever state the BGW is in
// (bgworker_handle_online_promote, polar_logindex_bg_worker.c).
func (w *Worker) onlinePromote(c *sim.Ctx) {
	n := w.n
	st := n.BGW.State()
	if w.ignorePromoteSignal(st) {
		c.Log("ignore-promote-signal", sim.Str("state", st.String()), sim.LSNField("replay", uint64(n.BGW.ReplayPoint())))
		return
	}
	w.promoting = true
	if n.Index != nil && n.Index.Enabled() {
		if err := n.Index.SetWritable(); err != nil {
			w.release(c, "error")
			exit(c, n, w.name, shmem.ExitPANIC, fmt.Errorf("bgw: make LogIndex writable: %w", err))
			return
		}
	}
	w.release(c, "online-promote")
	n.BGW.EnterWaitingReset()
	c.Story("enter-waiting-reset", sim.Str("from", st.String()), sim.LSNField("replay", uint64(n.BGW.ReplayPoint())),
		sim.LSNField("fake-oldest", uint64(n.BGW.FakeOldest())), sim.LSNField("replay-lsn", uint64(n.ReplayLSN)))
}

// ignorePromoteSignal: PolarDB's polar_online_promoting flag, or the
// model's stricter state check (only a non-promoting state takes SIGUSR2).
func (w *Worker) ignorePromoteSignal(st shmem.BGWState) bool {
	if w.n.Cfg.Fidelity.UncheckedBGWState {
		return w.promoting
	}
	switch st {
	case shmem.BGRedoNotStart, shmem.BGReplicaBufReplaying, shmem.BGParallelReplaying:
		return false
	}
	return true
}

// create takes replay control for state st (create_logindex_bg_redo_ctl),
// iterating LogIndex from the replay point.
func (w *Worker) create(c *sim.Ctx, st shmem.BGWState, kind Control) {
	n := w.n
	if w.ctl != ControlReleased {
		w.release(c, "stale")
	}
	w.ctl, w.mode, w.resets = kind, st, n.BGW.Resets()
	rp := n.BGW.ReplayPoint()
	w.it = n.Index.Iterate(rp)
	w.hasHeld, w.drained, w.dispatched = false, false, 0
	w.s.from = rp
	if st == shmem.BGOnlinePromote {
		w.s.from = n.BGW.PromoteStart
		c.Story("start-online-promote", sim.LSNField("replay", uint64(rp)), sim.LSNField("fake-oldest", uint64(n.BGW.FakeOldest())),
			sim.LSNField("start", uint64(n.BGW.PromoteStart)), sim.LSNField("end", uint64(n.BGW.PromoteEnd)),
			sim.Int("workers", int64(len(w.workers))))
		return
	}
	c.Log("create-redo-ctl", sim.Str("state", st.String()), sim.Str("ctl", kind.String()), sim.LSNField("replay", uint64(rp)))
}

// release drops replay control (polar_release_bg_redo_ctl): the iterator and
// every queued task. Workers take a task in one atomic step, so nothing is
// half replayed; dropped tasks are at or above the replay point, so the next
// control replays them again.
func (w *Worker) release(c *sim.Ctx, why string) {
	if w.ctl == ControlReleased {
		return
	}
	dropped := len(w.s.running)
	for i := range w.s.queues {
		clear(w.s.queues[i])
		w.s.queues[i] = w.s.queues[i][:0]
	}
	clear(w.s.running)
	w.s.running = w.s.running[:0]
	c.Log("release-redo-ctl", sim.Str("ctl", w.ctl.String()), sim.Str("why", why), sim.Int("dropped", int64(dropped)),
		sim.LSNField("replay", uint64(w.n.BGW.ReplayPoint())))
	w.ctl = ControlReleased
	w.hasHeld, w.drained = false, false
}

// errStop marks a step that ended the process.
var errStop = errors.New("bgw: process exited")

// peek returns the next unprocessed entry without consuming it.
func (w *Worker) peek(c *sim.Ctx) (logindex.Entry, bool, error) {
	if w.hasHeld {
		return w.held, true, nil
	}
	for range 2 {
		e, ok, err := w.it.Next()
		switch {
		case errors.Is(err, logindex.ErrTruncated):
			// The entries below the truncation point are gone: everything
			// they describe is on storage (the primary truncates only below
			// its consistent LSN). Skip to the point.
			to := w.n.Index.TruncatedBelow()
			c.Mark("bgw/iterator-truncated")
			c.Log("iterator-truncated", sim.LSNField("at", uint64(w.it.Position())), sim.LSNField("to", uint64(to)))
			w.it = w.n.Index.Iterate(to)
			continue
		case errors.Is(err, logindex.ErrDisabled):
			w.drained, w.drainedLast = true, w.n.Index.LastLSN()
			return e, false, nil
		case err != nil:
			w.release(c, "error")
			exit(c, w.n, w.name, shmem.ExitPANIC, fmt.Errorf("bgw: read LogIndex: %w", err))
			return e, false, errStop
		}
		if !ok {
			w.drained, w.drainedLast = true, w.n.Index.LastLSN()
			return e, false, nil
		}
		w.drained = false
		w.held, w.hasHeld = e, true
		return e, true, nil
	}
	return logindex.Entry{}, false, nil
}

// replayBuffers is one REPLICA_BUF_REPLAYING round
// (polar_logindex_apply_xlog_background with polar_xlog_need_replay): up to
// polar_bg_replay_batch_size entries below n.ReplayLSN, replaying only pages
// already in the pool, never dirtying them; evicting instead when storage
// already has the change (polar_replica_evict_buffer).
func (w *Worker) replayBuffers(c *sim.Ctx) {
	n := w.n
	bound := n.ReplayLSN
	batch := n.Cfg.LogIndex.BgReplayBatchSize
	processed, replayed, evicted, skipped := 0, 0, 0, 0
	for processed < batch {
		e, ok, err := w.peek(c)
		if err != nil {
			return
		}
		if !ok || e.LSN >= bound {
			break
		}
		w.hasHeld = false
		processed++
		id, pooled := n.Pool.Lookup(e.Page)
		if !pooled || n.Pool.Pins(id) > 0 {
			skipped++ // a replica replays only pages it caches; a pinned one its user replays
			continue
		}
		b := n.Pool.Get(id)
		if e.LSN < n.PrimaryConsistent && !b.Dirty {
			// Storage already has this change: dropping the buffer is cheaper
			// than replaying, and the next read rebuilds it.
			n.Pool.Evict(id)
			evicted++
			c.Mark("bgw/evict-instead-of-replay")
			c.Detail("evict", sim.Str("page", e.Page.String()), sim.LSNField("lsn", uint64(e.LSN)),
				sim.LSNField("consistent", uint64(n.PrimaryConsistent)))
			continue
		}
		if _, err := n.ReplayPage(id, e.LSN, e.LSN+1); err != nil {
			w.release(c, "error")
			exit(c, n, w.name, shmem.ExitPANIC, fmt.Errorf("bgw: replay %v at %v: %w", e.Page, e.LSN, err))
			return
		}
		replayed++
		c.Detail("replay", sim.Str("page", e.Page.String()), sim.LSNField("lsn", uint64(e.LSN)),
			sim.LSNField("page-lsn", uint64(b.Page.LSN)))
	}
	if processed == batch {
		if _, _, err := w.peek(c); err != nil {
			return
		}
	}
	point := bound
	if w.hasHeld && w.held.LSN < bound {
		point = w.held.LSN
	}
	if rp := n.BGW.ReplayPoint(); point > rp {
		n.BGW.Advance(point)
	}
	c.Log("replica-replay", sim.Int("entries", int64(processed)), sim.Int("replayed", int64(replayed)),
		sim.Int("evicted", int64(evicted)), sim.Int("skipped", int64(skipped)),
		sim.LSNField("replay", uint64(n.BGW.ReplayPoint())), sim.LSNField("replay-lsn", uint64(bound)))
}

// dispatch is one PARALLEL_REPLAYING or ONLINE_PROMOTE round
// (polar_logindex_bg_dispatch, and polar_logindex_bg_online_promote's finish
// check): retire finished tasks at the head of the running queue, dispatch
// up to polar_bg_replay_batch_size new ones, advance the replay point to the
// oldest unfinished task (or the bound once everything below it is done),
// raise the fake oldest LSN, and in ONLINE_PROMOTE finish when nothing is
// left and no backend is replaying.
func (w *Worker) dispatch(c *sim.Ctx, st shmem.BGWState) {
	n := w.n
	bound := w.bound(st)
	retired := w.retireFinished()
	dispatched, full, ok := w.dispatchBatch(c, bound)
	if !ok {
		return
	}
	if full {
		c.Mark("bgw/dispatch-queue-full")
	}
	if dispatched > 0 && st == shmem.BGOnlinePromote {
		c.Mark("bgw/online-promote-dispatch")
	}
	if dispatched > 0 && st == shmem.BGParallelReplaying {
		c.Mark("bgw/parallel-replaying") // a standby's parallel replay
	}
	rp := n.BGW.ReplayPoint()
	if !w.advance(c, bound) {
		return
	}
	if dispatched > 0 || retired > 0 || n.BGW.ReplayPoint() != rp {
		c.Log("dispatch", sim.Str("state", st.String()), sim.Int("tasks", int64(dispatched)), sim.Int("retired", int64(retired)),
			sim.Int("inflight", int64(len(w.s.running))), sim.Bool("queue-full", full),
			sim.LSNField("replay", uint64(n.BGW.ReplayPoint())), sim.LSNField("fake-oldest", uint64(n.BGW.FakeOldest())),
			sim.LSNField("bound", uint64(bound)))
	}
	if st != shmem.BGOnlinePromote || len(w.s.running) > 0 || !w.exhausted(bound) {
		return
	}
	if n.BGW.BackendReplaying > 0 {
		c.Detail("wait-backends", sim.Int("replaying", int64(n.BGW.BackendReplaying)))
		return
	}
	w.finishPromote(c)
}

// retireFinished drops the finished tasks at the head of the running queue
// (polar_logindex_bg_dispatch's first loop) and returns how many.
func (w *Worker) retireFinished() int {
	retired := 0
	for retired < len(w.s.running) && w.s.running[retired].done {
		retired++
	}
	if retired > 0 {
		k := copy(w.s.running, w.s.running[retired:])
		clear(w.s.running[k:])
		w.s.running = w.s.running[:k]
	}
	return retired
}

// dispatchBatch hands up to polar_bg_replay_batch_size entries below bound
// to their workers, stopping at a full queue. ok is false when the process
// exited reading LogIndex.
func (w *Worker) dispatchBatch(c *sim.Ctx, bound storage.LSN) (dispatched int, full, ok bool) {
	batch := w.n.Cfg.LogIndex.BgReplayBatchSize
	k := len(w.workers)
	for dispatched < batch {
		e, more, err := w.peek(c)
		if err != nil {
			return dispatched, full, false
		}
		if !more || e.LSN >= bound {
			break
		}
		wi := workerFor(e.Page, k)
		if len(w.s.queues[wi]) >= QueueDepth {
			full = true
			break
		}
		w.hasHeld = false
		t := &task{page: e.Page, lsn: e.LSN, worker: wi}
		w.s.queues[wi] = append(w.s.queues[wi], t)
		w.s.running = append(w.s.running, t)
		dispatched++
		w.dispatched++
		c.Detail("dispatch-task", sim.Str("page", e.Page.String()), sim.LSNField("lsn", uint64(e.LSN)), sim.Int("worker", int64(wi)))
	}
	if dispatched == batch {
		if _, _, err := w.peek(c); err != nil {
			return dispatched, full, false
		}
	}
	return dispatched, full, true
}

// advance moves the replay point to the oldest unfinished task (or the
// bound once everything below it is done) and raises the fake oldest LSN,
// capped by the backends' published starts. It returns false when the
// process exited on PolarDB's assertion.
func (w *Worker) advance(c *sim.Ctx, bound storage.LSN) bool {
	n := w.n
	rp := n.BGW.ReplayPoint()
	point := rp
	switch {
	case len(w.s.running) > 0:
		point = w.s.running[0].lsn
	case w.exhausted(bound):
		point = bound
	case w.hasHeld:
		point = w.held.LSN
	}
	if point > rp {
		n.BGW.Advance(point)
	}
	fake := n.BGW.ReplayPoint()
	if m := n.BGW.BackendMinReplayLSN(); m.Valid() && m < fake {
		fake = m // a backend still replays from below the point
	}
	if fake < n.BGW.FakeOldest() {
		// polar_logindex_bg_dispatch: POLAR_ASSERT_PANIC(replayed_oldest_lsn
		// <= the new value). Buffers already carry the old value as their
		// oldest LSN; a lower one would break the flush-list order. Only a
		// backend that published an older LSN before the reset can get here:
		// a replica read promote did not wait for, which published its
		// restartpoint's redo. (PolarDB 11 has no such check: it sets
		// promote_oldest_lsn to the backends' minimum, down if need be.)
		w.release(c, "error")
		exit(c, n, w.name, shmem.ExitPANIC, fmt.Errorf("bgw: polar assertion failed: replayed oldest LSN %v would move back to %v (a backend replays from %v)",
			n.BGW.FakeOldest(), fake, n.BGW.BackendMinReplayLSN()))
		return false
	}
	n.BGW.RaiseFakeOldest(fake)
	return true
}

// finishPromote: everything up to the old primary's end of WAL is replayed
// and no backend replays a page: back to NOT_START with a checkpoint
// requested (polar_logindex_bg_online_promote), control released.
func (w *Worker) finishPromote(c *sim.Ctx) {
	n := w.n
	sim.Assertf(n.BGW.State() == shmem.BGOnlinePromote, "bgw: finish promote in %v", n.BGW.State())
	sim.Assertf(len(w.s.running) == 0, "bgw: finish promote with %d tasks in flight", len(w.s.running))
	sim.Assertf(n.BGW.ReplayPoint() >= n.BGW.PromoteEnd, "bgw: finish promote at %v below end %v", n.BGW.ReplayPoint(), n.BGW.PromoteEnd)
	tasks := w.dispatched
	w.release(c, "promote-finished")
	n.BGW.FinishPromote()
	w.promoting = false
	c.Mark("bgw/promote-finished")
	c.Story("promote-finished", sim.LSNField("replay", uint64(n.BGW.ReplayPoint())), sim.LSNField("fake-oldest", uint64(n.BGW.FakeOldest())),
		sim.LSNField("start", uint64(n.BGW.PromoteStart)), sim.LSNField("end", uint64(n.BGW.PromoteEnd)),
		sim.Int("tasks", int64(tasks)), sim.Bool("checkpoint-requested", n.BGW.CheckpointRequested))
}

// ReplayWorker is one parallel replay worker (actor n<h>/replay<i>), a
// process of PolarDB's task scheduler pool: it replays the tasks the BGW
// queued for it, oldest first, one per step.
type ReplayWorker struct {
	bgw  *Worker
	idx  int
	name string
}

// Name is "n<h>/replay<i>".
func (r *ReplayWorker) Name() string { return r.name }

// WakeOn implements sim.Sleeper: Ready reads only the worker's dispatch
// queue, which the BGW's steps and its own change; its steps also write
// the node's shared memory (buffers, the task it finishes).
func (r *ReplayWorker) WakeOn(w *sim.Wakes) {
	w.Reads(r.bgw.name)
	w.Writes(r.bgw.n.Name(), r.bgw.name)
}

// Ready reports whether a task is queued for this worker.
func (r *ReplayWorker) Ready() bool { return len(r.bgw.s.queues[r.idx]) > 0 }

// Step replays the oldest queued task (polar_logindex_redo_parallel_apply's
// role): load the page (reading storage if needed), replay every record of
// it from the scheduler's start through this one, mark it dirty with the
// current oldest LSN (the fake oldest LSN during promote) unless it already
// is, and mark the task finished.
func (r *ReplayWorker) Step(c *sim.Ctx) {
	w := r.bgw
	n := w.n
	q := w.s.queues[r.idx]
	t := q[0]
	if n.BufferBusy(t.page) {
		// A backend is reading the page in and replaying it: the task is
		// not handled now and is retried (handle_parallel_replay_task,
		// BUF_IS_REPLAYING).
		c.Log("buffer-io-wait", sim.Str("page", t.page.String()), sim.LSNField("lsn", uint64(t.lsn)))
		return
	}
	if r.skipFlushed(c, t) {
		return
	}
	id, loaded, err := n.Buffer(c, t.page)
	if errors.Is(err, shmem.ErrBuffersBusy) {
		c.Mark("bgw/worker-buffers-busy")
		c.Log("buffers-busy", sim.Str("page", t.page.String()), sim.LSNField("lsn", uint64(t.lsn)))
		return // stay Ready: the bgwriter or a backend frees a buffer
	}
	if err != nil {
		exit(c, n, r.name, shmem.ExitFATAL, fmt.Errorf("bgw: read page %v: %w", t.page, err))
		return
	}
	from := w.s.from
	if n.Cfg.Fidelity.PromoteReplayFromConsistent && w.mode == shmem.BGOnlinePromote {
		// polar_bg_redo_apply_read_record applies the task's own record:
		// the page's earlier records were earlier tasks of this worker, or
		// skipped as flushed (skipFlushed).
		from = t.lsn
	}
	inits := n.InitReplays
	applied, err := n.ReplayPage(id, from, t.lsn+1)
	if err != nil {
		exit(c, n, r.name, shmem.ExitPANIC, fmt.Errorf("bgw: replay %v at %v: %w", t.page, t.lsn, err))
		return
	}
	if n.InitReplays > inits {
		// A reused page's old life ends at its init record: replay
		// zeroed it (XLogReadBufferForRedoExtended, BKPBLOCK_WILL_INIT).
		c.Mark("bgw/replay-init-record")
	}
	b := n.Pool.Get(id)
	dirtied := !b.Dirty
	if dirtied {
		if err := n.Pool.MarkDirty(id, n.OldestLSN()); err != nil {
			exit(c, n, r.name, shmem.ExitPANIC, fmt.Errorf("bgw: mark %v dirty: %w", t.page, err))
			return
		}
	}
	r.retire(t)
	c.Log("replay-task", sim.Str("page", t.page.String()), sim.LSNField("lsn", uint64(t.lsn)), sim.LSNField("from", uint64(w.s.from)),
		sim.Int("applied", int64(applied)), sim.Bool("loaded", loaded), sim.Bool("dirtied", dirtied),
		sim.LSNField("oldest", uint64(b.OldestLSN)), sim.LSNField("page-lsn", uint64(b.Page.LSN)))
}

// retire marks the worker's oldest task, t, finished and dequeues it
// (parallel_replay_task_finished).
func (r *ReplayWorker) retire(t *task) {
	q := r.bgw.s.queues[r.idx]
	t.done = true
	k := copy(q, q[1:])
	q[k] = nil
	r.bgw.s.queues[r.idx] = q[:k]
}

// skipFlushed is polar_xlog_need_replay's BUF_IS_FLUSHED
// (polar_logindex_redo.c) under Fidelity.PromoteReplayFromConsistent: in
// ONLINE_PROMOTE, a task whose page is not in the pool and whose record is
// below the old primary's consistent LSN is taken as already on storage and
// finished without reading the page. It reports whether it did so.
func (r *ReplayWorker) skipFlushed(c *sim.Ctx, t *task) bool {
	w := r.bgw
	n := w.n
	if !n.Cfg.Fidelity.PromoteReplayFromConsistent || w.mode != shmem.BGOnlinePromote {
		return false
	}
	if _, pooled := n.Pool.Lookup(t.page); pooled || t.lsn >= n.PrimaryConsistent {
		return false
	}
	r.retire(t)
	c.Story("skip-flushed", sim.Str("page", t.page.String()), sim.LSNField("lsn", uint64(t.lsn)),
		sim.LSNField("consistent", uint64(n.PrimaryConsistent)))
	return true
}

// Receive: SIGTERM/SIGINT/SIGQUIT end the worker; anything else is ignored.
func (r *ReplayWorker) Receive(c *sim.Ctx, m sim.Msg) {
	switch m := m.(type) {
	case shmem.Signal:
		switch m {
		case shmem.SIGTERM, shmem.SIGINT, shmem.SIGQUIT:
			exit(c, r.bgw.n, r.name, shmem.ExitKilled, fmt.Errorf("bgw: %v", m))
		default:
			c.Detail("ignore-signal", sim.Str("sig", m.String()))
		}
	case shmem.Wake:
		c.Detail("wake", sim.Str("why", m.Why))
	default:
		sim.Failf("bgw: %s got unexpected %v", r.name, m)
	}
}

// exit ends the running process: record it, tell postmaster (SIGCHLD), stop.
func exit(c *sim.Ctx, n *shmem.Node, name string, kind shmem.ExitKind, err error) {
	e := shmem.ChildExit{ID: c.Self(), Name: name, Kind: kind}
	if err != nil {
		e.Err = err.Error()
	}
	c.Story("exit", sim.Str("kind", kind.String()), sim.Str("err", e.Err))
	n.Exit(c, e)
}
