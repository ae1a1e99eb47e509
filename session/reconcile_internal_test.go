package session

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

func bareReconciler(max int) *reconciler {
	return &reconciler{s: &Session{}, orders: map[orderKey]*tracked{}, recent: map[orderKey]ended{}, max: max}
}

// TestObserveAllocs: following a streamed report of a followed order costs
// no allocation (the trade ids' room included); only the first report of
// an order allocates its tracking.
func TestObserveAllocs(t *testing.T) {
	r := bareReconciler(10)
	ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventExecReport}
	x := ev.UseExec()
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
	x := ev.UseExec()
	x.VenueOrderID, x.ExecType, x.Status = schema.MustID("7"), schema.ExecTrade, schema.StatusPartiallyFilled
	x.TradeID.SetUint(9)
	x.LastFillQty, x.CumFillQty = schema.MustParseDecimal("0.2"), schema.MustParseDecimal("0.5")
	r.observe(ev)
	tr := r.orders[orderKey{symbol: "BTC-USDT", id: x.VenueOrderID}]
	require.NotNil(t, tr)
	assert.Zero(t, tr.floor.Cmp(schema.MustParseDecimal("0.3")))
	assert.Zero(t, tr.delivered.Cmp(schema.MustParseDecimal("0.2")))

	// Bybit: the order topic's report (cumulative, no fill) comes before
	// the execution topic's report of the fill that made it: that fill is
	// within the floor, not delivered on top of it, so that a later fill
	// missed is still seen missing.
	*ev.Exec = schema.Execution{VenueOrderID: schema.MustID("8"), Status: schema.StatusPartiallyFilled,
		CumFillQty: schema.MustParseDecimal("0.5")}
	r.observe(ev)
	x.ExecType, x.TradeID, x.LastFillQty = schema.ExecTrade, schema.MustID("e-1"), schema.MustParseDecimal("0.5")
	assert.False(t, r.observe(ev), "delivered: the stream's")
	tr = r.orders[orderKey{symbol: "BTC-USDT", id: x.VenueOrderID}]
	assert.Zero(t, tr.delivered.Sign(), "%s", tr.delivered)
	assert.False(t, tr.covered(schema.MustParseDecimal("0.7")), "a later 0.2 missed is missing")
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

// TestObserveBybitTopics: Bybit streams an order's end (order topic) and
// its fills (execution topic, execIds UUIDs) apart, in either order: an
// order whose Filled comes first is followed until its fills are
// delivered, each once; the order topic's status reports of an order
// that ended are not taken for duplicates.
func TestObserveBybitTopics(t *testing.T) {
	r := bareReconciler(10)
	ev := &schema.CanonicalEvent{Venue: schema.VenueBybit, Symbol: "BTC-USDT", Type: schema.EventExecReport}
	x := ev.UseExec()
	x.VenueOrderID, x.ExecType, x.Status = schema.MustID("fd4300ae-7847-404e-b947-b46980a4d140"), schema.ExecNew, schema.StatusNew
	require.False(t, r.observe(ev))
	key := orderKey{symbol: "BTC-USDT", id: x.VenueOrderID}

	x.ExecType, x.Status, x.CumFillQty = schema.ExecOrderStatus, schema.StatusFilled, schema.MustParseDecimal("0.03") // order topic first
	require.False(t, r.observe(ev))
	require.NotNil(t, r.orders[key], "followed until its fills are delivered")

	x.ExecType, x.Status, x.LastFillQty = schema.ExecTrade, schema.StatusPartiallyFilled, schema.MustParseDecimal("0.01")
	x.CumFillQty, x.TradeID = schema.MustParseDecimal("0.01"), schema.MustID("e0cbe81d-0f18-5866-9415-cf319b5dab3b")
	require.False(t, r.observe(ev), "a new fill")
	require.True(t, r.observe(ev), "the same execId again")
	x.Status, x.LastFillQty, x.CumFillQty = schema.StatusFilled, schema.MustParseDecimal("0.02"), schema.MustParseDecimal("0.03")
	x.TradeID = schema.MustID("e0cbe81d-0f18-5866-9415-cf319b5dab3c")
	require.False(t, r.observe(ev), "the last fill")
	require.Nil(t, r.orders[key], "forgotten: ended, every fill delivered")
	require.True(t, r.observe(ev), "the last fill again")

	x.ExecType, x.TradeID = schema.ExecOrderStatus, schema.ID{}
	assert.False(t, r.observe(ev), "the order topic's Filled after the fills is no duplicate")
}

