package venuesim_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// Binance "WebSocket Limits": "There is a limit of 300 connections per
// attempt every 5 minutes per IP". With Options.ConnectLimit the venue
// refuses the handshake past it with 429 and a Retry-After until the
// oldest connection leaves the window; the WS-API is counted apart, and
// refused handshakes are not counted.
func TestS27ConnectLimitRefusesWith429AndRetryAfter(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 1, ConnectLimit: 2, ConnectWindow: time.Hour})
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range 2 {
		c, _, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), nil)
		require.NoError(t, err)
		defer func() { _ = c.CloseNow() }()
	}
	for range 3 {
		_, resp, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), nil)
		require.Error(t, err)
		require.NotNil(t, resp)
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		assert.Equal(t, "3600", resp.Header.Get("Retry-After"), "the window's hour, in whole seconds rounded up")
	}
	assert.EqualValues(t, 3, v.Stats().ConnectRefused)
	// The WS-API is counted apart (TestS29ConnectLimitOnTheWSAPI).
	c, _, err := websocket.Dial(ctx, v.APIURL(), nil)
	require.NoError(t, err)
	_ = c.CloseNow()
	// Without ConnectLimit, nothing is refused.
	free := venuesim.Start(&venuesim.Options{Rate: 1})
	defer free.Close()
	for range 10 {
		c, _, err := websocket.Dial(ctx, free.StreamURL("btcusdt@trade"), nil)
		require.NoError(t, err)
		_ = c.CloseNow()
	}
}

// A wsclient cut by the venue and refused by the connection limit keeps
// to the venue's Retry-After, reports the refusal as a
// *wsclient.HandshakeError with the 429 and its wait, and is back once
// the window lets it in: it survives, with a typed error on the way.
func TestS27ConnectLimitClientWaitsAndSurvives(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 500, ConnectLimit: 1, ConnectWindow: 2 * time.Second})
	defer v.Close()
	r := runS27Client(t, v.StreamURL("btcusdt@trade"), wsclient.Options{})
	frames := func() int { return r.count(func(string) bool { return true }) }
	connected := func() int {
		r.mu.Lock()
		defer r.mu.Unlock()
		n := 0
		for _, e := range r.events {
			if e.State == schema.ConnConnected {
				n++
			}
		}
		return n
	}
	require.Eventually(t, func() bool { return frames() > 0 }, time.Minute, time.Millisecond)
	require.Equal(t, 1, v.Inject(venuesim.FaultClose))
	var e wsclient.Event
	var refused *wsclient.HandshakeError
	require.Eventually(t, func() bool {
		var ok bool
		e, ok = r.event(func(e wsclient.Event) bool {
			return e.State == schema.ConnReconnecting && errors.As(e.Err, &refused)
		})
		return ok
	}, time.Minute, time.Millisecond, "the refusal is reported")
	assert.Equal(t, http.StatusTooManyRequests, refused.StatusCode)
	assert.Greater(t, refused.RetryAfter, time.Duration(0))
	assert.GreaterOrEqual(t, e.Delay, refused.RetryAfter, "the client keeps to the venue's wait")
	require.Eventually(t, func() bool { return connected() == 2 }, time.Minute, time.Millisecond, "connected again")
	got := frames()
	require.Eventually(t, func() bool { return frames() > got }, time.Minute, time.Millisecond, "frames flow again")
	assert.NotZero(t, v.Stats().ConnectRefused)
}
