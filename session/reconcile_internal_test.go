package session

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

func bareReconciler(max int) *reconciler {
	return &reconciler{s: &Session{}, orders: map[orderKey]*tracked{}, recent: map[orderKey]schema.OrderStatus{}, max: max}
}

// TestObserveAllocs: following a streamed report of a followed order costs
// no allocation (the trade ids' room included); only the first report of
// an order allocates its tracking.
func TestObserveAllocs(t *testing.T) {
	r := bareReconciler(10)
	ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventExecReport}
	x := &ev.Exec
	x.VenueOrderID, x.ExecType, x.Status = schema.MustID("4293154"), schema.ExecNew, schema.StatusNew
	x.Qty = schema.MustParseDecimal("1")
	require.False(t, r.observe(ev))
	require.Len(t, r.orders, 1)

	assert.Zero(t, testing.AllocsPerRun(1000, func() { r.observe(ev) }), "a status report")

	x.ExecType, x.Status, x.LastFillQty = schema.ExecTrade, schema.StatusPartiallyFilled, schema.MustParseDecimal("0.01")
	next := uint64(100)
	assert.Zero(t, testing.AllocsPerRun(tradeIDsCap-1, func() {
		x.TradeID.SetUint(next)
		next++
		if r.observe(ev) {
			t.Error("a new fill taken for a duplicate")
		}
	}), "new fills within the trade ids' room")
	x.TradeID.SetUint(100)
	assert.Zero(t, testing.AllocsPerRun(1000, func() {
		if !r.observe(ev) {
			t.Error("a duplicate taken for a new fill")
		}
	}), "a duplicate")
	tr := r.orders[orderKey{symbol: "BTC-USDT", id: x.VenueOrderID}]
	assert.Zero(t, tr.delivered.Cmp(schema.MustParseDecimal("0.08")), "%s", tr.delivered)

	x.ExecType, x.Status = schema.ExecCanceled, schema.StatusCanceled
	x.TradeID = schema.ID{}
	r.observe(ev)
	assert.Empty(t, r.orders, "forgotten when it ends")
	x.ExecType, x.Status = schema.ExecCanceled, schema.StatusCanceled
	assert.True(t, r.observe(ev), "a report of an ended order is one delivered again")
	assert.Empty(t, r.orders, "and does not follow it again")
}

// TestObserveFloor: an order first seen mid-life was partly filled before:
// that part is its floor, not the session's to deliver.
func TestObserveFloor(t *testing.T) {
	r := bareReconciler(10)
	ev := &schema.CanonicalEvent{Symbol: "BTC-USDT", Type: schema.EventExecReport}
	x := &ev.Exec
	x.VenueOrderID, x.ExecType, x.Status = schema.MustID("7"), schema.ExecTrade, schema.StatusPartiallyFilled
	x.TradeID.SetUint(9)
	x.LastFillQty, x.CumFillQty = schema.MustParseDecimal("0.2"), schema.MustParseDecimal("0.5")
	r.observe(ev)
	tr := r.orders[orderKey{symbol: "BTC-USDT", id: x.VenueOrderID}]
	require.NotNil(t, tr)
	assert.Zero(t, tr.floor.Cmp(schema.MustParseDecimal("0.3")))
	assert.Zero(t, tr.delivered.Cmp(schema.MustParseDecimal("0.2")))
}

