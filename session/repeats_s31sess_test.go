package session_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// burstReports is how many distinct reports the venue sends on both
// connections of a rotation in TestS31RotationBurstDeliveredOnce: more
// than the 64 the session remembered before s31sess.
const burstReports = 200

// TestS31RotationBurstDeliveredOnce: a busy account during a rotation's
// overlap (Bybit, no reconciler). The venue sends burstReports distinct
// order reports on the old connection, all delivered, then the same
// reports on the new one (its stream lags: the switch may wait up to
// drainBound for the old connection's answers, and a busy account gets
// many reports meanwhile). Each is delivered once. Before s31sess the
// session remembered the latest 64 reports only: every report further
// back than that was delivered a second time from the new connection.
func TestS31RotationBurstDeliveredOnce(t *testing.T) {
	c := privateCases(t)[1]
	require.Equal(t, schema.VenueBybit, c.venue)
	f := newFakePrivate(t, c.venue, nil)
	var sp atomic.Pointer[session.Session]
	var mu sync.Mutex
	news := map[string]int{}
	total := 0
	delivered := make(chan struct{}, burstReports*2)
	report := func(i int) []byte {
		return []byte(strings.Replace(bybitNewTwice, `"orderId":"rot-order-1"`, fmt.Sprintf(`"orderId":"burst-%d"`, i), 1))
	}
	var conns []*websocket.Conn
	sent := false
	f.onSubscribe = func(ws *websocket.Conn, _ []string) {
		mu.Lock()
		if len(conns) == 0 || conns[len(conns)-1] != ws {
			conns = append(conns, ws)
		}
		both := len(conns) == 2 && !sent
		sent = sent || both
		old := conns[0]
		mu.Unlock()
		if !both {
			return
		}
		// The new connection subscribed, its answer held here: the switch
		// waits for it. The old connection's burst is delivered first.
		ctx := context.Background()
		for i := range burstReports {
			assert.NoError(t, old.Write(ctx, websocket.MessageText, report(i)))
		}
		for range burstReports {
			select {
			case <-delivered:
			case <-time.After(generous):
				t.Error("the old connection's burst was not delivered")
				return
			}
		}
		for i := range burstReports {
			assert.NoError(t, ws.Write(ctx, websocket.MessageText, report(i)))
		}
	}
	now := &atomicTime{}
	now.set(time.Now())
	f.setServerClock(now.get)
	clk := newManualClock()
	cfg := c.config(f, now.get)
	cfg.Client.Clock, cfg.Client.MaxAge = clk, rotateAge
	cfg.OnExecReport = func(r *schema.ExecReport) {
		id := r.VenueOrderID.String()
		if strings.HasPrefix(id, "burst-") {
			mu.Lock()
			news[id]++
			total++
			mu.Unlock()
			delivered <- struct{}{}
		}
		sp.Load().Pools().Execs.Put(r)
	}
	seen := &rotationSeen{}
	cfg.OnState = seen.onState
	s := start(t, cfg)
	sp.Store(s)
	waitConnected(t, s)
	now.set(now.get().Add(3 * time.Second))
	clk.rotateUntil(t, func() bool { n, _ := seen.counts(); return n == 1 }, "the rotation switches")
	waitOrdersReady(t, s)
	// The new connection's copies were read before its subscription's
	// answer, so before the switch: each was dropped or delivered by now.
	require.Eventually(t, func() bool {
		mu.Lock()
		n := uint64(total)
		mu.Unlock()
		return s.Stats().Order.Duplicates+n >= 2*burstReports
	}, generous, pollEvery)
	mu.Lock()
	defer mu.Unlock()
	for i := range burstReports {
		assert.Equal(t, 1, news[fmt.Sprintf("burst-%d", i)], "report %d delivered once", i)
	}
	assert.Equal(t, burstReports, total)
	assert.Equal(t, uint64(burstReports), s.Stats().Order.Duplicates)
}
