package session_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// rotateAge is the private connection's MaxAge in these tests: a duration
// no other timer of the session has, fired by hand on the manual clock.
const rotateAge = 7 * time.Hour

// fireAge fires the pending timers of MaxAge (armed for an instant, on
// this clock's moving Now: a duration a little under rotateAge, and far
// over any other timer of the session's).
func (c *manualClock) fireAge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.timers {
		if !t.stopped && t.d > rotateAge-time.Hour && t.d <= rotateAge {
			t.stopped = true
			t.c <- time.Now()
		}
	}
}

// rotating holds, for the manual clock of a session rotatedSession
// started, whether that session's orders connection has begun a
// rotation (see rotateUntil).
var rotating sync.Map // *manualClock → func() bool

// ordersRotating reports whether s's orders connection has begun a
// rotation: Rotating now, or a rotation switched or failed (seen, which
// OnState tells before or after the state's change).
func ordersRotating(s *session.Session, seen *rotationSeen) func() bool {
	return func() bool {
		if c := s.Stats().Orders.Client; c.State == schema.ConnRotating || c.Rotations > 0 {
			return true
		}
		n, m := seen.counts()
		return n+m > 0
	}
}

// ageTimers is how many MaxAge timers wait to fire (see fireAge).
func (c *manualClock) ageTimers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped && t.d > rotateAge-time.Hour && t.d <= rotateAge {
			n++
		}
	}
	return n
}

// rotateUntil fires MaxAge's timers once (the private connection's and
// the market's), then waits for cond: firing again could start the next
// rotation, the new connection's MaxAge armed at the switch. wsclient
// arms a connection's MaxAge when it begins serving it, after the
// Connected event: WaitConnected may return before (the login's round
// trip done first, on a loaded machine), and the first firing miss the
// orders connection's. For a session of rotatedSession the timers armed
// since are fired too, until its orders connection has begun rotating
// (the next connection's MaxAge is armed only at its switch, after).
func (c *manualClock) rotateUntil(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	c.fireAge()
	if begun, ok := rotating.Load(c); ok {
		require.Eventually(t, func() bool {
			if begun.(func() bool)() {
				return true
			}
			c.fireAge()
			return false
		}, generous, pollEvery, "the orders connection's rotation begins")
	}
	require.Eventually(t, cond, generous, pollEvery, msg)
}

// waitOrdersReady waits for the private side alone: at MaxAge the
// market connection rotates too, and its fake, which sends nothing,
// never gives the first message its switch waits for.
func waitOrdersReady(t *testing.T, s *session.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, s.WaitOrdersReady(ctx))
}

// rotationSeen follows the host's view of the private connection
// (OnState): the rotations' switches and failures.
type rotationSeen struct {
	mu       sync.Mutex
	switched []uint64 // the new connections of the switches (Connected, ReasonRotation, no error)
	failed   []error  // the failed rotations' errors
	// hold, when set before the session starts, is called first with
	// every event of the orders connection (on its event goroutine: it
	// holds the events behind).
	hold func(e wsclient.Event)
}

func (r *rotationSeen) onState(c session.Conn, e wsclient.Event) {
	if r.hold != nil && c.Role == session.RoleOrders {
		r.hold(e)
	}
	if c.Role != session.RoleOrders || e.State != schema.ConnConnected || e.Reason != wsclient.ReasonRotation {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case e.Err == nil:
		r.switched = append(r.switched, e.ConnID)
	case !errors.Is(e.Err, wsclient.ErrRotationUnaligned):
		r.failed = append(r.failed, e.Err)
	}
}

func (r *rotationSeen) counts() (switched, failed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.switched), len(r.failed)
}

func (r *rotationSeen) failure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.failed) == 0 {
		return nil
	}
	return r.failed[0]
}

