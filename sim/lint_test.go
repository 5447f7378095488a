package sim_test

// The determinism lint (after pebble's internal/lint): core packages must not
// reach outside the simulation for concurrency, time, randomness or I/O, and
// must not let map iteration order leak into behaviour. Each finding names
// file:line and says what to use instead.

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

// nondeterministic are the packages (relative to the module root) allowed
// to reach outside the simulation, each with why. Every other package of
// the module is deterministic and linted, so a new package is covered the
// day it is written.
var nondeterministic = map[string]string{ // looked up only
	"cmd/promotesim":             "the command line: flags, files, wall-clock budgets, exit codes",
	"scenarios/explore":          "the explorer: a worker pool over worlds, wall-time budgets, counterexample files",
	"sim/simtest":                "test helpers: golden files and running a world twice",
	"scenarios/internal/fixture": "test helpers: reading script files",
	"scenarios/view/serve":       "the viewer's HTTP handler: net/http, a lock around its cache of captured branches",
}

// bannedImports maps an import path (or, ending in "/", a path prefix) to the
// hint shown when a core package imports it.
var bannedImports = []struct{ path, hint string }{
	{"sync", "each actor step is already one atomic critical section: no locks"},
	{"sync/", "each actor step is already one atomic critical section: no atomics"},
	{"time", "use virtual time: sim.Ctx.Now, and sim.Ctx.Wake for timers instead of time"},
	{"os", "no OS access: storage is simulated, output goes through sim.Trace"},
	{"os/", "no OS access: storage is simulated, output goes through sim.Trace"},
	{"syscall", "no OS access: storage is simulated, output goes through sim.Trace"},
	{"net", "no network: replication messages are actor messages (sim.Ctx.Send)"},
	{"net/", "no network: replication messages are actor messages (sim.Ctx.Send)"},
	{"math/rand", "draw from a stream forked from the run's seed (sim.Rand.Fork) or ask the sim.Chooser"},
	{"math/rand/v2", "draw from a stream forked from the run's seed (sim.Rand.Fork) or ask the sim.Chooser"},
	{"crypto/rand", "draw from a stream forked from the run's seed (sim.Rand.Fork) or ask the sim.Chooser"},
	{"runtime", "behaviour must not depend on the Go runtime (scheduler, GC, GOMAXPROCS)"},
	{"runtime/", "behaviour must not depend on the Go runtime (scheduler, GC, GOMAXPROCS)"},
	{"log", "emit trace events through sim.Ctx (Story, Log, Detail) instead of logging"},
	{"log/", "emit trace events through sim.Ctx (Story, Log, Detail) instead of logging"},
}

const (
	hintGo     = "core packages are deterministic: no goroutines; model concurrency as actors stepped by sim.Scheduler"
	hintChan   = "no channels: actors communicate with sim.Ctx.Send, delivered by the scheduler"
	hintSelect = "no select: the sim.Chooser decides which enabled step runs"
	hintMap    = "map iteration order is random: iterate a sorted slice or a btree, or put a `// determinism:ok <why>` comment on or above a range whose order cannot leak"
)

// allowMapRange is the comment that accepts one range over a map (or over
// maps.Keys/Values/All) on its line or the line above.
const allowMapRange = "determinism:ok"

type finding struct {
	pos  token.Position
	kind string // go, chan, select, import, maprange
	hint string
}

func (f finding) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", f.pos.Filename, f.pos.Line, f.kind, f.hint)
}

