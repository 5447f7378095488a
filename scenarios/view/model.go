package view

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Program is what the viewer runs: the cluster line and the commands after
// it, with the schedule that drives the scheduler's choices.
type Program struct {
	Title, Source string
	Seed          uint64
	// Scripted: Schedule drives every choice (past its end, FIFO);
	// otherwise the cluster line's own sched= does.
	Scripted bool
	Schedule []int
	Stages   []string // story captions; ProgCmd.Stage indexes them
	Cmds     []ProgCmd
	Path     Path // the forks that made this program from its root
	Notes    []string
}

// ProgCmd is one command of a program.
type ProgCmd struct {
	Text  string
	Stage int
}

// Doc is a captured run.
type Doc struct {
	Title     string       `json:"title"`
	Source    string       `json:"source"`
	Seed      uint64       `json:"seed"`
	Model     string       `json:"model"`
	Path      string       `json:"path"`
	Stages    []string     `json:"stages"`
	Cmds      []Cmd        `json:"cmds"`
	Lanes     []Lane       `json:"lanes"`
	Events    []Event      `json:"events"`
	BGW       []Transition `json:"bgw"`
	Violation *Violation   `json:"violation"`
	Nodes     []string     `json:"nodes"`
	// First and Last are the steps of the first and last snapshot.
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
	// Frames are the snapshots, one per step from First to Last, in the
	// compact form the page reads (see builder.frame); Parts holds each
	// distinct piece once.
	Frames [][]int           `json:"frames"`
	Parts  []json.RawMessage `json:"parts"`
	// States and Edges draw the BGW diagram.
	States []string    `json:"states"`
	Edges  [][2]string `json:"edges"`
	// Fork notes say where a fork of this branch actually took effect.
	Notes []string `json:"notes"`
	// Parent summarises the run this branch forked from (nil at a root).
	Parent *Summary `json:"parent"`
	// Script is the run as a script replay -script runs (Script()).
	Script string `json:"script"`
	// Mode is "server" (forks are links) or "static" (a saved page).
	Mode string `json:"mode"`

	// Hash is the run's trace hash (the same as the plain run's: watching
	// changes nothing).
	Hash uint64 `json:"-"`

	Snaps    []Snap `json:"-"`
	choices  []int
	Scripted bool  `json:"-"`
	Schedule []int `json:"-"`
}

// Cmd is one command of the run: the steps it took (From+1..To) and what
// it printed.
type Cmd struct {
	Text  string `json:"text"`
	Stage int    `json:"stage"`
	From  uint64 `json:"from"`
	To    uint64 `json:"to"`
	Out   string `json:"out"`
}

// Lane is one process row: node and process name.
type Lane struct {
	Node string `json:"node"`
	Name string `json:"name"`
}

// Event is one trace event on its lane.
type Event struct {
	Step   uint64 `json:"s"`
	Time   int64  `json:"t"`
	Level  int    `json:"l"` // 1 story, 2 step, 3 detail
	Lane   int    `json:"n"`
	Verb   string `json:"v"`
	Fields string `json:"f"`
}

// Transition is a BGW state change seen between two snapshots.
type Transition struct {
	Step uint64 `json:"step"`
	Node string `json:"node"`
	From string `json:"from"`
	To   string `json:"to"`
}

// Violation is the claim a run broke.
type Violation struct {
	Step    uint64 `json:"step"`
	Checker string `json:"checker"`
	Text    string `json:"text"`
}

// Snap is the world after one step.
type Snap struct {
	Step    uint64
	Time    int64
	Choices int      // scheduler/fault choices made so far (for forks)
	Cands   []string // the steps the next step could take, in choice order
	Nodes   []NodeSnap
	Pages   []PageRow
	WALEnd  uint64
}

// NodeSnap is one node after a step.
type NodeSnap struct {
	Name     string       `json:"name"`
	Up       bool         `json:"up"`
	Role     string       `json:"role"`
	Mount    string       `json:"mount"`
	Service  string       `json:"service"`
	BGW      string       `json:"bgw"`
	StatRepl string       `json:"statRepl"`
	LSN      LSNs         `json:"-"`
	Procs    []ProcState  `json:"-"`
	Flush    []FlushEntry `json:"-"`
	Slots    []SlotRow    `json:"-"`
}

// LSNs are the markers of a node's LSN axis.
type LSNs struct {
	Insert      uint64 `json:"insert"`
	Flushed     uint64 `json:"flushed"`
	Consistent  uint64 `json:"consistent"`
	ReplayPoint uint64 `json:"replayPoint"`
	FakeOldest  uint64 `json:"fakeOldest"`
	Redo        uint64 `json:"redo"`
	Replayed    uint64 `json:"replayed"`
	Received    uint64 `json:"received"`
}

// ProcState is a process and whether it can run: ready (enabled now),
// idle, held (paused) or dead.
type ProcState struct {
	Name  string `json:"name"`
	State string `json:"state"`
}

// FlushEntry is one dirty buffer on the flush list, in list order.
type FlushEntry struct {
	Page   int    `json:"page"`
	Oldest uint64 `json:"oldest"`
	LSN    uint64 `json:"lsn"`
}

// SlotRow is one replication slot.
type SlotRow struct {
	Name    string `json:"name"`
	Restart uint64 `json:"restart"`
	Apply   uint64 `json:"apply"`
	Active  bool   `json:"active"`
}

