package startup_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/shmem"
	"promotesim/startup"
)

// The default sequence of each profile and fidelity, run by sequence.go,
// gives the hard-wired path's trace byte for byte (the control-file
// window split in steps and the end check before the restartpoint
// included), and a reordered one really runs in its order.
func TestDefaultSequenceSameTrace(t *testing.T) {
	for _, prof := range []shmem.Profile{shmem.ProfileV15, shmem.ProfileV11} {
		for _, fid := range []shmem.Fidelity{{}, shmem.FaithfulV15()} {
			seq := shmem.DefaultSequence(prof, fid).String()
			promoted := 0
			for seed := uint64(1); seed <= 40; seed++ {
				exited := 0
				trace := func(sequence string) string {
					w := seedWorldWith(t, seed, prof, func(o *worldOpts) { o.fidelity, o.sequence = fid, sequence })
					r := w.s.RunUntil(w.exited, 20000)
					if w.proc.State() == startup.StateExited {
						exited++
					}
					return fmt.Sprintf("%s\n%v %v", w.trace.String(), r, w.proc.State())
				}
				require.Equal(t, trace(""), trace(seq), "%v %+v seed %d: %s", prof, fid, seed, seq)
				promoted += exited / 2
			}
			require.Greater(t, promoted, 20, "%v %+v: most worlds promote", prof, fid)
		}
	}
}

func TestSequenceRunsItsOrder(t *testing.T) {
	// V11's late reset in the v15 profile: recovery done, then the reset.
	seq := "final-replay.restartpoint.wait-reset.check-end+open-wal.promote-data.end-of-recovery." +
		"in-production+node-type+recovery-done.reset-bgw"
	w := seedWorldWith(t, 3, shmem.ProfileV15, func(o *worldOpts) { o.sequence = seq })
	w.s.RunUntil(w.exited, 20000)
	tr := w.trace.String()
	require.Contains(t, tr, "reset-bgw")
	require.Less(t, strings.Index(tr, "recovery-done"), strings.Index(tr, "reset-bgw"), "the sequence's order, not V15's")
	_, err := shmem.ParseSequence("final-replay.nosuch")
	require.Error(t, err)
	cfg := shmem.DefaultConfig(2)
	cfg.Sequence = "wait-reset+final-replay"
	require.ErrorContains(t, cfg.Validate(), "stand alone")
}
