package simtest

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
)

var update = flag.Bool("update", false, "rewrite golden files with the output the test got")

// Updating reports whether the test run was asked to rewrite golden files.
func Updating() bool { return *update }

// Golden compares got with the file at path (conventionally under testdata/)
// and fails t with a unified diff when they differ. With -update it writes got
// to the file instead (creating directories as needed), so a reviewed change
// to a trace is one command and one diff in version control.
func Golden(t testing.TB, path, got string) {
	t.Helper()
	if *update {
		err := os.MkdirAll(filepath.Dir(path), 0o755)
		if err == nil {
			err = os.WriteFile(path, []byte(got), 0o644)
		}
		if err != nil {
			t.Fatalf("golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v (run the test with -update to create it)", err)
		return
	}
	if string(want) == got {
		return
	}
	diff, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A:        difflib.SplitLines(string(want)),
		B:        difflib.SplitLines(got),
		FromFile: path,
		ToFile:   "got",
		Context:  3,
	})
	if err != nil {
		t.Fatalf("golden %s differs (diff failed: %v)", path, err)
		return
	}
	t.Fatalf("output differs from %s; if the change is intended, rerun with -update and review the diff:\n%s", path, diff)
}
