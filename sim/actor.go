package sim

// ActorID identifies an actor within one scheduler.
type ActorID int32

// External is the sender of messages posted from outside the world (an
// operator's pg_ctl, a test's action).
const External ActorID = -1

// Msg is an effect delivered to an actor: a signal, a storage I/O completion, a
// wake-up, a replication message. String names it in the trace.
type Msg interface{ String() string }

// Actor is a process: a value with explicit state whose every step is one
// atomic critical section. Actors never call each other; they emit effects
// through the Ctx, and the scheduler delivers them as later inputs. That is
// where reordering, delay, loss and crashes are injected without touching
// process code.
type Actor interface {
	// Name is node/process, e.g. "n2/bgw". It labels trace lines and forks the
	// actor's random stream.
	Name() string
	// Ready reports whether the actor has an internal step to take now. It
	// only reports (it changes nothing) and depends on the world's state,
	// not on virtual time, which actors see only in their steps: when no
	// actor is ready and time jumps to the next timer, the scheduler does
	// not ask again. A Sleeper (wake.go) is asked only when its last
	// answer may have changed.
	Ready() bool
	// Step takes one internal step.
	Step(c *Ctx)
	// Receive handles one delivered message as one step.
	Receive(c *Ctx, m Msg)
}

// Ctx is what a step may touch of the world outside its actor.
type Ctx struct {
	s    *Scheduler
	self ActorID
}

// Self returns the running actor's id.
func (c *Ctx) Self() ActorID { return c.self }

// Now returns virtual time.
func (c *Ctx) Now() Time { return c.s.now }

// StepNo returns the number of the step being taken.
func (c *Ctx) StepNo() uint64 { return c.s.step }

// Send delivers m to actor to in a later step.
func (c *Ctx) Send(to ActorID, m Msg) { c.s.send(c.self, to, m, 0, false) }

// SendAfter delivers m to actor to no earlier than delay ticks from now.
func (c *Ctx) SendAfter(to ActorID, m Msg, delay Time) { c.s.send(c.self, to, m, delay, false) }

// Wake delivers m to the running actor itself after delay ticks (a timer).
// Timers are not a channel: a short timer set after a long one fires first,
// and timers neither wait for nor hold back the actor's messages to itself.
func (c *Ctx) Wake(m Msg, delay Time) { c.s.send(c.self, c.self, m, delay, true) }

// Story, Log and Detail emit trace events at the three levels.
func (c *Ctx) Story(verb string, f ...Field)  { c.s.emit(c.self, LevelStory, verb, f) }
func (c *Ctx) Log(verb string, f ...Field)    { c.s.emit(c.self, LevelStep, verb, f) }
func (c *Ctx) Detail(verb string, f ...Field) { c.s.emit(c.self, LevelDetail, verb, f) }

// Mark records that a rare path was reached (coverage marks).
func (c *Ctx) Mark(name string) { c.s.marks.Hit(name) }

// Choose asks the run's Chooser for a value in [0, n).
func (c *Ctx) Choose(site Site, n int) int { return c.s.chooser.Choose(site, n) }

// Chance asks the run's Chooser for a decision of probability p.
func (c *Ctx) Chance(site Site, p Prob) bool { return c.s.chooser.Chance(site, p) }

// Site returns the site registered under label.
func (c *Ctx) Site(label string) Site { return c.s.sites.Get(label) }

// Spawn starts a new actor (postmaster forking a child). It may take steps
// from the next step on.
func (c *Ctx) Spawn(a Actor) ActorID { return c.s.Add(a) }

// Exit ends the running actor after this step: it takes no more steps and
// messages to it are dropped (a process exiting).
func (c *Ctx) Exit() { c.s.Kill(c.self) }

// Alive reports whether actor id is still running.
func (c *Ctx) Alive(id ActorID) bool { return c.s.Alive(id) }

// Kill ends another actor at once (postmaster's SIGKILL to its children in
// a crash or immediate shutdown).
func (c *Ctx) Kill(id ActorID) { c.s.Kill(id) }

// Actor returns another actor of the run (a postmaster looking at one of its
// children's shared state).
func (c *Ctx) Actor(id ActorID) Actor { return c.s.Actor(id) }
