package script

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"promotesim/storage"
)

// Args are a command line's key=value arguments (a bare word is
// key=true). Looked up by key; never iterated for output.
type Args map[string]string

// ParseLine splits a command line into its verb and arguments.
func ParseLine(line string) (string, Args, error) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return "", nil, fmt.Errorf("empty command")
	}
	a := Args{}
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

func (a Args) int(key string, def int) (int, error) {
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

func (a Args) host(key string) (storage.HostID, error) {
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
func (a Args) node(cmd string, keys ...string) (storage.HostID, error) {
	if err := a.only(cmd, append([]string{"node"}, keys...)...); err != nil {
		return 0, err
	}
	return a.host("node")
}

// only rejects arguments a command does not take.
func (a Args) only(cmd string, keys ...string) error {
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
