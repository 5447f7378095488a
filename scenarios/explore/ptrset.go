package explore

// ptrSet is the set of addresses one fingerprint has reached, so a shared
// object is hashed once (where first reached). It is an open-addressing
// table emptied by bumping a generation instead of clearing, since every
// fingerprint starts it afresh and reaches a few hundred pointers (a Go
// map's lookups, inserts and clears were about 3% of the search's
// instructions: BenchmarkExhaustiveP0 went from 16.03G to 15.50G).
type ptrSet struct {
	keys []uintptr
	gens []uint32 // keys[i] is in the set when gens[i] == gen
	gen  uint32
	n    int
}

// reset empties the set.
func (s *ptrSet) reset() {
	s.gen++
	s.n = 0
	if s.gen == 0 { // wrapped: no stale generation may match
		clear(s.gens)
		s.gen = 1
	}
}

// add puts p in the set and reports whether it was not there.
func (s *ptrSet) add(p uintptr) bool {
	if 2*(s.n+1) > len(s.keys) {
		s.grow()
	}
	mask := uintptr(len(s.keys) - 1)
	for i := uintptr(uint64(p)*0x9E3779B97F4A7C15>>17) & mask; ; i = (i + 1) & mask {
		if s.gens[i] != s.gen {
			s.keys[i], s.gens[i] = p, s.gen
			s.n++
			return true
		}
		if s.keys[i] == p {
			return false
		}
	}
}

// grow doubles the table (at least 256 slots), keeping its members.
func (s *ptrSet) grow() {
	keys, gens, gen := s.keys, s.gens, s.gen
	n := max(256, 2*len(keys))
	s.keys, s.gens, s.n = make([]uintptr, n), make([]uint32, n), 0
	if s.gen == 0 {
		s.gen = 1
	}
	for i, k := range keys {
		if gens[i] == gen {
			s.add(k)
		}
	}
}
