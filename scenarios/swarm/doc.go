// Package swarm runs seeded swarm worlds (TigerBeetle's VOPR, swarm
// testing): one seed derives the cluster options and which classes of
// actions and faults are enabled, then a planner draws a program of script
// commands from the seed, executing each as it goes. The program is
// recorded, so a world replays from its cluster line and commands alone
// and any subsequence of them is still a runnable script.
//
// swarm.go derives a world from its seed and runs it (NewWorld, Run,
// RunSwarm, Replay); planner.go draws the program, one named generator per
// action class (genSubmit, genStop, genIOError, ...), each emitting typed
// script commands; fidelity.go holds the classes of the paths PolarDB's
// code opens (issue 10: kill -9 of a child, PolarDB's test
// 002_promote_kill; promote before hot standby, test
// 003_promote_replica_pending; promote with the queue behind); standby.go
// is ClassStandby's generator (genStandby: hold a standby's parallel
// replay, promote it by pg_ctl or the trigger file, write to it, crash it,
// start it again as a standby or as its own disk's primary; PolarDB's tests
// 007 and 101-105); gen_twophase.go's genTwoPhase prepares transactions
// and finishes them, gen_logical.go's genLogical creates and consumes
// logical slots, reuse.go's genReuse frees pages and reinitialises them
// with RBM_ZERO_AND_LOCK and tornwal.go's genTornWAL loses power with WAL
// written but not synced, or restarts a replica while the primary's last
// record is half written (PolarDB's test 004_polar_overwrite_contrecord).
// A promote (planner.go promoteCmd, afterPromote) is pg_ctl promote, or in
// a ClassTriggerFile world the trigger file followed by pg_ctl promote once
// startup took it; in a ClassCheckpoint world a CHECKPOINT may follow as
// soon as the node is out of recovery. hunt.go biases the worlds of a hunt
// for a hazard whose damage needs a narrow window (no-backend-wait: a slow
// read in flight across the promote; replay-from-old-consistent: a failed
// control-file write at promote and a lazy checkpoint inside it): the
// classes and options it needs (a short checkpoint distance) and, at some
// promotes and stops, the commands that open the window, drawn from
// streams of their own; Swarm.Hunt keeps the bias when the hazard is taken
// away. Base.Fixed picks the profile's -fixed variant. It
// mirrors no PolarDB file: it is the operator and the faults around the
// model.
package swarm
