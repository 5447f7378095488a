package demo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/script"
	"promotesim/sim"
)

// runDemoStages runs a demo's stages under a seeded random schedule and
// returns the first failing command's output.
func runDemoStages(seed uint64, stages []stage) error {
	r := script.NewRunner(seed, sim.LevelStory, sim.FormatText)
	for i, st := range stages {
		for _, cmd := range st.cmds {
			if strings.HasPrefix(cmd, "cluster ") {
				cmd += " sched=random"
			}
			out, err := r.Exec(cmd)
			if err != nil {
				return fmt.Errorf("seed %d stage %d %q: %v\n%s", seed, i+1, cmd, err, out)
			}
			for _, bad := range []string{"error:", "NOT reached", "no answer", "still running", "PANIC", "FATAL"} {
				if strings.Contains(out, bad) {
					return fmt.Errorf("seed %d stage %d %q: %s\n%s", seed, i+1, cmd, bad, out)
				}
			}
		}
	}
	return nil
}

// The switchover walkthrough must hold under any interleaving, not only the
// FIFO one the scripts pin: every seed's schedule must promote, rebuild,
// switch back and keep every acknowledged commit.
func TestSwitchoverRandomSchedules(t *testing.T) {
	seeds := uint64(40)
	if testing.Short() {
		seeds = 10
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		if err := runDemoStages(seed, switchoverStages); err != nil {
			t.Fatal(err)
		}
	}
}

// Every scenario script must tell the same story under seeded random
// schedules: the FIFO schedule the scripts pin is one interleaving of many.
func TestScriptsRandomSchedules(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "scripts", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	seeds := uint64(30)
	if testing.Short() {
		seeds = 5
	}
	for _, path := range files {
		cmds := fixture.ScriptCommands(t, path)
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			if raw, err := os.ReadFile(path); err == nil && strings.Contains(string(raw), "\nerror: violation of ") {
				// A finding's script (docs/findings.md) pins one
				// interleaving of a race in PolarDB's code; other
				// schedules may or may not lose it. TestScriptsEndClean
				// requires its violation under the pinned schedule.
				t.Skip("a finding's script: its violation is PolarDB's, pinned under FIFO")
			}
			for seed := uint64(1); seed <= seeds; seed++ {
				if err := runDemoStages(seed, []stage{{title: path, cmds: cmds}}); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
