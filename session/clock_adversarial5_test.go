package session_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestAdv5ServerTimeMalformed: Binance "Check server time" answers
// {"serverTime":ms}. An answer that is no time — 1 ms after 1970, 0,
// negative, beyond any calendar, a string, a float, not JSON — measured on
// a reconnect was taken for the venue's clock ({"serverTime":1} moved the
// offset back 56 years): every request signed after it carried a 1970
// timestamp, the venue refused the user-data subscription (-1021), and no
// order could go until the next good measurement. Such an answer is
// malformed input now: the offset measured before is kept, the session
// subscribes and trades. At Start, with no offset measured yet, it is an
// error of Start.
func TestAdv5ServerTimeMalformed(t *testing.T) {
	v := startVenue(t)
	var body atomic.Pointer[string]
	ep := endpoints(v)
	ep.REST = restProxy(t, v, func(w http.ResponseWriter, r *http.Request) bool {
		b := body.Load()
		if b == nil || r.URL.Path != "/api/v3/time" {
			return false
		}
		_, _ = w.Write([]byte(*b))
		return true
	})
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, Pools: strictPools()})
	waitConnected(t, s)
	mustPlace(t, s, "time-0")
	for i, bad := range []string{
		`{"serverTime":1}`, `{"serverTime":0}`, `{"serverTime":-1700000000000}`,
		`{"serverTime":92233720368547758}`, `{"serverTime":"1700000000000"}`, `{"serverTime":1.7e12}`,
		`{}`, `null`, `[`, ``, `{"serverTime":[1,2,3]}`,
	} {
		body.Store(&bad)
		dropAPI(t, v)
		waitConnected(t, s)
		subs := v.UserDataSubscriptions()
		require.True(t, subs[len(subs)-1].Accepted, "%s: code %d", bad, subs[len(subs)-1].Code)
		assert.Less(t, s.ClockOffset().Abs(), time.Minute, bad)
		mustPlace(t, s, "time-"+string(rune('a'+i)))
	}

	// At Start the answer is Start's error.
	bad := `{"serverTime":1}`
	body.Store(&bad)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	s2, err := session.Start(ctx, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials()})
	if s2 != nil {
		require.NoError(t, s2.Close(context.Background()))
	}
	require.Error(t, err)
}

// TestAdv5ClockStepAfterStart: the local clock steps 3 s ahead after
// Start (an NTP correction, a laptop waking), on a connection that stays
// up. Binance refuses the next order, -1021 "Timestamp for this request
// was 1000ms ahead of the server's time" (WS-API "Timing security"). The
// offset was measured only at login: every later order was refused the
// same way until the connection dropped, possibly a day later. The
// refusal now has the offset measured again, and the orders after it go
// through on the same connection.
func TestAdv5ClockStepAfterStart(t *testing.T) {
	v := startVenue(t)
	var skew atomic.Int64
	local := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	s := start(t, session.Config{Endpoints: endpoints(v), Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Now: local, Pools: strictPools()})
	waitConnected(t, s)
	mustPlace(t, s, "step-0")
	subs := len(v.UserDataSubscriptions())

	skew.Store(int64(3 * time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	req := limitOrder(s, t, "step-1", "buy", "1000.00", "0.01")
	defer s.Pools().Orders.Put(req)
	_, err := s.Place(ctx, req)
	var verr *session.VenueError
	require.ErrorAs(t, err, &verr)
	require.Equal(t, int64(-1021), verr.Code)
	require.Eventually(t, func() bool { return s.ClockOffset() < -2*time.Second }, generous, pollEvery,
		"the offset is measured again after the refusal")
	mustPlace(t, s, "step-2")
	assert.Len(t, v.UserDataSubscriptions(), subs, "on the same connection")
}

// TestAdv5BybitClockStepAfterStart: Bybit's trade requests carry
// X-BAPI-TIMESTAMP and are refused, 10002 "The request time exceeds the
// time window range", unless server time − recvWindow ≤ timestamp <
// server time + 1 s (Bybit v5 "WebSocket Trade Guideline"). The venue's
// clock jumps 10 s ahead of ours after the login: the refusal has the
// offset measured again, and the next order goes through on the same
// trade connection.
func TestAdv5BybitClockStepAfterStart(t *testing.T) {
	c := orderCases()[1]
	require.Equal(t, schema.VenueBybit, c.venue)
	f, s := connectedOrders(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	_, err := place(t, s, ctx, "bstep0")
	require.NoError(t, err)
	f.setServerClock(func() time.Time { return time.Now().Add(10 * time.Second) })
	_, err = place(t, s, ctx, "bstep1")
	var verr *session.VenueError
	require.ErrorAs(t, err, &verr)
	require.Equal(t, int64(10002), verr.Code)
	require.Eventually(t, func() bool { return s.ClockOffset() > 8*time.Second }, generous, pollEvery)
	_, err = place(t, s, ctx, "bstep2")
	require.NoError(t, err)
	seen := f.ordersSeen()
	assert.Equal(t, seen[0].conn, seen[len(seen)-1].conn, "on the same connection")
}
