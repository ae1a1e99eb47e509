package session_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS25BannedUntilRetryAfter: Binance refuses a request over its rate
// limits with status 429, or bans the IP with 418, saying in
// error.data.retryAfter when it takes requests again (Binance WebSocket
// API "Rate limits": "Repeatedly violating rate limits and/or failing to
// back off after receiving 429s will result in an automated IP ban"; a ban
// grows with every request sent during it). Until then the session sends
// nothing: Place and Cancel return ErrNotSent wrapping the venue's
// *VenueError (its Status and RetryAfter), and the venue sees no request.
// Once retryAfter has passed, requests go again.
func TestS25BannedUntilRetryAfter(t *testing.T) {
	for _, status := range []int{429, 418} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			api, s := scriptedSession(t)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()

			until := time.Now().Add(time.Hour).UnixMilli()
			req := limitOrder(s, t, "ban-1", "buy", "1000.00", "0.5")
			defer s.Pools().Orders.Put(req)
			done := placeAsync(ctx, s, req)
			r := api.next(t)
			require.NoError(t, r.answer(fmt.Sprintf(`{"id":%d,"status":%d,"error":{"code":-1003,"msg":"Way too much request weight used; IP banned until %d.","data":{"serverTime":%d,"retryAfter":%d}}}`,
				r.id, status, until, time.Now().UnixMilli(), until)))
			var verr *session.VenueError
			require.ErrorAs(t, <-done, &verr)
			assert.Equal(t, status, verr.Status)

			req.ClientOrderID = schema.MustID("ban-2")
			_, err := s.Place(ctx, req)
			require.ErrorIs(t, err, session.ErrNotSent, "nothing is sent before retryAfter")
			require.ErrorAs(t, err, &verr)
			assert.Equal(t, status, verr.Status)
			assert.Equal(t, until, verr.RetryAfter.UnixMilli())
			c := limitOrder(s, t, "ban-c", "buy", "1", "1")
			defer s.Pools().Orders.Put(c)
			c.OrigClientOrderID = schema.MustID("ban-1")
			_, err = s.Cancel(ctx, c)
			require.ErrorIs(t, err, session.ErrNotSent, "a cancel neither")
			select {
			case r := <-api.reqs:
				t.Fatalf("a request reached the venue during its ban: %s", r.msg)
			default:
			}
		})
	}
}

// TestS25BanOver: a retryAfter already past bans nothing.
func TestS25BanOver(t *testing.T) {
	api, s := scriptedSession(t)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(s, t, "over-1", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req)
	done := placeAsync(ctx, s, req)
	r := api.next(t)
	past := time.Now().Add(-time.Minute).UnixMilli()
	require.NoError(t, r.answer(fmt.Sprintf(`{"id":%d,"status":429,"error":{"code":-1003,"msg":"Too much request weight used.","data":{"serverTime":%d,"retryAfter":%d}}}`,
		r.id, past, past)))
	var verr *session.VenueError
	require.ErrorAs(t, <-done, &verr)
	req.ClientOrderID = schema.MustID("over-2")
	done = placeAsync(ctx, s, req)
	r = api.next(t)
	require.NoError(t, r.answer(ackBody(r.id, "over-2", 2)))
	require.NoError(t, <-done)
}

// scriptedSession starts a Binance session whose WS-API is a scripted one
// (the market and REST the simulated venue's), connected.
func scriptedSession(t *testing.T) (*scriptedAPI, *session.Session) {
	t.Helper()
	return scriptedSessionWith(t, nil)
}

// scriptedSessionWith is scriptedSession with edit applied to the config.
func scriptedSessionWith(t *testing.T, edit func(*session.Config)) (*scriptedAPI, *session.Session) {
	t.Helper()
	v := startVenue(t)
	api := newScriptedAPI(t)
	ep := endpoints(v)
	ep.API = api.url
	cfg := session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Pools: strictPools(), Client: fastRedial}
	if edit != nil {
		edit(&cfg)
	}
	s := start(t, cfg)
	waitConnected(t, s)
	return api, s
}

// TestS25TooManyOrdersHoldsPlacesOnly: over the unfilled order count
// (-1015 "Too many new orders", status 429, with retryAfter) Place sends
// nothing until retryAfter, but a cancel still goes: it lowers the count
// (Binance spot "Unfilled Order Count"), and holding back cancels while
// orders work is risk the host did not ask for.
func TestS25TooManyOrdersHoldsPlacesOnly(t *testing.T) {
	api, s := scriptedSession(t)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	until := time.Now().Add(time.Hour).UnixMilli()
	req := limitOrder(s, t, "tm-1", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req)
	done := placeAsync(ctx, s, req)
	r := api.next(t)
	require.NoError(t, r.answer(fmt.Sprintf(`{"id":%d,"status":429,"error":{"code":-1015,"msg":"Too many new orders; current limit is 100 orders per 10 SECOND.","data":{"retryAfter":%d}}}`, r.id, until)))
	var verr *session.VenueError
	require.ErrorAs(t, <-done, &verr)

	req.ClientOrderID = schema.MustID("tm-2")
	_, err := s.Place(ctx, req)
	require.ErrorIs(t, err, session.ErrNotSent, "no new order before retryAfter")

	c := limitOrder(s, t, "tm-c", "buy", "1", "1")
	defer s.Pools().Orders.Put(c)
	c.OrigClientOrderID = schema.MustID("tm-0")
	c.Action = schema.ActionCancel
	done2 := make(chan error, 1)
	go func() {
		_, err := s.Cancel(ctx, c)
		done2 <- err
	}()
	r = api.next(t)
	assert.Contains(t, r.msg, "order.cancel")
	require.NoError(t, r.answer(errorBody(r.id, -2011, "Unknown order sent.")))
	require.ErrorAs(t, <-done2, &verr)
	assert.Equal(t, int64(-2011), verr.Code)
}
