package session_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
)

// answersSeen counts the venue answers (acks and refusals) that reached
// the dispatcher, by request id.
type answersSeen struct {
	mu  sync.Mutex
	ids map[uint64]int
}

func watchAnswers(t *testing.T, s *session.Session) *answersSeen {
	t.Helper()
	a := &answersSeen{ids: map[uint64]int{}}
	_, err := s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventOrderAck, schema.EventControl}}, &dispatch.SubscribeOptions{
		Handler: func(ev *schema.CanonicalEvent) {
			if ev.Control.RequestID == 0 {
				return
			}
			a.mu.Lock()
			a.ids[ev.Control.RequestID]++
			a.mu.Unlock()
		}})
	require.NoError(t, err)
	return a
}

func (a *answersSeen) count(id uint64) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ids[id]
}

// TestAdvLateDuplicateAndUnknownAnswers: an answer that arrives after its
// caller gave up, a second answer to the same id and answers to ids never
// sent are passed on to the subscribers and otherwise ignored: no panic,
// nothing pending, nothing leaked, and the next call gets its own answer —
// the first one the venue sent for it.
func TestAdvLateDuplicateAndUnknownAnswers(t *testing.T) {
	v := startVenue(t)
	api := newScriptedAPI(t)
	ep := endpoints(v)
	ep.API = api.url
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools()})
	seen := watchAnswers(t, s)

	// A gives up before the venue answers.
	gaveUp, cancel := context.WithCancel(context.Background())
	reqA := limitOrder(s, t, "late-a", "buy", "1000.00", "0.5")
	done := make(chan error, 1)
	go func() {
		_, err := s.Place(gaveUp, reqA)
		done <- err
	}()
	a := api.next(t)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	s.Pools().Orders.Put(reqA)

	// Then the venue answers A twice, and answers ids nobody sent.
	require.NoError(t, a.answer(ackBody(a.id, "late-a", 1)))
	require.NoError(t, a.answer(errorBody(a.id, -2010, "duplicate")))
	require.NoError(t, a.answer(ackBody(a.id+1000, "ghost", 2)))
	require.NoError(t, a.answer(errorBody(a.id+1001, -1000, "ghost error")))
	require.NoError(t, a.answer(errorBody(1<<63, -1000, "huge id")))

	// B is answered twice, a refusal first: the first answer is B's.
	ctx, cancelB := context.WithTimeout(context.Background(), generous)
	defer cancelB()
	reqB := limitOrder(s, t, "b", "buy", "1000.00", "0.5")
	go func() {
		_, err := s.Place(ctx, reqB)
		done <- err
	}()
	b := api.next(t)
	require.NotEqual(t, a.id, b.id)
	require.NoError(t, b.answer(errorBody(b.id, -2010, "first")))
	require.NoError(t, b.answer(ackBody(b.id, "b", 3)))
	err := <-done
	s.Pools().Orders.Put(reqB)
	var verr *session.VenueError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, b.id, verr.RequestID)
	assert.Equal(t, "first", verr.Msg)

	require.Eventually(t, func() bool { return seen.count(b.id) == 2 && seen.count(a.id+1001) == 1 }, generous, pollEvery,
		"every answer, late and unknown ones too, reaches the subscribers")
	assert.Equal(t, 2, seen.count(a.id))
	st := s.Stats().Order
	assert.Zero(t, st.Pending)
	assert.Equal(t, uint64(1), st.TimedOut)
	assert.Equal(t, uint64(1), st.Answered, "only B was answered while waited for")
}

// TestAdvPlaceWithEndedContextSendsNothing: a call whose context has
// already ended must not send the order (the caller has given up: an
// order it is told failed must not be working at the venue).
func TestAdvPlaceWithEndedContextSendsNothing(t *testing.T) {
	v := startVenue(t)
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools()})
	waitConnected(t, s)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	req := limitOrder(s, t, "ended-1", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req)
	_, err := s.Place(ended, req)
	require.ErrorIs(t, err, context.Canceled)
	req.OrigClientOrderID = schema.MustID("ended-1")
	_, err = s.Cancel(ended, req)
	require.ErrorIs(t, err, context.Canceled)

	// A call that goes out afterwards is answered after anything sent
	// before it: the venue saw that one only.
	ctx, cancel2 := context.WithTimeout(context.Background(), generous)
	defer cancel2()
	req2 := limitOrder(s, t, "live-1", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req2)
	_, err = s.Place(ctx, req2)
	require.NoError(t, err)
	// The venue counts an order once its answer and immediate execution
	// reports are out, so the count may trail the answer we got. Had the
	// ended order been sent, the venue would have counted it before live-1.
	require.Eventually(t, func() bool { return v.Stats().Orders >= 1 }, generous, pollEvery)
	st := v.Stats()
	assert.Equal(t, uint64(1), st.Orders, "the order of the ended context never reached the venue")
	assert.Zero(t, st.Rejected, "nor its cancel")
	assert.Zero(t, s.Stats().Order.Pending)
}

