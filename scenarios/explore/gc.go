package explore

import (
	"os"
	"runtime/debug"
)

// GCPercent is the GOGC the long-running commands (explore, orderings,
// figures) run under: every world allocates its device and pools afresh
// and drops them at its end, so the live heap stays small while the
// garbage rate is high, and Go's default GOGC=100 collects often. At 400
// the live heap is a few times larger (explore -v's peak RSS: about 35
// MiB on 2 workers) and scenarios' BenchmarkWorldStep, which runs under
// it too so that it times the step the explorer takes, took 685 ns and
// 606 ns a step where its checks=on,gogc=100 took 763 ns and 631 ns (two
// sets of 20, README).
const GCPercent = 400

// SearchGCPercent is GCPercent for check -exhaustive: each run of its
// search copies a ~90 KB world and drops it, over a live heap of a few MB
// (the template and the stored states), so even GOGC=400 collected every
// few dozen runs; GOGC=2000 took 18.7 s of CPU where 400 took 21.6 s (the
// bound-0 search, one run each).
const SearchGCPercent = 2000

// TuneGC sets the collector's percent to p unless the environment sets
// GOGC (the user's choice wins), and returns what undoes it.
func TuneGC(p int) (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(p)
	return func() { debug.SetGCPercent(old) }
}
