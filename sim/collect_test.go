package sim

import (
	"fmt"
	"slices"
	"testing"
)

// naiveCollect is the oracle for collect: the specification written the slow
// way. Every due message that is a timer or has no earlier pending message on
// its channel, and every live ready actor, sorted by candidate.before. It
// expects dead receivers' messages to be gone already (collect drops them).
func naiveCollect(s *Scheduler) (cands []candidate, next Time, hasNext bool) {
	all := allPending(s)
	for i, p := range all {
		blocked := false
		for j := 0; j < i && !p.timer; j++ {
			q := all[j]
			if !q.timer && q.from == p.from && q.to == p.to {
				blocked = true
			}
		}
		if blocked || s.actors[p.to].held {
			continue // a paused receiver's messages wait, due or not
		}
		if p.at > s.now {
			if !hasNext || p.at < next {
				next, hasNext = p.at, true
			}
			continue
		}
		cands = append(cands, candidate{since: p.sentStep, msg: headIndex(s, p.seq), actor: p.to, seq: p.seq})
	}
	for id, sl := range s.actors {
		if sl.alive && !sl.held && sl.a.Ready() {
			cands = append(cands, candidate{since: sl.lastRun, msg: -1, actor: ActorID(id)})
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int {
		switch {
		case a.before(b):
			return -1
		case b.before(a):
			return 1
		}
		return 0
	})
	return cands, next, hasNext
}

// allPending lists every message in flight, in send order, wherever the
// scheduler keeps it.
func allPending(s *Scheduler) []pending {
	all := slices.Clone(s.heads)
	for _, q := range s.chans {
		all = append(all, q.wait[q.off:]...)
	}
	slices.SortFunc(all, func(a, b pending) int { return int(a.seq) - int(b.seq) })
	if len(all) != s.Pending() {
		panic(fmt.Sprintf("%d messages kept, Pending says %d", len(all), s.Pending()))
	}
	return all
}

// headIndex is the place of message seq among the scheduler's heads.
func headIndex(s *Scheduler, seq uint64) int {
	for i, p := range s.heads {
		if p.seq == seq {
			return i
		}
	}
	panic(fmt.Sprintf("message %d is deliverable but not a head", seq))
}

type note string

func (n note) String() string { return string(n) }

// chaotic is an actor doing random things: sends, delayed sends, timers,
// spawning actors and killing them.
type chaotic struct {
	name string
	work int
	r    *Rand
}

func (a *chaotic) Name() string { return a.name }
func (a *chaotic) Ready() bool  { return a.work > 0 }
func (a *chaotic) Step(c *Ctx)  { a.work--; a.act(c) }
func (a *chaotic) Receive(c *Ctx, m Msg) {
	if a.r.Chance(Per(1, 3)) {
		a.work += a.r.Intn(3)
	}
	a.act(c)
}

func (a *chaotic) act(c *Ctx) {
	s := c.s
	n := len(s.actors)
	for range a.r.Intn(3) {
		to := ActorID(a.r.Intn(n))
		switch a.r.Intn(4) {
		case 0:
			c.Send(to, note("m"))
		case 1:
			c.SendAfter(to, note("d"), Time(a.r.Intn(8)))
		case 2:
			c.Wake(note("t"), Time(a.r.Intn(8)))
		case 3:
			if a.r.Chance(Per(1, 4)) && n < 24 {
				s.Add(&chaotic{name: fmt.Sprintf("a%d", n), work: a.r.Intn(4), r: a.r.Fork(fmt.Sprint(n))})
			} else if a.r.Chance(Per(1, 8)) {
				s.Kill(to)
			} else if a.r.Chance(Per(1, 4)) {
				// Pause or resume a process: its messages wait meanwhile.
				s.actors[to].held = !s.actors[to].held
			}
		}
	}
}

func TestCollectMatchesNaive(t *testing.T) {
	steps, mixed, jumps, heldWaits := 0, 0, 0, 0
	for seed := range uint64(200) {
		r := NewRand(seed)
		s := New(Config{Seed: seed, Trace: TraceConfig{Ring: -1}})
		for i := range 1 + r.Intn(6) {
			s.Add(&chaotic{name: fmt.Sprintf("a%d", i), work: r.Intn(5), r: r.Fork(fmt.Sprint(i))})
		}
		for i := range r.Intn(6) {
			s.PostAfter(ActorID(r.Intn(len(s.actors))), note("ext"), Time(i))
		}
		for step := 0; step < 400; step++ {
			s.collect()
			want, next, hasNext := naiveCollect(s)
			if !slices.Equal(s.cands, want) {
				t.Fatalf("seed %d step %d: collect %v, naive %v", seed, step, s.cands, want)
			}
			if hasNext != s.hasNext || (hasNext && next != s.nextAt) {
				t.Fatalf("seed %d step %d: next %d/%t, naive %d/%t", seed, step, s.nextAt, s.hasNext, next, hasNext)
			}
			if len(want) == 0 {
				jumps++
			}
			for _, p := range s.heads {
				if s.actors[p.to].held && s.actors[p.to].alive {
					heldWaits++
					break
				}
			}
			for i := 1; i < len(want); i++ {
				if (want[i].msg < 0) != (want[i-1].msg < 0) {
					mixed++ // a merge of both kinds mattered
					break
				}
			}
			if ran, v := s.Step(); !ran || v != nil {
				break
			}
			steps++
		}
	}
	// The worlds must be rich enough to mean something.
	if steps < 10000 || mixed < 1000 || jumps < 100 || heldWaits < 100 {
		t.Fatalf("weak oracle test: %d steps, %d interleaved candidate lists, %d idle jumps, %d collects with held deliveries",
			steps, mixed, jumps, heldWaits)
	}
}

// hashStrBytewise is hashStr written the plain way: the reference the
// loads of the fast one are held to.
func hashStrBytewise(h uint64, s string) uint64 {
	n := len(s)
	for len(s) >= 8 {
		var v uint64
		for i := range 8 {
			v |= uint64(s[i]) << (8 * i)
		}
		h = hashUint(h, v)
		s = s[8:]
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		v |= uint64(s[i]) << (8 * i)
	}
	return hashUint(hashUint(h, v), uint64(n))
}

func TestHashStrMatchesBytewise(t *testing.T) {
	s := "n2/bgw replay \\x00\\xff lsn=0/1A8 state=POLAR_BG_PARALLEL_REPLAYING"
	for i := 0; i <= len(s); i++ {
		for j := i; j <= len(s) && j <= i+24; j++ {
			if got, want := hashStr(7, s[i:j]), hashStrBytewise(7, s[i:j]); got != want {
				t.Fatalf("hashStr(%q) = %x, bytewise %x", s[i:j], got, want)
			}
		}
	}
}
