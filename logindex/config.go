package logindex

import "fmt"

// Config holds the GUCs of docs/model.md §4 plus the model's own sizes. PolarDB sizes
// memory in MB and blocks; the model counts the objects themselves.
type Config struct {
	// MemSize is polar_logindex_mem_size: the number of memtables in the
	// LogIndex ring. 0 disables LogIndex entirely (V15's default), which
	// makes online promote impossible (docs/model.md §7).
	MemSize int
	// TableSize is the number of (page, LSN) entries one memtable holds
	// (LOG_INDEX_MEM_TBL_SEG_NUM's role). At least MaxPages.
	TableSize int
	// QueueBuffers is polar_xlog_queue_buffers: the WAL meta queue capacity,
	// in packets.
	QueueBuffers int
	// PageBuffers is polar_xlog_page_buffers: PolarDB's cache of WAL pages
	// read from storage. The model reads WAL with direct I/O and keeps the
	// value only so configurations name it.
	PageBuffers int
	// BgReplayBatchSize is polar_bg_replay_batch_size: records the BGW
	// replays per round (default 20000).
	BgReplayBatchSize int
	// ParallelReplayProcNum is polar_parallel_replay_proc_num: parallel
	// replay workers (default 8).
	ParallelReplayProcNum int
	// WALSegmentSize is wal_segment_size in bytes (a power of two).
	WALSegmentSize int64
	// WALBuffers is wal_buffers in bytes: inserted but unwritten WAL.
	WALBuffers int
}

// DefaultConfig is a small model-sized configuration with LogIndex enabled.
func DefaultConfig() Config {
	return Config{
		MemSize:               4,
		TableSize:             64,
		QueueBuffers:          64,
		PageBuffers:           16,
		BgReplayBatchSize:     20000,
		ParallelReplayProcNum: 8,
		WALSegmentSize:        4096,
		WALBuffers:            4096,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	switch {
	case c.MemSize < 0:
		return fmt.Errorf("logindex: polar_logindex_mem_size %d < 0", c.MemSize)
	case c.MemSize > 0 && c.TableSize < MaxPages:
		return fmt.Errorf("logindex: memtable size %d < %d", c.TableSize, MaxPages)
	case c.TableSize > 1<<30:
		return fmt.Errorf("logindex: memtable size %d too large", c.TableSize)
	case c.QueueBuffers < minQueue:
		return fmt.Errorf("logindex: polar_xlog_queue_buffers %d < %d", c.QueueBuffers, minQueue)
	case c.PageBuffers < 0:
		return fmt.Errorf("logindex: polar_xlog_page_buffers %d < 0", c.PageBuffers)
	case c.BgReplayBatchSize < 1:
		return fmt.Errorf("logindex: polar_bg_replay_batch_size %d < 1", c.BgReplayBatchSize)
	case c.ParallelReplayProcNum < 1:
		return fmt.Errorf("logindex: polar_parallel_replay_proc_num %d < 1", c.ParallelReplayProcNum)
	case c.WALSegmentSize < 64 || c.WALSegmentSize&(c.WALSegmentSize-1) != 0 || c.WALSegmentSize > 1<<32:
		return fmt.Errorf("logindex: WAL segment size %d invalid", c.WALSegmentSize)
	case c.WALBuffers < 2*maxRecordSize:
		return fmt.Errorf("logindex: wal_buffers %d < %d", c.WALBuffers, 2*maxRecordSize)
	}
	return nil
}