// PageRow is one page on shared storage against the oracle.
type PageRow struct {
	Page    int    `json:"page"`
	Storage uint64 `json:"storage"`
	Oracle  uint64 `json:"oracle"`
	Cmp     string `json:"cmp"` // behind, equal, ahead, differs, unwritten
}

// LSN renders an LSN the way PostgreSQL prints it.
func LSN(v uint64) string { return fmt.Sprintf("%X/%X", v>>32, v&0xFFFFFFFF) }

// fieldText renders event fields as key=value, sorted by key (the JSON
// trace does not keep their order).
func fieldText(f map[string]string) string {
	keys := make([]string, 0, len(f))
	// determinism:ok the keys are sorted before use
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := f[k]
		if v == "" || strings.ContainsAny(v, " \"=") {
			v = strconv.Quote(v)
		}
		b.WriteString(k + "=" + v)
	}
	return b.String()
}

// builder assembles a Doc: lanes by name, interned parts, frames.
type builder struct {
	lanes    map[string]int // looked up only
	laneList []Lane
	events   []Event
	parts    map[string]int // looked up only
	partList []json.RawMessage
	snaps    []Snap
	lastStep uint64
}

func newBuilder() *builder {
	return &builder{lanes: map[string]int{}, parts: map[string]int{}}
}

func (b *builder) lane(actor string) int {
	if i, ok := b.lanes[actor]; ok {
		return i
	}
	node, name, ok := strings.Cut(actor, "/")
	if !ok {
		node, name = "world", actor
	}
	b.lanes[actor] = len(b.laneList)
	b.laneList = append(b.laneList, Lane{Node: node, Name: name})
	return b.lanes[actor]
}

func (b *builder) event(e Event, actor string) {
	e.Lane = b.lane(actor)
	b.events = append(b.events, e)
}

func (b *builder) snap(s Snap) {
	for _, n := range s.Nodes {
		for _, p := range n.Procs {
			b.lane(n.Name + "/" + p.Name)
		}
	}
	if k := len(b.snaps); k > 0 && b.snaps[k-1].Step == s.Step {
		b.snaps[k-1] = s // a command changed the world without a step
		return
	}
	b.snaps = append(b.snaps, s)
	b.lastStep = s.Step
}

// part interns v's JSON and returns its index.
func (b *builder) part(v any) int {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs of strings and numbers always marshal
	}
	k := string(raw)
	if i, ok := b.parts[k]; ok {
		return i
	}
	b.parts[k] = len(b.partList)
	b.partList = append(b.partList, raw)
	return b.parts[k]
}

// Frame layout (app.js reads it): [time, choices, cands, pages,
// walEnd, then per node head, lsns, procs, flush, slots], every entry but
// the first two an index into Parts. A step with no snapshot of its own
// keeps the previous one's frame.

// finish fills the document: lanes sorted per node in a fixed process
// order, events relabelled, one frame per step.
func (b *builder) finish(d *Doc) {
	order := make([]int, len(b.laneList))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return laneLess(b.laneList[x], b.laneList[y]) })
	newIdx := make([]int, len(order))
	for pos, old := range order {
		newIdx[old] = pos
		d.Lanes = append(d.Lanes, b.laneList[old])
	}
	for _, e := range b.events {
		e.Lane = newIdx[e.Lane]
		d.Events = append(d.Events, e)
	}
	d.States, d.Edges = BGWStates()
	if len(b.snaps) == 0 {
		return
	}
	d.Snaps = b.snaps
	d.First, d.Last = b.snaps[0].Step, b.snaps[len(b.snaps)-1].Step
	for _, n := range b.snaps[len(b.snaps)-1].Nodes {
		d.Nodes = append(d.Nodes, n.Name)
	}
	k := 0
	for step := d.First; step <= d.Last; step++ {
		for k+1 < len(b.snaps) && b.snaps[k+1].Step <= step {
			k++
		}
		d.Frames = append(d.Frames, b.frame(b.snaps[k]))
	}
	d.Parts = b.partList
}

func (b *builder) frame(s Snap) []int {
	f := []int{int(s.Time), s.Choices, b.part(s.Cands), b.part(s.Pages), b.part(LSN(s.WALEnd))}
	for _, n := range s.Nodes {
		f = append(f, b.part(n), b.part(n.LSN), b.part(n.Procs), b.part(n.Flush), b.part(n.Slots))
	}
	return f
}

var procOrder = []string{"postmaster", "startup", "bgw", "replay", "bgwriter", "checkpointer", "walwriter", "walsender", "walreceiver", "polar-worker", "backend", "operator"}

func procRank(name string) int {
	for i, p := range procOrder {
		if strings.HasPrefix(name, p) {
			return i
		}
	}
	return len(procOrder)
}

func laneLess(a, b Lane) int {
	if a.Node != b.Node {
		na, ea := strconv.Atoi(strings.TrimPrefix(a.Node, "n"))
		nb, eb := strconv.Atoi(strings.TrimPrefix(b.Node, "n"))
		if ea == nil && eb == nil {
			return na - nb
		}
		return strings.Compare(a.Node, b.Node)
	}
	if ra, rb := procRank(a.Name), procRank(b.Name); ra != rb {
		return ra - rb
	}
	return strings.Compare(a.Name, b.Name)
}

// JSON is the document as the page reads it.
func (d *Doc) JSON() ([]byte, error) { return json.Marshal(d) }

// Summary is a run in one line: its last step, path and violation.
type Summary struct {
	Path      string     `json:"path"`
	First     uint64     `json:"first"`
	Last      uint64     `json:"last"`
	Violation *Violation `json:"violation"`
}
