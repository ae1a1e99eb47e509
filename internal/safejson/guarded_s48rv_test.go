package safejson_test

import (
	"go/parser"
	"go/token"
	"testing"

	"github.com/stretchr/testify/require"
)

// The v2 API scans a value without decoding it too: jsontext.Value's
// IsValid (and Compact, Format, Canonicalize, Indent) run goccy's
// encoder-side scanner over the bytes, as v1's json.Valid runs the
// decoder's. TestS48normGuardSeesEveryScan named v1's calls only, so
// normalize's binanceSplit, which runs jsontext.Value(frame).IsValid() on
// a venue frame with no guard, was not seen. The guard now names them
// (decodes); here it is held to a file that has each, guarded and not.
func TestS48rvGuardSeesValueScans(t *testing.T) {
	const src = `package p

import (
	"github.com/goccy/go-json/v2/jsontext"

	"github.com/meltica/meltica/internal/safejson"
)

func valid(b []byte) bool { return jsontext.Value(b).IsValid() }

func format(b []byte) error { return (*jsontext.Value)(&b).Format() }

func whole(b []byte) (ok bool, err error) {
	defer safejson.Recover(&err)
	return jsontext.Value(b).IsValid(), nil
}

func notValue(b []byte) bool { return other(b).IsValid() }
`
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"p.go:valid", "p.go:format"}, bareDecodes("p.go", f, map[string]bool{}))
}
