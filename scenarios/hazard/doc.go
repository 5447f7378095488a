// Package hazard is the catalogue of deliberately wrong orderings of the
// promote protocol and of the operator's plan around it. Each hazard names
// what PolarDB does right, what the switch changes and which general
// checker must see it; the cluster applies it through shmem.Orderings and
// the plan switches, and the hazard tests prove the checkers are not
// vacuous.
//
// The right orderings it flips are those of src/backend/postmaster/postmaster.c
// (the online promote sequence), src/backend/access/transam/xlog.c
// (StartupXLOG's promote path, polar_online_promote_data) and
// src/backend/access/logindex/polar_logindex_redo.c (the BGW's reset and
// online-promote replay).
package hazard
