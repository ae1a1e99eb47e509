package schema_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Bytes "aliases id"; setting an ID from its own bytes — trimming a prefix
// or a suffix, say — must give the bytes it was given, and an ID == one
// set afresh to the same identifier.
func TestS23IDSetFromItsOwnBytes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cut  func([]byte) []byte
	}{
		{"trim prefix", func(b []byte) []byte { return bytes.TrimPrefix(b, []byte("x-")) }},
		{"trim suffix", func(b []byte) []byte { return b[:len(b)-2] }},
		{"middle", func(b []byte) []byte { return b[1 : len(b)-1] }},
		{"same", func(b []byte) []byte { return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := schema.MustID("x-order-12345")
			want := string(tc.cut([]byte(id.String())))
			require.NoError(t, id.SetBytes(tc.cut(id.Bytes())))
			require.Equal(t, want, id.String())
			require.Equal(t, schema.MustID(want), id, "== to the same identifier set afresh")
		})
	}
}
