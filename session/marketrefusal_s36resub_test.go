package session_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// s36rPeer is a venue's public WebSocket on loopback: it answers each
// subscribe message (one holding mark) with refusal while refuse > 0,
// else with ack, and counts them by connection.
type s36rPeer struct {
	srv            *httptest.Server
	mark           string
	ack, refusal   string
	mu             sync.Mutex
	refuse         int
	acked, refused []int // by connection, in dial order
	conns          []*websocket.Conn
}

func newS36rPeer(t *testing.T, mark, ack, refusal string, refuse int) *s36rPeer {
	p := &s36rPeer{mark: mark, ack: ack, refusal: refusal, refuse: refuse}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *s36rPeer) url() string { return "ws" + strings.TrimPrefix(p.srv.URL, "http") }

func (p *s36rPeer) serve(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer func() { _ = c.CloseNow() }()
	p.mu.Lock()
	i := len(p.acked)
	p.acked, p.refused, p.conns = append(p.acked, 0), append(p.refused, 0), append(p.conns, c)
	p.mu.Unlock()
	for {
		_, msg, err := c.Read(r.Context())
		if err != nil {
			return
		}
		if !strings.Contains(string(msg), p.mark) {
			continue
		}
		p.mu.Lock()
		reply := p.ack
		if p.refuse > 0 {
			p.refuse--
			reply = p.refusal
			p.refused[i]++
		} else {
			p.acked[i]++
		}
		p.mu.Unlock()
		if c.Write(r.Context(), websocket.MessageText, []byte(reply)) != nil {
			return
		}
	}
}

// counts returns the subscriptions acknowledged and refused, by connection.
func (p *s36rPeer) counts() (acked, refused []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.acked), slices.Clone(p.refused)
}

// cut closes connection n (from 1) without a close handshake.
func (p *s36rPeer) cut(n int) {
	p.mu.Lock()
	c := p.conns[n-1]
	p.mu.Unlock()
	_ = c.CloseNow()
}

// s36rClock is the session's clock; the callbacks it is asked to run
// after one of the durations in held (the refusal's backoffs) wait until
// the test fires them, every other timer runs on the system clock.
type s36rClock struct {
	wsclient.Clock
	held  []time.Duration
	mu    sync.Mutex
	armed []*s36rTimer
}

type s36rTimer struct {
	d       time.Duration
	f       func()
	clk     *s36rClock
	stopped bool
}

func (c *s36rClock) AfterFunc(d time.Duration, f func()) wsclient.Timer {
	if !slices.Contains(c.held, d) {
		return c.Clock.AfterFunc(d, f)
	}
	t := &s36rTimer{d: d, f: f, clk: c}
	c.mu.Lock()
	c.armed = append(c.armed, t)
	c.mu.Unlock()
	return t
}

func (t *s36rTimer) C() <-chan time.Time { return nil }

func (t *s36rTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

func (t *s36rTimer) Reset(time.Duration) bool { panic("not used") }

// pending returns the held timers waiting, by duration.
func (c *s36rClock) pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, t := range c.armed {
		if !t.stopped {
			out = append(out, t.d)
		}
	}
	return out
}

// fire runs the held timer waiting (exactly one must be) and returns its
// duration.
func (c *s36rClock) fire(t *testing.T) time.Duration {
	t.Helper()
	c.mu.Lock()
	var due []*s36rTimer
	for _, tm := range c.armed {
		if !tm.stopped {
			due = append(due, tm)
		}
	}
	require.Len(t, due, 1, "one retry armed")
	due[0].stopped = true
	c.mu.Unlock()
	go due[0].f()
	return due[0].d
}

// s36rVenue is one venue's public stream: its config, the session's
// subscribe message (mark), the venue's acknowledgement, a refusal that
// passes and one that never will (each venue's documented form: OKX v5
// "WebSocket → Subscribe" and "Error Code"; Bybit v5 "WebSocket Connect →
// How to Subscribe to Topics"; Kraken v2 "Subscribe"; Coinbase Advanced
// Trade "WebSocket Overview" errors).
type s36rVenue struct {
	name          string
	cfg           session.Config
	mark, ack     string
	passes, never string
}

// s36rBackoffs are the backoffs of refusals in a row: those that pass,
// then the others.
var s36rBackoffs = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
	16 * time.Second, 32 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute}

