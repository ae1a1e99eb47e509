package meltica_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// banned are imports no package of this module may use, with what to use.
var banned = map[string]string{
	"encoding/json":                "github.com/goccy/go-json",
	"github.com/gorilla/websocket": "github.com/coder/websocket",
}

// TestNoBannedImports fails when any Go file of the root module, tests
// included, imports a banned package. Nested modules (benchmarks/, contrib/)
// are their own business: the benchmarks' baseline needs both.
func TestNoBannedImports(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			if path != "." {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if use, ok := banned[p]; ok {
				t.Errorf("%s imports %s: use %s", fset.Position(imp.Pos()), p, use)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("checked only %d files: the walk is broken", checked)
	}
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mod), "gorilla/websocket") {
		t.Error("go.mod requires gorilla/websocket")
	}
}
