package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s49sessPeer is a venue on loopback that logs every message each of its
// connections reads (numbered from 1 in the order they were accepted) and
// cuts the live one on cut.
type s49sessPeer struct {
	srv   *httptest.Server
	mu    sync.Mutex
	msgs  [][2]string // connection number ("1", "2", …), message
	conns int
	cut   chan struct{} // closed: the first connection goes
}

func newS49sessPeer(t *testing.T) *s49sessPeer {
	p := &s49sessPeer{cut: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		p.mu.Lock()
		p.conns++
		n := p.conns
		p.mu.Unlock()
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		// A message of each connection's own: a rotation finds no join
		// and switches after RotationOverlap, the old connection alive.
		if err := c.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
			return
		}
		if n == 1 {
			go func() {
				select {
				case <-p.cut:
					_ = c.CloseNow()
				case <-ctx.Done():
				}
			}()
		}
		for {
			_, m, err := c.Read(ctx)
			if err != nil {
				return
			}
			p.mu.Lock()
			p.msgs = append(p.msgs, [2]string{string(rune('0' + n)), string(m)})
			p.mu.Unlock()
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// on returns the messages connection n read, in order.
func (p *s49sessPeer) on(n int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.msgs {
		if m[0] == string(rune('0'+n)) {
			out = append(out, m[1])
		}
	}
	return out
}

func (p *s49sessPeer) saw(n int, msg string) bool {
	for _, m := range p.on(n) {
		if m == msg {
			return true
		}
	}
	return false
}

// s49sessGate is a pacer's Clock whose first Sleep holds until the test
// lets it go (proceed), having told it (held). Its time moves only by what
// it slept.
type s49sessGate struct {
	wsclient.Clock
	held, proceed chan struct{}
	once          sync.Once
	mu            sync.Mutex
	now           time.Time
}

func (c *s49sessGate) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *s49sessGate) Sleep(ctx context.Context, d time.Duration) error {
	c.once.Do(func() {
		close(c.held)
		select {
		case <-c.proceed:
		case <-ctx.Done():
		}
	})
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

const (
	s49sessWait  = 30 * time.Second
	s49sessEvery = 5 * time.Millisecond
)

// s49sessRig is a wsclient client on a peer that subscribes "sub BTC"
// on every connection (as a session's market connection subscribes its
// books), and a resubscriber of it whose pacer holds at its first wait:
// before the first message of the first resubscription (before), or
// between its unsubscribe and subscribe.
type s49sessRig struct {
	peer *s49sessPeer
	c    *wsclient.Client
	r    *resubscriber
	gate *s49sessGate
	ctx  context.Context
}

// startS49sessClient runs a client of p (redialling at once, a
// rotation switching RotationOverlap 10 ms after the new connection's
// first message) until the test ends, with subs as its Subscriptions.
func startS49sessClient(t *testing.T, p *s49sessPeer, subs ...string) (*wsclient.Client, context.Context) {
	opts := &wsclient.Options{BackoffBase: time.Millisecond, BackoffCap: 20 * time.Millisecond, RotationOverlap: 10 * time.Millisecond}
	for _, m := range subs {
		opts.Subscriptions = append(opts.Subscriptions, []byte(m))
	}
	c, err := wsclient.New("ws"+strings.TrimPrefix(p.srv.URL, "http"), func(context.Context, *schema.WsFrame) error { return nil }, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(cancel)
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = c.Run(ctx)
	}()
	return c, ctx
}

// s49sessLoseFirst waits for c's connection 1, cuts it and waits for
// connection 2 up.
func s49sessLoseFirst(t *testing.T, p *s49sessPeer, c *wsclient.Client) {
	t.Helper()
	require.Eventually(t, func() bool { return c.Stats().ConnID == 1 }, s49sessWait, s49sessEvery, "connection 1 up")
	close(p.cut)
	require.Eventually(t, func() bool { return c.Stats().ConnID == 2 }, s49sessWait, s49sessEvery, "connection 2 up")
}

func newS49sessRig(t *testing.T, before bool) *s49sessRig {
	p := newS49sessPeer(t)
	c, ctx := startS49sessClient(t, p, "sub BTC")
	require.Eventually(t, func() bool { return c.State() == schema.ConnConnected && p.saw(1, "sub BTC") }, s49sessWait, s49sessEvery, "connected")

	gate := &s49sessGate{Clock: wsclient.SystemClock(), held: make(chan struct{}), proceed: make(chan struct{}), now: time.Unix(1, 0)}
	pace := newPacer(gate, 0, 1, 1) // one message at once, the next after a Sleep
	if before {
		pace.tokens = 0 // the first message waits too
	}
	r := &resubscriber{
		sh: &shard{client: c}, channel: "books",
		msgs: func(_ string, vs string) ([]byte, []byte, error) {
			return []byte("unsub " + vs), []byte("sub " + vs), nil
		},
		venue: func(s string) (string, error) { return s, nil },
		pace:  pace, tries: map[string]int{}, wake: make(chan struct{}, 1),
	}
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	t.Cleanup(stop) // before the client's: first
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.run(rctx)
	}()
	return &s49sessRig{peer: p, c: c, r: r, gate: gate, ctx: ctx}
}

func (g *s49sessRig) held(t *testing.T) {
	t.Helper()
	select {
	case <-g.gate.held:
	case <-time.After(s49sessWait):
		t.Fatal("the resubscriber never waited")
	}
}

// lose cuts the first connection and waits for the second one up, its
// own subscription sent.
func (g *s49sessRig) lose(t *testing.T) {
	t.Helper()
	close(g.peer.cut)
	g.second(t)
	require.NotZero(t, g.c.Stats().TotalReconnects(), "connection 1 lost")
}

// rotate replaces the first connection by a rotation (no loss) and waits
// for the second one live, its own subscription sent.
func (g *s49sessRig) rotate(t *testing.T) {
	t.Helper()
	require.NoError(t, g.c.Rotate())
	g.second(t)
	require.Zero(t, g.c.Stats().TotalReconnects(), "a rotation: no connection lost")
}

func (g *s49sessRig) second(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		return g.c.State() == schema.ConnConnected && g.c.Stats().ConnID == 2 && g.peer.saw(2, "sub BTC")
	}, s49sessWait, s49sessEvery, "the second connection up, the book subscribed on it")
}

