// Package explore runs many swarm worlds on every core, shrinks what fails
// and writes replayable counterexample files; it also holds the exhaustive
// check of a small promote world. It is the only scenarios package with
// goroutines, files and wall-clock time, so the determinism lint exempts it
// (each world it runs is deterministic on its own).
//
// Files: explore.go (the worker pool, seed ranges, the hazard hunt),
// shrink.go (actions and scheduler choices), shrink_more.go (other
// schedules for a candidate, simpler commands, the cluster line toward the
// defaults), marks.go (the coverage marks a run cannot reach, and why),
// counterexample.go (the file
// format and its replay), exhaustive.go (a stateful search of every schedule of
// the promote window, sim.Search), fingerprint.go (the state the search
// prunes revisits by; fingerprint_fast.go its walk compiled per type,
// fingerprint_raw.go the runs of plain integer fields hashed as bytes,
// ptrset.go the addresses a fingerprint reached),
// stamps.go (the model's step stamps, hashed by their order), clone.go
// (the deep copy every search run starts from; reloc.go the copies after
// the first, from its record). It mirrors no PolarDB
// file.
package explore
