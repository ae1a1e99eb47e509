package normalize

import (
	"bytes"
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

// The private channels' shared samples: what each must normalise to
// (merged into venueConformance, so TestVenueFilesExplained runs them).
var privateConformance = map[string]venueCase{
	// OKX v5 "Order channel": a market buy of 0.03 contracts filled at
	// once as maker; fillFee is absent (the fixture predates it), so Fee
	// stays zero; fee (accumulated) is not a fill's fee.
	"okx_orders_fill.json": {venue: ox, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		x := at(t, evs, 0, ox, schema.EventExecReport, "BTC-USDT-PERP", 0, 1746947317402*ms).Exec
		require.Len(t, evs, 1)
		require.Equal(t, "2497956918703120384", x.VenueOrderID.String())
		require.Equal(t, "001BTCUSDT20250106001", x.ClientOrderID.String())
		require.Equal(t, "1518905529", x.TradeID.String())
		require.Equal(t, schema.SideBuy, x.Side)
		require.Equal(t, schema.OrderTypeMarket, x.Type)
		require.Equal(t, schema.ExecTrade, x.ExecType)
		require.Equal(t, schema.StatusFilled, x.Status)
		require.True(t, x.IsMaker)
		requireDigits(t, "0", x.Price) // px "" (market): not sent
		requireDigits(t, "0.03", x.Qty)
		requireDigits(t, "0.03", x.LastFillQty)
		requireDigits(t, "103698.9", x.LastFillPrice)
		requireDigits(t, "0.03", x.CumFillQty)
		requireDigits(t, "103698.9", x.AvgPrice)
		requireDigits(t, "3110.967", x.CumQuoteQty)
		require.True(t, x.RemainingQty.IsZero())
		require.Equal(t, 1746947317402*ms, x.TransactTime)
		require.Equal(t, 1746947317401*ms, x.OrderCreated)
	}},
	// A post-only order OKX canceled because it would have taken liquidity;
	// "" and "0" stand for what did not happen (avgPx, fillPx, fillTime).
	"okx_orders_post_only_canceled.json": {venue: ox, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		x := at(t, evs, 0, ox, schema.EventExecReport, "ETH-USDT-PERP", 0, 1788000000001*ms).Exec
		require.Len(t, evs, 1)
		require.Equal(t, schema.StatusCanceled, x.Status)
		require.Equal(t, schema.ExecCanceled, x.ExecType)
		require.Equal(t, schema.OrderTypeLimitMaker, x.Type)
		require.Equal(t, "POST_ONLY would take liquidity", x.RejectReason)
		require.Equal(t, "OPOSTONLYCANCEL001", x.ClientOrderID.String())
		require.True(t, x.TradeID.IsZero())
		requireDigits(t, "2", x.Qty)
		requireDigits(t, "2500.0", x.Price)
		requireDigits(t, "0", x.RemainingQty, "canceled: nothing open (FIX LeavesQty)")
		require.True(t, x.AvgPrice.IsZero())
		require.Equal(t, 1788000000001*ms, x.TransactTime)
	}},
	// Bybit v5 "Order": an option market order, Filled; the fill itself
	// is the execution topic's.
	"bybit_v5_order.json": {venue: by, load: []Instrument{{Symbol: "ETH-30DEC22-1400-C", Base: "ETH", Quote: "USD", Contract: "30DEC22-1400-C"}},
		check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
			x := at(t, evs, 0, by, schema.EventExecReport, "ETH-USD-30DEC22-1400-C", 0, 1672364262457*ms).Exec
			require.Len(t, evs, 1)
			require.Equal(t, "5cf98598-39a7-459e-97bf-76ca765ee020", x.VenueOrderID.String())
			require.True(t, x.ClientOrderID.IsZero())
			require.Equal(t, schema.StatusFilled, x.Status)
			require.Equal(t, schema.ExecOrderStatus, x.ExecType, "the fill is reported by the execution topic")
			require.Equal(t, schema.OrderTypeMarket, x.Type)
			require.Equal(t, schema.TIFIOC, x.TimeInForce)
			require.Equal(t, schema.SideSell, x.Side)
			requireDigits(t, "72.5", x.Price)
			requireDigits(t, "1", x.Qty)
			requireDigits(t, "1", x.CumFillQty)
			requireDigits(t, "75", x.CumQuoteQty)
			requireDigits(t, "75", x.AvgPrice)
			require.True(t, x.RemainingQty.IsZero())
			require.Empty(t, x.RejectReason, "EC_NoError and cancelType UNKNOWN are no reason")
			require.Equal(t, 1672364262444*ms, x.OrderCreated)
		}},
	// Bybit v5 "Execution": a market sell of 25 XRP, one taker fill.
	"bybit_v5_execution.json": {venue: by, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		x := at(t, evs, 0, by, schema.EventExecReport, "XRP-USDT", 0, 1672364174443*ms).Exec
		require.Len(t, evs, 1)
		require.Equal(t, "f6e324ff-99c2-4e89-9739-3086e47f9381", x.VenueOrderID.String())
		require.Equal(t, "7e2ae69c-4edf-5800-a352-893d52b446aa", x.TradeID.String())
		require.Equal(t, schema.ExecTrade, x.ExecType)
		require.Equal(t, schema.StatusFilled, x.Status)
		require.Equal(t, schema.SideSell, x.Side)
		require.False(t, x.IsMaker)
		requireDigits(t, "0.3374", x.LastFillPrice)
		requireDigits(t, "25", x.LastFillQty)
		requireDigits(t, "0.005061", x.Fee)
		requireDigits(t, "25", x.Qty)
		requireDigits(t, "25", x.CumFillQty)
		requireDigits(t, "0", x.RemainingQty)
		requireDigits(t, "0.3207", x.Price)
	}},
	// Bybit v5 "Fast Execution": fewer fields, no status.
	"bybit_v5_execution_fast.json": {venue: by, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		require.Len(t, evs, 1)
		ev := evs[0]
		require.Equal(t, schema.EventExecReport, ev.Type)
		require.Equal(t, "ICP-USDT", ev.Symbol)
		require.Equal(t, uint64(34771365464), ev.SeqProvider)
		require.Equal(t, 1716800399334*ms, ev.ExchangeTS)
		x := ev.Exec
		require.Equal(t, schema.ExecTrade, x.ExecType)
		require.Equal(t, schema.StatusUnknown, x.Status, "the fast topic names no status")
		require.Equal(t, "test-00001", x.ClientOrderID.String())
		require.Equal(t, "3510f361-0add-5c7b-a2e7-9679810944fc", x.TradeID.String())
		requireDigits(t, "12.015", x.LastFillPrice)
		requireDigits(t, "3000", x.LastFillQty)
		require.True(t, x.RemainingQty.IsZero())
	}},
	// Kraken "Executions", Example: Pending.
	"kraken_v2_executions_pending_new.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		x := at(t, evs, 0, kr, schema.EventExecReport, "BTC-USD", 8, 1695378785709950000).Exec
		require.Len(t, evs, 1)
		require.Equal(t, "OK4GJX-KSTLS-7DZZO5", x.VenueOrderID.String())
		require.Equal(t, schema.ExecPendingNew, x.ExecType)
		require.Equal(t, schema.StatusPendingNew, x.Status)
		require.Equal(t, schema.TIFGTC, x.TimeInForce, `"GTC", upper case in the docs`)
		require.Equal(t, schema.OrderTypeLimit, x.Type)
		requireDigits(t, "0.005", x.Qty)
		requireDigits(t, "26500.0", x.Price)
		requireDigits(t, "0.005", x.RemainingQty)
	}},
	// Kraken "Executions", Example: Execution.
	"kraken_v2_executions_trade.json": {venue: kr, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		x := at(t, evs, 0, kr, schema.EventExecReport, "BTC-USD", 10, 1695378785709993000).Exec
		require.Len(t, evs, 1)
		require.Equal(t, "62887576", x.TradeID.String())
		require.Equal(t, schema.ExecTrade, x.ExecType)
		require.Equal(t, schema.StatusPartiallyFilled, x.Status)
		require.False(t, x.IsMaker)
		requireDigits(t, "0.005", x.LastFillQty)
		requireDigits(t, "26599.9", x.LastFillPrice)
		requireDigits(t, "0.005", x.CumFillQty)
		requireDigits(t, "132.9995", x.CumQuoteQty)
		requireDigits(t, "0.3458", x.Fee)
		require.Equal(t, "USD", x.FeeAsset.String())
	}},
	// Coinbase Advanced Trade "User channel": a snapshot of one open order.
	"coinbase_advanced_user_snapshot.json": {venue: cb, check: func(t *testing.T, evs []*schema.CanonicalEvent, _ Stats) {
		x := at(t, evs, 0, cb, schema.EventExecReport, "BTC-USD", 1, 1775572206000000000).Exec
		require.Len(t, evs, 1)
		require.Equal(t, "a1b2c3d4-e5f6-7890-abcd-ef1234567890", x.VenueOrderID.String())
		require.Equal(t, "11111-000000-000001", x.ClientOrderID.String())
		require.Equal(t, schema.StatusNew, x.Status)
		require.Equal(t, schema.ExecNew, x.ExecType)
		require.Equal(t, schema.OrderTypeLimit, x.Type)
		require.Equal(t, schema.TIFGTC, x.TimeInForce)
		require.Equal(t, schema.SideBuy, x.Side)
		requireDigits(t, "0.001", x.Qty)
		requireDigits(t, "0.001", x.RemainingQty)
		require.True(t, x.LastFillQty.IsZero(), "a snapshot reports no fill")
		require.Equal(t, "USD", x.FeeAsset.String())
		require.Equal(t, int64(1775572195123456000), x.OrderCreated)
	}},
}

