package view

import (
	"fmt"
	"strconv"
	"strings"
)

// A fork changes a run at a step: a fault injected after it (crash, stop,
// an I/O error, a paused process) or another enabled step chosen for the
// next one (pick). The branch is an ordinary program: the commands before
// the fork, the command running at the fork cut to the steps it had taken
// ("run steps=D" stands in for a run or run-until; any other command is
// kept whole, so its fork takes effect at its end, and the document notes
// that), the injected command, then run steps=ContinueSteps. Its schedule
// is the choices the run had made by the fork (then the pick, if any),
// FIFO after: so the branch is deterministic and its script replays it.

// ContinueSteps is how far a branch runs after its fork.
const ContinueSteps = 600

// Fork is one fork: at step Step (after it), do Action.
type Fork struct {
	Step   uint64
	Action string // crash.n2, stop.n2, stopi.n2, power, io.n2.write, pause.n2.bgw, pick.3
}

// Path is the forks from a root run to a branch, in order.
type Path []Fork

func (p Path) String() string {
	var parts []string
	for _, f := range p {
		parts = append(parts, fmt.Sprintf("%d:%s", f.Step, f.Action))
	}
	return strings.Join(parts, ",")
}

// ParsePath reads what Path.String writes ("" is the root).
func ParsePath(s string) (Path, error) {
	var p Path
	if s == "" {
		return p, nil
	}
	for _, part := range strings.Split(s, ",") {
		st, act, ok := strings.Cut(part, ":")
		n, err := strconv.ParseUint(st, 10, 64)
		if !ok || err != nil {
			return nil, fmt.Errorf("path %q: want STEP:ACTION[,STEP:ACTION...]", s)
		}
		if _, err := actionCmd(act, nil); err != nil {
			return nil, err
		}
		p = append(p, Fork{Step: n, Action: act})
	}
	return p, nil
}

// actionCmd is the command an action injects ("" for a pick).
func actionCmd(act string, pick *int) (string, error) {
	f := strings.Split(act, ".")
	node := func(i int) (string, error) {
		if len(f) <= i || !strings.HasPrefix(f[i], "n") {
			return "", fmt.Errorf("action %q: want a node like n2", act)
		}
		if _, err := strconv.Atoi(f[i][1:]); err != nil {
			return "", fmt.Errorf("action %q: want a node like n2", act)
		}
		return f[i][1:], nil
	}
	switch f[0] {
	case "crash", "stop", "stopi":
		n, err := node(1)
		if err != nil || len(f) != 2 {
			return "", fmt.Errorf("action %q: want %s.nN", act, f[0])
		}
		switch f[0] {
		case "crash":
			return "crash node=" + n, nil
		case "stop":
			return "stop node=" + n + " mode=fast", nil
		}
		return "stop node=" + n + " mode=immediate", nil
	case "io":
		n, err := node(1)
		if err != nil || len(f) != 3 || (f[2] != "read" && f[2] != "write" && f[2] != "sync") {
			return "", fmt.Errorf("action %q: want io.nN.read|write|sync", act)
		}
		return "fault node=" + n + " kind=io-error op=" + f[2] + " count=1", nil
	case "pause":
		n, err := node(1)
		if err != nil || len(f) != 3 {
			return "", fmt.Errorf("action %q: want pause.nN.PROC", act)
		}
		return "pause node=" + n + " proc=" + f[2], nil
	case "power":
		// Every host and device at once (cluster.PowerLoss): the
		// crash-point sweep's whole-system crash.
		if len(f) != 1 {
			return "", fmt.Errorf("action %q: want power", act)
		}
		return "power-loss", nil
	case "pick":
		k, err := strconv.Atoi(strings.Join(f[1:], "."))
		if len(f) != 2 || err != nil || k < 0 {
			return "", fmt.Errorf("action %q: want pick.K (K an enabled step's index)", act)
		}
		if pick != nil {
			*pick = k
		}
		return "", nil
	}
	return "", fmt.Errorf("action %q: want crash, stop, stopi, power, io, pause or pick", act)
}

// splittable commands only take steps, so "run steps=D" is their first D.
func splittable(cmd string) bool {
	v := strings.Fields(cmd)
	return len(v) > 0 && (v[0] == "run" || v[0] == "run-until")
}

