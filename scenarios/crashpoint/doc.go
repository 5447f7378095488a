// Package crashpoint is the crash-point sweep of the promote window, as
// pebble's crash tests and ALICE (Pillai et al., OSDI '14) do for storage
// engines: for every step from the promote request to the end of the
// promote, crash (a) the promoting node, (b) the old primary, or (c) every
// host and device at once (cluster.PowerLoss: the device drops even the
// writes another host has read, which a host's crash keeps), restart and
// recover as the operator would (the liveness phase: heal, finish the
// promote, start a primary, rebuild the others), then run the whole-state
// checks (crash recovery from shared storage against the oracle, every
// acknowledged commit visible, every claim).
//
// Every crash point is re-simulated from the start through the viewer's
// fork (view.Branch: the commands up to the step, a run cut to it, the
// schedule the root run made): so a point is a deterministic program, and a
// failing one is written out as the script replay -script runs.
//
// The window (Window) is read from the root run's trace and snapshots: its
// first step is the one the operator's pg_ctl-promote event carries (the
// request: postmaster.Operator.Promote), its last the first step after it at which
// the promoted node is a read-write primary with its BGW back in
// POLAR_BG_REDO_NOT_START (the end of ONLINE_PROMOTE: the BGW leaves it
// only when its replay reached the promoted end, polar_logindex_bg_worker's
// online-promote loop). A window the trigger file opened waits for the
// operator's pg_ctl promote (the trigger file path never signals the BGW),
// which a swarm world's planner runs once startup took the file; a cut
// before it (or before the stop that made it needless) drops it, so the
// branch's liveness line names the rescue it owes (owedRescues, liveness
// rescue=N), and liveness runs it only for a node still in that promote.
//
// Layer: above view (it forks view's programs), like view/serve.
package crashpoint
