package scenarios

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"promotesim/postmaster"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// Runner executes scenario commands against a cluster, one line at a time:
// a verb, then key=value arguments. Every command prints the story-level
// trace its steps produced, then its own result, so a script reads as a
// narrated walkthrough. The script tests (testdata/*.txt) and the demos both
// drive a Runner.
type Runner struct {
	C      *Cluster
	seed   uint64
	level  sim.Level
	format sim.Format
	out    bytes.Buffer // the trace sink; drained after each command
	// Budget bounds every run-until (steps).
	Budget int
	// Quiet drops the trace instead of printing it (explorer worlds keep
	// only the scheduler's ring for violation reports).
	Quiet bool
	// Chooser, when set, drives the next cluster's schedule whatever its
	// sched= says (a recorder for shrinking, a rapid-backed chooser).
	Chooser sim.Chooser
	// world is the explorer's bookkeeping (promotes requested), nil in
	// plain scripts until a world command needs it.
	world *worldState
	// traceTo, when set, receives the trace directly instead of the
	// per-command buffer (a replay printing its whole trace).
	traceTo io.Writer
}

// NewRunner returns a runner whose clusters trace at level in format.
func NewRunner(seed uint64, level sim.Level, format sim.Format) *Runner {
	if level == 0 {
		level = sim.LevelStory
	}
	if format == 0 {
		format = sim.FormatText
	}
	return &Runner{seed: seed, level: level, format: format, Budget: 50000}
}

type args map[string]string // looked up by key; never iterated for output

func parseLine(line string) (string, args, error) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return "", nil, fmt.Errorf("empty command")
	}
	a := args{}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			v = "true" // a bare word is a flag: "abort"
		}
		if _, dup := a[k]; dup {
			return "", nil, fmt.Errorf("argument %q given twice", k)
		}
		a[k] = v
	}
	return fields[0], a, nil
}

func (a args) int(key string, def int) (int, error) {
	v, ok := a[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: want a whole number", key, v)
	}
	return n, nil
}

func (a args) host(key string) (storage.HostID, error) {
	v, ok := a[key]
	if !ok {
		return 0, fmt.Errorf("missing %s=N", key)
	}
	v = strings.TrimPrefix(v, "n")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 255 {
		return 0, fmt.Errorf("%s=%q: want a node number like 2", key, a[key])
	}
	return storage.HostID(n), nil
}

// node checks a command's arguments (node= plus keys) and returns its node.
func (a args) node(cmd string, keys ...string) (storage.HostID, error) {
	if err := a.only(cmd, append([]string{"node"}, keys...)...); err != nil {
		return 0, err
	}
	return a.host("node")
}

