package schema_test

import (
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s47rvMethodDoc returns the doc comment of method recv.name declared in
// file, its lines joined by spaces.
func s47rvMethodDoc(t *testing.T, file, recv, name string) string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
	require.NoError(t, err)
	p, err := doc.NewFromFiles(fset, []*ast.File{f}, "github.com/meltica/meltica/schema")
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
	d := s47rvMethodDoc(t, "event.go", "CanonicalEvent", "Reset")
	assert.Contains(t, d, fmt.Sprintf("the sections held by value (%d bytes)", byValue))
	assert.Contains(t, d, fmt.Sprintf("a trade's Reset writes about %d bytes", written))
}