// Private messages in the zero-allocation test of every venue.
var privateAllocCases = []allocCase{
	shared(ox, "okx_orders_fill"),
	gen(by, "order linear", func() []byte {
		return []byte(`{"id":"1","topic":"order","creationTime":1672364262474,"data":[{"symbol":"BTCUSDT","orderId":"5cf98598","side":"Sell","orderType":"Limit","cancelType":"UNKNOWN","price":"72.5","qty":"1","timeInForce":"GTC","orderStatus":"PartiallyFilled","orderLinkId":"x1","leavesQty":"0.5","cumExecQty":"0.5","cumExecValue":"36.25","avgPrice":"72.5","createdTime":"1672364262444","updatedTime":"1672364262457","rejectReason":"EC_NoError","category":"linear"}]}`)
	}),
	shared(by, "bybit_v5_execution"),
	shared(kr, "kraken_v2_executions_trade"),
	shared(kr, "kraken_v2_executions_pending_new"),
	gen(cb, "user update", func() []byte { return coinbaseUser("update", "OPEN", "0.4", "0.6", "20000.00", "12.00") }),
}

func shared(venue schema.Venue, name string) allocCase {
	return allocCase{venue, name, func(t testing.TB) []byte {
		b, err := os.ReadFile(filepath.Join(sharedVenues, name+".json"))
		require.NoError(t, err)
		return b
	}}
}

