package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// bybitServer is a Bybit v5 public endpoint on loopback: it answers each
// subscribe request with the recorded messages of its topics (the docs'
// orderbook.50 snapshot and a publicTrade), and drops every open
// connection when drop is called.
func bybitServer(t *testing.T) (url string, drop func(), conns *atomic.Int64) {
	t.Helper()
	fixture := func(name string) []byte {
		b, err := os.ReadFile("../testdata/venues/" + name)
		require.NoError(t, err)
		return b
	}
	book, trade := fixture("bybit_v5_orderbook_snapshot.json"), fixture("bybit_v5_publicTrade.json")
	conns = new(atomic.Int64)
	dropCh := make(chan struct{})
	var dropped atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		n := conns.Add(1)
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			if n == 1 {
				select {
				case <-dropCh:
				case <-ctx.Done():
				}
				_ = c.CloseNow()
			}
		}()
		for {
			_, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			for topic, payload := range map[string][]byte{"orderbook.50.BTCUSDT": book, "publicTrade.BTCUSDT": trade} {
				if strings.Contains(string(msg), topic) && c.Write(ctx, websocket.MessageText, payload) != nil {
					return
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), func() {
		if dropped.CompareAndSwap(false, true) {
			close(dropCh)
		}
	}, conns
}

// TestOtherVenueMarketData: a Bybit session subscribes its channels, keeps
// the book live from the venue's snapshot, loses it with the connection
// and gets it back from the new connection's snapshot.
func TestOtherVenueMarketData(t *testing.T) {
	url, drop, conns := bybitServer(t)
	events := make(chan *schema.CanonicalEvent, 256)
	s := start(t, session.Config{Venue: schema.VenueBybit, Endpoints: session.Endpoints{Stream: url},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"publicTrade", "orderbook.50"}, Client: fastRedial,
		Subscribe: func(d *dispatch.Dispatcher) error { // before the first message
			_, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade, schema.EventConnState}},
				&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
					select {
					case events <- ev:
					default:
					}
				}})
			return err
		}})
	waitConnected(t, s)
	b := s.Book("BTC-USDT")
	require.NotNil(t, b)
	assert.True(t, b.Live())
	top, live := b.BBO()
	require.True(t, live)
	assert.Equal(t, "75848.74", top.BidPrice.String())
	for ev := range events {
		if ev.Type == schema.EventTrade {
			assert.Equal(t, schema.VenueBybit, ev.Venue)
			assert.Equal(t, "BTC-USDT", ev.Symbol)
			break
		}
	}

	drop()
	for ev := range events {
		if ev.Type == schema.EventConnState && ev.Control.State == schema.ConnDisconnected {
			break
		}
	}
	require.Eventually(t, func() bool { return conns.Load() >= 2 }, generous, pollEvery)
	waitConnected(t, s)
	assert.True(t, s.Book("BTC-USDT").Live(), "live again from the new connection's snapshot")
	assert.Positive(t, s.Book("BTC-USDT").Stats().Invalidations)

	_, err := session.Start(context.Background(), session.Config{Venue: schema.VenueBybit, Endpoints: session.Endpoints{Stream: url},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"publicTrade"}, Credentials: credentials()})
	assert.ErrorIs(t, err, session.ErrConfig, "orders are Binance's only")
	_, err = session.Start(context.Background(), session.Config{Venue: "nowhere", Endpoints: session.Endpoints{Stream: url},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}})
	assert.ErrorIs(t, err, session.ErrConfig)
}

// TestMarketHeartbeat: OKX and Bybit market data connections carry the
// venue's application-level ping (wsclient Options.Heartbeat): OKX closes
// a connection that pushed nothing for 30 s unless it gets the text
// "ping"; Bybit asks for {"op":"ping"} every 20 s. The interval is cut
// short here so that the first one comes at once; the test waits for it.
// Coinbase connections subscribe to the heartbeats channel.
func TestMarketHeartbeat(t *testing.T) {
	for _, tc := range []struct {
		venue   schema.Venue
		channel string
		ping    string
	}{
		{schema.VenueOKX, "trades", "ping"},
		{schema.VenueBybit, "publicTrade", `{"op":"ping"}`},
		// Coinbase: a subscription, not a ping ("Most channels close within
		// 60-90 seconds if no updates are sent").
		{schema.VenueCoinbase, "market_trades", `{"type":"subscribe","channel":"heartbeats","product_ids":["BTC-USDT"]}`},
	} {
		t.Run(string(tc.venue), func(t *testing.T) {
			got := make(chan string, 64)
			url := silentAPI(t, func(_ context.Context, _ *websocket.Conn, msg []byte) { // a venue that records what it reads
				select {
				case got <- string(msg):
				default:
				}
			})
			opts := fastRedial
			opts.HeartbeatInterval = time.Millisecond
			s := start(t, session.Config{Venue: tc.venue, Endpoints: session.Endpoints{Stream: url},
				Symbols: []string{"BTC-USDT"}, Channels: []string{tc.channel}, Client: opts})
			waitConnected(t, s)
			deadline := time.After(generous)
			for {
				select {
				case msg := <-got:
					if msg == tc.ping {
						return
					}
				case <-deadline:
					t.Fatalf("no %s heartbeat within %v", tc.ping, generous)
				}
			}
		})
	}
}

// recordingClock is the system clock that remembers the durations of the
// timers made from it.
type recordingClock struct {
	wsclient.Clock
	mu sync.Mutex
	ds []time.Duration
}

func (c *recordingClock) NewTimer(d time.Duration) wsclient.Timer {
	c.mu.Lock()
	c.ds = append(c.ds, d)
	c.mu.Unlock()
	return c.Clock.NewTimer(d)
}

// longest is the longest timer made so far.
func (c *recordingClock) longest() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Max(append([]time.Duration{0}, c.ds...))
}

// Binance ends a market connection at 24 h ("A single connection to
// stream.binance.com is only valid for 24 hours"): the session rotates its
// market connections before, at 23 h, unless the host set MaxAge; venues
// with no such rule get no rotation.
func TestMarketMaxAge(t *testing.T) {
	for _, tc := range []struct {
		name  string
		venue schema.Venue
		set   time.Duration
		want  time.Duration
	}{
		{"binance", schema.VenueBinance, 0, 23 * time.Hour},
		{"binance host's", schema.VenueBinance, 2 * time.Hour, 2 * time.Hour},
		{"okx none", schema.VenueOKX, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := session.Endpoints{Stream: silentAPI(t, func(context.Context, *websocket.Conn, []byte) {})}
			if tc.venue == schema.VenueBinance {
				ep = endpoints(startVenue(t))
			}
			clk := &recordingClock{Clock: wsclient.SystemClock()}
			opts := fastRedial
			opts.Clock, opts.MaxAge = clk, tc.set
			s := start(t, session.Config{Venue: tc.venue, Endpoints: ep,
				Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}, Client: opts})
			waitConnected(t, s)
			if tc.want == 0 {
				require.Less(t, clk.longest(), time.Hour, "no rotation timer")
				return
			}
			require.Eventually(t, func() bool { return clk.longest() > tc.want-time.Minute }, generous, pollEvery)
			require.LessOrEqual(t, clk.longest(), tc.want)
		})
	}
}
