package explore

import (
	"fmt"
	"time"

	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
	"promotesim/sim"
)

// Shrinking turns a failing world into the smallest run that still fails
// the same way ("the same checker fires"). The external actions come
// first, since they are what a reader of the file has to follow: delta
// debugging on the action list (drop chunks, then single commands, shorten
// arguments and run steps=N, merge adjacent runs, simpler forms of a
// command, pairs of commands on a short list), then the cluster line moved
// toward the default options. A
// candidate that does not fail under the current schedule is tried under
// other schedules too (FIFO, then a few fresh seeded ones, recorded): a
// recorded schedule is a list of choice indices, so dropping a command
// early in the run shifts what every later choice means, and the window
// the failure needs is then hit again, if at all, by another schedule.
// Once the actions reach a fixpoint (or their share of the budget is
// spent) the schedule is shrunk: every choice is recorded with
// sim.Recorder, replayed with sim.Scripted, and moved toward 0, the FIFO
// schedule, chunks first. Every attempt is one replay of a (shorter)
// world, within a wall-time and attempt budget; a pass stopped by the
// budget is reported (ShrinkStats.OutOfBudget, and the file says so).

// ShrinkConfig bounds shrinking.
type ShrinkConfig struct {
	// Budget is the wall time shrinking may take (0: 30s).
	Budget time.Duration
	// Attempts bounds the replays (0: 4000).
	Attempts int
	// Control keeps a protocol hazard's counterexample about the hazard:
	// a candidate counts only if the same commands and schedule without
	// the hazard do not fail the same way (Controllable).
	Control bool
}

// ShrinkStats say what shrinking did.
type ShrinkStats struct {
	Attempts int
	Elapsed  time.Duration
	// Before and After count actions (external ones in parentheses when
	// printed) and nonzero schedule choices.
	ActionsBefore, ExternalBefore int
	ActionsAfter, ExternalAfter   int
	ChoicesBefore, ChoicesAfter   int // recorded choices (all, then nonzero at the end)
	NonzeroAfter                  int
	// OutOfBudget: a pass stopped at its budget (the actions' share or the
	// whole), not at a fixpoint.
	OutOfBudget bool
	// Controlled: every accepted candidate held without the hazard.
	Controlled bool
}

func (s ShrinkStats) String() string {
	budget := ""
	if s.OutOfBudget {
		budget = ", budget exhausted"
	}
	return fmt.Sprintf("%d actions (%d external) from %d (%d); schedule %d choices, %d nonzero; %d replays in %v%s",
		s.ActionsAfter, s.ExternalAfter, s.ActionsBefore, s.ExternalBefore, s.ChoicesAfter, s.NonzeroAfter,
		s.Attempts, s.Elapsed.Round(time.Millisecond), budget)
}

type shrinker struct {
	cx       Counterexample
	checker  string
	deadline time.Time
	max      int
	attempts int
	// out: the current phase's budget is spent (its loops stop); cut:
	// some phase was stopped by its budget, not at a fixpoint.
	out, cut bool
	// phaseMax and phaseEnd bound the current phase (the actions get a
	// share of the budget, the schedule what is left).
	phaseMax int
	phaseEnd time.Time
	start    time.Time
	budgetD  time.Duration
	// fresh counts the fresh schedules tried (each candidate's differ).
	fresh uint64
	// elsewhere: tryActions may try other schedules (tryElsewhere).
	elsewhere bool
	last      swarm.Outcome
	// control is the cluster command without the hazard (nil: no
	// control).
	control *script.Cluster
	// maxChoices caps a candidate's choices (0: no cap yet).
	maxChoices int
	seed       uint64 // the cluster line's seed (the random schedule's)
	// sched is the cluster line's seeded strategy (uniform for random and
	// fifo): fresh schedules the shrinker tries are drawn under it.
	sched sim.Strategy
}

