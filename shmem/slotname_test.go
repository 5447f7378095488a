package shmem

import (
	"fmt"
	"testing"

	"promotesim/storage"
)

// SlotName prints what fmt's "replica%d" of the host's index did: slot
// files on storage and traces carry the name.
func TestSlotNameMatchesFmt(t *testing.T) {
	for h := range 256 {
		if got, want := SlotName(storage.HostID(h)), fmt.Sprintf("replica%d", h-1); got != want {
			t.Errorf("SlotName(%d) = %q, fmt %q", h, got, want)
		}
	}
}
