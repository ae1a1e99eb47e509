package session_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// drainNever is how long a test looks for a switch that must not come
// (a negative: nothing to wait on). Before s30rvsess the switch came as
// soon as the new connection's handshake was answered, well within it;
// a loaded machine may hide the fault, never fail the fixed code.
const drainNever = 300 * time.Millisecond

// TestS30rvsessAnswerDueOnOldConnection: on every venue whose orders go
// on an authenticated WebSocket (OKX, Bybit's trade connection, Kraken),
// an order is in flight on the connection when a rotation (here at
// Client.MaxAge) begins; the new connection is logged in and subscribed
// while the venue still holds the order's answer. The switch waits for
// that answer on the old connection (session doc, "Connection
// lifetimes"): the Place gets the venue's ack, not ErrDisconnected, and
// the switch follows; the next order goes on the new connection. Before
// s30rvsess the switch closed the old connection at once and the answer
// was lost with it.
func TestS30rvsessAnswerDueOnOldConnection(t *testing.T) {
	for _, c := range placeCases() {
		t.Run(string(c.venue), func(t *testing.T) { drainCase(t, c, drainAnswered) })
	}
	// Close while the switch waits for the old connection's answer: Close
	// returns (the wait ends with it, not at drainBound), the Place ends
	// with ErrClosed, nothing is left running (goleak, TestMain).
	t.Run("close", func(t *testing.T) { drainCase(t, placeCases()[0], drainClosed) })
}

// How drainCase's held answer ends.
const (
	drainAnswered    = iota // the venue answers while the switch waits for it
	drainClosed             // Close while the switch waits
	drainAfter              // the switch stops waiting (drainBound); the venue answers after it, on the old connection
	drainAfterNotice        // as drainAfter, the old connection told first (OKX notice 64008) that it will close
	drainLost               // the switch stops waiting (drainBound); the old connection is lost in its grace (the venue drops it), no answer
)

func drainCase(t *testing.T, c orderCase, mode int) {
	{
		{
			f := newFakePrivate(t, c.venue, nil)
			steppingServerClock(f)
			clk := newManualClock()
			held := make(chan orderSeen, 1)
			hold := make(chan struct{})
			var once sync.Once
			release := func() { once.Do(func() { close(hold) }) }
			f.setScript(func(o orderSeen) ([]string, bool) {
				if clientID(o) == "d1" {
					held <- o
					<-hold // the venue answers later, on the same connection
					switch mode {
					case drainAfterNotice:
						return []string{okxUpgradeNotice, acceptOrder(f.venue, o)}, false
					case drainLost:
						return nil, true // the venue drops the connection
					}
				}
				return []string{acceptOrder(f.venue, o)}, false
			})
			var mu sync.Mutex
			orderConn := 0
			ready := make(chan struct{})
			var readyOnce sync.Once
			// the new order connection's handshake: OKX and Kraken
			// subscribe on it, Bybit's trade connection authenticates
			seen := func(conn int, msg []byte, replies []string) []string {
				mu.Lock()
				oc := orderConn
				mu.Unlock()
				m := string(msg)
				if oc != 0 && conn != oc && (strings.Contains(m, `subscribe`) || strings.Contains(m, `"auth"`)) {
					readyOnce.Do(func() { close(ready) })
				}
				return replies
			}
			f.mu.Lock()
			if c.venue == schema.VenueBybit {
				f.alterTrade = seen
			} else {
				f.alter = seen
			}
			f.mu.Unlock()
			s := startOrders(t, c, f, func(cfg *session.Config) {
				cfg.Client.Clock, cfg.Client.MaxAge = clk, rotateAge
			})
			t.Cleanup(release)
			waitConnected(t, s)
			rotations := func() uint64 {
				st := s.Stats()
				if c.venue == schema.VenueBybit {
					return st.Trade.Client.Rotations
				}
				return st.Orders.Client.Rotations
			}
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()

			req1 := venueLimit(t, s, "d1")
			done := placeAsync(ctx, s, req1)
			o1 := <-held
			mu.Lock()
			orderConn = o1.conn
			mu.Unlock()
			// MaxAge is armed once the connection serves, which may come
			// after WaitConnected returned: fired again until the rotation
			// began (the next MaxAge is armed at the switch, held here).
			require.Eventually(t, func() bool {
				select {
				case <-ready:
					return true
				default:
					clk.fireAge()
					return false
				}
			}, generous, pollEvery, "the new connection's handshake never came")
			require.Never(t, func() bool { return rotations() > 0 }, drainNever, pollEvery,
				"no switch while the old connection owes an answer")
			if mode == drainClosed {
				closed := make(chan error, 1)
				go func() { closed <- s.Close(ctx) }()
				require.ErrorIs(t, <-done, session.ErrClosed)
				s.Pools().Orders.Put(req1) // (Close waits for it)
				require.NoError(t, <-closed)
				assert.Zero(t, rotations())
				return
			}
			if mode == drainAfter || mode == drainAfterNotice || mode == drainLost {
				clk.fireUntil(t, session.DrainBound, func() bool { return rotations() == 1 }, "the switch at drainBound, unanswered")
			}
			release()
			err := <-done
			s.Pools().Orders.Put(req1)
			if mode == drainLost {
				require.ErrorIs(t, err, session.ErrDisconnected, "ended with the replaced connection, not at the grace's end")
			} else {
				require.NoError(t, err, "the answer due on the old connection reaches its caller")
			}
			require.Eventually(t, func() bool { return rotations() == 1 }, generous, pollEvery, "the switch, once answered")

			_, err = place(t, s, ctx, "d2")
			require.NoError(t, err)
			orders := f.ordersSeen()
			require.Len(t, orders, 2)
			assert.NotEqual(t, orders[0].conn, orders[1].conn, "the next order goes on the new connection")
		}
	}
}