// Shrink returns a smaller counterexample that fails with the same
// checker. The input must fail (its own replay is the first attempt); if
// it does not, it is returned unchanged with an error.
func Shrink(cx Counterexample, cfg ShrinkConfig) (Counterexample, error) {
	start := time.Now()
	s := newShrinker(cx, cfg, start)
	st := ShrinkStats{ActionsBefore: len(cx.Actions), ExternalBefore: countExternal(cx.Actions)}
	if err := s.begin(); err != nil {
		return cx, err
	}
	s.actions()
	if !s.cx.Scripted {
		s.record()
	}
	st.ChoicesBefore = len(s.cx.Schedule)
	s.rounds()
	s.normalize()
	// The final replay fills in the outcome.
	o, err := s.cx.Run(swarm.RunConfig{})
	if err != nil || o.Violation == nil || o.Violation.Checker != s.checker {
		return cx, fmt.Errorf("shrink: the shrunk counterexample of seed %d no longer fails (a nondeterministic world?)", cx.Seed)
	}
	s.cx.Violation, s.cx.Steps, s.cx.Hash = o.Violation, o.Steps, o.Hash
	s.cx.Shrink = s.stats(st, start)
	return s.cx, nil
}

// newShrinker sets up shrinking cx within cfg's budgets.
func newShrinker(cx Counterexample, cfg ShrinkConfig, start time.Time) *shrinker {
	if cfg.Budget <= 0 {
		cfg.Budget = 30 * time.Second
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 4000
	}
	s := &shrinker{cx: cx, checker: cx.Checker, deadline: start.Add(cfg.Budget), max: cfg.Attempts,
		start: start, budgetD: cfg.Budget, phaseMax: cfg.Attempts, phaseEnd: start.Add(cfg.Budget)}
	if cfg.Control && Controllable(cx.Hazard) {
		c := cx.Cluster
		c.Opts.Hazard = ""
		s.control = &c
	}
	s.seed = cx.Seed
	if cx.Cluster.HasSeed {
		s.seed = cx.Cluster.Seed
	}
	s.sched, _ = cx.Cluster.Strategy() // a parsed line's strategy is valid
	if !cx.Scripted && !cx.Cluster.Seeded() {
		// A FIFO cluster line: its schedule is the empty script.
		s.cx.Scripted, s.cx.Schedule = true, []int{}
	}
	return s
}

// begin replays the input (it must fail the same way, with and without
// the control), caps the candidates' choices from its run, and switches to
// the FIFO schedule if the world fails under it too.
func (s *shrinker) begin() error {
	rec := &sim.Recorder{Inner: s.cx.Cluster.Chooser(s.seed)}
	if s.cx.Scripted {
		rec.Inner = sim.NewScripted(s.cx.Schedule...)
	}
	s.attempts++
	o, err := replayGuarded(s.cx.Cluster, s.cx.Actions, s.cx.Seed, swarm.RunConfig{Chooser: rec})
	if err != nil || o.Violation == nil || o.Violation.Checker != s.checker {
		got := "no violation"
		if o.Violation != nil {
			got = o.Violation.Checker
		}
		return fmt.Errorf("shrink: seed %d does not fail with %s on replay (got %s)", s.cx.Seed, s.checker, got)
	}
	if !s.fails(s.cx.Actions, s.cx.Scripted, s.cx.Schedule) {
		return fmt.Errorf("shrink: seed %d fails with %s without its hazard too (the same commands and schedule): not the hazard's failure", s.cx.Seed, s.checker)
	}
	// Candidates may make at most twice the original's choices (and some).
	s.maxChoices = 2*len(rec.Choices) + 2000
	// The boring schedule first: if the world fails under FIFO too, shrink
	// there (dropping a command then shifts nothing else).
	if !s.cx.Scripted && s.fails(s.cx.Actions, true, []int{}) {
		s.cx.Scripted, s.cx.Schedule = true, []int{}
		s.toFIFO()
	}
	return nil
}

// rounds shrinks the actions and the cluster line to a fixpoint within
// actionsShare of the budget (each pass trying other schedules where the
// current one no longer fails), then the schedule with what is left, and
// last the actions once more under the shrunk schedule.
func (s *shrinker) rounds() {
	s.phase(actionsShare)
	for round := 0; round < 8 && !s.out; round++ {
		before := s.actionSize()
		s.actions()
		s.simplifyCluster()
		if s.actionSize() == before {
			break
		}
	}
	s.phase(1)
	s.schedule()
	s.actions()
}

// actionsShare is the share of the budget (attempts and time) the action
// and cluster passes may take before the schedule's turn.
const actionsShare = 0.75

// phase gives the next passes the budget up to share of the whole (and
// clears the previous phase's stop, unless the whole budget is spent).
func (s *shrinker) phase(share float64) {
	s.phaseMax = int(float64(s.max) * share)
	s.phaseEnd = s.start.Add(time.Duration(float64(s.budgetD) * share))
	s.out = s.attempts >= s.max || time.Now().After(s.deadline)
}

