package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"promotesim/scenarios/script"
	"promotesim/sim"
)

// A script demo is a list of stages; each stage tells what is about to
// happen and runs commands through a Runner, printing what the processes did
// (the story-level trace) and the state that matters at that point.
type stage struct {
	title string
	cmds  []string
}

func init() {
	register(Demo{Name: "switchover", Summary: "the switchover walkthrough: stop primary, promote replica, rebuild, switch back",
		Run: func(o DemoOptions) error { return runStages(o, switchoverStages) }})
	register(Demo{Name: "logindex-off", Summary: "promote with LogIndex disabled is refused up front (PolarDB crashes here)",
		Run: func(o DemoOptions) error { return runStages(o, logindexOffStages) }})
}

var logindexOffStages = []stage{
	{"A replica with polar_logindex_mem_size = 0 (PolarDB 15's default)", []string{
		"cluster nodes=2 pages=4 logindex-mem=0",
		"writes node=1 count=2",
		"status",
	}},
	{"pg_ctl promote: the real system takes the vanilla path, writes on a read-only mount and crashes; the model refuses", []string{
		"stop node=1 mode=fast",
		"promote node=2",
		"run steps=50",
		"status",
	}},
}

// runStages runs a script demo and prints it for a reader.
func runStages(o DemoOptions, stages []stage) error {
	r := script.NewRunner(o.Seed, o.Level, o.Format)
	jsonl := o.Format == sim.FormatJSONL
	for i, st := range stages {
		if jsonl {
			writeJSON(o.Out, map[string]any{"stage": i + 1, "title": st.title})
		} else {
			if i > 0 {
				fmt.Fprintln(o.Out)
			}
			fmt.Fprintf(o.Out, "=== %d. %s\n", i+1, st.title)
		}
		for _, cmd := range st.cmds {
			out, err := r.Exec(cmd)
			if jsonl {
				for _, line := range strings.Split(out, "\n") {
					if strings.HasPrefix(line, "{") {
						fmt.Fprintln(o.Out, line)
					} else if line != "" {
						writeJSON(o.Out, map[string]any{"command": cmd, "result": line})
					}
				}
			} else {
				fmt.Fprintf(o.Out, "$ %s\n", cmd)
				if out != "" {
					fmt.Fprintln(o.Out, indent(out))
				}
			}
			if err != nil {
				return fmt.Errorf("stage %d, %q: %w", i+1, cmd, err)
			}
		}
	}
	return nil
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

func writeJSON(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of strings and ints always marshal
	}
	fmt.Fprintln(w, string(b))
}
