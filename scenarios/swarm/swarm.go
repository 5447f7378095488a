package swarm

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"promotesim/postmaster"
	"promotesim/scenarios/cluster"
	"promotesim/scenarios/hazard"
	"promotesim/scenarios/script"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// A swarm world (TigerBeetle's VOPR, swarm testing): one seed derives the
// cluster options and which classes of actions and faults are enabled, then
// a planner draws a program of world commands (the same command language as
// the scripts) from the seed, executing each as it goes so it can look at
// the cluster to choose sensible operator actions. The program is recorded:
// a world is replayed from its cluster line and its commands alone, and any
// subsequence of them is still a runnable script (a refused command is not an
// error), which is what lets the explorer shrink a failing world.

// Base is what the explorer fixes for every world: the protocol profile,
// the fence mode and the hazard under test. Zero values mean v15, none and
// no hazard.
type Base struct {
	Profile shmem.Profile
	Fence   storage.FenceMode
	Hazard  string
}

// Class is one class of actions or faults a swarm world may enable.
type Class uint16

// The classes. Writes and promote are always on: a world is about promote.
const (
	ClassWrite Class = 1 << iota
	ClassPromote
	ClassAbort
	ClassRead
	ClassStop
	ClassCrash
	ClassRestart
	ClassIOError
	ClassLatency
	ClassPause
	ClassStallSave
	// ClassCheckpoint: the operator's CHECKPOINT (forced, not lazy) on the
	// writer, the promoting node included.
	ClassCheckpoint
	classEnd
)

var classNames = []string{"write", "promote", "abort", "read", "stop", "crash", "restart", "io-error", "latency", "pause", "stall-save", "checkpoint"}

