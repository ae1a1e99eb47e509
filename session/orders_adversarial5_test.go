package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// TestAdv5BinanceUnexpressibleRefusedFirst: an order Binance's WS API
// cannot express (spot has no reduce-only; a post-only order cannot be IOC,
// "Place new order": LIMIT_MAKER takes no timeInForce; a client order id
// outside ^[.A-Z:/a-z0-9_-]{1,36}$) is normalize.ErrUnsupported or
// ErrBadValue at once, as OKX's, Bybit's and Kraken's are — not after the
// wait for the connection, where a caller whose ctx had ended got
// ErrNotSent with ctx's error and never learnt the order could not be
// placed at all. Nothing reaches the venue.
func TestAdv5BinanceUnexpressibleRefusedFirst(t *testing.T) {
	v := startVenue(t)
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools()})
	waitConnected(t, s)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		edit func(*schema.OrderRequest)
		want error
	}{
		{"reduce-only", func(o *schema.OrderRequest) { o.ReduceOnly = true }, normalize.ErrUnsupported},
		{"post-only IOC", func(o *schema.OrderRequest) { o.PostOnly, o.TimeInForce = true, schema.TIFIOC }, normalize.ErrUnsupported},
		{"client id of 37", func(o *schema.OrderRequest) { o.ClientOrderID = schema.MustID("a234567890123456789012345678901234567") }, normalize.ErrBadValue},
		{"client id with a space", func(o *schema.OrderRequest) { o.ClientOrderID = schema.MustID("a b") }, normalize.ErrBadValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := limitOrder(s, t, "adv5-x", "buy", "1000.00", "0.5")
			defer s.Pools().Orders.Put(req)
			tc.edit(req)
			_, err := s.Place(ended, req)
			require.ErrorIs(t, err, tc.want)
			assert.NotErrorIs(t, err, session.ErrNotSent)
		})
	}
	// Binance spot's alphabet, 36 characters: accepted by the session and
	// the venue. (Spot's -1100 names ^[a-zA-Z0-9-_]{1,36}$: the . : / of
	// futures' alphabet are refused by spot, and by venuesim since s25.)
	ctx, cancel2 := context.WithTimeout(context.Background(), generous)
	defer cancel2()
	req := limitOrder(s, t, "A_b-c0d_e-f0123456789012345678901234", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req)
	_, err := s.Place(ctx, req)
	require.NoError(t, err)
	// The venue counts the order after it answers: waited for, not raced.
	require.Eventually(t, func() bool { return v.Stats().Orders == 1 }, generous, pollEvery, "the one order reached the venue")
}