func init() {
	for name, c := range privateConformance {
		venueConformance[name] = c
	}
	venueAllocCases = append(venueAllocCases, privateAllocCases...)
}

// coinbaseUser is a user channel frame with one order in Coinbase's shape.
func coinbaseUser(typ, status, cum, leaves, value, fees string) []byte {
	return []byte(`{"channel":"user","client_id":"","timestamp":"2026-04-07T14:30:06.000000Z","events":[{"type":"` + typ + `","orders":[` +
		`{"order_id":"a1b2c3d4","client_order_id":"c-1","cumulative_quantity":"` + cum + `","leaves_quantity":"` + leaves +
		`","avg_price":"50000","filled_value":"` + value + `","total_fees":"` + fees + `","status":"` + status +
		`","product_id":"BTC-USD","creation_time":"2026-04-07T14:29:55.123456Z","order_side":"SELL","order_type":"LIMIT",` +
		`"limit_price":"50000","post_only":"false","cancel_reason":"","reject_reason":"","product_type":"SPOT","time_in_force":"GOOD_UNTIL_CANCELLED"}]}]}`)
}

// parseOne feeds msgs to a new parser of venue and returns the events of
// the last one and its error.
func parseOne(t *testing.T, venue schema.Venue, msgs ...[]byte) ([]*schema.CanonicalEvent, error) {
	t.Helper()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := newVenueParser(venue, events, sink)
	var err error
	for _, m := range msgs {
		sink.got = nil
		err = p.HandleBytes(context.Background(), m, 42)
	}
	require.Zero(t, events.Stats().InUse, "events not returned to the pool")
	return sink.got, err
}

