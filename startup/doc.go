// Package startup models the startup process of a node: a LogIndex
// replica's streaming recovery and its part of online promote, a primary's
// crash recovery, and a standby's recovery on its own storage.
//
// # Role in online promote
//
// On a replica, startup is the only process that consumes WAL. It reads the
// shared control file, then the WAL from the redo pointer to the end of
// valid WAL (catch-up), then the WAL meta queue the walreceiver fills. Page
// records are indexed in LogIndex (the BGW and backends replay pages from
// it) and mark a pooled copy of the page outdated; commit and abort records
// are replayed into the local clog cache; checkpoint records are remembered
// as the restartpoint. n.ReplayLSN is the end of the last record consumed.
//
// On SIGUSR2 (sent by postmaster after it remounted shared storage
// read-write) startup runs the promote sequence of docs/model.md §7, one critical
// section per step:
//
//	P1 final-replay     read the rest of the old primary's WAL from storage
//	                    (Orderings.FinalReplay), index / replay it; E = end
//	P2 restartpoint     the last checkpoint seen becomes the local restartpoint
//	P3 wait-reset       wait for the BGW in POLAR_BG_WAITING_RESET
//	                    (Orderings.WaitReset)
//	P4 end-of-wal       re-read at E: a valid record there PANICs (the old
//	                    primary still writes); same timeline; n.WAL from E
//	P5 promote-data     RecoverPreparedTransactions (twophase.go), clog cache
//	                    to shared storage (Orderings.CopyClog),
//	                    slots reloaded (Orderings.ReloadSlots), queue reset and
//	                    released, LogIndex promoted info at E
//	P6 end-of-recovery  end-of-recovery record at E, flushed
//	P7 control          V15 (Orderings.ResetBeforeRecoveryDone), one step:
//	                    in production, primary, BGW reset, recovery done,
//	                    shared control file. V11: role switch + recovery done
//	                    + control file, then a later step resets the BGW
//	                    (the window where a new dirty buffer gets the insert
//	                    LSN while the BGW is still WAITING_RESET).
//	P8 exit             ExitNormal; postmaster opens read-write service.
//
// The BGW reset (polar_reset_bg_replayed_lsn) evicts outdated, unpinned,
// clean buffers below the redo pointer (Orderings.EvictStale; with
// Orderings.EvictAllOutdated, the fixed profiles' F5 fix, every outdated,
// unpinned, clean buffer whatever its LSN), sets the
// replay point and fake oldest LSN to the redo pointer
// (Orderings.ReplayFromRedo; else V11's min(old primary's consistent LSN,
// replay point)) and moves the BGW to POLAR_BG_ONLINE_PROMOTE with the end E.
// If the BGW is not in WAITING_RESET then (hazard skip-wait-reset), it is
// reset anyway and the checkers judge the result.
//
// With shmem.Config.Sequence set (the ordering study's variants,
// scenarios/order), the promote steps run in that order instead
// (sequence.go): the same step bodies, in the states the hard-wired path
// runs them in; shmem.DefaultSequence reproduces the hard-wired order.
//
// A trigger file starts the same sequence without SIGUSR2: the BGW never
// hears of it, so on a LogIndex replica startup waits in P3 forever (a
// liveness failure for the checkers to find; mark startup/trigger-file-wait).
//
// Before catch-up (ModeReplica) and before redo (ModeCrash), with LogIndex
// on, startup first indexes, without replaying, the WAL from the last saved
// LogIndex table (FirstLSN if none) up to the redo pointer (state reindex,
// reindex.go): a primary's LogIndex must hold every record no saved table
// covers, or replicas holding such records in full memtables wait for ever
// (polar_logindex_redo_init's start_lsn below the checkpoint). SIGUSR2
// meanwhile is kept and acted on when catch-up begins.
//
// In ModeCrash, startup replays WAL from the control file's redo pointer into
// buffers (dirtying them with the record's start as oldest LSN), keeps
// LogIndex and the clog, then opens WAL at the end, writes end-of-recovery
// and the control file (in production) and exits.
//
// In ModeStandby (standby.go) n.Mount is the standby's own disk, holding a
// base backup of shared storage plus the WAL its walreceiver wrote.
// standby-redo replays that WAL into buffers itself, as crash recovery does,
// up to the end of the WAL on the disk: consistency (the base backup copied
// WAL at least up to the primary's flushed WAL, and no copied page is ahead
// of it). There startup wakes the BGW into POLAR_BG_PARALLEL_REPLAYING with
// replay point and fake oldest LSN at the replayed position
// (polar_logindex_wakeup_bg_replay at reachedConsistency), opens hot standby
// and sets n.ReceivedLSN to the end of its WAL, where streaming starts. In
// standby-streaming it only parses what the walreceiver flushed (Ready while
// n.ReplayLSN < n.ReceivedLSN): page records into its own, writable LogIndex
// (it saves full memtables itself), commits and aborts into its clog.
// SIGUSR2 or the trigger file promote it once every flushed record is
// parsed (standby_promote.go, PolarDB 15's polar_logindex_promote_standby):
// walreceiver stopped, a new timeline, WAL meta queue reset and LogIndex
// promoted info (polar_standby_promote_data), end-of-recovery, then under
// the control-file lock the BGW written PARALLEL_REPLAYING -> ONLINE_PROMOTE
// with no reset. No final read from storage, no end-of-WAL re-check, no
// restartpoint request and no wait for WAITING_RESET: those are a
// replica's.
//
// # States
//
//	                      ModeReplica                              ModeCrash
//	init ──────────────► catch-up ──end of WAL──► streaming ◄──┐   init
//	 │ (SIGUSR2 early)     │  ▲ ring full:          │  │      │     │
//	 │                     │  └─ Wake ──┘           │  └─► storage-read
//	 │                     │SIGUSR2 / trigger       │  (marker, gap)  │
//	 ▼                     ▼                        ▼        │        ▼
//	final-replay (P1) ◄────┴────────────────────────┴────────┘   crash-redo
//	 │ end of valid WAL = E    (!FinalReplay: E = ReplayLSN, skip P1)   │
//	 ▼                                                                  ▼
//	restartpoint (P2) ──!WaitReset──┐                              crash-done
//	 ▼                              │                                   │
//	wait-reset (P3) ── BGW in WAITING_RESET (trigger file: never)       │
//	 ▼                              │                                   │
//	end-of-wal (P4) ◄───────────────┘ ── valid record at E ──► PANIC    │
//	 ▼                                                                  │
//	promote-data (P5) ─► end-of-recovery (P6) ─► control (P7)           │
//	                                              │ V15      │ V11      │
//	                                              │      reset-bgw      │
//	                                              ▼          ▼          ▼
//	                                             done (P8) ─────────► exited
//
//	Both: init ─► reindex ─► catch-up / crash-redo, when LogIndex has unsaved
//	records below the redo pointer (init ─► catch-up / crash-redo otherwise).
//
//	ModeStandby: init ─► standby-redo ──end of its WAL──► standby-streaming
//	                     (consistency: BGW PARALLEL_REPLAYING, hot standby)
//	  standby-streaming ──SIGUSR2 / trigger, nothing left to parse──►
//	  standby-end-of-wal ─► standby-promote-data ─► end-of-recovery ─►
//	  standby-control ─► done
//
// Any state: SIGTERM, SIGINT, SIGQUIT -> exited (ExitKilled). Storage write
// errors during promote exit FATAL; read errors are retried on a Wake timer.
// Each step is one atomic critical section; waiting is Ready() == false
// (P3 reads the BGW state in shared memory; stalls use a Wake timer).
//
// # Invariants owned
//
//   - n.ReplayLSN only grows, and every LogIndex entry with start below it
//     was added by startup in WAL order (queue metas below it are
//     duplicates and skipped; a gap is read from storage first).
//   - Queue packets are popped only after they were consumed (a stalled
//     AddMeta leaves the meta in the queue).
//   - New WAL starts exactly at E, the end of the old primary's last valid
//     record, and never below it (checker: no WAL below the old end).
//   - The BGW is reset once, to the redo pointer (V15), before recovery is
//     marked done (V15) — the control-file order the checkers compare.
//
// # Coverage marks
//
//	startup/hot-standby                     catch-up reached the end of WAL
//	startup/standby-consistent              a standby reached consistency (BGW parallel replay)
//	startup/queue-overflow-storage-read     a storage-begin marker in the queue
//	startup/queue-gap                       a queued meta beyond ReplayLSN (read the gap from storage)
//	startup/memtable-ring-full              LogIndex memtables full and unsaved: stall
//	startup/promote-before-hot-standby      SIGUSR2 during catch-up (or reindex, acted on after it)
//	startup/trigger-file-wait               trigger-file promote waiting in P3
//	startup/standby-promote                 a standby's promote began (SP1)
//	startup/standby-trigger-file            ... started by the trigger file
//	startup/reset-without-waiting-reset     BGW reset while not in WAITING_RESET (hazard)
//	startup/reset-evicted-stale             the reset evicted an outdated buffer below the redo (Orderings.EvictStale)
//	startup/reset-evicted-above-redo        the reset evicted an outdated buffer at or above the redo (Orderings.EvictAllOutdated)
//	startup/promote-wrote-twophase-files    the promote wrote state files its adopted redo needs (Orderings.PromoteTwoPhaseFiles)
//
// # Faithful switches (issue 10)
//
// shmem.FaithfulV15 turns on what PolarDB 15's code does where the model was
// stricter; the zero shmem.Fidelity is the "fixed" behaviour. Startup consults
// HotStandbyInFinalRead (CheckRecoveryConsistency's
// polar_logindex_wakeup_bg_replay during the final read),
// CheckEndBeforeRestartpoint and ControlWindowSteps. The final read's
// hot-standby wake-up is the story event hot-standby-in-final-read (bgw-was
// names the state it overwrote); it has no coverage mark yet, since the
// explorer's mark list lives in scenarios.
//
// # Not modelled
//
// commit_ts, multixact and CSN are not modelled (P5 copies only the clog;
// PolarDB's polar_promote_clog/commit_ts/multixact_*; docs/model.md §1 says
// why no claim depends on them). Prepared transactions are (twophase.go):
// restoreTwoPhaseData before redo, PrepareRedoAdd/Remove in redo,
// RecoverPreparedTransactions at the end of crash recovery and at P5, after
// twophase.c and xlog.c StartupXLOG. No new timeline is
// ever chosen. The local control file is kept in n.Local (no file). With
// LogIndex disabled a replica still indexes nothing and marks pooled pages
// outdated; SIGUSR2 then PANICs (the vanilla path's crash; postmaster
// normally refuses such a promote with shmem.ErrLogIndexDisabled).
//
// # PolarDB sources mirrored
//
// POLARDB_15_STABLE (ApsaraDB/PolarDB-for-PostgreSQL, We-Done fork):
//   - src/backend/access/transam/xlog.c (StartupXLOG, xlogrecovery.c in 15):
//     the redo loop, end of recovery, the control-file update under
//     ControlFileLock, and the polar_* hooks for online promote.
//   - src/backend/access/logindex/polar_logindex_redo.c:
//     polar_wait_logindex_bg_stop_replay (P3), polar_online_promote_data
//     (P5: polar_promote_clog, polar_reload_replication_slots_from_shared_storage,
//     polar_logindex_promote_xlog_queue, polar_logindex_update_promoted_info),
//     polar_reset_bg_replayed_lsn and polar_online_promote_evict_buffer (P7),
//     and polar_logindex_redo_online_promote / bgworker_handle_online_promote
//     on the BGW side (which makes LogIndex writable and enters
//     POLAR_BG_WAITING_RESET).
//   - The WAL meta queue (polar_xlog_queue over polar_ringbuf) with its
//     POLAR_RINGBUF_PKT_WAL_STORAGE_BEGIN/END markers.
//
// PolarDB 11's order (docs/model.md §8) differs in polar_reset_bg_replayed_lsn
// (replay from min(old consistent LSN, bg_replayed_lsn), no eviction) and in
// resetting the BGW after recovery is marked done.
//
// contrecord.go: WAL opened at the end of recovery. A primary's crash
// recovery writes OVERWRITE_CONTRECORD at an aborted record's missing page
// (xlog.c StartupXLOG, CreateOverwriteContrecordRecord); a replica's
// promote does not (xlogrecovery.c ReadRecord with ArchiveRecoveryRequested),
// unless hazard keep-aborted-contrecord turns Orderings.ForgetAbortedContrecord
// off.
package startup
