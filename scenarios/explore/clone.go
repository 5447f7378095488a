package explore

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"unsafe"

	"promotesim/sim"
)

// The exhaustive check's snapshots: a deep copy of a whole world, so each
// run of the search starts from the world at the promote without building
// and booting it afresh. Like the fingerprint it is one reflective plan
// per type, compiled once into closures over field offsets, so no process
// needs a Clone method that would drift when a field is added. It keeps
// aliasing: a scan first finds every object the world reaches and merges
// the ones inside others (a pointer to a field, a slice of part of an
// array) into their enclosing object's region, and the copy copies each
// region once, so two processes sharing a node's shared memory share the
// copy's. It cannot see inside closures: a func field is copied only where
// listed in cloneFuncs, whose owner rebinds it on the copy
// (Checks.Rebind); any other func or channel in the world is an error,
// and so are two objects that overlap without one holding the other.
// TestCloneContinuesIdentically pins that a copy runs on byte for byte as
// the original does, TestCloneKeepsAliasing the sharing.

// cloneFuncs are the func fields (Type.field) a copy may share with its
// original until their owner rebinds them.
var cloneFuncs = map[string]bool{ // looked up only
	"sim.checkRun.group":  true, // the checkers' group: Checks.stepChecks, rebound
	"oracle.Oracle.hosts": true, // Cluster.HostCount, rebound
}

// walkFn is one type's scan or fix of the value at p.
type walkFn func(cp *copier, p unsafe.Pointer)

// copyCode is one type's compiled scan and fix. A region is copied as its
// bytes (a typed copy, so the GC sees its pointers), then fixed: fix
// rewrites every pointer the bytes hold (pointers, slices, maps,
// interfaces) to the copy's own. scan and fix are nil for a type that
// reaches no object (plain bytes, strings, listed funcs).
type copyCode struct {
	scan, fix walkFn
	plain     bool // no pointers at all
	share     bool // immutable, shared by the copy as is: strings
}

// copier copies a world in two passes: a scan finds every object the world
// reaches (each pointer's target and each slice's backing array) and merges
// the ones inside others into regions, one per enclosing object (a pointer
// to a field, a slice of part of an array), so the copy copies each region
// once and points into it where the original pointed. A copier prepared
// once copies the same (unchanged) world any number of times; one copy at
// a time. Its compiled plans are reused for every world.
type copier struct {
	code    map[reflect.Type]*copyCode // looked up only
	root    unsafe.Pointer
	rootT   reflect.Type
	scanned map[unsafe.Pointer]uintptr // looked up only: bytes scanned at an address
	spans   []span
	regions []span // sorted by address, disjoint
	bases   []unsafe.Pointer
	// whole is one struct type with a field for each region (offs its
	// fields' offsets): a copy is one allocation of it, so its regions'
	// addresses are known before any is copied. srcs are the regions as
	// values (the first copy sets a field from each) and codes their
	// elements' plans; image is every region in one value of whole, made
	// at the second copy, so the copies after the first are one typed copy
	// of it (reloc.go).
	whole reflect.Type
	offs  []uintptr
	srcs  []reflect.Value
	codes []*copyCode
	image reflect.Value
	maps  map[unsafe.Pointer]unsafe.Pointer // looked up only
	// last is the memory of the latest copy; spare a copy's memory its
	// owner released (release), which the next copy overwrites instead of
	// allocating and zeroing ~80 KB a run and leaving it to the collector.
	last, spare reflect.Value
	// relocs and dyns are what the first copy of a prepared world learnt
	// (recording, with start and end its bounds) for the ones after it:
	// reloc.go.
	relocs     []reloc
	dyns       []dynFix
	recorded   bool
	recording  bool
	start, end uintptr
}

// span is one object of the original: n == 0 an object of type elem, else
// a backing array of n elements of type elem.
type span struct {
	at   unsafe.Pointer
	size uintptr
	elem reflect.Type
	n    int
}

func (s span) end() uintptr { return uintptr(s.at) + s.size }