func s36rVenues() []s36rVenue {
	return []s36rVenue{
		{name: "okx", cfg: session.Config{Venue: schema.VenueOKX, Symbols: []string{"BTC-USDT"}, Channels: []string{"trades"}},
			mark:   `"op":"subscribe"`,
			ack:    `{"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT"},"connId":"a4d3ae55"}`,
			passes: `{"event":"error","code":"60014","msg":"Requests too frequent.","connId":"a4d3ae55"}`,
			never:  `{"event":"error","code":"60018","msg":"Wrong URL or channel:trades,instId:BTC-USDX doesn't exist. Please use the correct URL, channel and parameters referring to API document.","connId":"a4d3ae55"}`},
		{name: "bybit", cfg: session.Config{Venue: schema.VenueBybit, Symbols: []string{"BTC-USDT"}, Channels: []string{"publicTrade"}},
			mark:   `"op":"subscribe"`,
			ack:    `{"success":true,"ret_msg":"subscribe","conn_id":"2324d924-aa4d-45b0-a858-7b8be29ab52b","req_id":"","op":"subscribe"}`,
			passes: `{"success":false,"ret_msg":"Too many requests","conn_id":"2324d924-aa4d-45b0-a858-7b8be29ab52b","req_id":"","op":"subscribe"}`,
			never:  `{"success":false,"ret_msg":"error:handler not found,topic:publicTrade.BTCUSDX","conn_id":"2324d924-aa4d-45b0-a858-7b8be29ab52b","req_id":"","op":"subscribe"}`},
		{name: "kraken", cfg: session.Config{Venue: schema.VenueKraken, Symbols: []string{"BTC-USD"}, Channels: []string{"trade"}},
			mark:   `"method":"subscribe"`,
			ack:    `{"method":"subscribe","result":{"channel":"trade","snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2023-09-25T09:04:31.742599Z","time_out":"2023-09-25T09:04:31.742648Z"}`,
			passes: `{"error":"EGeneral:Too many requests","method":"subscribe","success":false,"time_in":"2023-09-25T09:04:31.742599Z","time_out":"2023-09-25T09:04:31.742648Z"}`,
			never:  `{"error":"Currency pair not supported BTC/USDX","method":"subscribe","success":false,"symbol":"BTC/USDX","time_in":"2023-09-25T09:04:31.742599Z","time_out":"2023-09-25T09:04:31.742648Z"}`},
		{name: "coinbase", cfg: session.Config{Venue: schema.VenueCoinbase, Symbols: []string{"BTC-USD"}, Channels: []string{"market_trades"}},
			mark:   `"type":"subscribe"`,
			ack:    `{"channel":"subscriptions","client_id":"","timestamp":"2023-02-09T20:33:57.609931463Z","sequence_num":0,"events":[{"subscriptions":{"market_trades":["BTC-USD"]}}]}`,
			passes: `{"type":"error","message":"rate limit exceeded"}`,
			never:  `{"type":"error","message":"Failed to subscribe","reason":"BTC-USDX is not a valid product"}`},
	}
}

// s36rStart starts v's session on p with the refusals' backoffs held on
// the returned clock.
func s36rStart(t *testing.T, v s36rVenue, p *s36rPeer) (*session.Session, *s36rClock) {
	clk := &s36rClock{Clock: wsclient.SystemClock(), held: s36rBackoffs}
	cfg := v.cfg
	cfg.Endpoints = session.Endpoints{Stream: p.url()}
	cfg.NoClockSync = true
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Client = wsclient.Options{PingInterval: -1, IdleTimeout: -1, ControlRate: -1, CloseTimeout: -1,
		HeartbeatInterval: time.Hour, BackoffBase: time.Millisecond, BackoffCap: 5 * time.Millisecond,
		WriteTimeout: 7 * time.Second, RotationOverlap: 50 * time.Millisecond, Clock: clk,
		Rand: s36rNoJitter}
	return start(t, cfg), clk
}

// s36rNoJitter pins the refusals' backoffs (marketRetry's jitter) and
// wsclient's redials to their floors.
func s36rNoJitter(int64) int64 { return 0 }

// s36rArmed waits until a retry is armed and returns its backoff.
func s36rArmed(t *testing.T, clk *s36rClock, msg string) time.Duration {
	t.Helper()
	var d time.Duration
	require.Eventually(t, func() bool {
		p := clk.pending()
		if len(p) == 0 {
			return false
		}
		d = p[0]
		return true
	}, generous, pollEvery, msg)
	return d
}

