package explore

import (
	"reflect"
	"unsafe"

	"promotesim/scenarios/script"
	"promotesim/sim"
)

// The compiled fingerprint: the same function as the reflective walk in
// fingerprint.go (same leaves, same mixing, same skips, bit for bit:
// TestFastFingerprintMatchesReflective pins it along many schedules), but
// each type's walk is compiled once into a closure over field offsets and
// run on raw memory, so a fingerprint costs no reflect.Value per leaf, no
// allocation and no name lookups. The profile of check -exhaustive had the
// reflective walk at a third of the search's time (about 18 ns a leaf over
// the world's ~5,400 leaves). The reflective walk stays: it is the
// reference, and the only one that records a leaf map (the diff a
// diagnosis or TestFingerprintHasNoCounters reads).

// hashFn hashes the value of one type stored at p.
type hashFn func(hs *stateHasher, p unsafe.Pointer) uint64

// compiled is one type's compiled walk; fn is set once compiled (a
// recursive type's walk calls it through the pointer).
type compiled struct{ fn hashFn }

// sliceHeader is a slice's layout (the runtime's, as unsafe.Slice builds).
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// fastWorldFingerprint is worldFingerprint on compiled walks.
func (hs *stateHasher) fastWorldFingerprint(r *script.Runner, phase int) uint64 {
	s := r.C.S
	hs.now, hs.diff = s.Now(), nil
	hs.seen.reset()
	hs.collectStamps(r)
	h := mix(s.StateHash(), uint64(phase))
	for i := range s.NumActors() {
		a := s.Actor(sim.ActorID(i))
		if a == nil {
			continue
		}
		h = mix(h, hs.dynamic(a))
	}
	h = mix(h, hs.dynamic(r.C))
	return hs.stampTail(mix(h, hs.dynamic(r.K)))
}

// dynamic hashes x as value(reflect.ValueOf(x)) does: its dynamic value,
// with no type name mixed in.
func (hs *stateHasher) dynamic(x any) uint64 {
	t := reflect.TypeOf(x)
	if t.Kind() != reflect.Pointer {
		return hs.value(reflect.ValueOf(x))
	}
	// An interface's data word is the pointer itself. The walk gets its
	// address in hs, not in a local that would escape (an allocation a
	// process a fingerprint); a pointer's walk reads it before anything
	// else, and dynamic is only called between whole walks.
	hs.word = (*[2]unsafe.Pointer)(unsafe.Pointer(&x))[1]
	h := hs.compile(t).fn(hs, unsafe.Pointer(&hs.word))
	hs.word = nil // keeps no world alive
	return h
}

// compile returns t's compiled walk, building it (and its fields') once.
func (hs *stateHasher) compile(t reflect.Type) *compiled {
	if c := hs.code[t]; c != nil {
		return c
	}
	c := &compiled{}
	hs.code[t] = c // before the fields: a recursive type finds itself
	c.fn = hs.build(t)
	return c
}

