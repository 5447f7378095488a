package script_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"promotesim/scenarios/script"
)

// FuzzParse fuzzes the script readers with whole files (seeds: every
// committed script under scenarios/testdata, and testdata/fuzz/FuzzParse,
// issue 15's bad inputs). It guards: no panic; no hang (one input parses
// in well under a second: the readers are linear); every error of
// ParseFile names the file and a line; and the parser's invariant that a
// command prints as a line that parses back to itself, both one line at a
// time (Parse of String) and as a whole file formatted from the commands.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "*", "*.txt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed scripts: %v", err)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		sf, err := script.ParseFile("fuzz.txt", data)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("ParseFile took %v on %d bytes", d, len(data))
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.txt:") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		var formatted strings.Builder
		for _, d := range sf.Directives {
			line := d.Cmd.String()
			again, err := script.Parse(line)
			if err != nil {
				t.Fatalf("line %d: %q prints as %q, which does not parse: %v", d.Line, d.Text, line, err)
			}
			if again.String() != line {
				t.Fatalf("line %d: %q prints as %q, which prints as %q", d.Line, d.Text, line, again.String())
			}
			formatted.WriteString(line + "\n----\n\n")
		}
		back, err := script.ParseFile("formatted.txt", []byte(formatted.String()))
		if err != nil {
			t.Fatalf("the formatted file does not parse: %v\n%s", err, formatted.String())
		}
		if len(back.Directives) != len(sf.Directives) {
			t.Fatalf("formatted file has %d commands, want %d", len(back.Directives), len(sf.Directives))
		}
		for i, d := range back.Directives {
			if d.Cmd.String() != sf.Directives[i].Cmd.String() {
				t.Fatalf("command %d: %q after formatting, want %q", i, d.Cmd.String(), sf.Directives[i].Cmd.String())
			}
		}
	})
}
