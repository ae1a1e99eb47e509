package session_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
)

// TestS31rvsessWSAPIRotationReconcilesOpenOrders: Binance's WS-API
// connection is replaced (serverShutdown) while an order is open. A
// report the venue sent on the old connection before the new one's
// user-data subscription took effect, still in transit at the switch,
// is closed away with the old connection and never delivered: only a
// reconciliation pass after the switch finds it. The pass asks the venue
// about the open order (order.status, on the new connection). Before
// s31rvsess a prepared switch started no pass (the user-data stream "was
// never down"): the order's lost report stayed lost. (OKX, Bybit,
// Kraken and Coinbase: private.step's switch calls live(true), which
// starts a pass already.)
func TestS31rvsessWSAPIRotationReconcilesOpenOrders(t *testing.T) {
	v := startVenue(t)
	var subs atomic.Int32
	url, push := wsAPIPush(t, func(_ int, id uint64, msg []byte) string {
		if strings.Contains(string(msg), "userDataStream.subscribe") {
			subs.Add(1)
			return fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, id)
		}
		return ackBody(id, "rv1", 7)
	})
	ep := endpoints(v)
	ep.API = url
	s := start(t, session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, NoClockSync: true})
	waitConnected(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()

	req := limitOrder(s, t, "rv1", "buy", "1000.00", "0.5")
	defer s.Pools().Orders.Put(req)
	_, err := s.Place(ctx, req)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.Stats().Order.Tracked == 1 }, generous, pollEvery, "the order open, followed")
	// The first subscription's pass-less reading of the open orders ends
	// (OpenCountKnown): the passes counted from here are rotations'.
	require.Eventually(t, func() bool { return s.Stats().Order.OpenCountKnown }, generous, pollEvery)
	passes := s.Stats().Order.Reconciliations

	require.NoError(t, push(1, binanceServerShutdown))
	require.Eventually(t, func() bool { return s.Stats().Orders.Client.Rotations == 1 }, generous, pollEvery, "replaced ahead of the shutdown")
	require.Equal(t, int32(2), subs.Load(), "subscribed on the new connection before the switch")
	require.Eventually(t, func() bool { return s.Stats().Order.Reconciliations > passes }, generous, pollEvery,
		"a pass after the switch: what the old connection had in transit is asked of the venue")
	// The venue answers order.status "no such order" (wsAPIPush): the
	// pass gives up on it with a gap marker — it asked.
	require.Eventually(t, func() bool { return s.Stats().Order.ReconcileGaps > 0 }, generous, pollEvery, "order.status asked")
}
