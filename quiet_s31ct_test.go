package meltica_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s31ctHoleListener hands out connections that a test can turn into a
// black hole: once frozen, every byte the peer would read is dropped, so
// the venue neither answers a ping nor sees a message — the TCP stays up,
// no FIN, no close frame (a stalled venue or a dead NAT mapping).
type s31ctHoleListener struct {
	net.Listener
	frozen atomic.Bool
}

type s31ctHoleConn struct {
	net.Conn
	l *s31ctHoleListener
}

func (l *s31ctHoleListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &s31ctHoleConn{Conn: c, l: l}, nil
}

func (c *s31ctHoleConn) Read(b []byte) (int, error) {
	for {
		n, err := c.Conn.Read(b)
		if err != nil || !c.l.frozen.Load() {
			return n, err
		}
	}
}

// s31ctBinanceQuiet is a Binance market stream with nothing to say: it
// reads (so coder/websocket answers the client's pings), records the
// client's pings, and pings the client when the test says so, as Binance
// does every 20 s ("WebSocket Streams for Binance", General WSS
// information: "The WebSocket server will send a ping frame every 20
// seconds. If the WebSocket server does not receive a pong frame back
// from the connection within a minute the connection will be
// disconnected.").
type s31ctBinanceQuiet struct {
	url       string
	hole      *s31ctHoleListener
	dials     atomic.Int32
	pingsIn   atomic.Int32 // the client's pings
	mu        sync.Mutex
	conn      *websocket.Conn
	ctx       context.Context
	connected chan struct{}
}

func newS31ctBinanceQuiet(t *testing.T) *s31ctBinanceQuiet {
	q := &s31ctBinanceQuiet{connected: make(chan struct{}, 8)}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q.dials.Add(1)
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			OnPingReceived: func(context.Context, []byte) bool { q.pingsIn.Add(1); return true },
		})
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		q.mu.Lock()
		q.conn, q.ctx = c, r.Context()
		q.mu.Unlock()
		q.connected <- struct{}{}
		for {
			if _, _, err := c.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	q.hole = &s31ctHoleListener{Listener: srv.Listener}
	srv.Listener = q.hole
	srv.Start()
	t.Cleanup(srv.Close)
	q.url = "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws/btcusdt@trade"
	return q
}

// ping is the venue's ping, sent from another goroutine; the result
// (nil once the client's pong came back) arrives on the channel.
func (q *s31ctBinanceQuiet) ping() <-chan error {
	q.mu.Lock()
	c, ctx := q.conn, q.ctx
	q.mu.Unlock()
	res := make(chan error, 1)
	go func() {
		pctx, cancel := context.WithTimeout(ctx, s27ctWait)
		defer cancel()
		res <- c.Ping(pctx)
	}()
	return res
}

// s31ctStep moves clk by d and waits until the client has armed its
// timers again (as a real clock would let it), or until stop says so.
func s31ctStep(t *testing.T, clk *s27ctClock, d time.Duration, stop func() bool) {
	t.Helper()
	clk.Advance(d)
	require.Eventually(t, func() bool { return len(clk.Pending()) > 0 || (stop != nil && stop()) },
		s27ctWait, time.Millisecond, "the client arms its timers again")
}

func (q *s31ctBinanceQuiet) send(t *testing.T, msg string) {
	t.Helper()
	q.mu.Lock()
	c, ctx := q.conn, q.ctx
	q.mu.Unlock()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(msg)))
}

