package simtest

import (
	cryptorand "crypto/rand"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
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

// FreshEnv is the environment variable that turns off the fresh seed Check
// runs after the fixed set: PROMOTESIM_RAPID_FRESH=0 makes a run exactly
// the fixed seed set (a test of Check's determinism sets it).
const FreshEnv = "PROMOTESIM_RAPID_FRESH"

// Fresh reports whether Check runs one fresh seed after the fixed set.
func Fresh() bool {
	v, err := strconv.ParseBool(os.Getenv(FreshEnv))
	return err != nil || v
}

// checkMu serializes Check: it sets rapid's -rapid.seed (and -rapid.checks)
// flags for the duration of one rapid.Check, so two at once (parallel
// tests) would race.
var checkMu sync.Mutex

// Check is rapid.Check on a fixed seed set per test (Seed(t.Name()),
// rapid's default number of checks) and then on one fresh seed, unless
// Random says rapid picks the seeds itself. Both seeds are logged (seen
// under -v and with any failure), each with the command that reproduces
// it; a failure on either fails the test and repeats its command, so a
// fresh-seed failure is one copy-paste from a rerun (and from a regression
// script: scenarios/testdata/regressions/README.md). The fixed set makes
// a commit pass or fail the same way every run; the fresh seed widens the
// search a little on every run. Fail files in the package's testdata/rapid/
// are replayed first, as rapid.Check does. Every rapid property of the
// module goes through Check or CheckN (TestRapidChecksAreSeeded enforces
// it). Check does not nest: a property must not call it.
func Check(t rapid.TB, prop func(*rapid.T)) {
	t.Helper()
	CheckN(t, 0, prop)
}

// CheckN is Check with a budget of checks per seed (0: rapid's default,
// -rapid.checks). A -rapid.checks given on the command line wins, so make
// soak's long runs are not cut to the test's budget.
func CheckN(t rapid.TB, checks int, prop func(*rapid.T)) {
	t.Helper()
	if Random() {
		checkRandom(t, prop)
		return
	}
	checkMu.Lock()
	defer checkMu.Unlock()
	if checks > 0 && !flagSet("rapid.checks") {
		restore, err := setFlag("rapid.checks", strconv.Itoa(checks))
		if err != nil {
			t.Fatalf("simtest: %v", err)
			return
		}
		defer restore()
	}
	n := flag.Lookup("rapid.checks").Value.String()
	fixed := Seed(t.Name())
	t.Logf("simtest: fixed seed set -rapid.seed=%d (%s checks); reproduce: %s", fixed, n, ReproduceCommand(t.Name(), fixed, n))
	if !checkSeed(t, fixed, n, "fixed", prop) || !Fresh() {
		return
	}
	fresh := freshSeed()
	t.Logf("simtest: fresh seed -rapid.seed=%d (%s checks); reproduce: %s", fresh, n, ReproduceCommand(t.Name(), fresh, n))
	checkSeed(t, fresh, n, "fresh", prop)
}

// checkRandom is a soak run (RandomEnv): rapid's own seed and checks when
// the command line names a seed or fail file, else a fresh seed Check picks
// and logs with its reproduce command, so even a long passing soak says
// which seeds it ran.
func checkRandom(t rapid.TB, prop func(*rapid.T)) {
	t.Helper()
	if flagSet("rapid.seed") || flagSet("rapid.failfile") || os.Getenv("RAPID_SEED") != "" {
		rapid.Check(t, prop)
		return
	}
	checkMu.Lock()
	defer checkMu.Unlock()
	n := flag.Lookup("rapid.checks").Value.String()
	seed := freshSeed()
	t.Logf("simtest: random seed -rapid.seed=%d (%s checks); reproduce: %s", seed, n, ReproduceCommand(t.Name(), seed, n))
	checkSeed(t, seed, n, "random", prop)
}

// checkSeed runs rapid.Check from seed and reports whether it passed. A
// failure (rapid stops the test with FailNow, so this runs deferred) is
// followed by the exact command that reproduces it.
func checkSeed(t rapid.TB, seed uint64, checks, kind string, prop func(*rapid.T)) (ok bool) {
	t.Helper()
	restore, err := setFlag("rapid.seed", strconv.FormatUint(seed, 10))
	if err != nil {
		t.Fatalf("simtest: %v", err)
		return false
	}
	defer restore()
	defer func() {
		if t.Failed() {
			t.Logf("simtest: the %s seed failed; reproduce: %s", kind, ReproduceCommand(t.Name(), seed, checks))
		}
	}()
	rapid.Check(t, prop)
	return !t.Failed()
}

// setFlag sets a registered flag and returns what puts it back.
func setFlag(name, value string) (func(), error) {
	f := flag.Lookup(name)
	if f == nil {
		return nil, fmt.Errorf("rapid's -%s flag is not registered", name)
	}
	old := f.Value.String()
	if err := f.Value.Set(value); err != nil {
		return nil, fmt.Errorf("set -%s: %v", name, err)
	}
	return func() { _ = f.Value.Set(old) }, nil
}

// flagSet reports whether the command line set flag name.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// freshSeed is a random nonzero seed (rapid reads 0 as "pick one").
func freshSeed() uint64 {
	var b [8]byte
	for {
		if _, err := cryptorand.Read(b[:]); err != nil {
			panic(fmt.Sprintf("simtest: no randomness for a fresh seed: %v", err))
		}
		if s := binary.LittleEndian.Uint64(b[:]); s != 0 {
			return s
		}
	}
}

// ReproduceCommand is the go test command that reruns test name (a
// subtest's "/" parts each anchored) on seed with checks checks per seed,
// from the module root: the package is the working directory of the test
// binary. (rapid's own failure message also names the failing check's
// seed, which reproduces it in one check.)
func ReproduceCommand(name string, seed uint64, checks string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return fmt.Sprintf("go test ./%s -count=1 -run '%s' -args -rapid.seed=%d -rapid.checks=%s", packageDir(), strings.Join(parts, "/"), seed, checks)
}

// packageDir is the test's package directory relative to the module root
// (the nearest parent holding go.mod) with a trailing slash; "" for the
// root or when it cannot be found.
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil || rel == "." {
				return ""
			}
			return filepath.ToSlash(rel) + "/"
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
	}
}
