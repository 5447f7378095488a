package swarm

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"promotesim/scenarios/check"
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
// the fence mode, the hazard under test and the scheduling strategy. Zero
// values mean v15 (PolarDB's code as it is: Fixed false), none, no hazard
// and uniform random scheduling; a Swarm strategy lets each seed derive its
// own (DeriveSwarm).
type Base struct {
	Profile shmem.Profile
	// Fixed: the profile's -fixed variant (cluster.Options.Fixed).
	Fixed  bool
	Fence  storage.FenceMode
	Hazard string
	// Sched is the scheduling strategy (sim.ParseStrategy); swarm lets
	// each seed derive its own.
	Sched sim.Strategy
	// Without masks classes off whatever the seed draws: a regression
	// test pinning a seed found before a class existed keeps its world.
	Without Class
	// With turns classes on whatever the seed draws: a regression test
	// pinning a seed found while that class was on keeps it on.
	With Class
	// Faithful is the faithful switches a fixed profile's worlds take
	// (cluster.Options.Faithful): a hunt for a behaviour of PolarDB's
	// that its other findings mask.
	Faithful string
	// Hunt biases the worlds toward a story (hunt.go, HuntNames) without
	// planting its hazard; empty: the hazard's own hunt, if it has one.
	Hunt string
}

// Class is one class of actions or faults a swarm world may enable (a
// bit each; uint32: more than sixteen classes).
type Class uint32

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
	// ClassStandby: a standby on its own disk, promoted, crashed and
	// restarted (standby.go).
	ClassStandby
	// ClassTwoPhase: prepared transactions (PREPARE TRANSACTION, COMMIT
	// and ROLLBACK PREPARED), gen_twophase.go.
	ClassTwoPhase
	// ClassLogical: logical slots created and consumed (gen_logical.go).
	ClassLogical
	// ClassReuse: pages freed and reused (reinitialised with
	// RBM_ZERO_AND_LOCK and an init record), genReuse.
	ClassReuse
	// ClassTornWAL: the walwriter writes whole WAL pages and syncs them in
	// a later step (cluster.Options.WALWriteBehind), and genTornWAL crashes
	// the primary with WAL pending: missing last records, or a record
	// whose continuation page is missing.
	ClassTornWAL
	// ClassKill: kill -9 of one child (bgwriter, BGW, checkpointer,
	// walwriter), PolarDB's test 002_promote_kill (fidelity.go).
	ClassKill
	// ClassPendingPromote: a replica restarted and promoted before it
	// reaches hot standby, PolarDB's test 003_promote_replica_pending
	// (fidelity.go).
	ClassPendingPromote
	// ClassLagPromote: a replica promoted while its queue has not caught
	// up (it reads WAL from storage at the trigger) (fidelity.go).
	ClassLagPromote
	// ClassTriggerFile: the operator promotes a replica by its trigger
	// file, finds the promote hanging (startup waits in P3 for a BGW that
	// never heard of it) and runs pg_ctl promote, which tells the BGW
	// (promoteCmd; without the pg_ctl promote it is the hazard
	// trigger-file-promote).
	ClassTriggerFile
	classEnd
)

var classNames = []string{"write", "promote", "abort", "read", "stop", "crash", "restart", "io-error", "latency", "pause", "stall-save", "checkpoint", "standby", "twophase", "logical", "reuse", "torn-wal", "kill", "pending-promote", "lag-promote", "trigger-file"}

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
	// Sched is the world's scheduling strategy, never Swarm: Base.Sched,
	// or the one the seed derived when that is Swarm.
	Sched sim.Strategy
	// Hunt names the hazard whose hunt biased the world (hunt.go): its
	// options and classes as derived, and what its planner adds to
	// promotes and stops. Empty: not biased. It stays when Opts.Hazard is
	// cleared, so the same biased world runs without the hazard.
	Hunt string
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
	o.Profile, o.Fixed, o.Fence, o.Hazard = base.Profile, base.Fixed, base.Fence, base.Hazard
	o.Faithful = base.Faithful
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
	// polar_enable_replica_prewarm on one world in four: the BGW a
	// replica wakes at hot standby replays in parallel
	// (polar_logindex_wakeup_bg_replay).
	o.Prewarm = pick("prewarm", 0, 3) == 0
	hunt := base.Hunt
	if hunt == "" {
		hunt = base.Hazard
	}
	classes := ClassWrite | ClassPromote
	classes |= drawClasses(root)
	classes |= HuntClasses(hunt)
	classes &^= HuntMasks(hunt)
	classes |= base.With
	classes &^= base.Without &^ (ClassWrite | ClassPromote)
	if d := huntBiases[hunt].checkpointDistance; d[1] > 0 {
		o.CheckpointDistance = pick("hunt-checkpoint-distance", d[0], d[1])
	}
	o.WALWriteBehind = classes&ClassTornWAL != 0
	if classes&ClassStandby != 0 && !logIndexOff(base.Hazard) {
		// A standby replays only through LogIndex
		// (startup.ErrStandbyNeedsLogIndex).
		o.Standbys = pick("standbys", 1, 2)
	}
	sw := Swarm{Seed: seed, Base: base, Opts: o, Classes: classes, Actions: pick("actions", 20, 60), Sched: base.Sched}
	if _, ok := huntBiases[hunt]; ok {
		sw.Hunt = hunt
	} else if base.Hunt != "" {
		return Swarm{}, fmt.Errorf("unknown hunt %q: want one of %s", base.Hunt, strings.Join(HuntNames(), ", "))
	}
	if err := base.Sched.Validate(); err != nil {
		return Swarm{}, err
	}
	if base.Sched.Kind == sim.Swarm {
		// Its own fork: the options above do not depend on the strategy.
		sw.Sched = sim.DeriveStrategy(root.Fork("sched"))
	}
	if err := o.Validate(); err != nil {
		return Swarm{}, err
	}
	return sw, nil
}