// TestPrivateStatuses maps every documented status word of every private
// channel, and refuses an unknown one with a *ParseError wrapping
// ErrUnknownStatus that names the venue's key; nothing is published.
func TestPrivateStatuses(t *testing.T) {
	okx := func(state, extra string) []byte {
		return []byte(`{"arg":{"channel":"orders","instType":"SPOT"},"data":[{"instId":"BTC-USDT","ordId":"1","clOrdId":"c1","side":"sell","ordType":"limit","px":"100","sz":"2","state":"` + state + `","uTime":"1700000000000","cTime":"1700000000000"` + extra + `}]}`)
	}
	bybit := func(status string) []byte {
		return []byte(`{"topic":"order.spot","creationTime":1,"data":[{"symbol":"BTCUSDT","orderId":"o1","orderLinkId":"l1","side":"Buy","orderType":"Limit","timeInForce":"PostOnly","orderStatus":"` + status + `","price":"100","qty":"2","leavesQty":"2","cumExecQty":"0","updatedTime":"1700000000000"}]}`)
	}
	kraken := func(status string) []byte {
		return []byte(`{"channel":"executions","type":"update","data":[{"order_id":"O-1","symbol":"BTC/USD","exec_type":"new","order_status":"` + status + `","timestamp":"2023-09-22T10:33:05.709982Z"}],"sequence":3}`)
	}
	coinbase := func(status string) []byte { return coinbaseUser("update", status, "0", "1", "0", "0") }
	tests := []struct {
		venue  schema.Venue
		msg    []byte
		status schema.OrderStatus
		exec   schema.ExecType
		field  string // for an unknown status
	}{
		{ox, okx("live", ""), schema.StatusNew, schema.ExecNew, ""},
		{ox, okx("partially_filled", `,"fillSz":"0"`), schema.StatusPartiallyFilled, schema.ExecOrderStatus, ""},
		{ox, okx("filled", `,"fillSz":"0"`), schema.StatusFilled, schema.ExecOrderStatus, ""},
		{ox, okx("canceled", ""), schema.StatusCanceled, schema.ExecCanceled, ""},
		{ox, okx("mmp_canceled", ""), schema.StatusCanceled, schema.ExecCanceled, ""},
		{ox, okx("live", `,"amendResult":"0"`), schema.StatusNew, schema.ExecAmendment, ""},
		{ox, okx("partially_canceled", ""), 0, 0, "state"},
		// A fill is never dropped for an unknown word: its status comes from
		// the quantities (nautilus_trader's ws_orders_unknown_state_fill).
		{ox, okx("future_state", `,"fillSz":"0.5","fillPx":"100","tradeId":"7","accFillSz":"0.5"`), schema.StatusPartiallyFilled, schema.ExecTrade, ""},
		{ox, okx("future_state", `,"fillSz":"2","fillPx":"100","tradeId":"7","accFillSz":"2"`), schema.StatusFilled, schema.ExecTrade, ""},
		{by, bybit("New"), schema.StatusNew, schema.ExecNew, ""},
		{by, bybit("PartiallyFilled"), schema.StatusPartiallyFilled, schema.ExecOrderStatus, ""},
		{by, bybit("Filled"), schema.StatusFilled, schema.ExecOrderStatus, ""},
		{by, bybit("Cancelled"), schema.StatusCanceled, schema.ExecCanceled, ""},
		{by, bybit("PartiallyFilledCanceled"), schema.StatusCanceled, schema.ExecCanceled, ""},
		{by, bybit("Deactivated"), schema.StatusCanceled, schema.ExecCanceled, ""},
		{by, bybit("Rejected"), schema.StatusRejected, schema.ExecRejected, ""},
		{by, bybit("Untriggered"), schema.StatusNew, schema.ExecNew, ""},
		{by, bybit("Triggered"), schema.StatusNew, schema.ExecTriggered, ""},
		{by, bybit("Created"), schema.StatusPendingNew, schema.ExecPendingNew, ""},
		{by, bybit("Active"), schema.StatusNew, schema.ExecTriggered, ""}, // Bybit v5 "Enums → orderStatus": a triggered conditional order's final state (s34norm)
		{by, bybit("Suspended"), 0, 0, "orderStatus"},
		{kr, kraken("pending_new"), schema.StatusPendingNew, schema.ExecNew, ""},
		{kr, kraken("new"), schema.StatusNew, schema.ExecNew, ""},
		{kr, kraken("partially_filled"), schema.StatusPartiallyFilled, schema.ExecNew, ""},
		{kr, kraken("filled"), schema.StatusFilled, schema.ExecNew, ""},
		{kr, kraken("canceled"), schema.StatusCanceled, schema.ExecNew, ""},
		{kr, kraken("expired"), schema.StatusExpired, schema.ExecNew, ""},
		{kr, kraken("open"), 0, 0, "order_status"},
		{kr, []byte(`{"channel":"executions","type":"update","data":[{"order_id":"O-1","symbol":"BTC/USD","exec_type":"trade","order_status":"closing","order_qty":1,"last_qty":0.4,"last_price":100,"cum_qty":0.4,"timestamp":"2023-09-22T10:33:05.709982Z"}],"sequence":3}`),
			schema.StatusPartiallyFilled, schema.ExecTrade, ""},
		{cb, coinbase("PENDING"), schema.StatusPendingNew, schema.ExecPendingNew, ""},
		{cb, coinbase("QUEUED"), schema.StatusPendingNew, schema.ExecPendingNew, ""},
		{cb, coinbase("OPEN"), schema.StatusNew, schema.ExecNew, ""},
		{cb, coinbase("EDIT_QUEUED"), schema.StatusNew, schema.ExecNew, ""},
		{cb, coinbase("FILLED"), schema.StatusFilled, schema.ExecOrderStatus, ""},
		{cb, coinbase("CANCEL_QUEUED"), schema.StatusPendingCancel, schema.ExecPendingCancel, ""},
		{cb, coinbase("CANCELLED"), schema.StatusCanceled, schema.ExecCanceled, ""},
		{cb, coinbase("EXPIRED"), schema.StatusExpired, schema.ExecExpired, ""},
		{cb, coinbase("FAILED"), schema.StatusRejected, schema.ExecRejected, ""},
		{cb, coinbase("UNKNOWN_ORDER_STATUS"), 0, 0, "status"},
	}
	for _, tt := range tests {
		name := string(tt.venue) + " " + tt.status.String()
		if tt.field != "" {
			name = string(tt.venue) + " unknown"
		}
		t.Run(name, func(t *testing.T) {
			evs, err := parseOne(t, tt.venue, tt.msg)
			if tt.field != "" {
				var pe *ParseError
				require.ErrorAs(t, err, &pe)
				require.ErrorIs(t, err, ErrUnknownStatus)
				require.Equal(t, tt.venue, pe.Venue)
				require.Equal(t, tt.field, pe.Field)
				require.Empty(t, notRefused(evs))
				return
			}
			require.NoError(t, err)
			require.Len(t, evs, 1)
			require.Equal(t, schema.EventExecReport, evs[0].Type)
			require.Equal(t, tt.status, evs[0].Exec.Status)
			require.Equal(t, tt.exec, evs[0].Exec.ExecType)
		})
	}
}

