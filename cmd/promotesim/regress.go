package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"promotesim/scenarios/explore"
	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
	"promotesim/sim"
)

// runRegress writes a permanent regression script
// (scenarios/testdata/regressions/README.md): the cluster line, commands
// and scheduler choices of a seeded world (-seed), or of a failing rapid
// property's program as its test log printed it (-from-log), with what it
// guards and the outcome it has now as "# expect:".
func runRegress(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("regress", "regress (-seed S [-profile P] [-fence F] [-hazard H] [-sched STRATEGY] [-with CLASSES] [-without CLASSES] | -from-log FILE) -guards TEXT -o FILE", stderr)
	seed := fs.Uint64("seed", 0, "the world's seed, derived as explore and replay -seed do")
	fromLog := fs.String("from-log", "", "a go test log of a failing rapid property (its 'program:' and 'schedule:' lines), - for stdin")
	bf := addBaseFlags(fs, "hazard under test (promotesim hazards lists them)")
	addSchedFlag(fs, &bf) // a seed found under -sched pct derives another world
	with := fs.String("with", "", "action classes every derived world has (comma-separated, as swarm.ParseClasses reads them)")
	without := fs.String("without", "", "action classes no derived world has")
	guards := fs.String("guards", "", "what the script guards and where it was found (required; becomes its comment)")
	out := fs.String("o", "", "the regression file to write (required), e.g. scenarios/testdata/regressions/NAME.txt")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	set := map[string]bool{} // looked up only
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if strings.TrimSpace(*guards) == "" || *out == "" {
		return usageErr("give -guards TEXT and -o FILE")
	}
	if set["seed"] == (*fromLog != "") {
		return usageErr("give exactly one of -seed S and -from-log FILE")
	}
	var o swarm.Outcome
	var ch sim.Chooser
	var err error
	if *fromLog != "" {
		o, ch, err = outcomeFromLog(*fromLog)
	} else {
		o, err = seededOutcome(*seed, bf, *with, *without)
	}
	if err != nil {
		return err
	}
	if err := explore.SaveRegression(*out, o, ch, *guards); err != nil {
		return err
	}
	expect := "none"
	if o.Violation != nil {
		expect = o.Violation.Checker
	}
	fmt.Fprintf(stdout, "wrote %s (%d commands, expect: %s)\n", *out, len(o.Actions)+1, expect)
	return nil
}

// seededOutcome runs the world seed derives under the flags' base.
func seededOutcome(seed uint64, bf baseFlags, with, without string) (swarm.Outcome, error) {
	base, _, err := bf.base(false)
	if err != nil {
		return swarm.Outcome{}, err
	}
	for _, c := range []struct {
		flag, val string
		dst       *swarm.Class
	}{{"with", with, &base.With}, {"without", without, &base.Without}} {
		if c.val == "" {
			continue
		}
		if *c.dst, err = swarm.ParseClasses(c.val); err != nil {
			return swarm.Outcome{}, usageErr("-%s: %v", c.flag, err)
		}
	}
	sw, err := swarm.DeriveSwarm(seed, base)
	if err != nil {
		return swarm.Outcome{}, usageErr("%v", err)
	}
	return swarm.RunSwarm(sw, swarm.RunConfig{})
}

// outcomeFromLog reads the last failing program a property test printed
// (TestClusterProperties: "program:", the cluster line, one command a
// line, then "schedule: [c1 c2 ...]") and replays it under that schedule;
// it returns a fresh chooser of the same schedule for the recording.
func outcomeFromLog(path string) (swarm.Outcome, sim.Chooser, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return swarm.Outcome{}, nil, usageErr("-from-log: %v", err)
		}
		defer f.Close()
		r = f
	}
	lines, sched, err := lastProgram(r)
	if err != nil {
		return swarm.Outcome{}, nil, usageErr("-from-log %s: %v", path, err)
	}
	cmds := make([]script.Command, 0, len(lines))
	for i, l := range lines {
		cmd, err := script.Parse(l)
		if err != nil {
			return swarm.Outcome{}, nil, usageErr("-from-log %s: program line %d %q: %v", path, i+1, l, err)
		}
		cmds = append(cmds, cmd)
	}
	cl, ok := cmds[0].(script.Cluster)
	if !ok {
		return swarm.Outcome{}, nil, usageErr("-from-log %s: the program's first line is not a cluster line", path)
	}
	seed := uint64(1) // the property's world seed when the line names none
	if cl.HasSeed {
		seed = cl.Seed
	}
	o, err := swarm.Replay(cl, cmds[1:], seed, swarm.RunConfig{Chooser: sim.NewScripted(sched...)})
	o.Swarm.Seed = seed
	return o, sim.NewScripted(sched...), err
}

// lastProgram finds the last "program:" block of a test log and its
// schedule.
func lastProgram(r io.Reader) ([]string, []int, error) {
	sc := bufio.NewScanner(io.LimitReader(r, 64<<20))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lines, cur []string
	var sched []int
	in, found := false, false
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "program:":
			in, cur = true, nil
		case in && strings.HasPrefix(l, "schedule:"):
			s, err := explore.ParseSchedule(strings.Trim(strings.TrimSpace(strings.TrimPrefix(l, "schedule:")), "[]"))
			if err != nil {
				return nil, nil, err
			}
			lines, sched, in, found = cur, s, false, true
		case in && l != "":
			cur = append(cur, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	if !found || len(lines) == 0 {
		return nil, nil, fmt.Errorf("no 'program:' block ending in a 'schedule:' line")
	}
	return lines, sched, nil
}
