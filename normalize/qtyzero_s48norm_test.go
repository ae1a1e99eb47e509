package normalize

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s48normZeros are the spellings of a zero quantity a venue could send:
// quoted or bare, with and without a sign or a scale ("-0" parses to
// the same Decimal as "0": schema.ParseDecimal).
var s48normZeros = []string{`"0"`, `"-0"`, `"0.000"`, `"-0.000"`, `0`, `-0`, `0.0`}

// s48normMember is one member of a venue sample: the file under
// testdata/venues, the text before its value, its value, and the key a
// refusal names.
type s48normMember struct {
	file, key, value, field string
	venue                   schema.Venue
}

// A public trade print and a liquidation always have a positive quantity
// (Binance "Trade Streams", "Aggregate Trade Streams" and "Liquidation
// Order Streams" "q"; Bybit v5 "Trade" and "All Liquidation" "v",
// "Liquidation" "size"; OKX v5 "Trades channel" and "Liquidation orders
// channel" "sz"; Coinbase Exchange "match" and Advanced Trade
// "market_trades" "size"; Kraken v2 "trade" "qty", v1 "trade" volume at
// position 1). One of quantity 0 — "-0" included — was delivered on all
// five venues (the quantity went through filler.price, which refuses only
// negatives); now it is a *ParseError naming the venue's key and wrapping
// ErrBadValue, as a price 0 is, and costs nothing else.
func TestS48normTradeQuantityZeroRefused(t *testing.T) {
	for _, tc := range []s48normMember{
		{"binance_trade.json", `"q": `, `"100"`, "q", schema.VenueBinance},
		{"binance_aggTrade.json", `"q": `, `"8.15632997"`, "q", schema.VenueBinance},
		{"binance_combined_trade.json", `"q": `, `"100"`, "q", schema.VenueBinance},
		{"binance_futures_forceOrder.json", `"q": `, `"0.014"`, "q", schema.VenueBinance},
		{"bybit_v5_publicTrade.json", `"v": `, `"0.001"`, "v", schema.VenueBybit},
		{"bybit_v5_allLiquidation.json", `"v": `, `"20000"`, "v", schema.VenueBybit},
		{"bybit_v5_liquidation.json", `"size": `, `"1637"`, "size", schema.VenueBybit},
		{"okx_trades.json", `"sz":`, `"0.0002"`, "sz", schema.VenueOKX},
		{s48normOKXLiquidation, `"sz":`, `"13"`, "sz", schema.VenueOKX},
		{"coinbase_exchange_match.json", `"size":`, `"985"`, "size", schema.VenueCoinbase},
		{"coinbase_exchange_last_match.json", `"size":`, `"0.04"`, "size", schema.VenueCoinbase},
		{"coinbase_advanced_market_trades.json", `"size": `, `"0.00150000"`, "size", schema.VenueCoinbase},
		{"kraken_v2_trade_update.json", `"qty":`, `0.01044926`, "qty", schema.VenueKraken},
		{"kraken_v1_trade.json", `"354.11000000",`, `"0.89594024"`, "1", schema.VenueKraken},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) { s48normRefuseZero(t, tc, "quantity 0") })
	}
}

