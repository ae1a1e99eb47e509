package session

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// OKX allows 480 subscribe/unsubscribe/login requests per connection per
// hour (OKX API v5 "WebSocket", limits). A connection's own subscription
// messages (sent at each connect) count in it, so the books'
// resubscriptions on that connection get only the rest: in the hour from
// the connect, own messages and the resubscriptions together stay within
// 480, counted on the injected clock while books break back to back.
// Before: the resubscriptions had the whole 480 (a bucket of 40, then 440
// an hour), and own messages came on top.
func TestS34sessOKXResubscriptionsLeaveRoomForOwnSubscriptions(t *testing.T) {
	spec := venues[schema.VenueOKX]
	for _, own := range []int{0, 1, 3, 39, 45, 200} {
		rate, burst := spec.resubBudget(own)
		clk := &stepClock{Clock: wsclient.SystemClock(), now: time.Unix(100000, 0)}
		p := newPacer(clk, 4, rate, burst)
		start, sent := clk.now, 0
		for {
			require.NoError(t, p.wait(context.Background()))
			if clk.now.Sub(start) > time.Hour {
				break
			}
			sent++
		}
		require.LessOrEqual(t, own+sent, 480, "own %d: %d resubscription messages in the hour", own, sent)
		require.Positive(t, sent, "own %d: resubscriptions still go", own)
	}
	rate, burst := venues[schema.VenueBybit].resubBudget(5)
	require.Zero(t, rate, "no budget where the venue documents none")
	require.Zero(t, burst)
}

// Coinbase limits unauthenticated messages to 8 per second per IP
// (Advanced Trade "WebSocket Rate Limits"), over all the session's market
// connections: they share one wsclient.MessageLimit of 7 a second (a
// window of a second closed at both ends holds 8), and each connection
// may use all of it (faster than the default 4). The other venues
// document no per-second message limit of their public streams beyond
// Binance's 5 per connection: they keep wsclient's default and no shared
// limit. (s35rvws: the rate was divided among the n connections, which a
// rotation's n+1st broke.)
func TestS34sessControlRatePerVenue(t *testing.T) {
	cb := venues[schema.VenueCoinbase]
	require.InDelta(t, 7, cb.controlRate(), 1e-9)
	require.NotNil(t, cb.messageLimit(nil))
	require.Greater(t, cb.controlRate(), wsclient.DefaultControlRate, "one connection: faster where the venue allows it")
	for _, v := range []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBybit, schema.VenueKraken} {
		require.Equal(t, wsclient.DefaultControlRate, venues[v].controlRate(), "%s", v)
		require.Nil(t, venues[v].messageLimit(nil), "%s", v)
	}
}

// The session paces its market connections at the venue's rate: two
// Coinbase connections 7 messages a second each, under a limit of 7 they
// share (the client's own pacing and the books' resubscriptions), a
// host's ControlRate as given.
func TestS34sessSessionPacesAtTheVenuesRate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		for {
			if _, _, err := c.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		host, want float64
	}{{0, 7}, {2.5, 2.5}} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		s, err := Start(ctx, Config{Venue: schema.VenueCoinbase, Endpoints: Endpoints{Stream: "ws" + strings.TrimPrefix(srv.URL, "http")},
			Symbols: []string{"BTC-USD", "ETH-USD"}, Channels: []string{"level2"}, MaxTopicsPerConn: 1, NoClockSync: true,
			Client: wsclient.Options{ControlRate: tc.host}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		require.NoError(t, err)
		require.Len(t, s.shards, 2)
		require.InDelta(t, tc.want, s.controlRate, 1e-9, "host rate %v", tc.host)
		for _, sh := range s.shards {
			// The resubscriptions are spaced by the connection's own pacer
			// (wsclient Options.PaceWrites), at s.controlRate: no second
			// pacer beside it (s34rvsess).
			require.Zero(t, sh.resub.pace.gap)
		}
		require.NoError(t, s.Close(ctx))
		cancel()
	}
}
