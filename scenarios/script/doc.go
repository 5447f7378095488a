// Package script is the command language of scripts, demos and explorer
// worlds, and the Runner that executes it against a checked cluster one
// line at a time. Every command prints the trace its steps produced, then
// its own result, so a script reads as a narrated walkthrough.
//
// One file per verb (after etcd raft's interaction environment):
// cluster.go builds the cluster (check.NewCluster); write.go, read.go,
// node.go (promote, trigger, crash, rebuild, stop, start, drop-slot),
// run.go (run, run-until), status.go, check.go (check all, check
// acked-visible, the whole-state checks), pause.go (pause, resume,
// stall-save, resume-save), checkpoint.go, plan.go (the hazard plan
// verbs); submit.go and fault.go are the explorer's non-waiting vocabulary
// and liveness.go the liveness phase (heal everything, do what an operator
// would, require the liveness claims). The operator commands mirror
// pg_ctl's (src/bin/pg_ctl/pg_ctl.c) and CHECKPOINT.
package script
