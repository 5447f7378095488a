package storage

import (
	"fmt"
	"testing"
)

// The hand-built String methods print exactly what the fmt verbs they
// replace print: traces and counterexample files carry these strings, so
// one byte of difference would change every trace hash.
func TestStringsMatchFmt(t *testing.T) {
	vals := []uint64{0, 1, 9, 10, 15, 16, 0xA8, 0x1A8, 0xFFFF, 0x10000, 0xFFFFFFFF, 0x100000000, 0x1_0000_01A8, 0xDEADBEEF_CAFEF00D, 1<<64 - 1}
	for _, v := range vals {
		l := LSN(v)
		if got, want := l.String(), fmt.Sprintf("%X/%X", v>>32, v&0xFFFFFFFF); got != want {
			t.Errorf("LSN(%#x) = %q, fmt %q", v, got, want)
		}
		for _, w := range []int{0, 1, 8, 16} {
			if got, want := string(AppendHex(nil, v, w)), fmt.Sprintf("%0*X", w, v); got != want {
				t.Errorf("AppendHex(%#x, %d) = %q, fmt %q", v, w, got, want)
			}
		}
		p := PageID{Rel: RelID(v), Block: BlockNo(v >> 7)}
		if got, want := p.String(), fmt.Sprintf("%d/%d", p.Rel, p.Block); got != want {
			t.Errorf("PageID %v = %q, fmt %q", p, got, want)
		}
	}
	for h := range 256 {
		if got, want := HostID(h).String(), fmt.Sprintf("n%d", h); got != want {
			t.Errorf("HostID(%d) = %q, fmt %q", h, got, want)
		}
	}
}
