package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/packages"
)

// layers ranks the scenarios packages: a package may import only packages
// of a lower rank (doc.go draws the same picture). Tests are free to reach
// up (an external test of check builds swarm worlds).
var layers = map[string]int{ // looked up only
	"hazard":           0,
	"findings":         0,
	"cluster":          1,
	"oracle":           2,
	"check":            3,
	"script":           4,
	"order":            4,
	"swarm":            5,
	"demo":             5,
	"internal/fixture": 5,
	"explore":          6,
	"view":             7,
	"view/serve":       8,
	"crashpoint":       8,
}

func TestImportsRunOneWay(t *testing.T) {
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedImports | packages.NeedFiles}
	pkgs, err := packages.Load(cfg, "promotesim/scenarios/...", "promotesim/cmd/...")
	require.NoError(t, err)
	const prefix = "promotesim/scenarios/"
	seen := 0
	for _, p := range pkgs {
		if p.PkgPath == "promotesim/scenarios" {
			// Only the package doc: the end-to-end tests live here.
			for _, f := range p.GoFiles {
				require.True(t, strings.HasSuffix(f, "/doc.go"), "scenarios holds tests only, not %s", f)
			}
			continue
		}
		for imp := range p.Imports { // determinism:ok each import is checked alone
			name, ok := strings.CutPrefix(imp, prefix)
			if !ok {
				continue
			}
			if name == "internal/fixture" {
				t.Errorf("%s imports the test fixture outside a test", p.PkgPath)
			}
			if !strings.HasPrefix(p.PkgPath, prefix) {
				continue // cmd may use any of them
			}
			self := strings.TrimPrefix(p.PkgPath, prefix)
			rs, ok1 := layers[self]
			ri, ok2 := layers[name]
			require.True(t, ok1 && ok2, "%s or %s has no layer", self, name)
			if ri >= rs {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must run down", self, rs, name, ri)
			}
		}
		if strings.HasPrefix(p.PkgPath, prefix) {
			seen++
		}
	}
	require.Equal(t, len(layers), seen, "every scenarios package has a layer")
}