// TestAdv5BinanceDocumentedRefusals: each refusal as Binance's WebSocket
// API documents it ("Error codes", "Rate limits": a request over the limit
// is answered status 429, an IP ban 418, both -1003 with
// error.data.retryAfter; -1015 too many new orders; -1021 timestamp
// outside recvWindow; -1013 "Filter failure: LOT_SIZE"; -2010 new order
// rejected; -2011 cancel rejected), with the rateLimits array the API adds
// to every answer, is a *VenueError with the venue's code and message,
// its status and, for 429 and 418, when the venue takes requests again
// (RetryAfter: the host must not send before it, or the ban grows), given
// to its caller at once; the connection goes on.
func TestAdv5BinanceDocumentedRefusals(t *testing.T) {
	v := startVenue(t)
	api := newScriptedAPI(t)
	ep := endpoints(v)
	ep.API = api.url
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools()})
	const limits = `"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":6012},` +
		`{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50,"count":51}]`
	for _, tc := range []struct {
		name   string
		status int
		code   int64
		msg    string
		data   string
	}{
		{"429 weight", 429, -1003, "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
			`,"data":{"serverTime":1659318140000,"retryAfter":1659318200000}`},
		{"418 banned", 418, -1003, "Way too much request weight used; IP banned until 1659146400000. Please use WebSocket Streams for live updates to avoid bans.",
			`,"data":{"serverTime":1659142907531,"retryAfter":1659146400000}`},
		{"429 orders", 429, -1015, "Too many new orders; current limit is 50 orders per 10 SECOND.", ""},
		{"recvWindow", 400, -1021, "Timestamp for this request is outside of the recvWindow.", ""},
		{"lot size", 400, -1013, "Filter failure: LOT_SIZE", ""},
		{"balance", 400, -2010, "Account has insufficient balance for requested action.", ""},
		{"duplicate", 400, -2010, "Duplicate order sent.", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			req := limitOrder(s, t, "r-1", "buy", "1000.00", "0.5")
			defer s.Pools().Orders.Put(req)
			done := placeAsync(ctx, s, req)
			r := api.next(t)
			body := fmt.Sprintf(`{"id":%d,"status":%d,"error":{"code":%d,"msg":%q%s},%s}`, r.id, tc.status, tc.code, tc.msg, tc.data, limits)
			require.NoError(t, r.answer(body))
			err := <-done
			var verr *session.VenueError
			require.ErrorAs(t, err, &verr, "%v", err)
			assert.Equal(t, tc.code, verr.Code)
			assert.Equal(t, tc.msg, verr.Msg)
			assert.Equal(t, r.id, verr.RequestID)
			assert.Equal(t, tc.status, verr.Status, "the answer's status: 429 over a limit, 418 banned")
			if tc.data != "" {
				assert.True(t, verr.RetryAfter.After(time.UnixMilli(1659000000000)), "error.data.retryAfter: %v", verr.RetryAfter)
			} else {
				assert.True(t, verr.RetryAfter.IsZero())
			}
			assert.NoError(t, ctx.Err())
		})
	}
	// A cancel refused: -2011 "Unknown order sent.".
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(s, t, "c-1", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req)
	req.OrigClientOrderID = schema.MustID("gone-1")
	done := make(chan error, 1)
	go func() { _, err := s.Cancel(ctx, req); done <- err }()
	r := api.next(t)
	assert.Contains(t, r.msg, `"order.cancel"`)
	assert.Contains(t, r.msg, `"origClientOrderId":"gone-1"`)
	require.NoError(t, r.answer(fmt.Sprintf(`{"id":%d,"status":400,"error":{"code":-2011,"msg":"Unknown order sent."},%s}`, r.id, limits)))
	var verr *session.VenueError
	require.ErrorAs(t, <-done, &verr)
	assert.Equal(t, int64(-2011), verr.Code)
	assert.Equal(t, 1, api.connCount(), "no reconnect")
	assert.Zero(t, s.Stats().Order.Pending)
}

// TestAdv5QuoteAmountUnderMinimumNeverSent: a market buy by quote amount
// under the venue's minimum order value — Bybit spot's minOrderAmt (170140
// "Order value exceeded lower limit"), Kraken's costmin ("EOrder:Cost
// minimum not met"; cash_order_qty is the cost) — or past the quote
// asset's precision (Bybit quotePrecision: 170148) is a *RuleError on the
// QuoteQty before anything is sent; one within them goes out.
func TestAdv5QuoteAmountUnderMinimumNeverSent(t *testing.T) {
	for _, c := range placeCases() {
		if c.venue == schema.VenueOKX { // OKX sets no minimum order value in its instrument list
			continue
		}
		t.Run(string(c.venue), func(t *testing.T) {
			f, s := connectedOrders(t, c)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			req := venueLimit(t, s, "quote1")
			defer s.Pools().Orders.Put(req)
			req.Type, req.TimeInForce, req.Price, req.Qty = schema.OrderTypeMarket, schema.TIFUnknown, schema.Decimal{}, schema.Decimal{}
			for _, tc := range []struct{ quote, rule string }{{"0.4", "min"}, {"0.000000001", "min"}} {
				req.QuoteQty = schema.MustParseDecimal(tc.quote)
				_, err := s.Place(ctx, req)
				var rerr *normalize.RuleError
				require.ErrorAs(t, err, &rerr, tc.quote)
				assert.Equal(t, "QuoteQty", rerr.Field)
				assert.Equal(t, tc.rule, rerr.Rule)
			}
			if c.venue == schema.VenueBybit {
				req.QuoteQty = schema.MustParseDecimal("10.000000001")
				_, err := s.Place(ctx, req)
				var rerr *normalize.RuleError
				require.ErrorAs(t, err, &rerr)
				assert.Equal(t, "step size", rerr.Rule)
			}
			assert.Empty(t, f.ordersSeen())
			req.QuoteQty = schema.MustParseDecimal("10")
			_, err := s.Place(ctx, req)
			require.NoError(t, err)
			require.Len(t, f.ordersSeen(), 1)
		})
	}
}

