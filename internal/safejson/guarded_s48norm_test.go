package safejson_test

import (
	"go/parser"
	"go/token"
	"testing"

	"github.com/stretchr/testify/require"
)

// internal/cryptofeed's torn ran goccy's json.Valid on a recorded line
// with no guard, and TestS43normEveryDecodeGuarded did not see it: it
// looked for the v2 API's decodes only, and not in internal/cryptofeed.
// Valid runs the decoder's scanner on the input as Unmarshal does; so do
// v1's Compact, Indent and decoder. The guard now names them (decodes) and
// reads internal/cryptofeed; here it is held to a file that has each.
func TestS48normGuardSeesEveryScan(t *testing.T) {
	const src = `package p

import (
	"bytes"

	json "github.com/goccy/go-json"

	"github.com/meltica/meltica/internal/safejson"
)

func torn(b []byte) bool { return !json.Valid(b) }

func compact(dst *bytes.Buffer, b []byte) error { return json.Compact(dst, b) }

func stream(b []byte, v any) error { return json.NewDecoder(bytes.NewReader(b)).Decode(v) }

func whole(b []byte) (ok bool, err error) {
	defer safejson.Recover(&err)
	return json.Valid(b), nil
}
`
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"p.go:torn", "p.go:compact", "p.go:stream"}, bareDecodes("p.go", f, map[string]bool{}))
}
