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
// Demos today: "foundation" shows what the kernel, the shared device, the
// buffer pool and LogIndex do on their own: a primary writing pages and WAL, a
// replica's read-only mount refusing a write, a stale writer fenced in epoch
// mode.
package scenarios
