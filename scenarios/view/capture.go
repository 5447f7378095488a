package view

// capture.go is the only file of the viewer that uses the scenarios
// packages (script's Runner and commands, the cluster, check's oracle, the
// demos, swarm worlds, explore's counterexample files and replayer).
// Everything else works on the Doc and Program types.

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"promotesim/scenarios/cluster"
	"promotesim/scenarios/demo"
	"promotesim/scenarios/explore"
	"promotesim/scenarios/oracle"
	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
	"promotesim/shmem"
	"promotesim/sim"
	"promotesim/storage"
)

// ModelVersion is the model version exported scripts carry.
const ModelVersion = cluster.ModelVersion

// DemoProgram is the program of a script demo (switchover, logindex-off).
func DemoProgram(name string) (Program, error) {
	st, ok := demo.DemoStages(name)
	if !ok {
		var names []string
		for _, d := range demo.Demos() {
			if _, ok := demo.DemoStages(d.Name); ok {
				names = append(names, d.Name)
			}
		}
		return Program{}, fmt.Errorf("no script demo %q (the viewer shows %s)", name, strings.Join(names, ", "))
	}
	p := Program{Title: "demo " + name, Source: "promotesim demo " + name, Seed: 1}
	for i, s := range st {
		p.Stages = append(p.Stages, s.Title)
		for _, c := range s.Cmds {
			p.Cmds = append(p.Cmds, ProgCmd{Text: c, Stage: i})
		}
	}
	return p, nil
}

// WorldProgram is the program of the explorer's world of seed (the
// cluster line and every command the world ran), as replay -seed runs it.
func WorldProgram(seed uint64, profile, fence, hazard string) (Program, error) {
	var base swarm.Base
	var err error
	if base.Profile, base.Fixed, err = cluster.ParseProfile(profile); err != nil {
		return Program{}, err
	}
	if base.Fence, err = storage.ParseFenceMode(fence); err != nil {
		return Program{}, err
	}
	base.Hazard = hazard
	return BaseWorldProgram(seed, base)
}

// BaseWorldProgram is WorldProgram for a base already parsed (one with
// faithful switches or a scheduling strategy, as explore's flags give it).
func BaseWorldProgram(seed uint64, base swarm.Base) (Program, error) {
	sw, err := swarm.DeriveSwarm(seed, base)
	if err != nil {
		return Program{}, err
	}
	o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
	if err != nil {
		return Program{}, err
	}
	p := Program{Title: fmt.Sprintf("world %d", seed), Source: "promotesim replay -seed " + fmt.Sprint(seed) + explore.SwarmFlags(sw), Seed: seed,
		Stages: []string{"world " + sw.String()}}
	// As explore.TraceWorld replays a world: its cluster line, its
	// commands, then the whole-state checks.
	cmds := append([]script.Command{o.Cluster}, o.Actions...)
	for _, c := range script.Lines(append(cmds, script.FullCheckCmd{})) {
		p.Cmds = append(p.Cmds, ProgCmd{Text: c})
	}
	return p, nil
}

// ScriptProgram is the program of a counterexample file (explore's, or a
// branch the viewer exported).
func ScriptProgram(path string, data []byte) (Program, error) {
	f, err := explore.ParseCounterexample(path, data)
	if err != nil {
		return Program{}, err
	}
	h := f.Header
	p := Program{Title: path, Source: "promotesim replay -script " + path, Seed: h.Seed, Scripted: h.Scripted, Schedule: h.Schedule,
		Stages: []string{fmt.Sprintf("counterexample: %s (seed %d)", h.Checker, h.Seed)}}
	for _, c := range script.Lines(f.Commands) {
		p.Cmds = append(p.Cmds, ProgCmd{Text: c})
	}
	return p, nil
}

// scheduleString writes a schedule as counterexample files do.
func scheduleString(s []int) string { return explore.ScheduleString(s) }

// capturer runs a program as a counterexample replay does (explore's
// Replayer: the whole-state checks after every crash) and records every
// step.
type capturer struct {
	x    *explore.Replayer
	rec  *sim.Recorder
	doc  *Doc
	b    *builder
	prev []shmem.BGWState // per host index, for the transitions
}

// Capture runs p deterministically and returns its document. The snapshot
// of each step is taken by a function added to the scheduler's checker
// registry (it runs after every step, after the real checkers, reads the
// world and never fails): nothing in the model knows it is watched.
func Capture(p Program) (*Doc, error) {
	if len(p.Cmds) == 0 {
		return nil, errors.New("a program starts with its cluster line")
	}
	cl, err := script.Parse(p.Cmds[0].Text)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", p.Cmds[0].Text, err)
	}
	line, ok := cl.(script.Cluster)
	if !ok {
		return nil, errors.New("a program starts with its cluster line")
	}
	x := &capturer{x: explore.NewReplayer(p.Seed, nil, false, sim.LevelDetail, sim.FormatJSONL),
		rec: &sim.Recorder{Inner: chooserFor(p, line)}, b: newBuilder()}
	x.x.R.Chooser = x.rec
	x.doc = &Doc{Title: p.Title, Source: p.Source, Seed: p.Seed, Model: ModelVersion, Stages: p.Stages, Path: p.Path.String(),
		Schedule: append([]int(nil), p.Schedule...), Scripted: p.Scripted}
	for i, c := range p.Cmds {
		if !x.exec(i, c) {
			break
		}
	}
	x.doc.choices = x.rec.Choices
	if c := x.x.R.C; c != nil {
		x.doc.Hash = c.S.Trace().Hash()
	}
	x.doc.Notes = p.Notes
	x.b.finish(x.doc)
	x.doc.Script = Script(p, x.doc)
	return x.doc, nil
}

