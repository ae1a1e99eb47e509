package meltica_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// s38ctCall is one Place a host's callback made, and its outcome.
type s38ctCall struct {
	ack session.Ack
	err error
}

// TestS38ctPlaceFromOnExecReport has the host's OnExecReport place a
// second order when the first one's NEW report comes (a bot that hedges
// or ladders on its own reports), inside the call: the Place returns the
// venue's Ack, and the second order's own report reaches OnExecReport
// too.
//
// Config.OnExecReport: reports come "on a goroutine of its own (a
// dispatcher subscription's critical lane: none is dropped)"; no rule
// forbids calling the session from it (Close alone "must not be called
// from a subscriber's handler or OnState"). Binance WS-API order.place,
// user data "executionReport" x NEW.
func TestS38ctPlaceFromOnExecReport(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, APIKey: "k", APISecret: "s", PingInterval: -1})
	t.Cleanup(v.Close)
	var (
		mu     sync.Mutex
		s      *session.Session
		seen   []string
		placed = make(chan s38ctCall, 1)
	)
	hook := func(r *schema.ExecReport) {
		mu.Lock()
		sess := s
		seen = append(seen, r.ClientOrderID.String()+"/"+r.Status.String())
		mu.Unlock()
		if r.ClientOrderID.String() == "s38ct-first" && r.Status == schema.StatusNew {
			req := s27ctOrder(t, sess, "s38ct-second")
			ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
			ack, err := sess.Place(ctx, req)
			cancel()
			sess.Pools().Orders.Put(req)
			placed <- s38ctCall{ack, err}
		}
		sess.Pools().Execs.Put(r)
	}
	mu.Lock()
	var err error
	s, err = session.Start(context.Background(), session.Config{
		Endpoints:    session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
		Symbols:      []string{"BTC-USDT"},
		Channels:     []string{"trade"},
		Credentials:  normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s"))),
		OnExecReport: hook,
	})
	mu.Unlock()
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
		defer cancel()
		require.NoError(t, s.Close(ctx))
		require.Zero(t, s.Outstanding())
	})
	ctx := s31ctConnected(t, s)
	req := s27ctOrder(t, s, "s38ct-first")
	_, err = s.Place(ctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	select {
	case c := <-placed:
		require.NoError(t, c.err, "a Place from inside OnExecReport")
		assert.Equal(t, "s38ct-second", c.ack.ClientOrderID.String())
	case <-time.After(s27ctWait):
		t.Fatal("a Place from inside OnExecReport never returned")
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, x := range seen {
			if x == "s38ct-second/"+schema.StatusNew.String() {
				return true
			}
		}
		return false
	}, s27ctWait, time.Millisecond, "the second order's NEW report: %v", func() []string { mu.Lock(); defer mu.Unlock(); return seen }())
}

// TestS38ctPlaceFromOnState has the host's OnState place an order, inside
// the call, on the events of every connection: when a market connection
// connects, and when the order connection does. Each Place returns the
// venue's Ack (the one made on the order connection's Connected waits for
// its user-data subscription, which must not need the goroutine it holds).
//
// Config.OnState: "sees every connection event of every connection after
// the session has acted on it, on that connection's event goroutine ...
// It must not call runtime.Goexit"; Session.Close "must not be called
// from a subscriber's handler or OnState" — Place is not forbidden.
// Session.Place "waits until the order connection is connected and the
// user-data stream subscribed".
func TestS38ctPlaceFromOnState(t *testing.T) {
	for name, role := range map[string]session.Role{"market": session.RoleMarket, "orders": session.RoleOrders} {
		t.Run(name, func(t *testing.T) {
			v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, APIKey: "k", APISecret: "s", PingInterval: -1})
			t.Cleanup(v.Close)
			var (
				mu     sync.Mutex
				s      *session.Session
				once   sync.Once
				placed = make(chan s38ctCall, 1)
			)
			onState := func(c session.Conn, e wsclient.Event) {
				if c.Role != role || e.State != schema.ConnConnected {
					return
				}
				once.Do(func() {
					mu.Lock()
					sess := s
					mu.Unlock()
					req := s27ctOrder(t, sess, "s38ct-onstate")
					ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
					ack, err := sess.Place(ctx, req)
					cancel()
					sess.Pools().Orders.Put(req)
					placed <- s38ctCall{ack, err}
				})
			}
			mu.Lock()
			var err error
			s, err = session.Start(context.Background(), session.Config{
				Endpoints:   session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
				Symbols:     []string{"BTC-USDT"},
				Channels:    []string{"trade"},
				Credentials: normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s"))),
				OnState:     onState,
			})
			mu.Unlock()
			require.NoError(t, err)
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), s27ctWait)
				defer cancel()
				require.NoError(t, s.Close(ctx))
			})
			select {
			case c := <-placed:
				require.NoError(t, c.err, "a Place from inside OnState (%s Connected)", name)
				assert.Equal(t, "s38ct-onstate", c.ack.ClientOrderID.String())
			case <-time.After(2 * s27ctWait):
				t.Fatal("a Place from inside OnState never returned")
			}
		})
	}
}
