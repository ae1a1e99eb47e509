package session_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
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

// heldClock is a clock that stands still until the test moves it: Now,
// Sleep and SleepUntil (wsclient's pacer sleeps to an instant) are its
// own; its timers are manualClock's, which fire only when told.
type heldClock struct {
	*manualClock
	mu    sync.Mutex
	now   time.Time
	moved chan struct{}
}

func newHeldClock(at time.Time) *heldClock {
	return &heldClock{manualClock: newManualClock(), now: at, moved: make(chan struct{})}
}

func (c *heldClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *heldClock) Sleep(ctx context.Context, d time.Duration) error {
	return c.SleepUntil(ctx, c.Now().Add(d))
}

func (c *heldClock) SleepUntil(ctx context.Context, at time.Time) error {
	for {
		c.mu.Lock()
		now, ch := c.now, c.moved
		c.mu.Unlock()
		if !now.Before(at) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *heldClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	close(c.moved)
	c.moved = make(chan struct{})
}

// sendStamps notes the clock's time as each text message of the client
// goes on the wire (a masked text frame begins 0x81; coder/websocket
// writes each message in one Write): the peer counts by it, not by when
// it reads the message, which a loaded machine may delay past the next
// step of the clock.
type sendStamps struct {
	clk *heldClock
	mu  sync.Mutex
	at  []time.Time
}

func (s *sendStamps) get(i int) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.at[i]
}

type stampConn struct {
	net.Conn
	s *sendStamps
}

func (c *stampConn) Write(b []byte) (int, error) {
	if len(b) > 0 && b[0] == 0x81 {
		c.s.mu.Lock()
		c.s.at = append(c.s.at, c.s.clk.Now())
		c.s.mu.Unlock()
	}
	return c.Conn.Write(b)
}

// stampingClient is an HTTP client whose connections note s.
func stampingClient(t *testing.T, s *sendStamps) *http.Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &stampConn{Conn: c, s: s}, nil
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// ratePeer is an OKX public endpoint on loopback that counts the
// messages a connection sends per second of the injected clock and, past
// limit in one second, closes the connection as Binance does ("WebSocket
// Limits": 5 incoming messages per second per connection, pings, pongs
// and subscription requests alike; past it, disconnected).
type ratePeer struct {
	srv   *httptest.Server
	clk   *heldClock
	sent  *sendStamps
	epoch time.Time
	limit int

	mu     sync.Mutex
	conn   *websocket.Conn
	perSec map[int64]int
	// perInstant counts the messages sent at each instant of the clock:
	// one pacer lets one go per instant (the clock moves in steps of its gap).
	perInstant map[time.Time]int
	total      int
	closed     bool
	got        []string
}

func newRatePeer(t *testing.T, clk *heldClock, limit int) *ratePeer {
	p := &ratePeer{clk: clk, sent: &sendStamps{clk: clk}, epoch: clk.Now(), limit: limit, perSec: map[int64]int{}, perInstant: map[time.Time]int{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *ratePeer) url() string { return "ws" + strings.TrimPrefix(p.srv.URL, "http") }

func (p *ratePeer) serve(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer func() { _ = c.CloseNow() }()
	p.mu.Lock()
	if p.conn != nil { // one connection only: a second is a reconnection, after a close
		p.mu.Unlock()
		return
	}
	p.conn = c
	p.mu.Unlock()
	for {
		_, msg, err := c.Read(r.Context())
		if err != nil {
			return
		}
		p.mu.Lock()
		at := p.sent.get(p.total)
		sec := int64(at.Sub(p.epoch) / time.Second)
		p.perInstant[at]++
		p.perSec[sec]++
		p.total++
		p.got = append(p.got, string(msg))
		over := p.perSec[sec] > p.limit
		p.closed = p.closed || over
		p.mu.Unlock()
		if over {
			_ = c.Close(websocket.StatusPolicyViolation, "Too many requests")
			return
		}
	}
}

func (p *ratePeer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

func (p *ratePeer) send(ctx context.Context, t *testing.T, msg string) {
	t.Helper()
	p.mu.Lock()
	c := p.conn
	p.mu.Unlock()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(msg)))
}

// Every message a market connection sends shares one pacer at the
// connection's ControlRate (4 a second: OKX's default here, under a
// Binance-like peer's 5): the client's subscribe messages and the books'
// resubscriptions alike. Three channels (three subscribe messages) and
// three books broken at once (an unsubscribe and a subscribe each):
// nine messages. The clock stands still but for the test's steps of a
// gap (250 ms), each taken once the peer has the one message the
// instant allows. Before: the resubscriber paced its messages on a pacer
// of its own, beside the client's, and the connection sent two messages
// at an instant, seven in the first second: the peer closed it.
func TestS34rvsessOneConnectionOnePacer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	clk := newHeldClock(time.Unix(1_700_000_000, 0))
	peer := newRatePeer(t, clk, 5)
	syms := []string{"BTC-USDT", "ETH-USDT", "SOL-USDT"}
	opts := wsclient.Options{PingInterval: -1, IdleTimeout: -1, CloseTimeout: -1,
		BackoffBase: time.Hour, BackoffCap: time.Hour, Clock: clk, HTTPClient: stampingClient(t, peer.sent)}
	s := start(t, session.Config{
		Venue: schema.VenueOKX, Endpoints: session.Endpoints{Stream: peer.url()},
		Symbols: syms, Channels: []string{"trades", "tickers", "books"}, NoClockSync: true,
		Client: opts, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.Eventually(t, func() bool { return peer.count() == 1 }, generous, pollEvery, "the first subscribe message")
	for i, sym := range syms { // each book live, then broken: a sequence gap
		n := 100 * (i + 1)
		peer.send(ctx, t, fmt.Sprintf(`{"arg":{"channel":"books","instId":"%s"},"action":"snapshot","data":[{"asks":[["101","1","0","1"]],"bids":[["90","1","0","1"]],"ts":"1","checksum":0,"prevSeqId":-1,"seqId":%d}]}`, sym, n))
		peer.send(ctx, t, fmt.Sprintf(`{"arg":{"channel":"books","instId":"%s"},"action":"update","data":[{"asks":[],"bids":[["80","3","0","1"]],"ts":"3","checksum":0,"prevSeqId":%d,"seqId":%d}]}`, sym, n+5, n+6))
	}
	const total = 3 + 3*2
	resubscribed := func() uint64 { return s.Stats().Market[0].Resubscribes }
	for k := 1; k < total; k++ {
		clk.advance(250 * time.Millisecond)
		require.Eventually(t, func() bool { return peer.count() >= k+1 }, generous, pollEvery, "message %d at instant %d", k+1, k)
	}
	require.Eventually(t, func() bool { return resubscribed() == 3 }, generous, pollEvery, "the three books resubscribed")
	peer.mu.Lock()
	defer peer.mu.Unlock()
	require.False(t, peer.closed, "over 5 messages in a second of the clock: %v", peer.perSec)
	require.Equal(t, total, peer.total, "%q", peer.got)
	for at, n := range peer.perInstant {
		require.Equal(t, 1, n, "one message an instant: %d at %v", n, at.Sub(peer.epoch))
	}
}
