package session_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// recon is a session on a simulated venue whose execution reports (as
// OnExecReport hands them) and execution-report gap markers the test reads
// collectRecon sends clones of the execution reports to reports (each
// pooled one returned to pools) and the execution-report gap markers to
// gaps.
func collectRecon(cfg *session.Config, pools *schema.Pools, reports chan<- *schema.ExecReport, gaps chan<- *schema.CanonicalEvent) {
	cfg.OnExecReport = func(r *schema.ExecReport) {
		c := r.Clone()
		pools.Execs.Put(r)
		reports <- c
	}
	cfg.Subscribe = func(d *dispatch.Dispatcher) error {
		_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventGap}}, &dispatch.SubscribeOptions{
			Handler: func(ev *schema.CanonicalEvent) {
				if ev.Control.GapType == schema.EventExecReport {
					gaps <- ev
				}
			}})
		return err
	}
}

// in order.
type recon struct {
	t       *testing.T
	v       *venuesim.Venue
	s       *session.Session
	reports chan *schema.ExecReport
	gaps    chan *schema.CanonicalEvent
}

func startRecon(t *testing.T, v *venuesim.Venue, tweak func(*session.Config)) *recon {
	t.Helper()
	h := &recon{t: t, v: v, reports: make(chan *schema.ExecReport, 256), gaps: make(chan *schema.CanonicalEvent, 16)}
	pools := strictPools()
	cfg := session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, Pools: pools}
	collectRecon(&cfg, pools, h.reports, h.gaps)
	if tweak != nil {
		tweak(&cfg)
	}
	h.s = start(t, cfg)
	waitConnected(t, h.s)
	// The first subscription's openOrders.status runs on a goroutine of
	// its own: wait until the venue has it, so that a test's FailQueries
	// or HoldQueries meets only the queries the test means (the venue
	// handles one connection's requests in order, so whatever the test
	// sends next is served after it).
	require.Eventually(t, func() bool { return v.Stats().Queries >= 1 }, generous, pollEvery, "openOrders.status at the first subscription")
	openOrdersRead(t, h.s)
	return h
}

// openOrdersRead waits until the session has read the open orders of its
// first subscription to the end (OrderStats.OpenCountKnown). The venue
// holding the query is not enough: a connection cut before the session
// has read the answer (a test's window, at once) makes it read them
// again at the next subscription, a query more than the test counts
// (TestCoinbaseReconcileStuckCursor: List Orders read 3 times, not 2, in
// 2 of 600 runs, two -race runs at once).
func openOrdersRead(t *testing.T, s *session.Session) {
	t.Helper()
	require.Eventually(t, func() bool { return s.Stats().Order.OpenCountKnown }, generous, pollEvery, "the open orders read at the first subscription")
}

// next is the next execution report.
func (h *recon) next() *schema.ExecReport {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	select {
	case r := <-h.reports:
		return r
	case <-ctx.Done():
		require.FailNow(h.t, "no execution report")
		return nil
	}
}

// place places a resting limit buy (far below the market) and returns its
// venue order id, after its streamed NEW report.
func (h *recon) place(cid, qty string) uint64 {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(h.s, h.t, cid, "buy", "1000.00", qty)
	defer h.s.Pools().Orders.Put(req)
	ack, err := h.s.Place(ctx, req)
	require.NoError(h.t, err)
	id, err := strconv.ParseUint(ack.VenueOrderID.String(), 10, 64)
	require.NoError(h.t, err)
	r := h.next()
	require.Equal(h.t, []any{schema.ExecNew, cid, false}, []any{r.ExecType, r.ClientOrderID.String(), r.Reconciled})
	return id
}

// window drops the order connection and holds its next user-data
// subscription while during runs: what happens then is not streamed.
// The subscription is then accepted, and the session reconciles.
func (h *recon) window(during func()) {
	h.t.Helper()
	h.v.HoldUserData(true)
	require.Equal(h.t, 1, h.v.CloseAPI())
	require.Eventually(h.t, func() bool { return h.v.HeldUserData() == 1 }, generous, pollEvery, "the new connection subscribes")
	during()
	h.v.HoldUserData(false)
	waitConnected(h.t, h.s)
}

// untracked waits until the session follows no order.
func (h *recon) untracked() {
	h.t.Helper()
	require.Eventually(h.t, func() bool { return h.s.Stats().Order.Tracked == 0 }, generous, pollEvery)
}

// nothingElse checks that the next report is a new order's NEW: nothing
// was delivered twice or late.
func (h *recon) nothingElse() {
	h.t.Helper()
	h.place("probe-"+strconv.Itoa(len(h.v.UserDataSubscriptions())), "0.01")
}

func d(s string) schema.Decimal { return schema.MustParseDecimal(s) }

