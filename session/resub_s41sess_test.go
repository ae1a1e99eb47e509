package session_test

import (
	"context"
	"fmt"
	"slices"
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

// TestS41sessFailedRotationKeepsTheOldResubscription: on OKX and Bybit the
// venue refuses the old connection's orders channel (OKX 60018, Bybit
// "handler not found"): logged in, it awaits the backoff before the
// channel alone is sent again. A rotation begins meanwhile, and the venue
// refuses its new connection's orders channel too: the rotation fails,
// and the old connection, still logged in, sends its channel again after
// the backoff — no second login (OKX refuses one as a replay, 60009;
// Bybit's auth a second time on a connection). Every retried rotation
// fails likewise. Before s41sess the refusal's caller wrote the
// rotation's answer over what endPrep had put back (p.resub =
// p.refused(…), false on a rotation's new connection): the old
// connection's retry logged in again.
func TestS41sessFailedRotationKeepsTheOldResubscription(t *testing.T) {
	for _, c := range privateCases(t) {
		channel := map[schema.Venue]string{schema.VenueOKX: "orders", schema.VenueBybit: "order"}[c.venue]
		if channel == "" {
			continue // Kraken's and Coinbase's subscriptions are their login
		}
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, c.pushes)
			var (
				mu      sync.Mutex
				first   int // the old connection, at the fake
				sent    int // the old connection's orders channel, sent
				refused int // the rotations' orders channel, refused
			)
			f.mu.Lock()
			f.refuseSub = func(conn int, ch string) bool {
				if ch != channel {
					return false
				}
				mu.Lock()
				defer mu.Unlock()
				if first == 0 {
					first = conn
				}
				if conn == first {
					sent++
					return sent == 1 // refused once: taken when sent again
				}
				refused++
				return true
			}
			f.mu.Unlock()
			execs := make(chan *schema.ExecReport, 16)
			seen := &rotationSeen{}
			s, clk, now := startRotated(t, c, f, execs, seen)
			require.Eventually(t, func() bool { return s.Stats().Order.Refused == 1 }, generous, pollEvery,
				"the old connection's orders channel refused")
			old := s.Stats().Orders.Client.ConnID

			now.set(now.get().Add(3 * time.Second))
			clk.rotateUntil(t, func() bool { _, n := seen.counts(); return n >= 1 }, "the rotation fails")
			mu.Lock()
			require.Positive(t, refused, "the rotation's orders channel refused")
			mu.Unlock()

			logins := func() int { return f.loginsOn(first) }
			// The old connection's retry (and wsclient's, of the rotation)
			// fired until the old connection did something again.
			clk.fireUntil(t, 0, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return sent > 1 || logins() > 1
			}, "the old connection's retry")
			require.Equal(t, 1, logins(), "the old connection logged in once: %+v", f.loginsSeen())
			clk.fireUntil(t, 0, func() bool { return ordersReady(s) }, "the old connection ready again")
			require.Equal(t, 1, logins(), "the old connection logged in once: %+v", f.loginsSeen())
			require.Equal(t, old, s.Stats().Orders.Client.ConnID, "the old connection stays")
		})
	}
}

// ordersReady reports whether orders may go now: every private connection
// logged in and subscribed (a refusal awaiting its retry is not ready).
func ordersReady(s *session.Session) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*pollEvery)
	defer cancel()
	return s.WaitOrdersReady(ctx) == nil
}

// loginsOn is how many logins (Kraken: first uses of a token) the venue
// saw on connection conn.
func (f *fakePrivate) loginsOn(conn int) (n int) {
	for _, l := range f.loginsSeen() {
		if l.conn == conn {
			n++
		}
	}
	return n
}

