// Package swarm runs seeded swarm worlds (TigerBeetle's VOPR, swarm
// testing): one seed derives the cluster options and which classes of
// actions and faults are enabled, then a planner draws a program of script
// commands from the seed, executing each as it goes. The program is
// recorded, so a world replays from its cluster line and commands alone
// and any subsequence of them is still a runnable script.
//
// swarm.go derives a world from its seed and runs it (NewWorld, Run,
// RunSwarm, Replay); planner.go draws the program, one named generator per
// action class (genSubmit, genStop, genIOError, ...), each emitting typed
// script commands; reuse.go (genReuse: pages freed and reinitialised with
// RBM_ZERO_AND_LOCK) and tornwal.go (genTornWAL: power loss with WAL
// written but not synced) hold the generators of issue 11. It mirrors no
// PolarDB file: it is the operator and the faults around the model.
package swarm