// rotatedSession starts a session on venue c's fake with a MaxAge of
// rotateAge on a manual clock, and waits for its first login.
func rotatedSession(t *testing.T, c privateCase, f *fakePrivate, execs chan *schema.ExecReport, seen *rotationSeen) (*session.Session, *manualClock, *atomicTime) {
	t.Helper()
	s, clk, now := startRotated(t, c, f, execs, seen)
	waitConnected(t, s)
	return s, clk, now
}

// startRotated is rotatedSession without the wait for the first login.
func startRotated(t *testing.T, c privateCase, f *fakePrivate, execs chan *schema.ExecReport, seen *rotationSeen) (*session.Session, *manualClock, *atomicTime) {
	t.Helper()
	now := &atomicTime{}
	now.set(time.Now())
	f.setServerClock(now.get)
	clk := newManualClock()
	cfg := c.config(f, now.get)
	cfg.Client.Clock, cfg.Client.MaxAge = clk, rotateAge
	cfg.OnExecReport = func(r *schema.ExecReport) { execs <- r }
	cfg.OnState = seen.onState
	// Reports may still come until Close, which waits for every one to
	// be returned to the pool: drained while Close runs (the cleanup
	// registered after start runs before start's Close), then the rest
	// after it (this one, registered before, runs after).
	var s *session.Session
	stop, drained := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() {
		close(stop)
		if s == nil { // start failed
			return
		}
		<-drained
		drainExecs(s, execs)
	})
	s = start(t, cfg)
	t.Cleanup(func() {
		go func() {
			defer close(drained)
			for {
				select {
				case r := <-execs:
					s.Pools().Execs.Put(r)
				case <-stop:
					return
				}
			}
		}()
	})
	rotating.Store(clk, ordersRotating(s, seen))
	t.Cleanup(func() { rotating.Delete(clk) })
	return s, clk, now
}

// TestS30PrivateRotationPrepared: on every venue with a private
// connection, a rotation (here at Client.MaxAge) logs the new connection
// in and subscribes it before the switch — one login on it, none again
// when the switch makes it the connection (the Connected event) — while
// the old connection's reports keep flowing; after the switch the new
// connection's reports reach the host, and orders are ready on it.
// Before s30sess a private connection never rotated (MaxAge forced to
// 0), and after a prepared switch the Connected event logged in again.
func TestS30PrivateRotationPrepared(t *testing.T) {
	for _, c := range privateCases(t) {
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, c.pushes)
			execs := make(chan *schema.ExecReport, 16)
			seen := &rotationSeen{}
			s, clk, now := rotatedSession(t, c, f, execs, seen)
			r := recvExec(t, execs) // the old connection's
			s.Pools().Execs.Put(r)
			require.Len(t, f.loginsSeen(), 1)

			now.set(now.get().Add(3 * time.Second)) // a newer login time
			clk.rotateUntil(t, func() bool { n, _ := seen.counts(); return n == 1 }, "the rotation switches")
			waitOrdersReady(t, s)
			l := f.loginsSeen()
			require.Len(t, l, 2, "one login on the new connection, before the switch; none again at the switch")
			assert.True(t, l[1].accepted)
			assert.Greater(t, l[1].conn, l[0].conn)
			assert.Equal(t, uint64(1), s.Stats().Orders.Client.Rotations)
			_, failed := seen.counts()
			assert.Zero(t, failed)
			assert.NoError(t, seen.failure())

			switch c.venue {
			case schema.VenueOKX, schema.VenueBybit: // the new connection's own fill (freshFill)
				r = recvExec(t, execs)
				s.Pools().Execs.Put(r)
			default: // Kraken's and Coinbase's snapshot, the report the old connection delivered: a repeat
				require.Eventually(t, func() bool { return s.Stats().Order.Duplicates >= 1 }, generous, pollEvery)
			}
		})
	}
}

