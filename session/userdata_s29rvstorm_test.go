package session_test

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
)

// TestS29rvMaxSubscriptionIDsBacksOff: a venue (or a proxy in front of
// it) that refuses every user-data subscription with -2042
// MAXIMUM_SUBSCRIPTION_IDS, a fresh connection's first included, must
// not have the session replace its connection every retireOverlap for
// good: Binance limits connections per IP ("300 connections per attempt
// every 5 minutes", WebSocket API "Rate limits"), and a storm of dials
// gets the IP refused. The first -2042 replaces the connection at once;
// one in a row after it waits a backoff on Client.Clock (the failed
// rotation's, since s30sess: see below). Before the fix the second
// refusal rotated at once: no backoff timer was ever armed.
func TestS29rvMaxSubscriptionIDsBacksOff(t *testing.T) {
	v := startVenue(t)
	var refused, conns atomic.Int32
	url := wsAPI(t, func(conn int, id uint64, msg []byte) string {
		conns.Store(int32(max(int(conns.Load()), conn)))
		if !strings.Contains(string(msg), "userDataStream.subscribe") {
			return ""
		}
		refused.Add(1)
		return errorBody(id, -2042, "Maximum subscription ID reached for this connection.")
	})
	ep := endpoints(v)
	ep.API = url
	clk := newManualClock()
	cfg := session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, NoClockSync: true}
	cfg.Client.Clock = clk
	start(t, cfg)
	// Since s30sess the new connection's user data is subscribed before
	// the switch (wsclient Options.Prepare): its -2042 fails the
	// rotation, the old connection stays, and wsclient tries again after
	// its backoff (BackoffBase doubling to BackoffCap, on Client.Clock).
	require.Eventually(t, func() bool { return refused.Load() >= 2 && clk.pending() >= 1 }, generous, pollEvery,
		"the new connection refused too; the next try waits a backoff")
	require.Equal(t, int32(2), refused.Load(), "no third connection subscribed before the backoff")
	clk.fireUntil(t, 0, func() bool { return refused.Load() >= 3 }, "replaced after the backoff")
}
