package explore

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// nestMap holds maps of its own type: its walks take the shared pair at
// the outer map and a fresh one at every inner map.
type nestMap map[int]nestMap

type nestHolder struct{ M nestMap }

// The shared pair goes to one walk at a time: a nested take gets a fresh
// pair, and the shared one is free again once its walk releases it.
func TestMapIterNested(t *testing.T) {
	it := newMapIter(reflect.TypeOf(nestMap{}))
	k1, _, shared := it.take()
	require.True(t, shared)
	k2, _, inner := it.take()
	require.False(t, inner)
	require.NotEqual(t, k1.Addr().UnsafePointer(), k2.Addr().UnsafePointer())
	it.release(inner)
	it.release(shared)
	k3, _, again := it.take()
	require.True(t, again)
	require.Equal(t, k1.Addr().UnsafePointer(), k3.Addr().UnsafePointer())
}

// A map nested in its own type hashes by every level and copies whole:
// the inner walks, on fresh pairs, do not overwrite the outer walk's key
// and value.
func TestNestedMapsHashAndCopy(t *testing.T) {
	a := &nestHolder{M: nestMap{1: {2: {}, 3: {4: nil}}, 5: {}}}
	b := &nestHolder{M: nestMap{1: {2: {}, 3: {}}, 5: {}}}
	hs := newStateHasher()
	hash := func(x any) uint64 { hs.seen.reset(); return hs.dynamic(x) } // as a world's fingerprint starts
	ha, hb := hash(a), hash(b)
	require.NotEqual(t, ha, hb, "an inner entry is state")
	require.Equal(t, ha, hash(a))
	c, err := newCopier().clonePtr(a)
	require.NoError(t, err)
	require.Equal(t, a, c)
	require.Equal(t, ha, hash(c))
}
