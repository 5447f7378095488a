package cluster

import (
	"fmt"
	"io"
	"strings"

	"promotesim/postmaster"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// Cluster is a whole world: one shared device, its nodes, the clients'
// journal and the scheduler that interleaves every process. Operator
// procedures (docs/model.md §9) are its methods; each posts an input and returns, and
// Run/RunUntil let the world move.
type Cluster struct {
	Opts    Options
	S       *sim.Scheduler
	Dev     *storage.Device
	Net     *postmaster.Net
	Journal *postmaster.Journal
	// Op runs the postmaster package's operator procedures on this
	// world's nodes (its scheduler, network and journal).
	Op postmaster.Operator
	// cfgs are the hosts' configurations, resolved once from Opts (by
	// host - 1).
	cfgs   []shmem.Config
	nodes  []*shmem.Node // by host - 1: the shared-storage nodes, then the standbys
	client []int         // next session to use, per node
	// standbyDevs are the standbys' own disks, by standby number - 1
	// (nil until its base backup is taken).
	standbyDevs []*storage.Device
	// slotNames are the shared-storage hosts' primary_slot_name, by host
	// - 1, as their last rebuild configured it ("": the default).
	slotNames []string
}

// Config says how to run a cluster: options, seed, chooser and trace.
type Config struct {
	Opts    Options
	Seed    uint64
	Chooser sim.Chooser // nil: seeded random
	Trace   sim.TraceConfig
	// CheckWakes is sim.Config.CheckWakes (a test mode).
	CheckWakes bool
}

// bootBudget bounds the steps a cluster may take to come up.
const bootBudget = 20000

// New builds an empty world: the scheduler and the blank shared device,
// nothing booted. Observers (the checkers, check.Install) attach now, so
// they see every step from before initdb on; Boot then brings it up.
func New(cfg Config) (*Cluster, error) {
	o := cfg.Opts
	if err := o.Validate(); err != nil {
		return nil, err
	}
	s := sim.New(sim.Config{Seed: cfg.Seed, Chooser: cfg.Chooser, Trace: cfg.Trace, CheckWakes: cfg.CheckWakes})
	dev, err := storage.NewDevice(storage.DeviceConfig{Blocks: o.DeviceBlocks, Fence: o.Fence})
	if err != nil {
		return nil, err
	}
	c := &Cluster{Opts: o, S: s, Dev: dev, Net: &postmaster.Net{}, Journal: &postmaster.Journal{},
		nodes: make([]*shmem.Node, o.Nodes+o.Standbys), client: make([]int, o.Nodes+o.Standbys),
		standbyDevs: make([]*storage.Device, o.Standbys), cfgs: o.NodeConfigs(), slotNames: make([]string, o.Nodes)}
	c.Op = postmaster.Operator{S: c.S, Net: c.Net, Journal: c.Journal}
	return c, nil
}

// Boot brings up the world of docs/model.md §1: initdb from n1, n1 started as
// primary, every other node started as a LogIndex replica streaming from it.
// It returns once n1 serves read-write and every replica is at hot standby.
func (c *Cluster) Boot() error {
	o := c.Opts
	if err := postmaster.InitDB(c.Dev, c.NodeConfig(1)); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	if err := c.Start(1, postmaster.RolePrimary); err != nil {
		return err
	}
	if err := c.await("n1 read-write", func() bool { return c.Node(1).ReadWrite }); err != nil {
		return err
	}
	for h := 2; h <= o.Nodes; h++ {
		if err := c.Start(storage.HostID(h), postmaster.RoleReplica); err != nil {
			return err
		}
	}
	for h := 2; h <= o.Nodes; h++ {
		n := c.Node(storage.HostID(h))
		if err := c.await(fmt.Sprintf("n%d hot standby", h), func() bool { return n.Accepting }); err != nil {
			return err
		}
	}
	if err := c.startStandbys(); err != nil {
		return err
	}
	return nil
}

// await runs until cond holds, failing on a violation or after bootBudget.
func (c *Cluster) await(what string, cond func() bool) error {
	r := c.S.RunUntil(cond, bootBudget)
	if r.Violation != nil {
		return r.Violation
	}
	if !r.Done {
		return fmt.Errorf("waiting for %s: %v", what, r)
	}
	return nil
}

// NodeConfig is host h's configuration, as resolved from the options when
// the cluster was built (every boot of h uses it).
func (c *Cluster) NodeConfig(h storage.HostID) shmem.Config { return c.cfgs[h-1] }

// HostCount is the number of hosts, shared-storage nodes and standbys.
func (c *Cluster) HostCount() int { return len(c.nodes) }

// AllNodes returns every host's node by host - 1 (nil: not started); the
// slice is the cluster's own, for observers to read.
func (c *Cluster) AllNodes() []*shmem.Node { return c.nodes }

// Node returns host h's node (its current memory).
func (c *Cluster) Node(h storage.HostID) *shmem.Node {
	if h < 1 || int(h) > len(c.nodes) {
		return nil
	}
	return c.nodes[h-1]
}

// Hosts lists the hosts on the shared device, in order (the primary and
// its replicas; StandbyHosts lists the standbys, which have their own
// storage and never take part in online promote).
func (c *Cluster) Hosts() []storage.HostID {
	out := make([]storage.HostID, c.Opts.Nodes)
	for i := range out {
		out[i] = storage.HostID(i + 1)
	}
	return out
}

// Host returns host h's node, or an error naming why there is none (no
// such host, or not started yet).
func (c *Cluster) Host(h storage.HostID) (*shmem.Node, error) {
	n := c.Node(h)
	if n == nil {
		if h >= 1 && int(h) <= len(c.nodes) {
			return nil, fmt.Errorf("%v has not been started", h)
		}
		return nil, fmt.Errorf("no node %v (the cluster has %d)", h, len(c.nodes))
	}
	return n, nil
}

// Start boots host h in role: RolePrimary runs crash recovery from the
// shared control file; RoleReplica starts a LogIndex replica (replica.signal)
// whose local directory is initialised from shared storage; RoleStandby (a
// standby host only) starts a standby on its own disk (startStandby).
func (c *Cluster) Start(h storage.HostID, role postmaster.Role) error {
	if h < 1 || int(h) > len(c.nodes) {
		return fmt.Errorf("no node %v (the cluster has %d)", h, len(c.nodes))
	}
	if old := c.nodes[h-1]; old != nil && c.Op.Alive(old) {
		return fmt.Errorf("pg_ctl start: %v is already running", h)
	}
	var local shmem.Control
	if old := c.nodes[h-1]; old != nil {
		local = old.Local
	}
	if c.IsStandby(h) && c.StandbyPromoted(h) {
		// standby.signal is gone: the promoted standby starts as the
		// primary of its own disk (crash recovery from its control file).
		if role != postmaster.RolePrimary {
			return fmt.Errorf("pg_ctl start: %v is a promoted standby (its own primary now), not a %v", h, role)
		}
		return c.startPromotedStandby(h, local)
	}
	if c.IsStandby(h) != (role == postmaster.RoleStandby) {
		return fmt.Errorf("pg_ctl start: %v is a %s, not a %v", h, c.kind(h), role)
	}
	if role == postmaster.RoleStandby {
		return c.startStandby(h)
	}
	if p := c.Primary(); p != nil && role == postmaster.RoleReplica {
		// The replica starts replaying from the shared redo pointer; its
		// slot holds the primary's flush gate there until it reports.
		if err := c.Op.EnsureSlot(p, c.slotName(h), p.Control.Redo); err != nil {
			return err
		}
	}
	n, err := c.Op.Boot(c.Dev, c.bootConfig(h), role, local, c.Opts.Sessions)
	if err != nil {
		return err
	}
	c.nodes[h-1] = n
	c.client[h-1] = 0
	return nil
}

// Rebuild turns host h into a replica of the current primary through the
// slot it was configured with (RebuildThrough).
func (c *Cluster) Rebuild(h storage.HostID) error { return c.RebuildThrough(h, "") }

// RebuildThrough turns host h into a replica of the current primary
// (docs/model.md §9 step 3): its local directory is initialised from shared
// storage, its config written (host id, shared storage, LogIndex memory,
// primary_slot_name = slot; "" keeps the one it had, by default
// replica<h-1>), replica.signal created, and it is started. The
// walkthrough rebuilds the old primary through replica1, the slot the
// promoted replica streamed through, which the new primary reloaded from
// shared storage.
func (c *Cluster) RebuildThrough(h storage.HostID, slot string) error {
	n, err := c.Host(h)
	if err != nil {
		return err
	}
	if c.IsStandby(h) {
		return fmt.Errorf("rebuild: %v is a standby with its own storage, not a shared-storage replica", h)
	}
	if c.Op.Alive(n) {
		return fmt.Errorf("rebuild: stop %v first", h)
	}
	c.S.Emit(n.Proc("operator"), sim.LevelStory, "rebuild-as-replica", sim.Str("local", "from shared storage"), sim.Str("signal", "replica.signal"))
	if slot != "" {
		c.slotNames[h-1] = slot
	}
	cfg := c.bootConfig(h)
	c.S.Emit(n.Proc("operator"), sim.LevelStory, "write-config", sim.Str("polar_hostid", h.String()), sim.Str("storage", "shared"),
		sim.Int("polar_logindex_mem_size", int64(cfg.LogIndex.MemSize)), sim.Str("primary_slot_name", cfg.Slot()))
	n.Local = shmem.Control{}
	return c.Start(h, postmaster.RoleReplica)
}

// Promote is pg_ctl promote on host h.
func (c *Cluster) Promote(h storage.HostID) error {
	n, err := c.Host(h)
	if err != nil {
		return err
	}
	return c.Op.Promote(n)
}

// Trigger creates host h's trigger file (the path only startup watches).
func (c *Cluster) Trigger(h storage.HostID) error {
	n, err := c.Host(h)
	if err != nil {
		return err
	}
	c.Op.TriggerPromote(n)
	return nil
}

// Stop is pg_ctl stop on host h.
func (c *Cluster) Stop(h storage.HostID, immediate bool) error {
	n, err := c.Host(h)
	if err != nil {
		return err
	}
	return c.Op.Stop(n, immediate)
}

// Crash kills host h at once; its unsynced writes are lost, but for
// written WAL in a wal-write-behind world (walCrashKeep).
func (c *Cluster) Crash(h storage.HostID) error {
	n, err := c.Host(h)
	if err != nil {
		return err
	}
	var keep func(storage.PendingWrite) storage.KeepMode
	if c.Opts.WALWriteBehind {
		keep = c.walCrashKeep
	}
	c.Op.Crash(n, keep)
	return nil
}

// Kill is the operator's kill -9 of one child of host h (bgwriter, bgw,
// checkpointer, walwriter): postmaster.Operator.KillChild.
func (c *Cluster) Kill(h storage.HostID, proc string) error {
	n, err := c.Host(h)
	if err != nil {
		return err
	}
	return c.Op.KillChild(n, proc)
}

// DropSlot is pg_drop_replication_slot on host h.
func (c *Cluster) DropSlot(h storage.HostID, name string) error {
	n, err := c.Host(h)
	if err != nil {
		return err
	}
	return c.Op.DropSlot(n, name)
}

// session picks host h's next live client session, round robin.
func (c *Cluster) session(h storage.HostID) (sim.ActorID, error) {
	n, err := c.Host(h)
	if err != nil {
		return 0, err
	}
	live := n.Procs.Backends
	if !n.Accepting || len(live) == 0 {
		return 0, fmt.Errorf("%v is not accepting connections", h)
	}
	i := c.client[h-1] % len(live)
	c.client[h-1]++
	return live[i], nil
}

// Write sends one write transaction to a session of host h.
func (c *Cluster) Write(h storage.HostID, txn postmaster.Txn) error {
	id, err := c.session(h)
	if err != nil {
		return err
	}
	c.S.Post(id, txn)
	return nil
}

// Read sends a page read to a session of host h.
func (c *Cluster) Read(h storage.HostID, page int) error {
	id, err := c.session(h)
	if err != nil {
		return err
	}
	c.S.Post(id, postmaster.Read{Page: page})
	return nil
}

// Primary returns the shared-storage node serving read-write, if any (a
// promoted standby serves its own history on its own disk: PromotedStandby).
func (c *Cluster) Primary() *shmem.Node {
	var first *shmem.Node
	for _, n := range c.nodes {
		if n != nil && n.Primary && n.ReadWrite && c.Op.Alive(n) && !postmaster.OwnStorage(n) {
			// An old primary a promote displaced (fencing keeps it off
			// storage) still thinks it is primary: the operator knows the
			// node it promoted, which holds the writer role.
			if n.Mount != nil && n.Mount.Writer() {
				return n
			}
			if first == nil {
				first = n
			}
		}
	}
	return first
}

// Status renders every node's role, BGW state and the LSNs that matter.
func (c *Cluster) Status(w io.Writer) {
	for i, n := range c.nodes {
		if n == nil {
			continue
		}
		if c.IsStandby(storage.HostID(i + 1)) {
			fmt.Fprintln(w, c.StandbyStatus(n))
			continue
		}
		fmt.Fprintln(w, c.NodeStatus(n))
	}
}

// NodeStatus is the status line of node n (as Status prints it).
func (c *Cluster) NodeStatus(n *shmem.Node) string {
	var b strings.Builder
	state := "down"
	if c.Op.Alive(n) {
		switch {
		case n.Primary && !n.InRecovery:
			state = "primary"
		case n.InRecovery:
			state = "replica"
		default:
			state = "up"
		}
	}
	fmt.Fprintf(&b, "%v %-7s", n.Cfg.Host, state)
	if state == "down" {
		return b.String()
	}
	mode := "-"
	if n.Mount != nil {
		mode = n.Mount.Mode().String()
	}
	fmt.Fprintf(&b, " mount=%s service=%s bgw=%s", mode, service(n), n.BGW.State().String())
	if n.WAL != nil {
		fmt.Fprintf(&b, " insert=%v flushed=%v", n.WAL.InsertLSN(), n.WAL.FlushedLSN())
	}
	if n.InRecovery {
		fmt.Fprintf(&b, " replay=%v", n.ReplayLSN)
	}
	fmt.Fprintf(&b, " replay_point=%v fake_oldest=%v consistent=%v redo=%v dirty=%d",
		n.BGW.ReplayPoint(), n.BGW.FakeOldest(), n.Pool.ConsistentLSN(), n.Control.Redo, n.Pool.FlushLen())
	return b.String()
}

func service(n *shmem.Node) string {
	switch {
	case !n.Accepting:
		return "closed"
	case n.ReadWrite:
		return "read-write"
	}
	return "read-only"
}

// Slots renders host h's replication slots.
func (c *Cluster) Slots(h storage.HostID) (string, error) {
	n, err := c.Host(h)
	if err != nil {
		return "", err
	}
	if len(n.Slots) == 0 {
		return fmt.Sprintf("%v: no replication slots", h), nil
	}
	var parts []string
	for _, s := range n.Slots {
		parts = append(parts, fmt.Sprintf("%s restart_lsn=%v active=%v", s.Name, s.Restart, s.Active))
	}
	return fmt.Sprintf("%v slots: %s", h, strings.Join(parts, "; ")), nil
}

// StatReplication renders a pg_stat_replication-like view of host h: one row
// per streaming replica with its replay position.
func (c *Cluster) StatReplication(h storage.HostID) (string, error) {
	n, err := c.Host(h)
	if err != nil {
		return "", err
	}
	var rows []string
	for _, other := range c.nodes {
		if other == nil || other == n || !c.Op.Alive(other) || !other.InRecovery {
			continue
		}
		streaming := false
		for _, s := range n.Slots {
			if s.Name == c.slotName(other.Cfg.Host) && s.Active {
				streaming = true
			}
		}
		if !streaming {
			continue
		}
		if c.IsStandby(other.Cfg.Host) {
			rows = append(rows, fmt.Sprintf("application_name=%v state=streaming slot=%s flush_lsn=%v replay_lsn=%v",
				other.Cfg.Host, c.slotName(other.Cfg.Host), other.ReceivedLSN, other.ReplayLSN))
			continue
		}
		rows = append(rows, fmt.Sprintf("application_name=%v state=streaming slot=%s replay_lsn=%v", other.Cfg.Host, c.slotName(other.Cfg.Host), other.ReplayLSN))
	}
	if len(rows) == 0 {
		return fmt.Sprintf("%v pg_stat_replication: (0 rows)", h), nil
	}
	return fmt.Sprintf("%v pg_stat_replication: %s", h, strings.Join(rows, "; ")), nil
}

// ---- standbys ------------------------------------------------------------
//
// Standby k (1..Opts.Standbys) is host Opts.Nodes+k. It has its own private
// device in local-disk mode (no PFS, so no remount and no fencing: it is the
// only host that ever mounts it) and never mounts the shared device. Its disk
// is initialised once, when it first starts, as a base backup of shared
// storage taken by the current primary: every file but pg_replslot/ and
// pg_logindex/ copied and synced (postmaster.Operator.BaseBackup). The primary gets a
// slot standby<k> first, persisted on shared storage like the replicas'
// slots, so a replica promoted later reloads it. A later start of the same
// standby reuses its disk (crash recovery from its own files).

// IsStandby reports whether host h is a standby (its own storage).
func (c *Cluster) IsStandby(h storage.HostID) bool {
	return int(h) > c.Opts.Nodes && int(h) <= c.Opts.Nodes+c.Opts.Standbys
}

// StandbyHosts lists the standbys' hosts, in order.
func (c *Cluster) StandbyHosts() []storage.HostID {
	out := make([]storage.HostID, c.Opts.Standbys)
	for i := range out {
		out[i] = storage.HostID(c.Opts.Nodes + i + 1)
	}
	return out
}

// StandbyDevice returns standby host h's own disk (nil before its base
// backup).
func (c *Cluster) StandbyDevice(h storage.HostID) *storage.Device {
	if !c.IsStandby(h) {
		return nil
	}
	return c.standbyDevs[int(h)-c.Opts.Nodes-1]
}

func (c *Cluster) kind(h storage.HostID) string {
	if c.IsStandby(h) {
		return "standby (its own storage)"
	}
	return "shared-storage node"
}

// slotName is the replication slot host h streams through.
func (c *Cluster) slotName(h storage.HostID) string {
	if c.IsStandby(h) {
		return shmem.StandbySlotName(int(h) - c.Opts.Nodes)
	}
	return c.bootConfig(h).Slot()
}

// SlotOf is the replication slot host h streams through as a replica
// (its primary_slot_name).
func (c *Cluster) SlotOf(h storage.HostID) string { return c.slotName(h) }

// bootConfig is host h's configuration for its next start: the resolved
// options plus the primary_slot_name its last rebuild wrote.
func (c *Cluster) bootConfig(h storage.HostID) shmem.Config {
	cfg := c.NodeConfig(h)
	if int(h) <= len(c.slotNames) {
		cfg.PrimarySlotName = c.slotNames[h-1]
	}
	return cfg
}

// startStandbys starts every standby and waits for its hot standby.
func (c *Cluster) startStandbys() error {
	for _, h := range c.StandbyHosts() {
		if err := c.Start(h, postmaster.RoleStandby); err != nil {
			return err
		}
		n := c.Node(h)
		if err := c.await(fmt.Sprintf("%v hot standby", h), func() bool { return n.Accepting }); err != nil {
			return err
		}
	}
	return nil
}

// startStandby boots standby host h on its own disk, taking the base backup
// first if the disk is new.
func (c *Cluster) startStandby(h storage.HostID) error {
	k := int(h) - c.Opts.Nodes
	slot := shmem.StandbySlotName(k)
	dev := c.standbyDevs[k-1]
	if dev == nil {
		p := c.Primary()
		if p == nil {
			return fmt.Errorf("pg_ctl start: standby %v has no disk yet and no primary runs to take its base backup from", h)
		}
		d, err := storage.NewDevice(storage.DeviceConfig{Blocks: c.Opts.DeviceBlocks, Fence: storage.FenceNone, Local: true})
		if err != nil {
			return err
		}
		// The slot first (pg_basebackup -S): the primary keeps the WAL from
		// the backup's redo pointer on.
		if err := c.Op.EnsureSlot(p, slot, p.Control.Redo); err != nil {
			return err
		}
		if _, _, err := c.Op.BaseBackup(p, d, h); err != nil {
			return err
		}
		dev = d
		c.standbyDevs[k-1] = d
	}
	n, err := c.Op.BootStandby(dev, c.NodeConfig(h), slot, c.Opts.Sessions)
	if err != nil {
		return err
	}
	c.nodes[h-1] = n
	c.client[h-1] = 0
	return nil
}

// StandbyStatus renders a standby: its own disk, the BGW's parallel replay,
// how far WAL was received (flushed to its disk) and replayed (parsed).
func (c *Cluster) StandbyStatus(n *shmem.Node) string {
	if !c.Op.Alive(n) {
		return fmt.Sprintf("%v %-7s storage=own", n.Cfg.Host, "down")
	}
	if n.Primary && !n.InRecovery {
		// Promoted: the primary of its own history on its own disk.
		return fmt.Sprintf("%s storage=own tli=%d", c.NodeStatus(n), n.Control.TLI)
	}
	return fmt.Sprintf("%v standby storage=own mount=%s service=%s bgw=%s received=%v replay=%v replay_point=%v fake_oldest=%v consistent=%v redo=%v dirty=%d",
		n.Cfg.Host, n.Mount.Mode(), service(n), n.BGW.State(), n.ReceivedLSN, n.ReplayLSN,
		n.BGW.ReplayPoint(), n.BGW.FakeOldest(), n.Pool.ConsistentLSN(), n.Control.Redo, n.Pool.FlushLen())
}

// OwnSlot is the name of n's own former replica slot if n holds it.
func OwnSlot(n *shmem.Node) string {
	name := n.Cfg.Slot()
	for _, s := range n.Slots {
		if s.Name == name {
			return name
		}
	}
	return ""
}

// StandbyPromoted reports whether standby host h was promoted: its own disk's
// control file says it is the primary (StartupXLOG wrote DB_IN_PRODUCTION
// there and removed standby.signal).
func (c *Cluster) StandbyPromoted(h storage.HostID) bool {
	if n := c.Node(h); n != nil && n.Primary {
		return true
	}
	dev := c.StandbyDevice(h)
	if dev == nil {
		return false
	}
	ctl, ok := ownControl(dev)
	return ok && ctl.Primary == h
}

// ownControl reads the control file of a standby's own disk as an observer.
func ownControl(dev *storage.Device) (shmem.Control, bool) {
	m, err := dev.Mount(observerHost, storage.MountReadOnly)
	if err != nil {
		return shmem.Control{}, false
	}
	defer dev.Unmount(observerHost)
	ctl, err := shmem.ReadControl(m)
	return ctl, err == nil
}

// observerHost mounts a disk to look at it (never a node's host id).
const observerHost storage.HostID = 250

// startPromotedStandby boots promoted standby h as a primary on its own
// disk: crash recovery from that disk's control file, then read-write
// service (PolarDB's test 007: the promoted standby stopped immediately
// and started again).
func (c *Cluster) startPromotedStandby(h storage.HostID, local shmem.Control) error {
	n, err := c.Op.Boot(c.StandbyDevice(h), c.NodeConfig(h), postmaster.RolePrimary, local, c.Opts.Sessions)
	if err != nil {
		return err
	}
	c.nodes[h-1] = n
	c.client[h-1] = 0
	return nil
}

// PromotedStandby returns a promoted standby serving read-write on its own
// disk, if any (the first, by host).
func (c *Cluster) PromotedStandby() *shmem.Node {
	for _, h := range c.StandbyHosts() {
		if n := c.Node(h); n != nil && n.Primary && n.ReadWrite && c.Op.Alive(n) {
			return n
		}
	}
	return nil
}
