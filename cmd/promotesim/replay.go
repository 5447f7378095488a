package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"promotesim/scenarios/cluster"
	"promotesim/scenarios/explore"
	"promotesim/scenarios/swarm"
	"promotesim/sim"
)

func runReplay(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("replay", "replay (-seed S [-profile v15|v15-fixed|v11|v11-fixed] [-fence none|epoch|detect] [-hazard NAME] [-sched STRATEGY] | -script FILE [-profile P]) [-v story|step|detail] [-format text|jsonl|mermaid]", stderr)
	seed := fs.Uint64("seed", 0, "the world's seed (as explore printed it)")
	script := fs.String("script", "", "a counterexample file written by explore, or any datadriven script (as promotesim run)")
	bf := addBaseFlags(fs, "hazard under test (promotesim hazards lists them)")
	addSchedFlag(fs, &bf)
	level := fs.String("v", "story", "trace level: story, step or detail")
	format := fs.String("format", "text", "trace format: text, jsonl or mermaid (a sequence diagram and the BGW state diagrams)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *format == "mermaid" {
		set := map[string]bool{} // looked up only
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if *script == "" && !set["seed"] {
			return usageErr("give -seed S (a world) or -script FILE (a counterexample)")
		}
		p, err := viewProgram("", *script, *seed, set, bf)
		if err != nil {
			return err
		}
		return printMermaid(p, stdout)
	}
	lv, err := sim.ParseLevel(*level)
	if err != nil {
		return usageErr("-v: %v", err)
	}
	fm, err := sim.ParseFormat(*format)
	if err != nil {
		return usageErr("-format: %v", err)
	}
	set := map[string]bool{} // looked up only
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *script != "" {
		for _, name := range []string{"seed", "fence", "hazard", "sched", "faithful", "hunt"} {
			if set[name] {
				return usageErr("-%s does not go with -script (the file says everything)", name)
			}
		}
		// -profile with -script replays the file's commands and schedule
		// under another profile: a finding recorded in v15 replayed in
		// v15-fixed shows whether the fix holds (docs/findings.md).
		override := ""
		if set["profile"] {
			if _, _, err := cluster.ParseProfile(*bf.profile); err != nil {
				return usageErr("-profile %q: want %s", *bf.profile, strings.Join(cluster.ProfileNames(), ", "))
			}
			override = *bf.profile
		}
		return replayScript(*script, override, lv, fm, stdout)
	}
	if !set["seed"] {
		return usageErr("give -seed S (a world) or -script FILE (a counterexample)")
	}
	base, _, err := bf.base(false)
	if err != nil {
		return err
	}
	return replaySeed(*seed, base, lv, fm, stdout, stderr)
}

// replaySeed is replay -seed: derive the world, run it with its trace,
// then print its program, its figures and its verdict.
func replaySeed(seed uint64, base swarm.Base, lv sim.Level, fm sim.Format, stdout, stderr io.Writer) error {
	sw, err := swarm.DeriveSwarm(seed, base)
	if err != nil {
		return usageErr("%v", err)
	}
	if fm == sim.FormatText {
		fmt.Fprintf(stdout, "# world %s\n# model %s\n# %s\n%s\n", sw, cluster.ModelVersion, sw.ClusterLine(), traceLegend)
	}
	var o swarm.Outcome
	if fm == sim.FormatJSONL {
		// The world's runner writes text; run it quietly for its commands,
		// then replay them with a JSON-lines trace. The trace is the
		// output; the outcome goes to stderr.
		if o, err = swarm.RunSwarm(sw, swarm.RunConfig{}); err != nil {
			return err
		}
		explore.TraceWorld(o, stdout, lv, fm)
		stdout = stderr
	} else if o, err = swarm.RunSwarm(sw, swarm.RunConfig{Out: stdout, Level: lv}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# actions (%d, %d refused):\n", len(o.Actions), o.Refused)
	for _, a := range o.Actions {
		fmt.Fprintf(stdout, "#   %s\n", a)
	}
	fmt.Fprintf(stdout, "# %d steps, trace hash %016x, marks: %s\n", o.Steps, o.Hash, strings.Join(o.Marks, ", "))
	if v := o.Violation; v != nil {
		fmt.Fprint(stdout, v.Report())
		return errViolationReported
	}
	fmt.Fprintln(stdout, "# held: no violation")
	return nil
}

func replayScript(path, profile string, lv sim.Level, fm sim.Format, stdout io.Writer) error {
	sf, err := explore.ReadScript(path)
	if err != nil {
		// A missing, malformed or oversized file is a bad -script value.
		return usageErr("-script: %v", err)
	}
	if !explore.IsCounterexample(sf) {
		if profile != "" {
			return usageErr("-profile goes with a counterexample file; %s is a script (its cluster lines say their profile)", path)
		}
		return runOneFile(path, stdout) // a story, checker or hazard script: as promotesim run
	}
	// The file as a file first (quietly, as promotesim run): a refused
	// command or a file cut short is bad input, not a model outcome.
	if _, err := explore.RunFile(sf); err != nil {
		return usageErr("-script: %v", err)
	}
	f, err := explore.ReadCounterexample(path)
	if err != nil {
		return usageErr("-script: %v", err)
	}
	if profile != "" {
		if err := f.SetProfile(profile); err != nil {
			return usageErr("-profile: %v", err)
		}
		fmt.Fprintf(stdout, "# replayed under profile %s (the file's cluster line says otherwise)\n", profile)
	}
	h := f.Header
	sched := "the seeded random schedule of the cluster line"
	if h.Scripted {
		sched = explore.ScheduleString(h.Schedule)
	}
	fmt.Fprintf(stdout, "# counterexample %s: %s, seed %d, model %s\n# scheduler choices: %s\n%s\n", path, h.Checker, h.Seed, h.ModelVersion, sched, traceLegend)
	v := f.Replay(stdout, lv, fm)
	switch {
	case v == nil && h.Checker == "none":
		// A run the viewer exported that ends without a violation.
		fmt.Fprintln(stdout, "# held: no violation, as the file records (checker: none)")
		return nil
	case v != nil && h.Checker == "none":
		fmt.Fprintf(stdout, "# a violation of %s at step %d: the file records none (the model changed?)\n", v.Checker, v.Step)
		return errViolationReported
	case v == nil && profile != "":
		// Replayed against another profile (a fix): the violation gone is
		// what the replay asks about, not a stale file.
		fmt.Fprintf(stdout, "# held under profile %s: the recorded violation of %s does not recur\n", profile, h.Checker)
		return nil
	case v == nil:
		// Exit 1: CI must see a counterexample that no longer reproduces.
		fmt.Fprintf(stdout, "# %s\n", notRecurred(h.Checker))
		return errViolationReported
	case v.Checker != h.Checker:
		fmt.Fprintf(stdout, "# a different checker fired: %s (the file records %s)\n", v.Checker, h.Checker)
		return errViolationReported
	}
	fmt.Fprintf(stdout, "# the recorded violation of %s recurred at step %d\n", h.Checker, v.Step)
	return errViolationReported
}
