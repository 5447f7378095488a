package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"promotesim/scenarios/explore"
	"promotesim/scenarios/findings"
	"promotesim/scenarios/swarm"
	"promotesim/shmem"
	"promotesim/sim"
)

// The classify command is docs/findings.md's "How often": it runs a seed
// range as explore does (one world at a time), replays every failing world
// with its step-level trace and sorts the first violation into the
// findings by signature (scenarios/findings). A violation no signature
// matches is printed in full, a finding candidate, and makes the exit
// status 1; failures that are all known findings exit 0.

// classified is one failing world and its class.
type classified struct {
	seed    uint64
	checker string
	class   findings.Class
}

func runClassify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("classify", "classify [-seed S] [-seeds N] [-profile v15|v15-fixed|v11|v11-fixed] [-fence none|epoch|detect] [-sched STRATEGY] [-v]", stderr)
	first := fs.Uint64("seed", 1, "first seed of the range")
	n := fs.Uint64("seeds", 3000, "run this many seeds, at least 1")
	verbose := fs.Bool("v", false, "print every failing seed's class and evidence")
	bf := addBaseFlags(fs, "hazard under test (promotesim hazards lists them)")
	addSchedFlag(fs, &bf)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *n == 0 {
		return usageErr("-seeds must be at least 1")
	}
	base, _, err := bf.base(false)
	if err != nil {
		return err
	}
	var fails []classified
	for seed := *first; seed < *first+*n; seed++ {
		c, failed, err := classifySeed(seed, base)
		if err != nil {
			return err
		}
		if failed {
			fails = append(fails, c)
		}
	}
	printClassified(stdout, base, *first, *n, fails, *verbose)
	for _, f := range fails {
		if f.class.Finding == findings.Other {
			// An unexplained failure is real until explained: exit 1.
			return errViolationReported
		}
	}
	return nil
}

// classifySeed runs one world and, when it fails, classifies its violation
// (classifyOutcome).
func classifySeed(seed uint64, base swarm.Base) (classified, bool, error) {
	sw, err := swarm.DeriveSwarm(seed, base)
	if err != nil {
		return classified{}, false, usageErr("%v", err)
	}
	o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
	if err != nil {
		return classified{}, false, fmt.Errorf("seed %d: %v", seed, err)
	}
	if o.Violation == nil {
		return classified{}, false, nil
	}
	c, err := classifyOutcome(o, base)
	if err != nil {
		return classified{}, false, err
	}
	return classified{seed: seed, checker: o.Violation.Checker, class: c}, true, nil
}

// classifyOutcome replays a failing world with a JSON-lines trace
// (explore.TraceWorld, as replay -format jsonl) and sorts the violation the
// replay meets, which must be the world's, into the findings.
func classifyOutcome(o swarm.Outcome, base swarm.Base) (findings.Class, error) {
	v, seed := o.Violation, o.Swarm.Seed
	var buf bytes.Buffer
	rv := explore.TraceWorld(o, &buf, sim.LevelStep, sim.FormatJSONL)
	if rv == nil || rv.Checker != v.Checker || rv.Step != v.Step {
		return findings.Class{}, fmt.Errorf("seed %d: the traced replay met %v, the world %v", seed, rv, v)
	}
	evs, err := findings.ReadJSONL(&buf)
	if err != nil {
		return findings.Class{}, fmt.Errorf("seed %d: %v", seed, err)
	}
	c := findings.Classify(v, evs)
	if base.Profile == shmem.ProfileV11 && !base.Fixed && c.Finding == "F5" {
		// V11-2 is F5's story in V11's order (its reset never evicts):
		// the trace does not tell the two apart, the profile does. Under
		// v11-fixed, whose reset evicts below the redo as V15's does, it
		// stays F5.
		c.Finding, c.Title = "V11-2", findings.Titles()["V11-2"]
	}
	return c, nil
}

// findingLine is explore's line on its lowest failing world: the finding of
// docs/findings.md its violation is (by classify's signatures), or that it
// is none of them. A run with a hazard planted says nothing: its failures
// are the hazard's.
func findingLine(f *explore.Failure, base swarm.Base) string {
	if f == nil || f.Diff != nil || f.Outcome.Violation == nil || base.Hazard != "" {
		return ""
	}
	c, err := classifyOutcome(f.Outcome, base)
	switch {
	case err != nil:
		return "finding: not classified: " + err.Error()
	case c.Finding == findings.Other:
		return "finding: none of docs/findings.md's (promotesim classify's signatures): a finding candidate, real until explained"
	}
	return fmt.Sprintf("finding: %s, known (docs/findings.md): %s; evidence: %s", c, c.Title, c.Why)
}

// printClassified prints the counts by finding (and variant), by checker,
// and every Other in full.
func printClassified(w io.Writer, base swarm.Base, first, n uint64, fails []classified, verbose bool) {
	fmt.Fprintf(w, "classify: %s, seeds %d-%d: %d worlds, %d fail\n", baseText(base), first, first+n-1, n, len(fails))
	byFinding := map[string]int{}            // looked up, then printed sorted
	byVariant := map[string]map[string]int{} // looked up, then printed sorted
	byChecker := map[string]int{}            // looked up, then printed sorted
	for _, f := range fails {
		byFinding[f.class.Finding]++
		byChecker[f.checker]++
		if f.class.Variant != "" {
			if byVariant[f.class.Finding] == nil {
				byVariant[f.class.Finding] = map[string]int{}
			}
			byVariant[f.class.Finding][f.class.Variant]++
		}
	}
	if len(fails) > 0 {
		fmt.Fprintf(w, "  by checker: %s\n", countList(byChecker))
	}
	for _, name := range sortedKeys(byFinding) {
		line := fmt.Sprintf("  %s %d", name, byFinding[name])
		if vs := byVariant[name]; len(vs) > 0 {
			line += " (" + countList(vs) + ")"
		}
		fmt.Fprintln(w, line)
	}
	for _, f := range fails {
		if verbose || f.class.Finding == findings.Other {
			fmt.Fprintf(w, "  seed %d %s: %s: %s\n", f.seed, f.checker, f.class, f.class.Why)
		}
	}
}

// countList renders "a 3, b 1", in name order.
func countList(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