// TestWeightBucket: queries wait for weight on the clock; a minute's
// budget is there at once, then weight comes at the budget's rate.
func TestWeightBucket(t *testing.T) {
	now := time.Unix(1700000000, 0)
	var slept time.Duration
	sleep := func(_ context.Context, d time.Duration) error { slept += d; now = now.Add(d); return nil }
	b := weightBucket{perMinute: 1200, tokens: 1200, now: func() time.Time { return now }}
	ctx := context.Background()
	for range 300 {
		require.NoError(t, b.take(ctx, 4, sleep))
	}
	assert.Zero(t, slept, "a minute's budget at once")
	require.NoError(t, b.take(ctx, 20, sleep))
	assert.InDelta(t, time.Second.Seconds(), slept.Seconds(), 0.01, "20 weight at 1200 a minute")
	slept = 0
	for range 600 {
		require.NoError(t, b.take(ctx, 4, sleep))
	}
	assert.InDelta(t, (2 * time.Minute).Seconds(), slept.Seconds(), 1, "2400 weight: two minutes")

	slept = 0
	b.drain()
	require.NoError(t, b.take(ctx, 4, sleep))
	assert.InDelta(t, (200 * time.Millisecond).Seconds(), slept.Seconds(), 0.01, "drained by a rate limit: 4 weight waits for 0.2 s")

	small := weightBucket{perMinute: 50, tokens: 50, now: func() time.Time { return now }}
	require.NoError(t, small.take(ctx, 80, sleep), "a query heavier than the budget still goes, when the bucket is full")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, small.take(cancelled, 80, func(ctx context.Context, _ time.Duration) error { return ctx.Err() }), context.Canceled)
}

func TestRefusalRules(t *testing.T) {
	for _, c := range []struct {
		rules                  *refusalRules
		err                    error
		retry, limit, notFound bool
	}{
		{binanceRefusals, &normalize.BinanceQueryError{Status: 429, Code: -1003}, true, true, false},
		{binanceRefusals, &normalize.BinanceQueryError{Status: 418, Code: -1003}, true, true, false},
		{binanceRefusals, &normalize.BinanceQueryError{Status: 503, Code: -1001}, true, false, false},
		{binanceRefusals, &normalize.BinanceQueryError{Status: 400, Code: -1021}, true, false, false},
		{binanceRefusals, &normalize.BinanceQueryError{Status: 400, Code: -2013}, false, false, true},
		{binanceRefusals, &normalize.BinanceQueryError{Status: 400, Code: -1022}, false, false, false},
		{okxRefusals, &normalize.QueryError{Status: 429, Code: 50011}, true, true, false},
		{okxRefusals, &normalize.QueryError{Status: 200, Code: 50102}, true, false, false},
		{okxRefusals, &normalize.QueryError{Status: 200, Code: 51603}, false, false, true},
		{okxRefusals, &normalize.QueryError{Status: 401, Code: 50113}, false, false, false},
		{okxRefusals, &normalize.QueryError{Status: 502}, true, false, false},
		{bybitRefusals, &normalize.QueryError{Status: 200, Code: 10006}, true, true, false},
		{bybitRefusals, &normalize.QueryError{Status: 403}, true, true, false},
		{bybitRefusals, &normalize.QueryError{Status: 200, Code: 10002}, true, false, false},
		{bybitRefusals, &normalize.QueryError{Status: 200, Code: 110001}, false, false, true},
		{bybitRefusals, &normalize.QueryError{Status: 200, Code: 10003}, false, false, false},
		{bybitRefusals, errNoSuchOrder, false, false, true},
		{okxRefusals, context.DeadlineExceeded, true, false, false},
		{okxRefusals, &normalize.ParseError{Err: normalize.ErrMalformed}, true, false, false},
		{binanceRefusals, errConnLost, false, false, false},
		{binanceRefusals, context.Canceled, false, false, false},
	} {
		assert.Equal(t, []bool{c.retry, c.limit, c.notFound},
			[]bool{c.rules.retryable(c.err), c.rules.rateLimited(c.err), c.rules.notFound(c.err)}, "%v", c.err)
	}
}

func TestTradeID(t *testing.T) {
	_, ok := parseTradeID([]byte("18446744073709551615"))
	assert.False(t, ok, "too large: not taken for another id")
	id, ok := parseTradeID([]byte("1650422481"))
	assert.True(t, ok)
	assert.Equal(t, uint64(1650422481), id)
	_, ok = parseTradeID([]byte("7e2ae69c-4edf-5800-a352-893d52b446aa"))
	assert.False(t, ok, "a Bybit execId is no integer")
	_, ok = parseTradeID(nil)
	assert.False(t, ok)
	x := &schema.Execution{ExecType: schema.ExecTrade, TradeID: schema.MustID("7e2ae69c-4edf-5800-a352-893d52b446aa")}
	assert.True(t, tradeID(x), "any id the venue sent")
	x.ExecType = schema.ExecNew
	assert.False(t, tradeID(x))
}