// TestS30PrivateRotationRefusedKeepsOld: the venue refuses the login on
// the rotation's new connection. The rotation fails, the old connection
// stays, logged in and subscribed: orders are ready on it at once (no
// login again on it), the host sees Connected on the old connection with
// a *wsclient.PrepareError wrapping the venue's *LoginError, and the
// refusal is counted.
func TestS30PrivateRotationRefusedKeepsOld(t *testing.T) {
	c := privateCases(t)[1]
	require.Equal(t, schema.VenueBybit, c.venue)
	f := newFakePrivate(t, c.venue, c.pushes)
	execs := make(chan *schema.ExecReport, 16)
	seen := &rotationSeen{}
	s, clk, now := rotatedSession(t, c, f, execs, seen)
	old := s.Stats().Orders.Client.ConnID
	f.setReject(true)
	now.set(now.get().Add(3 * time.Second))
	clk.rotateUntil(t, func() bool { _, n := seen.counts(); return n >= 1 }, "the rotation fails")
	var pe *wsclient.PrepareError
	require.ErrorAs(t, seen.failure(), &pe)
	var le *session.LoginError
	require.ErrorAs(t, pe, &le)
	assert.Equal(t, "login", le.Step)
	assert.Equal(t, "Params Error", le.Msg)

	waitOrdersReady(t, s)
	assert.Equal(t, old, s.Stats().Orders.Client.ConnID, "the old connection stays")
	l := f.loginsSeen()
	require.Len(t, l, 2, "no login again on the old connection")
	assert.False(t, l[1].accepted)
	assert.Equal(t, uint64(1), s.Stats().Order.Refused)
	assert.Zero(t, s.Stats().Orders.Client.Rotations)
}

// bybitNewTwice and bybitFillTwice are an order's report (accepted: New)
// and its fill (one execId), which the venue sends on both connections of
// a rotation.
const (
	bybitNewTwice  = `{"id":"rot-0","topic":"order","creationTime":1672364262474,"data":[{"symbol":"BTCUSDT","orderId":"rot-order-1","side":"Buy","orderType":"Limit","cancelType":"UNKNOWN","price":"25000.1","qty":"0.002","orderIv":"","timeInForce":"GTC","orderStatus":"New","orderLinkId":"","lastPriceOnCreated":"","reduceOnly":false,"leavesQty":"0.002","leavesValue":"50.0002","cumExecQty":"0","cumExecValue":"0","avgPrice":"","blockTradeId":"","positionIdx":0,"cumExecFee":"0","closedPnl":"0","createdTime":"1672364262444","updatedTime":"1672364262457","rejectReason":"EC_NoError","stopOrderType":"","tpslMode":"","triggerPrice":"","takeProfit":"","stopLoss":"","tpTriggerBy":"","slTriggerBy":"","tpLimitPrice":"","slLimitPrice":"","triggerDirection":0,"triggerBy":"","closeOnTrigger":false,"category":"spot","placeType":"","smpType":"None","smpGroup":0,"smpOrderId":"","feeCurrency":""}]}`
	bybitFillTwice = `{"topic":"execution","id":"rot-1","creationTime":1672364274455,"data":[{"category":"spot","symbol":"BTCUSDT","execFee":"0.001","execId":"rot-fill-1","execPrice":"25000.1","execQty":"0.001","execType":"Trade","execValue":"25.0001","isMaker":false,"feeRate":"0.001","tradeIv":"","markIv":"","blockTradeId":"","markPrice":"","indexPrice":"","underlyingPrice":"","leavesQty":"0.001","orderId":"rot-order-1","orderLinkId":"","orderPrice":"25000.1","orderQty":"0.002","orderType":"Limit","stopOrderType":"","side":"Buy","execTime":"1672364274443","isLeverage":"0","closedSize":"","seq":4688002127}]}`
	// bybitFillAfter is the order's next fill, on the new connection alone.
	bybitFillAfter = `{"topic":"execution","id":"rot-2","creationTime":1672364275455,"data":[{"category":"spot","symbol":"BTCUSDT","execFee":"0.001","execId":"rot-fill-2","execPrice":"25000.1","execQty":"0.001","execType":"Trade","execValue":"25.0001","isMaker":false,"feeRate":"0.001","tradeIv":"","markIv":"","blockTradeId":"","markPrice":"","indexPrice":"","underlyingPrice":"","leavesQty":"0","orderId":"rot-order-1","orderLinkId":"","orderPrice":"25000.1","orderQty":"0.002","orderType":"Limit","stopOrderType":"","side":"Buy","execTime":"1672364275443","isLeverage":"0","closedSize":"","seq":4688002128}]}`
)

