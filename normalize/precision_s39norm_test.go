package normalize

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s39normMarker is the value put in a member first: found among the
// event's decimals, the member is read as it is (not scaled, not a time,
// not an id) and the sweep's forms are put in its place.
const s39normMarker = "7.3125"

// s39normForms are the numbers at the edges of what the venues document:
// 18 decimals (the most any sends: Binance and Bybit's dust, "1e-18"
// precision of ERC-20 assets), 8 (Binance's and Kraken's usual), 9 + 9
// digits, notionals of 1e15, the mantissa's bound, trailing zeros past the
// scale (dropped: the value stays exact), an exponent form. Each must be
// delivered exactly (a decimal of the event equal to it, or to its
// negation where the parser flips a fee's sign) or refused with a
// *ParseError — never rounded, never a panic. The last two cannot be held
// (a 19th decimal, one past the mantissa): refused.
var s39normForms = []struct {
	text   string
	refuse bool
}{
	{"0.000000000000000001", false},
	{"0.00000001", false},
	{"123456789.123456789", false},
	{"1000000000000000", false},
	{"999999999999999.999", false},
	{"9223372036854775807", false},
	{"0.100000000000000000000", false},
	{"1E-18", false},
	{"0.0000000000000000001", true},
	{"9223372036854775808", true},
}

// TestS39normMaxPrecisionSweep: every member of every sample in
// testdata/venues (the five venues' public and private channels) that the
// parser reads as a decimal takes every form: delivered exactly or refused
// with a *ParseError. The per-sample count of members so checked is
// logged (go test -v): the table of what was checked per channel.
func TestS39normMaxPrecisionSweep(t *testing.T) {
	eachVenueSample(t, s39normSweep)
}

// TestS39normMaxPrecisionSweepMore: the sweep on the channels no sample in
// testdata/venues covers (laid out as the venues' pages show them):
// Binance USDⓈ-M ALGO_UPDATE, Bybit's order topic (the sample's is of an
// option the test's symbols do not know) and kline, OKX's orders-algo,
// liquidation-orders, open-interest, candle and mark-price-candle,
// Coinbase's candles and futures_balance_summary.
func TestS39normMaxPrecisionSweepMore(t *testing.T) {
	for _, c := range []struct {
		name  string
		venue schema.Venue
		doc   string
	}{
		{"binance ALGO_UPDATE", schema.VenueBinance, `{"e":"ALGO_UPDATE","T":1,"E":2,"o":{"caid":"sl-1","aid":1000000202490585,"at":"CONDITIONAL","o":"STOP_MARKET","s":"BTCUSDT","S":"SELL","ps":"SHORT","f":"GTE_GTC","q":"0.2","X":"NEW","ai":"77","ap":"191.5","aq":"0.2","tp":"190","p":"0","R":true,"tt":3}}`},
		{"bybit order", schema.VenueBybit, s37normBybitOrder("PartiallyFilled", "100.5", "1672364262474", "1672364262457")},
		{"bybit kline", schema.VenueBybit, `{"topic":"kline.5.BTCUSDT","data":[{"start":1672324800000,"end":1672325099999,"interval":"5","open":"16649.5","close":"16677","high":"16677","low":"16608","volume":"2.081","turnover":"34666.4005","confirm":false,"timestamp":1672324988882}],"ts":1672324988882,"type":"snapshot"}`},
		{"okx orders-algo", schema.VenueOKX, okxAlgo("orders-algo", "live")},
		{"okx liquidation-orders", schema.VenueOKX, `{"arg":{"channel":"liquidation-orders","instType":"SWAP"},"data":[{"instId":"BTC-USDT-SWAP","details":[{"side":"sell","posSide":"long","bkPx":"60000.5","sz":"2","bkLoss":"0","ccy":"","ts":"1692266434010"}]}]}`},
		{"okx open-interest", schema.VenueOKX, `{"arg":{"channel":"open-interest","instId":"LTC-USD-SWAP"},"data":[{"instType":"SWAP","instId":"LTC-USD-SWAP","oi":"5000","oiCcy":"555.55","oiUsd":"50000","ts":"1597026383085"}]}`},
		{"okx candle", schema.VenueOKX, `{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["1597026383085","8533.02","8553.74","8527.17","8548.26","45247","529.5858061","529.58","0"]]}`},
		{"okx mark-price-candle", schema.VenueOKX, `{"arg":{"channel":"mark-price-candle1D","instId":"BTC-USD-SWAP"},"data":[["1597026383085","3.721","3.743","3.677","3.708","0"]]}`},
		{"coinbase candles", schema.VenueCoinbase, `{"channel":"candles","client_id":"","timestamp":"2023-06-09T20:19:35.39625135Z","sequence_num":0,"events":[{"type":"snapshot","candles":[{"start":"1688998200","high":"1867.72","low":"1865.63","open":"1867.38","close":"1866.81","volume":"0.20269406","product_id":"ETH-USD"}]}]}`},
		{"coinbase futures_balance_summary", schema.VenueCoinbase, `{"channel":"futures_balance_summary","client_id":"","timestamp":"2023-02-09T20:33:57.609931463Z","sequence_num":0,"events":[{"type":"snapshot","fcm_balance_summary":{"futures_buying_power":"100.00","total_usd_balance":"200.00"}}]}`},
	} {
		t.Run(c.name, func(t *testing.T) { s39normSweep(t, c.venue, []byte(c.doc)) })
	}
}

