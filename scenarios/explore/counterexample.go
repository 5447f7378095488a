package explore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"promotesim/scenarios/check"
	"promotesim/scenarios/cluster"
	"promotesim/scenarios/hazard"
	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
	"promotesim/sim"
)

// A counterexample is a failing run anyone can replay: the cluster line,
// the world commands after it and the scheduler's choices. It is written
// as an ordinary datadriven script (testdata/counterexamples/*.txt): story
// comments at the top, a header of "# key: value" lines the replay reads
// (checker, seed, model version, schedule), then each command with its
// expected story-level output, ending with the violation. TestCounterexamples
// runs every file and requires the recorded violation to recur.
//
// The schedule cannot go in the cluster line (the line builds the
// scheduler with its own chooser), so the replay reads "# schedule:" and
// installs a sim.Scripted chooser in the Runner before the cluster line
// runs; the line itself says sched=fifo, which is what every choice past
// the recorded ones is.

// Counterexample is one replayable failing run.
type Counterexample struct {
	// Cluster is the command that builds the world.
	Cluster script.Cluster
	// Actions are the commands after it, in order.
	Actions []script.Command
	// Scripted says Schedule drives every choice (sim.Scripted: past its
	// end every choice is 0); otherwise the cluster line's own schedule
	// (sched=random seeded by seed=) does.
	Scripted bool
	Schedule []int
	// Seed is the world's seed (also in the cluster line).
	Seed uint64
	// Checker is the claim that fails.
	Checker string
	// Swarm is the world that found it (zero for other sources); Options
	// describes where it came from for the story comments.
	Swarm   swarm.Swarm
	Options string
	// Hazard is the hazard under test ("" for a clean world).
	Hazard string
	// Source names what found it when that was not explore ("exhaustive"):
	// it prefixes the file name.
	Source string
	// Violation, Steps and Hash are the last replay's outcome.
	Violation *sim.Violation
	Steps     uint64
	Hash      uint64
	// Shrink says what shrinking did (zero when not shrunk).
	Shrink ShrinkStats
}

// FromOutcome makes a counterexample of a failing world.
func FromOutcome(o swarm.Outcome) Counterexample {
	cx := Counterexample{Cluster: o.Cluster, Actions: append([]script.Command(nil), o.Actions...), Seed: o.Swarm.Seed,
		Swarm: o.Swarm, Options: o.Swarm.String(), Hazard: o.Swarm.Base.Hazard, Violation: o.Violation, Steps: o.Steps, Hash: o.Hash}
	if o.Violation != nil {
		cx.Checker = o.Violation.Checker
	}
	return cx
}

// External counts the actions that are not the mere passing of time (run
// steps=N): what an operator or a client did, faults included.
func (cx *Counterexample) External() int { return countExternal(cx.Actions) }

func countExternal(actions []script.Command) int {
	n := 0
	for _, a := range actions {
		switch a.(type) {
		case script.Run, script.FullCheckCmd:
		default:
			n++
		}
	}
	return n
}

// Run replays the counterexample (quietly unless cfg says otherwise).
func (cx *Counterexample) Run(cfg swarm.RunConfig) (swarm.Outcome, error) {
	if cx.Scripted {
		cfg.Chooser = sim.NewScripted(cx.Schedule...)
	}
	return replayGuarded(cx.Cluster, cx.Actions, cx.Seed, cfg)
}

// replayGuarded is Replay with a Go panic turned into a CheckPanic
// violation (a shrinking candidate that panics still "fails the same way"
// only if the original failure was a panic).
func replayGuarded(clusterLine script.Cluster, actions []script.Command, seed uint64, cfg swarm.RunConfig) (o swarm.Outcome, err error) {
	defer func() {
		if e := recover(); e != nil {
			o = swarm.Outcome{Cluster: clusterLine, Actions: actions, Violation: &sim.Violation{Checker: CheckPanic, Seed: seed, Err: fmt.Errorf("%v", e)}}
			err = nil
		}
	}()
	return swarm.Replay(clusterLine, actions, seed, cfg)
}