// Branch is the program of parent (captured as d) forked by f.
func Branch(parent Program, d *Doc, f Fork) (Program, error) {
	pick := -1
	inject, err := actionCmd(f.Action, &pick)
	if err != nil {
		return Program{}, err
	}
	if f.Step < d.First || f.Step > d.Last {
		return Program{}, fmt.Errorf("fork at step %d: the run shows steps %d..%d", f.Step, d.First, d.Last)
	}
	if d.Violation != nil && f.Step >= d.Violation.Step {
		return Program{}, fmt.Errorf("fork at step %d: the run stopped at its violation (step %d); fork before it", f.Step, d.Violation.Step)
	}
	b := parent
	b.Cmds, b.Path = nil, append(append(Path(nil), parent.Path...), f)
	at := f.Step
	for i, c := range d.Cmds {
		if c.To <= f.Step || i == 0 {
			b.Cmds = append(b.Cmds, parent.Cmds[i])
			continue
		}
		if c.From < f.Step {
			if splittable(c.Text) {
				b.Cmds = append(b.Cmds, ProgCmd{Text: fmt.Sprintf("run steps=%d", f.Step-c.From), Stage: c.Stage})
			} else if pick >= 0 {
				return Program{}, fmt.Errorf("step %d is inside %q, which a script cannot cut: pick another step at a command's end or inside a run", f.Step, c.Text)
			} else {
				b.Cmds = append(b.Cmds, parent.Cmds[i])
				at = c.To
			}
		}
		break
	}
	snap := d.Snaps[snapIndex(d, at)]
	stage := len(b.Stages)
	b.Stages = append(append([]string(nil), b.Stages...), fmt.Sprintf("fork at step %d: %s", at, f.Action))
	b.Scripted = true
	b.Schedule = choicesUpTo(d, snap.Choices)
	if at != f.Step {
		b.Notes = append(append([]string(nil), b.Notes...), fmt.Sprintf("fork %s asked for step %d, inside %q: a script cannot cut that command, so the fork takes effect at its end, step %d", f.Action, f.Step, cmdAt(d, f.Step), at))
	}
	if pick >= 0 {
		if pick >= len(snap.Cands) || len(snap.Cands) < 2 {
			return Program{}, fmt.Errorf("pick.%d at step %d: %d steps are enabled there", pick, at, len(snap.Cands))
		}
		b.Schedule = append(b.Schedule, pick)
	} else {
		b.Cmds = append(b.Cmds, ProgCmd{Text: inject, Stage: stage})
	}
	b.Cmds = append(b.Cmds, ProgCmd{Text: fmt.Sprintf("run steps=%d", ContinueSteps), Stage: stage})
	return b, nil
}

// choicesUpTo is the first n choices the run made.
func choicesUpTo(d *Doc, n int) []int {
	out := make([]int, n)
	copy(out, d.choices)
	return out
}

func cmdAt(d *Doc, step uint64) string {
	for _, c := range d.Cmds {
		if c.From < step && step <= c.To {
			return c.Text
		}
	}
	return ""
}

func snapIndex(d *Doc, step uint64) int {
	lo, hi := 0, len(d.Snaps)-1
	for lo < hi { // the last snapshot at or before step
		mid := (lo + hi + 1) / 2
		if d.Snaps[mid].Step <= step {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// Resolve captures root and every fork of path in turn and returns the
// branch's program and document.
func Resolve(root Program, path Path) (Program, *Doc, error) {
	p := root
	d, err := Capture(p)
	if err != nil {
		return p, nil, err
	}
	for i, f := range path {
		parent := &Summary{Path: p.Path.String(), First: d.First, Last: d.Last, Violation: d.Violation}
		if p, err = Branch(p, d, f); err != nil {
			return p, nil, fmt.Errorf("fork %d (%d:%s): %w", i+1, f.Step, f.Action, err)
		}
		if d, err = Capture(p); err != nil {
			return p, nil, err
		}
		d.Parent = parent
	}
	return p, d, nil
}

// Script renders the branch as a counterexample-format script that
// promotesim replay -script runs: the header (checker, seed, model
// version, schedule), then every command with what it printed.
func Script(p Program, d *Doc) string {
	var b strings.Builder
	checker := "none"
	if d.Violation != nil {
		checker = d.Violation.Checker
	}
	fmt.Fprintf(&b, "# A run exported by promotesim view: %s\n", p.Title)
	if len(p.Path) > 0 {
		fmt.Fprintf(&b, "# branch: %s (forks as STEP:ACTION)\n", p.Path)
	}
	if d.Violation != nil {
		fmt.Fprintf(&b, "# It ends in a violation of %s at step %d.\n", d.Violation.Checker, d.Violation.Step)
	} else {
		b.WriteString("# It ends with no violation (checker: none).\n")
	}
	b.WriteString("#\n")
	fmt.Fprintf(&b, "# checker: %s\n# seed: %d\n# model-version: %s\n", checker, p.Seed, ModelVersion)
	if p.Scripted {
		fmt.Fprintf(&b, "# schedule: %s\n", scheduleString(p.Schedule))
	}
	b.WriteString("#\n# Reproduce: go run ./cmd/promotesim replay -script FILE\n\n")
	for _, c := range d.Cmds {
		b.WriteString(c.Text + "\n")
		out := c.Out
		switch {
		case out == "":
			b.WriteString("----\n\n")
		case strings.Contains(out, "\n\n"):
			b.WriteString("----\n----\n" + out + "\n----\n----\n\n")
		default:
			b.WriteString("----\n" + out + "\n\n")
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}
