package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Level says how much a trace event matters to a reader.
type Level uint8

const (
	// LevelStory events tell the protocol's story: state changes a teacher
	// narrates (BGW state, promote steps, LSNs that matter).
	LevelStory Level = iota + 1
	// LevelStep events record every process step that does something.
	LevelStep
	// LevelDetail events show internals (buffer loads, queue pops, I/O).
	LevelDetail
)

func (l Level) String() string {
	switch l {
	case LevelStory:
		return "story"
	case LevelStep:
		return "step"
	case LevelDetail:
		return "detail"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// ParseLevel accepts the names String returns.
func ParseLevel(s string) (Level, error) {
	for l := LevelStory; l <= LevelDetail; l++ {
		if l.String() == s {
			return l, nil
		}
	}
	return 0, fmt.Errorf("sim: unknown trace level %q (want story, step or detail)", s)
}

type fieldKind uint8

const (
	kindInt fieldKind = iota + 1
	kindUint
	kindStr
	kindLSN
	kindBool
)

// Field is one key=value of a trace event. Fields are plain values (no
// interfaces), so emitting an event allocates nothing.
type Field struct {
	Key  string
	kind fieldKind
	num  uint64
	str  string
}

// Int is a signed field.
func Int(key string, v int64) Field { return Field{Key: key, kind: kindInt, num: uint64(v)} }

// Uint is an unsigned field.
func Uint(key string, v uint64) Field { return Field{Key: key, kind: kindUint, num: v} }

// Str is a string field.
func Str(key, v string) Field { return Field{Key: key, kind: kindStr, str: v} }

// Bool is a boolean field.
func Bool(key string, v bool) Field {
	var n uint64
	if v {
		n = 1
	}
	return Field{Key: key, kind: kindBool, num: n}
}

// LSNField is a WAL position, printed the way PostgreSQL prints it (0/1A8).
func LSNField(key string, v uint64) Field { return Field{Key: key, kind: kindLSN, num: v} }

// Value renders the field's value.
func (f Field) Value() string {
	switch f.kind {
	case kindInt:
		return strconv.FormatInt(int64(f.num), 10)
	case kindUint:
		return strconv.FormatUint(f.num, 10)
	case kindStr:
		return f.str
	case kindLSN:
		return fmt.Sprintf("%X/%X", f.num>>32, f.num&0xFFFFFFFF)
	case kindBool:
		return strconv.FormatBool(f.num != 0)
	}
	return "?"
}

// maxFields bounds an event's fields so events live in a fixed-size ring.
const maxFields = 8

// Event is one trace line.
type Event struct {
	Step   uint64
	Time   Time
	Level  Level
	Actor  string // node/process, e.g. "n2/bgw"
	Verb   string
	fields [maxFields]Field
	nf     uint8
}

// Fields returns the event's fields in emission order.
func (e *Event) Fields() []Field { return e.fields[:e.nf] }

// Format renders the event with fixed columns: step, virtual time,
// node/process, verb, then key=value in emission order. The step number
// anchors diffs between two traces.
func (e *Event) Format() string {
	var b strings.Builder
	e.appendText(&b)
	return b.String()
}

func (e *Event) appendText(b *strings.Builder) {
	fmt.Fprintf(b, "%6d %6d %-14s %-22s", e.Step, e.Time, e.Actor, e.Verb)
	for _, f := range e.fields[:e.nf] {
		b.WriteByte(' ')
		b.WriteString(f.Key)
		b.WriteByte('=')
		v := f.Value()
		if f.kind == kindStr && needsQuote(v) {
			v = strconv.Quote(v)
		}
		b.WriteString(v)
	}
	// Trailing spaces of short lines would make golden files fragile.
	s := strings.TrimRight(b.String(), " ")
	b.Reset()
	b.WriteString(s)
}

// needsQuote reports whether a string value must be quoted to keep the line
// one line of unambiguous key=value pairs: empty, or holding a space, a quote,
// '=', or a control character.
func needsQuote(v string) bool {
	if v == "" {
		return true
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c == '"' || c == '=' || c == 0x7F {
			return true
		}
	}
	return false
}

// JSON renders the event as one JSON object (jsonl output).
func (e *Event) JSON() string {
	m := make(map[string]any, 5+int(e.nf))
	m["step"] = e.Step
	m["time"] = int64(e.Time)
	m["level"] = e.Level.String()
	m["actor"] = e.Actor
	m["verb"] = e.Verb
	kv := make(map[string]string, e.nf)
	for _, f := range e.fields[:e.nf] {
		kv[f.Key] = f.Value()
	}
	m["fields"] = kv
	out, err := json.Marshal(m) // encoding/json sorts map keys: deterministic
	if err != nil {
		Failf("sim: json: %v", err)
	}
	return string(out)
}

// Format selects how a Trace writes events.
type Format uint8

const (
	// FormatText writes fixed-column lines.
	FormatText Format = iota + 1
	// FormatJSONL writes one JSON object per line.
	FormatJSONL
)

// ParseFormat accepts "text" and "jsonl".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "text":
		return FormatText, nil
	case "jsonl":
		return FormatJSONL, nil
	}
	return 0, fmt.Errorf("sim: unknown trace format %q (want text or jsonl)", s)
}

