package main

import (
	"errors"
	"fmt"
	"io"

	"promotesim/scenarios/explore"
)

// runRunFile is promotesim run FILE...: run any datadriven script of the
// repo (a story of scenarios/testdata/scripts, a checker script, a hazard
// canary, a finding or a counterexample) as its test does
// (explore.RunFile) and compare every command's output with the file's.
// Exit 0: everything as recorded; 1: output differs, or a counterexample's
// violation did not recur; 2: the file is no script (a bad line, a missing
// ----, a refused command, cut short), named by file and line.
func runRunFile(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "run FILE... (a datadriven script: story, hazard canary, finding or counterexample)", stderr)
	if err := parse(fs, args, 1<<20); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErr("give a script FILE (e.g. scenarios/testdata/scripts/switchover.txt)")
	}
	failed := false
	for _, path := range fs.Args() {
		err := runOneFile(path, stdout)
		switch {
		case errors.Is(err, errFound):
			failed = true
		case err != nil:
			return err
		}
	}
	if failed {
		return errFound
	}
	return nil
}

// runOneFile runs one file and prints its differences and verdict.
func runOneFile(path string, stdout io.Writer) error {
	sf, err := explore.ReadScript(path)
	if err != nil {
		return usageErr("%v", err)
	}
	res, err := explore.RunFile(sf)
	if err != nil {
		return usageErr("%v", err)
	}
	if rr := res.Regression; rr != nil {
		return regressionVerdict(path, *rr, res.Commands, stdout)
	}
	for _, m := range res.Mismatches {
		fmt.Fprintf(stdout, "%s:%d: %s: output differs from the file\n%s\n", path, m.D.Line, m.D.Text, m.Diff)
	}
	bad := len(res.Mismatches) > 0
	if cf := res.Counterexample; cf != nil {
		h := cf.Header
		switch {
		case h.Checker == "none" && res.V != nil:
			fmt.Fprintf(stdout, "# %s: a violation of %s at step %d: the file records none (the model changed?)\n", path, res.V.Checker, res.V.Step)
			bad = true
		case h.Checker != "none" && res.V == nil:
			fmt.Fprintf(stdout, "# %s: %s\n", path, notRecurred(h.Checker))
			bad = true
		case h.Checker != "none" && res.V.Checker != h.Checker:
			fmt.Fprintf(stdout, "# %s: a different checker fired: %s (the file records %s)\n", path, res.V.Checker, h.Checker)
			bad = true
		}
	}
	if bad {
		fmt.Fprintf(stdout, "# %s: FAIL: %d of %d commands differ from the file\n", path, len(res.Mismatches), res.Commands)
		return errFound
	}
	fmt.Fprintf(stdout, "# %s: ok: %d commands, every output as recorded\n", path, res.Commands)
	return nil
}

// notRecurred is the advice for a counterexample whose violation is gone.
func notRecurred(checker string) string {
	return fmt.Sprintf("the recorded violation of %s did NOT recur: the model changed (or the bug was fixed); delete the file or record it again", checker)
}

// regressionVerdict prints a regression script's outcome against its
// "# expect:" line (only the outcome is compared, not the trace).
func regressionVerdict(path string, rr explore.RegressionResult, commands int, stdout io.Writer) error {
	got := "none"
	if rr.V != nil {
		got = rr.V.Checker
	}
	if rr.Holds() {
		fmt.Fprintf(stdout, "# %s: ok: regression, %d commands, outcome %s as expected\n", path, commands, got)
		return nil
	}
	if got != rr.Expect {
		fmt.Fprintf(stdout, "# %s: FAIL: regression expects %s, the replay ended in %s\n", path, rr.Expect, got)
		if rr.V != nil {
			fmt.Fprintf(stdout, "#   %s\n", rr.V.Report())
		}
	}
	for _, m := range rr.MissingMarks {
		fmt.Fprintf(stdout, "# %s: FAIL: the run no longer records mark %s (the path the file guards)\n", path, m)
	}
	return errFound
}