// actionSize orders action lists: fewer external actions, then fewer
// actions, then fewer run steps.
func (s *shrinker) actionSize() int {
	n := countExternal(s.cx.Actions)*1_000_000 + len(s.cx.Actions)*10_000
	for _, a := range s.cx.Actions {
		if st, ok := runSteps(a); ok {
			n += min(st, 9_999)
		}
	}
	return n
}

// stats completes st with what shrinking did.
func (s *shrinker) stats(st ShrinkStats, start time.Time) ShrinkStats {
	st.Attempts = s.attempts
	st.Elapsed = time.Since(start)
	st.ActionsAfter, st.ExternalAfter = len(s.cx.Actions), countExternal(s.cx.Actions)
	st.ChoicesAfter = len(s.cx.Schedule)
	for _, c := range s.cx.Schedule {
		if c != 0 {
			st.NonzeroAfter++
		}
	}
	st.OutOfBudget = s.cut
	st.Controlled = s.control != nil
	return st
}

// budget reports whether another attempt may run.
func (s *shrinker) budget() bool {
	if s.out || s.attempts >= min(s.max, s.phaseMax) || time.Now().After(s.deadline) || time.Now().After(s.phaseEnd) {
		s.out, s.cut = true, true
		return false
	}
	return true
}

// fails replays a candidate and reports whether the same checker fires.
func (s *shrinker) fails(actions []script.Command, scripted bool, schedule []int) bool {
	return s.failsOn(s.cx.Cluster, actions, scripted, schedule)
}

// failsOn replays a candidate built by cluster line cl and reports whether
// the same checker fires there and, with a control, not without the
// hazard.
func (s *shrinker) failsOn(cl script.Cluster, actions []script.Command, scripted bool, schedule []int) bool {
	s.attempts++
	o, err := s.replay(cl, actions, scripted, schedule)
	s.last = o
	if err != nil || o.Violation == nil || o.Violation.Checker != s.checker {
		return false
	}
	if s.control == nil || cl.Opts.Hazard == "" {
		return true
	}
	ctl := cl
	ctl.Opts.Hazard = ""
	s.attempts++
	c, err := s.replay(ctl, actions, scripted, schedule)
	return err == nil && (c.Violation == nil || c.Violation.Checker != s.checker)
}

// replay runs one candidate under its schedule, capped.
func (s *shrinker) replay(clusterLine script.Cluster, actions []script.Command, scripted bool, schedule []int) (o swarm.Outcome, err error) {
	var ch sim.Chooser
	if scripted {
		ch = sim.NewScripted(schedule...)
	} else {
		ch = clusterLine.Chooser(s.seed)
	}
	if s.maxChoices > 0 {
		ch = &sim.Capped{Inner: ch, Max: s.maxChoices}
	}
	return s.replayWith(clusterLine, actions, ch)
}

// replayWith runs one candidate under chooser ch (a capped one's overrun
// is "did not fail").
func (s *shrinker) replayWith(clusterLine script.Cluster, actions []script.Command, ch sim.Chooser) (o swarm.Outcome, err error) {
	defer func() {
		if e := recover(); e != nil {
			if _, ok := e.(sim.TooManyChoices); !ok {
				panic(e)
			}
			o, err = swarm.Outcome{Cluster: clusterLine}, nil
		}
	}()
	return replayGuarded(clusterLine, actions, s.cx.Seed, swarm.RunConfig{Chooser: ch})
}

// tryActions keeps a shorter action list if it fails the same way under
// the current schedule, or (in the passes that look elsewhere) under
// another (tryElsewhere).
func (s *shrinker) tryActions(actions []script.Command) bool {
	if s.tryHere(actions) {
		return true
	}
	return s.elsewhere && !s.out && s.tryElsewhere(s.cx.Cluster, actions)
}

// tryHere keeps an action list that fails the same way under the current
// schedule.
func (s *shrinker) tryHere(actions []script.Command) bool {
	if !s.budget() {
		return false
	}
	if s.fails(actions, s.cx.Scripted, s.cx.Schedule) {
		s.cx.Actions = actions
		return true
	}
	return false
}

