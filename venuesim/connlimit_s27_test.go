package venuesim_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
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
// oldest connection leaves the window; the WS-API is not limited, and
// refused handshakes are not counted.
func TestS27ConnectLimitRefusesWith429AndRetryAfter(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 1, ConnectLimit: 2, ConnectWindow: time.Hour})
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range 2 {
		c, _, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), nil)
		require.NoError(t, err)
		defer c.CloseNow()
	}
	for range 3 {
		_, resp, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), nil)
		require.Error(t, err)
		require.NotNil(t, resp)
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		assert.Equal(t, "3600", resp.Header.Get("Retry-After"), "the window's hour, in whole seconds rounded up")
	}
	assert.EqualValues(t, 3, v.Stats().ConnectRefused)
	// The WS-API is not limited.
	c, _, err := websocket.Dial(ctx, v.APIURL(), nil)
	require.NoError(t, err)
	c.CloseNow()
	// Without ConnectLimit, nothing is refused.
	free := venuesim.Start(&venuesim.Options{Rate: 1})
	defer free.Close()
	for range 10 {
		c, _, err := websocket.Dial(ctx, free.StreamURL("btcusdt@trade"), nil)
		require.NoError(t, err)
		c.CloseNow()
	}
}

// A wsclient cut by the venue and refused by the connection limit keeps
// to the venue's Retry-After, reports the refusal as a
// *wsclient.HandshakeError with the 429 and its wait, and is back once
// the window lets it in: it survives, with a typed error on the way.
func TestS27ConnectLimitClientWaitsAndSurvives(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 500, ConnectLimit: 1, ConnectWindow: 2 * time.Second})
	defer v.Close()
	var frames atomic.Int64
	events := make(chan wsclient.Event, 64)
	cl, err := wsclient.New(v.StreamURL("btcusdt@trade"), func(context.Context, *schema.WsFrame) error {
		frames.Add(1)
		return nil
	}, &wsclient.Options{Venue: schema.VenueBinance, OnEvent: func(e wsclient.Event) {
		select {
		case events <- e:
		default:
		}
	}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cl.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	next := func(want schema.ConnState) wsclient.Event {
		t.Helper()
		deadline := time.After(time.Minute)
		for {
			select {
			case e := <-events:
				if e.State == want {
					return e
				}
			case <-deadline:
				require.FailNow(t, "no event", "state %v", want)
			}
		}
	}
	next(schema.ConnConnected)
	require.Eventually(t, func() bool { return frames.Load() > 0 }, time.Minute, time.Millisecond)
	require.Equal(t, 1, v.Inject(venuesim.FaultClose))
	var refused *wsclient.HandshakeError
	for refused == nil {
		e := next(schema.ConnReconnecting)
		if errors.As(e.Err, &refused) {
			assert.Equal(t, http.StatusTooManyRequests, refused.StatusCode)
			assert.Greater(t, refused.RetryAfter, time.Duration(0))
			assert.GreaterOrEqual(t, e.Delay, refused.RetryAfter, "the client keeps to the venue's wait")
		}
	}
	next(schema.ConnConnected)
	got := frames.Load()
	require.Eventually(t, func() bool { return frames.Load() > got }, time.Minute, time.Millisecond, "frames flow again")
	assert.NotZero(t, v.Stats().ConnectRefused)
}
