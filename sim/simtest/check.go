package simtest

import (
	"flag"
	"hash/fnv"
	"os"
	"strconv"
	"sync"

	"pgregory.net/rapid"
)

// RandomEnv is the environment variable that turns the fixed seeds of Check
// off: PROMOTESIM_RAPID_RANDOM=1 gives every rapid check a fresh random
// seed (make soak sets it). make test leaves it unset, so the same commit
// always passes or always fails.
const RandomEnv = "PROMOTESIM_RAPID_RANDOM"

// seedBase is mixed into every test's seed. Changing it moves every rapid
// test of make test to a new, equally fixed seed set: do it on purpose,
// never to make a failure go away.
const seedBase uint64 = 0x70726f6d6f746531 // "promote1"

// Seed is the fixed rapid seed of the test named name: FNV-1a of the name
// mixed with seedBase. rapid runs its checks from it (seed, then seed+1,
// seed+3, ..., one per check), so -rapid.checks=N names the seed set.
func Seed(name string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	if s := h.Sum64() ^ seedBase; s != 0 {
		return s
	}
	return seedBase // rapid reads seed 0 as "pick a random one"
}

// Random reports whether rapid picks its own seeds: RandomEnv is set to a
// true value, or the run names a seed or fail file itself (-rapid.seed,
// -rapid.failfile, RAPID_SEED), which Check then leaves alone.
func Random() bool {
	if v, err := strconv.ParseBool(os.Getenv(RandomEnv)); err == nil && v {
		return true
	}
	if os.Getenv("RAPID_SEED") != "" {
		return true
	}
	set := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "rapid.seed" || f.Name == "rapid.failfile" {
			set = true
		}
	})
	return set
}

// checkMu serializes Check: it sets rapid's -rapid.seed flag for the
// duration of one rapid.Check, so two at once (parallel tests) would race.
var checkMu sync.Mutex

// Check is rapid.Check with a fixed seed per test (Seed(t.Name())), unless
// Random says otherwise. A failure prints rapid's usual message, whose
// -rapid.seed reproduces it; fail files in the package's testdata/rapid/
// are replayed first, as rapid.Check does. Every rapid property of the
// module goes through Check (TestRapidChecksAreSeeded enforces it). Check
// does not nest: a property must not call it.
func Check(t rapid.TB, prop func(*rapid.T)) {
	t.Helper()
	if Random() {
		rapid.Check(t, prop)
		return
	}
	checkMu.Lock()
	defer checkMu.Unlock()
	f := flag.Lookup("rapid.seed")
	if f == nil {
		t.Fatalf("simtest: rapid's -rapid.seed flag is not registered")
		return
	}
	old := f.Value.String()
	if err := f.Value.Set(strconv.FormatUint(Seed(t.Name()), 10)); err != nil {
		t.Fatalf("simtest: set -rapid.seed: %v", err)
		return
	}
	defer func() { _ = f.Value.Set(old) }()
	rapid.Check(t, prop)
}