func (c Class) String() string {
	var parts []string
	for i, name := range classNames {
		if c&(1<<i) != 0 {
			parts = append(parts, name)
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

// ParseClasses reads a comma-separated class list ("all" for every class).
func ParseClasses(s string) (Class, error) {
	if s == "all" {
		return classEnd - 1, nil
	}
	var c Class
	for _, part := range strings.Split(s, ",") {
		found := false
		for i, name := range classNames {
			if part == name {
				c |= 1 << i
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown action class %q (known: %s)", part, strings.Join(classNames, ", "))
		}
	}
	return c | ClassWrite | ClassPromote, nil
}

// Swarm is everything one seed decides before the world starts.
type Swarm struct {
	Seed    uint64
	Base    Base
	Opts    cluster.Options
	Classes Class
	// Actions is the number of commands of the safety phase.
	Actions int
}

// DeriveSwarm derives a world's options and enabled classes from its seed.
// Each decision draws from its own forked stream, so adding one never
// changes the others (old seeds keep their options).
func DeriveSwarm(seed uint64, base Base) (Swarm, error) {
	if base.Profile == 0 {
		base.Profile = shmem.ProfileV15
	}
	if base.Fence == 0 {
		base.Fence = storage.FenceNone
	}
	root := sim.NewRand(seed).Fork("swarm")
	pick := func(label string, lo, hi int) int { return lo + root.Fork(label).Intn(hi-lo+1) }
	o := cluster.DefaultOptions()
	o.Profile, o.Fence, o.Hazard = base.Profile, base.Fence, base.Hazard
	o.Nodes = 2
	if pick("nodes", 0, 1) == 0 {
		o.Nodes = 3
	}
	o.Pages = pick("pages", 2, 6)
	o.PoolFrames = pick("pool", 3, 8)
	o.QueueBuffers = pick("queue", 3, 24)
	o.LogIndexMem = pick("logindex-mem", 2, 4)
	if pick("replica-ring", 0, 1) == 0 {
		// Replicas with a smaller memtable ring than the primary's fill
		// theirs first when the primary stops saving.
		o.ReplicaLogIndexMem = 2
		o.LogIndexMem = max(o.LogIndexMem, 3)
	}
	o.TableSize = pick("table-size", 8, 20)
	o.BatchSize = pick("batch", 1, 8)
	o.ReplayWorkers = pick("workers", 1, 4)
	o.Sessions = pick("sessions", 1, 3)
	// A small device: the world writes a few hundred blocks at most, and
	// building a big one would cost more than the world's steps.
	o.DeviceBlocks = 512
	classes := ClassWrite | ClassPromote
	cr := root.Fork("classes")
	for c := ClassAbort; c < classEnd; c <<= 1 {
		if cr.Intn(2) == 0 {
			classes |= c
		}
	}
	sw := Swarm{Seed: seed, Base: base, Opts: o, Classes: classes, Actions: pick("actions", 20, 60)}
	if err := o.Validate(); err != nil {
		return Swarm{}, err
	}
	return sw, nil
}

// ClusterLine is the script command that builds this world's cluster.
func (s Swarm) ClusterLine() string {
	o := s.Opts
	var b strings.Builder
	fmt.Fprintf(&b, "cluster nodes=%d pages=%d pool=%d queue=%d logindex-mem=%d", o.Nodes, o.Pages, o.PoolFrames, o.QueueBuffers, o.LogIndexMem)
	if o.ReplicaLogIndexMem > 0 {
		fmt.Fprintf(&b, " replica-logindex-mem=%d", o.ReplicaLogIndexMem)
	}
	fmt.Fprintf(&b, " table-size=%d batch=%d workers=%d sessions=%d fence=%v profile=%v", o.TableSize, o.BatchSize, o.ReplayWorkers, o.Sessions, o.Fence, o.Profile)
	if o.Hazard != "" {
		fmt.Fprintf(&b, " hazard=%s", o.Hazard)
	}
	fmt.Fprintf(&b, " seed=%d sched=random", s.Seed)
	return b.String()
}

// String renders what the seed derived, printed first for a failing seed.
func (s Swarm) String() string {
	h := s.Base.Hazard
	if h == "" {
		h = "-"
	}
	o := s.Opts
	return fmt.Sprintf("seed=%d profile=%v fence=%v hazard=%s nodes=%d pages=%d pool=%d queue=%d logindex-mem=%d/%d table-size=%d batch=%d workers=%d sessions=%d actions=%d classes=%v",
		s.Seed, o.Profile, o.Fence, h, o.Nodes, o.Pages, o.PoolFrames, o.QueueBuffers, o.LogIndexMem, o.ReplicaLogIndexMem,
		o.TableSize, o.BatchSize, o.ReplayWorkers, o.Sessions, s.Actions, s.Classes)
}

// RunConfig says how to run a world: who schedules and where the trace
// goes. The zero value runs quietly with the seeded random schedule.
type RunConfig struct {
	// Chooser overrides the seeded schedule (a Recorder, a Scripted replay,
	// a rapid-backed chooser).
	Chooser sim.Chooser
	// Out receives the trace at Level (nil: no trace, only the ring kept
	// for violation reports).
	Out   io.Writer
	Level sim.Level
	// SkipLiveness ends the world after the safety phase.
	SkipLiveness bool
}

// Outcome is what one world did.
type Outcome struct {
	Swarm   Swarm
	Cluster string   // the cluster line
	Actions []string // every command after the cluster line, in order
	Refused int      // commands the cluster refused in its state
	Steps   uint64
	Hash    uint64 // trace hash: same seed, same hash
	Marks   []string
	// Violation is the first safety or liveness violation (nil: clean).
	Violation *sim.Violation
}

// worldWaitBudget bounds how long a world command waits for its effect.
const worldWaitBudget = 2000

// World is one running swarm world.
type World struct {
	Swarm Swarm
	R     *script.Runner
	out   Outcome
	plan  *sim.Rand
	cfg   RunConfig
	hz    hazard.Hazard
	// promoted counts promotes requested, so every world promotes once.
	promoted int
	// paused lists the "node=N proc=P" the planner held and has not
	// released yet.
	paused []string
}

// NewWorld builds the world's cluster (the boot is checked like every
// later step).
func NewWorld(sw Swarm, cfg RunConfig) (*World, error) {
	w := &World{Swarm: sw, cfg: cfg, plan: sim.NewRand(sw.Seed).Fork("plan")}
	if sw.Opts.Hazard != "" {
		hz, err := hazard.Lookup(sw.Opts.Hazard)
		if err != nil {
			return nil, err
		}
		w.hz = hz
	}
	w.R = newWorldRunner(sw.Seed, cfg)
	w.out = Outcome{Swarm: sw, Cluster: sw.ClusterLine()}
	if _, err := w.R.Exec(w.out.Cluster); err != nil {
		var v *sim.Violation
		if errors.As(err, &v) {
			w.out.Violation = v
			return w, nil
		}
		return nil, fmt.Errorf("building the world of seed %d: %w", sw.Seed, err)
	}
	return w, nil
}

func newWorldRunner(seed uint64, cfg RunConfig) *script.Runner {
	r := script.NewRunner(seed, cfg.Level, sim.FormatText)
	r.Quiet = cfg.Out == nil
	// A world command that waits (stop) gives up after this many steps; a
	// world goes on either way, so a long wait only burns time.
	r.Budget = worldWaitBudget
	r.Chooser = cfg.Chooser
	r.TraceTo = cfg.Out
	return r
}

// Exec runs one world command and records it. It returns the violation
// the command ran into, if any; a refused command is only counted.
func (w *World) Exec(cmd string) *sim.Violation {
	if w.out.Violation != nil {
		return w.out.Violation
	}
	w.out.Actions = append(w.out.Actions, cmd)
	_, err := w.R.Exec(cmd)
	if err != nil {
		var v *sim.Violation
		if errors.As(err, &v) {
			w.out.Violation = v
			return v
		}
		w.out.Refused++
	}
	if strings.HasPrefix(cmd, "crash ") {
		// A crash point: the whole-state checks (crash recovery from
		// shared storage) run here, not after every step.
		if v := w.R.FullCheck(); v != nil {
			w.out.Violation = v
			return v
		}
	}
	return nil
}

// Outcome returns what the world did so far.
func (w *World) Outcome() Outcome {
	o := w.out
	if w.R.C != nil {
		o.Steps = w.R.C.S.StepNo()
		o.Hash = w.R.C.S.Trace().Hash()
		o.Marks = w.R.C.S.Marks().Names()
	}
	return o
}

// RunSwarm runs a whole seeded world: the safety phase (the planner's
// commands, faults included), then the liveness phase and the whole-state
// checks at its end.
func RunSwarm(sw Swarm, cfg RunConfig) (Outcome, error) {
	w, err := NewWorld(sw, cfg)
	if err != nil {
		return Outcome{}, err
	}
	return w.Run(), nil
}

// Run runs a built world's program: the safety phase (the planner's
// commands, faults included), then the liveness phase and the whole-state
// checks at its end (RunSwarm is NewWorld and Run).
func (w *World) Run() Outcome {
	for i := 0; i < w.Swarm.Actions && w.out.Violation == nil; i++ {
		for _, cmd := range w.next(i) {
			if w.Exec(cmd) != nil {
				break
			}
		}
	}
	w.finish()
	return w.Outcome()
}

// finish runs the end of a world: liveness, then the whole-state checks.
func (w *World) finish() {
	if w.out.Violation != nil {
		return
	}
	// The whole-state checks are recorded commands, so a replay of the
	// program (or of a shrunk part of it) checks at the same points.
	if w.Exec("run steps=200") != nil || w.Exec("check all") != nil {
		return
	}
	if w.cfg.SkipLiveness {
		return
	}
	if w.Exec("liveness") != nil {
		return
	}
	w.Exec("check all")
}

// Replay runs a recorded world: its cluster line and its commands. The
// whole-state checks run at crash points and at the end, as in RunSwarm.
func Replay(cluster string, actions []string, seed uint64, cfg RunConfig) (Outcome, error) {
	r := newWorldRunner(seed, cfg)
	w := &World{R: r, cfg: cfg, out: Outcome{Cluster: cluster}}
	if _, err := r.Exec(cluster); err != nil {
		var v *sim.Violation
		if !errors.As(err, &v) {
			return Outcome{}, fmt.Errorf("replay: %s: %w", cluster, err)
		}
		w.out.Violation = v
		return w.Outcome(), nil
	}
	for _, cmd := range actions {
		if w.Exec(cmd) != nil {
			break
		}
	}
	if w.out.Violation == nil {
		if v := r.FullCheck(); v != nil {
			w.out.Violation = v
		}
	}
	return w.Outcome(), nil
}

// next draws the commands of safety-phase action i.
func (w *World) next(i int) []string {
	c := w.R.C
	rnd := w.plan
	sw := w.Swarm
	p := w.R.LivePrimary()
	writer := w.liveWriter()
	var replicas, down, live []storage.HostID
	for _, h := range c.Hosts() {
		n := c.Node(h)
		switch {
		case n == nil || !postmaster.Alive(c.S, n):
			down = append(down, h)
		default:
			live = append(live, h)
			if n.InRecovery && script.Serving(n) && !w.R.Promoting(h) {
				replicas = append(replicas, h)
			}
		}
	}
	promoting := false
	for _, h := range c.Hosts() {
		if w.R.Promoting(h) {
			promoting = true
		}
	}
	// After a promote the operator drops the new primary's own former
	// slot: nobody will stream from it, and it would pin the flush gate.
	if p != nil {
		if own := cluster.OwnSlot(p); own != "" {
			return []string{fmt.Sprintf("drop-slot node=%d name=%s", p.Cfg.Host, own)}
		}
	}
	// Every world promotes at least once: past half of the actions, a
	// world that has not promoted yet does the switchover now.
	if w.promoted == 0 && i >= sw.Actions/2 && len(replicas) > 0 && !promoting {
		if writer != nil && !w.promoteAllowedWith(writer) {
			// Stop the old primary first; the promote comes at a later
			// action, once it is really down (a paused process can hold a
			// fast shutdown up until the faults heal).
			mode := "fast"
			if rnd.Intn(2) == 0 {
				mode = "immediate"
			}
			return []string{fmt.Sprintf("stop node=%d mode=%s", writer.Cfg.Host, mode)}
		}
		return w.promoteCmds(replicas[rnd.Intn(len(replicas))])
	}
	type choice struct {
		weight int
		cmd    func() []string
	}
	var cs []choice
	add := func(weight int, f func() []string) { cs = append(cs, choice{weight, f}) }
	one := func(s string) []string { return []string{s} }
	add(30, func() []string {
		steps := 1 + rnd.Intn(100)
		if rnd.Intn(6) == 0 {
			steps = 100 + rnd.Intn(600)
		}
		return one(fmt.Sprintf("run steps=%d", steps))
	})
	if target := w.writeTarget(p, writer); target != nil {
		add(30, func() []string {
			abort := ""
			if sw.Classes&ClassAbort != 0 && rnd.Intn(6) == 0 {
				abort = " abort=true"
			}
			count := ""
			if rnd.Intn(4) == 0 {
				count = fmt.Sprintf(" count=%d", 2+rnd.Intn(30))
			}
			return one(fmt.Sprintf("submit node=%d page=%d slot=%d%s%s", target.Cfg.Host, rnd.Intn(sw.Opts.Pages), rnd.Intn(storage.PageSlots), abort, count))
		})
	}
	if sw.Classes&ClassRead != 0 && len(live) > 0 {
		add(15, func() []string {
			count := ""
			if rnd.Intn(3) == 0 {
				count = fmt.Sprintf(" count=%d", 2+rnd.Intn(2*sw.Opts.Pages))
			}
			return one(fmt.Sprintf("submit-read node=%d page=%d%s", live[rnd.Intn(len(live))], rnd.Intn(sw.Opts.Pages), count))
		})
	}
	if len(replicas) > 0 && !promoting && (writer == nil || w.promoteAllowedWith(writer)) {
		add(6, func() []string { return w.promoteCmds(replicas[rnd.Intn(len(replicas))]) })
	}
	if sw.Classes&ClassStop != 0 && len(live) > 0 {
		add(3, func() []string {
			mode := "fast"
			if rnd.Intn(2) == 0 {
				mode = "immediate"
			}
			return one(fmt.Sprintf("stop node=%d mode=%s", live[rnd.Intn(len(live))], mode))
		})
	}
	if sw.Classes&ClassCrash != 0 && len(live) > 0 {
		add(3, func() []string { return one(fmt.Sprintf("crash node=%d", live[rnd.Intn(len(live))])) })
	}
	if sw.Classes&ClassRestart != 0 && len(down) > 0 {
		h := down[rnd.Intn(len(down))]
		switch {
		case p != nil:
			add(6, func() []string { return one(fmt.Sprintf("rebuild node=%d", h)) })
		case writer == nil && !promoting && c.Node(h) != nil:
			add(3, func() []string { return one(fmt.Sprintf("start node=%d role=primary", h)) })
		}
	}
	if sw.Classes&ClassIOError != 0 && len(live) > 0 {
		add(2, func() []string {
			ops := []string{"write", "sync", "read"}
			paths := []string{"", "base/", "pg_wal/", "pg_logindex/", "global/"}
			return one(fmt.Sprintf("fault node=%d kind=io-error op=%s path=%s count=%d", live[rnd.Intn(len(live))],
				ops[rnd.Intn(len(ops))], paths[rnd.Intn(len(paths))], 1+rnd.Intn(2)))
		})
	}
	if sw.Classes&ClassLatency != 0 && len(live) > 0 {
		add(2, func() []string {
			ticks := 1 + rnd.Intn(20)
			if rnd.Intn(2) == 0 {
				ticks = 20 + rnd.Intn(300) // slow enough to hold a read across a promote
			}
			target := live[rnd.Intn(len(live))]
			if len(replicas) > 0 && rnd.Intn(3) > 0 {
				target = replicas[rnd.Intn(len(replicas))] // a replica's slow reads
			}
			return one(fmt.Sprintf("fault node=%d kind=latency ticks=%d", target, ticks))
		})
	}
	if sw.Classes&(ClassIOError|ClassLatency|ClassPause|ClassStallSave) != 0 {
		add(2, func() []string { return one("heal") })
	}
	if sw.Classes&ClassPause != 0 && len(live) > 0 {
		// PolarDB's injection points: hold a process (most often a
		// replica's BGW, so it lags), and later release what was held.
		add(3, func() []string {
			procs := []string{"bgw", "bgw", "bgw", "startup", "startup", "bgwriter", "walreceiver", "checkpointer"}
			target := live[rnd.Intn(len(live))]
			if len(replicas) > 0 && rnd.Intn(3) > 0 {
				target = replicas[rnd.Intn(len(replicas))] // a lagging replica
			}
			cmd := fmt.Sprintf("node=%d proc=%s", target, procs[rnd.Intn(len(procs))])
			w.paused = append(w.paused, cmd)
			return one("pause " + cmd)
		})
		if len(w.paused) > 0 {
			add(2, func() []string {
				i := rnd.Intn(len(w.paused))
				cmd := w.paused[i]
				w.paused = append(w.paused[:i], w.paused[i+1:]...)
				return one("resume " + cmd)
			})
		}
	}
	if sw.Classes&ClassStallSave != 0 && p != nil {
		// The primary stops saving LogIndex tables (and later resumes):
		// replicas' memtable rings fill up behind it.
		verb := "stall-save"
		weight := 4
		if p.SaveStalled {
			verb, weight = "resume-save", 1
		}
		add(weight, func() []string { return one(fmt.Sprintf("%s node=%d", verb, p.Cfg.Host)) })
	}
	if sw.Classes&ClassCheckpoint != 0 && writer != nil {
		add(2, func() []string { return one(fmt.Sprintf("checkpoint node=%d", writer.Cfg.Host)) })
	}
	total := 0
	for _, ch := range cs {
		total += ch.weight
	}
	x := rnd.Intn(total)
	for _, ch := range cs {
		if x < ch.weight {
			return ch.cmd()
		}
		x -= ch.weight
	}
	return nil
}

// liveWriter is the live node that writes shared storage, or believes it
// may (a primary, or a node in the middle of a promote), if any. A primary
// still in crash recovery counts too: it holds the read-write mount and
// writes its end-of-recovery record when replay ends.
func (w *World) liveWriter() *shmem.Node {
	c := w.R.C
	for _, h := range c.Hosts() {
		n := c.Node(h)
		if n != nil && postmaster.Alive(c.S, n) && (n.Primary || !n.InRecovery ||
			n.Mount != nil && n.Mount.Mode() == storage.MountReadWrite) {
			return n
		}
	}
	return nil
}

// promoteAllowedWith reports whether the operator may promote a replica
// while writer still runs: only when fencing protects the old writer's
// storage, or when the hazard under test is exactly that.
func (w *World) promoteAllowedWith(writer *shmem.Node) bool {
	if writer == nil || w.hz.KeepPrimaryRunning {
		return true
	}
	return w.Swarm.Opts.Fence != storage.FenceNone
}

// writeTarget is where clients send writes: the read-write primary, or
// under promote-while-primary-writes the old primary while it lives.
func (w *World) writeTarget(p, writer *shmem.Node) *shmem.Node {
	if w.hz.KeepPrimaryRunning && writer != nil && writer.ReadWrite {
		return writer
	}
	return p
}

func (w *World) promoteCmd(h storage.HostID) string {
	w.promoted++
	if w.hz.TriggerFile {
		return fmt.Sprintf("trigger node=%d", h)
	}
	return fmt.Sprintf("promote node=%d", h)
}

// promoteCmds promotes h; clients reading on h until the last moment
// (a read still in flight when promote begins) come with it half the time.
func (w *World) promoteCmds(h storage.HostID) []string {
	var cmds []string
	if w.Swarm.Classes&ClassPause != 0 && w.plan.Intn(3) == 0 {
		// Another replica lags through the promote (its startup held):
		// the new primary must still hold its flush gate and LogIndex.
		for _, o := range w.R.C.Hosts() {
			if n := w.R.C.Node(o); o != h && n != nil && n.InRecovery && postmaster.Alive(w.R.C.S, n) {
				cmd := fmt.Sprintf("node=%d proc=startup", o)
				w.paused = append(w.paused, cmd)
				cmds = append(cmds, "pause "+cmd)
				break
			}
		}
	}
	if w.Swarm.Classes&ClassRead != 0 && w.plan.Intn(2) == 0 {
		cmds = append(cmds, fmt.Sprintf("submit-read node=%d page=0 count=%d", h, w.Swarm.Opts.Pages))
	}
	return append(cmds, w.promoteCmd(h))
}
