package sim_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"promotesim/sim"
)

func TestTraceFixedColumns(t *testing.T) {
	var buf bytes.Buffer
	tr := sim.NewTrace(sim.TraceConfig{Out: &buf})
	tr.Emit(12, 340, sim.LevelStory, "n2/bgw", "enter-waiting-reset", sim.LSNField("replayed", 0x1A8), sim.Uint("n", 3))
	tr.Emit(123456, 7, sim.LevelStep, "n1/startup-process", "x", sim.Int("d", -4), sim.Bool("ok", true), sim.Bool("bad", false))
	tr.Emit(1, 0, sim.LevelStep, "a", "b")
	want := "" +
		"    12    340 n2/bgw         enter-waiting-reset    replayed=0/1A8 n=3\n" +
		"123456      7 n1/startup-process x                      d=-4 ok=true bad=false\n" +
		"     1      0 a              b\n"
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestLSNPrinting(t *testing.T) {
	for _, c := range []struct {
		lsn  uint64
		want string
	}{
		{0, "0/0"},
		{0x1A8, "0/1A8"},
		{0xFFFFFFFF, "0/FFFFFFFF"},
		{0x1_00000000, "1/0"},
		{0x2A_0000BEEF, "2A/BEEF"},
		{^uint64(0), "FFFFFFFF/FFFFFFFF"},
	} {
		if got := sim.LSNField("l", c.lsn).Value(); got != c.want {
			t.Errorf("LSN %#x printed %s, want %s", c.lsn, got, c.want)
		}
	}
}

func TestTraceQuoting(t *testing.T) {
	tr := sim.NewTrace(sim.TraceConfig{})
	tr.Emit(1, 0, sim.LevelStep, "a", "v",
		sim.Str("plain", "idle"),
		sim.Str("space", "two words"),
		sim.Str("eq", "a=b"),
		sim.Str("quote", `say "hi"`),
		sim.Str("nl", "line\nbreak"),
		sim.Str("empty", ""),
		sim.Str("path", "pg_wal/0001"))
	got := tr.Tail(1)[0]
	want := `plain=idle space="two words" eq="a=b" quote="say \"hi\"" nl="line\nbreak" empty="" path=pg_wal/0001`
	if !strings.HasSuffix(got, " "+want) || strings.Contains(got, "\n") {
		t.Fatalf("got %q", got)
	}
}

func TestTraceJSONL(t *testing.T) {
	var buf bytes.Buffer
	tr := sim.NewTrace(sim.TraceConfig{Out: &buf, Format: sim.FormatJSONL, Level: sim.LevelDetail})
	tr.Emit(3, 9, sim.LevelDetail, "n1/bgw", "load", sim.LSNField("lsn", 0x1_000001A8), sim.Str("page", "rel 1"), sim.Int("n", -2))
	tr.Emit(4, 10, sim.LevelStory, "n1/bgw", "done")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines %q", lines)
	}
	want := `{"actor":"n1/bgw","fields":{"lsn":"1/1A8","n":"-2","page":"rel 1"},"level":"detail","step":3,"time":9,"verb":"load"}`
	if lines[0] != want {
		t.Fatalf("got  %s\nwant %s", lines[0], want)
	}
	var e struct {
		Step   uint64
		Level  string
		Fields map[string]string
	}
	if err := json.Unmarshal([]byte(lines[1]), &e); err != nil || e.Step != 4 || e.Level != "story" || len(e.Fields) != 0 {
		t.Fatalf("%s: %+v %v", lines[1], e, err)
	}
}

func TestTraceLevelFiltersOutput(t *testing.T) {
	var buf bytes.Buffer
	tr := sim.NewTrace(sim.TraceConfig{Out: &buf, Level: sim.LevelStory})
	tr.Emit(1, 0, sim.LevelStory, "a", "story")
	tr.Emit(2, 0, sim.LevelStep, "a", "step")
	tr.Emit(3, 0, sim.LevelDetail, "a", "detail")
	if strings.Count(buf.String(), "\n") != 1 || !strings.Contains(buf.String(), "story") {
		t.Fatalf("story level wrote %q", buf.String())
	}
	// The ring keeps every level: a violation report shows the details.
	if tail := tr.Tail(-1); len(tail) != 3 || tr.Count() != 3 {
		t.Fatalf("tail %q", tail)
	}
}