// lintFile checks one parsed file. info may be nil (no map-range check by
// type then; calls of maps.Keys/Values/All are still caught).
func lintFile(fset *token.FileSet, f *ast.File, info *types.Info) []finding {
	var out []finding
	add := func(n ast.Node, kind, hint string) {
		out = append(out, finding{pos: fset.Position(n.Pos()), kind: kind, hint: hint})
	}
	mapsName := ""
	for _, imp := range f.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			continue
		}
		for _, b := range bannedImports {
			if path == b.path || (strings.HasSuffix(b.path, "/") && strings.HasPrefix(path, b.path)) {
				add(imp, "import", fmt.Sprintf("import %q: %s", path, b.hint))
				break
			}
		}
		if path == "maps" {
			mapsName = "maps"
			if imp.Name != nil {
				mapsName = imp.Name.Name
			}
		}
	}
	allowed := map[int]bool{} // lines carrying the allow comment
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if strings.Contains(c.Text, allowMapRange) {
				allowed[fset.Position(c.Pos()).Line] = true
			}
		}
	}
	isAllowed := func(n ast.Node) bool {
		l := fset.Position(n.Pos()).Line
		return allowed[l] || allowed[l-1]
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			add(n, "go", hintGo)
		case *ast.SelectStmt:
			add(n, "select", hintSelect)
		case *ast.ChanType:
			add(n, "chan", hintChan)
		case *ast.SendStmt:
			add(n, "chan", hintChan)
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				add(n, "chan", hintChan)
			}
		case *ast.RangeStmt:
			if isAllowed(n) {
				break
			}
			if info != nil {
				if t := info.TypeOf(n.X); t != nil {
					if _, ok := t.Underlying().(*types.Map); ok {
						add(n, "maprange", hintMap)
						break
					}
				}
			}
			if call, ok := n.X.(*ast.CallExpr); ok && mapsName != "" {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok && id.Name == mapsName &&
						(sel.Sel.Name == "Keys" || sel.Sel.Name == "Values" || sel.Sel.Name == "All") {
						add(n, "maprange", hintMap)
					}
				}
			}
		}
		return true
	})
	return out
}

// deterministicPackages lists the module's packages under root that are
// not in nondeterministic (relative directories, in order), and fails on
// an exemption that names no package.
func deterministicPackages(t *testing.T, root string) []string {
	t.Helper()
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedFiles, Dir: root}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		t.Fatalf("listing the module's packages: %v", err)
	}
	seen := map[string]bool{} // looked up only
	var out []string
	for _, p := range pkgs {
		if len(p.GoFiles) == 0 {
			continue
		}
		rel, err := filepath.Rel(root, filepath.Dir(p.GoFiles[0]))
		if err != nil {
			t.Fatal(err)
		}
		rel = filepath.ToSlash(rel)
		seen[rel] = true
		if _, exempt := nondeterministic[rel]; !exempt {
			out = append(out, rel)
		}
	}
	for _, dir := range slices.Sorted(maps.Keys(nondeterministic)) {
		if !seen[dir] {
			t.Errorf("nondeterministic lists %s, which is no package of the module", dir)
		}
	}
	slices.Sort(out)
	return out
}

// lintPackages runs the lint over the packages in dirs (relative to
// root): the syntax checks over every non-test file, whatever its build
// constraints, then the map ranges, which need the packages type-checked.
// Type errors (a package mid-edit) are logged, and the check goes on with
// what was resolved.
func lintPackages(t *testing.T, root string, dirs []string) []finding {
	t.Helper()
	var patterns []string
	var findings []finding
	fset := token.NewFileSet()
	for _, dir := range dirs {
		files := nonTestGoFiles(t, filepath.Join(root, dir))
		if len(files) == 0 {
			continue
		}
		patterns = append(patterns, "./"+dir)
		for _, name := range files {
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				t.Errorf("%v", err)
				continue
			}
			for _, fd := range lintFile(fset, f, nil) {
				if fd.kind != "maprange" {
					findings = append(findings, fd)
				}
			}
		}
	}
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo,
		Dir:  root,
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		t.Fatalf("loading %v: %v", patterns, err)
	}
	for _, p := range pkgs {
		for _, e := range p.Errors {
			t.Logf("%s: %v (map ranges in it may go unchecked)", p.PkgPath, e)
		}
		for _, f := range p.Syntax {
			for _, fd := range lintFile(p.Fset, f, p.TypesInfo) {
				if fd.kind == "maprange" {
					findings = append(findings, fd)
				}
			}
		}
	}
	for i := range findings {
		if rel, err := filepath.Rel(root, findings[i].pos.Filename); err == nil {
			findings[i].pos.Filename = filepath.ToSlash(rel)
		}
	}
	slices.SortFunc(findings, func(a, b finding) int { return strings.Compare(a.String(), b.String()) })
	return findings
}