// Trace records events. Every event, whatever its level, feeds the trace hash
// (so the hash does not depend on how verbose the output is); events at or
// below the output level are written to the sink; the last events are kept in
// a bounded ring for violation reports, never an unbounded log.
type Trace struct {
	out     io.Writer
	level   Level
	format  Format
	hash    uint64
	count   uint64
	ring    []Event
	next    int
	full    bool
	scratch Event // the event being written when there is no ring
}

// TraceConfig configures a Trace.
type TraceConfig struct {
	Out    io.Writer // nil: write nothing
	Level  Level     // events above this level are not written (0: LevelStep)
	Format Format    // 0: FormatText
	Ring   int       // events kept for reports (0: 64, or a scheduler's TailLines; negative: none)
}

// NewTrace returns an empty trace.
func NewTrace(cfg TraceConfig) *Trace {
	if cfg.Level == 0 {
		cfg.Level = LevelStep
	}
	if cfg.Format == 0 {
		cfg.Format = FormatText
	}
	n := cfg.Ring
	if n == 0 {
		n = 64
	}
	if n < 0 {
		n = 0
	}
	return &Trace{out: cfg.Out, level: cfg.Level, format: cfg.Format, hash: hashSeed, ring: make([]Event, n)}
}

// hashSeed starts every trace's hash (FNV's offset basis, kept for continuity).
const hashSeed = 14695981039346656037

// Emit records one event. Fields beyond maxFields are an error in the caller.
func (t *Trace) Emit(step uint64, now Time, level Level, actor, verb string, fields ...Field) {
	if len(fields) > maxFields {
		Failf("sim: trace event %s has %d fields, at most %d", verb, len(fields), maxFields)
	}
	t.count++
	h := t.hash
	h = hashUint(h, step)
	h = hashUint(h, uint64(now))
	h = hashUint(h, uint64(level))
	h = hashStr(h, actor)
	h = hashStr(h, verb)
	for i := range fields {
		f := &fields[i]
		h = hashStr(h, f.Key)
		h = hashUint(h, uint64(f.kind))
		h = hashUint(h, f.num)
		h = hashStr(h, f.str)
	}
	t.hash = h
	write := t.out != nil && level <= t.level
	if len(t.ring) == 0 && !write {
		return
	}
	// Fill the ring slot in place: an Event is a few hundred bytes, and
	// building it on the stack first copied it twice.
	var e *Event
	if len(t.ring) > 0 {
		e = &t.ring[t.next]
		t.next++
		if t.next == len(t.ring) {
			t.next = 0
			t.full = true
		}
	} else {
		e = &t.scratch
	}
	e.Step, e.Time, e.Level, e.Actor, e.Verb = step, now, level, actor, verb
	e.nf = uint8(copy(e.fields[:], fields))
	if write {
		var line string
		if t.format == FormatJSONL {
			line = e.JSON()
		} else {
			line = e.Format()
		}
		if _, err := io.WriteString(t.out, line+"\n"); err != nil {
			// The sink is the user's terminal or a file; losing it must not
			// change the simulation, so stop writing rather than fail the run.
			t.out = nil
		}
	}
}

// Hash returns the FNV-1a hash of every event so far. Two runs of the same seed
// must end with the same hash.
func (t *Trace) Hash() uint64 { return t.hash }

// Count returns how many events were emitted.
func (t *Trace) Count() uint64 { return t.count }

// Tail returns up to n of the last events kept in the ring, oldest first,
// rendered as text.
func (t *Trace) Tail(n int) []string {
	var evs []Event
	if t.full {
		evs = append(evs, t.ring[t.next:]...)
	}
	evs = append(evs, t.ring[:t.next]...)
	if n >= 0 && len(evs) > n {
		evs = evs[len(evs)-n:]
	}
	out := make([]string, len(evs))
	for i := range evs {
		out[i] = evs[i].Format()
	}
	return out
}

// The trace hash is a fingerprint for comparing two runs, not a
// cryptographic digest: each 64-bit word is folded in with one multiply and
// one xor-shift (FNV-1a byte by byte cost a dependent multiply per byte and
// dominated Emit).

const hashMul = 0x9E3779B97F4A7C15

func hashUint(h, v uint64) uint64 {
	h = (h ^ v) * hashMul
	return h ^ (h >> 32)
}

// hashStr folds s in eight bytes at a time, then its length, so field
// boundaries count ("ab","c" differs from "a","bc").
func hashStr(h uint64, s string) uint64 {
	n := len(s)
	for len(s) >= 8 {
		v := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = hashUint(h, v)
		s = s[8:]
	}
	// The last 0..7 bytes, little-endian, in at most three loads.
	var v uint64
	i := 0
	if len(s) >= 4 {
		v = uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24
		i = 4
	}
	if len(s)-i >= 2 {
		v |= (uint64(s[i]) | uint64(s[i+1])<<8) << (8 * i)
		i += 2
	}
	if len(s)-i >= 1 {
		v |= uint64(s[i]) << (8 * i)
	}
	h = hashUint(h, v)
	return hashUint(h, uint64(n))
}
