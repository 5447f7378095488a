package scenarios

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"promotesim/scenarios/check"
)

// The README's checker table is the claim catalogue (check.Claims), row by
// row: the same names in the same order, the same text, "(full)" on the
// whole-state claims. Change the catalogue, then the table.
func TestReadmeClaimTableIsTheCatalogue(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	var want []string
	for _, c := range check.Claims() {
		name := c.Name
		if !c.PerStep() {
			name += " (full)"
		}
		want = append(want, "| "+name+" | "+c.Text+" |")
	}
	var got []string
	in := false
	for _, l := range strings.Split(string(data), "\n") {
		switch {
		case l == "| checker | claim |":
			in = true
		case in && strings.HasPrefix(l, "|---"):
		case in && strings.HasPrefix(l, "| "):
			got = append(got, l)
		case in:
			in = false
		}
	}
	require.Equal(t, want, got, "README.md's checker table, as the catalogue has it:\n%s", strings.Join(want, "\n"))
}
