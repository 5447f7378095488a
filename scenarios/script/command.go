package script

import (
	"strconv"
	"strings"

	"promotesim/storage"
)

// Command is one script line as a value. It prints itself as its script
// line (Parse of String gives the command back) and runs on a Runner
// (Runner.Run). The verb files define one type per verb, with its parser,
// its line and its run.
type Command interface {
	String() string
	run(r *Runner) (string, error)
}

// Verb is the command's verb, the first word of its line.
func Verb(c Command) string {
	v, _, _ := strings.Cut(c.String(), " ")
	return v
}

// Lines renders commands as their script lines.
func Lines(cmds []Command) []string {
	out := make([]string, len(cmds))
	for i, c := range cmds {
		out[i] = c.String()
	}
	return out
}

// line builds a command's script line: the verb, then its arguments in
// the verb's canonical order.
type line struct{ b strings.Builder }

func newLine(verb string) *line {
	l := &line{}
	l.b.WriteString(verb)
	return l
}

// kv appends key=value.
func (l *line) kv(key, value string) *line {
	l.b.WriteString(" " + key + "=" + value)
	return l
}

// num appends key=n.
func (l *line) num(key string, n int) *line { return l.kv(key, strconv.Itoa(n)) }

// node appends node=N.
func (l *line) node(h storage.HostID) *line { return l.num("node", int(h)) }

// word appends a bare word (a flag: "check all").
func (l *line) word(w string) *line {
	l.b.WriteString(" " + w)
	return l
}

func (l *line) String() string { return l.b.String() }
