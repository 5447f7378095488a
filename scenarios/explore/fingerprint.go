package explore

import (
	"math/bits"
	"reflect"
	"strings"
	"unsafe"

	"promotesim/scenarios/script"
	"promotesim/sim"
)

// The exhaustive check's state fingerprint. It must cover everything a
// world's future depends on (docs/model.md's processes and shared state:
// every node's shared memory, BGW state and LSNs, buffer pools and flush
// lists, LogIndex memtables, queues, the device's blocks and pending
// writes, the clients' journal, the oracle and the checkers' memory), or
// the search prunes a state whose future differs and misses a bug. Hand
// written hash methods over a dozen packages would drift the first time a
// field is added, so it walks the world by reflection instead: every field
// of every struct reachable from the cluster, the checkers and the actors
// the scheduler runs, unexported ones included.
//
// What it leaves out is what only numbers the run: the scheduler's clock,
// sequence counters and candidate order (Scheduler.StateHash hashes the
// kernel's share without them), the trace, and the history-only fields
// listed in skipFields. Virtual time stored in a field is hashed relative
// to now (a deadline 5 ticks away is the same state whenever it is
// reached), which is how StateHash hashes a message's due time.
//
// The step numbers the model stamps into its state (request starts, the
// clients' journal, the oracle's cuts, the checkers' ack steps) are
// hashed by their order among the state's stamps and the current step
// (stamps.go). Hashed as plain numbers, with the step itself left out,
// they merged states whose successors differ: two runs that reach one
// state at different steps stamp their next request differently, and
// which of them the search explored first decided what it stored beyond
// (the 2-worker counts varied from run to run, 67,157-67,162 distinct
// states at bound 0). Hashing the step as well was sound but kept paths of
// different lengths to one state apart (48,836 states at bound 0); ranks
// let them meet (22,086). TestFingerprintCollisionsShareFutures checks
// that schedules meeting at one fingerprint go on alike.

// skipFields are the fields (Type.field) that count or log rather than
// decide: sequence numbers and ring buffers of past events that a claim
// reads only to explain a failure. Each was found by recording every
// leaf's hash along a FIFO run of the window (the diff map;
// TestFingerprintHasNoCounters keeps the list complete) and read to be
// sure no step's behaviour depends on it.
var skipFields = map[string]bool{ // looked up only
	"storage.Device.seq":  true, // numbers writes; the ring is a log
	"storage.Device.ring": true,
	"storage.block.last":  true, // the block's last WriteRecord (its Seq)
	"storage.pending.seq": true,
	// The oracle's caches of "looked at step N": it syncs after every
	// step, so at a probe they only say which step that was. lastFull
	// paces its periodic full comparison of storage against the WAL
	// (oracle.fullEvery steps); leaving it out can merge two states whose
	// next full comparison is due at different steps, which delays, never
	// hides, what the comparison sees: the whole-state check at the
	// window's end compares everything anyway.
	"oracle.Oracle.mountStep": true,
	"oracle.Oracle.lastFull":  true,
	"oracle.Oracle.seen":      true, // the device's write count, synced every step
	// The oracle's per-call scratch, refilled before it is read: the
	// writes since the last sync (followWrites), a segment's bytes read
	// back to compare with the mirror (the mirror is hashed), and a
	// record's pages (PagesOf's buffer).
	"oracle.Oracle.wbuf": true,
	"oracle.Oracle.buf":  true,
	"oracle.Oracle.pgs":  true,
	// The checkers' scratch, refilled before it is read in one call, so
	// between steps it holds only the last call's leftovers: buffers for
	// the flush list (flushOrder), a record's pages (markDurable), one
	// block and the LogIndex meta read from storage (storedPageLSN,
	// readMeta), the relation image just read (readStorage copies it into
	// durableState.raw, which is hashed), the pages changed and queued in
	// one markDurable/checkMarked pair, and a write cursor's batch (next
	// returns nil without reading buf when nothing was written).
	"check.Checks.ids":           true,
	"check.Checks.pgs":           true,
	"check.Checks.blk":           true,
	"check.Checks.metaBuf":       true,
	"check.durableState.img":     true,
	"check.durableState.changed": true,
	"check.durableState.todo":    true,
	"check.writeCursor.buf":      true,
	// Counters that are only reported, never compared: how often each
	// claim was exercised ("sometimes" marks, read by Checks.Exercises for
	// the explorer's summary) and the page rewinds StoredPageNeverGoesBack
	// accepted (read by a regression test as evidence its script reaches
	// one). Both count the past; no verdict reads them.
	"check.Checks.exercised": true,
	"check.Checks.rewinds":   true,
	// The pool's count of page changes and the checkers' copy of it in
	// their watch: they number changes (the pages themselves are hashed)
	// and only let the checkers skip a step that changed nothing.
	"storage.Pool.changes":          true,
	"check.nodeWatched.poolChanges": true,
	// The touch count of a node's wake condition the watch last saw: it
	// numbers touches, and only lets the watch skip an untouched node.
	"check.nodeWatched.touches": true,
}