// only rejects arguments a command does not take.
func (a args) only(cmd string, keys ...string) error {
	var bad []string
	for k := range a {
		found := false
		for _, want := range keys {
			if k == want {
				found = true
			}
		}
		if !found {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("%s does not take %s (it takes: %s)", cmd, strings.Join(bad, ", "), strings.Join(keys, ", "))
	}
	return nil
}

// Exec runs one command and returns what it printed.
func (r *Runner) Exec(line string) (string, error) {
	cmd, a, err := parseLine(line)
	if err != nil {
		return "", err
	}
	var res string
	if cmd != "cluster" && r.C == nil {
		return "", fmt.Errorf("%s: no cluster yet (start with 'cluster')", cmd)
	}
	switch cmd {
	case "cluster":
		res, err = r.cluster(a)
	case "write", "abort":
		res, err = r.write(cmd, a)
	case "writes":
		res, err = r.writes(a)
	case "read":
		res, err = r.read(a)
	case "promote", "trigger", "crash", "rebuild":
		res, err = r.nodeOp(cmd, a)
	case "stop":
		res, err = r.stop(a)
	case "start":
		res, err = r.start(a)
	case "drop-slot":
		res, err = r.dropSlot(a)
	case "run":
		res, err = r.run(a)
	case "run-until":
		res, err = r.runUntil(a)
	case "status":
		if err = a.only(cmd); err == nil {
			var b strings.Builder
			r.C.Status(&b)
			res = strings.TrimRight(b.String(), "\n")
		}
	case "slots":
		var h storage.HostID
		if err = a.only(cmd, "node"); err == nil {
			if h, err = a.host("node"); err == nil {
				res, err = r.C.Slots(h)
			}
		}
	case "stat-replication":
		var h storage.HostID
		if err = a.only(cmd, "node"); err == nil {
			if h, err = a.host("node"); err == nil {
				res, err = r.C.StatReplication(h)
			}
		}
	case "check":
		res, err = r.check(a)
	case "plan-stop", "plan-promote":
		return r.ExecPlan(line)
	case "submit":
		res, err = r.submit(a)
	case "submit-read":
		res, err = r.submitRead(a)
	case "fault":
		res, err = r.fault(a)
	case "heal":
		res, err = r.heal(a)
	case "liveness":
		res, err = r.liveness(a)
	case "pause", "resume":
		res, err = r.pause(cmd, a)
	case "stall-save", "resume-save":
		res, err = r.stallSave(cmd, a)
	case "checkpoint":
		res, err = r.checkpoint(a)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	trace := r.drain()
	switch {
	case trace != "" && res != "":
		return trace + "\n" + res, err
	case trace != "":
		return trace, err
	}
	return res, err
}

func (r *Runner) drain() string {
	s := strings.TrimRight(r.out.String(), "\n")
	r.out.Reset()
	return s
}

func (r *Runner) cluster(a args) (string, error) {
	if err := a.only("cluster", "nodes", "pages", "pool", "queue", "logindex-mem", "replica-logindex-mem", "table-size", "batch", "workers",
		"fence", "profile", "sessions", "seed", "sched", "hazard", "standbys"); err != nil {
		return "", err
	}
	o := DefaultOptions()
	var err error
	ints := []struct {
		key string
		dst *int
	}{{"nodes", &o.Nodes}, {"pages", &o.Pages}, {"pool", &o.PoolFrames}, {"queue", &o.QueueBuffers},
		{"logindex-mem", &o.LogIndexMem}, {"replica-logindex-mem", &o.ReplicaLogIndexMem}, {"table-size", &o.TableSize}, {"batch", &o.BatchSize},
		{"workers", &o.ReplayWorkers}, {"sessions", &o.Sessions}, {"standbys", &o.Standbys}}
	for _, f := range ints {
		if *f.dst, err = a.int(f.key, *f.dst); err != nil {
			return "", err
		}
	}
	if v, ok := a["fence"]; ok {
		if o.Fence, err = storage.ParseFenceMode(v); err != nil {
			return "", err
		}
	}
	if v, ok := a["profile"]; ok {
		if o.Profile, err = shmem.ParseProfile(v); err != nil {
			return "", err
		}
	}
	// hazard=NAME switches one wrong ordering on (the catalogue in
	// hazards.go); Options.Validate names the known ones.
	o.Hazard = a["hazard"]
	seed := r.seed
	if v, ok := a["seed"]; ok {
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			return "", fmt.Errorf("seed=%q: want a whole number", v)
		}
	}
	// sched=fifo (the default for scripts: choice 0 everywhere, the boring
	// fair schedule) or sched=random (seeded interleavings).
	var ch sim.Chooser = sim.NewScripted()
	switch a["sched"] {
	case "", "fifo":
	case "random":
		ch = nil
	default:
		return "", fmt.Errorf("sched=%q: want fifo or random", a["sched"])
	}
	if r.Chooser != nil {
		ch = r.Chooser
	}
	tc := sim.TraceConfig{Out: &r.out, Level: r.level, Format: r.format}
	if r.traceTo != nil {
		tc.Out = r.traceTo
	}
	if r.Quiet {
		tc.Out = nil
	}
	c, err := NewCluster(ClusterConfig{Opts: o, Seed: seed, Chooser: ch, Trace: tc})
	if err != nil {
		return "", err
	}
	r.C = c
	res := fmt.Sprintf("cluster: %d nodes, %d pages, fence=%v, profile=%v, logindex-mem=%d, queue=%d",
		o.Nodes, o.Pages, o.Fence, o.Profile, o.LogIndexMem, o.QueueBuffers)
	if o.Hazard != "" {
		res += ", hazard=" + o.Hazard
	}
	return res, nil
}

// awaitTxn runs until the number of acks or errors grows.
func (r *Runner) awaitClient(acks, errs, reads int) (sim.Result, bool) {
	j := r.C.Journal
	res := r.C.S.RunUntil(func() bool {
		return len(j.Acks) > acks || len(j.Errors) > errs || len(j.Reads) > reads
	}, r.Budget)
	return res, res.Done
}

func (r *Runner) write(cmd string, a args) (string, error) {
	h, err := a.node(cmd, "page", "slot", "value")
	if err != nil {
		return "", err
	}
	page, err := a.int("page", 0)
	if err != nil {
		return "", err
	}
	slot, err := a.int("slot", 0)
	if err != nil {
		return "", err
	}
	if page < 0 || page >= r.C.Opts.Pages || slot < 0 || slot >= storage.PageSlots {
		return "", fmt.Errorf("page %d slot %d out of range (pages 0..%d, slots 0..%d)", page, slot, r.C.Opts.Pages-1, storage.PageSlots-1)
	}
	return r.txn(h, postmaster.Txn{Writes: []postmaster.Write{{Page: page, Slot: uint8(slot)}}, Abort: cmd == "abort"})
}

// txn runs one transaction to its end and reports it. Values are filled in
// from the transaction's xid by the backend's caller here: the value encodes
// the writer so readers can check its commit status.
func (r *Runner) txn(h storage.HostID, t postmaster.Txn) (string, error) {
	n, err := r.C.host(h)
	if err != nil {
		return "", err
	}
	j := r.C.Journal
	acks, errs, reads := len(j.Acks), len(j.Errors), len(j.Reads)
	xid := n.NextXID
	for i := range t.Writes {
		if t.Writes[i].Value == 0 {
			t.Writes[i].Value = postmaster.MakeValue(xid, uint32(i+1))
		}
	}
	if err := r.C.Write(h, t); err != nil {
		return "", err
	}
	if t.Abort {
		res := r.C.S.RunUntil(func() bool { return n.Clog.Get(xid) == shmem.XactAborted || len(j.Errors) > errs }, r.Budget)
		if res.Violation != nil {
			return "", res.Violation
		}
		if len(j.Errors) > errs {
			return "error: " + j.Errors[len(j.Errors)-1].Err, nil
		}
		return fmt.Sprintf("aborted xid=%d", xid), nil
	}
	res, ok := r.awaitClient(acks, errs, reads)
	if res.Violation != nil {
		return "", res.Violation
	}
	if !ok {
		return fmt.Sprintf("no answer within %d steps (%v)", r.Budget, res), nil
	}
	if len(j.Errors) > errs {
		return "error: " + j.Errors[len(j.Errors)-1].Err, nil
	}
	ack := j.Acks[len(j.Acks)-1]
	return fmt.Sprintf("ack xid=%d commit_end=%v", ack.XID, ack.CommitEnd), nil
}

func (r *Runner) writes(a args) (string, error) {
	h, err := a.node("writes", "count")
	if err != nil {
		return "", err
	}
	count, err := a.int("count", 1)
	if err != nil || count < 1 || count > 10000 {
		return "", fmt.Errorf("count: want 1..10000")
	}
	acked := 0
	var last string
	for i := 0; i < count; i++ {
		w := postmaster.Write{Page: i % r.C.Opts.Pages, Slot: uint8(i % storage.PageSlots)}
		out, err := r.txn(h, postmaster.Txn{Writes: []postmaster.Write{w}})
		if err != nil {
			return "", err
		}
		last = out
		if strings.HasPrefix(out, "ack") {
			acked++
		} else {
			break
		}
	}
	if r.level <= sim.LevelStory {
		r.drain() // at story level the individual commits are summarised
	}
	return fmt.Sprintf("%d of %d transactions acknowledged; last: %s", acked, count, last), nil
}

func (r *Runner) read(a args) (string, error) {
	h, err := a.node("read", "page")
	if err != nil {
		return "", err
	}
	page, err := a.int("page", 0)
	if err != nil {
		return "", err
	}
	rr, errText, err := r.readPage(h, page)
	if err != nil || errText != "" {
		if errText != "" {
			return "error: " + errText, err
		}
		return "", err
	}
	return formatRead(rr), nil
}

func (r *Runner) readPage(h storage.HostID, page int) (postmaster.ReadResult, string, error) {
	j := r.C.Journal
	acks, errs, reads := len(j.Acks), len(j.Errors), len(j.Reads)
	if err := r.C.Read(h, page); err != nil {
		return postmaster.ReadResult{}, "", err
	}
	res := r.C.S.RunUntil(func() bool { return len(j.Errors) > errs || len(j.Reads) > reads }, r.Budget)
	_ = acks
	if res.Violation != nil {
		return postmaster.ReadResult{}, "", res.Violation
	}
	if !res.Done {
		return postmaster.ReadResult{}, fmt.Sprintf("no answer within %d steps", r.Budget), nil
	}
	if len(j.Errors) > errs {
		return postmaster.ReadResult{}, j.Errors[len(j.Errors)-1].Err, nil
	}
	return j.Reads[len(j.Reads)-1], "", nil
}

func formatRead(rr postmaster.ReadResult) string {
	var slots []string
	for i, v := range rr.Content.Slots {
		if v == 0 {
			slots = append(slots, "-")
			continue
		}
		vis := ""
		if !rr.Visible[i] {
			vis = "(invisible)"
		}
		slots = append(slots, fmt.Sprintf("x%d.%d%s", postmaster.ValueXID(v), uint32(v), vis))
		_ = i
	}
	return fmt.Sprintf("%v page %v lsn=%v at=%v slots=[%s]", rr.Node, rr.Page, rr.Content.LSN, rr.At, strings.Join(slots, " "))
}

func (r *Runner) nodeOp(cmd string, a args) (string, error) {
	h, err := a.node(cmd)
	if err != nil {
		return "", err
	}
	switch cmd {
	case "promote":
		if err = r.C.Promote(h); err == nil {
			r.promoteRequested(h)
		}
	case "trigger":
		if err = r.C.Trigger(h); err == nil {
			r.promoteRequested(h)
		}
	case "crash":
		err = r.C.Crash(h)
	case "rebuild":
		err = r.C.Rebuild(h)
	}
	return "", err
}

func (r *Runner) stop(a args) (string, error) {
	h, err := a.node("stop", "mode")
	if err != nil {
		return "", err
	}
	immediate := false
	switch a["mode"] {
	case "", "fast":
	case "immediate":
		immediate = true
	default:
		return "", fmt.Errorf("mode=%q: want fast or immediate", a["mode"])
	}
	if err := r.C.Stop(h, immediate); err != nil {
		return "", err
	}
	n := r.C.Node(h)
	res := r.C.S.RunUntil(func() bool { return !postmaster.Alive(r.C.S, n) }, r.Budget)
	if res.Violation != nil {
		return "", res.Violation
	}
	if !res.Done {
		return fmt.Sprintf("%v still running after %d steps", h, r.Budget), nil
	}
	return fmt.Sprintf("%v stopped", h), nil
}

func (r *Runner) start(a args) (string, error) {
	h, err := a.node("start", "role")
	if err != nil {
		return "", err
	}
	role := postmaster.RolePrimary
	switch a["role"] {
	case "primary":
	case "replica":
		role = postmaster.RoleReplica
	default:
		return "", fmt.Errorf("role=%q: want primary or replica", a["role"])
	}
	return "", r.C.Start(h, role)
}

func (r *Runner) dropSlot(a args) (string, error) {
	h, err := a.node("drop-slot", "name")
	if err != nil {
		return "", err
	}
	name, ok := a["name"]
	if !ok {
		return "", fmt.Errorf("missing name=SLOT")
	}
	return "", r.C.DropSlot(h, name)
}

func (r *Runner) run(a args) (string, error) {
	if err := a.only("run", "steps"); err != nil {
		return "", err
	}
	steps, err := a.int("steps", 200)
	if err != nil || steps < 1 {
		return "", fmt.Errorf("steps: want a positive number")
	}
	res := r.C.S.Run(steps)
	if res.Violation != nil {
		return "", res.Violation
	}
	return "", nil
}

// conditions run-until understands, each about one node.
var untilConds = map[string]func(c *Cluster, n *shmem.Node) bool{
	"read-write":  func(c *Cluster, n *shmem.Node) bool { return n.ReadWrite && serving(n) && postmaster.Alive(c.S, n) },
	"hot-standby": func(c *Cluster, n *shmem.Node) bool { return serving(n) && n.InRecovery },
	"bgw-not-start": func(c *Cluster, n *shmem.Node) bool {
		return n.BGW.State() == shmem.BGRedoNotStart && n.Primary && !n.InRecovery
	},
	"waiting-reset": func(c *Cluster, n *shmem.Node) bool { return n.BGW.State() == shmem.BGWaitingReset },
	// recovery-done-waiting-reset: V11's window, a primary out of
	// recovery whose BGW still waits for its reset.
	"recovery-done-waiting-reset": func(c *Cluster, n *shmem.Node) bool {
		return n.Primary && !n.InRecovery && n.BGW.State() == shmem.BGWaitingReset
	},
	"online-promote": func(c *Cluster, n *shmem.Node) bool { return n.BGW.State() == shmem.BGOnlinePromote },
	"stopped":        func(c *Cluster, n *shmem.Node) bool { return !postmaster.Alive(c.S, n) },
	"caught-up": func(c *Cluster, n *shmem.Node) bool {
		p := c.Primary()
		return p != nil && n.InRecovery && serving(n) && n.ReplayLSN >= p.WAL.FlushedLSN()
	},
	"consistent-caught-up": func(c *Cluster, n *shmem.Node) bool {
		return n.WAL != nil && n.Pool.FlushLen() == 0 && n.Pool.ConsistentLSN() >= n.WAL.InsertLSN()
	},
}

// serving reports whether a node accepts client sessions now (postmaster
// has forked its backends).
func serving(n *shmem.Node) bool { return n.Accepting && len(n.Procs.Backends) > 0 }

func (r *Runner) runUntil(a args) (string, error) {
	var cond string
	for k := range untilConds {
		if a[k] == "true" {
			if cond != "" {
				return "", fmt.Errorf("run-until takes one condition")
			}
			cond = k
		}
	}
	if cond == "" {
		names := make([]string, 0, len(untilConds))
		for k := range untilConds {
			names = append(names, k)
		}
		sort.Strings(names)
		return "", fmt.Errorf("run-until needs a condition: one of %s", strings.Join(names, ", "))
	}
	delete(a, cond)
	h, err := a.node("run-until", "budget")
	if err != nil {
		return "", err
	}
	n, err := r.C.host(h)
	if err != nil {
		return "", err
	}
	budget, err := a.int("budget", r.Budget)
	if err != nil {
		return "", err
	}
	f := untilConds[cond]
	start := r.C.S.StepNo()
	res := r.C.S.RunUntil(func() bool { return f(r.C, r.C.Node(h)) }, budget)
	_ = n
	if res.Violation != nil {
		return "", res.Violation
	}
	if !res.Done {
		return fmt.Sprintf("%s on %v NOT reached within %d steps", cond, h, budget), nil
	}
	return fmt.Sprintf("%s on %v after %d steps", cond, h, r.C.S.StepNo()-start), nil
}

// check runs the checkers on demand:
//
//	check acked-visible node=N   read every page on N through the client read
//	                             path and hold each read against the oracle
//	check all                    every per-step checker once, then the full
//	                             checks (crash recovery, acked commits)
func (r *Runner) check(a args) (string, error) {
	switch {
	case a["all"] == "true":
		if err := a.only("check", "all"); err != nil {
			return "", err
		}
		if err := r.C.Checks.RunAll(); err != nil {
			return "", err
		}
		return "all checks hold", nil
	case a["acked-visible"] == "true":
		delete(a, "acked-visible")
		h, err := a.node("check")
		if err != nil {
			return "", err
		}
		return r.ackedVisible(h)
	}
	return "", fmt.Errorf("check: want 'check acked-visible node=N' or 'check all'")
}

// ackedVisible reads every page on node h through the normal client path
// and lets the oracle decide: each read must be the oracle's page at the
// position it was served at, and for every slot, the acknowledged write
// that comes last in the WAL must be there and visible, unless a later
// write replaced it.
func (r *Runner) ackedVisible(h storage.HostID) (string, error) {
	k := r.C.Checks
	o := k.O
	type key struct{ page, slot int }
	type acked struct {
		value uint64
		rec   int // index of the writing record in the history
		end   storage.LSN
	}
	if err := o.Sync(); err != nil {
		return "", err
	}
	want := map[key]acked{} // looked up only
	var bad []string
	for _, ack := range r.C.Journal.Acks {
		for _, w := range ack.Writes {
			k := key{w.Page, int(w.Slot)}
			i := o.writeOf(ack.XID, w.Page, int(w.Slot), w.Value, ack.CommitEnd)
			if i < 0 {
				bad = append(bad, fmt.Sprintf("page %d slot %d: x%d.%d (acknowledged by %v) is not in the WAL on storage",
					w.Page, w.Slot, ack.XID, uint32(w.Value), ack.Node))
				continue
			}
			if prev, ok := want[k]; !ok || i > prev.rec {
				want[k] = acked{value: w.Value, rec: i, end: ack.CommitEnd}
			}
		}
	}
	for p := 0; p < r.C.Opts.Pages; p++ {
		rr, errText, err := r.readPage(h, p)
		if err != nil {
			return "", err
		}
		if errText != "" {
			return "", fmt.Errorf("read page %d on %v: %s", p, h, errText)
		}
		if err := o.Sync(); err != nil {
			return "", err
		}
		if rr.At <= o.End() {
			if exp := o.Page(p, rr.At); rr.Content != exp {
				bad = append(bad, fmt.Sprintf("page %d at %v: read %s, the oracle has %s", p, rr.At, formatPage(rr.Content), formatPage(exp)))
			}
		}
		for s := 0; s < storage.PageSlots; s++ {
			w, ok := want[key{p, s}]
			if !ok {
				continue
			}
			got := rr.Content.Slots[s]
			replaced := got != w.value && rr.At >= w.end && o.lastWriter(p, s, rr.At) > w.rec
			if replaced || got == w.value && rr.Visible[s] {
				continue
			}
			bad = append(bad, fmt.Sprintf("page %d slot %d: want x%d.%d visible, got x%d.%d visible=%v",
				p, s, postmaster.ValueXID(w.value), uint32(w.value), postmaster.ValueXID(got), uint32(got), rr.Visible[s]))
		}
	}
	r.drain()
	if len(bad) > 0 {
		return "", fmt.Errorf("acknowledged commits missing on %v:\n  %s", h, strings.Join(bad, "\n  "))
	}
	return fmt.Sprintf("all %d acknowledged commits visible on %v", len(r.C.Journal.Acks), h), nil
}

// procID finds a process of node h by name (as in its trace name).
func (r *Runner) procID(h storage.HostID, name string) (sim.ActorID, error) {
	n, err := r.C.host(h)
	if err != nil {
		return 0, err
	}
	pr := n.Procs
	ids := map[string]sim.ActorID{"postmaster": pr.Postmaster, "startup": pr.Startup, "bgw": pr.BGW,
		"bgwriter": pr.BGWriter, "checkpointer": pr.Checkpointer, "walwriter": pr.WALWriter,
		"walreceiver": pr.WALReceiver, "polar-worker": pr.PolarWorker}
	id, ok := ids[name]
	if !ok {
		return 0, fmt.Errorf("proc=%q: want postmaster, startup, bgw, bgwriter, checkpointer, walwriter, walreceiver or polar-worker", name)
	}
	if id == shmem.NoProc || !r.C.S.Alive(id) {
		return 0, fmt.Errorf("%v has no running %s", h, name)
	}
	return id, nil
}

// pause holds a process (an injection point in PolarDB's tests); resume
// releases it.
func (r *Runner) pause(cmd string, a args) (string, error) {
	h, err := a.node(cmd, "proc")
	if err != nil {
		return "", err
	}
	id, err := r.procID(h, a["proc"])
	if err != nil {
		return "", err
	}
	if cmd == "pause" {
		r.C.S.Hold(id)
	} else {
		r.C.S.Release(id)
	}
	r.C.S.Emit(r.C.Node(h).Proc("operator"), sim.LevelStory, cmd, sim.Str("proc", r.C.S.Name(id)))
	return "", nil
}

// stallSave makes a primary stop (or resume) saving LogIndex tables.
func (r *Runner) stallSave(cmd string, a args) (string, error) {
	h, err := a.node(cmd)
	if err != nil {
		return "", err
	}
	n, err := r.C.host(h)
	if err != nil {
		return "", err
	}
	n.SaveStalled = cmd == "stall-save"
	r.C.S.Emit(n.Proc("operator"), sim.LevelStory, cmd)
	return "", nil
}
