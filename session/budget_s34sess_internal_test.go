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
// connections: their pacing shares it, so that a window of a second
// closed at both ends holds at most 8 of theirs (⌊rate⌋+1 of each
// connection, to eight connections), and one connection goes faster than
// the default 4 the documented limit allows. The other venues document
// no per-second message limit of their public streams beyond Binance's 5
// per connection: they keep wsclient's default. Before: 4 per connection
// on every venue, 10 in a window with two Coinbase connections.
func TestS34sessControlRatePerVenue(t *testing.T) {
	cb := venues[schema.VenueCoinbase]
	for n := 1; n <= 8; n++ {
		r := cb.controlRate(n)
		require.Positive(t, r)
		window := n * (int(r) + 1)
		require.LessOrEqual(t, window, 8, "%d connections at %.2f/s: %d messages in a closed second", n, r, window)
	}
	require.Greater(t, cb.controlRate(1), wsclient.DefaultControlRate, "one connection: faster where the venue allows it")
	for _, v := range []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBybit, schema.VenueKraken} {
		require.Equal(t, wsclient.DefaultControlRate, venues[v].controlRate(3), "%s", v)
	}
}

// The session paces its market connections at the venue's rate: two
// Coinbase connections 3 messages a second each (the client's own pacing
// and the books' resubscriptions), a host's ControlRate as given.
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
	}{{0, 3}, {2.5, 2.5}} {
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