// skipTypes are never hashed: the kernel's own machinery (hashed by
// StateHash or not state at all).
var skipTypes = map[string]bool{ // looked up only
	"sim.Trace":    true,
	"sim.Marks":    true,
	"sim.Checkers": true,
	"sim.Sites":    true,
	"sim.Ctx":      true,
}

var (
	schedulerType = reflect.TypeOf((*sim.Scheduler)(nil))
	timeType      = reflect.TypeOf(sim.Time(0))
)

// stateHasher hashes world states; seen makes shared objects (every
// actor points at its node's shared memory) hash once per state. One
// hasher serves a whole search: its plans of struct types are reused.
type stateHasher struct {
	now  sim.Time
	seen ptrSet // the addresses this fingerprint reached
	// diff, when set, records each leaf's path and hash (a diagnosis).
	diff  map[string]uint64
	path  []string
	plans map[reflect.Type]*structPlan // looked up only
	// code and names are the compiled walks (fingerprint_fast.go) and the
	// hashed names of interfaces' dynamic types.
	code   map[reflect.Type]*compiled     // looked up only
	names  map[reflect.Type]uint64        // looked up only
	ifaces map[unsafe.Pointer]*ifaceEntry // looked up only: by an interface's type word
	// stamps are this state's distinct step stamps and step, sorted
	// (stamps.go); inStamp is set while a stamp field is hashed, absolute
	// once a stamp was not among them.
	stamps            []uint64
	inStamp, absolute bool
	raw, rawList      []byte // runBytes's and listBytes's
	// word is the pointer dynamic hands a walk (fingerprint_fast.go).
	word unsafe.Pointer
}

// structPlan is what a struct type hashes: its name and the fields not
// skipped.
type structPlan struct {
	skip   bool
	name   uint64
	fields []int
	names  []string
	stamp  []bool    // the field holds step stamps (stampFields)
	runs   []planRun // fields hashed as their bytes (fingerprint_raw.go)
}

func newStateHasher() *stateHasher {
	return &stateHasher{plans: map[reflect.Type]*structPlan{},
		code: map[reflect.Type]*compiled{}, names: map[reflect.Type]uint64{}, ifaces: map[unsafe.Pointer]*ifaceEntry{}}
}

func (hs *stateHasher) plan(t reflect.Type) *structPlan {
	if p := hs.plans[t]; p != nil {
		return p
	}
	name := t.String()
	p := &structPlan{skip: skipTypes[name], name: hashString(name)}
	for i := range t.NumField() {
		f := t.Field(i)
		if skipFields[name+"."+f.Name] || f.Type.Kind() == reflect.Func || f.Type.Kind() == reflect.Chan {
			continue
		}
		p.fields = append(p.fields, i)
		p.names = append(p.names, f.Name)
		p.stamp = append(p.stamp, stampFields[name+"."+f.Name])
	}
	p.runs = runsOf(t, p)
	hs.plans[t] = p
	return p
}

func mix(h, v uint64) uint64 {
	h ^= v + 0x9E3779B97F4A7C15 + (h << 6) + (h >> 2)
	return bits.RotateLeft64(h*0xBF58476D1CE4E5B9, 31)
}

// worldFingerprint hashes a driven world: the scheduler's share, every
// actor the scheduler runs, the cluster and the checkers, and the window's
// phase (which command of the window is running: the world's future
// depends on what the driver does next).
func (hs *stateHasher) worldFingerprint(r *script.Runner, phase int, diff map[string]uint64) uint64 {
	s := r.C.S
	hs.now, hs.diff = s.Now(), diff
	hs.seen.reset()
	hs.collectStamps(r)
	h := mix(s.StateHash(), uint64(phase))
	for i, a := range schedulerActors(s) {
		if a == nil {
			continue
		}
		hs.path = append(hs.path[:0], s.Name(sim.ActorID(i)))
		h = mix(h, hs.value(reflect.ValueOf(a)))
	}
	hs.path = append(hs.path[:0], "cluster")
	h = mix(h, hs.value(reflect.ValueOf(r.C)))
	hs.path = append(hs.path[:0], "checks")
	return hs.stampTail(mix(h, hs.value(reflect.ValueOf(r.K))))
}

