package logindex

import (
	"fmt"
	"testing"
)

// SegmentName prints what XLogFileName's format does (and what it printed
// through fmt before): segment files on the device are named by it.
func TestSegmentNameMatchesFmt(t *testing.T) {
	for _, size := range []int64{1 << 10, 1 << 16, 16 << 20, 1 << 30} {
		perID := uint64(0x100000000) / uint64(size)
		for _, segno := range []uint64{0, 1, 2, 15, 16, 255, 256, perID - 1, perID, perID + 1, 3*perID + 7, 1 << 40} {
			want := fmt.Sprintf("pg_wal/%08X%08X%08X", timeline, segno/perID, segno%perID)
			if got := SegmentName(segno, size); got != want {
				t.Errorf("SegmentName(%d, %d) = %q, fmt %q", segno, size, got, want)
			}
			if got := string(AppendSegmentName([]byte("x"), segno, size)); got != "x"+want {
				t.Errorf("AppendSegmentName(x, %d, %d) = %q, want x%s", segno, size, got, want)
			}
		}
	}
}
