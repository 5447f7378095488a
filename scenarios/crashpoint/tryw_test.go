package crashpoint

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestTryWorlds(t *testing.T) {
	for _, hz := range strings.Split(os.Getenv("CPHZ"), ",") {
		for seed := uint64(1); seed <= 12; seed++ {
			p, err := World(seed, "v15-fixed", hz)
			if err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			rep, err := Sweep("w", p, Options{Kinds: Kinds})
			if err != nil {
				t.Fatal(err)
			}
			msg := ""
			if len(rep.Failures) > 0 {
				f := rep.Failures[0]
				msg = f.Checker + " " + f.Action
			}
			t.Logf("%s seed %d %v win %d tried %v clean %v moved %v lost %d viol %d root %.60q first %s", hz, seed, time.Since(t0), len(rep.Windows), rep.Tried, rep.Clean, rep.Moved, rep.Lost, rep.Violations, rep.RootViolation, msg)
		}
	}
}