// TestOKXOrderFill: a partial fill with OKX's fee sign (negative is a
// charge) and a post-only order; a spot market buy sized in the quote
// currency has no base quantity.
func TestOKXOrderFill(t *testing.T) {
	msg := []byte(`{"arg":{"channel":"orders","instType":"SPOT","uid":"77"},"data":[{"instType":"SPOT","instId":"BTC-USDT","ordId":"312269865356374016","clOrdId":"b1","px":"30000.1","sz":"0.5","ordType":"post_only","side":"buy","tdMode":"cash","fillPx":"30000.1","tradeId":"9","fillSz":"0.2","fillTime":"1700000000123","fillFee":"-0.0002","fillFeeCcy":"BTC","execType":"M","accFillSz":"0.2","avgPx":"30000.1","state":"partially_filled","cTime":"1700000000000","uTime":"1700000000124"}]}`)
	evs, err := parseOne(t, ox, msg)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	x := evs[0].Exec
	require.Equal(t, schema.OrderTypeLimitMaker, x.Type)
	require.Equal(t, schema.TIFGTC, x.TimeInForce)
	require.Equal(t, schema.ExecTrade, x.ExecType)
	require.Equal(t, schema.StatusPartiallyFilled, x.Status)
	requireDigits(t, "0.0002", x.Fee, "OKX -0.0002 is a charge: Fee is what was paid")
	require.Equal(t, "BTC", x.FeeAsset.String())
	requireDigits(t, "0.3", x.RemainingQty)
	require.Equal(t, 1700000000123*ms, x.TransactTime)
	require.Equal(t, 1700000000124*ms, evs[0].ExchangeTS)

	quote := []byte(`{"arg":{"channel":"orders","instType":"SPOT"},"data":[{"instId":"BTC-USDT","ordId":"2","px":"","sz":"100","tgtCcy":"quote_ccy","ordType":"market","side":"buy","state":"live","uTime":"1700000000000"}]}`)
	evs, err = parseOne(t, ox, quote)
	require.NoError(t, err)
	require.True(t, evs[0].Exec.Qty.IsZero(), "sz counts USDT here, not BTC")
}

// TestBybitExecutionPartial: a fill that leaves quantity is
// PartiallyFilled, with CumFillQty = orderQty − leavesQty; several fills
// in one message are a report each; Funding is no fill.
func TestBybitExecutionPartial(t *testing.T) {
	msg := []byte(`{"id":"1","topic":"execution","creationTime":1672364174455,"data":[` +
		`{"category":"spot","symbol":"BTCUSDT","execFee":"-0.01","feeCurrency":"USDT","execId":"e1","execPrice":"30000","execQty":"0.1","execType":"Trade","isMaker":true,"leavesQty":"0.4","orderId":"o1","orderLinkId":"l1","orderPrice":"30000","orderQty":"0.5","orderType":"Limit","side":"Buy","execTime":"1672364174443"},` +
		`{"category":"spot","symbol":"BTCUSDT","execFee":"0","execId":"e2","execPrice":"30000","execQty":"0.4","execType":"Trade","isMaker":true,"leavesQty":"0","orderId":"o1","orderLinkId":"l1","orderPrice":"30000","orderQty":"0.5","orderType":"Limit","side":"Buy","execTime":"1672364174444"},` +
		`{"category":"linear","symbol":"BTCUSDT","execFee":"0.5","execId":"f","execPrice":"30000","execQty":"0.5","execType":"Funding","isMaker":false,"leavesQty":"0","orderId":"o2","orderPrice":"0","orderQty":"0","orderType":"UNKNOWN","side":"Buy","execTime":"1672364174445"}]}`)
	evs, err := parseOne(t, by, msg)
	require.NoError(t, err)
	require.Len(t, evs, 2, "Funding is no execution report (bybitAccountExecs)")
	x := evs[0].Exec
	require.Equal(t, schema.StatusPartiallyFilled, x.Status)
	requireDigits(t, "0.1", x.CumFillQty)
	requireDigits(t, "0.4", x.RemainingQty)
	requireDigits(t, "-0.01", x.Fee, "a maker rebate")
	require.Equal(t, "USDT", x.FeeAsset.String())
	require.Equal(t, "l1", x.ClientOrderID.String())
	require.True(t, x.IsMaker)
	require.Equal(t, schema.StatusFilled, evs[1].Exec.Status)
	requireDigits(t, "0.5", evs[1].Exec.CumFillQty)
}