// TestAdvManyWaitersDisconnect: every call waiting when the connection is
// lost fails with ErrDisconnected at once; the session reconnects,
// re-subscribes, and the next call is answered.
func TestAdvManyWaitersDisconnect(t *testing.T) {
	v := startVenue(t)
	api := newScriptedAPI(t)
	ep := endpoints(v)
	ep.API = api.url
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, Pools: strictPools()})
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	const n = 16
	errs := make(chan error, n)
	for i := range n {
		req := limitOrder(s, t, "w-"+strconv.Itoa(i), "buy", "1000.00", "0.5")
		go func() {
			_, err := s.Place(ctx, req)
			s.Pools().Orders.Put(req)
			errs <- err
		}()
	}
	for range n {
		api.next(t)
	}
	api.dropAll()
	for range n {
		require.ErrorIs(t, <-errs, session.ErrDisconnected)
	}
	require.NoError(t, ctx.Err(), "failed at the loss, not at the deadline")
	waitConnected(t, s)

	req := limitOrder(s, t, "after", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req)
	go func() {
		_, err := s.Place(ctx, req)
		errs <- err
	}()
	r := api.next(t)
	require.NoError(t, r.answer(ackBody(r.id, "after", 9)))
	require.NoError(t, <-errs)
	st := s.Stats().Order
	assert.Equal(t, uint64(n), st.Disconnected)
	assert.Zero(t, st.Pending)
	assert.GreaterOrEqual(t, st.UserDataSubs, uint64(2))
}

// TestAdvCloseWhilePlacing: Close while many callers place orders in a
// loop. Every call returns (none hangs); a call that fails fails with
// ErrClosed (not ErrDisconnected: the host closed it); every request and
// report comes back (Close's leak check) and no goroutine is left (goleak,
// TestMain).
func TestAdvCloseWhilePlacing(t *testing.T) {
	v := startVenue(t)
	var reports atomic.Int64
	var s *session.Session
	s, err := session.Start(context.Background(), session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"},
		Channels: []string{"trade", "depth@100ms"}, Credentials: credentials(), Pools: strictPools(),
		RecvWindow: session.MaxRecvWindow, // requests queue at the venue: past 5 s on a loaded machine (-1021)
		OnExecReport: func(r *schema.ExecReport) {
			reports.Add(1)
			s.Pools().Execs.Put(r)
		}})
	require.NoError(t, err)
	waitConnected(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	const callers = 8
	var acks atomic.Int64
	var wg sync.WaitGroup
	failures := make(chan error, callers)
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				req, err := s.Pools().Orders.Get(ctx)
				if err != nil {
					return // the pools are shutting down
				}
				req.Symbol, req.Side, req.Type, req.TimeInForce = "BTC-USDT", schema.SideBuy, schema.OrderTypeLimit, schema.TIFGTC
				req.ClientOrderID = schema.MustID("x" + strconv.Itoa(c) + "-" + strconv.Itoa(i))
				req.Price, req.Qty = schema.MustParseDecimal("1000.00"), schema.MustParseDecimal("0.01")
				_, err = s.Place(ctx, req)
				s.Pools().Orders.Put(req)
				if err != nil {
					failures <- err
					return
				}
				acks.Add(1)
			}
		}()
	}
	require.Eventually(t, func() bool { return acks.Load() >= 20 }, generous, pollEvery)
	require.NoError(t, s.Close(ctx))
	wg.Wait()
	close(failures)
	for err := range failures {
		assert.ErrorIs(t, err, session.ErrClosed, "a call cut short by Close says so")
	}
	assert.Zero(t, s.Outstanding())
	_, err = s.Place(ctx, &schema.OrderRequest{Symbol: "BTC-USDT", Side: schema.SideBuy, Type: schema.OrderTypeMarket, Qty: schema.MustParseDecimal("0.01")})
	assert.ErrorIs(t, err, session.ErrClosed, "after Close")
	assert.Positive(t, reports.Load())
}

