package session_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// TestS25rvPlaceEndsWhileItWaitsForTheClientsTurn: with PaceWrites the
// order connection's client holds a host's message until the budget has
// a slot (wsclient: a ctx that ends meanwhile sends nothing, ErrNotSent).
// A Place whose ctx ends there has sent nothing: session.ErrNotSent, at
// once, and the venue never sees the order — not "no answer to request"
// (an order of unknown outcome, looked up for nothing) nor an order
// written after its caller gave up.
func TestS25rvPlaceEndsWhileItWaitsForTheClientsTurn(t *testing.T) {
	v := startVenue(t)
	ep := endpoints(v)
	var placed atomic.Int32
	ep.API = silentAPI(t, func(_ context.Context, _ *websocket.Conn, msg []byte) {
		if strings.Contains(string(msg), `"order.place"`) {
			placed.Add(1)
		}
	})
	// One frame per 100 s: every frame after a connection's first waits
	// for its slot, which the clock gives at once (moving its time there)
	// until hold is set; then a wait lasts until its ctx ends.
	clk := &paceGate{Clock: wsclient.SystemClock(), release: make(chan struct{})}
	client := wsclient.Options{PaceWrites: true, ControlRate: 0.01, Clock: clk}
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"}, Credentials: credentials(), Client: client})
	t.Cleanup(func() { close(clk.release) }) // before Close: its frames go
	waitConnected(t, s)
	clk.hold.Store(true)
	req := limitOrder(s, t, "paced-1", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.Place(ctx, req)
		done <- err
	}()
	require.Eventually(t, func() bool { return s.Stats().Order.Pending == 1 }, generous, pollEvery, "the order waits for its turn")
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, session.ErrNotSent)
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(generous):
		t.Fatal("Place did not return when its ctx ended")
	}
	assert.Zero(t, placed.Load(), "the venue never saw the order")
	st := s.Stats().Order
	assert.Zero(t, st.Pending)
	assert.Zero(t, st.TimedOut, "not an order of unknown outcome")
}

// paceGate is the system clock, moved forward to the instant a frame's
// slot opens (SleepUntil) at once; with hold set, such a wait lasts until
// its ctx ends.
type paceGate struct {
	wsclient.Clock
	hold    atomic.Bool
	release chan struct{} // ends the held waits: their slots open
	offset  atomic.Int64  // ns ahead of the system clock
}

func (g *paceGate) Now() time.Time { return g.Clock.Now().Add(time.Duration(g.offset.Load())) }

func (g *paceGate) SleepUntil(ctx context.Context, at time.Time) error {
	if g.hold.Load() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-g.release:
		}
	}
	if d := at.Sub(g.Now()); d > 0 {
		g.offset.Add(int64(d))
	}
	return ctx.Err()
}