// clientID is the client order id of an order request the fake saw.
func clientID(o orderSeen) string {
	for _, k := range []string{"clOrdId", "orderLinkId", "cl_ord_id"} {
		if s, ok := o.arg[k].(string); ok {
			return s
		}
	}
	return ""
}

// TestS30rvsessMarketRotationStaysConnected: a market connection's
// rotation keeps the old connection delivering until the switch
// (wsclient, make-before-break), so the session stays connected
// meanwhile: WaitConnected returns while the market connection is
// Rotating. Before s30rvsess a rotation counted the market connection
// down, and a new connection whose stream stayed silent (its switch
// waits for its first message) blocked WaitConnected for as long.
func TestS30rvsessMarketRotationStaysConnected(t *testing.T) {
	c := privateCases(t)[0]
	f := newFakePrivate(t, c.venue, c.pushes)
	execs := make(chan *schema.ExecReport, 16)
	seen := &rotationSeen{}
	s, clk, now := rotatedSession(t, c, f, execs, seen)
	require.Equal(t, schema.VenueOKX, c.venue, "both connections arm MaxAge (as Coinbase's private one does not)")
	now.set(now.get().Add(3 * time.Second)) // a newer login time
	// wsclient arms a connection's MaxAge after its Connected event:
	// the market connection's may come after WaitConnected, and
	// rotateUntil's first firing miss it (fired again only until the
	// orders connection's rotation begins). It then never rotated: this
	// test failed so on a loaded machine (CI of session 43).
	require.Eventually(t, func() bool { return clk.ageTimers() == 2 }, generous, pollEvery,
		"the private connection's MaxAge and the market one's armed")
	// MaxAge rotates the private connection (its switch comes) and the
	// market one, whose fake sends nothing: it stays Rotating
	clk.rotateUntil(t, func() bool {
		n, _ := seen.counts()
		return n == 1 && s.Stats().Market[0].Client.State == schema.ConnRotating
	}, "the private rotation switched, the market one under way")
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, s.WaitConnected(ctx), "connected while the market connection rotates")
	assert.Equal(t, schema.ConnRotating, s.Stats().Market[0].Client.State)
}

// TestS30rvsessRotationSubscribeRefusedKeepsOld: a rotation's new
// connection is logged in, then its private subscription refused
// (halfway). The rotation fails whole: the old connection stays, logged
// in and subscribed, orders ready on it at once with no login again on
// it; the host sees the *wsclient.PrepareError wrapping the
// subscription's *LoginError.
func TestS30rvsessRotationSubscribeRefusedKeepsOld(t *testing.T) {
	for _, c := range privateCases(t) {
		if c.venue != schema.VenueOKX && c.venue != schema.VenueKraken {
			continue // refuseSub: the fake refuses OKX's and Kraken's
		}
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, c.pushes)
			execs := make(chan *schema.ExecReport, 16)
			seen := &rotationSeen{}
			s, clk, now := rotatedSession(t, c, f, execs, seen)
			old := s.Stats().Orders.Client.ConnID
			first := f.loginsSeen()[0].conn
			f.mu.Lock()
			f.refuseSub = func(conn int, _ string) bool { return conn != first }
			f.mu.Unlock()
			now.set(now.get().Add(3 * time.Second))
			clk.rotateUntil(t, func() bool { _, n := seen.counts(); return n >= 1 }, "the rotation fails")
			var pe *wsclient.PrepareError
			require.ErrorAs(t, seen.failure(), &pe)
			var le *session.LoginError
			require.ErrorAs(t, pe, &le)
			assert.Contains(t, le.Step, "subscribe")

			waitOrdersReady(t, s)
			assert.Equal(t, old, s.Stats().Orders.Client.ConnID, "the old connection stays")
			l := f.loginsSeen()
			require.GreaterOrEqual(t, len(l), 2)
			assert.True(t, l[1].accepted, "the new connection's login went through")
			for _, x := range l[1:] {
				assert.NotEqual(t, first, x.conn, "no login again on the old connection")
			}
			assert.Zero(t, s.Stats().Orders.Client.Rotations)
		})
	}
}

// steppingServerClock gives f's venue a clock a second further at every
// look: the fake refuses a replayed login, and a rotation logs in again.
func steppingServerClock(f *fakePrivate) {
	var mu sync.Mutex
	step := time.Duration(0)
	f.setServerClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		step += time.Second
		return time.Now().Add(step)
	})
}
