package session_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// readAllPeer is a venue on loopback that reads and counts every message of
// every connection, answering nothing.
type readAllPeer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	conns int
	n     int
}

func newReadAllPeer(t *testing.T) *readAllPeer {
	p := &readAllPeer{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		p.mu.Lock()
		p.conns++
		p.mu.Unlock()
		for {
			if _, _, err := c.Read(r.Context()); err != nil {
				return
			}
			p.mu.Lock()
			p.n++
			p.mu.Unlock()
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *readAllPeer) counts() (conns, msgs int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns, p.n
}

// fireLong fires the pending timers of at least d (MaxAge), once each,
// and says how many it fired.
func (c *manualClock) fireLong(d time.Duration) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped && t.d >= d {
			t.stopped = true
			t.c <- time.Now()
			n++
		}
	}
	return n
}

// Coinbase limits unauthenticated messages to 8 per second per IP
// (Advanced Trade "WebSocket Rate Limits"). Two market connections,
// subscribed, then each rotated (MaxAge): four connections open, the two
// new ones subscribing beside the old. The clock stands still but for
// the test's steps, each taken once the message the instant let go has
// gone; every text message is stamped with the clock's time as it goes
// on the wire. Before: each connection paced at 8/2 − 1 = 3 a second on
// its own (the rate divided among n connections, never n+1), and the new
// connections sent their subscriptions at the same instants, two at a
// time. Now one instant holds one message of all four, a second at most 8.
func TestS35rvwsCoinbaseMessagesPerIPAcrossRotation(t *testing.T) {
	clk := newHeldClock(time.Unix(1_700_000_000, 0))
	peer := newReadAllPeer(t)
	stamps := &sendStamps{clk: clk}
	opts := wsclient.Options{PingInterval: -1, IdleTimeout: -1, CloseTimeout: -1, MaxAge: time.Hour,
		BackoffBase: time.Hour, BackoffCap: time.Hour, Clock: clk, HTTPClient: stampingClient(t, stamps)}
	s := start(t, session.Config{
		Venue: schema.VenueCoinbase, Endpoints: session.Endpoints{Stream: "ws" + strings.TrimPrefix(peer.srv.URL, "http")},
		Symbols: []string{"BTC-USD", "ETH-USD"}, Channels: []string{"level2"}, MaxTopicsPerConn: 1, NoClockSync: true,
		Client: opts, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.Len(t, s.Stats().Market, 2, "two market connections")
	// A step as long as the gap of either rate (the shared 1/7 s, and
	// 1/3 s, the rate each of two connections had alone): whatever a
	// pacer holds goes at the next step, the test never waits for nothing.
	const step = time.Second/3 + 1
	const total = 4 * 2 // level2 and heartbeats on each connection
	sent := func() []time.Time {
		stamps.mu.Lock()
		defer stamps.mu.Unlock()
		return append([]time.Time(nil), stamps.at...)
	}
	require.Eventually(t, func() bool { return len(sent()) >= 1 }, generous, pollEvery, "the first subscribe message")
	fired := 0
	for n := len(sent()); n < total; n = len(sent()) {
		if n >= total/2 && fired < 2 {
			// Both connections subscribed: MaxAge (armed once each
			// serves) rotates them, and their new connections subscribe
			// beside them.
			require.Eventually(t, func() bool { fired += clk.fireLong(30 * time.Minute); return fired == 2 }, generous, pollEvery, "both connections' MaxAge")
			require.Eventually(t, func() bool { c, _ := peer.counts(); return c == 4 }, generous, pollEvery, "four connections")
		}
		// What this instant let go has gone once the peer read it.
		require.Eventually(t, func() bool { _, m := peer.counts(); return m >= n }, generous, pollEvery)
		clk.advance(step)
		require.Eventually(t, func() bool { return len(sent()) > n }, generous, pollEvery, "message %d; sent at %v", n+1, sent())
	}
	stamps.mu.Lock()
	at := append([]time.Time(nil), stamps.at...)
	stamps.mu.Unlock()
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	for i := 1; i < len(at); i++ {
		require.False(t, at[i].Equal(at[i-1]), "two messages at one instant: %v", at)
	}
	for i := range at {
		in := 0
		for _, b := range at[i:] {
			if b.Sub(at[i]) <= time.Second {
				in++
			}
		}
		require.LessOrEqual(t, in, 8, "messages in the closed second from %v", at[i])
	}
}