func (hs *stateHasher) build(t reflect.Type) hashFn {
	switch t.Kind() {
	case reflect.Bool:
		return func(_ *stateHasher, p unsafe.Pointer) uint64 {
			if *(*bool)(p) {
				return 1
			}
			return 2
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return intFn(t)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return uintFn(t)
	case reflect.Float32:
		return func(_ *stateHasher, p unsafe.Pointer) uint64 { return mix(5, uint64(float64(*(*float32)(p))*1e6)) }
	case reflect.Float64:
		return func(_ *stateHasher, p unsafe.Pointer) uint64 { return mix(5, uint64(*(*float64)(p)*1e6)) }
	case reflect.String:
		return func(_ *stateHasher, p unsafe.Pointer) uint64 { return hashString(*(*string)(p)) }
	case reflect.Array:
		return hs.arrayFn(t)
	case reflect.Slice:
		return hs.sliceFn(t)
	case reflect.Map:
		return hs.mapFn(t)
	case reflect.Pointer:
		return hs.pointerFn(t)
	case reflect.Interface:
		return hs.interfaceFn(t)
	case reflect.Struct:
		return hs.structFn(t)
	}
	return func(*stateHasher, unsafe.Pointer) uint64 { return 0 } // funcs, channels, unsafe pointers
}

func intFn(t reflect.Type) hashFn {
	switch t.Kind() {
	case reflect.Int8:
		return func(_ *stateHasher, p unsafe.Pointer) uint64 { return mix(3, uint64(int64(*(*int8)(p)))) }
	case reflect.Int16:
		return func(_ *stateHasher, p unsafe.Pointer) uint64 { return mix(3, uint64(int64(*(*int16)(p)))) }
	case reflect.Int32:
		return func(_ *stateHasher, p unsafe.Pointer) uint64 { return mix(3, uint64(int64(*(*int32)(p)))) }
	case reflect.Int:
		return func(_ *stateHasher, p unsafe.Pointer) uint64 { return mix(3, uint64(int64(*(*int)(p)))) }
	}
	if t == timeType { // virtual time, relative to now
		return func(hs *stateHasher, p unsafe.Pointer) uint64 { return mix(7, uint64(*(*sim.Time)(p)-hs.now)) }
	}
	return func(_ *stateHasher, p unsafe.Pointer) uint64 { return mix(3, uint64(*(*int64)(p))) }
}

func uintFn(t reflect.Type) hashFn {
	switch t.Kind() {
	case reflect.Uint8:
		return func(_ *stateHasher, p unsafe.Pointer) uint64 { return mix(4, uint64(*(*uint8)(p))) }
	case reflect.Uint16:
		return func(_ *stateHasher, p unsafe.Pointer) uint64 { return mix(4, uint64(*(*uint16)(p))) }
	case reflect.Uint32:
		return func(_ *stateHasher, p unsafe.Pointer) uint64 { return mix(4, uint64(*(*uint32)(p))) }
	case reflect.Uint, reflect.Uintptr:
		return func(_ *stateHasher, p unsafe.Pointer) uint64 { return mix(4, uint64(*(*uint)(p))) }
	}
	return func(hs *stateHasher, p unsafe.Pointer) uint64 {
		if hs.inStamp {
			return hs.stampHash(*(*uint64)(p))
		}
		return mix(4, *(*uint64)(p))
	}
}

// leafOp is how a leaf (a scalar field or element) hashes, so a struct's
// or a slice's loop hashes its scalars inline instead of calling each
// one's closure (the calls were most of the compiled walk's time);
// opCall is anything else.
type leafOp uint8

const (
	opCall leafOp = iota
	opBool
	opI8
	opI16
	opI32
	opI64
	opTime
	opU8
	opU16
	opU32
	opU64
	opString
)

func leafOf(t reflect.Type) leafOp {
	switch t.Kind() {
	case reflect.Bool:
		return opBool
	case reflect.Int8:
		return opI8
	case reflect.Int16:
		return opI16
	case reflect.Int32:
		return opI32
	case reflect.Int, reflect.Int64:
		if t == timeType {
			return opTime
		}
		return opI64
	case reflect.Uint8:
		return opU8
	case reflect.Uint16:
		return opU16
	case reflect.Uint32:
		return opU32
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		return opU64
	case reflect.String:
		return opString
	}
	return opCall
}

// scalar hashes the scalar at q as its compiled walk (build) would.
func (hs *stateHasher) scalar(op leafOp, q unsafe.Pointer) uint64 {
	switch op {
	case opBool:
		if *(*bool)(q) {
			return 1
		}
		return 2
	case opI8:
		return mix(3, uint64(int64(*(*int8)(q))))
	case opI16:
		return mix(3, uint64(int64(*(*int16)(q))))
	case opI32:
		return mix(3, uint64(int64(*(*int32)(q))))
	case opI64:
		return mix(3, uint64(*(*int64)(q)))
	case opTime:
		return mix(7, uint64(*(*sim.Time)(q)-hs.now))
	case opU8:
		return mix(4, uint64(*(*uint8)(q)))
	case opU16:
		return mix(4, uint64(*(*uint16)(q)))
	case opU32:
		return mix(4, uint64(*(*uint32)(q)))
	case opU64:
		if hs.inStamp {
			return hs.stampHash(*(*uint64)(q))
		}
		return mix(4, *(*uint64)(q))
	}
	return hashString(*(*string)(q))
}

// elems hashes n elements of elem's type from data on, as list does.
func (hs *stateHasher) elems(elem reflect.Type) func(hs *stateHasher, data unsafe.Pointer, n int) uint64 {
	c, size := hs.compile(elem), elem.Size()
	if hs.flatElem(elem) {
		each, st := hs.eachElem(elem, c, size), stampable(elem)
		return func(hs *stateHasher, data unsafe.Pointer, n int) uint64 {
			if st && hs.inStamp {
				return each(hs, data, n)
			}
			return mix(mix(13, uint64(n)), rawHash(unsafe.Slice((*byte)(data), uintptr(n)*size)))
		}
	}
	return hs.eachElem(elem, c, size)
}

// eachElem is elems hashing element by element.
func (hs *stateHasher) eachElem(elem reflect.Type, c *compiled, size uintptr) func(hs *stateHasher, data unsafe.Pointer, n int) uint64 {
	if op := leafOf(elem); op != opCall {
		return func(hs *stateHasher, data unsafe.Pointer, n int) uint64 {
			h := mix(13, uint64(n))
			for i := range n {
				h = mix(h, hs.scalar(op, unsafe.Add(data, uintptr(i)*size)))
			}
			return h
		}
	}
	return func(hs *stateHasher, data unsafe.Pointer, n int) uint64 {
		h := mix(13, uint64(n))
		for i := range n {
			h = mix(h, c.fn(hs, unsafe.Add(data, uintptr(i)*size)))
		}
		return h
	}
}

func (hs *stateHasher) arrayFn(t reflect.Type) hashFn {
	e, n := hs.elems(t.Elem()), t.Len()
	return func(hs *stateHasher, p unsafe.Pointer) uint64 { return e(hs, p, n) }
}

func (hs *stateHasher) sliceFn(t reflect.Type) hashFn {
	e := hs.elems(t.Elem())
	return func(hs *stateHasher, p unsafe.Pointer) uint64 {
		sh := (*sliceHeader)(p)
		return e(hs, sh.data, sh.len)
	}
}

// mapFn sums the entries' hashes, as mapValue does, iterating by reflect
// into per-call key and value cells the compiled walks read.
func (hs *stateHasher) mapFn(t reflect.Type) hashFn {
	kc, vc := hs.compile(t.Key()), hs.compile(t.Elem())
	iter := newMapIter(t)
	return func(hs *stateHasher, p unsafe.Pointer) uint64 {
		m := reflect.NewAt(t, p).Elem()
		sum := uint64(m.Len())
		if m.Len() == 0 {
			return mix(17, sum)
		}
		k, v, shared := iter.take()
		defer iter.release(shared)
		it := m.MapRange()
		for it.Next() {
			k.SetIterKey(it)
			v.SetIterValue(it)
			st := hs.inStamp
			hs.inStamp = false // a key is no stamp (as mapValue)
			kh := kc.fn(hs, k.Addr().UnsafePointer())
			hs.inStamp = st
			sum += mix(kh, vc.fn(hs, v.Addr().UnsafePointer()))
		}
		return mix(17, sum)
	}
}

func (hs *stateHasher) pointerFn(t reflect.Type) hashFn {
	if t == schedulerType {
		return func(*stateHasher, unsafe.Pointer) uint64 { return 23 } // hashed once, by StateHash
	}
	var c *compiled
	return func(hs *stateHasher, p unsafe.Pointer) uint64 {
		q := *(*unsafe.Pointer)(p)
		if q == nil {
			return 19
		}
		if !hs.seen.add(uintptr(q)) {
			return 29 // shared: hashed where first reached
		}
		if c == nil {
			c = hs.compile(t.Elem())
		}
		return c.fn(hs, q)
	}
}

// interfaceFn hashes the dynamic type's name and value; a pointer (every
// actor, every node's shared memory) goes on compiled, anything else by
// the reflective walk. What a dynamic type needs is kept by the
// interface's type word (hs.ifaces), so the common case reads two words
// and a map instead of making reflect values.
func (hs *stateHasher) interfaceFn(t reflect.Type) hashFn {
	return func(hs *stateHasher, p unsafe.Pointer) uint64 {
		words := (*[2]unsafe.Pointer)(p)
		if words[0] == nil {
			return 11
		}
		en := hs.ifaces[words[0]]
		if en == nil {
			en = hs.ifaceEntryOf(reflect.NewAt(t, p).Elem().Elem().Type())
			hs.ifaces[words[0]] = en
		}
		if en.c == nil {
			return mix(en.name, hs.value(reflect.NewAt(t, p).Elem().Elem()))
		}
		// A pointer is the data word itself, read in place.
		return mix(en.name, en.c.fn(hs, unsafe.Pointer(&words[1])))
	}
}

// ifaceEntry is what interfaceFn hashes a dynamic type by: its name's
// hash and, for a pointer, its compiled walk (nil: the reflective walk).
type ifaceEntry struct {
	name uint64
	c    *compiled
}

func (hs *stateHasher) ifaceEntryOf(et reflect.Type) *ifaceEntry {
	name, ok := hs.names[et]
	if !ok {
		name = hashString(et.String())
		hs.names[et] = name
	}
	en := &ifaceEntry{name: name}
	if et.Kind() == reflect.Pointer {
		en.c = hs.compile(et)
	}
	return en
}

func (hs *stateHasher) structFn(t reflect.Type) hashFn {
	pl := hs.plan(t)
	if pl.skip {
		return func(*stateHasher, unsafe.Pointer) uint64 { return 31 }
	}
	type field struct {
		off   uintptr
		op    leafOp
		stamp bool      // holds step stamps (stampFields)
		c     *compiled // opCall's
		run   int       // > 0: pl.runs[run-1], hashed as its bytes
	}
	var fs []field
	for j, ri := 0, 0; j < len(pl.fields); j++ {
		if ri < len(pl.runs) && pl.runs[ri].from == j {
			fs = append(fs, field{run: ri + 1})
			j = pl.runs[ri].to - 1
			ri++
			continue
		}
		f := t.Field(pl.fields[j])
		fd := field{off: f.Offset, op: leafOf(f.Type), stamp: pl.stamp[j]}
		if fd.op == opCall {
			fd.c = hs.compile(f.Type)
		}
		fs = append(fs, fd)
	}
	name, runs := pl.name, pl.runs
	return func(hs *stateHasher, p unsafe.Pointer) uint64 {
		h := name
		for i := range fs {
			f := &fs[i]
			switch {
			case f.run > 0:
				h = mix(h, rawAt(p, runs[f.run-1]))
			case f.op != opCall:
				hs.inStamp = f.stamp
				h = mix(h, hs.scalar(f.op, unsafe.Add(p, f.off)))
			default:
				hs.inStamp = f.stamp
				h = mix(h, f.c.fn(hs, unsafe.Add(p, f.off)))
			}
			hs.inStamp = false
		}
		return h
	}
}
