package normalize

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// S29: the numbers a venue's JSON may carry in a price member, on every
// venue's quote: exponent notation (JSON numbers, RFC 8259 §6, and
// decimal strings such as Java's BigDecimal "0E-8"), a leading "+",
// "-0", trailing zeros (kept: checksums need the digits sent), "" where
// the venue documents it for an absent price (OKX tickers "bidPx": ""
// when there is no bid, OKX v5 "Tickers channel"; Bybit's optional ticker
// members), and what must be refused with a typed error and no event:
// NaN and infinities, and more digits than a Decimal holds (a 64-bit
// mantissa, 18 after the point; *schema.DecimalError). Held before S29:
// this table pins it.
func TestS29DecimalForms(t *testing.T) {
	type venueMsg struct {
		venue schema.Venue
		name  string
		quote bool // a JSON string member; else a bare JSON number (Kraken v2)
		msg   func(v string) string
		get   func(ev *schema.CanonicalEvent) schema.Decimal
		empty string // what "" gives: "absent" (zero, no error) or "error"
	}
	bid := func(ev *schema.CanonicalEvent) schema.Decimal { return ev.Ticker.BidPrice }
	venues := []venueMsg{
		{schema.VenueBinance, "bookTicker b", true, func(v string) string {
			return `{"u":17242169,"s":"BTCUSDT","b":` + v + `,"B":"52","a":"9548.5","A":"11"}`
		}, func(ev *schema.CanonicalEvent) schema.Decimal { return ev.BBO.BidPrice }, "error"},
		{schema.VenueOKX, "tickers bidPx", true, func(v string) string {
			return `{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instType":"SPOT","instId":"BTC-USDT","last":"30236","lastSz":"0.0002","askPx":"30228.7","askSz":"1.55896972","bidPx":` + v + `,"bidSz":"0.23393","open24h":"29700.4","high24h":"31073","low24h":"28020.3","sodUtc0":"29028.8","sodUtc8":"30337.7","volCcy24h":"525802090.62716611","vol24h":"17602.13085371","ts":"1652459224956"}]}`
		}, bid, "absent"},
		{schema.VenueBybit, "tickers bid1Price", true, func(v string) string {
			return `{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","lastPrice":"61874.00","highPrice24h":"62752.90","lowPrice24h":"61000.10","volume24h":"98430.1050","turnover24h":"6073739017.8331","bid1Price":` + v + `,"bid1Size":"3.783","ask1Price":"61874.00","ask1Size":"16.278"},"cs":1,"ts":1}`
		}, bid, "absent"},
		{schema.VenueCoinbase, "Exchange ticker best_bid", true, func(v string) string {
			return `{"type":"ticker","sequence":1,"product_id":"BAND-GBP","price":"14.7775","open_24h":"14.6647","volume_24h":"94381.28000000","low_24h":"14.3691","high_24h":"16.55","volume_30d":"2295579.57000000","best_bid":` + v + `,"best_ask":"14.8060","side":"buy","time":"2021-04-17T16:43:37.089723Z","trade_id":881613,"last_size":"0.04"}`
		}, bid, ""},
		{schema.VenueKraken, "v2 ticker bid", false, func(v string) string {
			return `{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":` + v + `,"bid_qty":12.31628629,"ask":65843.8,"ask_qty":0.31232000,"last":65843.7,"volume":4182.59447976,"vwap":64223.4,"low":61325.4,"high":66450.0,"change":4213.8,"change_pct":6.84}]}`
		}, bid, ""},
	}
	forms := []struct {
		in, want string // want "" with err: refused
		err      error
		quoted   bool // only as a JSON string
	}{
		{"1e-8", "0.00000001", nil, false},
		{"1E-8", "0.00000001", nil, false},
		{"1.5e3", "1500", nil, false},
		{"0E-8", "0.00000000", nil, false},
		{"-0", "0", nil, false},
		{"+1", "1", nil, true},
		{"65843.70000000", "65843.70000000", nil, false},
		{"0.000000000000000001", "0.000000000000000001", nil, false},
		{"NaN", "", schema.ErrDecimalNotFinite, true},
		{"Infinity", "", schema.ErrDecimalNotFinite, true},
		{"-Infinity", "", schema.ErrDecimalNotFinite, true},
		{"12345678901234567890.5", "", schema.ErrDecimalOverflow, false},
		{"0.0000000000000000001", "", schema.ErrDecimalPrecision, false},
		{"-1", "", ErrNegative, false},
	}
	for _, vm := range venues {
		for _, fm := range forms {
			if fm.quoted && !vm.quote {
				continue // not JSON as a bare number
			}
			v := fm.in
			if vm.quote {
				v = `"` + v + `"`
			}
			t.Run(fmt.Sprintf("%s %s %s", vm.venue, vm.name, fm.in), func(t *testing.T) {
				events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
				sink := &recSink{events: events}
				p := newVenueParser(vm.venue, events, sink)
				err := p.HandleBytes(context.Background(), []byte(vm.msg(v)), 1)
				if fm.err != nil {
					// The decimal's own error, or ErrBadValue where the
					// member's reader refuses the text first (Binance
					// bookTicker's lenient number): typed either way.
					require.True(t, errors.Is(err, fm.err) || errors.Is(err, ErrBadValue), "%v", err)
					var pe *ParseError
					require.True(t, errors.As(err, &pe), "not a *ParseError: %v", err)
					for _, ev := range sink.got {
						require.NotEqual(t, schema.EventTicker, ev.Type)
						require.NotEqual(t, schema.EventBBO, ev.Type)
					}
					return
				}
				require.NoError(t, err)
				require.Len(t, sink.got, 1)
				requireDigits(t, fm.want, vm.get(sink.got[0]))
			})
		}
		if vm.empty == "" {
			continue
		}
		t.Run(fmt.Sprintf("%s %s empty", vm.venue, vm.name), func(t *testing.T) {
			events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
			sink := &recSink{events: events}
			p := newVenueParser(vm.venue, events, sink)
			err := p.HandleBytes(context.Background(), []byte(vm.msg(`""`)), 1)
			if vm.empty == "error" {
				var pe *ParseError
				require.True(t, errors.As(err, &pe), "want a *ParseError, got %v", err)
				require.True(t, strings.Contains(pe.Field, "b"), pe.Field)
				return
			}
			require.NoError(t, err)
			require.Len(t, sink.got, 1)
			require.True(t, vm.get(sink.got[0]).IsZero())
		})
	}
}