func assertFill(t *testing.T, r *schema.ExecReport, status schema.OrderStatus, last, cum, cumQuote string) {
	t.Helper()
	assert.True(t, r.Reconciled, "reconciled")
	assert.Equal(t, schema.ExecTrade, r.ExecType)
	assert.Equal(t, status, r.Status)
	assert.False(t, r.TradeID.IsZero(), "the venue's trade id")
	assert.Zero(t, r.LastFillPrice.Cmp(d("1000")), "price %s", r.LastFillPrice)
	assert.Zero(t, r.LastFillQty.Cmp(d(last)), "last qty %s", r.LastFillQty)
	assert.Zero(t, r.CumFillQty.Cmp(d(cum)), "cum qty %s", r.CumFillQty)
	assert.Zero(t, r.CumQuoteQty.Cmp(d(cumQuote)), "cum quote %s", r.CumQuoteQty)
	fee, _ := r.LastFillQty.Mul(d("0.001"))
	assert.Zero(t, r.Fee.Cmp(fee), "fee %s", r.Fee)
	assert.Equal(t, "BTC", r.FeeAsset.String())
	assert.True(t, r.IsMaker)
	assert.Equal(t, "BTC-USDT", r.Symbol)
	assert.Equal(t, schema.SideBuy, r.Side)
	assert.Zero(t, r.Qty.Cmp(d("0.03")))
	assert.NotZero(t, r.TransactTime)
}

// TestReconcileFillWhileDisconnected: an order fills while the session has
// no user-data stream; after the reconnect the host gets that fill once,
// Reconciled, with the venue's trade id, price, quantity, fee and maker
// flag.
func TestReconcileFillWhileDisconnected(t *testing.T) {
	h := startRecon(t, startVenue(t), nil)
	id := h.place("w-1", "0.03")
	h.window(func() { require.NoError(t, h.v.FillOrder(id, "")) })
	r := h.next()
	assertFill(t, r, schema.StatusFilled, "0.03", "0.03", "30")
	assert.Equal(t, "w-1", r.ClientOrderID.String())
	assert.True(t, r.RemainingQty.IsZero())
	h.untracked()
	h.nothingElse()
	st := h.s.Stats().Order
	assert.Equal(t, uint64(1), st.Reconciled)
	assert.Equal(t, uint64(1), st.Reconciliations)
	assert.Zero(t, st.ReconcileGaps)
	assert.Equal(t, uint64(4+20+80), st.ReconcileWeight, "order.status, myTrades, and openOrders.status at the first subscription")
}

// TestReconcilePartialBeforeRestDuring: one fill streamed, two in the
// window: the host gets the two, in order, with the cumulative quantities
// following the streamed one.
func TestReconcilePartialBeforeRestDuring(t *testing.T) {
	h := startRecon(t, startVenue(t), nil)
	id := h.place("p-1", "0.03")
	require.NoError(t, h.v.FillOrder(id, "0.01"))
	r := h.next()
	assert.False(t, r.Reconciled)
	assert.Equal(t, []any{schema.ExecTrade, schema.StatusPartiallyFilled}, []any{r.ExecType, r.Status})
	streamed := r.TradeID

	h.window(func() {
		require.NoError(t, h.v.FillOrder(id, "0.01"))
		require.NoError(t, h.v.FillOrder(id, ""))
	})
	r1, r2 := h.next(), h.next()
	assertFill(t, r1, schema.StatusPartiallyFilled, "0.01", "0.02", "20")
	assert.Zero(t, r1.RemainingQty.Cmp(d("0.01")))
	assertFill(t, r2, schema.StatusFilled, "0.01", "0.03", "30")
	assert.NotEqual(t, streamed, r1.TradeID)
	assert.NotEqual(t, r1.TradeID, r2.TradeID)
	h.untracked()
	h.nothingElse()
}

// TestReconcileEndDuringWindow: an order partly filled, then canceled or
// expired by the venue, in the window: the fill, then the end, both
// Reconciled.
func TestReconcileEndDuringWindow(t *testing.T) {
	for _, end := range []struct {
		status   string
		want     schema.OrderStatus
		execType schema.ExecType
	}{{"CANCELED", schema.StatusCanceled, schema.ExecCanceled}, {"EXPIRED", schema.StatusExpired, schema.ExecExpired}} {
		t.Run(end.status, func(t *testing.T) {
			h := startRecon(t, startVenue(t), nil)
			id := h.place("c-1", "0.03")
			h.window(func() {
				require.NoError(t, h.v.FillOrder(id, "0.01"))
				require.NoError(t, h.v.EndOrder(id, end.status))
			})
			assertFill(t, h.next(), schema.StatusPartiallyFilled, "0.01", "0.01", "10")
			r := h.next()
			assert.True(t, r.Reconciled)
			assert.Equal(t, []any{end.execType, end.want}, []any{r.ExecType, r.Status})
			assert.Zero(t, r.CumFillQty.Cmp(d("0.01")))
			assert.True(t, r.TradeID.IsZero())
			h.untracked()
			h.nothingElse()
		})
	}
}