// TestCoinbaseUserFills: the user channel sends cumulative values; the
// parser reports each growth as a fill (quantity, price and fee of the
// fill), a snapshot as no fill, and forgets a finished order.
func TestCoinbaseUserFills(t *testing.T) {
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewCoinbase(events, sink, nil)
	ctx := context.Background()
	feed := func(b []byte) schema.Execution {
		t.Helper()
		sink.got = nil
		require.NoError(t, p.HandleBytes(ctx, b, 42))
		require.Len(t, sink.got, 1)
		return s42normExec(t, sink.got[0])
	}
	x := feed(coinbaseUser("snapshot", "OPEN", "0.1", "0.9", "5000.00", "1.00"))
	require.Equal(t, schema.StatusPartiallyFilled, x.Status)
	require.Equal(t, schema.ExecOrderStatus, x.ExecType, "a snapshot is the baseline, not a fill")
	require.True(t, x.LastFillQty.IsZero())

	x = feed(coinbaseUser("update", "OPEN", "0.4", "0.6", "20000.00", "4.00"))
	require.Equal(t, schema.ExecTrade, x.ExecType)
	require.Equal(t, schema.StatusPartiallyFilled, x.Status)
	requireDigits(t, "0.3", x.LastFillQty)
	require.Zero(t, x.LastFillPrice.Cmp(dec("50000")), x.LastFillPrice.String())
	requireDigits(t, "3.00", x.Fee)
	requireDigits(t, "1.0", x.Qty)
	require.Equal(t, schema.OrderTypeLimit, x.Type)
	require.Equal(t, schema.SideSell, x.Side)

	x = feed(coinbaseUser("update", "OPEN", "0.4", "0.6", "20000.00", "4.00"))
	require.Equal(t, schema.ExecOrderStatus, x.ExecType, "no growth: no fill")

	x = feed(coinbaseUser("update", "FILLED", "1.0", "0", "50600.00", "10.00"))
	require.Equal(t, schema.ExecTrade, x.ExecType)
	require.Equal(t, schema.StatusFilled, x.Status)
	requireDigits(t, "0.6", x.LastFillQty)
	require.Zero(t, x.LastFillPrice.Cmp(dec("51000")), x.LastFillPrice.String())
	requireDigits(t, "6.00", x.Fee)
	require.Empty(t, p.state.(*cbState).orders.m, "a finished order is forgotten")

	// A market order (another order id) first seen filled: the whole
	// quantity is the fill.
	x = feed(bytes.Replace(coinbaseUser("update", "FILLED", "0.2", "0", "10000.00", "2.00"), []byte(`"a1b2c3d4"`), []byte(`"e5f6a7b8"`), 1))
	require.Equal(t, schema.ExecTrade, x.ExecType)
	requireDigits(t, "0.2", x.LastFillQty)
	require.Zero(t, x.LastFillPrice.Cmp(dec("50000")), x.LastFillPrice.String())
	require.Zero(t, events.Stats().InUse)
}

// TestPrivateMalformed: a private message with a bad value or without its
// order id is a *ParseError of its venue, and nothing is published.
func TestPrivateMalformed(t *testing.T) {
	tests := []struct {
		venue schema.Venue
		msg   string
		field string
	}{
		{ox, `{"arg":{"channel":"orders"},"data":[{"instId":"BTC-USDT","state":"live"}]}`, "ordId"},
		{ox, `{"arg":{"channel":"orders"},"data":[{"instId":"BTC-USDT","ordId":"1","state":"live","sz":"-1"}]}`, "sz"},
		{ox, `{"arg":{"channel":"orders"},"data":[{"instId":"BTC-USDT","ordId":"1","state":"live","uTime":"x"}]}`, "uTime"},
		{by, `{"topic":"order","data":[{"symbol":"BTCUSDT","orderStatus":"New"}]}`, "orderId"},
		{by, `{"topic":"execution","data":[{"symbol":"BTCUSDT","orderId":"1","execQty":"1"}]}`, "leavesQty"},
		{by, `{"topic":"execution","data":[{"symbol":"BTCUSDT","orderId":"1","execQty":"1","leavesQty":"0","execType":"Trade","side":"Up"}]}`, "side"},
		{kr, `{"channel":"executions","type":"update","data":[{"exec_type":"new","order_status":"new"}],"sequence":1}`, "order_id"},
		{kr, `{"channel":"executions","type":"update","data":[{"order_id":"O","order_status":"new","last_qty":-1}],"sequence":1}`, "last_qty"},
		{cb, `{"channel":"user","events":[{"type":"update","orders":[{"status":"OPEN","product_id":"BTC-USD"}]}]}`, "order_id"},
		{cb, `{"channel":"user","events":[{"type":"update","orders":[{"order_id":"1","status":"OPEN","product_id":"BTC-USD","post_only":"maybe"}]}]}`, "post_only"},
	}
	for _, tt := range tests {
		t.Run(string(tt.venue)+" "+tt.field, func(t *testing.T) {
			evs, err := parseOne(t, tt.venue, []byte(tt.msg))
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tt.venue, pe.Venue)
			require.Equal(t, tt.field, pe.Field, err.Error())
			require.Empty(t, notRefused(evs))
		})
	}
}

