// Package order is the ordering study (issue 14): which steps of online
// promote must come in PolarDB's order. It holds the promote sequence as
// data (each step with the PolarDB code that runs it,
// docs/promote-steps.md), generates variants of that order mechanically,
// and renders docs/orderings.md from their results: each variant runs
// under every scheduler (the swarm's uniform, pct and preempt strategies,
// with the hazard hunt's control-run rule, and the exhaustive check of
// the small world; cmd/promotesim/orderings.go), and Combine merges a
// variant's verdicts.
//
// A variant is a hazard of package hazard (hazard.VariantName): its
// startup order runs through startup/sequence.go, its omitted
// postmaster and operator steps through the catalogue's switches. The
// steps mirror postmaster.c (polar_postmaster_receive_promote,
// polar_postmaster_online_promote), xlogrecovery.c FinishWalRecovery,
// xlog.c StartupXLOG and polar_logindex_redo.c
// (polar_reset_bg_replayed_lsn, polar_wait_logindex_bg_stop_replay) of
// POLARDB_15_STABLE, and their V11 counterparts.
package order
