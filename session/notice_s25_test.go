package session_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// okxUpgradeNotice is OKX's notice before a service upgrade closes the
// connection (OKX v5 "WebSocket → Notification of service upgrade": "The
// connection will soon be closed for a service upgrade. Please
// reconnect.", sent 60 s before).
const okxUpgradeNotice = `{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"}`

// TestS25OrderConnNoticeReconnectsAhead: OKX announces on the private
// connection, the one orders go on, that it will close it. The order in
// flight when the notice comes still gets its answer on that connection;
// the session connects and logs in anew before the venue closes the old
// one, and the next order goes on the new connection (on the old one its
// answer would be lost with the connection when the venue closes it).
func TestS25OrderConnNoticeReconnectsAhead(t *testing.T) {
	c := orderCases()[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f, s := connectedOrders(t, c)
	// The venue's clock a second further at every look (the session reads
	// it before each login): the fake refuses a login stamped with the
	// second of the one before, as a replay.
	var mu sync.Mutex
	step := time.Duration(0)
	f.setServerClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		step += time.Second
		return time.Now().Add(step)
	})
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	f.setScript(func(o orderSeen) ([]string, bool) {
		if o.arg["clOrdId"] == "n1" {
			return []string{okxUpgradeNotice, acceptOrder(f.venue, o)}, false
		}
		return []string{acceptOrder(f.venue, o)}, false
	})
	ack, err := place(t, s, ctx, "n1")
	require.NoError(t, err, "the order in flight at the notice is answered on its connection")
	assert.Equal(t, "n1", ack.ClientOrderID.String())

	_, err = place(t, s, ctx, "n2") // at once: it waits for the new connection
	require.NoError(t, err)
	seen := f.ordersSeen()
	require.Len(t, seen, 2)
	assert.True(t, seen[1].loggedIn)
	assert.NotEqual(t, seen[0].conn, seen[1].conn, "the order after the notice goes on a new connection, not on the one the venue is about to close")
	l := f.loginsSeen()
	require.Len(t, l, 2, "logged in anew")
	assert.True(t, l[1].accepted)
	assert.Equal(t, seen[1].conn, l[1].conn)
}

// binanceServerShutdown is Binance's WS-API connection event before the
// server goes (Binance WebSocket API "Connection events → Server
// Shutdown": "Please establish a new connection as soon as possible to
// prevent interruption").
const binanceServerShutdown = `{"event":{"e":"serverShutdown","E":1770123456789}}`

// TestS25WSAPIServerShutdown: Binance announces on the WS-API
// connection, the one orders and user data go on, that its server shuts
// down. The order in flight still gets its answer on that connection; the
// next order waits for a new connection, whose user-data subscription the
// session makes before sending it there. When no new connection can be
// had (the venue refuses them for now), orders go on the old connection
// again, whose user-data subscription still holds, rather than wait for a
// connection that may not come before the venue closes this one.
func TestS25WSAPIServerShutdown(t *testing.T) {
	for _, c := range []struct {
		name    string
		refuse  bool // new connections refused
		newConn bool // the second order on a new connection
	}{{"reconnects ahead", false, true}, {"no new connection", true, false}} {
		t.Run(c.name, func(t *testing.T) {
			api, s := scriptedSession(t)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			api.setRefuse(c.refuse)

			req1 := limitOrder(s, t, "sd-1", "buy", "1000.00", "0.5")
			defer s.Pools().Orders.Put(req1)
			done := placeAsync(ctx, s, req1)
			r1 := api.next(t)
			require.NoError(t, r1.answer(binanceServerShutdown))
			require.NoError(t, r1.answer(ackBody(r1.id, "sd-1", 1)))
			require.NoError(t, <-done, "the order in flight at the notice is answered on its connection")

			req2 := limitOrder(s, t, "sd-2", "buy", "1000.00", "0.5")
			defer s.Pools().Orders.Put(req2)
			done = placeAsync(ctx, s, req2)
			r2 := api.next(t)
			assert.Equal(t, c.newConn, r1.conn != r2.conn, "a new connection for the order after the notice")
			require.NoError(t, r2.answer(ackBody(r2.id, "sd-2", 2)))
			require.NoError(t, <-done)
		})
	}
}

// TestS25BybitRateLimitRetryAfter: Bybit refuses an order over its rate
// limit with retCode 10006 and the time its window resets in the answer's
// header (X-Bapi-Limit-Reset-Timestamp, Bybit v5 "Rate Limit Rules"): the
// *VenueError carries it as RetryAfter, as Binance's retryAfter.
func TestS25BybitRateLimitRetryAfter(t *testing.T) {
	c := orderCases()[1]
	require.Equal(t, schema.VenueBybit, c.venue)
	f, s := connectedOrders(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	f.setScript(func(o orderSeen) ([]string, bool) {
		return []string{`{"reqId":"` + o.id + `","retCode":10006,"retMsg":"Too many visits. Exceeded the API Rate Limit.","op":"` + o.op +
			`","data":{},"retExtInfo":{},"header":{"X-Bapi-Limit":"10","X-Bapi-Limit-Status":"0","X-Bapi-Limit-Reset-Timestamp":"1711001596000","Timenow":"1711001595209"},"connId":"c"}`}, false
	})
	_, err := place(t, s, ctx, "rl1")
	var verr *session.VenueError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, int64(10006), verr.Code)
	assert.True(t, verr.RetryAfter.Equal(time.UnixMilli(1711001596000)), "RetryAfter %v", verr.RetryAfter)
}
