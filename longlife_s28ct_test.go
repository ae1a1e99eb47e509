package meltica_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// s28ctSkip keeps a test that found a fault skipped on main, unless
// S28CT_NOSKIP is set.
func s28ctSkip(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("S28CT_NOSKIP") == "" {
		t.Skip("s28ct: FAULT " + what)
	}
}

// s28ctConnected hands the ConnIDs of a connection role's Connected
// events to the test, never blocking the session's event goroutine.
type s28ctConnected struct {
	role session.Role
	mu   sync.Mutex
	last uint64
	ch   chan struct{}
}

func (c *s28ctConnected) on(conn session.Conn, ev wsclient.Event) {
	if conn.Role != c.role || ev.State != schema.ConnConnected {
		return
	}
	c.mu.Lock()
	c.last = max(c.last, ev.ConnID)
	c.mu.Unlock()
	select {
	case c.ch <- struct{}{}:
	default:
	}
}

func (c *s28ctConnected) await(t *testing.T, id uint64) {
	t.Helper()
	deadline := time.After(s27ctWait)
	for {
		c.mu.Lock()
		got := c.last
		c.mu.Unlock()
		if got >= id {
			return
		}
		select {
		case <-c.ch:
		case <-deadline:
			t.Fatalf("connection %d never connected (last %d)", id, got)
		}
	}
}

// s28ctGoroutines waits, polling on the test's own goroutine (testify's
// Eventually runs its condition on goroutines of its own, which would be
// counted), until at most n goroutines run, and dumps them otherwise.
func s28ctGoroutines(t *testing.T, n int, what string) {
	t.Helper()
	deadline := time.Now().Add(s27ctWait)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%s: %d goroutines, not back to %d:\n%s", what, runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		<-tick.C
	}
}

// s28ctHeap is the live heap after a full collection.
func s28ctHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

type s28ctPoolMark struct{ created, inUse int64 }

func s28ctPools(st []pool.Stats) map[string]s28ctPoolMark {
	out := map[string]s28ctPoolMark{}
	for _, p := range st {
		out[p.Name] = s28ctPoolMark{int64(p.Created), p.InUse}
	}
	return out
}

// Long life (contract 5 and the module's "bounded memory"): a session's
// market connection dropped 1,000 times by the venue — a TCP reset and a
// close frame in turn —, the redials' backoff on an injected clock (Rand
// 0: no wait) and every reconnect's book rebuilt from a fresh REST
// snapshot. From the 100th reconnect to the 1,000th nothing grows per
// reconnect: goroutines return to their count, the live heap stays within
// 2 MiB (2 KiB a reconnect would be past it), no pool makes new objects or
// holds more out, the connection and parser counters move by exactly what
// happened (1 reconnect each, no parse error, no pool wait, no dropped
// state event), and the subscriber still gets data at the end.
func TestS28ctThousandReconnectsStayFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 reconnects")
	}
	const warm, total = 100, 1000
	ctx := context.Background()
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 400, PingInterval: -1, IncomingLimit: -1})
	defer v.Close()
	clk := newS27ctClock()
	conns := &s28ctConnected{ch: make(chan struct{}, 1)}
	var trades, gaps sync.Map
	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT"},
		Channels:  []string{"trade", "depth@100ms"},
		Client: wsclient.Options{Clock: clk, Rand: func(int64) int64 { return 0 },
			PingInterval: -1, IdleTimeout: -1, ControlRate: -1, CloseTimeout: -1},
		OnState: conns.on,
		Subscribe: func(d *dispatch.Dispatcher) error {
			_, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
				switch ev.Type {
				case schema.EventTrade:
					trades.Store("n", ev.SeqProvider)
				case schema.EventGap:
					gaps.Store("n", true)
				}
			}})
			return err
		},
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close(ctx)) }()
	conns.await(t, 1)

	var goroutines int
	var heap uint64
	var pools map[string]s28ctPoolMark
	var cs session.ConnStats
	for i := 1; i <= total; i++ {
		f := venuesim.FaultReset
		if i%2 == 0 {
			f = venuesim.FaultClose
		}
		// The venue reaches the connection once it has registered it.
		require.Eventually(t, func() bool { return v.Inject(f) > 0 }, s27ctWait, 100*time.Microsecond, "reconnect %d: the venue holds the connection", i)
		conns.await(t, uint64(i+1))
		if i == warm || i == total {
			// Settle: the book live again on the new connection, the
			// retired connection's goroutines gone.
			require.Eventually(t, func() bool {
				st := s.Stats()
				return len(st.Books) == 1 && st.Books[0].Live
			}, s27ctWait, time.Millisecond, "reconnect %d: the book live again", i)
		}
		if i == warm {
			goroutines = runtime.NumGoroutine()
			heap = s28ctHeap()
			st := s.Stats()
			pools = s28ctPools(st.Pools)
			cs = st.Market[0]
		}
	}
	s28ctGoroutines(t, goroutines, fmt.Sprintf("after %d more reconnects", total-warm))
	grown := int64(s28ctHeap()) - int64(heap)
	t.Logf("heap after %d reconnects: %+d bytes since reconnect %d (%.1f B a reconnect)", total, grown, warm, float64(grown)/(total-warm))
	assert.Less(t, grown, int64(2<<20), "the live heap stays flat")
	st := s.Stats()
	require.Len(t, st.Market, 1)
	for name, now := range s28ctPools(st.Pools) {
		was := pools[name]
		assert.LessOrEqual(t, now.created, was.created+2, "pool %s makes no new objects per reconnect", name)
		assert.LessOrEqual(t, now.inUse, was.inUse+2, "pool %s holds no more out", name)
	}
	c, was := st.Market[0].Client, cs.Client
	assert.Equal(t, uint64(total-warm), c.TotalReconnects()-was.TotalReconnects(), "one reconnect per drop, no failed dial")
	assert.Equal(t, uint64(total+1), c.ConnID, "one connection per reconnect")
	assert.Zero(t, c.PoolWaits, "no reader waited for a frame")
	assert.Zero(t, c.EventsDropped, "no state event lost")
	assert.Zero(t, c.Oversized+c.InvalidFrames+c.HandlerErrors, "nothing wrong read")
	p := st.Market[0].Parser
	assert.Zero(t, p.Errors, "no parse error")
	assert.Zero(t, p.Dropped+p.SinkErrors+p.Panics, "nothing dropped by the parser")
	assert.Zero(t, p.Unknown, "nothing unknown")

	// Data still flows after the last reconnect.
	n0, _ := trades.Load("n")
	require.Eventually(t, func() bool { n, _ := trades.Load("n"); return n != n0 }, s27ctWait, time.Millisecond, "trades after the last reconnect")
	_, gapped := gaps.Load("n")
	assert.True(t, gapped, "each loss told to the subscriber")
}