func TestCumulative(t *testing.T) {
	dec := schema.MustParseDecimal
	order := &normalize.QueryOrder{}
	order.CumFillQty, order.CumQuoteQty = dec("0.03"), dec("30")
	fills := []normalize.QueryFill{{Qty: dec("0.01"), QuoteQty: dec("10")}, {Qty: dec("0.01"), QuoteQty: dec("10")}}
	cums := cumulative(order, fills)
	assert.Equal(t, []string{"0.02", "0.03"}, []string{cums[0].qty.String(), cums[1].qty.String()}, "the older 0.01 beyond the venue's history: counted back from the total")
	assert.Equal(t, []string{"20", "30"}, []string{cums[0].quote.String(), cums[1].quote.String()})

	order.CumFillQty, order.CumQuoteQty = dec("0.01"), dec("10")
	cums = cumulative(order, fills)
	assert.Equal(t, "0.01", cums[0].qty.String(), "a fill after the order query: the fills' sum is the total")
	assert.Equal(t, "0.02", cums[1].qty.String())

	fills[0].CumFillQty = dec("0.015")
	assert.Equal(t, "0.015", cumulative(order, fills)[0].qty.String(), "the venue's own")
}

// fakeBackend answers each order query with the next error (nil: the
// order, open), for internal tests.
type fakeBackend struct {
	rules_ *refusalRules
	errs   []error
	asked  int
}

func (b *fakeBackend) rules() *refusalRules                { return b.rules_ }
func (b *fakeBackend) budget() (perMinute, o, f, open int) { return 60, 1, 1, 1 }
func (b *fakeBackend) order(_ context.Context, _ uint64, key orderKey, _ bool) ([]normalize.QueryOrder, error) {
	b.asked++
	if len(b.errs) > 0 {
		err := b.errs[0]
		b.errs = b.errs[1:]
		if err != nil {
			return nil, err
		}
	}
	o := normalize.QueryOrder{Symbol: key.symbol}
	o.VenueOrderID, o.Status = key.id, schema.StatusNew
	return []normalize.QueryOrder{o}, nil
}
func (b *fakeBackend) fills(context.Context, uint64, orderKey, string, []normalize.QueryFill) ([]normalize.QueryFill, string, error) {
	return nil, "", nil
}
func (b *fakeBackend) open(context.Context, uint64, string, []normalize.QueryOrder) ([]normalize.QueryOrder, string, error) {
	return nil, "", nil
}

