package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"promotesim/scenarios/cluster"
	"promotesim/scenarios/demo"
	"promotesim/scenarios/view"
	"promotesim/sim"
)

// Exit statuses.
const (
	exitOK        = 0
	exitViolation = 1
	exitUsage     = 2
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// errUsage marks errors that are the user's input, not the model's outcome.
var errUsage = errors.New("usage")

// errFound marks a run that found a violation and has printed its report.
var errFound = errors.New("violation found")

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"explore", "run seeded swarm worlds on every core; shrink and record what fails", runExplore},
		{"replay", "replay one world (-seed) or a counterexample file (-script) with its trace", runReplay},
		{"run", "run datadriven script files (stories, hazard canaries, findings, counterexamples) and diff their recorded output", runRunFile},
		{"hazards", "list the hazard catalogue", runHazards},
		{"orderings", "the ordering study: every variant of the promote order through the swarm", runOrderings},
		{"merge", "combine the -json reports of explore -shard i/n runs into the one-machine report", runMerge},
		{"crashpoints", "crash the promoting node, the old primary or every host at every step of the promote window", runCrashpoints},
		{"classify", "sort the failing seeds of a range into docs/findings.md's findings by their traces' signatures", runClassify},
		{"check", "check -exhaustive: a stateful search of every schedule of a small world's promote window", runCheck},
		{"demo", "replay a narrated teaching demo (no name: list them)", runDemo},
		{"view", "step through a run in the browser (127.0.0.1), or write it as one page (-o)", runView},
		{"regress", "write a permanent regression script of a seeded world or a failing property's log", runRegress},
		{"figures", "measure the figures the README quotes (make figures writes docs/figures.md)", runFigures},
		{"version", "print the model version", runVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: promotesim <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "A deterministic simulation of PolarDB for PostgreSQL's online promote.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'promotesim <command> -h' for a command's flags.")
	fmt.Fprintln(w, "Exit status: 0 ok, 1 a violation or failed run, 2 bad usage, 130 interrupted (SIGINT; the summary says so).")
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.Is(err, errInterrupted):
			return exitInterrupted // the partial summary is printed already
		case errors.Is(err, errFound):
			return exitViolation // the report is printed already
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "promotesim %s: %v\n", c.name, strings.TrimPrefix(err.Error(), "usage: "))
			return exitUsage
		default:
			fmt.Fprintf(stderr, "promotesim %s: %v\n", c.name, err)
			return exitViolation
		}
	}
	fmt.Fprintf(stderr, "promotesim: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

// traceLegend explains the trace's columns (text format).
const traceLegend = "# trace columns: STEP (the scheduler's step number: one process step each; forks and replays count in steps)  " +
	"TIME (virtual time in ticks: timers and I/O latency advance it)  NODE/PROCESS  EVENT  key=value fields"

// usageErr wraps a message as a usage error (exit status 2).
func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// newFlags returns a flag set that reports errors instead of exiting, so
// every bad flag maps to exit status 2 with one clear message.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: promotesim %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags and rejects stray positional arguments beyond max.
func parse(fs *flag.FlagSet, args []string, maxArgs int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErr("%v", err)
	}
	if fs.NArg() > maxArgs {
		return usageErr("unexpected argument %q", fs.Arg(maxArgs))
	}
	return nil
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "version", stderr)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "promotesim model %s\n", cluster.ModelVersion)
	return nil
}

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "demo [NAME] [-seed S] [-v story|step|detail] [-format text|jsonl|mermaid]", stderr)
	seed := fs.Uint64("seed", 1, "root seed of the run")
	level := fs.String("v", "story", "trace level: story, step or detail")
	format := fs.String("format", "text", "output format: text, jsonl or mermaid (a sequence diagram and the BGW state diagrams of a script demo)")
	// Flags may come before or after the demo name.
	name := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if name == "" {
		fmt.Fprintln(stdout, "demos (run one with 'promotesim demo NAME'):")
		for _, d := range demo.Demos() {
			fmt.Fprintf(stdout, "  %-14s %s\n", d.Name, d.Summary)
		}
		return nil
	}
	lv, err := sim.ParseLevel(*level)
	if err != nil {
		return usageErr("-v: %v", err)
	}
	if *format == "mermaid" {
		p, err := view.DemoProgram(name)
		if err != nil {
			return usageErr("-format mermaid: %v", err)
		}
		return printMermaid(p, stdout)
	}
	fm, err := sim.ParseFormat(*format)
	if err != nil {
		return usageErr("-format: %v", err)
	}
	d, ok := demo.FindDemo(name)
	if !ok {
		return usageErr("unknown demo %q (run 'promotesim demo' for the list)", name)
	}
	seedSet := false
	fs.Visit(func(f *flag.Flag) { seedSet = seedSet || f.Name == "seed" })
	if _, script := demo.DemoStages(name); script && seedSet {
		return usageErr("-seed: the %s demo is a fixed story on the FIFO schedule (choice 0 everywhere): no seed changes it; "+
			"for seeded interleavings run 'promotesim replay -seed S' or 'promotesim view -seed S'", name)
	}
	if fm == sim.FormatText {
		fmt.Fprintln(stdout, traceLegend)
	}
	return d.Run(demo.DemoOptions{Seed: *seed, Out: stdout, Level: lv, Format: fm})
}
