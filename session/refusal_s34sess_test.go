package session_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// s34Peer is an OKX public endpoint on loopback: it acks every
// subscription and lets the test send on the n-th connection.
type s34Peer struct {
	srv *httptest.Server

	mu     sync.Mutex
	conns  []*websocket.Conn
	subs   []int // subscribe messages read, by connection
	change chan struct{}
}

func newS34Peer(t *testing.T) *s34Peer {
	p := &s34Peer{change: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *s34Peer) url() string { return "ws" + strings.TrimPrefix(p.srv.URL, "http") }

func (p *s34Peer) bump() { close(p.change); p.change = make(chan struct{}) }

func (p *s34Peer) serve(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer func() { _ = c.CloseNow() }()
	p.mu.Lock()
	i := len(p.conns)
	p.conns, p.subs = append(p.conns, c), append(p.subs, 0)
	p.bump()
	p.mu.Unlock()
	for {
		_, msg, err := c.Read(r.Context())
		if err != nil {
			return
		}
		if !strings.Contains(string(msg), `"subscribe"`) {
			continue
		}
		_ = c.Write(r.Context(), websocket.MessageText, []byte(`{"event":"subscribe","arg":{"channel":"trades","instId":"BTC-USDT"},"connId":"s34"}`))
		p.mu.Lock()
		p.subs[i]++
		p.bump()
		p.mu.Unlock()
	}
}

// await waits until cond holds of the connections' subscription counts.
func (p *s34Peer) await(ctx context.Context, t *testing.T, cond func(subs []int) bool) {
	t.Helper()
	for {
		p.mu.Lock()
		ok, ch := cond(p.subs), p.change
		p.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatal("the peer never saw what the test waits for")
		}
	}
}

// send writes msg on connection n (from 1).
func (p *s34Peer) send(ctx context.Context, t *testing.T, n int, msg string) {
	t.Helper()
	p.mu.Lock()
	c := p.conns[n-1]
	p.mu.Unlock()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(msg)))
}

// s34Events tells the test of the venue refusals the host gets, and of
// the rotations completed.
type s34Events struct {
	refused, rotated chan struct{}
}

func newS34Events() *s34Events {
	return &s34Events{refused: make(chan struct{}, 8), rotated: make(chan struct{}, 8)}
}

func (e *s34Events) subscribe(d *dispatch.Dispatcher) error {
	_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		switch {
		case ev.Type == schema.EventControl && ev.Control.Kind == schema.ControlVenueError:
			e.refused <- struct{}{}
		}
	}})
	return err
}

func (e *s34Events) onState(_ session.Conn, ev wsclient.Event) {
	if ev.State == schema.ConnConnected && ev.Reason == wsclient.ReasonRotation && ev.Err == nil {
		e.rotated <- struct{}{}
	}
}

func s34Wait(ctx context.Context, t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-ctx.Done():
		t.Fatal(what)
	}
}

