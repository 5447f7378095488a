package scenarios

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// Throwaway (helper H9): records every swarm seed's outcome fingerprint so a
// performance change can be shown not to change a single run.
func TestH9Hashes(t *testing.T) {
	out := os.Getenv("H9_OUT")
	if out == "" {
		t.Skip("H9_OUT not set")
	}
	var b strings.Builder
	for seed := uint64(1); seed <= 400; seed++ {
		sw, err := DeriveSwarm(seed, Base{})
		if err != nil {
			t.Fatal(err)
		}
		o, err := RunSwarm(sw, RunConfig{})
		if err != nil {
			t.Fatal(err)
		}
		v := ""
		if o.Violation != nil {
			v = o.Violation.Error()
		}
		fmt.Fprintf(&b, "%d %x %d %d %q %s\n", seed, o.Hash, o.Steps, o.Refused, v, strings.Join(o.Marks, ","))
	}
	for seed := uint64(1); seed <= 60; seed++ {
		for _, hz := range []string{"skip-slot-reload", "replay-from-old-consistent"} {
			sw, err := DeriveSwarm(seed, Base{Hazard: hz})
			if err != nil {
				continue
			}
			o, err := RunSwarm(sw, RunConfig{})
			if err != nil {
				t.Fatal(err)
			}
			v := ""
			if o.Violation != nil {
				v = o.Violation.Error()
			}
			fmt.Fprintf(&b, "%s %d %x %d %q\n", hz, seed, o.Hash, o.Steps, v)
		}
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