// chooserFor is the chooser the program's cluster would get: the recorded
// schedule, else what the cluster line's sched= says (script.Cluster's
// run: FIFO, or the seeded random schedule of its seed).
func chooserFor(p Program, line script.Cluster) sim.Chooser {
	if p.Scripted {
		return sim.NewScripted(p.Schedule...)
	}
	if line.Sched == "random" {
		seed := p.Seed
		if line.HasSeed {
			seed = line.Seed
		}
		return sim.NewRandom(seed)
	}
	return sim.NewScripted()
}

// exec runs command i and records it; false stops the program (a violation).
func (x *capturer) exec(i int, c ProgCmd) bool {
	r := x.x.R
	from := uint64(0)
	if r.C != nil {
		from = r.C.S.StepNo()
	}
	var out string
	if cmd, err := script.Parse(c.Text); err != nil {
		out = "error: " + err.Error()
	} else {
		out = x.x.Exec(cmd)
	}
	if i == 0 && r.C != nil {
		r.C.S.Checkers().Add("view.capture", func() error { x.snap(); return nil })
	}
	if r.C != nil {
		// The end of boot (the first step the viewer shows), and what a
		// command did without a step (a crash, a pause): the frame of a
		// step is the world once everything at that step is done.
		x.snap()
	}
	var result []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "{") {
			x.event(line)
		} else if line != "" {
			result = append(result, line)
		}
	}
	to := from
	if r.C != nil {
		to = r.C.S.StepNo()
	}
	x.doc.Cmds = append(x.doc.Cmds, Cmd{Text: c.Text, Stage: c.Stage, From: from, To: to, Out: strings.Join(result, "\n")})
	if v := x.x.V; v != nil {
		x.doc.Violation = &Violation{Step: v.Step, Checker: v.Checker, Text: v.Err.Error()}
		return false
	}
	return true
}

// event decodes one JSON-lines trace event.
func (x *capturer) event(line string) {
	var e struct {
		Step   uint64            `json:"step"`
		Time   int64             `json:"time"`
		Level  string            `json:"level"`
		Actor  string            `json:"actor"`
		Verb   string            `json:"verb"`
		Fields map[string]string `json:"fields"`
	}
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		return // not an event (a result that starts with a brace)
	}
	lv, err := sim.ParseLevel(e.Level)
	if err != nil {
		return
	}
	x.b.event(Event{Step: e.Step, Time: e.Time, Level: int(lv), Verb: e.Verb, Fields: fieldText(e.Fields)}, e.Actor)
}

// snap records the world after the current step.
func (x *capturer) snap() {
	c := x.x.R.C
	s := c.S
	hosts := append(c.Hosts(), c.StandbyHosts()...)
	if len(x.prev) < len(hosts) {
		x.prev = append(x.prev, make([]shmem.BGWState, len(hosts)-len(x.prev))...)
	}
	ready := map[sim.ActorID]bool{} // looked up only
	var cands []string
	for _, e := range s.Candidates() {
		ready[e.Actor] = true
		cands = append(cands, e.Name+" "+e.Msg)
	}
	procs := x.procStates(s, ready)
	st := Snap{Step: s.StepNo(), Time: int64(s.Now()), Choices: len(x.rec.Choices), Cands: cands}
	for i, h := range hosts {
		n := c.Node(h)
		ns := NodeSnap{Name: h.String(), Procs: procs[h.String()]}
		if n != nil {
			x.nodeSnap(&ns, n)
			if c.IsStandby(h) && ns.Role == "replica" {
				// Its own storage, fed by streaming (a standby, not a
				// shared-storage replica): cluster.StandbyHosts.
				ns.Role, ns.Mount = "standby", ns.Mount+" (own disk)"
			}
			if b := n.BGW.State(); b != x.prev[i] && x.prev[i] != 0 {
				x.doc.BGW = append(x.doc.BGW, Transition{Step: s.StepNo(), Node: h.String(), From: stateName(x.prev[i]), To: stateName(b)})
			}
			x.prev[i] = n.BGW.State()
			if sr, err := c.StatReplication(h); err == nil && ns.Up {
				ns.StatRepl = sr
			}
		}
		st.Nodes = append(st.Nodes, ns)
	}
	st.Pages, st.WALEnd = x.pages()
	x.b.snap(st)
}

