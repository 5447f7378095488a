package scenarios

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"promotesim/scenarios/script"
	"promotesim/sim"
)

// TestScripts runs the scenario scripts in testdata/scripts. Each script
// opens with comments telling its story; every command prints the
// story-level trace it caused and its result, so the expected output is a
// narrated walkthrough a newcomer can read. Regenerate with -rewrite, then
// read the diff.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "scripts", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			r := script.NewRunner(1, sim.LevelStory, sim.FormatText)
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				parts := []string{d.Cmd}
				for _, a := range d.CmdArgs {
					if len(a.Vals) == 0 {
						parts = append(parts, a.Key)
					} else {
						parts = append(parts, a.Key+"="+strings.Join(a.Vals, ","))
					}
				}
				out, err := r.Exec(strings.Join(parts, " "))
				if err != nil {
					if out != "" {
						out += "\n"
					}
					out += "error: " + err.Error()
				}
				if out == "" {
					return ""
				}
				return out + "\n"
			})
		})
	}
}