func newCopier() *copier {
	return &copier{code: map[reflect.Type]*copyCode{},
		scanned: map[unsafe.Pointer]uintptr{}, maps: map[unsafe.Pointer]unsafe.Pointer{}}
}

type cloneError string

func (e cloneError) Error() string { return string(e) }

func catchClone(err *error) {
	if e := recover(); e != nil {
		ce, ok := e.(cloneError)
		if !ok {
			panic(e)
		}
		*err = ce
	}
}

// prepare scans the world p points to; copy then copies it.
func (cp *copier) prepare(p any) (err error) {
	defer catchClone(&err)
	t := reflect.TypeOf(p)
	if t == nil || t.Kind() != reflect.Pointer || reflect.ValueOf(p).IsNil() {
		return fmt.Errorf("clone: %T is not a pointer to a world", p)
	}
	cp.root, cp.rootT = reflect.ValueOf(p).UnsafePointer(), t
	clear(cp.scanned)
	cp.spans = cp.spans[:0]
	cp.relocs, cp.dyns, cp.recorded = cp.relocs[:0], cp.dyns[:0], false
	cp.compile(t).scan(cp, unsafe.Pointer(&cp.root))
	return cp.merge()
}

// merge sorts the spans into disjoint regions, each owned by the span that
// encloses the others in it; two objects that overlap without one holding
// the other cannot be copied.
func (cp *copier) merge() error {
	slices.SortFunc(cp.spans, func(a, b span) int {
		if c := cmp.Compare(uintptr(a.at), uintptr(b.at)); c != 0 {
			return c
		}
		return cmp.Compare(b.size, a.size)
	})
	cp.regions = cp.regions[:0]
	for _, s := range cp.spans {
		if n := len(cp.regions); n > 0 && uintptr(s.at) < cp.regions[n-1].end() {
			if s.end() > cp.regions[n-1].end() {
				return fmt.Errorf("clone: a %v overlaps a %v without either holding the other", s.elem, cp.regions[n-1].elem)
			}
			continue
		}
		cp.regions = append(cp.regions, s)
	}
	cp.bases = make([]unsafe.Pointer, len(cp.regions))
	fields := make([]reflect.StructField, len(cp.regions))
	cp.srcs, cp.codes = cp.srcs[:0], cp.codes[:0]
	for i, r := range cp.regions {
		t := r.elem
		if r.n > 0 {
			t = reflect.ArrayOf(r.n, r.elem)
		}
		cp.srcs = append(cp.srcs, reflect.NewAt(t, r.at).Elem())
		cp.codes = append(cp.codes, cp.compile(r.elem))
		fields[i] = reflect.StructField{Name: fmt.Sprintf("R%d", i), Type: t}
	}
	cp.whole = reflect.StructOf(fields)
	cp.offs = cp.offs[:0]
	for i := range fields {
		cp.offs = append(cp.offs, cp.whole.Field(i).Offset)
	}
	cp.image = reflect.Value{}
	return nil
}

// copy copies the prepared world: a new one, sharing nothing with it but
// immutable values (strings, interface boxes of plain values).
func (cp *copier) copy() (out any, err error) {
	defer catchClone(&err)
	if cp.root == nil {
		return nil, fmt.Errorf("clone: nothing prepared")
	}
	clear(cp.maps)
	whole := cp.spare
	if !whole.IsValid() {
		whole = reflect.New(cp.whole).Elem()
	}
	cp.spare, cp.last = reflect.Value{}, whole
	base := whole.Addr().UnsafePointer()
	for i, off := range cp.offs {
		cp.bases[i] = unsafe.Add(base, off)
	}
	if cp.recorded {
		cp.copyRelocated(whole)
	} else {
		cp.copyRecording(whole)
	}
	return reflect.NewAt(cp.rootT.Elem(), cp.object(cp.root, cp.rootT.Elem().Size())).Interface(), nil
}

// release hands the latest copy's memory back for the next copy to
// overwrite. Its owner must be done with that copy and with everything it
// reaches: every region of it is overwritten (objects it allocated since
// are left to the collector, pointing into memory that is no longer theirs).
func (cp *copier) release() { cp.spare, cp.last = cp.last, reflect.Value{} }

