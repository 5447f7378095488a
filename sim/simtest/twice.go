package simtest

import (
	"runtime"
	"testing"

	"promotesim/sim"
)

// World runs one world to its end: it builds the world from seed, drives
// every choice through c and returns the trace hash (sim.Trace.Hash). It must
// not keep state between calls: RunTwice calls it with the same arguments and
// expects the same answer.
type World func(seed uint64, c sim.Chooser) uint64

// RunTwice runs w for seed twice, each time with a fresh sim.NewRandom(seed)
// chooser, and fails t unless both runs made the same choices and ended with
// the same trace hash. It returns the hash.
func RunTwice(t testing.TB, seed uint64, w World) uint64 {
	t.Helper()
	a := runOnce(seed, w)
	b := runOnce(seed, w)
	compare(t, seed, "first run", a, "second run", b)
	return a.hash
}

// RunTwiceProcs is RunTwice with the first run under GOMAXPROCS(1) and the
// second under GOMAXPROCS(2), restoring the setting afterwards: a world whose
// outcome depends on the Go scheduler (a stray goroutine, a map order that
// the runtime randomizes differently) shows up here. Do not combine with
// t.Parallel: GOMAXPROCS is process-wide.
func RunTwiceProcs(t testing.TB, seed uint64, w World) uint64 {
	t.Helper()
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	a := runOnce(seed, w)
	runtime.GOMAXPROCS(2)
	b := runOnce(seed, w)
	compare(t, seed, "GOMAXPROCS=1", a, "GOMAXPROCS=2", b)
	return a.hash
}

type outcome struct {
	hash    uint64
	choices []int
}

func runOnce(seed uint64, w World) outcome {
	rec := &sim.Recorder{Inner: sim.NewRandom(seed)}
	h := w(seed, rec)
	return outcome{hash: h, choices: rec.Choices}
}

func compare(t testing.TB, seed uint64, an string, a outcome, bn string, b outcome) {
	t.Helper()
	if a.hash == b.hash && equalInts(a.choices, b.choices) {
		return
	}
	// The first differing choice localizes the divergence: everything
	// before it was the same schedule.
	i := 0
	for i < len(a.choices) && i < len(b.choices) && a.choices[i] == b.choices[i] {
		i++
	}
	t.Fatalf("seed %d is not deterministic: %s hash %016x after %d choices, %s hash %016x after %d choices; first difference at choice %d",
		seed, an, a.hash, len(a.choices), bn, b.hash, len(b.choices), i)
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
