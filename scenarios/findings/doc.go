// Package findings sorts a failing world's first violation into the
// findings of docs/findings.md by the signature its trace carries, so the
// "How often" figures there come from a command (promotesim classify), not
// from a hand count of replays.
//
// A signature is the story a finding tells, read off the step-level trace of
// the violating node: F1, the BGW's WAITING_RESET overwritten by startup's
// hot-standby wake-up (polar_logindex_wakeup_bg_replay,
// polar_logindex_redo.c); F2, a promote lost to a reinitialisation with
// received_promote set (polar_postmaster_receive_promote, postmaster.c); F3,
// startup's PANIC at the end of recovery after a failed read in the final
// read (polar_check_before_promote, xlogrecovery.c); F4, the reset moving
// the fake oldest LSN back after a prewarm wake-up in the final read
// (polar_reset_bg_replayed_lsn); F5, the promoted node writing back a stale
// pooled page the reset did not evict (polar_reset_bg_replayed_lsn evicts
// only when bg_replayed_lsn is below the redo); F6, startup's FATAL on a
// two-phase state file a failed checkpoint write left empty
// (RecreateTwoPhaseFile, twophase.c); F7, a crash recovery from the redo a
// promote took from its restartpoint, above the PREPARE record of the
// prepared transaction it lost, whose state file shared storage lacked
// (CheckPointTwoPhase and restoreTwoPhaseData, twophase.c); F8, a promote
// from a restartpoint above which another node's crash recovery, begun at an
// older redo, died after writing the shared device (a candidate; its redo of
// an init record or full-page image, XLogInitBufferForRedo, rewinds a page);
// V11-1, PolarDB 11's promote without waiting for the backends and the BGW's
// assertion on the fake oldest LSN (polar_logindex_bg_dispatch). A violation
// that matches none is Other: a finding candidate to investigate. The
// package is deterministic (it reads a trace; it runs nothing).
package findings
