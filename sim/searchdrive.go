package sim

import "fmt"

// searchAbort is the panic that ends a driven run the search has pruned or
// cut at its depth bound.
type searchAbort struct{ truncated bool }

// runDrive is run for a Search with Drive: the world runs itself, and the
// search looks at it from its chooser, at every scheduling decision.
func (s *Search[W]) runDrive(st *searchState, seen Visited, _ bool) bool {
	rep := st.rep
	div := st.replayEnd(s.Prefix)
	st.pos, st.pre = 0, 0
	rep.Runs++
	st.probe = nil // decisions made while New builds the world are not states yet
	w := s.New(searchChooser{st, s.Prefix})
	st.probe = func(e Enabled) { s.probe(st, seen, w, e, div) }
	defer func() { st.probe = nil }()
	v, aborted := s.drive(w)
	if aborted {
		return false
	}
	if st.pos <= div {
		panic(&NondeterministicWorld{Msg: fmt.Sprintf("the world ended after %d choices of a %d-choice prefix (%v)", st.pos, div+1, v)})
	}
	if v == nil {
		rep.Ended++
		return false
	}
	depth := int(v.Step)
	if depth == 0 {
		depth = st.lastStep
	}
	s.fail(st, v, depth)
	return s.StopAtFirst
}

// probe is the search's look at a driven world at a scheduling decision:
// past the replayed prefix it prunes a state explored before with as much
// budget, and cuts a run at the depth bound.
func (s *Search[W]) probe(st *searchState, seen Visited, w W, e Enabled, div int) {
	rep := st.rep
	if st.pos <= div {
		rep.Replayed++
		return
	}
	depth := int(e.Step())
	st.lastStep = depth
	rep.Transitions++
	rep.MaxDepth = max(rep.MaxDepth, depth)
	if s.MaxDepth > 0 && depth >= s.MaxDepth {
		rep.Truncated++
		panic(searchAbort{truncated: true})
	}
	if s.Split > 0 && st.pos >= s.Split {
		rep.Transitions-- // the subtree's own search takes this step
		rep.Split++
		s.Frontier(st.script())
		panic(searchAbort{})
	}
	if !s.visit(seen, s.Fingerprint(w), depth, st.pre) {
		rep.Revisits++
		panic(searchAbort{})
	}
	rep.States = seen.Len()
}

// drive runs Drive, turning the search's own abort into aborted and a failed
// assertion into a violation "assert".
func (s *Search[W]) drive(w W) (v *Violation, aborted bool) {
	defer func() {
		if e := recover(); e != nil {
			switch x := e.(type) {
			case searchAbort:
				aborted = true
			case *AssertionError:
				v = &Violation{Checker: "assert", Err: x}
			default:
				panic(e)
			}
		}
	}()
	return s.Drive(w), false
}