func TestDeterminismLint(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dirs := deterministicPackages(t, root)
	// The packages every verdict rests on must be among them.
	for _, want := range []string{"sim", "storage", "logindex", "shmem", "bgw", "startup", "postmaster",
		"scenarios/hazard", "scenarios/cluster", "scenarios/oracle", "scenarios/check", "scenarios/script",
		"scenarios/swarm", "scenarios/demo", "scenarios/view"} {
		if !slices.Contains(dirs, want) {
			t.Errorf("%s is not linted as deterministic", want)
		}
	}
	for _, fd := range lintPackages(t, root, dirs) {
		t.Error(fd)
	}
}

// The whole lint (package discovery, loading, both passes) fails on a
// deterministic package that imports os, time or sync or ranges over a map
// without the note, and passes the noted range and the package's tests.
func TestDeterminismLintFailsOnBadPackage(t *testing.T) {
	root := t.TempDir()
	write := func(rel, src string) {
		t.Helper()
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module lintsample\n\ngo 1.26\n")
	write("model/model.go", `package model

import (
	"os"
	"sync"
	"time"
)

var mu sync.Mutex

func Leak(m map[int]int) (n int) {
	for k := range m {
		n = n*31 + k
	}
	// determinism:ok a sum does not depend on the order
	for k := range m {
		n += k
	}
	_, _ = os.Getpid(), time.Now()
	return n
}
`)
	write("model/model_test.go", "package model\n\nimport \"os\"\n\nvar _ = os.Getpid\n")
	var got []string
	for _, fd := range lintPackages(t, root, []string{"model"}) {
		got = append(got, fmt.Sprintf("%s:%d:%s", fd.pos.Filename, fd.pos.Line, fd.kind))
	}
	want := []string{"model/model.go:12:maprange", "model/model.go:4:import", "model/model.go:5:import", "model/model.go:6:import"}
	if !slices.Equal(got, want) {
		t.Fatalf("findings\n got %q\nwant %q", got, want)
	}
}

func nonTestGoFiles(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			out = append(out, filepath.Join(dir, n))
		}
	}
	return out
}

// The lint must catch what it claims to: run it over a sample with one of
// each violation.
func TestDeterminismLintCatchesSample(t *testing.T) {
	const src = `package sample

import (
	crand "crypto/rand"
	"maps"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"sync"
	"time"
)

func f(m map[string]int) {
	var mu sync.Mutex
	ch := make(chan int)
	go func() { ch <- 1 }()
	select {
	case <-ch:
	case <-time.After(time.Second):
	}
	for k := range m {
		_ = k
	}
	// determinism:ok the keys are sorted before use
	for k := range m {
		_ = k
	}
	for k := range maps.Keys(m) {
		_ = k
	}
	var s []int
	for range s {
	}
	_, _, _, _, _ = mu, crand.Reader, rand.N(3), http.Get, exec.Command
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "sample.go", src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{
		Importer: noImports{},
		Error:    func(error) {}, // the imports do not resolve; m's type does
	}
	_, _ = conf.Check("sample", fset, []*ast.File{f}, info) // errors expected
	var got []string
	for _, fd := range lintFile(fset, f, info) {
		got = append(got, fmt.Sprintf("%d:%s", fd.pos.Line, fd.kind))
		if fd.hint == "" || fd.pos.Filename != "sample.go" {
			t.Errorf("finding without hint or file: %v", fd)
		}
	}
	want := []string{
		"4:import", "6:import", "7:import", "8:import", "9:import", "10:import",
		"15:chan",          // make(chan int)
		"16:go", "16:chan", // go func() { ch <- 1 }()
		"17:select",
		"18:chan", "19:chan", // receives
		"21:maprange",
		"28:maprange", // maps.Keys
	}
	if !slices.Equal(got, want) {
		t.Fatalf("findings\n got %q\nwant %q", got, want)
	}
	// The hint for time names the replacement.
	for _, fd := range lintFile(fset, f, info) {
		if fd.pos.Line == 10 && !strings.Contains(fd.hint, "sim.Ctx.Wake for timers instead of time") {
			t.Errorf("time hint: %s", fd.hint)
		}
	}
}

type noImports struct{}

func (noImports) Import(path string) (*types.Package, error) {
	return nil, fmt.Errorf("sample imports nothing (%s)", path)
}
