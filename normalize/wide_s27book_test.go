package normalize

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/goccy/go-json/jsontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// wideObject is an object of n members: goccy v0.12.0 checks an object's
// names for duplicates in a map it allocates past 32 names
// (internal/decoder nameSet, maxListedNames).
func wideObject(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i)
	}
	b.WriteByte('}')
	return b.String()
}

// s27Forms gives a venue message in the forms a venue may send it, all
// legal JSON of the same message: as recorded, without whitespace,
// indented as the venues' docs print their examples, and with a member
// the parser does not know, whose value is an object of 40 members, first
// in the top-level object (venues add members; Binance's
// ORDER_TRADE_UPDATE "o" has some 37).
func s27Forms(t testing.TB, msg []byte) map[string][]byte {
	t.Helper()
	v := jsontext.Value(bytes.Clone(msg))
	require.NoError(t, v.Compact())
	compact := []byte(v)
	ind := jsontext.Value(bytes.Clone(compact))
	require.NoError(t, ind.Indent())
	forms := map[string][]byte{"recorded": msg, "compact": compact, "indented": []byte(ind)}
	if compact[0] == '{' {
		w := append([]byte(`{"zzWide":`+wideObject(40)+`,`), compact[1:]...)
		forms["wide unknown member"] = w
		wi := jsontext.Value(bytes.Clone(w))
		require.NoError(t, wi.Indent())
		forms["wide unknown member, indented"] = []byte(wi)
	}
	return forms
}

// DESIGN.md contract 7 and normalize/doc.go: "In steady state no message
// of any venue allocates", whatever legal layout the venue gives it
// (RFC 8259 §2: whitespace is allowed before or after any token; Binance's
// docs print their messages indented). Every real message of every venue,
// recorded, compacted and indented, normalises with no allocation once
// warmed up. Before the fix a Binance USDⓈ-M ORDER_TRADE_UPDATE as
// Binance's docs print it cost 4 allocations a message: not recognised by
// its leading "e", it was classified by goccy decoding the whole frame
// into the envelope struct, which skipped its "o" object of some 37
// members with goccy's duplicate-name check (a map past 32 names).
//
// A message with an unknown member holding an object of more than 32
// members is left out: duplicate names stay refused on venue input (see
// TestS27UnknownMembersChangeNothing), and goccy v0.12.0 checks such an
// object's names in a map it allocates (4 allocations; no venue documents
// such a member).
func TestS27EveryFormAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	ctx := context.Background()
	for _, s := range sharedSamples(t) {
		for form, in := range s27Forms(t, s.msg) {
			if strings.HasPrefix(form, "wide") {
				continue
			}
			t.Run(string(s.venue)+"_"+s.name+"/"+form, func(t *testing.T) {
				events := schema.NewPools(nil).Events
				sink := &putSink{events: events}
				p := ctorOf[string(s.venue)](events, sink, nil)
				var last error
				handle := func() { last = p.HandleBytes(ctx, in, 1) }
				for range 4 {
					handle()
				}
				allocs := testing.AllocsPerRun(100, handle)
				if last != nil {
					t.Logf("refused: %v", last)
					return
				}
				assert.Zero(t, allocs, "allocations per message")
			})
		}
	}
}

// Every form of every real venue message (s27Forms: as recorded,
// compacted, indented, and with an unknown member whose value is an
// object of 40 members — venues add members without notice) normalises
// into the same events, or is refused in every form alike: layout and
// members the parser does not read change nothing.
func TestS27UnknownMembersChangeNothing(t *testing.T) {
	ctx := context.Background()
	for _, s := range sharedSamples(t) {
		t.Run(string(s.venue)+"_"+s.name, func(t *testing.T) {
			run := func(in []byte) (string, error) {
				events := schema.NewPools(nil).Events
				sink := &recSink{events: events}
				err := ctorOf[string(s.venue)](events, sink, nil).HandleBytes(ctx, in, 1)
				var b strings.Builder
				for _, ev := range sink.got {
					fmt.Fprintf(&b, "%s\n", s42normDump(ev, true))
				}
				return b.String(), err
			}
			want, wantErr := run(s.msg)
			for form, in := range s27Forms(t, s.msg) {
				got, err := run(in)
				assert.Equal(t, wantErr == nil, err == nil, "%s: refused in one form only: %v / %v", form, wantErr, err)
				assert.Equal(t, want, got, form)
			}
		})
	}
}