// TestAdv5LateAnswerKeepsItsSymbol: a caller gives up (its ctx ends)
// while the venue is still working on its order; the venue accepts it a
// moment later. OKX's, Bybit's and Kraken's answers name no symbol (OKX
// "order": ordId, clOrdId, sCode; Bybit "order.create": orderId,
// orderLinkId; Kraken "add_order": order_id, cl_ord_id): the late ack
// reached the dispatcher with an empty Symbol, so a subscriber following
// its instruments never saw that the order it was told had timed out
// exists. It comes with the symbol of the request it answers.
func TestAdv5LateAnswerKeepsItsSymbol(t *testing.T) {
	for _, c := range placeCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, nil)
			acks := make(chan *schema.CanonicalEvent, 16)
			s := startOrders(t, c, f, func(cfg *session.Config) {
				cfg.Subscribe = func(d *dispatch.Dispatcher) error {
					_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventOrderAck}}, &dispatch.SubscribeOptions{
						Handler: func(ev *schema.CanonicalEvent) { acks <- ev }})
					return err
				}
			})
			waitConnected(t, s)
			ctx, cancel := context.WithCancel(context.Background())
			release := make(chan struct{})
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			t.Cleanup(free)
			f.setScript(func(o orderSeen) ([]string, bool) {
				cancel() // the caller gives up while the venue works on it
				<-release
				return []string{acceptOrder(c.venue, o)}, false
			})
			ack, err := place(t, s, ctx, "late1")
			require.ErrorIs(t, err, context.Canceled)
			free()
			select {
			case ev := <-acks:
				assert.Equal(t, "BTC-USDT", ev.Symbol)
				assert.Equal(t, ack.RequestID, ev.Control.RequestID)
				assert.Equal(t, "ORD-"+strconv.FormatUint(ack.RequestID, 10), ev.Exec.VenueOrderID.String())
			case <-time.After(generous):
				require.FailNow(t, "the late ack never reached the dispatcher")
			}
			assert.Zero(t, s.Stats().Order.Pending)
		})
	}
}

// sleepRecorder is a wsclient.Clock whose Sleep returns at once (or when
// ctx ends) and records what it was asked to wait.
type sleepRecorder struct {
	wsclient.Clock
	mu    sync.Mutex
	asked []time.Duration
}

func (c *sleepRecorder) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.asked = append(c.asked, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *sleepRecorder) longest() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var m time.Duration
	for _, d := range c.asked {
		m = max(m, d)
	}
	return m
}

// TestAdv5BannedSubscriptionWaitsForRetryAfter: Binance WS-API "Rate
// limits": over the limit the answer is status 429, and an IP that keeps
// sending after it is banned — status 418, error -1003 "Way too much
// request weight used; IP banned until …", with error.data.retryAfter
// (Unix ms) — and the ban grows if requests keep coming. A refused
// user-data subscription was signed again after 1 s, 2 s, … at most 30 s
// whatever the venue said: a ban of ten minutes was met with twenty more
// requests. The retry now waits until retryAfter.
func TestAdv5BannedSubscriptionWaitsForRetryAfter(t *testing.T) {
	v := startVenue(t)
	var subs atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		for {
			_, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if !strings.Contains(string(msg), "userDataStream.subscribe") {
				continue
			}
			id := requestID(t, msg)
			body := fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, id)
			if subs.Add(1) == 1 {
				until := time.Now().Add(10 * time.Minute).UnixMilli()
				body = fmt.Sprintf(`{"id":%d,"status":418,"error":{"code":-1003,"msg":"Way too much request weight used; IP banned until %d. Please use WebSocket Streams for live updates to avoid bans.","data":{"serverTime":%d,"retryAfter":%d}},"rateLimits":[]}`,
					id, until, time.Now().UnixMilli(), until)
			}
			if c.Write(r.Context(), websocket.MessageText, []byte(body)) != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	ep := endpoints(v)
	ep.API = "ws" + strings.TrimPrefix(srv.URL, "http")
	clk := &sleepRecorder{Clock: wsclient.SystemClock()}
	opts := fastRedial
	opts.Clock = clk
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: opts, Pools: strictPools()})
	require.Eventually(t, func() bool { return subs.Load() >= 2 }, generous, pollEvery, "signed again after the wait")
	assert.Greater(t, clk.longest(), 9*time.Minute, "waited for retryAfter, not the 1 s backoff")
	// The refusal stands until the venue's acceptance is read.
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), generous)
		defer cancel()
		return s.WaitConnected(ctx) == nil
	}, generous, pollEvery)
}
