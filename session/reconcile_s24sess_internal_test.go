package session

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// TestObserveFinalStatusHolds: an order's end is final. Bybit streams an
// order's state (topic "order") and its fills (topic "execution") apart,
// in either order (Bybit v5 "WebSocket Stream → Private"): when a partly
// filled order is canceled, the order topic's PartiallyFilledCanceled may
// come before the execution topic's fill, whose leavesQty (its remaining
// quantity at the fill) makes it a PartiallyFilled report. That late fill
// must not bring the order back to life: once its fills are delivered it
// is forgotten, and the next reconnect's pass neither follows it nor
// publishes its cancel a second time.
func TestObserveFinalStatusHolds(t *testing.T) {
	r := bareReconciler(10)
	ev := &schema.CanonicalEvent{Venue: schema.VenueBybit, Symbol: "BTC-USDT", Type: schema.EventExecReport}
	x := ev.UseExec()
	x.VenueOrderID, x.ExecType, x.Status = schema.MustID("1321052653536515584"), schema.ExecNew, schema.StatusNew
	x.Qty = dec("1")
	require.False(t, r.observe(ev))
	key := orderKey{symbol: "BTC-USDT", id: x.VenueOrderID}

	// The order topic: canceled with 0.4 filled.
	x.ExecType, x.Status, x.CumFillQty = schema.ExecCanceled, schema.StatusCanceled, dec("0.4")
	require.False(t, r.observe(ev))
	require.NotNil(t, r.orders[key], "followed until its fill is delivered")

	// The execution topic's fill, late: PartiallyFilled at its time.
	x.ExecType, x.Status, x.LastFillQty, x.CumFillQty = schema.ExecTrade, schema.StatusPartiallyFilled, dec("0.4"), dec("0.4")
	x.RemainingQty, x.TradeID = dec("0.6"), schema.MustID("e0cbe81d-0f18-5866-9415-cf319b5dab3b")
	require.False(t, r.observe(ev), "a new fill")
	require.Nil(t, r.orders[key], "ended and every fill delivered: forgotten, not followed as partly filled")
}

// TestCheckRulesIgnoresListedStatus: the trading status an instrument
// list gave at Start is a snapshot (Binance BREAK, Kraken cancel_only or
// post_only end without a word to it): Place does not refuse on it — the
// venue does while it holds —, but the other rules still apply.
func TestCheckRulesIgnoresListedStatus(t *testing.T) {
	s := &Session{rules: map[string]normalize.InstrumentRules{
		"BTC-USDT": {Trading: normalize.TradingHalted, TickSize: dec("0.01")},
	}}
	o := &schema.OrderRequest{Action: schema.ActionPlace, Symbol: "BTC-USDT", Side: schema.SideBuy, Type: schema.OrderTypeLimit,
		Price: dec("100.00"), Qty: dec("1")}
	require.NoError(t, s.checkRules(o))
	o.Price = dec("100.001")
	var re *normalize.RuleError
	require.ErrorAs(t, s.checkRules(o), &re)
	require.Equal(t, "Price", re.Field)
	r, _ := s.Rules("BTC-USDT")
	require.Equal(t, normalize.TradingHalted, r.Trading, "the host still sees what the list said")
}

// TestObserveDuplicateEndForgets: a streamed report that repeats what
// reconciliation delivered (its fill, by trade id; Coinbase's growth, by
// quantity) is dropped — but when it says the order ended, and every fill
// is delivered, the order is forgotten all the same, not followed until
// the next reconnect's pass. (A pass can deliver an order's last fill
// while its order query, made a moment before, still said open.)
func TestObserveDuplicateEndForgets(t *testing.T) {
	for _, anon := range []bool{false, true} {
		r := bareReconciler(10)
		ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventExecReport}
		x := ev.UseExec()
		x.VenueOrderID, x.ExecType, x.Status, x.Qty = schema.MustID("77"), schema.ExecNew, schema.StatusNew, dec("1")
		require.False(t, r.observe(ev))
		key := orderKey{symbol: "BTC-USDT", id: x.VenueOrderID}
		tr := r.orders[key]
		// Reconciliation delivered the whole fill (the order still open by
		// its order query).
		tr.delivered, tr.status, tr.anon = dec("1"), schema.StatusFilled, anon
		tr.trades = append(tr.trades, schema.MustID("9001"))
		x.ExecType, x.Status, x.LastFillQty, x.CumFillQty = schema.ExecTrade, schema.StatusFilled, dec("1"), dec("1")
		if !anon {
			x.TradeID = schema.MustID("9001")
		}
		require.True(t, r.observe(ev), "delivered already")
		require.Nil(t, r.orders[key], "ended, every fill delivered: forgotten (anon %v)", anon)
	}
}

// endedBackend answers the order query with an order still partly filled
// (asked a moment before its cancel) and the fills query with both of its
// fills.
type endedBackend struct{ fakeBackend }

func (b *endedBackend) order(_ context.Context, _ uint64, key orderKey, _ bool) ([]normalize.QueryOrder, error) {
	o := normalize.QueryOrder{Symbol: key.symbol}
	o.VenueOrderID, o.Status, o.Qty, o.CumFillQty = key.id, schema.StatusPartiallyFilled, dec("1"), dec("0.4")
	return []normalize.QueryOrder{o}, nil
}

func (b *endedBackend) fills(_ context.Context, _ uint64, key orderKey, _ string, dst []normalize.QueryFill) ([]normalize.QueryFill, string, error) {
	for i, id := range []string{"1", "2"} {
		dst = append(dst, normalize.QueryFill{Symbol: key.symbol, OrderID: key.id, TradeID: schema.MustID(id), Price: dec("100"),
			Qty: dec("0.2"), QuoteQty: dec("20"), Time: int64(i + 1)})
	}
	return dst, "", nil
}

// TestReconcileEndStreamedForgets: the stream delivered an order's cancel
// and one of its two fills; the pass's order query, made a moment before
// the cancel, says partly filled; its fills query finds the other fill,
// which the pass delivers. The order has then ended with every fill
// delivered: it is forgotten, not followed until the next reconnect.
func TestReconcileEndStreamedForgets(t *testing.T) {
	pools := schema.NewPools(nil)
	s := &Session{spec: venues[schema.VenueBybit], pools: pools, disp: dispatch.New(pools.Events, nil)}
	defer func() { require.NoError(t, s.disp.Close(context.Background())) }()
	s.cfg.Client = wsclient.Options{Clock: wsclient.SystemClock()}
	r := newReconciler(s, &endedBackend{fakeBackend{rules_: bybitRefusals}})
	key := orderKey{symbol: "BTC-USDT", id: schema.MustID("fd4300ae-7847-404e-b947-000000000001")}
	tr := &tracked{status: schema.StatusCanceled, delivered: dec("0.2"), cum: dec("0.4")}
	tr.trades = append(tr.trades, schema.MustID("1"))
	r.orders[key] = tr
	require.NoError(t, r.reconcile(context.Background(), 0, key, false))
	assert.Equal(t, uint64(1), r.reconciled.Load(), "the fill the stream missed")
	assert.Nil(t, r.orders[key], "ended, every fill delivered: forgotten")
}
