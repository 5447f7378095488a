package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/internal/fixture"
	"promotesim/scenarios/script"
	"promotesim/scenarios/swarm"
	"promotesim/sim"
	"promotesim/storage"
)

// A logical slot's creation whose write fails (an injected I/O error) left
// an empty slot file, and the next promote's slot reload FATALed on it
// (seed 562 of the first soak with ClassLogical, NoUnexpectedExit).
// PolarDB creates a slot in a .tmp directory and renames it once saved, so
// a failed creation leaves nothing a reload reads; the model now ignores
// the empty leftover.
func TestFailedLogicalSlotCreationIsIgnored(t *testing.T) {
	sw, err := swarm.DeriveSwarm(562, swarm.Base{})
	require.NoError(t, err)
	o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
	require.NoError(t, err)
	require.Nil(t, o.Violation, "%s", failureIf(o))

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

// get_changes whose slot save failed (an injected sync error) told the
// client an ERROR, yet the slot had moved (in PolarDB too:
// LogicalConfirmReceivedLocation updates it in memory before
// ReplicationSlotSave), and a reload found it past the last acknowledged
// position. LogicalSlotsSurvive now forbids only falling behind it (seed
// 797, fence epoch).
func TestLogicalSlotPastAckAfterFailedSave(t *testing.T) {
	sw, err := swarm.DeriveSwarm(797, swarm.Base{Fence: storage.FenceEpoch})
	require.NoError(t, err)
	o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
	require.NoError(t, err)
	require.Nil(t, o.Violation, "%s", failureIf(o))
}

// A checkpoint's state-file write failed (an injected write error) and the
// checkpointer PANICked; the empty file it left made every later start FATAL
// in restoreTwoPhaseData (seed 7658 of a 20,000-seed soak,
// NoUnexpectedExit). PolarDB leaves it so too (RecreateTwoPhaseFile opens
// with O_TRUNC; Fidelity.TwoPhaseFileLeftOnWriteError); the model's default
// removes the leftover, and recovery finds the PREPARE record again.
func TestFailedStateFileWriteLeavesNoLeftover(t *testing.T) {
	sw, err := swarm.DeriveSwarm(7658, swarm.Base{})
	require.NoError(t, err)
	o, err := swarm.RunSwarm(sw, swarm.RunConfig{})
	require.NoError(t, err)
	require.Nil(t, o.Violation, "%s", failureIf(o))
}