// IssueTenPaths are the action classes issue 10 added (the paths PolarDB's
// code opens: child kills, promote before hot standby, promote with the
// queue behind).
const IssueTenPaths = ClassKill | ClassPendingPromote | ClassLagPromote

// WithoutIssueTenPaths is the world as its seed derived it before issue
// 10: those classes off and prewarm off, so its program is the one a
// regression test pinned then.
func (s Swarm) WithoutIssueTenPaths() Swarm {
	s.Classes &^= IssueTenPaths
	s.Opts.Prewarm = false
	return s
}

// drawClasses draws which optional classes a world enables, each with
// probability one half. The first classes (up to ClassCheckpoint) draw in
// order from one stream, as they always have; every class added since
// draws from a stream of its own, forked by its name, so adding a class
// never changes what another class draws (old seeds keep their worlds but
// for the new class itself).
func drawClasses(root *sim.Rand) Class {
	var classes Class
	cr := root.Fork("classes")
	for i, c := 2, ClassAbort; c < classEnd; i, c = i+1, c<<1 {
		r := cr
		if c > ClassCheckpoint {
			r = root.Fork("classes/" + classNames[i])
		}
		if r.Intn(2) == 0 {
			classes |= c
		}
	}
	return classes
}

// Cluster is the script command that builds this world's cluster. It
// carries the world's wait budget, so a counterexample file's commands wait
// as long as the world's did and its replay asks the scheduler the same
// questions (a stop under PCT can wait out the whole budget).
func (s Swarm) Cluster() script.Cluster {
	return script.Cluster{Opts: s.Opts, Seed: s.Seed, HasSeed: true, Sched: script.SchedFor(s.Sched),
		Budget: worldWaitBudget, HasBudget: true}
}

// ClusterLine is Cluster as its script line.
func (s Swarm) ClusterLine() string { return s.Cluster().String() }

// String renders what the seed derived, printed first for a failing seed.
func (s Swarm) String() string {
	str := fmt.Sprintf("seed=%d %s actions=%d classes=%v", s.Seed, s.Opts.Summary(), s.Actions, s.Classes)
	if s.Base.Hunt != "" {
		str += " hunt=" + s.Base.Hunt
	}
	if s.Sched.Kind != sim.Uniform {
		str += " sched=" + s.Sched.String()
	}
	return str
}

// RunConfig says how to run a world: who schedules and where the trace
// goes. The zero value runs quietly with the seeded random schedule.
type RunConfig struct {
	// Chooser overrides the seeded schedule of the cluster line (a
	// Recorder, a Scripted replay, a rapid-backed chooser).
	Chooser sim.Chooser
	// Out receives the trace at Level (nil: no trace, only the ring kept
	// for violation reports).
	Out   io.Writer
	Level sim.Level
	// SkipLiveness ends the world after the safety phase.
	SkipLiveness bool
	// CheckWakes runs the world in the scheduler's wake-check mode
	// (sim.Config.CheckWakes): same schedule, every remembered Ready
	// answer compared with a fresh one.
	CheckWakes bool
}