// TestRateLimitEmptiesBudget: a rate-limit refusal empties the budget, so
// that the retry waits for it to refill (one request at 60 a minute: a
// second), beyond the backoff; another failure waits the backoff only.
func TestRateLimitEmptiesBudget(t *testing.T) {
	for _, c := range []struct {
		name    string
		err     error
		refill  bool
		backoff time.Duration
	}{
		{"OKX 50011", &normalize.QueryError{Venue: schema.VenueOKX, Status: 429, Code: 50011}, true, time.Millisecond},
		{"OKX 50013 busy", &normalize.QueryError{Venue: schema.VenueOKX, Code: 50013}, false, time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := &stepClock{Clock: wsclient.SystemClock(), now: time.Unix(1700000000, 0)}
			s := &Session{spec: venues[schema.VenueOKX]}
			s.cfg.Client = wsclient.Options{Clock: clk, BackoffBase: time.Millisecond, BackoffCap: time.Millisecond}
			b := &fakeBackend{rules_: okxRefusals, errs: []error{c.err}}
			r := newReconciler(s, b)
			key := orderKey{symbol: "BTC-USDT", id: schema.MustID("1")}
			r.orders[key] = &tracked{status: schema.StatusNew}
			require.NoError(t, r.reconcile(context.Background(), 0, key, false))
			assert.Equal(t, 2, b.asked)
			assert.Equal(t, uint64(1), r.errs.Load())
			require.NotEmpty(t, clk.slept)
			assert.Equal(t, c.backoff, clk.slept[0], "the backoff")
			var waited time.Duration
			for _, d := range clk.slept[1:] {
				waited += d
			}
			if c.refill {
				assert.InDelta(t, time.Second.Seconds(), waited.Seconds(), 0.01, "the budget refilled: a second for one request at 60 a minute")
			} else {
				assert.Zero(t, waited, "the budget kept")
			}
		})
	}
}

// TestObserveAnonFills: fills streamed without a trade id (Coinbase's
// user channel: the growth of an order's cumulative quantity) are matched
// by quantity: a growth within what was delivered is a duplicate, one
// past it is cut to the rest (its price the growth of the quote quantity
// over it, its fee less the fees delivered since), and following them
// allocates nothing.
func TestObserveAnonFills(t *testing.T) {
	r := bareReconciler(10)
	ev := &schema.CanonicalEvent{Venue: schema.VenueCoinbase, Symbol: "BTC-USD", Type: schema.EventExecReport}
	x := ev.UseExec()
	x.VenueOrderID, x.ExecType, x.Status, x.Qty = schema.MustID("cb-1"), schema.ExecNew, schema.StatusNew, dec("1")
	require.False(t, r.observe(ev))
	key := orderKey{symbol: "BTC-USD", id: x.VenueOrderID}
	tr := r.orders[key]

	// Reconciliation delivered two fills: 0.1 at 100 (fee 0.06), 0.2 at 110 (fee 0.132).
	tr.delivered, tr.quoteAt, tr.feeSince = dec("0.3"), dec("32"), dec("0.192")
	tr.trades = append(tr.trades, schema.MustID("t1"), schema.MustID("t2"))

	// The stream's report of the first: a duplicate.
	x.ExecType, x.Status = schema.ExecTrade, schema.StatusPartiallyFilled
	x.LastFillQty, x.LastFillPrice, x.CumFillQty, x.CumQuoteQty, x.Fee = dec("0.1"), dec("100"), dec("0.1"), dec("10"), dec("0.06")
	assert.True(t, r.observe(ev), "within what was delivered")
	// Its next report grew by the second and a third, 0.3 at 120 (fee 0.216).
	x.LastFillQty, x.LastFillPrice, x.CumFillQty, x.CumQuoteQty, x.Fee = dec("0.5"), dec("116"), dec("0.6"), dec("68"), dec("0.348")
	require.False(t, r.observe(ev))
	assert.Equal(t, []int{0, 0, 0}, []int{x.LastFillQty.Cmp(dec("0.3")), x.LastFillPrice.Cmp(dec("120")), x.Fee.Cmp(dec("0.216"))},
		"cut to the third: %s at %s, fee %s", x.LastFillQty, x.LastFillPrice, x.Fee)
	assert.Zero(t, tr.delivered.Cmp(dec("0.6")))

	// The rest allocates nothing.
	cum := dec("0.6")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		cum, _ = cum.Add(dec("0.001"))
		x.LastFillQty, x.CumFillQty = dec("0.001"), cum
		if r.observe(ev) {
			t.Error("a new fill taken for a duplicate")
		}
	}))
}

func dec(s string) schema.Decimal { return schema.MustParseDecimal(s) }
