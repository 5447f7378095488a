package shmem

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// v15-fixed with every faithful switch applied is v15: the switches are
// the whole difference between the profiles, so a new correction in
// FixedOrderingsFor or a new Fidelity point without its switch fails here.
// v11-fixed keeps V15's fixes of V11's own two bugs (the backend wait and
// the reset's eviction, docs/findings.md V11-1 and V11-2): those are its
// hazards' business, not a switch's.
func TestFaithfulSwitchesMakeV15(t *testing.T) {
	all := strings.Join(FaithfulNames(), ",")
	c := Config{Orderings: FixedOrderingsFor(ProfileV15)}
	require.NoError(t, c.ApplyFaithful(all))
	require.Equal(t, OrderingsFor(ProfileV15), c.Orderings)
	require.Equal(t, FaithfulV15(), c.Fidelity)

	v11 := Config{Orderings: FixedOrderingsFor(ProfileV11)}
	require.NoError(t, v11.ApplyFaithful(all))
	want := OrderingsFor(ProfileV11)
	want.WaitBackends, want.EvictStale = true, true
	require.Equal(t, want, v11.Orderings)
}

// Each switch changes its one point and nothing else, and a list is read
// in any order into the canonical one.
func TestFaithfulSwitchesOneEach(t *testing.T) {
	seen := map[string]bool{}
	for _, sw := range faithfulSwitches {
		c := Config{Orderings: FixedOrderingsFor(ProfileV15)}
		sw.set(&c)
		key := strings.TrimSpace(strings.Join([]string{fieldDiff(c.Orderings, FixedOrderingsFor(ProfileV15)), fieldDiff(c.Fidelity, Fidelity{})}, " "))
		require.NotEmpty(t, key, "%s changes nothing", sw.name)
		require.NotContains(t, key, " ", "%s changes more than one point: %s", sw.name, key)
		require.False(t, seen[key], "%s changes what another switch does (%s)", sw.name, key)
		seen[key] = true
		// A switch goes alone unless it needs others, and then with them.
		_, err := ParseFaithful(sw.name)
		if len(sw.needs) == 0 {
			require.NoError(t, err)
			continue
		}
		require.ErrorContains(t, err, fmt.Sprintf("faithful switch %q needs %q too: ", sw.name, sw.needs[0]))
		_, err = ParseFaithful(strings.Join(append([]string{sw.name}, closure(sw.needs)...), ","))
		require.NoError(t, err, sw.name)
	}
	got, err := ParseFaithful("promote-writes-no-twophase-files,unchecked-bgw-state")
	require.NoError(t, err)
	require.Equal(t, "unchecked-bgw-state,promote-writes-no-twophase-files", got)
	_, err = ParseFaithful("unchecked-bgw-state,nosuch")
	require.ErrorContains(t, err, `faithful switch "nosuch": want one of unchecked-bgw-state, `)
	_, err = ParseFaithful("promote-one-shot,promote-one-shot")
	require.ErrorContains(t, err, "named twice")
	_, err = ParseFaithful("promote-one-shot,")
	require.ErrorContains(t, err, `faithful switch ""`)
}

// closure is names and everything they need, transitively.
func closure(names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, n)
		for _, sw := range faithfulSwitches {
			if sw.name == n {
				out = append(out, closure(sw.needs)...)
			}
		}
	}
	return out
}

// fieldDiff names the bool fields of two structs of one type that differ,
// space-separated.
func fieldDiff(a, b any) string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := 0; i < va.NumField(); i++ {
		if va.Field(i).Kind() == reflect.Bool && va.Field(i).Bool() != vb.Field(i).Bool() {
			out = append(out, va.Type().Field(i).Name)
		}
	}
	return strings.Join(out, " ")
}