// TestS41sessFailedRotationFollowsTheOldsEndedChannel: during an OKX
// rotation the venue ends the old connection's orders channel
// (channel-conn-count-error: "in exceptional circumstances the platform
// may unsubscribe existing connections", OKX v5 "WebSocket → Connection
// count limit"), then refuses the new connection's login (60009): the
// rotation fails, and the old connection, which delivers no execution
// report any more, is not ready: its orders channel is sent again after
// the backoff, and it is ready once the venue took it. Before s41sess
// the notice, read while the worker held the rotation's new connection,
// was none of its connection's and dropped: the old connection stayed
// ready as if subscribed, its orders channel lost for its life.
func TestS41sessFailedRotationFollowsTheOldsEndedChannel(t *testing.T) {
	c := privateCases(t)[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, c.pushes)
	var (
		mu      sync.Mutex
		oldWS   *websocket.Conn // the old connection, at the fake
		first   int
		orders  int                   // the old connection's orders channel, sent
		login   = make(chan struct{}) // the new connection's login reached the venue
		release = make(chan struct{}) // its refusal may go
		once    sync.Once
	)
	f.onSubscribe = func(ws *websocket.Conn, _ []string) {
		mu.Lock()
		defer mu.Unlock()
		if oldWS == nil {
			oldWS = ws
		}
	}
	guard, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	f.alter = func(conn int, msg []byte, replies []string) []string {
		m := string(msg)
		mu.Lock()
		if first == 0 && strings.Contains(m, `"op":"login"`) {
			first = conn
		}
		old := conn == first
		if old && strings.Contains(m, `"subscribe"`) && strings.Contains(m, `"channel":"orders"`) {
			orders++
		}
		mu.Unlock()
		if old || !strings.Contains(m, `"op":"login"`) {
			return replies
		}
		once.Do(func() { close(login) })
		select { // held until the old connection's notice was read
		case <-release:
		case <-guard.Done():
		}
		return []string{`{"event":"error","code":"60009","msg":"Login failed.","connId":"a4d3ae55"}`}
	}
	execs := make(chan *schema.ExecReport, 16)
	seen := &rotationSeen{}
	s, clk, now := rotatedSession(t, c, f, execs, seen)
	old := s.Stats().Orders.Client.ConnID

	now.set(now.get().Add(3 * time.Second))
	clk.rotateUntil(t, func() bool {
		select {
		case <-login:
			return true
		default:
			return false
		}
	}, "the rotation's login reaches the venue")
	// The notice, then a fill after it on the old connection: the fill
	// delivered, the notice was read (one reader, in order).
	mu.Lock()
	ws := oldWS
	mu.Unlock()
	fill := freshFill(f.pushes["orders"][0], 99)
	require.NoError(t, ws.Write(guard, websocket.MessageText, []byte(s37ConnCountError)))
	require.NoError(t, ws.Write(guard, websocket.MessageText, fill))
	for {
		r := recvExec(t, execs)
		id := r.TradeID.String()
		s.Pools().Execs.Put(r)
		if strings.HasSuffix(id, "-99") {
			break
		}
	}
	close(release)
	require.Eventually(t, func() bool { _, n := seen.counts(); return n >= 1 }, generous, pollEvery, "the rotation fails")
	sw, _ := seen.counts()
	require.Zero(t, sw, "the rotation failed: its login refused")

	clk.fireUntil(t, 0, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return orders > 1
	}, "the old connection's orders channel sent again")
	clk.fireUntil(t, 0, func() bool { return ordersReady(s) }, "the old connection ready again")
	require.Equal(t, old, s.Stats().Orders.Client.ConnID, "the old connection stays")
	require.Equal(t, 1, f.loginsOn(first), "the old connection logged in once: %+v", f.loginsSeen())
}

// TestS41sessRefusedConnectionKeepsPinging: the venue ends an OKX
// connection's orders channel (channel-conn-count-error) and the
// session, logged in, waits out the backoff before sending it again (up
// to BackoffCap, 30 s by default, then a subscription round). OKX closes
// a connection that stays quiet for 30 s (v5 "WebSocket → Overview"):
// the session's ping goes on every PingInterval meanwhile, on the same
// connection. Before s41sess the ping stopped once the connection was
// not ready, until its channel was taken again. The backoff here is an
// hour: the retry never comes during the test.
func TestS41sessRefusedConnectionKeepsPinging(t *testing.T) {
	c := privateCases(t)[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, nil)
	var (
		mu sync.Mutex
		ws *websocket.Conn
	)
	f.onSubscribe = func(c *websocket.Conn, _ []string) {
		mu.Lock()
		defer mu.Unlock()
		ws = c
	}
	cfg := c.config(f, time.Now)
	cfg.Client.PingInterval = 5 * time.Millisecond
	cfg.Client.BackoffBase, cfg.Client.BackoffCap = time.Hour, time.Hour
	s := start(t, cfg)
	waitConnected(t, s)
	conn := s.Stats().Orders.Client.ConnID
	mu.Lock()
	old := ws
	mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	require.NoError(t, old.Write(ctx, websocket.MessageText, []byte(s37ConnCountError)))
	require.Eventually(t, func() bool { return s.Stats().Order.Refused == 1 }, generous, pollEvery, "the orders channel ended")
	pings := func() int {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.pings
	}
	n := pings()
	require.Eventually(t, func() bool { return pings() >= n+3 }, generous, pollEvery, "pings while the channel awaits its retry")
	require.False(t, ordersReady(s), "not ready: the orders channel awaits its retry")
	require.Equal(t, conn, s.Stats().Orders.Client.ConnID, "on the same connection")
	require.Equal(t, 1, f.loginsOn(f.loginsSeen()[0].conn), "logged in once")
}