// TestReconcileNothingMissed: a window in which nothing happened costs one
// order.status per open order and publishes nothing.
func TestReconcileNothingMissed(t *testing.T) {
	h := startRecon(t, startVenue(t), nil)
	h.place("n-1", "0.03")
	h.window(func() {})
	require.Eventually(t, func() bool {
		st := h.s.Stats().Order
		return st.Reconciliations == 1 && st.ReconcileWeight == 4+80
	}, generous, pollEvery)
	assert.Equal(t, 1, h.s.Stats().Order.Tracked)
	h.nothingElse()
	assert.Zero(t, h.s.Stats().Order.Reconciled)
}

// TestReconcileDedupStreamAfter: the stream delivers again a fill that
// reconciliation delivered, of an order still open or of one that ended
// with it: the host gets it once.
func TestReconcileDedupStreamAfter(t *testing.T) {
	for _, c := range []struct {
		name, qty, cum, quote string
		status                schema.OrderStatus
	}{{"open", "0.01", "0.01", "10", schema.StatusPartiallyFilled}, {"ended", "", "0.03", "30", schema.StatusFilled}} {
		t.Run(c.name, func(t *testing.T) {
			h := startRecon(t, startVenue(t), nil)
			id := h.place("d-1", "0.03")
			h.window(func() { require.NoError(t, h.v.FillOrder(id, c.qty)) })
			assertFill(t, h.next(), c.status, c.cum, c.cum, c.quote)
			require.Eventually(t, func() bool { return h.s.Stats().Order.Reconciled == 1 }, generous, pollEvery)
			require.NoError(t, h.v.ResendFill(id))
			require.Eventually(t, func() bool { return h.s.Stats().Order.Duplicates == 1 }, generous, pollEvery)
			h.nothingElse()
		})
	}
}

// TestReconcileDedupStreamFirst: the stream delivers a fill made after the
// new subscription, before reconciliation's query sees it: the host gets
// it once, streamed, and the window's fill once, reconciled.
func TestReconcileDedupStreamFirst(t *testing.T) {
	h := startRecon(t, startVenue(t), nil)
	id := h.place("f-1", "0.03")
	queries := h.v.Stats().Queries
	h.v.HoldQueries(true)
	h.window(func() { require.NoError(t, h.v.FillOrder(id, "0.01")) })
	require.Eventually(t, func() bool { return h.v.HeldQueries() == 1 }, generous, pollEvery, "order.status waits")
	require.NoError(t, h.v.FillOrder(id, "0.01")) // streamed
	r := h.next()
	assert.False(t, r.Reconciled)
	assert.Zero(t, r.CumFillQty.Cmp(d("0.02")))
	later := r.TradeID
	h.v.HoldQueries(false)
	r = h.next()
	assertFill(t, r, schema.StatusPartiallyFilled, "0.01", "0.01", "10")
	assert.NotEqual(t, later, r.TradeID)
	require.Eventually(t, func() bool { return h.v.Stats().Queries == queries+2 }, generous, pollEvery, "order.status and myTrades")
	h.nothingElse()
	assert.Equal(t, uint64(1), h.s.Stats().Order.Reconciled)
}

// TestReconcileRetriesThenGap: queries refused past the weight limit are
// retried with backoff; a few refusals cost nothing but errors counted,
// too many make the session give the order up with a gap marker. The order
// stays tracked: the next reconnect reconciles it.
func TestReconcileRetriesThenGap(t *testing.T) {
	// Each refusal empties the weight bucket: a large budget keeps the
	// refills short.
	h := startRecon(t, startVenue(t), func(c *session.Config) { c.ReconcileWeight = 600000 })
	id := h.place("r-1", "0.03")

	h.v.FailQueries(2)
	h.window(func() { require.NoError(t, h.v.FillOrder(id, "0.01")) })
	assertFill(t, h.next(), schema.StatusPartiallyFilled, "0.01", "0.01", "10")
	st := h.s.Stats().Order
	assert.Equal(t, uint64(2), st.ReconcileErrors)
	assert.Zero(t, st.ReconcileGaps)

	h.v.FailQueries(1000)
	h.window(func() { require.NoError(t, h.v.FillOrder(id, "0.01")) })
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	select {
	case g := <-h.gaps:
		assert.Equal(t, []any{schema.ControlGap, schema.GapVenue, int64(-1003), "BTC-USDT", strconv.FormatUint(id, 10)},
			[]any{g.Control.Kind, g.Control.GapSource, g.Control.Code, g.Symbol, g.Exec.VenueOrderID.String()})
		assert.Contains(t, g.Control.Reason, "reconcile")
	case <-ctx.Done():
		require.FailNow(t, "no gap marker")
	}
	st = h.s.Stats().Order
	assert.Equal(t, uint64(1), st.ReconcileGaps)
	assert.Equal(t, uint64(2+5), st.ReconcileErrors, "five tries")
	assert.Equal(t, 1, st.Tracked)

	h.v.FailQueries(0)
	h.window(func() {})
	assertFill(t, h.next(), schema.StatusPartiallyFilled, "0.01", "0.02", "20")
	h.nothingElse()
}

