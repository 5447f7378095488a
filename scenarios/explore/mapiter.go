package explore

import "reflect"

// mapIter is a key and a value to iterate maps of one type into, shared by
// every walk of that type (the fingerprint's and the copier's): a fresh
// pair a walk would allocate is two allocations a map a fingerprint or a
// copy. take hands out the shared pair, or a fresh one while a walk of the
// same type is already using it (a map nested in its own type's value);
// release with what take said. Iterating reuses the pair: SetIterKey and
// SetIterValue overwrite it, and what is read from it is copied out
// (hashed, or copied in by SetMapIndex) before the next entry.
type mapIter struct {
	t    reflect.Type
	k, v reflect.Value
	busy bool
}

func newMapIter(t reflect.Type) *mapIter {
	return &mapIter{t: t, k: reflect.New(t.Key()).Elem(), v: reflect.New(t.Elem()).Elem()}
}

// take returns a key and a value to iterate into, and whether they are
// the shared pair (to hand back to release).
func (m *mapIter) take() (k, v reflect.Value, shared bool) {
	if m.busy {
		return reflect.New(m.t.Key()).Elem(), reflect.New(m.t.Elem()).Elem(), false
	}
	m.busy = true
	return m.k, m.v, true
}

// release ends a take.
func (m *mapIter) release(shared bool) {
	if shared {
		m.busy = false
	}
}
