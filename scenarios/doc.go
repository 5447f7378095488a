// Package scenarios builds whole worlds (a cluster of nodes on one shared
// device), the named scenarios and teaching demos, and (with the protocol) the
// oracle, the checkers, the hazard catalogue, the property and swarm tests and
// the explorer. Nothing imports it but cmd/promotesim and tests.
//
// A cluster may also have standbys (Options.Standbys, hosts Nodes+1..): nodes
// with their own private device in local-disk mode, initialised when a
// standby first starts as a base backup the primary takes of shared storage
// (every file but pg_replslot/ and pg_logindex/, after creating the slot
// standby<k> on shared storage). Hosts lists only the shared-storage nodes,
// StandbyHosts the standbys; Node, Status, StatReplication and the client
// commands cover both. A standby is never promoted, rebuilt or started in
// another role.
//
// The parts, by file:
//
//	cluster.go, options.go    the world of SPEC §1 and its validated options
//	script.go, commands.go    the command language of scripts, demos and
//	                          explorer worlds (commands.go: the non-waiting
//	                          world commands and the liveness phase)
//	oracle.go                 what must be true, from the WAL on storage alone
//	checkers.go, recovery.go  the SPEC §10 claims, run after every step, and
//	                          the whole-state checks (offline crash recovery)
//	hazards.go                the catalogue of wrong orderings
//	world.go                  swarm worlds: a seed derives options, enabled
//	                          action classes and a program of commands
//	explore.go, shrink.go,    the explorer: many worlds on every core, shrunk
//	counterexample.go,        replayable counterexamples, the exhaustive check
//	exhaustive.go
//
// Invariants owned here, by checker name: SingleWriter, ReplicaWritesNothing,
// NoWALBelowOldEnd, CommitDurable, FlushListOrdered, ConsistentLSNMonotone,
// ConsistentLSNDurable, CheckpointRedo, BGWLegalTransitions,
// ReplayPointMonotone, FakeOldestMonotone, ReplicaReadsMatchOracle,
// ReadsReflectAcked, NoUnexpectedExit, CrashRecovers, AckedVisible, and the
// liveness claims PromoteCompletes, PrimaryServes, BGWReturnsToNotStart,
// ReplicasCatchUp, ConsistentLSNCatchesUp.
//
// Demos today: "foundation" shows what the kernel, the shared device, the
// buffer pool and LogIndex do on their own: a primary writing pages and WAL, a
// replica's read-only mount refusing a write, a stale writer fenced in epoch
// mode.
package scenarios