func (s *shrinker) trySchedule(schedule []int) bool {
	if !s.budget() {
		return false
	}
	if s.fails(s.cx.Actions, true, schedule) {
		s.cx.Schedule = schedule
		return true
	}
	return false
}

// actions shrinks the action list to a fixpoint (or the budget): first
// under the current schedule alone, then letting deletions and simpler
// commands try other schedules too (dearer: a failed candidate costs
// 2+freshTries replays), and under the current schedule again after each
// such success.
func (s *shrinker) actions() {
	s.actionPasses()
	for !s.out {
		s.elsewhere = true
		progress := s.dropChunks()
		if s.simplifyCommands() {
			progress = true
		}
		if !progress {
			progress = s.dropPairs()
		}
		s.elsewhere = false
		if !progress {
			return
		}
		s.actionPasses()
	}
}

// actionPasses runs the action passes under the current schedule to a
// fixpoint.
func (s *shrinker) actionPasses() {
	for !s.out {
		// Content before timing: a shorter run leaves less room for the
		// simplifications after it, so runs shrink last.
		progress := s.dropChunks()
		if s.simplifyCommands() {
			progress = true
		}
		if s.shortenArgs() {
			progress = true
		}
		if s.mergeRuns() {
			progress = true
		}
		if s.shortenRuns() {
			progress = true
		}
		if !progress {
			return
		}
	}
}

// dropChunks removes chunks of actions, halving the chunk size down to
// single commands, latest chunks first (the commands nearest the failure
// are the likeliest to matter, so the early ones go first... and dropping
// from the end keeps earlier indices valid).
func (s *shrinker) dropChunks() bool {
	progress := false
	for size := len(s.cx.Actions) / 2; size >= 1 && !s.out; size /= 2 {
		for end := len(s.cx.Actions); end-size >= 0 && !s.out; {
			acts := s.cx.Actions
			start := end - size
			cand := make([]script.Command, 0, len(acts)-size)
			cand = append(cand, acts[:start]...)
			cand = append(cand, acts[end:]...)
			if s.tryActions(cand) {
				progress = true
			}
			end = start
			if end > len(s.cx.Actions) {
				end = len(s.cx.Actions)
			}
		}
	}
	return progress
}

func runSteps(cmd script.Command) (int, bool) {
	r, ok := cmd.(script.Run)
	return r.Steps, ok
}

// shortenRuns halves each run steps=N while the failure persists.
func (s *shrinker) shortenRuns() bool {
	progress := false
	for i := 0; i < len(s.cx.Actions) && !s.out; i++ {
		for {
			n, ok := runSteps(s.cx.Actions[i])
			if !ok || n <= 1 {
				break
			}
			cand := append([]script.Command(nil), s.cx.Actions...)
			cand[i] = script.Run{Steps: n / 2}
			if !s.tryActions(cand) {
				break
			}
			progress = true
		}
	}
	return progress
}

// shortenArgs halves each numeric argument (burst sizes, fault counts,
// latencies: halved) toward 1 while the failure persists.
func (s *shrinker) shortenArgs() bool {
	progress := false
	for i := 0; i < len(s.cx.Actions) && !s.out; i++ {
		for _, arg := range numericArgs {
			for !s.out {
				next, ok := halved(s.cx.Actions[i], arg)
				if !ok {
					break
				}
				cand := append([]script.Command(nil), s.cx.Actions...)
				cand[i] = next
				if !s.tryActions(cand) {
					break
				}
				progress = true
			}
		}
	}
	return progress
}

// numericArgs are the arguments shortenArgs halves, in the order it
// tries them on each command.
var numericArgs = []string{"count", "ticks"}

// halved returns cmd with its numeric argument arg halved, if it has that
// argument above 1.
func halved(cmd script.Command, arg string) (script.Command, bool) {
	switch c := cmd.(type) {
	case script.Submit:
		if arg == "count" && c.Count > 1 {
			c.Count /= 2
			return c, true
		}
	case script.SubmitRead:
		if arg == "count" && c.Count > 1 {
			c.Count /= 2
			return c, true
		}
	case script.Writes:
		if arg == "count" && c.Count > 1 {
			c.Count /= 2
			return c, true
		}
	case script.Fault:
		if arg == "count" && c.Count > 1 {
			c.Count /= 2
			return c, true
		}
		if arg == "ticks" && c.Latency && c.Ticks > 1 {
			c.Ticks /= 2
			return c, true
		}
	}
	return nil, false
}

