package cluster

import (
	"errors"
	"fmt"
	"strings"

	"promotesim/logindex"
	"promotesim/scenarios/hazard"
	"promotesim/shmem"
	"promotesim/storage"
)

// Options are a cluster's settings. Every field has a sensible default
// (DefaultOptions) and Validate names the setting that is wrong.
type Options struct {
	Nodes int // node count; n1 starts as primary, the others as replicas
	Pages int // pages of the workload relation
	// PoolFrames is shared_buffers in pages, per node.
	PoolFrames int
	// QueueBuffers is polar_xlog_queue_buffers (WAL meta queue capacity).
	QueueBuffers int
	// LogIndexMem is polar_logindex_mem_size in memtables (0 disables
	// LogIndex; a promote is then refused).
	LogIndexMem int
	// ReplicaLogIndexMem overrides LogIndexMem on every node but n1 (0: the
	// same), so a replica's ring can fill before the primary's.
	ReplicaLogIndexMem int
	// TableSize is entries per LogIndex memtable.
	TableSize int
	// BatchSize is polar_bg_replay_batch_size.
	BatchSize int
	// ReplayWorkers is polar_parallel_replay_proc_num.
	ReplayWorkers int
	Fence         storage.FenceMode
	Profile       shmem.Profile
	// Fixed picks the model's stricter behaviour where PolarDB's code is
	// looser (profile v15-fixed, v11-fixed: the shmem.Fidelity zero value,
	// every fix on). Off, the node does what PolarDB's code does
	// (shmem.FaithfulV15): profile v15, v11, the default.
	Fixed bool
	// Prewarm is polar_enable_replica_prewarm on every node
	// (shmem.Config.ReplicaPrewarm).
	Prewarm bool
	// Sessions is client sessions per node.
	Sessions int
	// DeviceBlocks is the shared device's initial size.
	DeviceBlocks int
	// Standbys is the number of standbys (0..2): nodes with their own
	// storage, hosts Nodes+1.., streaming full WAL through slots standby1..
	Standbys int
	// Hazard names a deliberately wrong ordering from the catalogue
	// (package hazard); empty: none.
	Hazard string
	// Faithful lists the faithful switches (shmem.FaithfulNames, in their
	// canonical order) a fixed profile's nodes take: those points as
	// PolarDB 15's code does them, every other the model's way. Empty:
	// none. Only with Fixed (profile v15 is faithful throughout).
	Faithful string
	// WALWriteBehind is shmem.Config.WALWriteBehind on every node.
	WALWriteBehind bool
	// CheckpointDistance is shmem.Config.CheckpointDistance on every node:
	// how far the consistent LSN moves past the redo before a lazy
	// checkpoint (0: the default, shmem.DefaultConfig's).
	CheckpointDistance int
}

// DefaultOptions is the default small world: two nodes, eight pages.
func DefaultOptions() Options {
	return Options{Nodes: 2, Pages: 8, PoolFrames: 6, QueueBuffers: 64, LogIndexMem: 4, TableSize: 64,
		BatchSize: 4, ReplayWorkers: 2, Fence: storage.FenceNone, Profile: shmem.ProfileV15, Sessions: 2,
		DeviceBlocks: 4096}
}

// Validate rejects impossible or unsupported combinations with a message
// that names the setting.
func (o Options) Validate() error {
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if o.Nodes < 1 || o.Nodes > 8 {
		add("nodes=%d: want 1..8", o.Nodes)
	}
	if o.Pages < 1 || o.Pages > 1024 {
		add("pages=%d: want 1..1024", o.Pages)
	}
	if o.PoolFrames < 2 {
		add("pool=%d: shared_buffers needs at least 2 pages", o.PoolFrames)
	}
	if o.QueueBuffers < 3 {
		add("queue=%d: polar_xlog_queue_buffers needs at least 3", o.QueueBuffers)
	}
	if o.LogIndexMem < 0 {
		add("logindex-mem=%d: polar_logindex_mem_size cannot be negative", o.LogIndexMem)
	}
	if o.ReplicaLogIndexMem < 0 {
		add("replica-logindex-mem=%d: cannot be negative", o.ReplicaLogIndexMem)
	}
	if o.LogIndexMem > 0 && o.TableSize < logindex.MaxPages {
		add("table-size=%d: a memtable holds at least %d entries", o.TableSize, logindex.MaxPages)
	}
	if o.BatchSize < 1 {
		add("batch=%d: polar_bg_replay_batch_size must be positive", o.BatchSize)
	}
	if o.ReplayWorkers < 1 || o.ReplayWorkers > 16 {
		add("workers=%d: polar_parallel_replay_proc_num wants 1..16", o.ReplayWorkers)
	}
	switch o.Fence {
	case storage.FenceNone, storage.FenceEpoch:
	case storage.FenceDetect:
		if o.Profile != shmem.ProfileV11 {
			add("fence=detect is PolarDB 11's RWID/DEATH check: use it with profile=v11")
		}
	default:
		add("fence: want none, epoch or detect")
	}
	if o.Profile != shmem.ProfileV15 && o.Profile != shmem.ProfileV11 {
		add("profile: want %s", strings.Join(ProfileNames(), ", "))
	}
	if o.Sessions < 1 || o.Sessions > 16 {
		add("sessions=%d: want 1..16", o.Sessions)
	}
	if o.DeviceBlocks < 64 {
		add("device-blocks=%d: want at least 64", o.DeviceBlocks)
	}
	if o.CheckpointDistance < 0 {
		add("checkpoint-distance=%d: want 0 (the default) or more", o.CheckpointDistance)
	}
	if o.Standbys < 0 || o.Standbys > 2 {
		add("standbys=%d: want 0..2", o.Standbys)
	} else if o.Standbys > 0 && o.LogIndexMem == 0 {
		add("standbys=%d: a standby replays in parallel through LogIndex: set logindex-mem > 0", o.Standbys)
	}
	if o.Hazard != "" {
		if _, err := hazard.Lookup(o.Hazard); err != nil {
			add("hazard=%q: want one of %s", o.Hazard, strings.Join(hazard.Names(), ", "))
		}
	}
	o.validateFaithful(add)
	if len(errs) > 0 {
		return errors.New("invalid cluster options: " + strings.Join(errs, "; "))
	}
	return nil
}