// Outcome is what one world did.
type Outcome struct {
	Swarm   Swarm
	Cluster script.Cluster   // builds the world
	Actions []script.Command // every command after the cluster line, in order
	Refused int              // commands the cluster refused in its state
	Steps   uint64
	Hash    uint64 // trace hash: same seed, same hash
	Marks   []string
	// Exercised is how often each claim compared something (its
	// "sometimes" count), in catalogue order.
	Exercised []check.Exercise
	// Violation is the first safety or liveness violation (nil: clean).
	Violation *sim.Violation
}

// worldWaitBudget bounds how long a world command waits for its effect
// (stop, submit): a world goes on either way, so a long wait only burns
// time. The world's cluster line carries it (budget=), which sets the
// runner's Budget in the world and in every replay of its file alike.
const worldWaitBudget = 2000

// World is one running swarm world.
type World struct {
	Swarm Swarm
	R     *script.Runner
	out   Outcome
	plan  *sim.Rand
	// post draws the operator's steps after a promote request (the
	// trigger file's rescue, a CHECKPOINT once out of recovery) from a
	// stream of its own, so worlds that take none keep their programs.
	post *sim.Rand
	cfg  RunConfig
	hz   hazard.Hazard
	// promoted counts promotes requested, so every world promotes once.
	promoted int
	// paused lists the processes the planner held and has not released
	// yet.
	paused []script.Pause
	// lagged is the replica genLagPromote holds behind a stopping primary,
	// to release and promote at a later action (0: none).
	lagged storage.HostID
	// rescue is the replica promoted by its trigger file, to be promoted
	// by pg_ctl once startup has taken the file (0: none).
	rescue storage.HostID
	// hunt draws what a biased hazard hunt adds to the promote (hunt.go),
	// from a stream of its own; nil until first used.
	hunt *sim.Rand
	// choices is next's list of the action classes' offers, kept between
	// actions so each action does not regrow it from empty.
	choices []choice
	// seen is the planner's view of the cluster (look), refilled by each
	// action.
	seen view
}

// NewWorld builds the world's cluster (the boot is checked like every
// later step).
func NewWorld(sw Swarm, cfg RunConfig) (*World, error) {
	w := &World{Swarm: sw, cfg: cfg, plan: sim.NewRand(sw.Seed).Fork("plan"), post: sim.NewRand(sw.Seed).Fork("post-promote")}
	if sw.Opts.Hazard != "" {
		hz, err := hazard.Lookup(sw.Opts.Hazard)
		if err != nil {
			return nil, err
		}
		w.hz = hz
	}
	w.R = newWorldRunner(sw.Seed, cfg)
	w.out = Outcome{Swarm: sw, Cluster: sw.Cluster()}
	if _, err := w.R.Run(w.out.Cluster); err != nil {
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
	r.Chooser = cfg.Chooser
	r.TraceTo = cfg.Out
	r.CheckWakes = cfg.CheckWakes
	return r
}

// Exec runs one world command and records it. It returns the violation
// the command ran into, if any; a refused command is only counted.
func (w *World) Exec(cmd script.Command) *sim.Violation {
	if w.out.Violation != nil {
		return w.out.Violation
	}
	w.out.Actions = append(w.out.Actions, cmd)
	_, err := w.R.Run(cmd)
	if err != nil {
		var v *sim.Violation
		if errors.As(err, &v) {
			w.out.Violation = v
			return v
		}
		w.out.Refused++
	}
	if _, crash := cmd.(script.Crash); crash {
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
	if w.R.K != nil {
		o.Exercised = w.R.K.Exercised()
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
	if w.rescue != 0 && w.R.Promoting(w.rescue) && w.Exec(w.rescueCmd()) != nil {
		return
	}
	// The whole-state checks are recorded commands, so a replay of the
	// program (or of a shrunk part of it) checks at the same points.
	if w.Exec(script.Run{Steps: 200}) != nil || w.Exec(script.Check{}) != nil {
		return
	}
	if w.cfg.SkipLiveness {
		return
	}
	if w.Exec(script.Liveness{}) != nil {
		return
	}
	w.Exec(script.Check{})
}

// Replay runs a recorded world: its cluster line and its commands. The
// whole-state checks run at crash points and at the end, as in RunSwarm.
func Replay(cluster script.Cluster, actions []script.Command, seed uint64, cfg RunConfig) (Outcome, error) {
	r := newWorldRunner(seed, cfg)
	w := &World{R: r, cfg: cfg, out: Outcome{Cluster: cluster}}
	if _, err := r.Run(cluster); err != nil {
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

// logIndexOff reports whether hazard name runs every node with
// polar_logindex_mem_size = 0.
func logIndexOff(name string) bool {
	hz, err := hazard.Lookup(name)
	return err == nil && hz.LogIndexOff
}
