package scenarios

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTapScriptsMapped pins the mapping table of
// testdata/scripts/README.md to the files: every tap_NNN_*.txt script is
// the script of the table's row for PolarDB test NNN_*, every row whose
// script cell names a tap_ file names one that exists, and the rows that
// have none say which script comes nearest. PolarDB's promote tests are
// src/test/polar_consistency/t/*.pl on POLARDB_15_STABLE.
func TestTapScriptsMapped(t *testing.T) {
	table, err := os.ReadFile(filepath.Join("testdata", "scripts", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // PolarDB test -> script cell
	row := regexp.MustCompile(`^\| (\d{3}_[a-z0-9_]+) \|[^|]*\| (.*) \|$`)
	for _, line := range strings.Split(string(table), "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			rows[m[1]] = m[2]
		}
	}
	if len(rows) < 10 {
		t.Fatalf("mapping table has %d rows, want one per PolarDB promote test", len(rows))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "scripts", "tap_*.txt"))
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "tap_"), ".txt")
		cell, ok := rows[name]
		if !ok {
			t.Errorf("%s: no row for PolarDB test %s in the mapping table", f, name)
			continue
		}
		if !strings.HasPrefix(cell, "`"+filepath.Base(f)+"`") {
			t.Errorf("row %s names %q, want it to open with its script `%s`", name, cell, filepath.Base(f))
		}
	}
	for name, cell := range rows {
		for _, m := range regexp.MustCompile("`(tap_[a-z0-9_]+\\.txt)`").FindAllStringSubmatch(cell, -1) {
			if _, err := os.Stat(filepath.Join("testdata", "scripts", m[1])); err != nil {
				t.Errorf("row %s names %s, which does not exist", name, m[1])
			}
		}
		if !strings.Contains(cell, "`tap_"+name+".txt`") && !strings.Contains(cell, "nearest") {
			t.Errorf("row %s has no tap_ script and does not say which script comes nearest: %q", name, cell)
		}
	}
}