// validateFaithful checks faithful=: known switches, in canonical order
// (so one world has one cluster line), on a fixed profile.
func (o Options) validateFaithful(add func(format string, args ...any)) {
	if o.Faithful == "" {
		return
	}
	canon, err := shmem.ParseFaithful(o.Faithful)
	switch {
	case err != nil:
		add("faithful=%q: %v", o.Faithful, err)
	case !o.Fixed:
		add("faithful=%s: the switches undo corrections of a fixed profile (v15-fixed, v11-fixed); %s is PolarDB's code throughout",
			o.Faithful, ProfileName(o.Profile, o.Fixed))
	case canon != o.Faithful:
		add("faithful=%s: name the switches in their order: faithful=%s", o.Faithful, canon)
	}
}

// NodeConfigs resolves the options into every host's configuration, once
// per cluster (New): the hazard is looked up here, not at every boot.
// Index h-1 is host h (the shared-storage nodes, then the standbys).
func (o Options) NodeConfigs() []shmem.Config {
	hz, hzErr := hazard.Lookup(o.Hazard)
	out := make([]shmem.Config, o.Nodes+o.Standbys)
	for i := range out {
		out[i] = o.nodeConfig(storage.HostID(i+1), hz, hzErr == nil)
	}
	return out
}

// nodeConfig derives node h's configuration under hazard hz (when hasHz).
func (o Options) nodeConfig(h storage.HostID, hz hazard.Hazard, hasHz bool) shmem.Config {
	c := shmem.DefaultConfig(h)
	c.Profile = o.Profile
	c.Orderings = shmem.OrderingsFor(o.Profile)
	if o.Fixed {
		c.Orderings = shmem.FixedOrderingsFor(o.Profile)
		// Validate accepted the list: an error here cannot happen.
		_ = c.ApplyFaithful(o.Faithful)
	} else {
		c.Fidelity = shmem.FaithfulV15()
	}
	c.ReplicaPrewarm = o.Prewarm
	c.Pages = o.Pages
	c.PoolFrames = o.PoolFrames
	c.LogIndex.MemSize = o.LogIndexMem
	if h != 1 && o.ReplicaLogIndexMem > 0 {
		c.LogIndex.MemSize = o.ReplicaLogIndexMem
	}
	c.LogIndex.TableSize = o.TableSize
	c.LogIndex.QueueBuffers = o.QueueBuffers
	c.LogIndex.BgReplayBatchSize = o.BatchSize
	c.LogIndex.ParallelReplayProcNum = o.ReplayWorkers
	c.WALWriteBehind = o.WALWriteBehind
	if o.CheckpointDistance > 0 {
		c.CheckpointDistance = int64(o.CheckpointDistance)
	}
	if hasHz {
		// The hazard flips its protocol step on every node (code consults
		// only Orderings); LogIndexOff is configuration too: PolarDB 15's
		// default polar_logindex_mem_size = 0, the seed report's setup.
		if hz.Orderings != nil {
			hz.Orderings(&c.Orderings)
		}
		if hz.LogIndexOff {
			c.LogIndex.MemSize = 0
		}
		// A variant of the ordering study names the startup's order.
		c.Sequence = hz.Sequence
	}
	return c
}