// ScheduleString renders a schedule compactly: runs of one value as
// value*count ("0*41 2 0*7 1").
func ScheduleString(s []int) string {
	var parts []string
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		if j-i >= 3 {
			parts = append(parts, fmt.Sprintf("%d*%d", s[i], j-i))
		} else {
			for k := i; k < j; k++ {
				parts = append(parts, strconv.Itoa(s[k]))
			}
		}
		i = j
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// ParseSchedule reads what ScheduleString writes.
func ParseSchedule(text string) ([]int, error) {
	text = strings.TrimSpace(text)
	if text == "-" || text == "" {
		return []int{}, nil
	}
	var out []int
	for _, tok := range strings.Fields(text) {
		v, n := tok, "1"
		if a, b, ok := strings.Cut(tok, "*"); ok {
			v, n = a, b
		}
		x, err := strconv.Atoi(v)
		if err != nil || x < 0 {
			return nil, fmt.Errorf("schedule: %q: want a choice (a whole number >= 0) or choice*count", tok)
		}
		k, err := strconv.Atoi(n)
		if err != nil || k < 1 || k > 1<<20 || len(out)+k > 1<<22 {
			return nil, fmt.Errorf("schedule: %q: bad repeat count", tok)
		}
		for range k {
			out = append(out, x)
		}
	}
	return out, nil
}

// Replayer executes counterexample commands exactly as a World does:
// each through the Runner, the whole-state checks after a crash, and the
// full-check line at the end (World.Exec runs them after every crash by
// itself).
type Replayer struct {
	R *script.Runner
	// V is the first violation met (later lines are not run by replays).
	V *sim.Violation
}

// NewReplayer returns a replayer of a world of seed, under schedule when
// scripted (a counterexample header's Seed, Schedule and Scripted).
func NewReplayer(seed uint64, schedule []int, scripted bool, level sim.Level, format sim.Format) *Replayer {
	r := script.NewRunner(seed, level, format)
	if scripted {
		r.Chooser = sim.NewScripted(schedule...)
	}
	return &Replayer{R: r}
}

// Exec runs one command and returns what the script shows for it: the
// trace and the result, then "error: ..." when it failed.
func (x *Replayer) Exec(cmd script.Command) string {
	out, err := x.R.Run(cmd)
	var v *sim.Violation
	if _, crash := cmd.(script.Crash); crash && !errors.As(err, &v) && x.R.C != nil {
		if fv := x.R.FullCheck(); fv != nil {
			if err != nil {
				out = joinOut(out, "error: "+err.Error())
			}
			err = fv
		}
	}
	if err != nil {
		if errors.As(err, &v) && x.V == nil {
			x.V = v
		}
		out = joinOut(out, "error: "+err.Error())
	}
	return out
}

func joinOut(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n" + b
}

// CounterexampleHeader is what a counterexample file's "# key: value"
// comments say.
type CounterexampleHeader struct {
	Checker      string
	Seed         uint64
	ModelVersion string
	Scripted     bool
	Schedule     []int
	Hazard       string
}

// CounterexampleFile is a parsed counterexample script.
type CounterexampleFile struct {
	Path     string
	Header   CounterexampleHeader
	Commands []script.Command // the cluster line first
	// File is the parsed script: each command's line and recorded output.
	File *script.File
}

// SetProfile makes the file's cluster line run profile name (v15,
// v15-fixed, v11, v11-fixed) instead of its own, keeping every other
// setting, the commands and the schedule: how a finding recorded against
// PolarDB's behaviour is replayed against a fix.
func (f *CounterexampleFile) SetProfile(name string) error {
	p, fixed, err := cluster.ParseProfile(name)
	if err != nil {
		return err
	}
	if len(f.Commands) == 0 {
		return errors.New("the file has no cluster line")
	}
	cl, ok := f.Commands[0].(script.Cluster)
	if !ok {
		return errors.New("the file's first command is not its cluster line")
	}
	cl.Opts.Profile, cl.Opts.Fixed = p, fixed
	f.Commands[0] = cl
	return nil
}

// ErrStaleCounterexample marks a file recorded by another model version.
var ErrStaleCounterexample = errors.New("stale counterexample")

// ParseCounterexample reads a counterexample script. A file of another
// model version is refused with ErrStaleCounterexample and the way to
// record it again; a malformed one with the line at fault (script.ParseFile,
// the same reader promotesim run uses). Neither panics.
func ParseCounterexample(path string, data []byte) (*CounterexampleFile, error) {
	sf, err := script.ParseFile(path, data)
	if err != nil {
		return nil, err
	}
	return counterexampleOf(sf)
}

// IsCounterexample reports whether a parsed script's header makes it a
// counterexample file (a "# checker: ..." line before its first command).
func IsCounterexample(sf *script.File) bool {
	var h CounterexampleHeader
	seen := map[string]bool{} // looked up only
	for _, c := range sf.Comments {
		_ = readHeaderLine(sf.Path, c.Line, c.Text, &h, seen)
	}
	return seen["checker"]
}

// counterexampleOf reads the header of a parsed script file and checks
// that it is a counterexample of this model.
func counterexampleOf(sf *script.File) (*CounterexampleFile, error) {
	f := &CounterexampleFile{Path: sf.Path, File: sf}
	seen := map[string]bool{} // looked up only
	for _, c := range sf.Comments {
		if err := readHeaderLine(sf.Path, c.Line, c.Text, &f.Header, seen); err != nil {
			return nil, err
		}
	}
	if err := checkHeader(sf.Path, &f.Header, seen); err != nil {
		return nil, err
	}
	for _, d := range sf.Directives {
		f.Commands = append(f.Commands, d.Cmd)
	}
	if _, ok := f.Commands[0].(script.Cluster); !ok {
		return nil, fmt.Errorf("%s:%d: the first command must be the cluster line", sf.Path, sf.Directives[0].Line)
	}
	return f, nil
}

// readHeaderLine reads one "# key: value" comment of the header (prose
// and unknown keys are skipped).
func readHeaderLine(path string, no int, l string, h *CounterexampleHeader, seen map[string]bool) error {
	key, val, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(l, "#")), ":")
	if !ok || strings.Contains(key, " ") {
		return nil // prose
	}
	val = strings.TrimSpace(val)
	var err error
	switch key {
	case "checker":
		h.Checker = val
	case "seed":
		if h.Seed, err = strconv.ParseUint(val, 10, 64); err != nil {
			return fmt.Errorf("%s:%d: seed %q: want a whole number", path, no, val)
		}
	case "model-version":
		h.ModelVersion = val
	case "schedule":
		h.Scripted = true
		if h.Schedule, err = ParseSchedule(val); err != nil {
			return fmt.Errorf("%s:%d: %v", path, no, err)
		}
	case "hazard":
		if val != "-" {
			h.Hazard = val
		}
	default:
		return nil
	}
	seen[key] = true
	return nil
}