// TestS30RotationReportsDeliveredOnce: during a rotation's overlap both
// connections are subscribed, and the venue sends an order's report and
// its fill on both (Bybit, no Endpoints.REST: no reconciler). The host
// gets each once: the fill is dropped by the parser as a repeat (same
// order and trade id: normalize's repeatFill, which held before s30sess),
// the status report by the session (repeats: before it, the host got
// "New" twice); the fill after the switch, on the new connection alone,
// comes once too.
func TestS30RotationReportsDeliveredOnce(t *testing.T) {
	c := privateCases(t)[1]
	require.Equal(t, schema.VenueBybit, c.venue)
	f := newFakePrivate(t, c.venue, nil)
	var mu sync.Mutex
	var subs []*websocket.Conn // the private connections, in the order they subscribed
	sent := false
	f.onSubscribe = func(ws *websocket.Conn, channels []string) {
		mu.Lock()
		if len(subs) == 0 || subs[len(subs)-1] != ws {
			subs = append(subs, ws)
		}
		both := len(subs) == 2 && !sent
		sent = sent || both
		old := subs[0]
		mu.Unlock()
		if both { // the new connection subscribed, its answer not sent yet: the switch waits for it
			ctx := context.Background()
			for _, m := range []string{bybitNewTwice, bybitFillTwice} {
				assert.NoError(t, old.Write(ctx, websocket.MessageText, []byte(m)))
				assert.NoError(t, ws.Write(ctx, websocket.MessageText, []byte(m)))
			}
		}
	}
	execs := make(chan *schema.ExecReport, 16)
	seen := &rotationSeen{}
	s, clk, now := rotatedSession(t, c, f, execs, seen)
	now.set(now.get().Add(3 * time.Second))
	clk.rotateUntil(t, func() bool { n, _ := seen.counts(); return n == 1 }, "the rotation switches")
	waitOrdersReady(t, s)
	mu.Lock()
	require.Len(t, subs, 2)
	nb := subs[1]
	mu.Unlock()
	require.NoError(t, nb.Write(context.Background(), websocket.MessageText, []byte(bybitFillAfter)))

	fills := map[string]int{}
	news := 0
	for fills["rot-fill-2"] == 0 {
		r := recvExec(t, execs)
		if r.ExecType == schema.ExecTrade {
			fills[r.TradeID.String()]++
		} else if r.VenueOrderID.String() == "rot-order-1" && r.Status == schema.StatusNew {
			news++
		}
		s.Pools().Execs.Put(r)
	}
	assert.Equal(t, 1, fills["rot-fill-1"], "the fill sent on both connections is delivered once")
	assert.Equal(t, 1, news, "the report sent on both connections is delivered once")
	// The old connection's copies may come after the switch, when it
	// delivers nothing more: then nothing is dropped as a repeat.
	assert.LessOrEqual(t, s.Stats().Order.Duplicates, uint64(1))
}

