// Package bgw models the LogIndex background worker (BGW) of a PolarDB node
// and its parallel replay workers: on a replica it replays, in the
// background, the pages the node already caches; during online promote it
// replays every page the old primary changed after the reset point, marking
// them dirty with the fake oldest LSN so the new primary's flush list and
// consistent LSN stay sound while the node already serves read-write.
//
// # Processes
//
// Worker (actor n<h>/bgw, polar_logindex_bg_worker_main) and K =
// polar_parallel_replay_proc_num ReplayWorkers (actors n<h>/replay<i>, the
// task scheduler's process pool). Postmaster spawns them; the BGW state lives
// in shared memory (shmem.BGW), because startup moves it too.
//
// # States
//
// Exact PolarDB 15 names (V11 calls REPLICA_BUF_REPLAYING RO_BUF_REPLAYING):
//
//	                   startup, at hot standby
//	POLAR_BG_REDO_NOT_START ---------------------> POLAR_BG_REPLICA_BUF_REPLAYING
//	   |     ^     |                                     |  replay pooled pages only,
//	   |     |     | prewarm / standby                   |  never dirty them; evict
//	   |     |     v                                     |  what storage already has
//	   |     |   POLAR_BG_PARALLEL_REPLAYING             |
//	   |     |     |  dispatch tasks below n.ReplayLSN   |
//	   |     |     | SIGUSR2                             | SIGUSR2
//	   |     |     v                                     |
//	   +-----|-> POLAR_BG_WAITING_RESET <----------------+
//	SIGUSR2  |     |  LogIndex made writable, replay control released;
//	(promote |     |  startup: n.BGW.Reset(start, end): replay point =
//	 before  |     v  fake oldest = start
//	 hot     +-- POLAR_BG_ONLINE_PROMOTE
//	 standby)      dispatch every (page, LSN) with start < end to worker
//	               hash(page) % K; replay point = oldest unfinished task;
//	               fake oldest = min(point, backends' published starts);
//	               back to NOT_START when all is dispatched and finished and
//	               no backend replays a page: checkpoint requested
//
// SIGUSR2 in WAITING_RESET or ONLINE_PROMOTE (a hazard reset the BGW early) is
// logged and ignored, like PolarDB's polar_online_promoting flag.
// SIGTERM, SIGINT and SIGQUIT end the BGW and the workers (ExitKilled).
//
// # Replay control
//
// The actor holds Control: Released, BufReplay (a resumable LogIndex LSN
// iterator) or Dispatch (iterator plus task scheduler: per-worker queues of
// QueueDepth tasks and the running queue in LSN order). It is created when
// the BGW finds itself in a replaying state, recreated when the state or the
// reset count changes under it, and released on SIGUSR2 and when promote
// finishes. Releasing drops queued tasks: they are at or above the replay
// point, so the next control replays them again (replay is idempotent).
//
// # Invariants owned
//
//   - Replay point (bg_replayed_lsn) only moves forward here (shmem asserts
//     it); only startup's Reset moves it back. Everything this BGW is
//     responsible for below it is replayed: it is the start of the oldest
//     unfinished task, or the bound (n.ReplayLSN, PromoteEnd) once nothing
//     below the bound is left.
//   - Fake oldest LSN never decreases; every buffer a worker dirties takes it
//     (shmem.Node.OldestLSN), so the flush list stays ordered (an
//     out-of-order append is the flush-list PANIC of issue #487: the worker
//     exits PANIC).
//   - Per-page order: every task of a page goes to worker hash(page) % K, and a
//     worker takes its tasks oldest first.
//   - A replica never dirties a buffer and never writes storage:
//     REPLICA_BUF_REPLAYING replays into clean buffers or evicts them.
//   - ONLINE_PROMOTE ends only with nothing in flight, the iterator past
//     PromoteEnd and n.BGW.BackendReplaying == 0.
//
// Backends that touch a page during ONLINE_PROMOTE replay it themselves and
// publish their start with shmem.BGW.BeginBackendReplay / EndBackendReplay
// (PolarDB's POLAR_SET_BACKEND_READ_MIN_LSN, read back as
// polar_get_backend_min_replay_lsn); the BGW caps the fake oldest LSN at the
// smallest published start and does not finish while one is replaying.
//
// # PolarDB sources mirrored (POLARDB_15_STABLE)
//
//   - src/backend/postmaster/polar_logindex_bg_worker.c (path as in the V15
//     tree): polar_logindex_bg_worker_main (the loop), online_promote_trigger
//     (SIGUSR2), bgworker_handle_online_promote (LogIndex writable via
//     polar_logindex_redo_online_promote, then POLAR_BG_WAITING_RESET),
//     create_logindex_bg_redo_ctl / polar_release_bg_redo_ctl.
//   - src/backend/access/logindex/polar_logindex_redo.c:
//     polar_logindex_redo_bg_replay (dispatch on state),
//     polar_logindex_apply_xlog_background (replica buffer replay, batch of
//     polar_bg_replay_batch_size), polar_xlog_need_replay and
//     polar_replica_evict_buffer (evict when lsn < primary consistent LSN),
//     polar_logindex_bg_dispatch (tasks, running queue, bg_replayed_lsn
//     forwarded when nothing runs, replayed_oldest_lsn = min(bg_replayed_lsn,
//     backend min replay LSN)), parallel_replay_task_finished (advance at
//     the running queue's head), polar_logindex_bg_online_promote (finish,
//     RequestCheckpoint), polar_reset_bg_replayed_lsn (startup's reset,
//     shmem.BGW.Reset), polar_promote_mark_buf_dirty (dirty with the fake
//     oldest LSN), polar_logindex_require_backend_redo (backend replay start).
//   - The task scheduler polar_task_sched (per-process queues, running
//     queue, polar_sched_empty_running_task).
//
// The model simplifies: a task is replayed in one atomic step (PolarDB holds
// the buffer's content lock and redo state bits instead), the buffer's
// Outdated flag is left to readers (replay is idempotent), and a worker marks
// the page dirty whenever it replayed a task on a clean buffer (PolarDB
// compares the page LSN with the last replayed record).
//
// Under shmem.Fidelity.UncheckedBGWState the BGW ignores SIGUSR2 by its
// polar_online_promoting flag (polar_logindex_bg_worker_main) rather than by
// state, and does not replay in a state written back to
// REPLICA_BUF_REPLAYING after it; under PromoteReplayFromConsistent its
// workers skip unpooled pages' records below the old primary's consistent
// LSN (polar_xlog_need_replay's BUF_IS_FLUSHED) and apply only each task's
// own record.
//
// Coverage marks: bgw/evict-instead-of-replay, bgw/online-promote-dispatch,
// bgw/parallel-replaying (tasks dispatched on a standby),
// bgw/standby-online-promote (a standby's promote kept the dispatch control),
// bgw/worker-buffers-busy, bgw/promote-finished, bgw/dispatch-queue-full,
// bgw/iterator-truncated.
package bgw