// A quiet Binance market: a trade stream of a symbol nobody trades sends
// nothing for ten minutes of the clock, while Binance pings every 20 s
// and answers the client's pings, as its docs say. The host follows
// wsclient's documented way for quiet symbols (Options.IdleTimeout: pings
// and pongs prove the path, not the data, so they do not feed the idle
// watchdog — contract 5's stall behind live pings — and a host of quiet
// symbols turns it off or raises it). The connection is
// healthy: the client must keep it (no disconnect, no redial — a venue
// that counts connections per IP, 300 per 5 minutes on Binance, would
// otherwise ban a host with a few quiet symbols), and the first trade
// after the silence reaches the handler. Then the venue really stalls
// (its side of the TCP swallows everything: no pong, no ping, no FIN):
// that must be announced as a lost connection (idle or pong timeout),
// within a minute of the clock.
func TestS31ctBinanceQuietMarketKeepsItsConnection(t *testing.T) {
	q := newS31ctBinanceQuiet(t)
	clk := newS27ctClock()
	evs := newS27ctEvents()
	got := make(chan string, 16)
	c, err := wsclient.New(q.url, func(_ context.Context, f *schema.WsFrame) error {
		got <- string(f.Data)
		return nil
	}, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: evs.on, IdleTimeout: -1})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	defer func() {
		require.NoError(t, c.Close(context.Background()))
		require.NoError(t, <-done)
	}()
	select {
	case <-q.connected:
	case <-time.After(s27ctWait):
		t.Fatal("never connected")
	}
	evs.await(t, "connected", s29ctIs(schema.ConnConnected))
	s27ctDialDone(t, clk)

	lost := func(ev wsclient.Event) bool { return ev.State == schema.ConnDisconnected }
	lostNow := func() bool { return evs.has(lost) }
	// The barrier of the client's own pings. Its ping timer is armed for
	// wsclient.DefaultPingInterval at the dial (clk not moved since) and
	// armed again the same 15 s from the clock's instant once the ping's
	// pong has come back (the pinger counts the ping answered before it
	// does). Between its firing and that, the ping is outstanding and
	// every clock step the reader spends waiting counts toward the 10 s
	// pong timeout: moving the clock on while the race-slowed pinger has
	// not yet taken the venue's pong lost the connection to a pong
	// timeout with the pong in flight (2 runs in 5 under -race when this
	// test took the venue's ping as the barrier instead). So a step that
	// fires the ping waits, clock held, until the timer is armed again:
	// nothing of the ping's round trip waits on the clock (its frame
	// budget: the last frame, a pong, went at least a step before).
	require.Eventually(t, func() bool {
		return slices.Contains(clk.Pending(), wsclient.DefaultPingInterval)
	}, s27ctWait, time.Millisecond, "the ping timer armed at the dial")
	nextPing := clk.Now().Add(wsclient.DefaultPingInterval)
	step := func() {
		t.Helper()
		s31ctStep(t, clk, time.Second/4, lostNow)
		if clk.Now().Before(nextPing) {
			return
		}
		require.Eventually(t, func() bool {
			return lostNow() || slices.Contains(clk.Pending(), wsclient.DefaultPingInterval)
		}, s27ctWait, time.Millisecond, "the client's ping answered and its timer armed again")
		nextPing = clk.Now().Add(wsclient.DefaultPingInterval)
	}
	// Ten minutes of the clock, a quarter second at a time, the venue
	// pinging every 20 s and waiting for the pong (within the minute
	// Binance allows) while the clock goes on.
	for n := 1; n <= 4*600; n++ {
		step()
		if lostNow() {
			t.Fatalf("a quiet, healthy connection lost after %v of the clock: %+v", time.Duration(n)*time.Second/4, evs.await(t, "lost", lost))
		}
		if n%80 != 0 {
			continue
		}
		// The venue's ping; the client's pong may wait for its turn in
		// the frame budget, on the clock: while it has not come the
		// clock moves a quarter second at a time (the ping barrier
		// included), for at most the minute Binance allows.
		pong := q.ping()
		for waited := time.Duration(0); ; waited += time.Second / 4 {
			var answered bool
			select {
			case err := <-pong:
				require.NoError(t, err, "the client answers the venue's ping")
				answered = true
			case <-time.After(100 * time.Millisecond):
			}
			if answered {
				break
			}
			require.Less(t, waited, time.Minute, "the venue's ping unanswered for a minute of the clock")
			step()
		}
	}
	assert.Equal(t, int32(1), q.dials.Load(), "one connection for the whole quiet spell")
	assert.Zero(t, c.Stats().TotalReconnects(), "%+v", c.Stats())
	assert.Positive(t, q.pingsIn.Load(), "the client pinged meanwhile")

	trade := `{"e":"trade","E":1764590400000,"s":"BTCUSDT","t":12345,"p":"67000.00","q":"0.001","T":1764590400000,"m":true,"M":true}`
	q.send(t, trade)
	select {
	case m := <-got:
		assert.Equal(t, trade, m, "the first trade after the silence delivered")
	case <-time.After(s27ctWait):
		t.Fatal("the trade after the quiet spell never reached the handler")
	}

	// A real stall: the venue's side swallows everything from now on.
	q.hole.frozen.Store(true)
	var at time.Duration
	for at = 0; at < 2*time.Minute && !lostNow(); at += time.Second / 4 {
		s31ctStep(t, clk, time.Second/4, lostNow)
	}
	ev := evs.await(t, "the stall announced", lost)
	assert.LessOrEqual(t, at, time.Minute, "announced within a minute of the clock; event %+v", ev)
	assert.Contains(t, []wsclient.Reason{wsclient.ReasonIdle, wsclient.ReasonPongTimeout}, ev.Reason, "%+v", ev)
}

