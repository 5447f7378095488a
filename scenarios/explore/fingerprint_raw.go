package explore

import (
	"encoding/binary"
	"math/bits"
	"reflect"
	"unsafe"
)

// Raw runs: a struct's hashed fields that are plain integers or bools
// (no step stamp, no virtual time) and lie back to back in memory hash as
// their bytes, eight at a time, instead of one mixed leaf each: many of a
// world's ~5,000 leaves are such fields (queue slots, pages' headers, the
// oracle's mirror, the checkers' records), and the per-leaf dispatch and
// mix were much of the fingerprint's cost (the struct runs alone took
// BenchmarkExhaustiveP0 from 20.9G to 19.9G instructions under cachegrind;
// with the lists below, check -exhaustive -preemptions 0 -budget 0 went
// from 12.0k to 14.5k states/s). The bytes are exactly the
// fields' values, so equal states still hash equal; both walks hash runs
// the same way (the reflective one rebuilds the bytes from the fields'
// values), except that a diagnosis (hs.diff set) records the fields one
// leaf each, as it records a byte slice's elements.

// planRun is the fields p.fields[from:to] of a struct plan, at offsets
// off to off+size with no gap.
type planRun struct {
	from, to  int
	off, size uintptr
}

// rawField reports whether field f (a stamp field or not) can be in a run.
func rawField(f reflect.StructField, stamp bool) bool {
	if stamp || f.Type == timeType {
		return false
	}
	switch f.Type.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// runsOf finds the runs of at least two raw fields in t's plan p.
func runsOf(t reflect.Type, p *structPlan) []planRun {
	var runs []planRun
	for j := 0; j < len(p.fields); {
		f := t.Field(p.fields[j])
		if !rawField(f, p.stamp[j]) {
			j++
			continue
		}
		k, end := j+1, f.Offset+f.Type.Size()
		for ; k < len(p.fields); k++ {
			g := t.Field(p.fields[k])
			if !rawField(g, p.stamp[k]) || g.Offset != end {
				break
			}
			end += g.Type.Size()
		}
		if k-j >= 2 {
			runs = append(runs, planRun{from: j, to: k, off: f.Offset, size: end - f.Offset})
		}
		j = k
	}
	return runs
}

// rawHash hashes a run's bytes: its length, then 32-byte blocks in four
// independent lanes (the multiply-rotate-multiply round of xxHash64, so
// the lanes overlap in the CPU: pages and WAL buffers are most of the
// bytes a fingerprint reads), then little-endian words.
func rawHash(b []byte) uint64 {
	h := mix(37, uint64(len(b)))
	if len(b) >= 32 {
		l0, l1, l2, l3 := h+lanePrime1+lanePrime2, h+lanePrime2, h, h-lanePrime1
		for len(b) >= 32 {
			l0 = laneRound(l0, binary.LittleEndian.Uint64(b))
			l1 = laneRound(l1, binary.LittleEndian.Uint64(b[8:]))
			l2 = laneRound(l2, binary.LittleEndian.Uint64(b[16:]))
			l3 = laneRound(l3, binary.LittleEndian.Uint64(b[24:]))
			b = b[32:]
		}
		h = mix(mix(mix(mix(h, l0), l1), l2), l3)
	}
	for len(b) >= 8 {
		h = mix(h, binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	if len(b) > 0 {
		var w uint64
		for i, c := range b {
			w |= uint64(c) << (8 * uint(i))
		}
		h = mix(h, w)
	}
	return h
}

const (
	lanePrime1 = 0x9E3779B185EBCA87
	lanePrime2 = 0xC2B2AE3D27D4EB4F
)

// laneRound folds the word v into lane l.
func laneRound(l, v uint64) uint64 {
	return bits.RotateLeft64(l+v*lanePrime2, 31) * lanePrime1
}

// rawAt is rawHash of the run at p+r.off (the compiled walk).
func rawAt(p unsafe.Pointer, r planRun) uint64 {
	return rawHash(unsafe.Slice((*byte)(unsafe.Add(p, r.off)), r.size))
}

// runBytes rebuilds run r of struct value v (plan p) from its fields'
// values, in hs.raw: the bytes rawAt reads in memory.
func (hs *stateHasher) runBytes(v reflect.Value, p *structPlan, r planRun) []byte {
	b := append(hs.raw[:0], make([]byte, r.size)...)
	putRun(b, v, p, r)
	hs.raw = b
	return b
}

// putRun writes run r of struct value v (plan p) into b, as in memory.
func putRun(b []byte, v reflect.Value, p *structPlan, r planRun) {
	t := v.Type()
	for j := r.from; j < r.to; j++ {
		f := t.Field(p.fields[j])
		putScalar(b[f.Offset-r.off:], v.Field(p.fields[j]), f.Type.Size())
	}
}

// putScalar writes the integer or bool x, size bytes little-endian, to b.
func putScalar(b []byte, x reflect.Value, size uintptr) {
	var u uint64
	switch x.Kind() {
	case reflect.Bool:
		if x.Bool() {
			u = 1
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		u = uint64(x.Int())
	default:
		u = x.Uint()
	}
	for i := range size {
		b[i] = byte(u >> (8 * i))
	}
}

// Flat lists: a slice or array whose elements are raw integers or bools,
// or structs that are one run end to end (no padding, nothing skipped),
// hashes as its bytes too, unless its elements are step stamps (a 64-bit
// unsigned list inside a stamp field).

// flatElem reports whether a list of t hashes as its bytes.
func (hs *stateHasher) flatElem(t reflect.Type) bool {
	if t.Kind() == reflect.Struct {
		p := hs.plan(t)
		return !p.skip && len(p.runs) == 1 && p.runs[0].from == 0 && p.runs[0].to == len(p.fields) &&
			p.runs[0].off == 0 && p.runs[0].size == t.Size()
	}
	return rawField(reflect.StructField{Type: t}, false)
}

// stampable reports whether a list of t may hold stamps (leafOf's opU64).
func stampable(t reflect.Type) bool {
	k := t.Kind()
	return k == reflect.Uint || k == reflect.Uint64 || k == reflect.Uintptr
}

// listBytes rebuilds flat list v's memory from its elements' values.
func (hs *stateHasher) listBytes(v reflect.Value) []byte {
	et := v.Type().Elem()
	size := et.Size()
	b := append(hs.rawList[:0], make([]byte, uintptr(v.Len())*size)...)
	for i := range v.Len() {
		if et.Kind() == reflect.Struct {
			p := hs.plan(et)
			putRun(b[uintptr(i)*size:], v.Index(i), p, p.runs[0])
		} else {
			putScalar(b[uintptr(i)*size:], v.Index(i), size)
		}
	}
	hs.rawList = b
	return b
}
