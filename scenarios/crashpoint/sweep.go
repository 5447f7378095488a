package crashpoint

import (
	"fmt"
	"slices"
	"strings"

	"promotesim/scenarios/explore"
	"promotesim/scenarios/hazard"
	"promotesim/scenarios/script"
	"promotesim/scenarios/view"
	"promotesim/sim"
)

// Kind is what crashes at a crash point.
type Kind string

// The three kinds of crash.
const (
	Promoting  Kind = "promoting" // the node being promoted (crash node=P)
	OldPrimary Kind = "old-primary"
	Power      Kind = "power" // every host and device (power-loss)
)

// Kinds are all kinds, in report order.
var Kinds = []Kind{Promoting, OldPrimary, Power}

// ParseKinds reads a comma-separated list of kinds ("all": every kind).
func ParseKinds(s string) ([]Kind, error) {
	if s == "all" {
		return append([]Kind(nil), Kinds...), nil
	}
	var out []Kind
	for _, f := range strings.Split(s, ",") {
		k := Kind(strings.TrimSpace(f))
		found := false
		for _, want := range Kinds {
			found = found || k == want
		}
		if !found {
			return nil, fmt.Errorf("crash kind %q: want promoting, old-primary, power or all", f)
		}
		for _, have := range out {
			if have == k {
				return nil, fmt.Errorf("crash kind %q given twice", f)
			}
		}
		out = append(out, k)
	}
	return out, nil
}

// recovery is what follows the crash: the liveness phase (heal every
// fault; finish a requested promote, start a primary if none runs, rebuild
// every other node as a replica; require convergence), then the
// whole-state checks. A crash line gets the whole-state checks right after
// it from explore.Replayer, as swarm worlds do at every crash point; a
// power-loss line gets them from the full-check line that follows it.
// The liveness line may name the rescues the operator owes (owedRescues).
var recovery = []string{"liveness", "full-check"}

// owedRescues lists the nodes (as liveness rescue= takes them) whose
// trigger file's promote the operator would still complete with pg_ctl
// promote after a fork at step: every trigger window open by then whose
// rescue, if the root run had one, comes later. The cut drops the rescue
// and whatever made it needless (a stop of the node in the same step:
// swarm world 11), so liveness decides at run time: it rescues only a node
// instance still in that promote (a crash of it, or the power loss, ends
// it). Under the hazard trigger-file-promote the operator never runs it.
func owedRescues(root view.Program, d *view.Doc, step uint64) string {
	if triggerHazard(root) {
		return ""
	}
	var hs []string
	for _, w := range Windows(d) {
		h := strings.TrimPrefix(w.Node, "n")
		if w.Trigger && w.First <= step && (w.Rescue == 0 || step < w.Rescue) && !slices.Contains(hs, h) {
			hs = append(hs, h)
		}
	}
	return strings.Join(hs, ",")
}

// triggerHazard reports whether root's cluster line sets a hazard that
// promotes through the trigger file (trigger-file-promote).
func triggerHazard(root view.Program) bool {
	if len(root.Cmds) == 0 {
		return false
	}
	cmd, err := script.Parse(root.Cmds[0].Text)
	cl, ok := cmd.(script.Cluster)
	if err != nil || !ok || cl.Opts.Hazard == "" {
		return false
	}
	hz, err := hazard.Lookup(cl.Opts.Hazard)
	return err == nil && hz.TriggerFile
}

// lossCheckers are the claims whose violation means something acknowledged
// to a client is gone (a commit, a prepared transaction, a write).
var lossCheckers = map[string]bool{ // looked up only
	"CommitDurable": true, "AckedVisible": true, "CrashRecovers": true, "ReadsReflectAcked": true,
	"PromotedStandbyRecovers": true, "PreparedSurvives": true, "LogicalSlotsSurvive": true,
}

// Point is one crash point: a kind at a step of a window.
type Point struct {
	Kind   Kind   `json:"kind"`
	Window int    `json:"window"`
	Step   uint64 `json:"step"`
	// Action is the fork (view.Fork.Action), e.g. crash.n2 or power.
	Action string `json:"action"`
}

// Result is what one crash point did.
type Result struct {
	Point
	// Moved: the step fell inside a command a script cannot cut, so the
	// crash took effect at that command's end (view.Branch's note).
	Moved bool `json:"moved,omitempty"`
	// Down: the node to crash was down already at the step.
	Down bool `json:"down,omitempty"`
	// Checker and Text: the violation, or "recovery" and the error of a
	// refused recovery command; both empty when it recovered cleanly.
	Checker string `json:"checker,omitempty"`
	Text    string `json:"text,omitempty"`
	Lost    bool   `json:"lost,omitempty"`
	// Script replays the point (view.Script), kept only for failures.
	Script string `json:"-"`
}

// Clean says the point recovered with every check holding.
func (r Result) Clean() bool { return r.Checker == "" }

// action is the fork action of kind in window w ("" when the kind has no
// target there: no old primary).
func action(k Kind, w Window) string {
	switch k {
	case Promoting:
		return "crash." + w.Node
	case OldPrimary:
		if w.Old == "" {
			return ""
		}
		return "crash." + w.Old
	}
	return "power"
}

// program is the branch of root (captured as d) for point p: view.Branch's
// program with its trailing run replaced by the recovery.
func program(root view.Program, d *view.Doc, p Point) (view.Program, bool, error) {
	b, err := view.Branch(root, d, view.Fork{Step: p.Step, Action: p.Action})
	if err != nil {
		return b, false, err
	}
	tail := b.Cmds[len(b.Cmds)-1]
	if tail.Text != fmt.Sprintf("run steps=%d", view.ContinueSteps) {
		return b, false, fmt.Errorf("branch at %d:%s ends in %q, not its continuation run", p.Step, p.Action, tail.Text)
	}
	b.Cmds = b.Cmds[:len(b.Cmds)-1]
	live := "liveness"
	if hs := owedRescues(root, d, p.Step); hs != "" {
		live += " rescue=" + hs
	}
	b.Cmds = append(b.Cmds, view.ProgCmd{Text: live, Stage: tail.Stage}, view.ProgCmd{Text: "full-check", Stage: tail.Stage})
	return b, len(b.Notes) > len(root.Notes), nil
}

// run runs a branch program as a counterexample replay does and returns
// its violation or the first refused command from the crash on (the root
// run's own refusals before it, a swarm planner's, are the world's), and
// what the commands from the crash on printed.
func run(p view.Program) (checker, text, printed string) {
	from := len(p.Cmds) - len(recovery) - 1
	x := explore.NewReplayer(p.Seed, p.Schedule, p.Scripted, sim.LevelStory, sim.FormatText)
	var b strings.Builder
	for i, c := range p.Cmds {
		cmd, err := script.Parse(c.Text)
		if err != nil {
			return "recovery", fmt.Sprintf("command %d %q: %v", i+1, c.Text, err), b.String()
		}
		out := x.Exec(cmd)
		if i >= from {
			b.WriteString(out)
		}
		if x.V != nil {
			return x.V.Checker, x.V.Err.Error(), b.String()
		}
		if i < from {
			continue
		}
		// A refused command's error is a line of its own (Replayer.Exec);
		// a trace line may quote an excused process error mid-line.
		for _, l := range strings.Split(out, "\n") {
			if e, ok := strings.CutPrefix(l, "error: "); ok {
				return "recovery", fmt.Sprintf("%q refused: %s", c.Text, e), b.String()
			}
		}
	}
	return "", "", b.String()
}
