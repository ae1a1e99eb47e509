package normalize

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/goccy/go-json/jsontext"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// scalarSpans returns the byte ranges of the first max scalar values (not
// member names) of a JSON document, found with goccy's tokenizer.
func scalarSpans(t *testing.T, doc []byte, max int) [][2]int {
	t.Helper()
	d := jsontext.NewDecoder(bytes.NewReader(doc))
	var out [][2]int
	for len(out) < max {
		k := d.PeekKind()
		if k == 0 {
			break
		}
		if k == '{' || k == '}' || k == '[' || k == ']' {
			_, err := d.ReadToken()
			require.NoError(t, err)
			continue
		}
		sk, n := d.StackIndex(d.StackDepth())
		v, err := d.ReadValue()
		require.NoError(t, err)
		if sk == '{' && n%2 == 0 {
			continue // a member name
		}
		end := int(d.InputOffset())
		out = append(out, [2]int{end - len(v), end})
	}
	return out
}

// Values of the wrong type, out of range or forbidden, put in place of one
// field at a time.
var mutations = []string{
	`null`, `""`, `"x"`, `{}`, `[]`, `[[]]`, `true`, `-1`, `"-1"`, `-0.5`, `"-0.5"`,
	`1e400`, `"1e400"`, `"NaN"`, `"Infinity"`, `"-Infinity"`,
	`123456789012345678901234567890123456789012345678901234567890`,
	`"0.000000000000000000000000000000000000000000000000000000000001"`,
	`9223372036854775808`, `-9223372036854775809`, `"\u0000"`, `"` + strings.Repeat("币", 40) + `"`,
}

// probeFrames is one good message per venue, fed after each bad one: the
// parser must be unharmed. Their trade ids are above every sample's, so
// that the probe is never taken for a repeat of the sample's trade.
var probeFrames = map[schema.Venue]string{
	schema.VenueBinance:  `{"e":"trade","E":1,"s":"BTCUSDT","t":9000000000000000000,"p":"0.1","q":"1","T":1,"m":true,"M":true}`,
	schema.VenueCoinbase: `{"type":"match","trade_id":9000000000000000000,"maker_order_id":"a","taker_order_id":"b","side":"sell","size":"1","price":"1","product_id":"BTC-USD","sequence":5,"time":"2014-11-07T08:19:27.028459Z"}`,
	schema.VenueKraken:   `{"channel":"trade","type":"update","data":[{"symbol":"XBT/USD","side":"buy","price":1,"qty":1,"trade_id":9000000000000000000,"timestamp":"2024-01-01T00:00:00Z"}]}`,
	schema.VenueOKX:      `{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"9000000000000000000","px":"1","sz":"1","side":"buy","ts":"1"}]}`,
	schema.VenueBybit:    `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"BTCUSDT","S":"Buy","v":"1","p":"1","i":"x"}]}`,
}

// Robustness: every venue sample with each of its first scalar values
// replaced by each mutation. No panic (not even a recovered one), a nil or
// *ParseError result, no event with a negative price, every event back in
// its pool, and the next good message normalised as usual.
func TestAdversarialMutations(t *testing.T) {
	max := 40
	if raceEnabled {
		// The parser runs on the test's goroutine alone: the detector has
		// nothing to find, and the first 4 spans are among the 40 the run
		// without it (CI's coverage step) tries.
		max = 4
	}
	eachVenueSample(t, func(t *testing.T, venue schema.Venue, doc []byte) {
		events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
		var bad []string
		sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			s := s42normRead(ev)
			for _, d := range []schema.Decimal{ev.Trade.Price, ev.Trade.Qty, ev.BBO.BidPrice, ev.BBO.AskPrice,
				s.Ticker.Last, s.Ticker.BidPrice, s.Ticker.AskPrice, s.Mark.MarkPrice, s.Liquidation.Price} {
				if d.Sign() < 0 {
					bad = append(bad, string(ev.Type)+" negative "+d.String())
				}
			}
			for _, lv := range append(append([]schema.Level(nil), ev.Book.Bids...), ev.Book.Asks...) {
				if lv.Price.Sign() < 0 || lv.Qty.Sign() < 0 {
					bad = append(bad, "negative level "+lv.Price.String()+" "+lv.Qty.String())
				}
			}
			events.Put(ev)
			return nil
		})
		spans := scalarSpans(t, doc, max)
		require.NotEmpty(t, spans)
		for _, sp := range spans {
			for _, m := range mutations {
				frame := make([]byte, 0, len(doc)+len(m))
				frame = append(append(append(frame, doc[:sp[0]]...), m...), doc[sp[1]:]...)
				p := newVenueParser(venue, events, sink).(*Parser)
				err := p.HandleBytes(context.Background(), frame, 1)
				var pe *ParseError
				if err != nil && !errors.As(err, &pe) {
					t.Fatalf("untyped error %v for %s", err, frame)
				}
				require.Zero(t, p.Stats().Panics, "%s", frame)
				require.Empty(t, bad, "%s", frame)
				require.Zero(t, events.Stats().InUse, "%s", frame)
				before := p.Stats().Events
				require.NoError(t, p.HandleBytes(context.Background(), []byte(probeFrames[venue]), 2), "after %s", frame)
				require.Equal(t, before+1, p.Stats().Events, "after %s", frame)
			}
		}
	})
}
