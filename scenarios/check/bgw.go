package check

import (
	"fmt"

	"promotesim/shmem"
)

// bgwTransitions checks the last state change whenever the BGW's change
// count grew. Startup's reset is counted too, from whatever state it found
// (a hazard may force it from the wrong one).
func (k *Checks) bgwTransitions() error {
	for i, n := range k.c.AllNodes() {
		if n == nil {
			continue
		}
		hs := k.host(i, n)
		count, from, to := n.BGW.Transitions()
		if hs.bgw != n {
			hs.bgw, hs.transitions = n, 0
		}
		if count == hs.transitions {
			continue
		}
		k.hit(cBGWLegalTransitions)
		grew := count - hs.transitions
		hs.transitions = count
		if !shmem.LegalBGWTransition(from, to) {
			return fmt.Errorf("%v BGW moved %v -> %v (transition %d)", n.Cfg.Host, from, to, count)
		}
		if grew > 1 {
			// Several changes in one step: only the last is visible.
			// None of the model's steps makes more than one.
			return fmt.Errorf("%v BGW changed state %d times in one step (last %v -> %v)", n.Cfg.Host, grew, from, to)
		}
	}
	return nil
}

// replayPointMonotone: bg_replayed_lsn moves back only when the reset
// count grew (startup's polar_reset_bg_replayed_lsn).
func (k *Checks) replayPointMonotone() error {
	for i, n := range k.c.AllNodes() {
		if n == nil {
			continue
		}
		hs := k.host(i, n)
		rp, resets := n.BGW.ReplayPoint(), n.BGW.Resets()
		if hs.rp != n {
			hs.rp, hs.replay, hs.resets = n, rp, resets
			continue
		}
		if rp != hs.replay {
			k.hit(cReplayPointMonotone)
		}
		if rp < hs.replay && resets == hs.resets {
			return fmt.Errorf("%v BGW replay point moved back from %v to %v without a reset (bgw %v)", n.Cfg.Host, hs.replay, rp, n.BGW.State())
		}
		hs.replay, hs.resets = rp, resets
	}
	return nil
}

// fakeOldestMonotone: replayed_oldest_lsn never decreases within one
// node's life, across the reset too: the reset only raises it to the
// replay start (PolarDB sets it to the checkpoint redo, which is at or
// above anything handed out before, since replicas hand out none), and
// buffers dirtied during promote take it as their oldest LSN, so a lower
// value would be a flush-list order violation waiting to happen.
func (k *Checks) fakeOldestMonotone() error {
	for i, n := range k.c.AllNodes() {
		if n == nil {
			continue
		}
		hs := k.host(i, n)
		f := n.BGW.FakeOldest()
		if hs.fake != n {
			hs.fake, hs.fakeOldest = n, f
			continue
		}
		if f != hs.fakeOldest {
			k.hit(cFakeOldestMonotone)
		}
		if f < hs.fakeOldest {
			return fmt.Errorf("%v fake oldest LSN decreased from %v to %v (bgw %v)", n.Cfg.Host, hs.fakeOldest, f, n.BGW.State())
		}
		hs.fakeOldest = f
	}
	return nil
}