// Every venue: a market subscription the venue refused is asked again
// (the connection rotated, make-before-break: the new one subscribes
// again) after a backoff on the session's clock — 1 s for a refusal that
// passes (a rate limit), 1 min for one that never will (an unknown
// symbol) — and the next connection's subscription is taken. Each
// refusal is counted in the market connection's Stats. Before, the
// refusal was recorded for WaitConnected only: the connection stayed up
// with the subscription missing, for ever (DESIGN.md contract 5).
func TestS36resubRefusedMarketSubscriptionAskedAgain(t *testing.T) {
	for _, v := range s36rVenues() {
		for _, kind := range []struct {
			name    string
			refusal string
			want    time.Duration
		}{{"passes", v.passes, time.Second}, {"never", v.never, time.Minute}} {
			t.Run(v.name+"/"+kind.name, func(t *testing.T) {
				p := newS36rPeer(t, v.mark, v.ack, kind.refusal, 1)
				s, clk := s36rStart(t, v, p)
				d := s36rArmed(t, clk, "the refusal armed no retry")
				assert.Equal(t, kind.want, d, "the first backoff")
				st := s.Stats().Market[0]
				assert.Equal(t, uint64(1), st.Refusals)
				assert.Zero(t, st.RefusalRetries)
				clk.fire(t)
				require.Eventually(t, func() bool {
					acked, _ := p.counts()
					return len(acked) >= 2 && acked[len(acked)-1] > 0 && s.Stats().Market[0].Client.ConnID == uint64(len(acked))
				}, generous, pollEvery, "a new connection subscribed again and took over")
				assert.Equal(t, uint64(1), s.Stats().Market[0].RefusalRetries)
				assert.Empty(t, clk.pending(), "no retry armed once taken")
			})
		}
	}
}

// The backoff grows over refusals in a row — on the new connections of
// the retries, each refused again (OKX 60014) — and starts again once the
// venue took a subscription: a connection lost later and refused once
// more waits 1 s again, not the 4 s that would come next. Fired until the
// venue took it: a retry whose rotation had not switched to the refused
// connection yet waits another backoff (marketRetry.fire).
func TestS36resubBackoffStartsAgainOnceTaken(t *testing.T) {
	v := s36rVenues()[0]
	p := newS36rPeer(t, v.mark, v.ack, v.passes, 3)
	s, clk := s36rStart(t, v, p)
	taken := func() bool {
		acked, _ := p.counts()
		n := len(acked)
		return n > 0 && acked[n-1] > 0 && s.Stats().Market[0].Client.ConnID == uint64(n)
	}
	var waits []time.Duration
	require.Eventually(t, func() bool {
		if taken() {
			return true
		}
		if len(clk.pending()) > 0 {
			waits = append(waits, clk.fire(t))
		}
		return false
	}, generous, pollEvery, "the venue took the subscription after three refusals")
	assert.Equal(t, uint64(3), s.Stats().Market[0].Refusals)
	require.GreaterOrEqual(t, len(waits), 3)
	assert.Equal(t, []time.Duration{time.Second}, waits[:1])
	assert.Equal(t, 4*time.Second, waits[len(waits)-1], "1 s, 2 s, then 4 s: %v", waits)

	p.mu.Lock()
	p.refuse = 1
	p.mu.Unlock()
	acked, _ := p.counts()
	p.cut(len(acked))
	require.Eventually(t, func() bool { return s.Stats().Market[0].Refusals == 4 && len(clk.pending()) > 0 },
		generous, pollEvery, "the reconnect's refusal armed a retry")
	assert.Equal(t, []time.Duration{time.Second}, clk.pending(), "the backoff started again")
}

// A retry armed for a refused connection is disarmed when the venue takes
// the subscription on a later connection (the refused one was lost and
// the reconnect subscribed again): no rotation of a connection that
// lacks nothing.
func TestS36resubRetryDisarmedByALaterConnection(t *testing.T) {
	v := s36rVenues()[0]
	p := newS36rPeer(t, v.mark, v.ack, v.passes, 1)
	s, clk := s36rStart(t, v, p)
	assert.Equal(t, time.Second, s36rArmed(t, clk, "the refusal armed no retry"))
	p.cut(1)
	require.Eventually(t, func() bool {
		acked, _ := p.counts()
		return len(acked) == 2 && acked[1] > 0 && len(clk.pending()) == 0
	}, generous, pollEvery, "the reconnect's subscription taken, the retry disarmed")
	assert.Zero(t, s.Stats().Market[0].RefusalRetries)
}
