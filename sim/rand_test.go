package sim

import "testing"

// These values are the contract that old seeds keep reproducing: they were
// computed once and must never change. NewRand(0) and NewRand(1) match the
// published splitmix64 reference outputs.
func TestRandGolden(t *testing.T) {
	check := func(name string, r *Rand, want ...uint64) {
		t.Helper()
		for i, w := range want {
			if got := r.Uint64(); got != w {
				t.Fatalf("%s output %d = %#016x, want %#016x: the random streams changed, and every recorded seed with them", name, i, got, w)
			}
		}
	}
	check("NewRand(0)", NewRand(0), 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4)
	check("NewRand(1)", NewRand(1), 0x910a2dec89025cc1, 0xbeeb8da1658eec67, 0xf893a2eefb32555e, 0x71c18690ee42c90b)
	for _, c := range []struct {
		label string
		want  [3]uint64
	}{
		{"chooser", [3]uint64{0x4f448706b0e53b00, 0x6e0cbe66f152f4c4, 0x2e4b12dfe39493d7}},
		{"n2/bgw", [3]uint64{0xd41fb5524f09cbb6, 0x12868366f09739fd, 0xf569ae6c1ee7e4c}},
		{"storage", [3]uint64{0x92b08eafa0b1fbb6, 0x29ee88ad3bf69c87, 0x36c5b53ca94e45cb}},
	} {
		check("NewRand(42).Fork("+c.label+")", NewRand(42).Fork(c.label), c.want[:]...)
	}
	check("NewRand(42).Fork(n2).Fork(bgw)", NewRand(42).Fork("n2").Fork("bgw"), 0x4d23ef3f28825266)
	r := NewRand(7)
	for i, w := range []int{7, 4, 346, 482768464331} {
		n := []int{10, 10, 1000, 1 << 40}[i]
		if got := r.Intn(n); got != w {
			t.Fatalf("NewRand(7) Intn(%d) #%d = %d, want %d", n, i, got, w)
		}
	}
}

func TestForkIgnoresDraws(t *testing.T) {
	fresh := NewRand(99)
	used := NewRand(99)
	for range 1000 {
		used.Uint64()
	}
	used.Intn(17)
	a, b := fresh.Fork("n1/startup"), used.Fork("n1/startup")
	for i := range 16 {
		if x, y := a.Uint64(), b.Uint64(); x != y {
			t.Fatalf("draw %d: fork after draws gave %#x, fresh fork %#x", i, y, x)
		}
	}
	if used.Seed() != 99 || fresh.Fork("x").Seed() == fresh.Fork("y").Seed() {
		t.Fatal("Seed identity broken")
	}
	// Forks by different labels, and a fork and its parent, are different streams.
	p := NewRand(99)
	x, y := p.Fork("a"), p.Fork("b")
	if x.Uint64() == y.Uint64() || NewRand(99).Uint64() == NewRand(99).Fork("a").Uint64() {
		t.Fatal("forks are not independent")
	}
}

func TestIntnRangeAndUniform(t *testing.T) {
	r := NewRand(2024)
	for _, n := range []int{1, 2, 3, 7, 10, 1 << 20, 1<<62 + 1} {
		for range 2000 {
			if v := r.Intn(n); v < 0 || v >= n {
				t.Fatalf("Intn(%d) = %d", n, v)
			}
		}
	}
	// Deterministic uniformity check with integer counts: 10 buckets,
	// 100000 draws, each bucket within 3% of 10000 (about 10 standard
	// deviations: a fixed seed either passes forever or never).
	const n, draws = 10, 100000
	var counts [n]int
	for range draws {
		counts[r.Intn(n)]++
	}
	for i, c := range counts {
		if c < draws/n*97/100 || c > draws/n*103/100 {
			t.Fatalf("bucket %d has %d of %d draws: %v", i, c, draws, counts)
		}
	}
	mustFail(t, "Intn(0)", func() { r.Intn(0) })
	mustFail(t, "Intn(-1)", func() { r.Intn(-1) })
}

func TestChance(t *testing.T) {
	r := NewRand(5)
	hits := 0
	for range 10000 {
		if r.Chance(Per(0, 7)) || r.Chance(Never) {
			t.Fatal("Chance of 0 happened")
		}
		if !r.Chance(Per(7, 7)) || !r.Chance(Per(1, 1)) {
			t.Fatal("Chance of 1 did not happen")
		}
		if r.Chance(Per(1, 4)) {
			hits++
		}
	}
	if hits < 2300 || hits > 2700 {
		t.Fatalf("Per(1,4) hit %d of 10000", hits)
	}
	mustFail(t, "Per(2,1)", func() { Per(2, 1) })
	mustFail(t, "Per(0,0)", func() { Per(0, 0) })
}

// mustFail requires f to panic with an *AssertionError.
func mustFail(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		e := recover()
		if _, ok := e.(*AssertionError); !ok {
			t.Fatalf("%s: want an *AssertionError panic, got %v", what, e)
		}
	}()
	f()
}
