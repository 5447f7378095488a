// Package view is the step-through viewer of a run: it captures a demo, an
// explorer world or a counterexample script step by step into a run document
// (every trace event on its process lane, and after every step each node's
// processes, BGW state, LSN markers, flush list and slots, and the shared
// storage pages against the oracle), forks a run at a step with a fault or
// another scheduler choice, exports a branch as a replayable script, and
// renders documents as a self-contained web page or Mermaid diagrams.
//
// It mirrors no PolarDB file itself; what it shows is the model's reading of
// polar_logindex_redo.c (the BGW states of polar_logindex_redo_ctl),
// bufmgr.c's flush list and the consistent LSN, and walsender.c's
// pg_stat_replication rows.
//
// Files: capture.go is the one file that uses the scenarios packages
// (script's Runner, the cluster and its oracle, shmem nodes, demos, swarm
// worlds, explore's counterexample files and replayer: capture replays a
// program exactly as replay -script does); model.go the document types;
// fork.go branches and exported scripts; mermaid.go the diagrams; page.go
// the static page. The page's JavaScript and CSS are under web/, embedded.
// The package is deterministic (sim/lint_test.go lints it like the model):
// a document is a pure function of its program. The HTTP handler, which is
// not, is the subpackage serve.
package view
