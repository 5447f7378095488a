package explore

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// TuneGC sets the collector's percent and its restore puts the old one
// back; a GOGC in the environment wins, and then nothing changes.
func TestTuneGC(t *testing.T) {
	gcPercent := func() int { p := debug.SetGCPercent(-1); debug.SetGCPercent(p); return p }
	before := gcPercent()
	t.Setenv("GOGC", "")
	restore := TuneGC(before + 123)
	require.Equal(t, before+123, gcPercent())
	restore()
	require.Equal(t, before, gcPercent())
	t.Setenv("GOGC", "50")
	restore = TuneGC(before + 123)
	require.Equal(t, before, gcPercent(), "the environment's GOGC wins")
	restore()
	require.Equal(t, before, gcPercent())
}
