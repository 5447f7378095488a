// Package sim is promotesim's deterministic kernel: virtual time, seeded
// random streams, actors and the scheduler that interleaves them, the Chooser
// that decides every nondeterministic choice, the trace, coverage marks,
// assertions and the checker registry.
//
// # Determinism contract
//
// The core packages (sim, storage, logindex, bgw, startup, postmaster) use no
// goroutines, channels, select, sync, time, os, net or global random
// functions; lint_test.go parses them and fails on violations. This file's
// package builds the only random sources (rand.go, splitmix64, outputs pinned
// by a golden test). One root seed per run; every consumer forks its own
// stream by label, so adding a consumer does not change what others draw.
// Nothing iterates a map where order could leak into behaviour or output:
// the lint type-checks the core packages and flags every range over a map
// (and over maps.Keys/Values/All) unless the range carries a
// `// determinism:ok <why>` comment on its line or the line above, as the
// one in marks.go does (its keys are sorted before anyone sees them).
//
// The Go toolchain's own scheduling never matters: simtest.RunTwiceProcs runs
// a seed under GOMAXPROCS 1 and 2 and requires the same trace hash.
//
// # Shape of a run
//
//	+-----------------------------+
//	|  Scheduler (owns time)      |
//	|   collect enabled steps     |  candidates, oldest first:
//	|   Chooser.Choose(sched, n)  |  choice 0 = fair FIFO
//	|   (or ChooseStep: PCT, ...) |
//	|   run ONE step atomically   |
//	|   run every Checker         |---> *Violation (step, seed, tail)
//	+-------------+---------------+
//	              | Step(c) / Receive(c, msg)
//	+-------------v---------------+
//	|  Actor (a process)          |  emits effects through Ctx:
//	|  explicit state enum        |  Send, SendAfter, Wake, trace,
//	+-----------------------------+  Mark, Choose, Chance, Report
//
// Report hands a typed fact to the run's observers (report.go): how a
// checker learns what happened inside a step (a process exit, a page
// written) without the model keeping a record for it, and without a trace
// line, so observing changes no trace.
//
// Actors never call each other; effects are delivered by the scheduler as later
// inputs, which is where reordering, delay, loss and crashes are injected.
// Messages on one (sender, receiver) channel arrive in order, including
// delayed ones (SendAfter holds back later messages on its channel); timers
// (Ctx.Wake) are not a channel and fire by deadline. Every step takes one tick
// of virtual time; an idle world jumps to the next deliverable message.
//
// # Wake conditions
//
// Asking each live actor Ready at every step made collect the
// scheduler's largest cost: a world's ~30 processes answered ~32 times a
// step, and about 1% of the answers changed. A Sleeper (wake.go) names the
// conditions its Ready reads and the ones its steps change, as strings
// (every process of node n2 reads and writes "n2", its shared memory; a
// backend reads only its own state; a replay worker only its dispatch
// queue, named "n2/bgw" after the BGW that writes it). Each condition keeps its
// live readers; a step forgets its own actor's answer and its readers'
// answers for every condition it writes (Ctx.Touch names another one), and
// collect asks only the actors whose answer was forgotten. A step of an
// actor that is not a Sleeper, Add, Kill, and the start of Run, RunUntil
// and an exported Step forget every answer, since code outside the actors
// (an operator procedure between runs) may have changed anything. The
// least-recently-run walk and the merge are unchanged, so the candidates
// and their order are exactly those of asking everyone, and every recorded
// schedule replays as before. Config.CheckWakes asks every Sleeper anyway
// and fails the run in the step a remembered answer differs from a fresh
// one (a process reading memory it did not name):
// TestWakeCollectMatchesNaive holds the kernel to asking everyone, and
// scenarios' TestWakeConditionsComplete runs every profile, strategy and
// hazard in that mode. Scheduler.Touches counts each condition's touches
// (TouchAll's included), so an observer that saw the same count before
// knows no step changed that memory since: the checkers' watch skips an
// untouched node so (TestTouchesCountsEveryChange).
//
// # Choosers
//
// One interface, several drivers: Scripted (scenarios, demos,
// counterexamples), Random (seeded swarm runs, one stream per Site), the
// rapid-backed driver in sim/simtest (rapid shrinks the schedule), Enumerator
// (every choice sequence up to a bound), the scheduling strategies below, and
// Search's own driver. A Recorder turns any run into a script.
//
// # Scheduling strategies
//
// A StepChooser also sees whose steps the candidates are (Enabled: each
// candidate's actor and sender, the actor that ran last) when the scheduler
// asks its one "sched" choice; it still answers with an index into the same
// oldest-first list, so a run under any strategy, recorded, replays under
// Scripted unchanged and choice 0 stays the boring FIFO step for shrinking.
// Every other site is answered by NewRandom(seed) whatever the strategy, so a
// seed's fault streams do not depend on it. A wrapping Chooser forwards the
// view with the ChooseStep function (Recorder does). Strategies, by name
// (ParseStrategy; NewChooser builds one for a seed):
//
//	uniform            Random: uniform among the enabled steps (old seeds unchanged)
//	pct:d=3,steps=N    PCT (Burckhardt et al., ASPLOS 2010; awslabs/shuttle's
//	                   PctScheduler): random priority per actor, the highest
//	                   enabled runs, d-1 change points over the first N decisions
//	                   drop the actor about to run below all others
//	preempt:k=2,p=A/B  CHESS-style walk: the last actor keeps running while it
//	                   is enabled; with probability p (default k/steps), at most
//	                   k times, another actor's step preempts it
//	swarm              each seed derives one of the above (DeriveStrategy)
//
// PCT and the walk count only decisions with two or more candidates, and
// after their steps estimate they leave scheduling to the uniform draw, so a
// long tail (a liveness phase) stays fair. Both are unfair by design before
// it: an always-ready actor can starve the others until then.
//
// # Stateful search
//
// Search explores a world's choice sequences depth first, with no FIFO tail:
// it rebuilds the world from a caller's New(Chooser) for every run, replays
// the prefix to the branch being tried, and prunes a step's successor state
// when its Fingerprint was explored before with at least as much depth and
// preemption budget left (so MaxDepth and the CHESS-style Preemptions bound
// stay sound). It reports distinct states, transitions, replayed steps,
// depth, and the shortest failing script (NewScripted replays it). A world
// that steps itself (a script of commands) plugs in with Drive instead of
// Step: the search then looks at it from its chooser at every scheduling
// decision and ends a pruned run by a panic of its own. It has no
// sleep sets: the scheduler cannot prove two steps independent, since actors
// share state it does not see and every step ticks the clock they read.
// Scheduler.StateHash hashes the kernel's part of a state (messages in
// flight, liveness, the last actor); the caller adds its actors'.
// Figures: `go test -run '^$' -bench 'StepEmpty|Search' -benchmem ./sim/`.
//
// # Invariants owned here
//
// Assertf/Failf are programmer-error assertions, always on; a failed one in a
// step becomes a violation of checker "assert". Named checkers (registered by
// the scenarios package) observe the world after every step and never mutate
// it. Observers outside the model (the viewer) read the scheduler through
// observe.go: Candidates, the steps the next Step chooses among, is the same
// list a StepChooser's Enabled view shows, copied out. The trace hash covers every event at every level, so two runs of a seed
// agree byte for byte or the run-twice check reports it.
//
// # Glossary (one word per concept, used across the project)
//
//	actor          a simulated process (PostgreSQL's word "process" names the modelled thing)
//	step           one atomic critical section of one actor
//	candidate      one step the scheduler could run next (Enabled views them)
//	effect, msg    what an actor emits for the scheduler to deliver later
//	node, host     one machine of the cluster (n1, n2, ...); HostID in storage
//	device         the shared block device; mount: a host's RO or RW view of it
//	writer         the host holding the device's read-write role
//	epoch          the fence number of a RW mount (fence mode epoch)
//	LSN            a WAL byte position, printed 0/1A8
//	insert position the LSN where the next WAL record goes (PostgreSQL's insert pointer)
//	oldest LSN     LSN of a buffer's first change since it was last written
//	consistent LSN oldest LSN at the flush-list head: every change below it is on storage
//	replay point   bg_replayed_lsn: how far the BGW has replayed
//	fake oldest LSN the oldest LSN given to dirtied buffers during online promote
//	WAL meta       a WAL record without page data, shipped to replicas
//	memtable       an in-memory LogIndex table (FREE, ACTIVE, INACTIVE, FLUSHED)
//	hazard         a named switch that changes one protocol step the wrong way
//	checker        a named claim checked after every step
//	mark           a named rare path whose reach a test asserts
//
// Mirrors no PolarDB source: it is the simulation's own machinery, shaped after
// etcd raft's pure state machines, TigerBeetle's VOPR and FoundationDB's
// simulator.
package sim
