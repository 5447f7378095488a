// Package scenarios builds whole worlds (a cluster of nodes on one shared
// device), the named scenarios and teaching demos, and (with the protocol) the
// oracle, the checkers, the hazard catalogue, the property and swarm tests and
// the explorer. Nothing imports it but cmd/promotesim and tests.
//
// Demos today: "foundation" shows what the kernel, the shared device, the
// buffer pool and LogIndex do on their own: a primary writing pages and WAL, a
// replica's read-only mount refusing a write, a stale writer fenced in epoch
// mode.
package scenarios
