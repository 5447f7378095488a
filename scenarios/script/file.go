package script

import (
	"errors"
	"fmt"
	"strings"
)

// MaxFileBytes caps a script file (explore.ReadScript reads one): the largest committed script is a few
// hundred KiB, and a file past this is not a script (replay -script
// /dev/zero once read until memory ran out).
const MaxFileBytes = 8 << 20

// MaxSteps caps every step budget a script line takes (run steps=,
// run-until budget=, the cluster line's budget=, liveness budget=): the
// longest committed script waits 5000 steps, and a budget of 2^63 once ran
// with no end and printed nothing.
const MaxSteps = 1_000_000

// Directive is one command of a datadriven script file: its line, the
// command, and the output the file records for it after its ----.
type Directive struct {
	Line     int // the command's line number (1-based)
	Text     string
	Cmd      Command
	Expected string // the recorded output, each line ending in "\n"
}

// File is a script in the datadriven format the script tests read
// (cockroachdb/datadriven's test_data_reader.go): a command line, ----,
// its expected output to a blank line (or, in the ----/---- form, to a
// closing ---- ----); # comments and blank lines between commands.
// Comments is the # lines before the first command (a counterexample's
// header).
type File struct {
	Path       string
	Comments   []Comment
	Directives []Directive
}

// Comment is one # line of a file's header and its line number.
type Comment struct {
	Line int
	Text string
}

// ErrNoCommands marks a file without a single command.
var ErrNoCommands = errors.New("no commands")

// ParseFile parses a script file's text. Every error names path and the
// line at fault: a line that is no command or has a bad argument, a
// command with no ---- after it, and a command line followed by another
// before its ---- (datadriven would take the second as the first's input
// and silently never run it).
func ParseFile(path string, data []byte) (*File, error) {
	lines := strings.Split(string(data), "\n")
	f := &File{Path: path}
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		switch {
		case l == "":
			continue
		case strings.HasPrefix(l, "#"):
			if len(f.Directives) == 0 {
				f.Comments = append(f.Comments, Comment{i + 1, l})
			}
			continue
		case l == "----":
			return nil, fmt.Errorf("%s:%d: ---- without a command before it", path, i+1)
		}
		d, next, err := parseDirective(path, lines, i)
		if err != nil {
			return nil, err
		}
		f.Directives = append(f.Directives, d)
		i = next
	}
	if len(f.Directives) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrNoCommands)
	}
	return f, nil
}

// parseDirective parses the command on line i and its expected output; it
// returns the index of the last line it consumed.
func parseDirective(path string, lines []string, i int) (Directive, int, error) {
	d := Directive{Line: i + 1, Text: strings.TrimSpace(lines[i])}
	for strings.HasSuffix(d.Text, `\`) && i+1 < len(lines) {
		i++
		d.Text = strings.TrimSuffix(d.Text, `\`) + " " + strings.TrimSpace(lines[i])
	}
	cmd, err := Parse(d.Text)
	if err != nil {
		return d, 0, fmt.Errorf("%s:%d: %s: %v", path, d.Line, d.Text, err)
	}
	d.Cmd = cmd
	j := i + 1
	for ; j < len(lines) && lines[j] != "----"; j++ {
		if strings.TrimSpace(lines[j]) != "" {
			return d, 0, fmt.Errorf("%s:%d: %q follows the command of line %d before its ----: a missing ---- would make it the command's input, never run",
				path, j+1, strings.TrimSpace(lines[j]), d.Line)
		}
	}
	if j == len(lines) {
		return d, 0, fmt.Errorf("%s:%d: %s: no ---- and expected output after it (the file is cut short?)", path, d.Line, d.Text)
	}
	var b strings.Builder
	if j+1 < len(lines) && lines[j+1] == "----" {
		// The ----/---- form: output with blank lines, to ---- ----.
		k := j + 2
		for ; k+1 < len(lines) && !(lines[k] == "----" && lines[k+1] == "----"); k++ {
			b.WriteString(lines[k] + "\n")
		}
		if k+1 >= len(lines) {
			return d, 0, fmt.Errorf("%s:%d: %s: its ----/---- output has no closing ---- ----", path, d.Line, d.Text)
		}
		d.Expected = b.String()
		return d, k + 1, nil
	}
	k := j + 1
	for ; k < len(lines) && strings.TrimSpace(lines[k]) != ""; k++ {
		b.WriteString(lines[k] + "\n")
	}
	d.Expected = b.String()
	return d, k, nil
}
