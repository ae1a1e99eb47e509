package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s41rvGateClock is a pacer's Clock whose first Sleep holds until the
// test lets it go: the resubscriber's unsubscribe is written, its
// subscribe waits (between), the test changes the connection, then
// (proceed) the subscribe goes. Its time moves only by what it slept.
type s41rvGateClock struct {
	wsclient.Clock
	between, proceed chan struct{}
	once             sync.Once
	mu               sync.Mutex
	now              time.Time
}

func (c *s41rvGateClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *s41rvGateClock) Sleep(ctx context.Context, d time.Duration) error {
	c.once.Do(func() {
		close(c.between)
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

// TestS41rvsessResubscriptionOnOneConnection: a book's unsubscribe and
// subscribe go on one connection. Written with Client.Write, each went on
// the connection current at its write: when the connection changed
// between them — a market rotation's switch (MaxAge, or a venue's notice
// of its close), here one asked with Rotate — the unsubscribe went on the old
// connection and the subscribe alone on the new one, which has the topic
// already (every subscription is made again on a new connection): Bybit
// and Kraken refuse it ("already subscribed"), no snapshot comes, and a
// book whose new connection's first snapshot was not its (a rotation's
// join) stays dark until it asks again, snapshotWaits × RetryInterval
// later. Now the pair goes with WriteConn on the connection of the first,
// and is made again whole on the new connection when a rotation replaced
// it (s49sess: the rotation here; a loss and redial drops it instead, the
// new connection subscribing the book itself — see
// resubconn_s49sess_internal_test.go).
func TestS41rvsessResubscriptionOnOneConnection(t *testing.T) {
	const wait, every = 30 * time.Second, 5 * time.Millisecond
	type got struct {
		conn int
		msg  string
	}
	var (
		mu    sync.Mutex
		msgs  []got
		conns int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		mu.Lock()
		conns++
		n := conns
		mu.Unlock()
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		// A message of each connection's own (no join: the rotation
		// switches unaligned after RotationOverlap, the old connection
		// alive — no loss).
		if err := c.Write(ctx, websocket.MessageText, []byte("hello "+strconv.Itoa(n))); err != nil {
			return
		}
		for {
			_, m, err := c.Read(ctx)
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, got{n, string(m)})
			mu.Unlock()
		}
	}))
	defer srv.Close()
	seen := func(conn int, msg string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, g := range msgs {
			if g.conn == conn && g.msg == msg {
				return true
			}
		}
		return false
	}

	c, err := wsclient.New("ws"+strings.TrimPrefix(srv.URL, "http"), func(context.Context, *schema.WsFrame) error { return nil },
		&wsclient.Options{BackoffBase: time.Millisecond, BackoffCap: 20 * time.Millisecond, RotationOverlap: 10 * time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = c.Run(ctx)
	}()
	require.Eventually(t, func() bool { return c.State() == schema.ConnConnected }, wait, every, "connected")
	first := c.Stats().ConnID

	clk := &s41rvGateClock{Clock: wsclient.SystemClock(), between: make(chan struct{}), proceed: make(chan struct{}), now: time.Unix(1, 0)}
	r := &resubscriber{
		sh: &shard{client: c}, channel: "orderbook.50",
		msgs:  func(string, string) ([]byte, []byte, error) { return []byte("unsub"), []byte("sub"), nil },
		venue: func(s string) (string, error) { return s, nil },
		pace:  newPacer(clk, 0, 1, 1), // one message at once, the next after a Sleep
		tries: map[string]int{}, wake: make(chan struct{}, 1),
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.run(ctx)
	}()
	require.NoError(t, r.ask(ctx, schema.VenueBybit, "BTCUSDT"))

	select {
	case <-clk.between:
	case <-time.After(wait):
		t.Fatal("the unsubscribe was never written")
	}
	require.Eventually(t, func() bool { return seen(1, "unsub") }, wait, every, "the unsubscribe on the first connection")
	require.NoError(t, c.Rotate())
	require.Eventually(t, func() bool {
		return c.State() == schema.ConnConnected && c.Stats().ConnID > first
	}, wait, every, "the second connection up")
	close(clk.proceed)

	require.Eventually(t, func() bool { return seen(2, "sub") || seen(1, "sub") }, wait, every, "the subscribe written")
	require.Eventually(t, func() bool { return r.sent.Load() == 1 }, wait, every, "the resubscription done")
	mu.Lock()
	defer mu.Unlock()
	var on2 []string
	for _, g := range msgs {
		if g.conn == 2 {
			on2 = append(on2, g.msg)
		}
	}
	require.Equal(t, []string{"unsub", "sub"}, on2, "the new connection got the pair, the unsubscribe first: %+v", msgs)
	require.Zero(t, c.Stats().TotalReconnects(), "a rotation: no connection lost")
}