// s39normSweep puts the marker, then each form, in every scalar member of
// doc, a frame of venue.
func s39normSweep(t *testing.T, venue schema.Venue, doc []byte) {
	{
		events := schema.NewPools(nil).Events
		var got []schema.Decimal
		sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			got = s39normDecimals(reflect.ValueOf(ev).Elem(), got)
			events.Put(ev)
			return nil
		})
		parse := func(frame []byte) ([]schema.Decimal, error) {
			got = got[:0]
			err := newVenueParser(venue, events, sink).HandleBytes(context.Background(), frame, 1)
			return got, err
		}
		if _, err := parse(doc); err != nil {
			return // refused as it is (a Bybit ticker delta before its snapshot)
		}
		read, exact, refused := 0, 0, 0
		for i, sp := range raceSpans(scalarSpans(t, doc, 1000), 64) {
			orig := string(doc[sp[0]:sp[1]])
			quoted := orig[0] == '"'
			if _, err := schema.ParseDecimal(strings.Trim(orig, `"`)); err != nil {
				continue
			}
			put := func(v string) []byte {
				if quoted {
					v = `"` + v + `"`
				}
				return append(append(append([]byte{}, doc[:sp[0]]...), v...), doc[sp[1]:]...)
			}
			marker := schema.MustParseDecimal(s39normMarker)
			decs, err := parse(put(s39normMarker))
			if err != nil || !s39normHas(decs, marker) {
				continue // not read, or not as it is
			}
			read++
			for k, fm := range s39normForms {
				if raceEnabled && k != i%len(s39normForms) {
					continue // under -race one form per member, in turn
				}
				decs, err := parse(put(fm.text))
				if err != nil {
					var pe *ParseError
					require.True(t, errors.As(err, &pe), "%s in place of %s: not a *ParseError: %v", fm.text, orig, err)
					refused++
					continue
				}
				require.False(t, fm.refuse, "%s in place of %s: accepted; a Decimal cannot hold it", fm.text, orig)
				require.True(t, s39normHas(decs, schema.MustParseDecimal(fm.text)),
					"%s in place of %s: accepted, delivered as none of %v", fm.text, orig, decs)
				exact++
			}
		}
		t.Logf("%s: %d members read as decimals; forms delivered exactly %d, refused (typed) %d", venue, read, exact, refused)
		require.Zero(t, events.Stats().InUse)
	}
}

// s39normHas reports whether want, or its negation, is among decs (equal
// in value).
func s39normHas(decs []schema.Decimal, want schema.Decimal) bool {
	neg := want.Neg()
	for _, d := range decs {
		if d.Equal(want) || d.Equal(neg) {
			return true
		}
	}
	return false
}

var s39normDecimalType = reflect.TypeOf(schema.Decimal{})

// s39normDecimals appends every schema.Decimal v holds (struct fields,
// slices' elements) to out.
func s39normDecimals(v reflect.Value, out []schema.Decimal) []schema.Decimal {
	switch {
	case v.Type() == s39normDecimalType:
		return append(out, v.Interface().(schema.Decimal))
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				out = s39normDecimals(v.Field(i), out)
			}
		}
	case v.Kind() == reflect.Pointer: // an out-of-line section the event carries
		if !v.IsNil() {
			out = s39normDecimals(v.Elem(), out)
		}
	case v.Kind() == reflect.Slice || v.Kind() == reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return out
		}
		for i := range v.Len() {
			out = s39normDecimals(v.Index(i), out)
		}
	}
	return out
}