// TestS30OrderDuringRotationWaitsForSwitch: OKX announces the close of
// the connection orders go on; the rotation's new connection is logged
// in before the switch, its login's answer held here. An order made
// meanwhile waits for the switch and goes on the new connection, logged
// in once (on the old one its answer would be lost when the old one
// goes); the order in flight at the notice is answered on the old one.
func TestS30OrderDuringRotationWaitsForSwitch(t *testing.T) {
	c := orderCases()[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f, s := connectedOrders(t, c)
	steppingServerClock(f)
	hold := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)
	f.mu.Lock()
	f.holdLogin = hold
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	f.setScript(func(o orderSeen) ([]string, bool) {
		if o.arg["clOrdId"] == "n1" {
			return []string{okxUpgradeNotice, acceptOrder(f.venue, o)}, false
		}
		return []string{acceptOrder(f.venue, o)}, false
	})
	_, err := place(t, s, ctx, "n1")
	require.NoError(t, err, "the order in flight at the notice is answered on its connection")
	require.Eventually(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.heldLogins == 1
	}, generous, pollEvery, "the new connection's login reaches the venue")

	req := venueLimit(t, s, "n2")
	defer s.Pools().Orders.Put(req)
	done := placeAsync(ctx, s, req)
	release()
	require.NoError(t, <-done)
	seen := f.ordersSeen()
	require.Len(t, seen, 2)
	l := f.loginsSeen()
	require.Len(t, l, 2, "one login on the new connection")
	assert.Equal(t, l[1].conn, seen[1].conn, "the order made during the rotation goes on the new connection, after the switch")
	assert.NotEqual(t, seen[0].conn, seen[1].conn)
	assert.Equal(t, uint64(1), s.Stats().Orders.Client.Rotations)
}

// okxIDlessRefusal is OKX's refusal of a request it cannot read, which
// echoes no id (OKX v5 "WebSocket → Subscribe", failure example).
const okxIDlessRefusal = `{"event":"error","code":"60012","msg":"Invalid request: {\"op\": \"order\"}","connId":"a4d3ae55"}`

// TestS30UnansweredOrderReplacesConnection: an OKX order goes unanswered
// (Config.OrderAnswerTimeout: ErrNoAnswer). Its answer may still come, so
// on that connection an id-less refusal can answer no later order alone
// (soleAnswer): before s30sess that stayed so until the connection
// dropped, and the next order the venue refused without an id waited out
// its whole deadline for ErrNoAnswer. Now the connection is replaced
// make-before-break: the next order goes on the new connection, where
// the refusal is its answer at once.
func TestS30UnansweredOrderReplacesConnection(t *testing.T) {
	c := orderCases()[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, nil)
	steppingServerClock(f)
	clk := newManualClock()
	const answerWait = 3 * time.Hour // Config.OrderAnswerTimeout: fired by hand
	s := startOrders(t, c, f, func(cfg *session.Config) {
		cfg.Client.Clock = clk
		cfg.OrderAnswerTimeout = answerWait
	})
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, s.WaitOrdersReady(ctx))
	f.setScript(func(o orderSeen) ([]string, bool) {
		if o.arg["clOrdId"] == "u1" {
			return nil, false // no answer
		}
		return []string{okxIDlessRefusal}, false
	})
	req := venueLimit(t, s, "u1")
	defer s.Pools().Orders.Put(req)
	done := placeAsync(ctx, s, req)
	require.Eventually(t, func() bool { return len(f.ordersSeen()) == 1 && clk.pendingOf(answerWait) == 1 }, generous, pollEvery)
	clk.fireAfter(answerWait)
	require.ErrorIs(t, <-done, session.ErrNoAnswer)
	require.Eventually(t, func() bool { return s.Stats().Orders.Client.Rotations == 1 }, generous, pollEvery,
		"the connection that left an order unanswered is replaced")

	req2 := venueLimit(t, s, "u2")
	defer s.Pools().Orders.Put(req2)
	_, err := s.Place(ctx, req2)
	var verr *session.VenueError
	require.ErrorAs(t, err, &verr, "the id-less refusal answers the order alone on its connection")
	assert.Equal(t, int64(60012), verr.Code)
	seen := f.ordersSeen()
	require.Len(t, seen, 2)
	assert.NotEqual(t, seen[0].conn, seen[1].conn)
}