// TestCoinbaseUserZeroAllocs: a fill computed from the cumulative values
// (a subtraction and a division per report) allocates nothing once the
// order is known.
func TestCoinbaseUserZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts: not under -race")
	}
	events := schema.NewPools(nil).Events
	sink := &putSink{events: events}
	p := NewCoinbase(events, sink, nil)
	ctx := context.Background()
	low := coinbaseUser("update", "OPEN", "0.1", "0.9", "5000.00", "1.00")
	high := coinbaseUser("update", "OPEN", "0.4", "0.6", "20000.00", "4.00")
	require.NoError(t, p.HandleBytes(ctx, low, 1))
	allocs := testing.AllocsPerRun(200, func() {
		if p.HandleBytes(ctx, high, 1) != nil || p.HandleBytes(ctx, low, 1) != nil {
			t.Fatal("parse failed")
		}
	})
	require.Zero(t, allocs)
	require.Zero(t, p.Stats().Errors)
}

// The private-channel builders' errors are ErrBadValue.
func TestPrivateBuildersRefuse(t *testing.T) {
	_, err := OKXLogin("", "p", []byte("s"), testTime)
	require.ErrorIs(t, err, ErrBadValue)
	_, err = OKXSubscribeOrders("SP OT")
	require.ErrorIs(t, err, ErrBadValue)
	_, err = BybitAuth(nil, 1, testTime)
	require.ErrorIs(t, err, ErrBadValue)
	_, err = KrakenSubscribeExecutions("", 1, true, false)
	require.ErrorIs(t, err, ErrBadValue)
	_, err = KrakenSign("not base64!", "/0/private/x", "1", "nonce=1")
	require.ErrorIs(t, err, ErrBadValue)
	_, err = CoinbaseSubscribeUser("")
	require.ErrorIs(t, err, ErrBadValue)
	_, err = CoinbaseJWT("", nil, testTime)
	require.ErrorIs(t, err, ErrBadValue)
	_, err = ParseCoinbaseKey([]byte("no pem"))
	require.ErrorIs(t, err, ErrBadValue)
	require.True(t, errors.Is(err, ErrBadValue) && strings.Contains(err.Error(), "PEM"))
}

func errAs[T error](err error, target *T) bool { return errors.As(err, target) }

// TestKrakenExecutionsComplete: Kraken's "Executions" examples in order —
// pending_new (whole), new (order id, status and time only), trade — each
// report is whole: the later ones carry the symbol, side, quantity and
// price of the first; a finished order is forgotten, and a new connection
// starts afresh.
func TestKrakenExecutionsComplete(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(sharedVenues, name))
		require.NoError(t, err)
		return b
	}
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := NewKraken(events, sink, nil)
	ctx := context.Background()
	feed := func(conn uint64, b []byte) schema.CanonicalEvent {
		t.Helper()
		sink.got = nil
		require.NoError(t, p.HandleFrame(ctx, &schema.WsFrame{Data: b, ConnID: conn, ReceivedAt: 42}))
		require.Len(t, sink.got, 1)
		return *sink.got[0]
	}
	newMsg := []byte(`{"channel":"executions","type":"update","data":[{"timestamp":"2023-09-22T10:33:05.709982Z","order_status":"new","exec_type":"new","order_userref":3,"order_id":"OK4GJX-KSTLS-7DZZO5"}],"sequence":9}`)
	feed(1, read("kraken_v2_executions_pending_new.json"))
	ev := feed(1, newMsg)
	x := ev.Exec
	require.Equal(t, "BTC-USD", ev.Symbol, "completed from the pending_new report")
	require.Equal(t, schema.StatusNew, x.Status)
	require.Equal(t, schema.ExecNew, x.ExecType)
	require.Equal(t, schema.SideSell, x.Side)
	require.Equal(t, schema.OrderTypeLimit, x.Type)
	requireDigits(t, "0.005", x.Qty)
	requireDigits(t, "26500.0", x.Price)
	requireDigits(t, "0.005", x.RemainingQty)

	ev = feed(1, read("kraken_v2_executions_trade.json"))
	x = ev.Exec
	requireDigits(t, "0.005", x.Qty, "the trade names no order_qty: the order's")
	requireDigits(t, "26500.0", x.Price)
	require.True(t, x.RemainingQty.IsZero(), x.RemainingQty.String())
	require.Equal(t, schema.StatusPartiallyFilled, x.Status)

	cancel := []byte(`{"channel":"executions","type":"update","data":[{"timestamp":"2023-09-22T10:34:00.000000Z","order_status":"canceled","exec_type":"canceled","cum_qty":0.005,"cum_cost":132.9995,"avg_price":26599.9,"reason":"User requested","order_id":"OK4GJX-KSTLS-7DZZO5"}],"sequence":11}`)
	ev = feed(1, cancel)
	require.Equal(t, "BTC-USD", ev.Symbol)
	require.Equal(t, schema.StatusCanceled, ev.Exec.Status)
	require.Equal(t, "User requested", ev.Exec.RejectReason)
	require.Empty(t, p.state.(*krState).orders.m, "a finished order is forgotten")

	// The account's orders are the same on every connection: a report on
	// another one (a rotation's overlap, a reconnection) is completed too.
	feed(1, read("kraken_v2_executions_pending_new.json"))
	ev = feed(2, newMsg)
	require.Equal(t, "BTC-USD", ev.Symbol)
	requireDigits(t, "0.005", ev.Exec.Qty)
	require.Zero(t, events.Stats().InUse)
}