// clonePtr is prepare and copy: a deep copy of the world p points to.
func (cp *copier) clonePtr(p any) (any, error) {
	if err := cp.prepare(p); err != nil {
		return nil, err
	}
	return cp.copy()
}

func (cp *copier) compile(t reflect.Type) *copyCode {
	if c := cp.code[t]; c != nil {
		return c
	}
	c := &copyCode{}
	cp.code[t] = c
	cp.build(t, c)
	return c
}

// plain says a type holds no pointer at all: its bytes are its value.
func plain(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return t.Len() == 0 || plain(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !plain(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

func (cp *copier) build(t reflect.Type, c *copyCode) {
	if plain(t) {
		c.plain = true
		return
	}
	switch t.Kind() {
	case reflect.String:
		c.share = true
	case reflect.Array:
		cp.arrayCode(t, c)
	case reflect.Slice:
		cp.sliceCode(t, c)
	case reflect.Map:
		cp.mapCode(t, c)
	case reflect.Pointer:
		cp.pointerCode(t, c)
	case reflect.Interface:
		cp.interfaceCode(t, c)
	case reflect.Struct:
		cp.structCode(t, c)
	default:
		c.scan = func(_ *copier, p unsafe.Pointer) {
			if *(*unsafe.Pointer)(p) != nil {
				panic(cloneError(fmt.Sprintf("clone: a %v the copy cannot share (not a listed func field)", t)))
			}
		}
		c.fix = c.scan
	}
}

// see records an object (n == 0) or a backing array and scans what it
// holds, once for each address and extent.
func (cp *copier) see(elem reflect.Type, c *copyCode, p unsafe.Pointer, n int) {
	size := elem.Size() * uintptr(max(n, 1))
	if size == 0 || cp.scanned[p] >= size {
		return
	}
	cp.scanned[p] = size
	cp.spans = append(cp.spans, span{at: p, size: size, elem: elem, n: n})
	if c.scan == nil {
		return
	}
	for i := range uintptr(max(n, 1)) {
		c.scan(cp, unsafe.Add(p, i*elem.Size()))
	}
}

// object returns where the copy holds what p points to: as far into its
// region's copy as p is into the region.
func (cp *copier) object(p unsafe.Pointer, size uintptr) unsafe.Pointer {
	if size == 0 {
		return p // zero-size objects hold nothing and may all share an address
	}
	lo, hi := 0, len(cp.regions) // the last region starting at or before p
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if uintptr(cp.regions[m].at) <= uintptr(p) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	i := lo - 1
	if i < 0 || uintptr(p)+size > cp.regions[i].end() {
		panic(cloneError("clone: an object the scan did not see (the world changed between prepare and copy?)"))
	}
	return unsafe.Add(cp.bases[i], uintptr(p)-uintptr(cp.regions[i].at))
}

// copyRegion copies region i's bytes into its place dst (a typed copy:
// the GC sees the pointers written), then fixes its pointers.
func (cp *copier) copyRegion(dst reflect.Value, i int) {
	r, q, c := &cp.regions[i], cp.bases[i], cp.codes[i]
	dst.Set(cp.srcs[i])
	if c.fix == nil {
		return
	}
	size := r.elem.Size()
	for j := range uintptr(max(r.n, 1)) {
		c.fix(cp, unsafe.Add(q, j*size))
	}
}

func (cp *copier) pointerCode(t reflect.Type, c *copyCode) {
	elem := t.Elem()
	var ec *copyCode
	size := elem.Size()
	c.scan = func(cp *copier, p unsafe.Pointer) {
		if q := *(*unsafe.Pointer)(p); q != nil {
			if ec == nil {
				ec = cp.compile(elem)
			}
			cp.see(elem, ec, q, 0)
		}
	}
	c.fix = func(cp *copier, p unsafe.Pointer) {
		if q := *(*unsafe.Pointer)(p); q != nil {
			*(*unsafe.Pointer)(p) = cp.object(q, size)
			cp.record(p)
		}
	}
}

func (cp *copier) sliceCode(t reflect.Type, c *copyCode) {
	elem := t.Elem()
	var ec *copyCode
	size := elem.Size()
	c.scan = func(cp *copier, p unsafe.Pointer) {
		sh := (*sliceHeader)(p)
		if sh.data != nil && sh.cap > 0 {
			if ec == nil {
				ec = cp.compile(elem)
			}
			cp.see(elem, ec, sh.data, sh.cap)
		}
	}
	c.fix = func(cp *copier, p unsafe.Pointer) {
		sh := (*sliceHeader)(p)
		if sh.data != nil && sh.cap > 0 && size > 0 {
			sh.data = cp.object(sh.data, uintptr(sh.cap)*size)
			cp.record(p)
		}
	}
}

func (cp *copier) arrayCode(t reflect.Type, c *copyCode) {
	ec, size, n := cp.compile(t.Elem()), t.Elem().Size(), uintptr(t.Len())
	c.scan = func(cp *copier, p unsafe.Pointer) {
		if ec.scan != nil {
			for i := range n {
				ec.scan(cp, unsafe.Add(p, i*size))
			}
		}
	}
	c.fix = func(cp *copier, p unsafe.Pointer) {
		if ec.fix != nil {
			for i := range n {
				ec.fix(cp, unsafe.Add(p, i*size))
			}
		}
	}
}

// mapCode copies a map entry by entry (a map shared by two fields stays
// shared), through key and value cells the compiled walks read.
func (cp *copier) mapCode(t reflect.Type, c *copyCode) {
	kc, vc := cp.compile(t.Key()), cp.compile(t.Elem())
	c.scan = func(cp *copier, p unsafe.Pointer) {
		m := reflect.NewAt(t, p).Elem()
		if m.Len() == 0 || (kc.scan == nil && vc.scan == nil) {
			return
		}
		k, v := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
		for it := m.MapRange(); it.Next(); {
			k.SetIterKey(it)
			v.SetIterValue(it)
			if kc.scan != nil {
				kc.scan(cp, k.Addr().UnsafePointer())
			}
			if vc.scan != nil {
				vc.scan(cp, v.Addr().UnsafePointer())
			}
		}
	}
	iter := newMapIter(t)
	c.fix = func(cp *copier, p unsafe.Pointer) {
		m := reflect.NewAt(t, p).Elem()
		if m.IsNil() {
			return
		}
		cp.recordDyn(p, c.fix)
		if q, ok := cp.maps[m.UnsafePointer()]; ok {
			m.Set(reflect.NewAt(t, unsafe.Pointer(&q)).Elem())
			return
		}
		n := reflect.MakeMapWithSize(t, m.Len())
		cp.maps[m.UnsafePointer()] = n.UnsafePointer()
		k, v, shared := iter.take()
		defer iter.release(shared)
		for it := m.MapRange(); it.Next(); {
			k.SetIterKey(it)
			v.SetIterValue(it)
			if kc.fix != nil {
				kc.fix(cp, k.Addr().UnsafePointer())
			}
			if vc.fix != nil {
				vc.fix(cp, v.Addr().UnsafePointer())
			}
			n.SetMapIndex(k, v)
		}
		m.Set(n)
	}
}

// directIface says an interface holds a value of t in its data word itself
// rather than in a box: a pointer-shaped type (the compiler's
// types.IsDirectIface: a pointer, map, chan, func or unsafe pointer, or a
// struct or array of exactly one of those).
func directIface(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return true
	case reflect.Struct:
		return t.NumField() == 1 && directIface(t.Field(0).Type)
	case reflect.Array:
		return t.Len() == 1 && directIface(t.Elem())
	}
	return false
}

// interfaceCode copies an interface's dynamic value: a pointer-shaped one
// (in the data word) is fixed in place, a value with no pointers shares
// its box (boxes are immutable), any other value is copied into a new box.
func (cp *copier) interfaceCode(t reflect.Type, c *copyCode) {
	dynamic := func(cp *copier, p unsafe.Pointer) (reflect.Value, *copyCode) {
		v := reflect.NewAt(t, p).Elem()
		if v.IsNil() {
			return reflect.Value{}, nil
		}
		e := v.Elem()
		return e, cp.compile(e.Type())
	}
	c.scan = func(cp *copier, p unsafe.Pointer) {
		e, ec := dynamic(cp, p)
		switch {
		case ec == nil || ec.scan == nil:
		case directIface(e.Type()):
			ec.scan(cp, unsafe.Pointer(&(*[2]unsafe.Pointer)(p)[1]))
		default:
			ec.scan(cp, (*[2]unsafe.Pointer)(p)[1]) // the box holds the value
		}
	}
	c.fix = func(cp *copier, p unsafe.Pointer) {
		e, ec := dynamic(cp, p)
		switch {
		case ec == nil || ec.fix == nil:
		case directIface(e.Type()):
			ec.fix(cp, unsafe.Pointer(&(*[2]unsafe.Pointer)(p)[1]))
		default:
			cp.recordDyn(p, c.fix)
			box := reflect.New(e.Type())
			box.Elem().Set(e)
			ec.fix(cp, box.UnsafePointer())
			reflect.NewAt(t, p).Elem().Set(box.Elem())
		}
	}
}

func (cp *copier) structCode(t reflect.Type, c *copyCode) {
	type field struct {
		off uintptr
		c   *copyCode
	}
	var fs []field
	for i := range t.NumField() {
		f := t.Field(i)
		if (f.Type.Kind() == reflect.Func && cloneFuncs[t.String()+"."+f.Name]) || plain(f.Type) || f.Type.Kind() == reflect.String {
			continue // the bytes copied are the copy's
		}
		fs = append(fs, field{off: f.Offset, c: cp.compile(f.Type)})
	}
	if len(fs) == 0 {
		return
	}
	c.scan = func(cp *copier, p unsafe.Pointer) {
		for _, f := range fs {
			if f.c.scan != nil {
				f.c.scan(cp, unsafe.Add(p, f.off))
			}
		}
	}
	c.fix = func(cp *copier, p unsafe.Pointer) {
		for _, f := range fs {
			if f.c.fix != nil {
				f.c.fix(cp, unsafe.Add(p, f.off))
			}
		}
	}
}

// cloneWorld returns a deep copy of w that runs on exactly as w would,
// its chooser copied with it.
func cloneWorld(cp *copier, w *exWorld) (*exWorld, error) {
	out, err := cp.clonePtr(w)
	if err != nil {
		return nil, err
	}
	c := out.(*exWorld)
	if c.r.K != nil {
		c.r.K.Rebind()
	}
	return c, nil
}

// exTemplate is the world at the promote request, built (and its FIFO part
// run) once per check and copied for every run of the search, instead of
// the build and boot each run took (about two fifths of the search's time
// in the profile). It is never run itself.
type exTemplate struct {
	w  *exWorld
	cp *copier
}

// newTemplate prepares w for copying; its gate's chooser is left out (each
// copy gets its run's own).
func newTemplate(w *exWorld) (*exTemplate, error) {
	inner := w.gate.Inner
	w.gate.Inner = nil
	defer func() { w.gate.Inner = inner }()
	cp := newCopier()
	if err := cp.prepare(w); err != nil {
		return nil, err
	}
	return &exTemplate{w: w, cp: cp}, nil
}

// instance returns a fresh copy of the template whose gate asks ch.
func (t *exTemplate) instance(ch sim.Chooser) (*exWorld, error) {
	inner := t.w.gate.Inner
	t.w.gate.Inner = nil
	out, err := t.cp.copy()
	t.w.gate.Inner = inner
	if err != nil {
		return nil, err
	}
	c := out.(*exWorld)
	if c.r.K != nil {
		c.r.K.Rebind()
	}
	c.gate.Inner = ch
	return c, nil
}