// A refusal the OLD connection of a make-before-break rotation reads
// after the new connection went live is the old connection's: it does
// not make WaitConnected return a *SubscribeError on the new connection,
// whose subscriptions were all taken. The rotation's window
// (RotationOverlap, on the manual clock, fired once it is known armed: the
// new connection's first message came) ends and the switch makes the new
// connection current; the old one, replaced, still delivers its answers
// (IsData), and reads the refusal then. Before: the refusal was charged
// to the shard's live connection when it was parsed, the new one, and
// WaitConnected returned a *SubscribeError. (Until S44 the test held the
// old connection's handler on the refusal across the switch; since
// d8e04db0 wsclient makes the new connection current only once that call
// is out, and the held test waited for good.)
func TestS34sessRefusalReadByOldConnectionIsItsOwn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	peer := newS34Peer(t)
	ev := newS34Events()
	clk := newManualClock()
	const overlap = 3*time.Hour + 7*time.Millisecond // no other timer of the session's
	opts := wsclient.Options{PingInterval: -1, IdleTimeout: -1, ControlRate: -1, CloseTimeout: -1,
		BackoffBase: 1e6, BackoffCap: 5e6, Clock: clk, RotationOverlap: overlap}
	s := start(t, session.Config{
		Venue: schema.VenueOKX, Endpoints: session.Endpoints{Stream: peer.url()},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"trades", "books"}, NoClockSync: true,
		Client: opts, Subscribe: ev.subscribe, OnState: ev.onState, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	peer.await(ctx, t, func(subs []int) bool { return len(subs) == 1 && subs[0] == 2 })

	peer.send(ctx, t, 1, `{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"s34"}`)
	peer.await(ctx, t, func(subs []int) bool { return len(subs) == 2 && subs[1] == 2 }) // the new connection subscribed
	require.Eventually(t, func() bool { return clk.s34Armed(overlap) }, generous, pollEvery, "the new connection's first message never came")
	clk.fireAfter(overlap) // the window ends: the switch makes connection 2 current
	s34Wait(ctx, t, ev.rotated, "the rotation never completed")
	require.Eventually(t, func() bool { return s.Stats().Market[0].Client.ConnID == 2 }, generous, pollEvery)
	// Replaced, the old connection stays open delivering its answers
	// (IsData: for RotationOverlap, not fired again): the refusal it reads
	// now is parsed with connection 2 live.
	peer.send(ctx, t, 1, `{"event":"error","code":"60012","msg":"Invalid request: {\"op\":\"subscribe\"}","connId":"s34"}`)
	s34Wait(ctx, t, ev.refused, "the refusal never reached the host")
	// Not ready (the book has no snapshot: OKX without Endpoints.REST),
	// so WaitConnected returns a refusal that counts at once, and
	// otherwise ends with its ctx.
	wctx, wcancel := context.WithCancel(ctx)
	wcancel()
	require.ErrorIs(t, s.WaitConnected(wctx), context.Canceled, "the refusal was the old connection's, read after the switch")
}

// s34Armed reports whether a timer of exactly d waits to fire.
func (c *manualClock) s34Armed(d time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.timers {
		if !t.stopped && t.d == d {
			return true
		}
	}
	return false
}

// A host that calls WaitConnected again at once after a *SubscribeError
// (a retry loop) does not spin: each refusal is returned once — by every
// call waiting when it came and by the next call begun after it, not by
// the calls begun after that one returned it, which wait for the session
// to be ready, a new refusal, Close or their ctx. The loop counts the
// returns: a thousand calls with a ctx already ended return ctx's error,
// each, not the refusal. Before: every call returned the refusal at once
// while its connection stayed up.
func TestS34sessRefusalReturnedOncePerRefusal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	peer := newS34Peer(t)
	ev := newS34Events()
	opts := wsclient.Options{PingInterval: -1, IdleTimeout: -1, ControlRate: -1, CloseTimeout: -1,
		BackoffBase: 1e6, BackoffCap: 5e6}
	s := start(t, session.Config{
		Venue: schema.VenueOKX, Endpoints: session.Endpoints{Stream: peer.url()},
		Symbols: []string{"BTC-USDT"}, Channels: []string{"trades", "books"}, NoClockSync: true,
		Client: opts, Subscribe: ev.subscribe, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	peer.await(ctx, t, func(subs []int) bool { return len(subs) == 1 && subs[0] == 2 })
	ended, end := context.WithCancel(ctx)
	end()
	refusals := func() (n int) {
		for range 1000 {
			err := s.WaitConnected(ended)
			var se *session.SubscribeError
			switch {
			case errors.As(err, &se):
				n++
			default:
				require.ErrorIs(t, err, context.Canceled)
			}
		}
		return n
	}
	for round := range 2 {
		peer.send(ctx, t, 1, `{"event":"error","code":"60012","msg":"Invalid request: {\"op\":\"subscribe\"}","connId":"s34"}`)
		s34Wait(ctx, t, ev.refused, "the refusal never reached the host")
		require.Equal(t, 1, refusals(), "round %d: the refusal returned once", round)
	}
}