// TestReconcileOrdersFromBefore: an order placed before the session
// started (by another session) is followed from openOrders.status at the
// first subscription; its earlier fill is not the session's to deliver, a
// fill in a later window is.
func TestReconcileOrdersFromBefore(t *testing.T) {
	v := startVenue(t)
	first := startRecon(t, v, nil)
	id := first.place("b-1", "0.03")
	require.NoError(t, v.FillOrder(id, "0.01"))
	first.next()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, first.s.Close(ctx))

	h := startRecon(t, v, nil)
	require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 1 }, generous, pollEvery)
	h.window(func() { require.NoError(t, v.FillOrder(id, "")) })
	r := h.next()
	assertFill(t, r, schema.StatusFilled, "0.02", "0.03", "30")
	assert.Equal(t, "b-1", r.ClientOrderID.String())
	h.untracked()
	h.nothingElse()
}

// TestReconcileTrackCap: past MaxTrackedOrders an order is not followed,
// and the overflow is counted.
func TestReconcileTrackCap(t *testing.T) {
	h := startRecon(t, startVenue(t), func(c *session.Config) { c.MaxTrackedOrders = 1 })
	h.place("cap-1", "0.01")
	h.place("cap-2", "0.01")
	st := h.s.Stats().Order
	assert.Equal(t, 1, st.Tracked)
	assert.NotZero(t, st.TrackOverflow, "counted (by the ack and by the report)")
}

// TestReconcileUnansweredPlace: the venue takes an order and the
// connection goes before its answer or any report; Place returns
// ErrDisconnected. After the reconnect the session finds the order by its
// client order id and delivers the fill it had in the window.
func TestReconcileUnansweredPlace(t *testing.T) {
	h := startRecon(t, startVenue(t), nil)
	h.v.HoldUserData(true)
	h.v.DropNextPlace()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(h.s, t, "u-1", "buy", "1000.00", "0.03")
	defer h.s.Pools().Orders.Put(req)
	_, err := h.s.Place(ctx, req)
	require.ErrorIs(t, err, session.ErrDisconnected)
	id, ok := h.v.OrderID("u-1")
	require.True(t, ok, "the venue has it")
	require.Eventually(t, func() bool { return h.v.HeldUserData() == 1 }, generous, pollEvery)
	require.NoError(t, h.v.FillOrder(id, "0.01"))
	h.v.HoldUserData(false)
	r := h.next()
	assertFill(t, r, schema.StatusPartiallyFilled, "0.01", "0.01", "10")
	assert.Equal(t, "u-1", r.ClientOrderID.String())
	assert.Equal(t, strconv.FormatUint(id, 10), r.VenueOrderID.String())
	require.Eventually(t, func() bool { return h.s.Stats().Order.Tracked == 1 }, generous, pollEvery, "followed from now on")
	require.NoError(t, h.v.FillOrder(id, ""))
	r = h.next()
	assert.False(t, r.Reconciled, "streamed")
	assert.Equal(t, schema.StatusFilled, r.Status)
	h.untracked()
	h.nothingElse()
}

// TestReconcileAfterStreamTerminated: Binance ends the user-data stream
// (eventStreamTerminated) on a connection that stays open; an order fills
// before the session's new subscription is accepted. That fill reaches
// the host once, Reconciled, as after a reconnect.
func TestReconcileAfterStreamTerminated(t *testing.T) {
	h := startRecon(t, startVenue(t), nil)
	id := h.place("t-1", "0.03")
	h.v.HoldUserData(true)
	require.Equal(t, 1, h.v.TerminateUserData())
	require.Eventually(t, func() bool { return h.v.HeldUserData() == 1 }, generous, pollEvery, "subscribed again")
	require.NoError(t, h.v.FillOrder(id, ""))
	h.v.HoldUserData(false)
	waitConnected(t, h.s)
	r := h.next()
	assertFill(t, r, schema.StatusFilled, "0.03", "0.03", "30")
	h.untracked()
	h.nothingElse()
	assert.Zero(t, h.s.Stats().Orders.Client.TotalReconnects(), "the connection was kept")
}