// settle asks for sym on the live connection and waits for its pair
// there: the resubscriber serves its asks in order, so whatever was
// pending before has been written or dropped by then.
func (g *s49sessRig) settle(t *testing.T, sym string) {
	t.Helper()
	require.NoError(t, g.r.ask(g.ctx, schema.VenueOKX, sym))
	require.Eventually(t, func() bool { return g.peer.saw(2, "sub "+sym) }, s49sessWait, s49sessEvery, "%s resubscribed on the live connection", sym)
}

// The CI failure of TestS41ct2OKXResubscriptionCutByAReconnection, held
// open: a book breaks on connection 1, its unsubscribe goes there, and
// connection 1 is lost before the subscribe. Connection 2 subscribes the
// book as it connects (the loss invalidated the book, which waits for that
// snapshot). The resubscription was connection 1's: before, its failed
// subscribe was made again, whole, on connection 2 — an unsubscribe of
// the book connection 2 had just subscribed, then a subscribe (seen by CI:
// subscribe, unsubscribe, subscribe on the new connection). Now it is
// dropped with its connection.
func TestS49sessResubscriptionCutBetweenItsMessages(t *testing.T) {
	g := newS49sessRig(t, false)
	require.NoError(t, g.r.ask(g.ctx, schema.VenueOKX, "BTC"))
	g.held(t)
	require.Eventually(t, func() bool { return g.peer.saw(1, "unsub BTC") }, s49sessWait, s49sessEvery, "the unsubscribe on connection 1")
	g.lose(t)
	require.NoError(t, g.r.ask(g.ctx, schema.VenueOKX, "ETH")) // another book, broken on connection 2
	close(g.gate.proceed)
	require.Eventually(t, func() bool { return g.peer.saw(2, "sub ETH") }, s49sessWait, s49sessEvery, "ETH resubscribed on connection 2")
	g.settle(t, "SOL")
	require.Equal(t, []string{"sub BTC", "unsub ETH", "sub ETH", "unsub SOL", "sub SOL"}, g.peer.on(2),
		"connection 2: its own subscription, then only its own books' resubscriptions")
	require.Equal(t, []string{"sub BTC", "unsub BTC"}, g.peer.on(1))
	require.Eventually(t, func() bool { return g.r.sent.Load() == 2 }, s49sessWait, s49sessEvery, "resubscriptions written: %d", g.r.sent.Load())
}

