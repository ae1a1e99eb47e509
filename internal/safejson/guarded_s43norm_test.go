package safejson_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outsideInput are the packages that decode venue input (and recordings of
// it), relative to this one.
var outsideInput = []string{"../../normalize", "../../normalize/book", "../../recorder", "../../session", "../../internal/cryptofeed"}

// underAnotherGuard are the functions that decode without a guard of their
// own because every call reaches them under one, and which.
var underAnotherGuard = map[string]string{
	"normalize/align.go:decodeAlign":                          "Parser.AlignKey's recover (spec.alignKey)",
	"normalize/align.go:bybitAlignKey":                        "Parser.AlignKey's recover (spec.alignKey)",
	"normalize/align.go:krakenAlignKey":                       "Parser.AlignKey's recover (spec.alignKey)",
	"normalize/align.go:binanceData":                          "Parser.AlignKey's recover (spec.alignKey's binanceAlignKey)",
	"normalize/execloss.go:topMember":                         "rescan's safejson.Recover",
	"normalize/binance_queries.go:(*oneOrMany).UnmarshalJSON": "decodeQuery's decodeREST",
}

// decodes reports whether call starts a goccy decode of its input: the v2
// API's decodes and hand-driven decoder, and the v1 API's decodes,
// decoder and the calls that scan a value without decoding it (Valid,
// Compact, Indent), which run the same scanner on the same input; and
// the v2 scans of a jsontext.Value (IsValid, Format, Compact, Indent,
// Canonicalize) called on a conversion to it — jsontext.Value(b).IsValid()
// — the form the packages use (a variable of the type is not seen: no
// types are read).
func decodes(call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	if conv, ok := sel.X.(*ast.CallExpr); ok && isValueType(conv.Fun) {
		switch sel.Sel.Name {
		case "IsValid", "Format", "Compact", "Indent", "Canonicalize":
			return true
		}
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	if !ok {
		return false
	}
	switch x.Name + "." + sel.Sel.Name {
	case "json.Unmarshal", "json.UnmarshalRead", "json.UnmarshalDecode", "jsontext.NewDecoder",
		"json.Valid", "json.Compact", "json.Indent", "json.NewDecoder", "json.UnmarshalNoEscape",
		"json.UnmarshalContext", "json.UnmarshalWithOption":
		return true
	}
	return false
}

// isValueType reports whether e names jsontext.Value or a pointer to it
// (the type of a conversion, parentheses aside).
func isValueType(e ast.Expr) bool {
	for {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.SelectorExpr:
			id, ok := x.X.(*ast.Ident)
			return ok && id.Name == "jsontext" && x.Sel.Name == "Value"
		default:
			return false
		}
	}
}

// guarded reports whether fn defers safejson.Recover or a func that calls
// recover.
func guarded(fn *ast.FuncDecl) bool {
	found := false
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		d, ok := n.(*ast.DeferStmt)
		if !ok || found {
			return !found
		}
		ast.Inspect(d.Call, func(m ast.Node) bool {
			switch c := m.(type) {
			case *ast.SelectorExpr:
				if id, ok := c.X.(*ast.Ident); ok && id.Name == "safejson" && c.Sel.Name == "Recover" {
					found = true
				}
			case *ast.CallExpr:
				if id, ok := c.Fun.(*ast.Ident); ok && id.Name == "recover" {
					found = true
				}
			}
			return !found
		})
		return false
	})
	return found
}

// funcName is fn's name, its receiver's type first for a method.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	star := ""
	if s, ok := t.(*ast.StarExpr); ok {
		star, t = "*", s.X
	}
	switch r := t.(type) {
	case *ast.IndexExpr:
		t = r.X
	case *ast.IndexListExpr:
		t = r.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return "(" + star + id.Name + ")." + fn.Name.Name
	}
	return fn.Name.Name
}

// TestS43normEveryDecodeGuarded: every goccy decode of outside input in
// normalize, normalize/book, recorder, session and internal/cryptofeed
// (recorded sessions) goes through safejson
// (Unmarshal, or a deferred Recover around a hand-driven decoder), or runs
// under a guard named in underAnotherGuard. A custom UnmarshalJSONFrom's
// decodes run under the decode that called it.
func TestS43normEveryDecodeGuarded(t *testing.T) {
	var bare []string
	seen := map[string]bool{}
	for _, dir := range outsideInput {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		require.NotEmpty(t, files, dir)
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			require.NoError(t, err)
			rel := strings.TrimPrefix(filepath.ToSlash(path), "../../")
			bare = append(bare, bareDecodes(rel, f, seen)...)
		}
	}
	sort.Strings(bare)
	assert.Empty(t, bare, "goccy decodes of outside input with no guard: use safejson.Unmarshal, or defer safejson.Recover")
	for name, why := range underAnotherGuard {
		assert.True(t, seen[name], "%s (%s) decodes no more: drop it from underAnotherGuard", name, why)
	}
}

// bareDecodes returns the functions of f (named rel) that start a goccy
// decode with no guard: no deferred safejson.Recover or recover, not a
// custom UnmarshalJSONFrom, not in underAnotherGuard (marked in seen).
func bareDecodes(rel string, f *ast.File, seen map[string]bool) []string {
	var bare []string
	for _, d := range f.Decls {
		fn, _ := d.(*ast.FuncDecl)
		name := rel + ":" + "(package-level declaration)" // a func literal in a var
		if fn != nil {
			name = rel + ":" + funcName(fn)
		}
		ast.Inspect(d, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || !decodes(call) {
				return true
			}
			switch {
			case fn == nil:
				bare = append(bare, name)
			case fn.Name.Name == "UnmarshalJSONFrom" && fn.Recv != nil:
			case underAnotherGuard[name] != "":
				seen[name] = true
			case guarded(fn):
			default:
				bare = append(bare, name)
			}
			return true
		})
	}
	return bare
}