// TestAdvOrderTrackedAcrossReconnect: an order resting at the venue when
// the order connection is lost is still the session's after the
// reconnect: it cancels by its client id, and the cancel's execution
// report arrives as a pooled ExecReport on the new connection's
// subscription.
func TestAdvOrderTrackedAcrossReconnect(t *testing.T) {
	v := startVenue(t)
	reports := make(chan *schema.ExecReport, 64)
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, Pools: strictPools(),
		OnExecReport: func(r *schema.ExecReport) { reports <- r }})
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	next := func() *schema.ExecReport {
		select {
		case r := <-reports:
			return r
		case <-ctx.Done():
			require.FailNow(t, "no execution report")
			return nil
		}
	}
	req := limitOrder(s, t, "keep-1", "buy", "1000.00", "0.5")
	ack, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	r := next()
	assert.Equal(t, schema.StatusNew, r.Status)
	s.Pools().Execs.Put(r)

	for range 3 { // more than once
		dropAPI(t, v)
		waitConnected(t, s)
	}

	req, err = s.Pools().Orders.Get(ctx)
	require.NoError(t, err)
	req.Symbol, req.OrigClientOrderID = "BTC-USDT", schema.MustID("keep-1")
	cack, err := s.Cancel(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	assert.Equal(t, ack.VenueOrderID, cack.VenueOrderID)
	assert.Equal(t, schema.StatusCanceled, cack.Status)
	r = next()
	assert.Equal(t, schema.StatusCanceled, r.Status)
	assert.Equal(t, "keep-1", r.OrigClientOrderID.String(), "a cancel's report names the order in C (Binance)")
	assert.Equal(t, "BTC-USDT", r.Symbol)
	s.Pools().Execs.Put(r)
	free, locked := v.Balance("USDT")
	assert.Equal(t, "1000000.00000000", free)
	assert.Equal(t, "0.00000000", locked)
}

// TestAdvExecReportsNeverLost: a burst of market orders (three execution
// reports each: NEW and two fills) against a handler stuck on the first
// report until the burst is over, then a reconnect, then another burst:
// every report the venue sent reaches OnExecReport, in order per order,
// each a pooled ExecReport the handler returns.
func TestAdvExecReportsNeverLost(t *testing.T) {
	v := startVenue(t)
	gate := make(chan struct{})
	type seen struct {
		venue  schema.Venue
		symbol string
		client string
		typ    schema.ExecType
	}
	var mu sync.Mutex
	var got []seen
	var s *session.Session
	s = start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, Pools: strictPools(),
		RecvWindow: session.MaxRecvWindow, // a burst of 40 queues at the venue: past 5 s on a loaded machine (-1021)
		OnExecReport: func(r *schema.ExecReport) {
			<-gate // the first report blocks the lane until the burst is over
			mu.Lock()
			got = append(got, seen{r.Venue, r.Symbol, r.ClientOrderID.String(), r.ExecType})
			mu.Unlock()
			s.Pools().Execs.Put(r)
		}})
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	received := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}
	burst := func(prefix string, n int) {
		var wg sync.WaitGroup
		for i := range n {
			req, err := s.Pools().Orders.Get(ctx)
			require.NoError(t, err)
			req.Symbol, req.Side, req.Type = "BTC-USDT", schema.SideBuy, schema.OrderTypeMarket
			req.ClientOrderID = schema.MustID(prefix + strconv.Itoa(i))
			req.Qty = schema.MustParseDecimal("0.01")
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Place(ctx, req)
				s.Pools().Orders.Put(req)
				assert.NoError(t, err)
			}()
		}
		wg.Wait()
	}
	burst("m", 40)
	close(gate)
	require.Eventually(t, func() bool { return received() == 120 }, generous, pollEvery)
	assert.Equal(t, uint64(120), v.Stats().ExecReports)

	require.Equal(t, 1, v.CloseAPI())
	require.Eventually(t, func() bool { return len(v.UserDataSubscriptions()) >= 2 }, generous, pollEvery)
	waitConnected(t, s)
	burst("n", 40)
	require.Eventually(t, func() bool { return received() == 240 }, generous, pollEvery)
	assert.Equal(t, uint64(240), v.Stats().ExecReports)

	mu.Lock()
	defer mu.Unlock()
	byOrder := map[string][]schema.ExecType{}
	for _, r := range got {
		assert.Equal(t, schema.VenueBinance, r.venue)
		assert.Equal(t, "BTC-USDT", r.symbol)
		byOrder[r.client] = append(byOrder[r.client], r.typ)
	}
	assert.Len(t, byOrder, 80)
	for id, types := range byOrder {
		assert.Equal(t, []schema.ExecType{schema.ExecNew, schema.ExecTrade, schema.ExecTrade}, types, id)
	}
}