// schema.ParseDecimal reads "-0" as 0 (a Decimal has no negative zero):
// a trade's or a liquidation's price "-0" is refused as a price 0 is, on
// every public trade and liquidation kind (this passed before: the rule
// and the parse were already there; it holds them for "-0").
func TestS48normTradePriceNegativeZeroRefused(t *testing.T) {
	for _, tc := range []s48normMember{
		{"binance_trade.json", `"p": `, `"0.001"`, "p", schema.VenueBinance},
		{"binance_aggTrade.json", `"p": `, `"0.10281118"`, "p", schema.VenueBinance},
		{"binance_futures_forceOrder.json", `"p": `, `"9910.00000000"`, "p", schema.VenueBinance},
		{"bybit_v5_publicTrade.json", `"p": `, `"16578.50"`, "p", schema.VenueBybit},
		{"bybit_v5_allLiquidation.json", `"p": `, `"0.04499"`, "p", schema.VenueBybit},
		{"bybit_v5_liquidation.json", `"price": `, `"0.03803"`, "price", schema.VenueBybit},
		{"okx_trades.json", `"px":`, `"30236"`, "px", schema.VenueOKX},
		{s48normOKXLiquidation, `"bkPx":`, `"0.007831"`, "bkPx", schema.VenueOKX},
		{"coinbase_exchange_match.json", `"price":`, `"0.00001305"`, "price", schema.VenueCoinbase},
		{"coinbase_advanced_market_trades.json", `"price": `, `"68900.50"`, "price", schema.VenueCoinbase},
		{"kraken_v2_trade_snapshot.json", `"price":`, `68466.9`, "price", schema.VenueKraken},
		{"kraken_v1_trade.json", `[[`, `"354.11000000"`, "0", schema.VenueKraken},
	} {
		t.Run(filepath.Base(tc.file), func(t *testing.T) { s48normRefuseZero(t, tc, "price 0") })
	}
}

// s48normOKXLiquidation is OKX's "Liquidation orders channel" doc example.
const s48normOKXLiquidation = "../../normalize/testdata/docs/okx_liquidation_orders.json"

// s48normRefuseZero feeds tc's sample with its member set to each zero in
// turn to a parser of its own: the message is a *ParseError naming the
// member, wrapping ErrBadValue with want, and costs nothing else — the
// message's other rows are delivered, nothing stays out of its pool, and
// the parser takes the message as sent next (one of a single row, its id
// never seen, is delivered, not dropped as a repeat).
func s48normRefuseZero(t *testing.T, tc s48normMember, want string) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "venues", tc.file))
	require.NoError(t, err)
	doc := string(raw)
	require.Equal(t, 1, strings.Count(doc, tc.key+tc.value), "the sample's member")
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	require.NoError(t, newVenueParser(tc.venue, events, sink).HandleBytes(context.Background(), raw, 1))
	rows := len(sink.got)
	require.Positive(t, rows)
	for _, zero := range s48normZeros {
		sink.got = nil
		p := newVenueParser(tc.venue, events, sink).(*Parser)
		bad := strings.Replace(doc, tc.key+tc.value, tc.key+zero, 1)
		err := p.HandleBytes(context.Background(), []byte(bad), 1)
		var pe *ParseError
		require.True(t, errors.As(err, &pe), "%s: got %v", zero, err)
		require.Equal(t, tc.field, pe.Field, zero)
		require.ErrorIs(t, err, ErrBadValue, zero)
		require.Contains(t, err.Error(), want, zero)
		require.Len(t, sink.got, rows-1, "%s: the message's other rows are delivered", zero)
		for _, ev := range sink.got {
			require.Positive(t, s48normQty(ev).Sign(), zero)
		}
		require.Equal(t, uint64(1), p.Stats().Errors, zero)
		require.Zero(t, events.Stats().InUse)
		sink.got = nil
		require.NoError(t, p.HandleBytes(context.Background(), raw, 2), zero)
		if rows == 1 {
			require.Len(t, sink.got, 1, zero)
		}
		require.Zero(t, events.Stats().InUse)
	}
}

// s48normQty is the quantity of a trade or a liquidation.
func s48normQty(ev *schema.CanonicalEvent) schema.Decimal {
	if ev.Type == schema.EventLiquidation {
		return s42normRead(ev).Liquidation.Qty
	}
	return ev.Trade.Qty
}

