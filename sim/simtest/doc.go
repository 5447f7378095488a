// Package simtest is test support for worlds built on package sim: the
// rapid-backed Chooser (so rapid shrinks the schedule itself), Check (rapid
// with a fixed seed per test, so make test cannot flake; make soak sets
// PROMOTESIM_RAPID_RANDOM=1 for fresh seeds), the run-twice determinism
// checks, and golden files for traces.
//
// It may import testing and rapid, and RunTwiceProcs may set GOMAXPROCS, but
// like the core packages it starts no goroutines: a world runs on the test's
// goroutine, one step at a time.
//
//	func TestPromote(t *testing.T) {
//		simtest.Check(t, func(rt *rapid.T) {
//			s := sim.New(sim.Config{Chooser: simtest.NewRapid(rt)})
//			... build the world, s.Run(budget), fail on a violation ...
//		})
//	}
//
// The golden-file flag is -update: `go test ./... -run TestX -update`
// rewrites the files a failing golden comparison names. Test packages that
// import simtest must not define their own -update flag; use Updating.
package simtest
