// Package script is the command language of scripts, demos and explorer
// worlds, and the Runner that executes it against a checked cluster one
// line at a time. Every command prints the trace its steps produced, then
// its own result, so a script reads as a narrated walkthrough.
//
// Commands are typed values (Command): each prints itself as its script
// line and runs on a Runner (Runner.Run); Parse and ParseScript are the
// one parser from lines to values, naming a bad line by its number, and
// Runner.Exec is Parse then Run. The explorer generates, records, shrinks
// and replays values, never strings.
//
// One file per verb (after etcd raft's interaction environment):
// cluster.go builds the cluster (check.NewCluster); write.go, read.go,
// node.go (promote, trigger, crash, rebuild, stop, start, drop-slot),
// kill.go (kill -9 of one child),
// run.go (run, run-until), status.go (status, slots, stat-replication),
// check.go (check all, check acked-visible, full-check), pause.go (pause, resume,
// stall-save, resume-save), checkpoint.go, plan.go (the hazard plan
// verbs), prepare.go (prepare, commit-prepared, rollback-prepared,
// prepared, and the non-waiting submit-prepare, submit-finish), logical.go
// (create-logical-slot, logical-get-changes, logical-slots, check
// logical-slot); submit.go and fault.go are the explorer's non-waiting vocabulary
// and liveness.go the liveness phase (heal everything, do what an operator
// would, require the liveness claims). The operator commands mirror
// pg_ctl's (src/bin/pg_ctl/pg_ctl.c) and CHECKPOINT.
package script