// checkHeader requires the header's keys and the model version.
func checkHeader(path string, h *CounterexampleHeader, seen map[string]bool) error {
	for _, key := range []string{"model-version", "checker", "seed"} {
		if !seen[key] {
			return fmt.Errorf("%s: not a counterexample file: no '# %s: ...' line in its header", path, key)
		}
	}
	if h.ModelVersion != cluster.ModelVersion {
		return fmt.Errorf("%w: %s was recorded with model %s, this is model %s: the schedule and trace no longer mean the same run; "+
			"find it again (promotesim replay -seed %d%s, or promotesim explore) and delete this file",
			ErrStaleCounterexample, path, h.ModelVersion, cluster.ModelVersion, h.Seed, hazardFlag(h.Hazard))
	}
	return nil
}

func hazardFlag(h string) string {
	if h == "" {
		return ""
	}
	return " -hazard " + h
}

// ReadCounterexample reads and parses a counterexample file (bounded:
// ReadScript).
func ReadCounterexample(path string) (*CounterexampleFile, error) {
	sf, err := ReadScript(path)
	if err != nil {
		return nil, err
	}
	return counterexampleOf(sf)
}

// Replay runs the file's commands, writing each command and its output to
// w (nil: quiet) at level, and returns the violation met, if any.
func (f *CounterexampleFile) Replay(w io.Writer, level sim.Level, format sim.Format) *sim.Violation {
	x := NewReplayer(f.Header.Seed, f.Header.Schedule, f.Header.Scripted, level, format)
	if w == nil {
		x.R.Quiet = true
	}
	for _, cmd := range f.Commands {
		out := x.Exec(cmd)
		if w != nil {
			fmt.Fprintf(w, "> %s\n", cmd)
			if out != "" {
				fmt.Fprintln(w, out)
			}
		}
		if x.V != nil {
			break
		}
	}
	return x.V
}

// CounterexampleName is the default file name: hazard (or "clean"),
// checker and seed.
func CounterexampleName(cx *Counterexample) string {
	h := cx.Hazard
	if h == "" {
		h = "clean"
	}
	if cx.Source != "" {
		return fmt.Sprintf("%s-%s-%s.txt", cx.Source, h, cx.Checker)
	}
	return fmt.Sprintf("%s-%s-%d.txt", h, cx.Checker, cx.Seed)
}

