package meltica_test

import (
	"context"
	"fmt"
	"strings"
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

// Client.Write "is safe for concurrent use; messages are written one at
// a time, in the order their writers got their turn": four writers of 50
// messages each on a healthy connection all get nil, and the venue
// receives every message once, whole, each writer's in its order.
func TestS27ctClientConcurrentWrites(t *testing.T) {
	inbox, url := newS27ctInbox(t, nil)
	evs := newS27ctEvents()
	c, err := wsclient.New(url, s27ctNop, &wsclient.Options{Venue: schema.VenueBinance, Clock: newS27ctClock(), OnEvent: evs.on, PingInterval: -1, IdleTimeout: -1, CloseTimeout: -1})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	evs.await(t, "connected", func(ev wsclient.Event) bool { return ev.State == schema.ConnConnected })
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for i := 0; i < 50; i++ {
				msg := fmt.Sprintf(`{"w":%d,"i":%d,"pad":"%s"}`, w, i, strings.Repeat("x", 1000*w))
				assert.NoError(t, c.Write(context.Background(), []byte(msg)))
			}
		})
	}
	wg.Wait()
	require.Eventually(t, func() bool { return inbox.count() >= 200 }, s27ctWait, time.Millisecond)
	inbox.mu.Lock()
	next := map[int]int{}
	for _, m := range inbox.msgs {
		var w, i int
		_, err := fmt.Sscanf(m, `{"w":%d,"i":%d,`, &w, &i)
		require.NoError(t, err, "a whole message: %.60q", m)
		assert.Equal(t, next[w], i, "writer %d's messages in order", w)
		assert.Len(t, m, len(fmt.Sprintf(`{"w":%d,"i":%d,"pad":"%s"}`, w, i, strings.Repeat("x", 1000*w))))
		next[w] = i + 1
	}
	assert.Len(t, inbox.msgs, 200, "each once")
	inbox.mu.Unlock()
	require.NoError(t, c.Close(context.Background()))
	require.NoError(t, <-done)
}

// Session.Place from many goroutines at once (a bot placing a ladder):
// "Requests go out one at a time", and each call returns the venue's
// answer to its own request — never another call's. Then an order left
// waiting for its connection at Close: "Orders still waiting for an
// answer return ErrClosed", and one that never left ErrNotSent.
func TestS27ctSessionConcurrentPlaces(t *testing.T) {
	ctx := context.Background()
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, APIKey: "k", APISecret: "s"})
	defer v.Close()
	s, err := session.Start(ctx, session.Config{
		Endpoints:   session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL(), API: v.APIURL()},
		Symbols:     []string{"BTC-USDT"},
		Channels:    []string{"trade"},
		Credentials: normalize.NewCredentials("k", normalize.NewHMACSigner([]byte("s"))),
	})
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, s27ctWait)
	defer cancel()
	require.NoError(t, s.WaitConnected(wctx))
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Go(func() {
			cid := fmt.Sprintf("s27ct-ladder-%d", i)
			req := s27ctOrder(t, s, cid)
			req.Price = schema.MustParseDecimal(fmt.Sprintf("%d.00", 1000+i))
			ack, err := s.Place(wctx, req)
			s.Pools().Orders.Put(req)
			if assert.NoError(t, err, cid) {
				assert.Equal(t, cid, ack.ClientOrderID.String(), "the answer to its own request")
			}
		})
	}
	wg.Wait()
	// venuesim counts an order once its answer and reports are out
	// (venuesim/wsapi.go): a Place may return before the count. Read at
	// once, it was 11 (1 run in 200, two -race runs at once).
	assert.Eventually(t, func() bool { return v.Stats().Orders >= 12 }, s27ctWait, time.Millisecond, "12 orders counted")
	assert.Equal(t, uint64(12), v.Stats().Orders, "each once")

	// The order connection's next user-data subscription is held: a Place
	// waits for it, and Close ends the wait.
	v.HoldUserData(true)
	require.Positive(t, v.CloseAPI())
	require.Eventually(t, func() bool { return v.HeldUserData() > 0 }, s27ctWait, time.Millisecond)
	placed := make(chan error, 1)
	req := s27ctOrder(t, s, "s27ct-waiting")
	go func() {
		_, err := s.Place(wctx, req)
		s.Pools().Orders.Put(req)
		placed <- err
	}()
	closed := make(chan error, 1)
	go func() { closed <- s.Close(ctx) }()
	select {
	case err := <-placed:
		assert.ErrorIs(t, err, session.ErrClosed, "a Place waiting at Close")
		assert.ErrorIs(t, err, session.ErrNotSent, "it never left")
	case <-time.After(s27ctWait):
		t.Fatal("a Place waiting for its connection outlived Close")
	}
	require.NoError(t, <-closed)
	_, seen := v.OrderID("s27ct-waiting")
	assert.False(t, seen)
}
