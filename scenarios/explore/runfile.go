package explore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"promotesim/scenarios/script"
	"promotesim/sim"
)

// ErrBadScript marks a script file that is wrong as a file (exit status 2
// in promotesim run): a command the cluster refused where the file records
// success, a counterexample cut short before its violation.
var ErrBadScript = errors.New("bad script")

// Mismatch is one command whose output differs from what its file records.
type Mismatch struct {
	D    script.Directive
	Got  string
	Diff string // unified, expected (-) against actual (+)
}

// FileResult is what running a script file found.
type FileResult struct {
	// Counterexample is the file's header when it is one (explore's,
	// docs/findings.md's), nil for a story, checker or hazard script.
	Counterexample *CounterexampleFile
	Mismatches     []Mismatch
	// V is the first violation met (a counterexample's must be its
	// checker's; a story's is recorded in its expected output).
	V *sim.Violation
	// Commands is how many commands ran.
	Commands int
	// Regression is the verdict of a regression script
	// (testdata/regressions), judged by its outcome alone (RunRegression);
	// nil for every other kind of file.
	Regression *RegressionResult
}

// RunFile runs every command of a datadriven script file the way the
// tests do (TestScripts, TestHazardScripts, TestCheckerScripts: a
// script.Runner of seed 1; TestCounterexamples, TestFindings: a Replayer
// of the header's seed and schedule) and compares each command's output
// with the file's. The error is ErrBadScript-wrapped, naming file and
// line, when the file itself is wrong; differences are Mismatches.
func RunFile(sf *script.File) (FileResult, error) {
	var res FileResult
	var exec func(script.Command) string
	if IsRegression(sf) {
		rr, err := RunRegression(sf)
		if err != nil {
			return res, fmt.Errorf("%w: %v", ErrBadScript, err)
		}
		res.Regression, res.V, res.Commands = &rr, rr.V, len(sf.Directives)
		return res, nil
	}
	if IsCounterexample(sf) {
		cf, err := counterexampleOf(sf)
		if err != nil {
			return res, fmt.Errorf("%w: %v", ErrBadScript, err)
		}
		res.Counterexample = cf
		h := cf.Header
		x := NewReplayer(h.Seed, h.Schedule, h.Scripted, sim.LevelStory, sim.FormatText)
		exec = func(c script.Command) string { out := x.Exec(c); res.V = x.V; return out }
	} else {
		r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
		exec = func(c script.Command) string {
			out, err := r.Run(c)
			var v *sim.Violation
			if errors.As(err, &v) && res.V == nil {
				res.V = v
			}
			if err != nil {
				out = joinOut(out, "error: "+err.Error())
			}
			return out
		}
	}
	for _, d := range sf.Directives {
		got := exec(d.Cmd)
		res.Commands++
		if got != "" {
			got += "\n"
		}
		if got == d.Expected {
			continue
		}
		if i := strings.LastIndex(got, "error: "); i >= 0 && !strings.HasPrefix(got[i:], "error: violation of ") && !strings.Contains(d.Expected, "error: ") {
			return res, fmt.Errorf("%w: %s:%d: %s: refused: %s", ErrBadScript, sf.Path, d.Line, d.Text, strings.TrimSpace(got[i+len("error: "):]))
		}
		res.Mismatches = append(res.Mismatches, Mismatch{D: d, Got: got, Diff: unifiedDiff(d.Expected, got)})
	}
	return res, checkCounterexampleEnd(res)
}

// checkCounterexampleEnd refuses a counterexample file whose recorded
// output never shows its violation: one cut short after its cluster line
// or any later command (the recorded run ends in the violation).
func checkCounterexampleEnd(res FileResult) error {
	cf := res.Counterexample
	if cf == nil || cf.Header.Checker == "none" {
		return nil
	}
	ds := cf.File.Directives
	last := ds[len(ds)-1]
	if !strings.Contains(last.Expected, "violation of "+cf.Header.Checker) {
		return fmt.Errorf("%w: %s:%d: the file ends at %q without the violation of %s its header records (cut short?)",
			ErrBadScript, cf.Path, last.Line, last.Text, cf.Header.Checker)
	}
	return nil
}

// unifiedDiff is a unified diff of a command's recorded output against
// what it printed now.
func unifiedDiff(want, got string) string {
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(want), B: difflib.SplitLines(got),
		FromFile: "expected", ToFile: "actual", Context: 3,
	})
	if err != nil {
		return fmt.Sprintf("expected:\n%s\nactual:\n%s", want, got)
	}
	return d
}

// ReadScript reads and parses a script file (script.ParseFile), refusing what is not a regular
// file or is larger than script.MaxFileBytes before reading it all.
func ReadScript(path string) (*script.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (a script is a text file)", path)
	}
	if fi.Size() > script.MaxFileBytes {
		return nil, fmt.Errorf("%s: %d bytes: larger than a script may be (%d bytes)", path, fi.Size(), script.MaxFileBytes)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	// The file may grow between Stat and read: read one byte past the cap.
	data, err := io.ReadAll(io.LimitReader(fh, script.MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > script.MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than a script may be (%d bytes)", path, script.MaxFileBytes)
	}
	return script.ParseFile(path, data)
}