// The whole kind: every sample of every venue with each scalar replaced in
// turn by a zero (TestS29rvPricesRefused's walk). No trade and no
// liquidation is delivered of quantity 0; before, Binance, Bybit, OKX,
// Coinbase and Kraken all delivered one.
func TestS48normNoTradeOrLiquidationOfNothing(t *testing.T) {
	eachVenueSample(t, func(t *testing.T, venue schema.Venue, doc []byte) {
		events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
		var bad []string
		prints := 0
		sink := SinkFunc(func(_ context.Context, ev *schema.CanonicalEvent) error {
			if ev.Type == schema.EventTrade || ev.Type == schema.EventLiquidation {
				prints++
				if s48normQty(ev).Sign() <= 0 {
					bad = append(bad, ev.Type.String()+" of "+s48normQty(ev).String())
				}
			}
			events.Put(ev)
			return nil
		})
		if _ = newVenueParser(venue, events, sink).HandleBytes(context.Background(), doc, 1); prints == 0 {
			return // no trade or liquidation in the sample: nothing of the kind to refuse
		}
		eachScalarAs(t, venue, doc, []string{`"0"`, `0`, `"-0"`}, events, sink, func(frame []byte) { require.Empty(t, bad, "%.400s", frame) })
		require.Zero(t, events.Stats().InUse)
	})
}

// An execution report's fill is of a positive quantity at a positive
// price; a report that is no fill (NEW, CANCELED, a status push) carries
// 0 (filler.needFill's sources). "-0", which schema.ParseDecimal reads as
// 0, is refused as 0 is on every venue whose report says it is a fill
// (Binance spot executionReport and USDⓈ-M ORDER_TRADE_UPDATE "x" TRADE
// "l"/"L", Bybit v5 "Execution" and "Fast Execution" execQty/execPrice,
// Kraken v2 "executions" exec_type trade last_qty/last_price, OKX v5
// "Order channel" fillPx), and is no fill where the venue tells a fill by
// its quantity (OKX fillSz "0": a status push). These passed before: the
// rules were there; the test holds them for "-0".
func TestS48normFillNegativeZero(t *testing.T) {
	for _, mk := range []func(x, X, l, z, q string) string{bnExecReport, bnOrderTradeUpdate} {
		requireRefused(t, schema.VenueBinance, mk("TRADE", "PARTIALLY_FILLED", "-0", "0.5", "1"), "l", ErrBadValue)
		requireRefused(t, schema.VenueBinance, mk("TRADE", "PARTIALLY_FILLED", "-0.000", "0.5", "1"), "l", ErrBadValue)
		requireRefused(t, schema.VenueBinance, strings.Replace(mk("TRADE", "PARTIALLY_FILLED", "0.5", "0.5", "1"), `"L":"`, `"L":"-0","x_":"`, 1), "L", ErrBadValue)
	}
	for _, tc := range []s48normMember{
		{"bybit_v5_execution.json", `"execQty":`, `"25"`, "execQty", schema.VenueBybit},
		{"bybit_v5_execution.json", `"execPrice":`, `"0.3374"`, "execPrice", schema.VenueBybit},
		{"bybit_v5_execution_fast.json", `"execQty":`, `"3000"`, "execQty", schema.VenueBybit},
		{"bybit_v5_execution_fast.json", `"execPrice":`, `"12.015"`, "execPrice", schema.VenueBybit},
		{"kraken_v2_executions_trade.json", `"last_qty":`, `0.005`, "last_qty", schema.VenueKraken},
		{"kraken_v2_executions_trade.json", `"last_price":`, `26599.9`, "last_price", schema.VenueKraken},
		{"okx_orders_fill.json", `"fillPx":`, `"103698.9"`, "fillPx", schema.VenueOKX},
	} {
		raw, err := os.ReadFile(filepath.Join("..", "testdata", "venues", tc.file))
		require.NoError(t, err)
		require.Equal(t, 1, strings.Count(string(raw), tc.key+tc.value), tc)
		for _, zero := range []string{`"-0"`, `"-0.000"`, `-0`} {
			requireRefused(t, tc.venue, strings.Replace(string(raw), tc.key+tc.value, tc.key+zero, 1), tc.field, ErrBadValue)
		}
	}
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "venues", "okx_orders_fill.json"))
	require.NoError(t, err)
	evs, err := newConnFeed(t, schema.VenueOKX).feed(1, strings.Replace(string(raw), `"fillSz":"0.03"`, `"fillSz":"-0"`, 1))
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.NotEqual(t, schema.ExecTrade, evs[0].Exec.ExecType, "fillSz -0 is no fill")
	require.True(t, evs[0].Exec.LastFillQty.IsZero())
}
