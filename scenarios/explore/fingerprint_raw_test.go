package explore

import (
	"reflect"
	"slices"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"promotesim/sim"
)

// rawProbe mixes fields that can join a run (integers, bools) with ones
// that cannot (a string, virtual time, an array) and a gap.
type rawProbe struct {
	a  uint64
	b  int32
	c  uint16
	d  bool  // a to d: one run of 15 bytes
	e  int64 // after a byte of padding: alone, no run
	s  string
	n  sim.Time
	f  uint8 // alone again
	g  [2]uint32
	h  bool
	i2 int8 // h, i2: a run
}

// A run covers back-to-back integer and bool fields only, and hashes them
// so that changing any one changes the hash, in both walks alike.
func TestRawRunsHashEveryField(t *testing.T) {
	hs := newStateHasher()
	typ := reflect.TypeOf(rawProbe{})
	p := hs.plan(typ)
	var got [][2]string
	for _, r := range p.runs {
		got = append(got, [2]string{p.names[r.from], p.names[r.to-1]})
	}
	require.Equal(t, [][2]string{{"a", "d"}, {"h", "i2"}}, got)
	require.Equal(t, uintptr(15), p.runs[0].size)

	base := rawProbe{a: 1, b: -2, c: 3, d: true, e: -5, s: "x", n: 7, f: 8, g: [2]uint32{9, 10}, h: true, i2: -11}
	both := func(v rawProbe) (uint64, uint64) {
		ref := hs.value(reflect.ValueOf(v))
		fast := hs.compile(typ).fn(hs, unsafe.Pointer(&v))
		return ref, fast
	}
	r0, f0 := both(base)
	require.Equal(t, r0, f0, "the walks agree")
	for i := range typ.NumField() {
		v := base
		changeProbeField(reflect.ValueOf(&v).Elem().Field(i))
		r, f := both(v)
		require.Equal(t, r, f, "the walks agree with field %s changed", typ.Field(i).Name)
		require.NotEqual(t, r0, r, "changing field %s changes the hash", typ.Field(i).Name)
	}
}

// changeProbeField gives an unexported field of rawProbe another value.
func changeProbeField(f reflect.Value) {
	f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
	switch f.Kind() {
	case reflect.Bool:
		f.SetBool(!f.Bool())
	case reflect.Int8, reflect.Int32, reflect.Int64:
		f.SetInt(f.Int() + 1)
	case reflect.Uint8, reflect.Uint16, reflect.Uint64:
		f.SetUint(f.Uint() + 1)
	case reflect.String:
		f.SetString(f.String() + "y")
	case reflect.Array:
		f.Index(1).SetUint(f.Index(1).Uint() + 1)
	default:
		panic(f.Kind().String())
	}
}

// flatPair is one run end to end: a list of it hashes as its bytes.
type flatPair struct {
	x uint32
	y int16
	z bool
	w uint8
}

type listProbe struct {
	pairs []flatPair
	words [3]uint16
	bytes []byte
}

// A flat list hashes as its bytes in both walks alike, and every element
// and its length count.
func TestRawListsHashEveryElement(t *testing.T) {
	hs := newStateHasher()
	require.True(t, hs.flatElem(reflect.TypeOf(flatPair{})), "flatPair is one run end to end")
	require.False(t, hs.flatElem(reflect.TypeOf(rawProbe{})), "rawProbe has a string and padding")
	typ := reflect.TypeOf(listProbe{})
	hash := func(v listProbe) uint64 {
		ref := hs.value(reflect.ValueOf(v))
		require.Equal(t, ref, hs.compile(typ).fn(hs, unsafe.Pointer(&v)), "the walks agree on %+v", v)
		return ref
	}
	base := func() listProbe {
		return listProbe{pairs: []flatPair{{1, -2, true, 3}, {4, 5, false, 6}}, words: [3]uint16{7, 8, 9}, bytes: []byte("promote")}
	}
	h0 := hash(base())
	changes := []func(*listProbe){
		func(v *listProbe) { v.pairs[1].x++ },
		func(v *listProbe) { v.pairs[0].y = 2 },
		func(v *listProbe) { v.pairs[1].z = true },
		func(v *listProbe) { v.pairs[0].w++ },
		func(v *listProbe) { v.pairs = v.pairs[:1] },
		func(v *listProbe) { v.words[2]++ },
		func(v *listProbe) { v.bytes[6] = 'E' },
		func(v *listProbe) { v.bytes = v.bytes[:6] },
	}
	for i, change := range changes {
		v := base()
		change(&v)
		require.NotEqual(t, h0, hash(v), "change %d", i)
	}
}

// rawHash counts every byte of a run, in its 32-byte lanes, its words and
// its tail alike, and the run's length.
func TestRawHashSeesEveryByte(t *testing.T) {
	b := make([]byte, 75) // two lane blocks, a word, a 3-byte tail
	for i := range b {
		b[i] = byte(i * 7)
	}
	h0 := rawHash(b)
	for i := range b {
		b[i] ^= 0x10
		require.NotEqual(t, h0, rawHash(b), "byte %d", i)
		b[i] ^= 0x10
	}
	require.Equal(t, h0, rawHash(b))
	require.NotEqual(t, h0, rawHash(b[:74]), "the length counts")
	// Swapping two lanes' words changes the hash: the lanes are not summed.
	c := slices.Clone(b)
	copy(c[0:8], b[8:16])
	copy(c[8:16], b[0:8])
	require.NotEqual(t, h0, rawHash(c))
}
