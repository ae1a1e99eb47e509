package meltica_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/venuesim"
	"github.com/meltica/meltica/wsclient"
)

// session/doc.go: "A market connection is replaced make-before-break
// (wsclient's rotation: nothing lost, nothing twice)". On the simulated
// Binance, market connections rotated every 200 ms while trades stream: a
// subscriber of trades sees every trade id once, in order, across at
// least five rotations — or, where a rotation could not align the two
// streams (wsclient.ErrRotationUnaligned: "messages around the switch may
// repeat or be missing"), never a repeat, and a hole only after a marker.
func TestS25ctRotationLosesNothing(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 400, PingInterval: -1})
	defer v.Close()
	ctx := context.Background()
	s, err := session.Start(ctx, session.Config{
		Endpoints: session.Endpoints{Stream: v.CombinedURL(), REST: v.RESTURL()},
		Symbols:   []string{"BTC-USDT"},
		Channels:  []string{"trade"},
		Client:    wsclient.Options{MaxAge: 200 * time.Millisecond, ControlRate: -1},
	})
	require.NoError(t, err)
	defer func() { _ = s.Close(context.Background()) }()
	var mu sync.Mutex
	var ids []uint64
	var markers []int // index in ids before which a marker came
	_, err = s.Dispatcher().Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}}, &dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) {
		mu.Lock()
		defer mu.Unlock()
		switch ev.Type {
		case schema.EventTrade:
			ids = append(ids, ev.SeqProvider)
		case schema.EventGap:
			markers = append(markers, len(ids))
		}
	}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.Stats().Market[0].Client.Rotations >= 5 }, 2*time.Minute, 5*time.Millisecond, "five rotations")
	st := s.Stats().Market[0].Client
	require.NoError(t, s.Close(ctx))
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d trades, %d rotations (%d unaligned), %d reconnects, markers at %v", len(ids), st.Rotations, st.Unaligned, st.TotalReconnects(), markers)
	for i := 1; i < len(ids); i++ {
		require.Greater(t, ids[i], ids[i-1], "trade %d repeated or reordered after %d", ids[i], ids[i-1])
		if ids[i] != ids[i-1]+1 {
			assert.Contains(t, markers, i, "trades %d..%d lost without a marker", ids[i-1]+1, ids[i]-1)
		}
	}
}
