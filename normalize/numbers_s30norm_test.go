package normalize

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// One rule for the numbers every venue sends, on every member of every
// sample in testdata/venues that holds a decimal (a price, quantity, rate,
// fee: its text has a point): NaN or an infinity refuses the message with
// a *ParseError wrapping the decimal's own error (schema.ErrDecimalNotFinite),
// more digits than a Decimal holds with ErrDecimalOverflow, a negative one
// where the member may not be negative with ErrNegative. A member the
// parser does not read, or one whose sign is its meaning (a change, a
// fee), takes them with no error. The exceptions are members that are not
// decimals: a time with a fraction (Kraken v1 seconds) is ErrBadValue
// "time out of range", and a position amount whose sign disagrees with
// its side ErrBadValue. Binance's bookTicker gave ErrBadValue "want a
// number" for NaN before the fix.
func TestS30NumbersOneRule(t *testing.T) {
	type form struct {
		text string
		want []error
	}
	forms := []form{
		{"NaN", []error{schema.ErrDecimalNotFinite}},
		{"Infinity", []error{schema.ErrDecimalNotFinite}},
		{"-Infinity", []error{schema.ErrDecimalNotFinite}},
		{"123456789012345678901.5", []error{schema.ErrDecimalOverflow}},
		{"-1.5", []error{ErrNegative, errSignDisagrees}},
	}
	eachVenueSample(t, func(t *testing.T, venue schema.Venue, doc []byte) {
		events := schema.NewPools(nil).Events
		sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error { events.Put(ev); return nil })
		if newVenueParser(venue, events, sink).HandleBytes(context.Background(), doc, 1) != nil {
			return // refused as it is (a Bybit ticker delta before its snapshot)
		}
		// Under -race 64 spans (a subset of the run without it, CI's
		// coverage step): the parser runs on the test's goroutine alone.
		for i, sp := range raceSpans(scalarSpans(t, doc, 1000), 64) {
			orig := string(doc[sp[0]:sp[1]])
			quoted := orig[0] == '"'
			text := strings.Trim(orig, `"`)
			if _, err := schema.ParseDecimal(text); err != nil || !strings.Contains(text, ".") {
				continue
			}
			for k, fm := range forms {
				if raceEnabled && k != i%len(forms) {
					continue // under -race one form per number, in turn (a new parser each costs seconds there); every form at every number without it
				}
				v := fm.text
				if quoted {
					v = `"` + v + `"`
				} else if strings.Contains(v, "N") || strings.Contains(v, "I") {
					continue // not a JSON number
				}
				frame := append(append(append([]byte{}, doc[:sp[0]]...), v...), doc[sp[1]:]...)
				p := newVenueParser(venue, events, sink).(*Parser)
				err := p.HandleBytes(context.Background(), frame, 1)
				if err == nil {
					continue
				}
				var pe *ParseError
				require.True(t, errors.As(err, &pe), "not a *ParseError: %v", err)
				ok := errors.Is(err, errTime)
				for _, w := range fm.want {
					ok = ok || errors.Is(err, w)
				}
				require.True(t, ok, "%s in place of %s: %v", fm.text, orig, err)
			}
		}
		require.Zero(t, events.Stats().InUse)
	})
}
