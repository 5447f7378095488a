// Package storage models what online promote rests on below the WAL: the
// shared block device every node mounts, and each node's buffer pool with its
// flush list and consistent LSN.
//
// # The shared block device
//
// A Device is a fixed number of BlockSize blocks (growable online, as the
// reference setup grows its loop device under a running cluster) with a tiny
// PFS-like namespace on top: base/<rel>, pg_wal/<segment>, global/pg_control,
// pg_xact/, pg_commit_ts/, pg_multixact/, pg_replslot/<slot>/state,
// pg_logindex/, pg_twophase/<xid>. Files are byte-addressed; their blocks are allocated on demand,
// lowest free block first, so layouts are deterministic. A one-block write is
// atomic (the reference config turns off full-page writes because PFS writes
// are); a torn block is a crash fault mode.
//
// Each host mounts the device once, read-only (replica) or read-write
// (primary). A modifying operation through a read-only mount fails with
// ErrReadOnly, whose message is PolarDB's own ("replica can't modify file in
// shared storage"). Reads always see the latest accepted write of any host:
// PFS does direct I/O, so there is no cache to invalidate.
//
// Writer role. A read-write Mount makes its host the writer and fails while
// another host holds the role. Promote instead calls RemountRW, which takes
// the role by force (PFS PAXOS_BYFORCE): it never waits for, nor checks, the
// old writer, whose mount stays read-write without it knowing. Nothing in
// PolarDB stops two hosts writing at once; what happens then depends on the
// fence mode:
//
//	mode    new writer (RW mount / RemountRW)   displaced writer's next operation
//	none    epoch+1 (bookkeeping only)          accepted, recorded in StaleWrites
//	epoch   epoch+1                             ErrFenced (write, create, truncate,
//	                                            remove, sync): it gets an I/O error
//	detect  epoch+1, writes a fresh RWID        accepted and recorded in StaleWrites,
//	                                            except a write to global/pg_control:
//	                                            ErrWriterDeath (the caller PANICs)
//
// Mount life cycle of one host:
//
//	          Mount(ro)            RemountRW (by force)
//	(none) ─────────────▶ ro ──────────────────────────▶ rw, writer
//	   │                                                  │   ▲
//	   │ Mount(rw), no writer                 another host│   │RemountRW
//	   └─────────────────────────▶ rw, writer             ▼   │
//	                                        rw, displaced (stale)
//	any state ── Unmount / Crash ──▶ (none); a writer releases the role
//
// In local-disk mode (DeviceConfig.Local) RemountRW does nothing: the local
// vfs has no remount hook.
//
// Write log. Every accepted block write gets a WriteRecord: sequence number,
// host, the mount's epoch and mode, whether the host held the writer role, path
// and block. LastWrite gives the last record per block, WritesSince the recent
// ones (a bounded ring), StaleWrites every write by a non-writer (complete).
// That is the evidence the SingleWriter checker needs to prove or refute
// "single writer"; the device itself never hides a second writer. Metadata
// operations (create, truncate, remove) are fenced like writes but not logged.
//
// Durability and crashes. A write is visible at once but durable only when
// a read-write host syncs the file (Sync, SyncAll). A sync flushes the file,
// not the writer: every pending write to it becomes durable, other hosts'
// included, because all hosts read one shared image, and a host that read
// another's unsynced WAL and appended to it must be able to make it durable
// before building on it (StartupXLOG's SyncDataDirectory after a crash). A
// read-only mount's sync flushes nothing. Metadata (file creation,
// size, block allocation) is durable at once, as PFS journals it. Each block
// keeps a durable image and a chain of pending images, one per host write run;
// syncing makes the block's newest image durable and subsumes older ones.
// Crash(host, keep) decides for each of the host's pending writes: Drop (lost,
// the block reverts), Keep (reached the media after all) or Tear (first half
// new, second half old), then unmounts the host. A pending write another host
// has read is exempt: the reader saw it on the shared media, so the writer's
// crash leaves it pending (a replica must not index WAL that its primary's
// crash then erases); PowerLoss, the device and every host losing power at
// once, drops every pending write, seen or not. A checker reads through
// Observe, a read-only mount whose reads mark nothing seen. Clone first to
// inspect a crash image without disturbing the running device.
//
// Faults. InjectError fails the next Count matching reads, writes or syncs
// (by host and path prefix) with ErrInjectedIO; a failed operation changes
// nothing. SetLatency makes a host's I/O slow: the device reports the delay in
// virtual ticks and the scheduler makes the process wait.
//
// # Buffer pool, flush list, consistent LSN
//
// A Pool is one node's bounded set of buffer frames. A dirty buffer carries
// its oldest LSN (first change since last written) and sits on the flush list,
// which is ordered by oldest LSN and appended only at the tail; an append
// below the tail is ErrFlushListOrder (PolarDB PANICs; issue #487). The
// consistent LSN is the oldest LSN at the head of the flush list, or a
// fallback when it is empty (the insert position; the fake oldest LSN during
// promote): CalConsistentLSN computes it, SetConsistentLSN publishes it and
// never moves it back; the caller sees a computed value below the published
// one and reports it (shmem.ConsistentRegressed), the pool keeps no record
// of it. The checkpointer uses it
// as the redo pointer of a lazy checkpoint. A replica never dirties a buffer;
// it evicts without I/O and rebuilds pages from LogIndex. Every change to a
// pooled page goes through Pool.Modify (a redo routine or backend changing
// the shared buffer it holds locked, as bufmgr.c's callers do), which counts
// it in Pool.Changes with Assign and Evict: the per-step checkers watch that
// one counter instead of reading every frame each step.
//
// # Invariants owned here (checker names)
//
//   - SingleWriter: every record in the write log has Writer set; in fence
//     mode none or detect a stale write is evidence of a violation, in mode
//     epoch none is ever accepted.
//   - ReplicaWritesNothing: no write through a read-only mount is accepted.
//   - FlushListOrdered: the flush list is sorted by oldest LSN.
//   - ConsistentLSNMonotone / ConsistentLSNDurable: the published consistent
//     LSN never decreases, and every change below it is on the device.
//   - Local (assertions): a block's visible image is its newest pending
//     image, else its durable one; bytes past a file's end are zero in every
//     image; Used() equals the blocks held by files.
//
// # PolarDB sources mirrored
//
//   - src/backend/storage/file/polar_fd.c, polar_vfs (polar_vfs.c in the
//     polar_vfs extension): the vfs switch, remount hook, "replica can't modify
//     file in shared storage" check.
//   - PolarDB-FileSystem (PFS): pfs_mount / remount with PAXOS_BYFORCE,
//     online growfs, atomic block writes.
//   - src/backend/storage/file/polar_io_fencing.c (V11): RWID written by
//     polar_hold_shared_storage, checked by polar_check_double_write at control
//     file updates; a mismatch creates the DEATH file and PANICs. The model
//     keeps the RWID as device metadata and does not make DEATH fail the new
//     writer's later checks (PolarDB would PANIC it too at its next control
//     file update; scenarios may model that as a process event).
//   - src/backend/storage/buffer/polar_bufmgr.c, polar_flushlist.c (polar_flush.c
//     in V15): oldest LSN, flush list, consistent LSN.
//
// Everything here is a plain value stepped by the scheduler: no goroutines,
// no clock, no map iteration.
package storage
