package explore

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The pointer set holds what was added since the last reset, however many
// (it grows), and a reset empties it, also when the generation wraps.
func TestPtrSet(t *testing.T) {
	var s ptrSet
	require.True(t, s.add(8), "a new set takes adds before any reset")
	require.False(t, s.add(8))
	for round := range 3 {
		s.reset()
		for i := range uintptr(1000) {
			require.True(t, s.add(i*24+8), "round %d: %d is new", round, i)
		}
		for i := range uintptr(1000) {
			require.False(t, s.add(i*24+8), "round %d: %d is in", round, i)
		}
		require.True(t, s.add(7), "round %d", round)
	}
	s.gen = ^uint32(0) // the next reset wraps
	s.reset()
	require.True(t, s.add(8), "emptied across the wrap")
	require.True(t, s.add(32))
	require.False(t, s.add(8))
}