// A make-before-break rotation (wsclient "Rotation"; Binance cuts a
// connection at 24 h, so hosts rotate before) on a quiet stream: the new
// connection is dialled while nothing is traded, and nothing comes on
// either connection for ten minutes of the clock. The first trade after
// the silence, which Binance sends on both connections (byte-identical
// frames), must reach the handler exactly once — the rotation joins the
// two streams on it, however long the quiet was ("RotationOverlap ...
// from the new connection's first message") — and the next trade, on
// the new connection alone after the old one is closed, once too.
// (Pings and the idle watchdog are off here: the quiet-connection fault
// of TestS31ctBinanceQuietMarketKeepsItsConnection aside.)
func TestS31ctQuietRotationDeliversTheFirstTradeOnce(t *testing.T) {
	peer := newS30ctPeer(t)
	const path = "/ws/btcusdt@trade"
	peer.handle(path, func(*s30ctConn, string) []string { return nil })
	clk := newS27ctClock()
	evs := newS27ctEvents()
	var mu sync.Mutex
	var got []string
	c, err := wsclient.New(peer.ws(path), func(_ context.Context, f *schema.WsFrame) error {
		mu.Lock()
		got = append(got, string(f.Data))
		mu.Unlock()
		return nil
	}, &wsclient.Options{Venue: schema.VenueBinance, Clock: clk, OnEvent: evs.on,
		MaxAge: time.Hour, PingInterval: -1, IdleTimeout: -1})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	defer func() {
		require.NoError(t, c.Close(context.Background()))
		require.NoError(t, <-done)
	}()
	conns := func() []*s30ctConn {
		peer.mu.Lock()
		defer peer.mu.Unlock()
		return append([]*s30ctConn(nil), peer.conns[path]...)
	}
	require.Eventually(t, func() bool { return len(conns()) == 1 }, s27ctWait, time.Millisecond)
	evs.await(t, "connected", s29ctIs(schema.ConnConnected))
	s27ctDialDone(t, clk)

	// To the rotation: an hour of the clock, a minute at a time.
	for i := 0; i < 60 && len(conns()) < 2; i++ {
		clk.Advance(time.Minute)
		require.Eventually(t, func() bool { return len(clk.Pending()) > 0 || len(conns()) == 2 }, s27ctWait, time.Millisecond)
	}
	require.Eventually(t, func() bool { return len(conns()) == 2 }, s27ctWait, time.Millisecond, "the rotation's new connection dialled")
	// The venue has accepted it; the client may not yet have read the
	// handshake's answer, and its dial timeout (10 s on clk) is still
	// armed: ten minutes of the clock now would fail the dial, and the
	// rotation would start over on a third connection that the trades
	// below never reach.
	s27ctDialDone(t, clk)
	// Ten quiet minutes with both connections open.
	for i := 0; i < 40; i++ {
		clk.Advance(15 * time.Second) // nothing to wait for: no message, no timer of the client's
	}
	trade := func(id int) string {
		return fmt.Sprintf(`{"e":"trade","E":1764590400000,"s":"BTCUSDT","t":%d,"p":"67000.00","q":"0.001","T":1764590400000,"m":true,"M":true}`, id)
	}
	cs := conns()
	cs[0].send(trade(1))
	cs[1].send(trade(1))
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 1
	}, s27ctWait, time.Millisecond, "the first trade after the quiet spell delivered")
	// The old connection closed once the streams joined; then trade 2
	// on the new connection alone.
	for i := 0; i < 40 && c.Stats().Rotations == 0; i++ {
		s31ctStep(t, clk, time.Second/4, func() bool { return c.Stats().Rotations > 0 })
	}
	require.Eventually(t, func() bool { return c.Stats().Rotations == 1 }, s27ctWait, time.Millisecond, "the rotation completed; stats %+v", c.Stats())
	cs[1].send(trade(2))
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 2
	}, s27ctWait, time.Millisecond, "the trade after the switch delivered")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{trade(1), trade(2)}, got, "each trade once, in order")
	st := c.Stats()
	assert.Zero(t, st.Unaligned, "the streams joined on the trade: %+v", st)
	assert.Zero(t, st.RotationDropped, "%+v", st)
}
