package script

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"promotesim/storage"
)

// verbs are the command language, in the order the usage lists them;
// each parses its arguments into the verb's command value.
var verbs = []struct {
	name  string
	parse func(verb string, a args) (Command, error)
}{
	{"cluster", parseCluster},
	{"write", parseWrite},
	{"abort", parseWrite},
	{"free", parseWrite},
	{"writes", parseWrites},
	{"read", parseRead},
	{"promote", parseNodeOp},
	{"trigger", parseNodeOp},
	{"crash", parseNodeOp},
	{"power-loss", parsePowerLoss},
	{"rebuild", parseRebuild},
	{"stop", parseStop},
	{"kill", parseKill},
	{"start", parseStart},
	{"drop-slot", parseDropSlot},
	{"run", parseRun},
	{"run-until", parseRunUntil},
	{"status", parseStatus},
	{"slots", parseNodeQuery},
	{"stat-replication", parseNodeQuery},
	{"check", parseCheck},
	{"full-check", parseFullCheck},
	{"plan-stop", parsePlanStop},
	{"plan-promote", parsePlanPromote},
	{"submit", parseSubmit},
	{"submit-read", parseSubmitRead},
	{"fault", parseFault},
	{"heal", parseHeal},
	{"liveness", parseLiveness},
	{"pause", parsePause},
	{"resume", parsePause},
	{"stall-save", parseStallSave},
	{"resume-save", parseStallSave},
	{"checkpoint", parseCheckpoint},
	{"prepare", parsePrepare},
	{"submit-prepare", parsePrepare},
	{"commit-prepared", parseFinishPrepared},
	{"rollback-prepared", parseFinishPrepared},
	{"submit-finish", parseFinishPrepared},
	{"prepared", parsePrepared},
	{"create-logical-slot", parseLogicalSlot},
	{"logical-get-changes", parseLogicalSlot},
	{"logical-slots", parseLogicalSlots},
}

// Parse turns one script line into its command.
func Parse(line string) (Command, error) {
	verb, a, err := parseLine(line)
	if err != nil {
		return nil, err
	}
	for _, v := range verbs {
		if v.name == verb {
			return v.parse(verb, a)
		}
	}
	return nil, fmt.Errorf("unknown command %q", verb)
}

// ParseScript turns a script's lines into commands, skipping blank lines
// and # comments; a bad line is reported with its line number.
func ParseScript(text string) ([]Command, error) {
	var out []Command
	for i, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		c, err := Parse(l)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", i+1, l, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// args are a command line's key=value arguments (a bare word is
// key=true). Looked up by key; never iterated for output.
type args map[string]string

// parseLine splits a command line into its verb and arguments.
func parseLine(line string) (string, args, error) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return "", nil, fmt.Errorf("empty command")
	}
	a := args{}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			v = "true" // a bare word is a flag: "abort"
		}
		if _, dup := a[k]; dup {
			return "", nil, fmt.Errorf("argument %q given twice", k)
		}
		a[k] = v
	}
	return fields[0], a, nil
}

func (a args) int(key string, def int) (int, error) {
	v, ok := a[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: want a whole number", key, v)
	}
	return n, nil
}

func (a args) host(key string) (storage.HostID, error) {
	v, ok := a[key]
	if !ok {
		return 0, fmt.Errorf("missing %s=N", key)
	}
	v = strings.TrimPrefix(v, "n")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 255 {
		return 0, fmt.Errorf("%s=%q: want a node number like 2", key, a[key])
	}
	return storage.HostID(n), nil
}

// node checks a command's arguments (node= plus keys) and returns its node.
func (a args) node(cmd string, keys ...string) (storage.HostID, error) {
	if err := a.only(cmd, append([]string{"node"}, keys...)...); err != nil {
		return 0, err
	}
	return a.host("node")
}

// only rejects arguments a command does not take.
func (a args) only(cmd string, keys ...string) error {
	var bad []string
	// determinism:ok the keys found are sorted before they are printed
	for k := range a {
		found := false
		for _, want := range keys {
			if k == want {
				found = true
			}
		}
		if !found {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("%s does not take %s (it takes: %s)", cmd, strings.Join(bad, ", "), strings.Join(keys, ", "))
	}
	return nil
}