func TestTraceRingBounded(t *testing.T) {
	tr := sim.NewTrace(sim.TraceConfig{Ring: 4})
	if len(tr.Tail(10)) != 0 {
		t.Fatal("empty trace has a tail")
	}
	for i := range uint64(10) {
		tr.Emit(i+1, sim.Time(i), sim.LevelStep, "a", "e", sim.Uint("i", i+1))
	}
	tail := tr.Tail(100)
	if len(tail) != 4 || !strings.HasSuffix(tail[0], "i=7") || !strings.HasSuffix(tail[3], "i=10") {
		t.Fatalf("tail %q", tail)
	}
	if got := tr.Tail(2); len(got) != 2 || !slices.Equal(got, tail[2:]) {
		t.Fatalf("Tail(2) %q", got)
	}
	if len(tr.Tail(0)) != 0 {
		t.Fatal("Tail(0)")
	}
	// Partially filled ring.
	tr = sim.NewTrace(sim.TraceConfig{Ring: 4})
	tr.Emit(1, 0, sim.LevelStep, "a", "e")
	tr.Emit(2, 0, sim.LevelStep, "a", "f")
	if got := tr.Tail(-1); len(got) != 2 || !strings.HasSuffix(got[1], " f") {
		t.Fatalf("tail %q", got)
	}
	if len(sim.NewTrace(sim.TraceConfig{Ring: -1}).Tail(5)) != 0 {
		t.Fatal("no ring, yet a tail")
	}
	// The default ring is 64 events.
	tr = sim.NewTrace(sim.TraceConfig{})
	for i := range uint64(100) {
		tr.Emit(i, 0, sim.LevelDetail, "a", "e")
	}
	if len(tr.Tail(-1)) != 64 {
		t.Fatalf("default ring holds %d", len(tr.Tail(-1)))
	}
}

func TestTraceHashIgnoresOutput(t *testing.T) {
	emitAll := func(tr *sim.Trace, change bool) uint64 {
		tr.Emit(1, 0, sim.LevelStory, "n1/startup", "promote", sim.LSNField("lsn", 0x1A8))
		tr.Emit(2, 1, sim.LevelStep, "n1/bgw", "replay", sim.Str("s", "a b"), sim.Bool("x", change))
		tr.Emit(3, 2, sim.LevelDetail, "n1/bgw", "load", sim.Int("i", -1), sim.Uint("u", 1))
		return tr.Hash()
	}
	var b1, b2, b3 bytes.Buffer
	cfgs := []sim.TraceConfig{
		{},
		{Ring: -1},
		{Out: &b1, Level: sim.LevelStory},
		{Out: &b2, Level: sim.LevelDetail, Format: sim.FormatJSONL},
		{Out: &b3, Level: sim.LevelStep, Ring: 1},
		{Out: failWriter{}, Level: sim.LevelDetail},
	}
	want := emitAll(sim.NewTrace(cfgs[0]), false)
	for i, cfg := range cfgs {
		if got := emitAll(sim.NewTrace(cfg), false); got != want {
			t.Errorf("config %d: hash %x, want %x", i, got, want)
		}
	}
	if emitAll(sim.NewTrace(sim.TraceConfig{}), true) == want {
		t.Error("a changed field did not change the hash")
	}
	// Field boundaries count: "ab"+"c" is not "a"+"bc".
	h := func(k, v string) uint64 {
		tr := sim.NewTrace(sim.TraceConfig{})
		tr.Emit(1, 0, sim.LevelStep, "a", "v", sim.Str(k, v))
		return tr.Hash()
	}
	if h("ab", "c") == h("a", "bc") {
		t.Error("hash ignores field boundaries")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errClosed }

var errClosed = &json.UnsupportedValueError{Str: "closed"}

func TestTraceLimitsAndParsing(t *testing.T) {
	tr := sim.NewTrace(sim.TraceConfig{})
	fs := make([]sim.Field, 9)
	for i := range fs {
		fs[i] = sim.Int("k", int64(i))
	}
	mustPanic(t, "9 fields", func() { tr.Emit(1, 0, sim.LevelStep, "a", "v", fs...) })
	tr.Emit(1, 0, sim.LevelStep, "a", "v", fs[:8]...)
	for _, l := range []sim.Level{sim.LevelStory, sim.LevelStep, sim.LevelDetail} {
		if got, err := sim.ParseLevel(l.String()); err != nil || got != l {
			t.Fatalf("ParseLevel(%s) = %v, %v", l, got, err)
		}
	}
	if _, err := sim.ParseLevel("verbose"); err == nil || sim.Level(9).String() != "Level(9)" {
		t.Fatal("bad level accepted")
	}
	if f, err := sim.ParseFormat("jsonl"); err != nil || f != sim.FormatJSONL {
		t.Fatal("jsonl")
	}
	if f, err := sim.ParseFormat("text"); err != nil || f != sim.FormatText {
		t.Fatal("text")
	}
	if _, err := sim.ParseFormat("xml"); err == nil {
		t.Fatal("xml accepted")
	}
	if sim.Time(42).String() != "42" {
		t.Fatal("Time")
	}
}
