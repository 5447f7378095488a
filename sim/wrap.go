package sim

// Chooser wrappers: each decorates another chooser for one purpose of a
// search harness (the shrinker's cap, the exhaustive check's gate and its
// split of the tree across workers). They are deterministic: what they
// answer depends only on the choices asked so far.

// Capped bounds a run's meaningful choices: past Max choices with more
// than one option (or chances strictly between never and always) it
// panics with TooManyChoices, which a harness recovers as "this candidate
// ran too long". A shrinking candidate that misses the failure would
// otherwise run its whole remaining world.
type Capped struct {
	Inner Chooser
	Max   int
	n     int
}

// TooManyChoices is the panic value of a Capped chooser past its Max.
type TooManyChoices struct{}

func (c *Capped) count() {
	c.n++
	if c.n > c.Max {
		panic(TooManyChoices{})
	}
}

// Choose counts a choice with more than one option, then asks Inner.
func (c *Capped) Choose(site Site, n int) int {
	if n > 1 {
		c.count()
	}
	return c.Inner.Choose(site, n)
}

// ChooseStep counts the scheduling choice (it always has two or more
// options), then asks Inner with the candidate view.
func (c *Capped) ChooseStep(site Site, e Enabled) int {
	c.count()
	return ChooseStep(c.Inner, site, e)
}

// Chance counts a chance that could go either way, then asks Inner.
func (c *Capped) Chance(site Site, p Prob) bool {
	if p.Num != 0 && p.Num < p.Den {
		c.count()
	}
	return c.Inner.Chance(site, p)
}

// Gate passes choices to Inner only while Open; while closed every choice
// is 0 and every chance false (the FIFO, boring answer), so a search
// spends its depth on the window it opens the gate for.
type Gate struct {
	Inner Chooser
	Open  bool
}

// Choose asks Inner while open, else returns 0.
func (g *Gate) Choose(site Site, n int) int {
	if !g.Open {
		return 0
	}
	return g.Inner.Choose(site, n)
}

// ChooseStep asks Inner with the candidate view while open, else returns 0.
func (g *Gate) ChooseStep(site Site, e Enabled) int {
	if !g.Open {
		return 0
	}
	return ChooseStep(g.Inner, site, e)
}

// Chance asks Inner while open, else returns false.
func (g *Gate) Chance(site Site, p Prob) bool {
	if !g.Open {
		return false
	}
	return g.Inner.Chance(site, p)
}

// Pinned forces the first choice with more than one option to First and
// hands every later one to Inner: one worker's share of an enumerated
// tree. It records the first choice's width; a First beyond it answers
// the last option, and the caller, seeing First >= Width, stops.
type Pinned struct {
	First int
	Inner Chooser
	// Width is the first choice's number of options; Done says the first
	// choice was made.
	Width int
	Done  bool
}

// Choose pins the first real choice, then asks Inner.
func (p *Pinned) Choose(site Site, n int) int {
	if n == 1 {
		return 0
	}
	if !p.Done {
		p.Done = true
		p.Width = n
		if p.First >= n {
			return n - 1 // out of this world's range: the caller stops
		}
		return p.First
	}
	return p.Inner.Choose(site, n)
}

// ChooseStep pins the scheduling choice when it is the first real one,
// else asks Inner with the candidate view.
func (p *Pinned) ChooseStep(site Site, e Enabled) int {
	if !p.Done {
		return p.Choose(site, e.Len())
	}
	return ChooseStep(p.Inner, site, e)
}

// Chance is a choice between false and true, unless it cannot go either
// way.
func (p *Pinned) Chance(site Site, pr Prob) bool {
	if pr.Num == 0 || pr.Num >= pr.Den {
		return pr.Num != 0
	}
	return p.Choose(site, 2) == 1
}

// Fair runs a scheduling strategy until GoFair, then answers the
// scheduling choice from Uniform (a seeded Random): a run's liveness
// phase. Liveness claims (the promote completes, the primary serves) hold
// only under a fair scheduler, and PCT and the preemption walk are unfair
// by design before their steps estimate runs out: the walk keeps an
// always-ready process (a WAL receiver retrying a primary that is down)
// running and starves the rest. Every other choice still goes to Inner, so
// a seed's faults do not change at the switch.
type Fair struct {
	Inner   Chooser
	Uniform Chooser
	fair    bool
}

// GoFair switches the scheduling choice to Uniform for the rest of the run.
func (f *Fair) GoFair() { f.fair = true }

// Choose asks Inner.
func (f *Fair) Choose(site Site, n int) int { return f.Inner.Choose(site, n) }

// Chance asks Inner.
func (f *Fair) Chance(site Site, p Prob) bool { return f.Inner.Chance(site, p) }

// ChooseStep asks the strategy, or Uniform once fair.
func (f *Fair) ChooseStep(site Site, e Enabled) int {
	if f.fair {
		return ChooseStep(f.Uniform, site, e)
	}
	return ChooseStep(f.Inner, site, e)
}

// FindFair returns the Fair chooser c is or wraps (through a Recorder and
// the wrappers of this file), or nil: a liveness phase switches it on
// whatever harness wrapped it.
func FindFair(c Chooser) *Fair {
	for c != nil {
		switch x := c.(type) {
		case *Fair:
			return x
		case *Recorder:
			c = x.Inner
		case *Capped:
			c = x.Inner
		case *Gate:
			c = x.Inner
		case *Pinned:
			c = x.Inner
		default:
			return nil
		}
	}
	return nil
}
