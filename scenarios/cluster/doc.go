// Package cluster builds a whole world: one shared device, its nodes and
// standbys, the clients' journal and the scheduler that interleaves every
// process. Options are validated and resolved once into per-node
// configurations (the hazard applied), and the operator's procedures
// (start, stop, crash, promote, rebuild, drop a slot) are Cluster methods
// that post an input and return.
//
// A cluster is built in two steps so observers see it from the first
// step: New makes the empty world, observers attach (check.Install), and
// Boot runs initdb from n1, starts n1 as primary and every other node as a
// LogIndex replica (check.NewCluster does all three). Standbys
// (Options.Standbys, hosts Nodes+1..) have their own private device in
// local-disk mode, initialised as a base backup the primary takes of shared
// storage (every file but pg_replslot/ and pg_logindex/, after creating the
// slot standby<k>); a standby is never promoted, rebuilt or started in
// another role. ModelVersion names the model's behaviour for every report.
//
// The procedures mirror what an operator does with pg_ctl and initdb
// (src/bin/pg_ctl/pg_ctl.c, src/bin/initdb/initdb.c) and PolarDB's
// replica setup (replica.signal, REPLICA_SIGNAL_FILE of
// src/include/access/xlog.h; polar_datadir for shared storage).
package cluster
