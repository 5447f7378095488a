package explore

import (
	"reflect"
	"unsafe"
)

// Relocations: every copy of one prepared world writes the same pointers
// to the same places, since the world (the search's template) does not
// change between copies and a copy's regions sit at fixed offsets in its
// one allocation. So the first copy runs the compiled fixes and records,
// for each pointer word it rewrote inside the copy, where it is and where
// it points (both as offsets from the copy's start); the copies after it
// write those words from the list, no per-type walk and no search for the
// region a pointer falls in. Maps and interface boxes are made afresh by
// every copy (a copy shares no map with its original), so their fixes are
// recorded as such and run again, and the pointers they write (into new
// maps and boxes, outside the copy's allocation) are not recorded.
// TestCloneRelocatedMatchesFirst pins that copies after the first hash as
// the template and run a schedule to the same trace, step and verdict as
// the first copy did; TestCloneKeepsAliasing checks every kind of sharing
// on replayed copies, over released memory too.

// reloc is one pointer word of a copy: at start+slot, pointing to
// start+target.
type reloc struct{ slot, target uintptr }

// dynFix is a fix that every copy runs again: a map's or an interface
// box's, at start+slot.
type dynFix struct {
	slot uintptr
	fix  walkFn
}

// inCopy reports whether p lies in the copy being recorded.
func (cp *copier) inCopy(p unsafe.Pointer) bool {
	return uintptr(p) >= cp.start && uintptr(p) < cp.end
}

// record notes, while recording, the pointer word at p just fixed. A
// word left pointing outside the copy (a zero-size object's address, kept
// as is) needs no note: the copied bytes already hold it.
func (cp *copier) record(p unsafe.Pointer) {
	if !cp.recording || !cp.inCopy(p) {
		return
	}
	if q := *(*unsafe.Pointer)(p); cp.inCopy(q) {
		cp.relocs = append(cp.relocs, reloc{slot: uintptr(p) - cp.start, target: uintptr(q) - cp.start})
	}
}

// recordDyn notes, while recording, a fix every copy runs at p.
func (cp *copier) recordDyn(p unsafe.Pointer, fix walkFn) {
	if cp.recording && cp.inCopy(p) {
		cp.dyns = append(cp.dyns, dynFix{slot: uintptr(p) - cp.start, fix: fix})
	}
}

// copyRecording copies every region into whole and fixes it by its
// compiled walk, recording what later copies repeat.
func (cp *copier) copyRecording(whole reflect.Value) {
	base := whole.Addr().UnsafePointer()
	cp.start, cp.end = uintptr(base), uintptr(base)+whole.Type().Size()
	cp.recording = true
	defer func() { cp.recording = false }()
	for i := range cp.regions {
		cp.copyRegion(whole.Field(i), i)
	}
	cp.recorded = true
}

// copyRelocated copies every region into whole and writes the recorded
// pointers, then runs the recorded fixes of maps and boxes. The regions
// come from cp.image, all of them in one typed copy: set one by one
// through reflect (a Field, an Addr and a Set each, over the world's
// hundreds of regions) they cost about as much again as the bytes moved.
// The image is made here, at the second copy, from the same unchanged
// world the first copy read (copier's contract).
func (cp *copier) copyRelocated(whole reflect.Value) {
	if !cp.image.IsValid() {
		cp.image = reflect.New(cp.whole).Elem()
		for i := range cp.regions {
			cp.image.Field(i).Set(cp.srcs[i])
		}
	}
	whole.Set(cp.image)
	base := whole.Addr().UnsafePointer()
	for _, r := range cp.relocs {
		*(*unsafe.Pointer)(unsafe.Add(base, r.slot)) = unsafe.Add(base, r.target)
	}
	for _, d := range cp.dyns {
		d.fix(cp, unsafe.Add(base, d.slot))
	}
}