// TestAdvVenueErrorCodes: the venue's refusals come back with their codes
// (filter failure, unknown symbol at the venue, bad signature), each a
// *VenueError that errors.As finds through any wrapping.
func TestAdvVenueErrorCodes(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 400, APIKey: apiKey, APISecret: apiSecret})
	t.Cleanup(v.Close)
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools()})
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	// LIMIT_MAKER at a price that crosses: -2010 "would immediately match".
	req := limitOrder(s, t, "maker-1", "buy", "9000000.00", "0.00001")
	req.Type, req.TimeInForce = schema.OrderTypeLimitMaker, schema.TIFUnknown
	_, err := s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	var verr *session.VenueError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, int64(-2010), verr.Code)
	assert.Contains(t, verr.Error(), strconv.FormatUint(verr.RequestID, 10))

	// A bad secret: the user-data subscription is refused with -1022, and
	// WaitConnected and Place say so instead of waiting.
	bad := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentialsWith("wrong-secret")})
	err = bad.WaitConnected(ctx)
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, int64(-1022), verr.Code)
	req = limitOrder(bad, t, "bad-1", "buy", "1000.00", "0.5")
	_, err = bad.Place(ctx, req)
	bad.Pools().Orders.Put(req)
	require.ErrorAs(t, err, &verr)
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
}

// logSink records log messages.
type logSink struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, string(p))
	return len(p), nil
}

func (l *logSink) contains(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if strings.Contains(m, sub) {
			return true
		}
	}
	return false
}

// TestAdvExecReportHoarding: a handler that keeps every report without
// returning it exhausts the ExecReport pool (schema.CapExecReport). The
// reports then wait — none is lost — and the session says why in its log
// instead of stalling silently; once the host returns them, the rest
// arrive.
func TestAdvExecReportHoarding(t *testing.T) {
	v := startVenue(t)
	var mu sync.Mutex
	var held []*schema.ExecReport
	logs := &logSink{}
	var total atomic.Int64
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools(), Logger: slog.New(slog.NewTextHandler(logs, nil)),
		OnExecReport: func(r *schema.ExecReport) {
			total.Add(1)
			mu.Lock()
			held = append(held, r)
			mu.Unlock()
		}})
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	const orders = 10 // 30 reports, over the pool's 20
	for i := range orders {
		req, err := s.Pools().Orders.Get(ctx)
		require.NoError(t, err)
		req.Symbol, req.Side, req.Type, req.Qty = "BTC-USDT", schema.SideBuy, schema.OrderTypeMarket, schema.MustParseDecimal("0.01")
		req.ClientOrderID = schema.MustID("h" + strconv.Itoa(i))
		_, err = s.Place(ctx, req)
		s.Pools().Orders.Put(req)
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return total.Load() == schema.CapExecReport }, generous, pollEvery)
	require.Eventually(t, func() bool { return logs.contains("ExecReport") }, generous, pollEvery,
		"the stall is logged")
	release := func() {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range held {
			s.Pools().Execs.Put(r)
		}
		held = held[:0]
	}
	release()
	// The venue counts a report as it sends it, after the order's ack.
	require.Eventually(t, func() bool { return total.Load() == 3*orders }, generous, pollEvery)
	assert.Equal(t, uint64(3*orders), v.Stats().ExecReports)
	release()
}

