package sim

import "fmt"

// searchState is the search's stack of choices: the path of the current
// run, each node a choice with its width and the option taken. Runs replay
// the stack and extend it; backtracking advances its deepest node that has
// an untried allowed option.
type searchState struct {
	nodes []searchNode
	masks []uint64 // the nodes' own-step bitmasks, in node order (a stack too)
	pos   int      // choices consumed by the current run
	pre   int      // preemptions spent by the current run
	k     int      // the preemption bound; -1: none
	// rev tries each choice's options last to first (Search.Reverse):
	// nodes keep the rank of the option in that order, opt maps it back.
	rev   bool
	floor int // nodes below it are the search's Prefix: never backtracked
	rep   *SearchReport
	// probe, in a driven search, looks at the world at each scheduling
	// decision before it is taken; lastStep is the step it last saw.
	probe    func(e Enabled)
	lastStep int
}

// searchNode is one choice. A scheduling choice under a preemption bound
// whose last actor had an enabled step keeps a bitmask of the options that
// are that actor's (the non-preemptive ones) at masks[mask:].
type searchNode struct {
	val, width int32
	pre        int32 // preemptions spent before this choice
	mask       int32 // offset in masks; -1 when every option is free
	sched      bool
}

func (n *searchNode) preempts(masks []uint64, i int) bool {
	return n.mask >= 0 && masks[int(n.mask)+i/64]&(1<<(i%64)) == 0
}

// opt is the option a node's rank r stands for: r itself, or counted from
// the last option in a reversed search (the map is its own inverse).
func (st *searchState) opt(n *searchNode, r int) int {
	if st.rev {
		return int(n.width) - 1 - r
	}
	return r
}

// allowed returns the first option at or after from that the bound allows,
// or -1, counting the ones it skips.
func (st *searchState) allowed(n *searchNode, from int) int {
	for i := from; i < int(n.width); i++ {
		if st.k < 0 || int(n.pre) < st.k || !n.preempts(st.masks, st.opt(n, i)) {
			return i
		}
		st.rep.Preempted++
	}
	return -1
}

// take answers one choice of width n (e is the candidate view of a
// scheduling choice, nil for the others).
func (st *searchState) take(n int, e *Enabled, prefix []int) int {
	if e != nil && st.probe != nil {
		st.probe(*e)
	}
	if st.pos < len(st.nodes) {
		nd := &st.nodes[st.pos]
		if int(nd.width) != n || nd.sched != (e != nil) {
			panic(&NondeterministicWorld{Msg: fmt.Sprintf("choice %d had %d options (scheduling: %v), now %d (%v)", st.pos, nd.width, nd.sched, n, e != nil)})
		}
		st.pos++
		v := st.opt(nd, int(nd.val))
		if nd.preempts(st.masks, v) {
			st.pre++
		}
		return v
	}
	nd := searchNode{width: int32(n), pre: int32(st.pre), mask: -1, sched: e != nil}
	if e != nil && st.k >= 0 {
		st.ownMask(&nd, e)
	}
	// Some option is always allowed: the last actor's own steps are free,
	// and when it has none every option is. A prefix's choice is taken as
	// given (a run within the same bound chose it).
	if st.pos < len(prefix) {
		if prefix[st.pos] < 0 || prefix[st.pos] >= n {
			panic(&NondeterministicWorld{Msg: fmt.Sprintf("prefix choice %d is %d of %d options", st.pos, prefix[st.pos], n)})
		}
		nd.val = int32(st.opt(&nd, prefix[st.pos]))
	} else {
		nd.val = int32(st.allowed(&nd, 0))
	}
	st.nodes = append(st.nodes, nd)
	st.pos++
	v := st.opt(&nd, int(nd.val))
	if nd.preempts(st.masks, v) {
		st.pre++
	}
	return v
}

// ownMask marks the options that are steps of the actor that ran last; a
// node whose last actor has none keeps no mask (every switch is free).
func (st *searchState) ownMask(nd *searchNode, e *Enabled) {
	last := e.Last()
	if last < 0 || !e.Has(last) {
		return
	}
	nd.mask = int32(len(st.masks))
	for w := 0; w*64 < e.Len(); w++ {
		st.masks = append(st.masks, 0)
	}
	for i := range e.Len() {
		if e.Actor(i) == last {
			st.masks[int(nd.mask)+i/64] |= 1 << (i % 64)
		}
	}
}

// backtrack advances the deepest node with an untried allowed option,
// dropping the exhausted ones below it; false when none is left.
func (st *searchState) backtrack() bool {
	for len(st.nodes) > st.floor {
		nd := &st.nodes[len(st.nodes)-1]
		if v := st.allowed(nd, int(nd.val)+1); v >= 0 {
			nd.val = int32(v)
			return true
		}
		if nd.mask >= 0 {
			st.masks = st.masks[:nd.mask]
		}
		st.nodes = st.nodes[:len(st.nodes)-1]
	}
	return false
}

// replayEnd is the last choice a run replays: the node backtrack just
// advanced, or the prefix's last (a first run replays its prefix).
func (st *searchState) replayEnd(prefix []int) int {
	return max(len(st.nodes), len(prefix)) - 1
}

// script returns the choices consumed so far: a Scripted replay of the run.
func (st *searchState) script() []int {
	out := make([]int, st.pos)
	for i := range out {
		out[i] = st.opt(&st.nodes[i], int(st.nodes[i].val))
	}
	return out
}

// searchChooser is the Chooser of one search run. It mirrors Scripted's
// rules exactly (a single option and a certain or impossible chance consume
// nothing), so the script of a failing run replays under Scripted.
type searchChooser struct {
	st     *searchState
	prefix []int
}

func (c searchChooser) Choose(_ Site, n int) int {
	if n == 1 {
		return 0
	}
	return c.st.take(n, nil, c.prefix)
}

func (c searchChooser) Chance(_ Site, p Prob) bool {
	if p.Num == 0 || p.Num >= p.Den {
		return p.Num != 0
	}
	return c.st.take(2, nil, c.prefix) == 1
}

func (c searchChooser) ChooseStep(_ Site, e Enabled) int { return c.st.take(e.Len(), &e, c.prefix) }
