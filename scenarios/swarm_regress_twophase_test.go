package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/script"
	"promotesim/sim"
)

// A logical slot's creation whose write fails (an injected I/O error) left
// an empty slot file, and the next promote's slot reload FATALed on it
// (seed 562 of the first soak with ClassLogical, NoUnexpectedExit).
// PolarDB creates a slot in a .tmp directory and renames it once saved, so
// a failed creation leaves nothing a reload reads; the model now ignores
// the empty leftover.
//
// The world seed 562 derived is testdata/regressions/
// failed-logical-slot-creation-562.txt (TestRegressions); this is the path
// itself.
func TestFailedLogicalSlotCreationIsIgnored(t *testing.T) {
	r := script.NewRunner(562, sim.LevelStory, sim.FormatText)
	fixture.RunLines(t, r, `cluster nodes=3 pages=4 pool=6 queue=8 logindex-mem=4 table-size=16 batch=2 workers=4 sessions=1 fence=none profile=v15 seed=562 sched=fifo
fault node=1 kind=io-error op=write path= count=1
create-logical-slot node=1 name=l2
promote node=3
run-until read-write node=3
logical-slots node=3
check all`)
	require.Empty(t, r.C.Node(3).LogicalSlots)
}