// procStates is every process's state, by node name, in actor order.
func (x *capturer) procStates(s *sim.Scheduler, ready map[sim.ActorID]bool) map[string][]ProcState {
	out := map[string][]ProcState{} // looked up only
	byName := map[string]int{}      // looked up only: name -> index in out[node]
	for id := sim.ActorID(0); int(id) < s.NumActors(); id++ {
		name := s.Name(id)
		node, proc, ok := strings.Cut(name, "/")
		if !ok {
			continue
		}
		state := "dead"
		switch {
		case !s.Alive(id):
		case s.Held(id):
			state = "held"
		case ready[id]:
			state = "ready"
		default:
			state = "idle"
		}
		if j, seen := byName[name]; seen {
			if state != "dead" { // a restarted process takes its old lane
				out[node][j].State = state
			}
			continue
		}
		byName[name] = len(out[node])
		out[node] = append(out[node], ProcState{Name: proc, State: state})
	}
	return out
}

// nodeSnap reads one node's memory: role, BGW, the LSNs, the flush list
// and the slots.
func (x *capturer) nodeSnap(ns *NodeSnap, n *shmem.Node) {
	ns.Up = x.x.R.C.Op.Alive(n)
	switch {
	case !ns.Up:
		ns.Role = "down"
	case n.Primary && !n.InRecovery:
		ns.Role = "primary"
	case n.InRecovery:
		ns.Role = "replica"
	default:
		ns.Role = "up"
	}
	ns.Mount = "-"
	if n.Mount != nil {
		ns.Mount = n.Mount.Mode().String()
	}
	switch {
	case !n.Accepting:
		ns.Service = "closed"
	case n.ReadWrite:
		ns.Service = "read-write"
	default:
		ns.Service = "read-only"
	}
	ns.BGW = stateName(n.BGW.State())
	l := LSNs{ReplayPoint: uint64(n.BGW.ReplayPoint()), FakeOldest: uint64(n.BGW.FakeOldest()),
		Consistent: uint64(n.Pool.ConsistentLSN()), Redo: uint64(n.Control.Redo)}
	if n.WAL != nil {
		l.Insert, l.Flushed = uint64(n.WAL.InsertLSN()), uint64(n.WAL.FlushedLSN())
	}
	if n.InRecovery {
		l.Replayed, l.Received = uint64(n.ReplayLSN), uint64(n.ReceivedLSN)
	}
	ns.LSN = l
	for _, id := range n.Pool.FlushList(nil) {
		b := n.Pool.Get(id)
		ns.Flush = append(ns.Flush, FlushEntry{Page: int(b.Tag.Block), Oldest: uint64(b.OldestLSN), LSN: uint64(b.Page.LSN)})
	}
	for _, sl := range n.Slots {
		ns.Slots = append(ns.Slots, SlotRow{Name: sl.Name, Restart: uint64(sl.Restart), Apply: uint64(sl.Apply), Active: sl.Active})
	}
}

// pages reads the relation on shared storage through the checkers'
// observer mount (not when an injected read fault could hit it: reading
// would use the fault up) and holds each page against the oracle's page at
// the end of valid WAL.
func (x *capturer) pages() ([]PageRow, uint64) {
	c := x.x.R.C
	o := x.x.R.K.O
	end := o.End()
	m, ok := c.Dev.Mounted(oracle.ObserverHost)
	n1 := c.Node(1)
	if !ok || n1 == nil || c.Dev.ReadFaultFor(oracle.ObserverHost) {
		return nil, uint64(end)
	}
	img := make([]byte, c.Opts.Pages*storage.BlockSize)
	// A relation not created yet, or shorter than Pages, reads as
	// unwritten pages (the error says no more than that).
	got, _ := m.ReadAt(n1.RelPath(), img, 0)
	clear(img[got:])
	rows := make([]PageRow, c.Opts.Pages)
	for p := range rows {
		want := o.Page(p, end)
		row := PageRow{Page: p, Oracle: uint64(want.LSN), Cmp: "equal"}
		pg, err := storage.UnmarshalPage(img[p*storage.BlockSize : (p+1)*storage.BlockSize])
		switch {
		case err != nil:
			row.Cmp = "unwritten"
		default:
			row.Storage = uint64(pg.LSN)
			switch {
			case pg.LSN < want.LSN:
				row.Cmp = "behind"
			case pg.LSN > want.LSN:
				row.Cmp = "ahead"
			case pg != want:
				row.Cmp = "differs"
			}
		}
		rows[p] = row
	}
	return rows, uint64(end)
}

func stateName(s shmem.BGWState) string { return strings.TrimPrefix(s.String(), "POLAR_BG_") }

// BGWStates are the BGW's states and its legal transitions
// (docs/model.md §6), for the diagram.
func BGWStates() ([]string, [][2]string) {
	all := []shmem.BGWState{shmem.BGRedoNotStart, shmem.BGReplicaBufReplaying, shmem.BGParallelReplaying, shmem.BGWaitingReset, shmem.BGOnlinePromote}
	var names []string
	var edges [][2]string
	for _, a := range all {
		names = append(names, stateName(a))
		for _, b := range all {
			if shmem.LegalBGWTransition(a, b) {
				edges = append(edges, [2]string{stateName(a), stateName(b)})
			}
		}
	}
	return names, edges
}
