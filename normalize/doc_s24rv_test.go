package normalize

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestS24rvExportedFuncsHaveDocs: godoc is the reference most users read
// first (STYLE.md): every exported function of the package carries its
// doc comment — a declaration slipped between a doc comment and its
// function takes the comment away from it.
func TestS24rvExportedFuncsHaveDocs(t *testing.T) {
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var missing []string
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		require.NoError(t, err)
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !fn.Name.IsExported() {
				continue
			}
			if fn.Doc == nil || !strings.HasPrefix(fn.Doc.Text(), fn.Name.Name+" ") {
				missing = append(missing, name+": "+fn.Name.Name)
			}
		}
	}
	require.Empty(t, missing, "exported functions without their doc comment")
}
