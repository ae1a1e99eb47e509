package schema_test

import (
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s47rvMethodDoc returns the doc comment of method recv.name in this
// package's non-test sources, its lines joined by spaces.
func s47rvMethodDoc(t *testing.T, recv, name string) string {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.ParseComments)
	require.NoError(t, err)
	for _, f := range pkgs["schema"].Files {
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, "github.com/meltica/meltica/schema")
	require.NoError(t, err)
	for _, typ := range p.Types {
		if typ.Name != recv {
			continue
		}
		for _, m := range typ.Methods {
			if m.Name == name {
				return strings.Join(strings.Fields(m.Doc), " ")
			}
		}
	}
	t.Fatalf("no method %s.%s", recv, name)
	return ""
}

// Reset's doc states what a Reset of a trade writes: "the sections held by
// value (N bytes)" are Type, Trade, BBO and Book, and a trade's Reset
// writes "about M bytes", the event but its pool.Header (no kept section
// was handed out). Both said 240 and 450, the 16-byte Decimal's numbers,
// after the event became 376 bytes (session 47).
func TestS47rvResetDocSizes(t *testing.T) {
	t.Parallel()
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("the doc's numbers are a 64-bit platform's")
	}
	var ev schema.CanonicalEvent
	byValue := unsafe.Sizeof(ev.Trade) + unsafe.Sizeof(ev.BBO) + unsafe.Sizeof(ev.Book)
	written := unsafe.Sizeof(ev) - unsafe.Sizeof(pool.Header{})
	d := s47rvMethodDoc(t, "CanonicalEvent", "Reset")
	assert.Contains(t, d, fmt.Sprintf("the sections held by value (%d bytes)", byValue))
	assert.Contains(t, d, fmt.Sprintf("a trade's Reset writes about %d bytes", written))
}
