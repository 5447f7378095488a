package sim

// This is the one file in the core packages that builds random sources. Every
// stream is a splitmix64 generator; its outputs are pinned by a golden test, so
// a seed printed today reproduces the same world with any future Go release
// (math/rand makes no such promise across versions).

// Rand is a deterministic stream of pseudo-random numbers.
type Rand struct {
	seed  uint64 // the stream's identity; forks derive from it, not from state
	state uint64
}

// NewRand returns the root stream of a run.
func NewRand(seed uint64) *Rand { return &Rand{seed: seed, state: seed} }

// Seed returns the value the stream was created from.
func (r *Rand) Seed() uint64 { return r.seed }

// Fork returns an independent stream named by label. It depends only on this
// stream's seed and the label, never on how much was drawn so far, so adding a
// consumer in one place does not change what another place draws and old seeds
// keep reproducing.
func (r *Rand) Fork(label string) *Rand {
	s := mix64(r.seed ^ fnv64(label))
	return &Rand{seed: s, state: s}
}

// Uint64 returns the next value of the stream.
func (r *Rand) Uint64() uint64 {
	r.state += 0x9E3779B97F4A7C15
	return mix64(r.state)
}

// Intn returns a value in [0, n). n must be positive.
func (r *Rand) Intn(n int) int {
	if n <= 0 {
		Failf("sim: Intn(%d)", n)
	}
	// Rejection sampling keeps the distribution exact; the loop ends with
	// probability 1 and almost always on the first draw.
	un := uint64(n)
	limit := ^uint64(0) - (^uint64(0) % un)
	for {
		v := r.Uint64()
		if v < limit {
			return int(v % un)
		}
	}
}

// Chance returns true with probability p.
func (r *Rand) Chance(p Prob) bool {
	if p.Num == 0 {
		return false
	}
	return uint32(r.Intn(int(p.Den))) < p.Num
}

// Prob is an integer-only probability Num/Den: no floating point anywhere a
// decision is made, so no platform can round a decision differently.
type Prob struct{ Num, Den uint32 }

// Per returns the probability num/den.
func Per(num, den uint32) Prob {
	if den == 0 || num > den {
		Failf("sim: bad probability %d/%d", num, den)
	}
	return Prob{num, den}
}

// Never is the probability 0.
var Never = Prob{0, 1}

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// fnv64 is FNV-1a: a stable hash of a label.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