// TestPrivateFixtures: the fuzz seeds of the private channels normalise.
func TestPrivateFixtures(t *testing.T) {
	tests := []struct {
		venue  schema.Venue
		name   string
		status schema.OrderStatus
		exec   schema.ExecType
		check  func(t *testing.T, ev *schema.CanonicalEvent)
	}{
		{ox, "orders_canceled", schema.StatusCanceled, schema.ExecCanceled, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.Equal(t, "Order canceled by user", ev.Exec.RejectReason)
			requireDigits(t, "0.0", ev.Exec.RemainingQty, "canceled: nothing open (FIX LeavesQty)")
			require.True(t, ev.Exec.Fee.IsZero())
		}},
		{by, "order_untriggered", schema.StatusNew, schema.ExecNew, func(t *testing.T, ev *schema.CanonicalEvent) {
			requireDigits(t, "70000.00", ev.Exec.StopPrice)
			require.Equal(t, "tp-1", ev.Exec.ClientOrderID.String())
		}},
		{kr, "executions_canceled", schema.StatusCanceled, schema.ExecCanceled, func(t *testing.T, ev *schema.CanonicalEvent) {
			require.Equal(t, "User requested", ev.Exec.RejectReason)
			require.Equal(t, uint64(2), ev.SeqProvider)
		}},
		{cb, "user_update_fill", schema.StatusFilled, schema.ExecTrade, func(t *testing.T, ev *schema.CanonicalEvent) {
			requireDigits(t, "0.001", ev.Exec.LastFillQty)
			require.Zero(t, ev.Exec.LastFillPrice.Cmp(dec("68900.5")), ev.Exec.LastFillPrice.String())
			requireDigits(t, "0.41", ev.Exec.Fee)
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.venue)+" "+tt.name, func(t *testing.T) {
			evs, err := parseOne(t, tt.venue, venueFixture(t, tt.venue, tt.name))
			require.NoError(t, err)
			require.Len(t, evs, 1)
			require.Equal(t, schema.EventExecReport, evs[0].Type)
			require.Equal(t, tt.status, evs[0].Exec.Status)
			require.Equal(t, tt.exec, evs[0].Exec.ExecType)
			tt.check(t, evs[0])
		})
	}
}

// TestWideMessagesRefuseDuplicateNames: the wide messages are decoded with
// duplicate names allowed, but their envelope's pass has already refused a
// message that names a member twice.
func TestWideMessagesRefuseDuplicateNames(t *testing.T) {
	for venue, msg := range map[schema.Venue]string{
		ox: `{"arg":{"channel":"orders"},"data":[{"instId":"BTC-USDT","ordId":"1","state":"live","state":"filled"}]}`,
		by: `{"topic":"order","data":[{"symbol":"BTCUSDT","orderId":"1","orderStatus":"New","orderStatus":"Filled"}]}`,
		cb: `{"channel":"user","events":[{"type":"update","orders":[{"order_id":"1","product_id":"BTC-USD","status":"OPEN","status":"FILLED"}]}]}`,
	} {
		evs, err := parseOne(t, venue, []byte(msg))
		require.ErrorIs(t, err, ErrMalformed, string(venue))
		// No report; the refused report channel's frame is announced
		// (contract 3, s30norm: reportsFrameLost).
		require.Len(t, evs, 1, string(venue))
		require.Equal(t, schema.EventGap, evs[0].Type, string(venue))
		require.Equal(t, schema.EventExecReport, evs[0].Control.GapType, string(venue))
	}
}