func (hs *stateHasher) leaf(v uint64) uint64 {
	if hs.diff != nil {
		hs.diff[strings.Join(hs.path, ".")] = v
	}
	return v
}

// value hashes v and everything it reaches.
func (hs *stateHasher) value(v reflect.Value) uint64 {
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return hs.leaf(1)
		}
		return hs.leaf(2)
	case reflect.Int64:
		if v.Type() == timeType {
			return hs.leaf(mix(7, uint64(sim.Time(v.Int())-hs.now)))
		}
		return hs.leaf(mix(3, uint64(v.Int())))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32:
		return hs.leaf(mix(3, uint64(v.Int())))
	case reflect.Uint64:
		if hs.inStamp {
			return hs.leaf(hs.stampHash(v.Uint()))
		}
		return hs.leaf(mix(4, v.Uint()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uintptr:
		return hs.leaf(mix(4, v.Uint()))
	case reflect.Float32, reflect.Float64:
		return hs.leaf(mix(5, uint64(v.Float()*1e6)))
	case reflect.String:
		return hs.leaf(hashString(v.String()))
	case reflect.Array, reflect.Slice:
		return hs.list(v)
	case reflect.Map:
		return hs.mapValue(v)
	case reflect.Pointer:
		return hs.pointer(v)
	case reflect.Interface:
		if v.IsNil() {
			return 11
		}
		e := v.Elem()
		return mix(hashString(e.Type().String()), hs.value(e))
	case reflect.Struct:
		return hs.structValue(v)
	}
	return 0 // funcs, channels, unsafe pointers: not state
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

func (hs *stateHasher) list(v reflect.Value) uint64 {
	h := mix(13, uint64(v.Len()))
	if et := v.Type().Elem(); hs.diff == nil && hs.flatElem(et) && (!hs.inStamp || !stampable(et)) {
		return mix(h, rawHash(hs.listBytes(v)))
	}
	n := len(hs.path)
	for i := range v.Len() {
		if hs.diff != nil {
			hs.path = append(hs.path[:n], "["+itoa(i)+"]")
		}
		h = mix(h, hs.value(v.Index(i)))
	}
	hs.path = hs.path[:n]
	return h
}

// mapValue sums its entries' hashes: the same map hashes the same whatever
// order iteration visits it in.
func (hs *stateHasher) mapValue(v reflect.Value) uint64 {
	sum := uint64(v.Len())
	n := len(hs.path)
	it := v.MapRange()
	for it.Next() {
		d, st := hs.diff, hs.inStamp
		hs.diff, hs.inStamp = nil, false // a key is not a leaf of its own: it names its entry's
		k := hs.value(it.Key())
		hs.diff, hs.inStamp = d, st
		if hs.diff != nil {
			hs.path = append(hs.path[:n], "{"+itoa(int(k%1000))+"}")
		}
		sum += mix(k, hs.value(it.Value()))
	}
	hs.path = hs.path[:n]
	return mix(17, sum)
}

func (hs *stateHasher) pointer(v reflect.Value) uint64 {
	if v.IsNil() {
		return 19
	}
	if v.Type() == schedulerType {
		return 23 // hashed once, by StateHash
	}
	if !hs.seen.add(v.Pointer()) {
		return 29 // shared: hashed where first reached
	}
	return hs.value(v.Elem())
}

func (hs *stateHasher) structValue(v reflect.Value) uint64 {
	p := hs.plan(v.Type())
	if p.skip {
		return 31
	}
	h := p.name
	if hs.diff == nil && len(p.runs) > 0 {
		return hs.structRuns(v, p, h)
	}
	n := len(hs.path)
	for j, i := range p.fields {
		if hs.diff != nil {
			hs.path = append(hs.path[:n], p.names[j])
		}
		hs.inStamp = p.stamp[j]
		h = mix(h, hs.value(v.Field(i)))
		hs.inStamp = false
	}
	hs.path = hs.path[:n]
	return h
}

// structRuns is structValue with p's runs hashed as their bytes.
func (hs *stateHasher) structRuns(v reflect.Value, p *structPlan, h uint64) uint64 {
	ri := 0
	for j := 0; j < len(p.fields); {
		if ri < len(p.runs) && p.runs[ri].from == j {
			h = mix(h, rawHash(hs.runBytes(v, p, p.runs[ri])))
			j = p.runs[ri].to
			ri++
			continue
		}
		hs.inStamp = p.stamp[j]
		h = mix(h, hs.value(v.Field(p.fields[j])))
		hs.inStamp = false
		j++
	}
	return h
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	p := len(b)
	for i > 0 {
		p--
		b[p] = byte('0' + i%10)
		i /= 10
	}
	return string(b[p:])
}
