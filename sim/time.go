package sim

import "strconv"

// Time is virtual time in ticks. The scheduler owns the only clock: every step
// takes one tick, and an idle world jumps to its next timer.
type Time int64

func (t Time) String() string { return strconv.FormatInt(int64(t), 10) }