// mergeRuns joins adjacent runs into one.
func (s *shrinker) mergeRuns() bool {
	progress := false
	for i := 0; i+1 < len(s.cx.Actions) && !s.out; i++ {
		a, ok1 := runSteps(s.cx.Actions[i])
		b, ok2 := runSteps(s.cx.Actions[i+1])
		if !ok1 || !ok2 {
			continue
		}
		cand := append([]script.Command(nil), s.cx.Actions[:i]...)
		cand = append(cand, script.Run{Steps: a + b})
		cand = append(cand, s.cx.Actions[i+2:]...)
		if s.tryActions(cand) {
			progress = true
			i--
		}
	}
	return progress
}

// record switches a seeded schedule to a scripted one: the same run, its
// every choice recorded.
func (s *shrinker) record() {
	rec := &sim.Recorder{Inner: s.cx.Cluster.Chooser(s.seed)}
	o, err := replayGuarded(s.cx.Cluster, s.cx.Actions, s.cx.Seed, swarm.RunConfig{Chooser: rec})
	s.attempts++
	if err != nil || o.Violation == nil || o.Violation.Checker != s.checker {
		return // cannot happen in a deterministic world; keep the seeded schedule
	}
	sched := trimZeros(rec.Choices)
	if !s.fails(s.cx.Actions, true, sched) {
		return
	}
	s.cx.Scripted, s.cx.Schedule = true, sched
	s.toFIFO()
}

// toFIFO makes the cluster (and its control) schedule FIFO past the
// scripted choices: a scripted schedule replaces the seeded random one.
func (s *shrinker) toFIFO() {
	if s.cx.Cluster.Seeded() {
		s.cx.Cluster.Sched = "fifo"
	}
}

func trimZeros(c []int) []int {
	n := len(c)
	for n > 0 && c[n-1] == 0 {
		n--
	}
	return append([]int{}, c[:n]...)
}

// schedule moves the scripted choices toward 0: the shortest prefix that
// still fails (the rest FIFO), then chunks set to 0, then single choices
// lowered.
func (s *shrinker) schedule() {
	if !s.cx.Scripted || s.out {
		return
	}
	s.normalize()
	sc := s.cx.Schedule
	if len(sc) == 0 {
		return
	}
	// Shortest failing prefix (binary search; failing is not monotone in
	// the prefix, so this only finds a short one).
	if s.trySchedule([]int{}) {
		return
	}
	lo, hi := 0, len(sc)
	for hi-lo > 1 && !s.out {
		mid := (lo + hi) / 2
		if s.trySchedule(append([]int{}, sc[:mid]...)) {
			hi = mid
		} else {
			lo = mid
		}
	}
	s.cx.Schedule = trimZeros(s.cx.Schedule)
	// Zero chunks, large to small.
	for size := len(s.cx.Schedule) / 2; size >= 1 && !s.out; size /= 2 {
		for start := 0; start < len(s.cx.Schedule) && !s.out; start += size {
			cur := s.cx.Schedule
			end := min(start+size, len(cur))
			nonzero := false
			for _, c := range cur[start:end] {
				if c != 0 {
					nonzero = true
				}
			}
			if !nonzero {
				continue
			}
			cand := append([]int{}, cur...)
			clear(cand[start:end])
			s.trySchedule(trimZeros(cand))
		}
	}
	// Lower single choices: to 1, then by one.
	for i := 0; i < len(s.cx.Schedule) && !s.out; i++ {
		v := s.cx.Schedule[i]
		if v <= 1 {
			continue
		}
		cand := append([]int{}, s.cx.Schedule...)
		cand[i] = 1
		if s.trySchedule(cand) {
			continue
		}
		cand[i] = v - 1
		s.trySchedule(cand)
	}
}

// normalize replaces the schedule by the choices its replay actually
// makes (out-of-range values clamped, the unused tail dropped).
func (s *shrinker) normalize() {
	if !s.cx.Scripted {
		return
	}
	rec := &sim.Recorder{Inner: sim.NewScripted(s.cx.Schedule...)}
	o, err := replayGuarded(s.cx.Cluster, s.cx.Actions, s.cx.Seed, swarm.RunConfig{Chooser: rec})
	s.attempts++
	if err != nil || o.Violation == nil || o.Violation.Checker != s.checker {
		return
	}
	s.cx.Schedule = trimZeros(rec.Choices)
}