// A resubscription asked on connection 1 that had not begun (waiting for
// its turn) when connection 1 was lost is dropped too: before, it was
// written on connection 2, which it never belonged to.
func TestS49sessResubscriptionAskedBeforeALoss(t *testing.T) {
	g := newS49sessRig(t, true)
	require.NoError(t, g.r.ask(g.ctx, schema.VenueOKX, "BTC"))
	g.held(t)
	g.lose(t)
	require.NoError(t, g.r.ask(g.ctx, schema.VenueOKX, "ETH")) // another book, broken on connection 2
	close(g.gate.proceed)
	require.Eventually(t, func() bool { return g.peer.saw(2, "sub ETH") }, s49sessWait, s49sessEvery, "ETH resubscribed on connection 2")
	g.settle(t, "SOL")
	require.Equal(t, []string{"sub BTC", "unsub ETH", "sub ETH", "unsub SOL", "sub SOL"}, g.peer.on(2),
		"connection 2: its own subscription, then only its own books' resubscriptions")
	require.Equal(t, []string{"sub BTC"}, g.peer.on(1))
	require.Eventually(t, func() bool { return g.r.sent.Load() == 2 }, s49sessWait, s49sessEvery, "resubscriptions written: %d", g.r.sent.Load())
}

// The reverse: a book that breaks again on connection 2 (diffs before
// its snapshot) while connection 1's resubscription of it is under way
// asks on connection 2; connection 1's failing subscribe, or its drop,
// must not take that ask with it. The pair goes on connection 2 once.
func TestS49sessResubscriptionAskedAgainOnTheNewConnection(t *testing.T) {
	for _, before := range []bool{false, true} {
		t.Run(map[bool]string{false: "between", true: "before"}[before], func(t *testing.T) {
			g := newS49sessRig(t, before)
			require.NoError(t, g.r.ask(g.ctx, schema.VenueOKX, "BTC"))
			g.held(t)
			g.lose(t)
			require.NoError(t, g.r.ask(g.ctx, schema.VenueOKX, "BTC")) // on connection 2
			close(g.gate.proceed)
			g.settle(t, "SOL")
			require.Equal(t, []string{"sub BTC", "unsub BTC", "sub BTC", "unsub SOL", "sub SOL"}, g.peer.on(2),
				"connection 2: its own subscription, BTC's resubscription asked there, once, then SOL's")
			require.Eventually(t, func() bool { return g.r.sent.Load() == 2 }, s49sessWait, s49sessEvery, "resubscriptions written: %d", g.r.sent.Load())
		})
	}
}

// A connection a rotation replaced without a loss hands its
// resubscriptions to the new one (the book goes on with the new
// connection's diffs; that connection's subscription snapshot was the old
// stream's repeat, never applied): one pending when the rotation switched
// is made there, whole (TestS41rvsessResubscriptionOnOneConnection: one
// cut between its messages).
func TestS49sessResubscriptionPendingAcrossARotation(t *testing.T) {
	g := newS49sessRig(t, true)
	require.NoError(t, g.r.ask(g.ctx, schema.VenueOKX, "BTC"))
	g.held(t)
	g.rotate(t)
	close(g.gate.proceed)
	require.Eventually(t, func() bool { return g.r.sent.Load() == 1 }, s49sessWait, s49sessEvery, "BTC resubscribed")
	g.settle(t, "SOL")
	require.Equal(t, []string{"sub BTC", "unsub BTC", "sub BTC", "unsub SOL", "sub SOL"}, g.peer.on(2))
	require.Equal(t, []string{"sub BTC"}, g.peer.on(1))
	require.Eventually(t, func() bool { return g.r.sent.Load() == 2 }, s49sessWait, s49sessEvery, "resubscriptions written: %d", g.r.sent.Load())
}