// ReproduceCommand is the command line that replays a written file.
func ReproduceCommand(path string) string {
	return "go run ./cmd/promotesim replay -script " + path
}

// WriteCounterexample renders the counterexample as a script, running it
// once at story level to record every command's expected output. It fails
// when the recorded run does not end in the counterexample's violation.
func WriteCounterexample(w io.Writer, cx *Counterexample, path string) error {
	entries, v := recordEntries(cx)
	if v == nil || v.Checker != cx.Checker {
		got := "no violation"
		if v != nil {
			got = v.Checker
		}
		return fmt.Errorf("counterexample of seed %d does not replay to %s as a script (got %s)", cx.Seed, cx.Checker, got)
	}
	var b strings.Builder
	writeStory(&b, cx, v)
	writeHeader(&b, cx, path)
	for _, e := range entries {
		writeEntry(&b, e)
	}
	_, err := io.WriteString(w, strings.TrimRight(b.String(), "\n")+"\n")
	return err
}

// entry is one command of a counterexample script and its output.
type entry struct {
	cmd script.Command
	out string
}

// recordEntries replays the counterexample at story level, the cluster
// line first and full-check last, and returns every command's output and
// the violation met.
func recordEntries(cx *Counterexample) ([]entry, *sim.Violation) {
	x := NewReplayer(cx.Seed, cx.Schedule, cx.Scripted, sim.LevelStory, sim.FormatText)
	var entries []entry
	for _, cmd := range append([]script.Command{cx.Cluster}, cx.Actions...) {
		entries = append(entries, entry{cmd, x.Exec(cmd)})
		if x.V != nil {
			return entries, x.V
		}
	}
	entries = append(entries, entry{script.FullCheckCmd{}, x.Exec(script.FullCheckCmd{})})
	return entries, x.V
}

// writeStory writes the opening comments: what failed, what PolarDB does
// and what the hazard changes (or the claim), and what went wrong.
func writeStory(b *strings.Builder, cx *Counterexample, v *sim.Violation) {
	fmt.Fprintf(b, "# Counterexample: %s fails", cx.Checker)
	if cx.Hazard != "" {
		fmt.Fprintf(b, " under the hazard %s", cx.Hazard)
	}
	if cx.Source == "exhaustive" {
		b.WriteString(", found by promotesim check -exhaustive (the schedule that fails soonest).\n#\n")
	} else {
		b.WriteString(", found by promotesim explore and shrunk.\n#\n")
	}
	if cx.Hazard != "" {
		if h, err := hazard.Lookup(cx.Hazard); err == nil {
			writeComment(b, "What PolarDB does: "+h.Right+".")
			writeComment(b, "What the hazard changes: "+h.Wrong+".")
			writeComment(b, "Expected consequence: "+h.Consequence+".")
			b.WriteString("#\n")
		}
	} else if c, ok := claimText(cx.Checker); ok {
		writeComment(b, "The claim: "+c+".")
		b.WriteString("#\n")
	}
	if cx.Shrink.Controlled {
		writeComment(b, "Without the hazard (the cluster line without hazard=) the same commands and schedule do not fail this way: shrinking checked every step of the way.")
		b.WriteString("#\n")
	}
	if cx.Shrink.OutOfBudget {
		// No wall time here: the story comment must depend only on the
		// budget (the header's shrunk: line carries the time, which the
		// ordering study's report strips).
		writeComment(b, fmt.Sprintf("Shrinking ran out of its budget (%d replays) before a fixpoint: this script may not be "+
			"the smallest that fails; explore's -shrink-attempts and -shrink-time raise the budget.",
			cx.Shrink.Attempts))
		b.WriteString("#\n")
	}
	first, _, _ := strings.Cut(v.Err.Error(), "\n")
	writeComment(b, fmt.Sprintf("What went wrong (step %d): %s", v.Step, first))
	b.WriteString("#\n")
}

