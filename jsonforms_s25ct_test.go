package meltica_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/goccy/go-json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// s25ctReorder returns the JSON value v with the members of every object
// in reverse order (RFC 8259 §4: "An object is an unordered collection";
// the venues' docs promise no order), values kept byte for byte.
func s25ctReorder(t testing.TB, v []byte) []byte {
	t.Helper()
	dec := jsontext.NewDecoder(bytes.NewReader(v))
	switch dec.PeekKind() {
	case '{':
		_, err := dec.ReadToken()
		require.NoError(t, err)
		var members [][]byte
		for dec.PeekKind() != '}' {
			name, err := dec.ReadToken()
			require.NoError(t, err)
			m, err := jsontext.AppendQuote(nil, name.String()) // before the next read voids the token
			require.NoError(t, err)
			val, err := dec.ReadValue()
			require.NoError(t, err)
			members = append(members, append(append(m, ':'), s25ctReorder(t, val)...))
		}
		slices.Reverse(members)
		return append(append([]byte{'{'}, bytes.Join(members, []byte{','})...), '}')
	case '[':
		_, err := dec.ReadToken()
		require.NoError(t, err)
		var elems [][]byte
		for dec.PeekKind() != ']' {
			val, err := dec.ReadValue()
			require.NoError(t, err)
			elems = append(elems, s25ctReorder(t, val))
		}
		return append(append([]byte{'['}, bytes.Join(elems, []byte{','})...), ']')
	}
	val, err := dec.ReadValue()
	require.NoError(t, err)
	return val
}

// s25ctEvents normalises msg with a fresh parser of venue and renders
// every event (Raw left out: it is the payload as sent) and the error.
func s25ctEvents(venue string, msg []byte) []string {
	sink := &s25ctKeepSink{}
	events := schema.NewPools(nil).Events
	p := s25ctParsers[venue](events, sink, &normalize.Options{})
	err := p.HandleBytes(context.Background(), msg, 1_700_000_000_000_000_000)
	out := []string{fmt.Sprintf("err=%v", err)}
	for _, ev := range sink.evs {
		out = append(out, s25ctShow(ev))
		events.Put(ev)
	}
	return out
}

// JSON is JSON: RFC 8259 lets whitespace stand between any two tokens
// (§2) and leaves an object's members unordered (§4), and no venue's docs
// promise a layout or an order of keys. Every real message of
// testdata/venues compacted, indented, and with every object's members
// in reverse order normalises into the same events as sent. (The module's
// parsers find some envelopes by a literal prefix — normalize/doc.go —
// which must then only be a fast path, never the meaning.)
func TestS25ctLayoutAndKeyOrderDoNotMatter(t *testing.T) {
	for _, s := range s25ctSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			want := s25ctEvents(s.venue, s.data)
			compact := jsontext.Value(bytes.Clone(s.data))
			require.NoError(t, compact.Compact())
			indented := jsontext.Value(bytes.Clone(s.data))
			require.NoError(t, indented.Indent())
			rev := s25ctReorder(t, compact)
			if len(want) > 1 && testing.Verbose() {
				t.Logf("%s -> %d events", rev, len(want)-1)
			}
			for name, form := range map[string][]byte{
				"compact":  compact,
				"indented": indented,
				"reversed": s25ctReorder(t, compact),
			} {
				assert.Equal(t, want, s25ctEvents(s.venue, form), "%s: %s", name, form)
			}
		})
	}
}
