// Package logindex models the WAL, the WAL meta queue and LogIndex of PolarDB
// for PostgreSQL: the structures that let a replica on shared storage follow
// its primary without replaying every page, and that online promote must hand
// over intact from the old primary to the new one.
//
// # Role in online promote
//
// The primary inserts records into WAL buffers (WAL.Insert), its walwriter
// writes them to pg_wal/ on the shared device (WAL.Write) and syncs them
// (WAL.Sync: durable). The walsender ships WAL meta (Meta: a record without
// page data) to each replica, whose walreceiver pushes it into the WAL meta
// queue (Queue). When the queue is full or bypassed, the replica reads WAL
// from storage instead (Reader), and a storage-begin / storage-end marker in
// the queue says from where to where. The replica's startup pops meta and adds
// (page, start LSN) to LogIndex (Index.Add); replica page reads apply the
// page's history (Index.History) and the BGW replays in LSN order
// (Index.Iterate).
//
// On promote the startup process reads the rest of the old primary's WAL from
// storage and finds its end (Reader.FindEnd: the first truncated, zero or
// CRC-invalid record); the BGW makes LogIndex writable (Index.SetWritable), so
// the new primary saves the memtables the old primary never saved; startup
// resets the queue (Queue.Reset) and records which part of LogIndex belongs to
// the old primary (Index.SetPromoted).
//
// # Memtable states
//
//	FREE ──first use──▶ ACTIVE ──full──▶ INACTIVE ──saved──▶ FLUSHED
//	                      ▲                                     │
//	                      └────────── reused by the ring ◀──────┘
//
// Only a writable snapshot (the primary) saves, oldest first, and only once
// the WAL up to the table's last record end is durable (Index.Save refuses
// with ErrWALNotFlushed otherwise). A read-only snapshot (replica) moves a
// table to FLUSHED when the primary's meta file shows its LSNs saved. If the
// primary stops saving, the ring fills and Add returns ErrMemtablesFull: the
// replica's startup stalls (docs/model.md §11: "full LogIndex memtables when the
// primary stopped saving").
//
// # Truncation
//
// Saved tables are removed once no one needs them (polar_logindex_truncate,
// called from polar_logindex_remove_old_files with the checkpoint redo
// pointer, before old WAL is removed): Index.Truncate(lsn) on the writable
// snapshot removes every saved table whose largest LSN is below lsn and
// records lsn as the truncation point T in the meta file, writing the meta
// before removing files so that a replica never looks for a removed table.
// T only grows. Lookups that ask for an LSN below T (History with
// from+1 < T, an iterator positioned below T) fail with ErrTruncated instead
// of silently returning less; lookups at or above T are unaffected. A
// read-only snapshot learns T when it rereads the meta: on every History, on
// an iterator's slow path, on Refresh and when it reuses memtables.
//
// # Queue
//
// Readers hold strong references (block overwriting) or weak ones (evicted
// when the writer needs space; Pop then returns ErrRefInvalid and the reader
// must fall back to storage). On overflow the writer enters storage mode:
//
//	normal ──no room──▶ push STORAGE_BEGIN(lsn), drop meta ──room for 3──▶ push STORAGE_END(lsn), meta ──▶ normal
//
// # Invariants owned here
//
//   - A page change applies only if page LSN < record end and then sets the
//     page LSN to the end (idempotent replay, XLogReadBufferForRedo).
//   - WAL: flushed <= written <= insert; records chain by prev link; the end of
//     WAL is the first invalid record, and a device I/O error is never taken
//     for the end of WAL.
//   - LogIndex lookups equal a naive sorted list of every (page, LSN) added
//     (tests: TestIndexModel); saved tables cover disjoint ascending LSN
//     ranges; a table is saved only after its WAL is durable (Save refuses
//     otherwise).
//   - LogIndex truncation: the meta names tables TruncTableID+1..MaxTableID
//     and no lookup reads any other; after a Truncate they are exactly the
//     table files on storage (a file a failed removal left behind is removed
//     by the next Truncate) and none is wholly below TruncLSN; lookups below
//     TruncLSN fail with ErrTruncated, lookups at or above it equal the
//     naive model with the entries below it dropped.
//   - Queue: unread data of a live reference is never overwritten; outside
//     storage mode one slot is kept free for the storage-begin marker.
//
// # PolarDB sources mirrored
//
// src/backend/access/transam/xlog.c and xlogreader.c (insert, write, flush,
// read, end of WAL), src/include/access/polar_ringbuf.h and
// src/backend/access/logindex/polar_ringbuf.c (references, packets
// POLAR_RINGBUF_PKT_WAL_META / WAL_STORAGE_BEGIN / WAL_STORAGE_END, free up,
// reset), polar_queue_manager.c (the xlog queue), polar_logindex.c and
// src/include/access/polar_logindex_internal.h (memtable states
// LOG_INDEX_MEM_TBL_STATE_*, the ring LOG_INDEX_MEM_TBL_NEXT_ID, tables and
// log_index_meta_t), polar_logindex_redo.c (replay from LogIndex, promote).
// The model keeps the behaviour, not the layout: memtables hash pages to
// chains of entries, saved tables are flat sorted files under pg_logindex/.
// walpage.go holds WAL pages (XLOG_BLCKSZ is the device block) without page
// headers: aborted contrecords, the OVERWRITE_CONTRECORD skip of
// xlogreader.c, and the raw bytes a standby's stream carries.
//
// # Glossary
//
// start LSN: where a record begins (LogIndex key). end LSN: just past it (the
// page LSN after applying it). low: the LSN from which memtables hold every
// entry; older entries are found in saved tables.
package logindex
