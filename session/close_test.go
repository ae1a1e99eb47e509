package session_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// closeGate is a Clock whose timers of exactly d (the close handshake's
// bound) fire only when opened; every other timer is the system's.
type closeGate struct {
	wsclient.Clock
	d      time.Duration
	mu     sync.Mutex
	timers []chan time.Time
}

type gateTimer struct {
	g *closeGate
	c chan time.Time
}

func (t gateTimer) C() <-chan time.Time { return t.c }

// Stop: a handshake answered in time stops its timer and waits no more.
func (t gateTimer) Stop() bool {
	t.g.mu.Lock()
	defer t.g.mu.Unlock()
	for i, c := range t.g.timers {
		if c == t.c {
			t.g.timers = append(t.g.timers[:i], t.g.timers[i+1:]...)
			return true
		}
	}
	return false
}

func (gateTimer) Reset(time.Duration) bool { panic("closeGate: Reset is not used") }

func (g *closeGate) NewTimer(d time.Duration) wsclient.Timer {
	if d != g.d {
		return g.Clock.NewTimer(d)
	}
	c := make(chan time.Time, 1)
	g.mu.Lock()
	g.timers = append(g.timers, c)
	g.mu.Unlock()
	return gateTimer{g, c}
}

// waiting is how many close handshakes wait for their bound now.
func (g *closeGate) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.timers)
}

func (g *closeGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.timers {
		c <- time.Now()
	}
	g.timers = nil
}

// TestCloseSilentVenueConcurrently: a venue that stops reading never
// answers the close frame, so each connection waits out CloseTimeout.
// Close waits for all of them at once — one CloseTimeout in all, not one
// per connection.
func TestCloseSilentVenueConcurrently(t *testing.T) {
	const shards = 3
	quit := make(chan struct{})
	var subscribed atomic.Int32
	stream := silentAPI(t, func(context.Context, *websocket.Conn, []byte) {
		subscribed.Add(1)
		<-quit // reads nothing more: the close frame goes unanswered
	})
	t.Cleanup(func() { close(quit) })
	gate := &closeGate{Clock: wsclient.SystemClock(), d: 1234 * time.Millisecond}
	opts := fastRedial
	opts.Clock, opts.CloseTimeout = gate, gate.d
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	s, err := session.Start(ctx, session.Config{Venue: schema.VenueOKX,
		Endpoints: session.Endpoints{Stream: stream}, Client: opts, MaxTopicsPerConn: 1,
		Symbols: []string{"BTC-USDT", "ETH-USDT", "SOL-USDT"}, Channels: []string{"trades"}})
	require.NoError(t, err)
	// Every connection's subscription read: a close frame read before it
	// would be answered.
	require.Eventually(t, func() bool { return subscribed.Load() == shards }, generous, pollEvery)

	closed := make(chan error, 1)
	go func() { closed <- s.Close(ctx) }()
	require.Eventually(t, func() bool { return gate.waiting() == shards }, generous, pollEvery,
		"every connection's close handshake waits at once")
	gate.open()
	require.NoError(t, <-closed)
	require.Zero(t, s.Outstanding())
}
