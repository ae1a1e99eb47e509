package session_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// raceGates hold an order between the pick of its connection and the
// wait for its answer, and a rotation's switch after its drain: the
// interleaving of s31sess fault 1, set by the test.
type raceGates struct {
	clientID  string
	held      chan uint64 // the connection the order picked
	release   chan struct{}
	regd      chan bool // the order's wait registered on the picked connection
	drained   chan uint64
	letSwitch chan struct{}
	once      sync.Once
	openOnce  sync.Once
}

func newRaceGates(s *session.Session, clientID string) *raceGates {
	g := &raceGates{clientID: clientID, held: make(chan uint64, 1), release: make(chan struct{}),
		regd: make(chan bool, 4), drained: make(chan uint64, 4), letSwitch: make(chan struct{})}
	s.SetRaceHooks(
		func(req *schema.OrderRequest, conn uint64) {
			if req.ClientOrderID.String() != g.clientID {
				return
			}
			g.once.Do(func() {
				g.held <- conn
				<-g.release
			})
		},
		func(req *schema.OrderRequest, _ uint64, ok bool) {
			if req.ClientOrderID.String() == g.clientID {
				g.regd <- ok
			}
		},
		func(conn uint64) {
			g.drained <- conn
			<-g.letSwitch
		})
	return g
}

// open lets everything held go.
func (g *raceGates) open() {
	g.openOnce.Do(func() {
		close(g.release)
		close(g.letSwitch)
	})
}

func recvWithin[T any](t *testing.T, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatal(what + " never came")
	}
	var zero T
	return zero
}

// TestS31OrderPickedBeforeRotationKeepsItsAnswer: on every venue whose
// orders go on an authenticated WebSocket (OKX, Bybit's trade
// connection, Kraken), an order takes the connection it goes on just
// before a rotation (here at Client.MaxAge) begins, and is held there
// (a hook) until the rotation's drain has found no request owed on the
// old connection. Then it goes on: it must not register its wait on the
// old connection and write there, where the switch (held here until the
// venue got it) closes the connection under its answer (Place →
// ErrDisconnected although the venue took the order); it waits for the
// switch and goes on the new connection. Before s31sess it registered
// after the drain's check (sendOnce: next, then await), was written on
// the old connection and lost its answer.
func TestS31OrderPickedBeforeRotationKeepsItsAnswer(t *testing.T) {
	for _, c := range placeCases() {
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, nil)
			steppingServerClock(f)
			clk := newManualClock()
			s := startOrders(t, c, f, func(cfg *session.Config) { cfg.Client.Clock, cfg.Client.MaxAge = clk, rotateAge })
			waitConnected(t, s)
			waitOrdersReady(t, s)
			g := newRaceGates(s, "r1")
			t.Cleanup(g.open)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			_, err := place(t, s, ctx, "r0") // on the connection the rotation replaces
			require.NoError(t, err)
			old := f.ordersSeen()[0].conn
			f.setScript(func(o orderSeen) ([]string, bool) {
				if o.conn == old {
					return nil, false // the switch closes it before the answer
				}
				return []string{acceptOrder(f.venue, o)}, false
			})

			req := venueLimit(t, s, "r1")
			defer s.Pools().Orders.Put(req)
			done := placeAsync(ctx, s, req)
			recvWithin(t, ctx, g.held, "the order's pick")
			ageUntil(t, ctx, clk, g.drained, "the rotation's drain") // MaxAge may be armed after WaitConnected
			close(g.release)
			if recvWithin(t, ctx, g.regd, "the order's registration") {
				// Registered on the old connection after the drain: it is
				// written there before the switch.
				require.Eventually(t, func() bool { return len(f.ordersSeen()) == 2 }, generous, pollEvery)
			}
			g.openOnce.Do(func() { close(g.letSwitch) })
			require.NoError(t, <-done, "the order goes on the new connection and gets its answer")
			seen := f.ordersSeen()
			require.Len(t, seen, 2)
			assert.NotEqual(t, old, seen[1].conn, "on the new connection")
			assert.Zero(t, s.Stats().Order.Disconnected)
		})
	}
}

// TestS31WSAPIOrderPickedBeforeRotationKeepsItsAnswer is
// TestS31OrderPickedBeforeRotationKeepsItsAnswer on Binance's WS API:
// the order picked the connection before the venue announced its
// shutdown (the rotation), and goes on after the drain found nothing
// owed on the old connection. Before s31sess it was written there and
// lost its answer at the switch (ErrDisconnected).
func TestS31WSAPIOrderPickedBeforeRotationKeepsItsAnswer(t *testing.T) {
	v := startVenue(t)
	var orders sync.Map // conn → order requests seen
	url, push := wsAPIPush(t, func(conn int, id uint64, msg []byte) string {
		if strings.Contains(string(msg), "userDataStream.subscribe") {
			return fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, id)
		}
		n, _ := orders.LoadOrStore(conn, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		if conn == 1 {
			return "" // the switch closes it before the answer
		}
		return ackBody(id, "r1", 2)
	})
	ep := endpoints(v)
	ep.API = url
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, NoClockSync: true})
	waitConnected(t, s)
	g := newRaceGates(s, "r1")
	t.Cleanup(g.open)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	seenOn := func(conn int) int32 {
		n, ok := orders.Load(conn)
		if !ok {
			return 0
		}
		return n.(*atomic.Int32).Load()
	}

	req := limitOrder(s, t, "r1", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req)
	done := placeAsync(ctx, s, req)
	recvWithin(t, ctx, g.held, "the order's pick")
	require.NoError(t, push(1, binanceServerShutdown))
	recvWithin(t, ctx, g.drained, "the rotation's drain")
	close(g.release)
	if recvWithin(t, ctx, g.regd, "the order's registration") {
		require.Eventually(t, func() bool { return seenOn(1) == 1 }, generous, pollEvery)
	}
	g.openOnce.Do(func() { close(g.letSwitch) })
	require.NoError(t, <-done, "the order goes on the new connection and gets its answer")
	assert.Zero(t, seenOn(1))
	assert.Equal(t, int32(1), seenOn(2))
	assert.Zero(t, s.Stats().Order.Disconnected)
}
