package session_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// TestS31rvsessPrepareBeforeRotatingEventStopsOrders: wsclient queues
// the Rotating event, then dials and calls Prepare on another goroutine;
// the event reaches the session later when the host's OnState is slow on
// an earlier event (here a report of a frame the handler refused), or
// never when the event queue is full. The rotation's prepare must stop
// the orders itself: an order picked during the drain would go out on
// the old connection, which the switch closes with its answer. Before
// s31rvsess only the Rotating step stopped them (private.step): with it
// late, the order was picked on the old connection while the switch
// waited for the drain.
func TestS31rvsessPrepareBeforeRotatingEventStopsOrders(t *testing.T) {
	c := privateCases(t)[0] // OKX: orders on the private connection
	f := newFakePrivate(t, c.venue, c.pushes)
	f.unsolicited = "{" // refused by the handler: a report event (wsclient.ReasonHandlerError)
	now := &atomicTime{}
	now.set(time.Now())
	f.setServerClock(now.get)
	clk := newManualClock()
	cfg := c.config(f, now.get)
	cfg.Client.Clock, cfg.Client.MaxAge = clk, rotateAge
	execs := make(chan *schema.ExecReport, 64)
	cfg.OnExecReport = func(r *schema.ExecReport) { execs <- r }
	gate, gated := make(chan struct{}), make(chan struct{})
	var gateOnce, openGate sync.Once
	cfg.OnState = func(conn session.Conn, e wsclient.Event) {
		if conn.Role == session.RoleOrders && e.Reason == wsclient.ReasonHandlerError {
			gateOnce.Do(func() { close(gated); <-gate }) // a slow host
		}
	}
	s := start(t, cfg)
	t.Cleanup(func() { drainExecs(s, execs) })
	t.Cleanup(func() { openGate.Do(func() { close(gate) }) })
	waitConnected(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	recvWithin(t, ctx, gated, "the handler's report held by the host")

	drained, letSwitch := make(chan uint64, 1), make(chan struct{})
	var letOnce sync.Once
	t.Cleanup(func() { letOnce.Do(func() { close(letSwitch) }) })
	var picked atomic.Uint64
	s.SetRaceHooks(func(_ *schema.OrderRequest, conn uint64) { picked.CompareAndSwap(0, conn) }, nil,
		func(conn uint64) { drained <- conn; <-letSwitch })
	now.set(now.get().Add(3 * time.Second))
	newConn := ageUntil(t, ctx, clk, drained, "the rotation's drain (the Rotating event still queued)") // MaxAge may be armed after WaitConnected

	req := limitOrder(s, t, "rv2", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req)
	done := placeAsync(ctx, s, req)
	require.Never(t, func() bool { return picked.Load() != 0 }, drainNever, pollEvery,
		"no order picked while the switch waits for the drain (it would go out on the old connection)")
	letOnce.Do(func() { close(letSwitch) })
	openGate.Do(func() { close(gate) })
	require.NoError(t, <-done)
	assert.Equal(t, newConn, picked.Load(), "the order goes on the new connection")
}