// TestS41sessCommittedRotationRefusedTwiceBeforeItsSwitch: an OKX
// rotation's Prepare returned nil (wsclient switched), but the switch's
// Connected waits behind the host's OnState, held here. Meanwhile the
// venue ends the new connection's orders channel
// (channel-conn-count-error) three times, each after the channel was
// taken again (the retry fired by hand): the worker takes each, and
// once the host returns the switch makes the connection the orders', ready
// once its channel is taken. Before s41sess each channel taken again told
// the rotation's Prepare it was done (a send on its done channel, of
// capacity 1, which Prepare no longer read): the second such send blocked
// the worker for good — never ready again, Close hung.
func TestS41sessCommittedRotationRefusedTwiceBeforeItsSwitch(t *testing.T) {
	c := privateCases(t)[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f := newFakePrivate(t, c.venue, c.pushes)
	execs := make(chan *schema.ExecReport, 16)
	seen := &rotationSeen{}
	var (
		mu     sync.Mutex
		nb     *websocket.Conn // the rotation's new connection, at the fake
		held   bool
		orders int // orders subscriptions the fake saw
		s      *session.Session
		clk    *manualClock
		gaveUp string // what the hold waited for in vain
	)
	f.onSubscribe = func(c *websocket.Conn, channels []string) {
		mu.Lock()
		defer mu.Unlock()
		if slices.Contains(channels, "orders") {
			orders++
			if orders == 2 {
				nb = c
			}
		}
	}
	subs := func() int {
		mu.Lock()
		defer mu.Unlock()
		return orders
	}
	seen.hold = func(e wsclient.Event) {
		mu.Lock()
		if e.State != schema.ConnRotating || held {
			mu.Unlock()
			return
		}
		held = true
		mu.Unlock()
		fail := func(what string) {
			mu.Lock()
			gaveUp = what
			mu.Unlock()
		}
		// Prepare returned nil: wsclient switched (the switch's Connected
		// waits behind this call).
		if !holdUntil(func() bool { return s.Stats().Orders.Client.Rotations >= 1 }) {
			fail("the switch")
			return
		}
		mu.Lock()
		conn := nb
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), generous)
		defer cancel()
		refused := s.Stats().Order.Refused
		for i := 1; i <= 3; i++ {
			// The notice, sent again until the worker took it: one read
			// before the channel's answer is ignored (not taken yet).
			if !holdUntil(func() bool {
				if s.Stats().Order.Refused >= refused+uint64(i) {
					return true
				}
				return f.send(ctx, conn, []byte(s37ConnCountError), false) != nil
			}) || s.Stats().Order.Refused < refused+uint64(i) {
				fail(fmt.Sprintf("the worker taking notice %d", i))
				return
			}
			if i == 3 {
				return
			}
			n := subs()
			if !holdUntil(func() bool { clk.fire(); return subs() > n }) {
				fail(fmt.Sprintf("the orders channel sent again, %d", i))
				return
			}
		}
	}
	var now *atomicTime
	s, clk, now = rotatedSession(t, c, f, execs, seen)

	now.set(now.get().Add(3 * time.Second))
	clk.rotateUntil(t, func() bool { sw, n := seen.counts(); return n+sw >= 1 }, "the rotation ends")
	sw, _ := seen.counts()
	require.Equal(t, 1, sw, "Prepare returned nil: the switch came")
	mu.Lock()
	require.Empty(t, gaveUp, "the hold waited in vain")
	mu.Unlock()
	clk.fireUntil(t, 0, func() bool { return ordersReady(s) }, "ready once the venue took the channel again")
	require.Equal(t, uint64(1), s.Stats().Orders.Client.Rotations)
	require.Len(t, f.loginsSeen(), 2, "one login on each connection: none again at the switch")
}