// writeHeader writes the "# key: value" lines the replay reads and how to
// reproduce the file.
func writeHeader(b *strings.Builder, cx *Counterexample, path string) {
	hz := cx.Hazard
	if hz == "" {
		hz = "-"
	}
	fmt.Fprintf(b, "# checker: %s\n", cx.Checker)
	fmt.Fprintf(b, "# seed: %d\n", cx.Seed)
	fmt.Fprintf(b, "# hazard: %s\n", hz)
	if cx.Options != "" {
		fmt.Fprintf(b, "# options: %s\n", cx.Options)
	}
	fmt.Fprintf(b, "# model-version: %s\n", cluster.ModelVersion)
	if cx.Scripted {
		fmt.Fprintf(b, "# schedule: %s\n", ScheduleString(cx.Schedule))
	}
	if cx.Shrink.Attempts > 0 {
		fmt.Fprintf(b, "# shrunk: %s\n", cx.Shrink.String())
	}
	b.WriteString("#\n")
	fmt.Fprintf(b, "# Reproduce: %s\n", ReproduceCommand(path))
	if cx.Swarm.Seed == cx.Seed && cx.Options != "" {
		fmt.Fprintf(b, "# The world before shrinking: go run ./cmd/promotesim replay -seed %d%s\n", cx.Seed, swarmFlags(cx.Swarm))
	}
	b.WriteString("# The schedule line replays every scheduler choice in order (value*count\n")
	b.WriteString("# repeats a value; past its end every choice is 0, the FIFO schedule).\n")
	b.WriteString("# Test: go test ./scenarios -run TestCounterexamples\n\n")
}

// writeEntry writes one command and its expected output (the ----/----
// form when the output has a blank line).
func writeEntry(b *strings.Builder, e entry) {
	b.WriteString(e.cmd.String())
	b.WriteByte('\n')
	out := e.out
	switch {
	case out == "":
		b.WriteString("----\n\n")
	case hasBlankLine(out):
		b.WriteString("----\n----\n")
		b.WriteString(out)
		b.WriteString("\n----\n----\n\n")
	default:
		b.WriteString("----\n")
		b.WriteString(out)
		b.WriteString("\n\n")
	}
}

func hasBlankLine(s string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == "" {
			return true
		}
	}
	return false
}

func writeComment(b *strings.Builder, text string) {
	const width = 76
	line := "#"
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > width && line != "#" {
			b.WriteString(line + "\n")
			line = "#"
		}
		line += " " + w
	}
	b.WriteString(line + "\n")
}

func claimText(name string) (string, bool) {
	for _, c := range check.Claims() {
		if c.Name == name {
			return c.Text, true
		}
	}
	return "", false
}

// swarmFlags are the explore/replay flags that select sw's base.
func swarmFlags(sw swarm.Swarm) string {
	var b strings.Builder
	if p := sw.Opts.Profile; p != 0 && cluster.ProfileName(p, sw.Opts.Fixed) != "v15" {
		fmt.Fprintf(&b, " -profile %s", cluster.ProfileName(p, sw.Opts.Fixed))
	}
	if f := sw.Opts.Fence; f != 0 && f.String() != "none" {
		fmt.Fprintf(&b, " -fence %v", f)
	}
	if sw.Base.Hazard != "" {
		fmt.Fprintf(&b, " -hazard %s", sw.Base.Hazard)
	}
	if sw.Opts.Faithful != "" {
		fmt.Fprintf(&b, " -faithful %s", sw.Opts.Faithful)
	}
	if sw.Base.Hunt != "" {
		fmt.Fprintf(&b, " -hunt %s", sw.Base.Hunt)
	}
	return b.String()
}

// SwarmFlags are the explore/replay flags that select sw's base (profile,
// fence, hazard, faithful switches), for reproduce lines.
func SwarmFlags(sw swarm.Swarm) string { return swarmFlags(sw) }

// SaveCounterexample writes the file into dir (created if missing) and
// returns its path.
func SaveCounterexample(dir string, cx *Counterexample) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, CounterexampleName(cx))
	var b strings.Builder
	if err := WriteCounterexample(&b, cx, path); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}

// TraceWorld replays a world's recorded commands (its Outcome) with the
// whole trace written to w at level in format, and returns the violation
// it meets. RunConfig writes text only; this is how a world's trace comes
// out as JSON lines. The replay is the same run: same cluster line, same
// commands, same seeded schedule.
func TraceWorld(o swarm.Outcome, w io.Writer, level sim.Level, format sim.Format) *sim.Violation {
	x := NewReplayer(o.Swarm.Seed, nil, false, level, format)
	x.R.TraceTo = w
	for _, cmd := range append([]script.Command{o.Cluster}, o.Actions...) {
		x.Exec(cmd)
		if x.V != nil {
			return x.V
		}
	}
	x.Exec(script.FullCheckCmd{})
	return x.V
}
