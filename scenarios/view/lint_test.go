package view

import (
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

// nondeterministic is the one file allowed to use the network, locks and
// the OS: the HTTP handler. Capture, forks, scripts, the page and the
// diagrams must be pure functions of their program.
const nondeterministic = "server.go"

var banned = []string{"net", "net/", "sync", "sync/", "time", "os", "os/", "math/rand", "crypto/rand", "runtime", "syscall"}

// TestViewDeterminismLint holds the view package (but server.go) to the
// determinism contract of sim/lint_test.go: no banned imports, no
// goroutines, channels or select, and no map range without a
// "determinism:ok" note on the line before it.
func TestViewDeterminismLint(t *testing.T) {
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo}
	pkgs, err := packages.Load(cfg, ".")
	if err != nil || len(pkgs) != 1 {
		t.Fatalf("load: %v", err)
	}
	p := pkgs[0]
	checked := 0
	for _, f := range p.Syntax {
		name := filepath.Base(p.Fset.Position(f.Pos()).Filename)
		if name == nondeterministic {
			continue
		}
		checked++
		for _, bad := range lintView(p.Fset, f, p.TypesInfo) {
			t.Errorf("%s: %s", name, bad)
		}
	}
	if checked < 5 {
		t.Fatalf("checked only %d files", checked)
	}
}

func lintView(fset *token.FileSet, f *ast.File, info *types.Info) []string {
	var out []string
	at := func(n ast.Node, what string) { out = append(out, fset.Position(n.Pos()).String()+": "+what) }
	for _, imp := range f.Imports {
		path := strings.Trim(imp.Path.Value, `"`)
		for _, b := range banned {
			if path == b || strings.HasSuffix(b, "/") && strings.HasPrefix(path, b) {
				at(imp, "imports "+path)
			}
		}
	}
	ok := map[int]bool{} // looked up only: lines after a determinism:ok note
	for _, cg := range f.Comments {
		if strings.Contains(cg.Text(), "determinism:ok") {
			ok[fset.Position(cg.End()).Line+1] = true
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			at(n, "go statement")
		case *ast.SelectStmt:
			at(n, "select")
		case *ast.ChanType:
			at(n, "channel")
		case *ast.RangeStmt:
			if tv, found := info.Types[n.X]; found {
				if _, isMap := tv.Type.Underlying().(*types.Map); isMap && !ok[fset.Position(n.Pos()).Line] {
					at(n, "range over a map (its order is random; sort, or say why it is safe with // determinism:ok)")
				}
			}
		}
		return true
	})
	return out
}
