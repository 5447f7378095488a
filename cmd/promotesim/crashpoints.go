package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"promotesim/scenarios/crashpoint"
	"promotesim/scenarios/view"
)

var defaultCrashDir = filepath.Join(os.TempDir(), "promotesim", "crashpoints")

// runCrashpoints is the crash-point sweep (scenarios/crashpoint): every
// step of every promote window of one world, crashed three ways, each
// re-simulated, recovered and checked.
func runCrashpoints(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("crashpoints", "crashpoints [-seed N] [-profile P] [-hazard H] [-kinds K,...] [-all] [-json] [-out DIR]", stderr)
	seed := fs.Uint64("seed", 0, "sweep the swarm world of this seed (replay -seed N) instead of the switchover story")
	profile := fs.String("profile", "v15-fixed", "model profile: v15 (PolarDB's code, findings F1-F4 of docs/findings.md), v15-fixed, v11, ...")
	hz := fs.String("hazard", "", "run the world with this hazard (promotesim hazards)")
	kinds := fs.String("kinds", "all", "crash kinds, comma-separated: promoting, old-primary, power, or all")
	all := fs.Bool("all", false, "run every crash point even after one fails (default: stop at the first)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	out := fs.String("out", defaultCrashDir, "directory for the failing point's replayable script")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	ks, err := crashpoint.ParseKinds(*kinds)
	if err != nil {
		return usageErr("-kinds: %v", err)
	}
	seedSet := false
	fs.Visit(func(f *flag.Flag) { seedSet = seedSet || f.Name == "seed" })
	if seedSet && (*seed == 0 || *seed == math.MaxUint64) {
		return usageErr("-seed: want a world seed from 1 (got %d)", *seed)
	}
	world, root, err := crashRoot(seedSet, *seed, *profile, *hz)
	if err != nil {
		return usageErr("%v", err)
	}
	rep, err := crashpoint.Sweep(world, root, crashpoint.Options{Kinds: ks, Stop: !*all})
	if err != nil {
		return err
	}
	file := ""
	if len(rep.Failures) > 0 {
		if file, err = saveCrashScript(*out, rep.Failures[0]); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			*crashpoint.Report
			Script string `json:"script,omitempty"`
		}{rep, file}); err != nil {
			return err
		}
	} else {
		printCrashReport(stdout, rep, file)
	}
	if len(rep.Failures) > 0 || len(rep.Windows) == 0 {
		return errFound
	}
	return nil
}

// crashRoot is the world to sweep: the switchover story or a swarm world.
func crashRoot(isWorld bool, seed uint64, profile, hz string) (string, view.Program, error) {
	if isWorld {
		p, err := crashpoint.World(seed, profile, hz)
		return fmt.Sprintf("swarm world %d (profile %s%s)", seed, profile, hazardSuffix(hz)), p, err
	}
	p, err := crashpoint.Switchover(profile, hz)
	return fmt.Sprintf("switchover (promotesim demo switchover, profile %s%s)", profile, hazardSuffix(hz)), p, err
}

func hazardSuffix(hz string) string {
	if hz == "" {
		return ""
	}
	return ", hazard " + hz
}

// saveCrashScript writes a failing point's script where replay -script
// runs it.
func saveCrashScript(dir string, f crashpoint.Result) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := filepath.Join(dir, fmt.Sprintf("crash-w%d-%d-%s.txt", f.Window, f.Step, f.Kind))
	if err := os.WriteFile(name, []byte(f.Script), 0o644); err != nil {
		return "", err
	}
	return name, nil
}

func printCrashReport(w io.Writer, rep *crashpoint.Report, file string) {
	fmt.Fprintf(w, "crash points of %s\n", rep.World)
	for i, win := range rep.Windows {
		fmt.Fprintf(w, "  window %d: %s, %d steps\n", i, win, win.Len())
	}
	if len(rep.Windows) == 0 {
		fmt.Fprintln(w, "  no promote window: the run requests no promote before it ends (or its violation)")
	}
	if rep.RootViolation != "" {
		fmt.Fprintf(w, "  the run itself, without a crash, breaks %s\n", rep.RootViolation)
	}
	for _, k := range rep.Kinds {
		line := fmt.Sprintf("  %-12s %4d crash points tried, %4d recovered cleanly", k, rep.Tried[k], rep.Clean[k])
		if m := rep.Moved[k]; m > 0 {
			line += fmt.Sprintf(" (%d inside a command a script cannot cut: crashed at its end)", m)
		}
		if d := rep.Down[k]; d > 0 {
			line += fmt.Sprintf(" (at %d the node was down already: nothing to kill)", d)
		}
		if s := rep.Skipped[k]; s > 0 {
			line += fmt.Sprintf(" (%d windows without an old primary)", s)
		}
		fmt.Fprintln(w, line)
	}
	if len(rep.Windows) == 0 {
		fmt.Fprintln(w, "nothing swept: pick a world that promotes (exit 1)")
		return
	}
	if len(rep.Failures) == 0 {
		fmt.Fprintf(w, "%d crash points, 0 acknowledged commits lost, every claim held\n", rep.Total())
		return
	}
	f := rep.Failures[0]
	fmt.Fprintf(w, "FAILED: %d lost acknowledged data, %d other violations\n", rep.Lost, rep.Violations)
	fmt.Fprintf(w, "first failing point: window %d step %d, %s (%s): %s: %s\n", f.Window, f.Step, f.Kind, f.Action, f.Checker, f.Text)
	fmt.Fprintf(w, "replay it: promotesim replay -script %s\n", file)
}