// TestAdvMalformedAnswers: the venue answers a request with something the
// parser cannot read as an ack or an error, or a success without the
// order. The caller learns it at once — ErrBadAnswer, or the venue's
// error when it sent one — not at its deadline as "no answer"; the
// connection and later calls are unharmed.
func TestAdvMalformedAnswers(t *testing.T) {
	v := startVenue(t)
	api := newScriptedAPI(t)
	ep := endpoints(v)
	ep.API = api.url
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools()})
	for _, body := range []string{
		`{"id":%d,"status":200,"result":null}`,
		`{"id":%d,"status":200,"result":{"symbol":"NOSUCH","orderId":1,"status":"NEW"}}`,
		`{"id":%d,"status":200,"result":{"symbol":"BTCUSDT","orderId":"x","price":"abc"}}`,
		`{"id":%d,"status":400}`,
		`{"id":%d,"status":400,"error":{"code":"x","msg":5}}`,
		`{"id":%d,"status":200,"result":{"symbol":"BTCUSDT","orderId":1,"status":"NEW","price":"NaN"}}`,
		`{"id":%d,"status":500,"error":{"code":-1000,"msg":"An unknown error occurred while processing the request."}}`,
	} {
		t.Run(body, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			req := limitOrder(s, t, "m-1", "buy", "1000.00", "0.5")
			defer s.Pools().Orders.Put(req)
			done := placeAsync(ctx, s, req)
			r := api.next(t)
			require.NoError(t, r.answer(fmt.Sprintf(body, r.id)))
			err := <-done
			require.Error(t, err)
			assert.NoError(t, ctx.Err(), "answered at once, not at the deadline: %v", err)
			var verr *session.VenueError
			assert.True(t, errors.Is(err, session.ErrBadAnswer) || errors.As(err, &verr), "%v", err)
			assert.Zero(t, s.Stats().Order.Pending)
		})
	}
	// The connection is still good.
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(s, t, "ok-1", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req)
	done := placeAsync(ctx, s, req)
	r := api.next(t)
	require.NoError(t, r.answer(ackBody(r.id, "ok-1", 5)))
	require.NoError(t, <-done)
	assert.Equal(t, 1, api.connCount(), "no reconnect")
}

// TestAdvReconnectStorm: the venue drops the order connection again and
// again while callers place orders. Every call returns — an ack, a venue
// error, or ErrDisconnected for one caught by a drop — none hangs or
// panics; nothing stays pending; the session ends ready, re-subscribed on
// its last connection, and trades.
func TestAdvReconnectStorm(t *testing.T) {
	v := startVenue(t)
	var s *session.Session
	s = start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, Pools: strictPools(),
		OnExecReport: func(r *schema.ExecReport) { s.Pools().Execs.Put(r) }})
	waitConnected(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var acks, lost atomic.Int64
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req, err := s.Pools().Orders.Get(ctx)
				if !assert.NoError(t, err) {
					return
				}
				req.Symbol, req.Side, req.Type, req.Qty = "BTC-USDT", schema.SideBuy, schema.OrderTypeMarket, schema.MustParseDecimal("0.01")
				req.ClientOrderID = schema.MustID("s" + strconv.Itoa(c) + "-" + strconv.Itoa(i))
				_, err = s.Place(ctx, req)
				s.Pools().Orders.Put(req)
				switch {
				case err == nil:
					acks.Add(1)
				case errors.Is(err, session.ErrDisconnected), errors.Is(err, session.ErrNotSent):
					lost.Add(1)
				default:
					assert.NoError(t, err)
					return
				}
			}
		}()
	}
	for range 8 {
		before := len(v.UserDataSubscriptions())
		v.CloseAPI()
		require.Eventually(t, func() bool { return len(v.UserDataSubscriptions()) > before }, generous, pollEvery)
		require.NoError(t, s.WaitConnected(ctx))
	}
	close(stop)
	wg.Wait()
	require.NoError(t, ctx.Err(), "no call waited out its deadline")
	assert.Positive(t, acks.Load())
	t.Logf("acks %d, lost to a drop %d", acks.Load(), lost.Load())
	st := s.Stats().Order
	assert.Zero(t, st.Pending)
	subs := v.UserDataSubscriptions()
	assert.True(t, subs[len(subs)-1].Accepted)
	req := limitOrder(s, t, "after-storm", "buy", "1000.00", "0.01")
	defer s.Pools().Orders.Put(req)
	_, err := s.Place(ctx, req)
	require.NoError(t, err)
}
