package crashpoint

import (
	"fmt"
	"strings"

	"promotesim/scenarios/view"
)

// Report is one sweep.
type Report struct {
	World   string   `json:"world"`
	Kinds   []Kind   `json:"kinds"`
	Windows []Window `json:"windows"`
	// Tried and Clean count the crash points per kind; Moved those whose
	// crash took effect at the end of an uncuttable command; Skipped the
	// windows without a target for a kind (no old primary).
	Tried   map[Kind]int `json:"tried"`
	Clean   map[Kind]int `json:"clean"`
	Moved   map[Kind]int `json:"moved"`
	Skipped map[Kind]int `json:"skipped_windows"`
	// Down counts the points whose target node was down already (the
	// switchover stops its old primary before the promote): its crash
	// kills nothing, the point is the window's run with recovery after.
	Down map[Kind]int `json:"target_down"`
	// Lost counts failing points whose claim is about something
	// acknowledged (lossCheckers); Violations the other failures.
	Lost       int      `json:"lost"`
	Violations int      `json:"violations"`
	Failures   []Result `json:"failures"`
	// RootViolation: the root run itself broke a claim (its window ends
	// before that step).
	RootViolation string `json:"root_violation,omitempty"`
}

// Total is the number of crash points tried.
func (r *Report) Total() int {
	n := 0
	for _, k := range r.Kinds {
		n += r.Tried[k]
	}
	return n
}

// Options configure a sweep.
type Options struct {
	Kinds []Kind
	// Stop ends the sweep at the first failing point (the CLI's default:
	// one replayable script is what it writes).
	Stop bool
}

// Sweep captures root, finds its promote windows and runs every crash
// point of every kind in them, each re-simulated from the start.
func Sweep(world string, root view.Program, opt Options) (*Report, error) {
	d, err := view.Capture(root)
	if err != nil {
		return nil, err
	}
	rep := &Report{World: world, Kinds: opt.Kinds, Windows: Windows(d), Tried: map[Kind]int{}, Clean: map[Kind]int{},
		Moved: map[Kind]int{}, Skipped: map[Kind]int{}, Down: map[Kind]int{}}
	if d.Violation != nil {
		rep.RootViolation = fmt.Sprintf("%s at step %d: %s", d.Violation.Checker, d.Violation.Step, d.Violation.Text)
	}
	for wi, w := range rep.Windows {
		for _, k := range opt.Kinds {
			act := action(k, w)
			if act == "" {
				rep.Skipped[k]++
				continue
			}
			for s := w.First; s <= w.Last; s++ {
				res, err := crashAt(root, d, Point{Kind: k, Window: wi, Step: s, Action: act})
				if err != nil {
					return nil, err
				}
				res.Down = k != Power && !upAt(d, strings.TrimPrefix(act, "crash."), s)
				rep.add(res)
				if opt.Stop && !res.Clean() {
					return rep, nil
				}
			}
		}
	}
	return rep, nil
}

// crashAt runs one crash point; a failing one gets its replayable script
// (captured by the viewer, which records the same run).
func crashAt(root view.Program, d *view.Doc, p Point) (Result, error) {
	prog, moved, err := program(root, d, p)
	if err != nil {
		return Result{}, err
	}
	res := Result{Point: p, Moved: moved}
	res.Checker, res.Text, _ = run(prog)
	if res.Clean() {
		return res, nil
	}
	res.Lost = lossCheckers[res.Checker]
	bd, err := view.Capture(prog)
	if err != nil {
		return Result{}, err
	}
	res.Script = bd.Script
	if res.Checker == "recovery" {
		res.Script = "# " + res.Text + "\n" + res.Script
	}
	return res, nil
}

func (r *Report) add(res Result) {
	r.Tried[res.Kind]++
	if res.Down {
		r.Down[res.Kind]++
	}
	if res.Moved {
		r.Moved[res.Kind]++
	}
	if res.Clean() {
		r.Clean[res.Kind]++
		return
	}
	if res.Lost {
		r.Lost++
	} else {
		r.Violations++
	}
	r.Failures = append(r.Failures, res)
}

// upAt says node was up in the last snapshot at or before step.
func upAt(d *view.Doc, node string, step uint64) bool {
	up := false
	for _, s := range d.Snaps {
		if s.Step > step {
			break
		}
		for _, n := range s.Nodes {
			if n.Name == node {
				up = n.Up
			}
		}
	}
	return up
}