// Long life of the order connection: the venue closes the WS-API 1,000
// times (as before maintenance) while an order of the session rests.
// Every reconnect measures the clock offset again, signs a new user-data
// subscription and reconciles the resting order; from the 100th to the
// 1,000th none of it grows: goroutines, live heap (2 MiB), pools, and the
// order bookkeeping (one order followed, no overflow, no duplicate). The
// order placed after the last reconnect is answered.
func TestS28ctThousandOrderReconnectsStayFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 reconnects")
	}
	const warm, total = 100, 1000
	ctx := context.Background()
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 50, PingInterval: -1, IncomingLimit: -1, APIKey: "k", APISecret: "s"})
	defer v.Close()
	clk := newS27ctClock()
	conns := &s28ctConnected{role: session.RoleOrders, ch: make(chan struct{}, 1)}
	s, err := session.Start(ctx, session.Config{
		Endpoints:   session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
		Symbols:     []string{"BTC-USDT"},
		Channels:    []string{"trade"},
		Credentials: normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s"))),
		Client: wsclient.Options{Clock: clk, Rand: func(int64) int64 { return 0 },
			PingInterval: -1, IdleTimeout: -1, ControlRate: -1, CloseTimeout: -1},
		ReconcileWeight: 1 << 30,
		OnState:         conns.on,
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close(ctx)) }()
	wctx, cancel := context.WithTimeout(ctx, s27ctWait)
	defer cancel()
	require.NoError(t, s.WaitConnected(wctx))
	req := s27ctOrder(t, s, "s28ct-rest")
	_, err = s.Place(wctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	conns.mu.Lock()
	first := conns.last
	conns.mu.Unlock()

	var goroutines int
	var heap uint64
	var pools map[string]s28ctPoolMark
	var was session.Stats
	for i := 1; i <= total; i++ {
		require.Eventually(t, func() bool { return v.CloseAPI() > 0 }, s27ctWait, 100*time.Microsecond, "reconnect %d: the venue holds the connection", i)
		conns.await(t, first+uint64(i))
		require.NoError(t, s.WaitConnected(wctx), "reconnect %d: subscribed again", i)
		if i == warm {
			goroutines = runtime.NumGoroutine()
			heap = s28ctHeap()
			was = s.Stats()
			pools = s28ctPools(was.Pools)
		}
	}
	s28ctGoroutines(t, goroutines, fmt.Sprintf("after %d more reconnects", total-warm))
	grown := int64(s28ctHeap()) - int64(heap)
	t.Logf("heap after %d reconnects: %+d bytes since reconnect %d (%.1f B a reconnect)", total, grown, warm, float64(grown)/(total-warm))
	assert.Less(t, grown, int64(2<<20), "the live heap stays flat")
	st := s.Stats()
	for name, now := range s28ctPools(st.Pools) {
		p := pools[name]
		assert.LessOrEqual(t, now.created, p.created+2, "pool %s makes no new objects per reconnect", name)
		assert.LessOrEqual(t, now.inUse, p.inUse+2, "pool %s holds no more out", name)
	}
	assert.Equal(t, uint64(total-warm), st.Orders.Client.TotalReconnects()-was.Orders.Client.TotalReconnects(), "one reconnect per close")
	assert.Zero(t, st.Orders.Client.EventsDropped+st.Orders.Client.PoolWaits)
	assert.Zero(t, st.Orders.Parser.Errors+st.Orders.Parser.Unknown+st.Orders.Parser.Dropped, "%+v", st.Orders.Parser)
	t.Logf("order stats after: %+v", st.Order)
	assert.Zero(t, st.Order.TrackOverflow)
	assert.Equal(t, was.Order.Tracked, st.Order.Tracked, "the resting order followed, nothing more")
	assert.Equal(t, uint64(total-warm), st.Order.UserDataSubs-was.Order.UserDataSubs, "one user-data subscription per connection")
	assert.Zero(t, st.Order.ReconcileErrors+st.Order.ReconcileGaps)
	assert.Zero(t, st.Order.Duplicates, "no report delivered twice")

	req = s27ctOrder(t, s, "s28ct-after")
	ack, err := s.Place(wctx, req)
	s.Pools().Orders.Put(req)
	require.NoError(t, err)
	assert.NotZero(t, ack)
}
