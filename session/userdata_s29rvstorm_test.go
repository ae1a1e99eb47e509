package session_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
// one in a row after it waits a backoff on Client.Clock (1 s, doubling).
// Before the fix the second refusal rotated at once: no backoff timer was
// ever armed.
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
	const overlap = 500 * time.Millisecond // retireOverlap: the switch to the new connection
	clk.fireUntil(t, overlap, func() bool { return refused.Load() >= 2 }, "the new connection refused too")
	require.Eventually(t, func() bool { return clk.pendingOf(time.Second) >= 1 }, generous, pollEvery,
		"a second -2042 in a row waits 1 s before the next connection")
	require.Equal(t, int32(2), refused.Load(), "no third connection subscribed before the backoff")
	require.Eventually(t, func() bool {
		clk.fireAfter(time.Second)
		clk.fireAfter(overlap)
		return refused.Load() >= 3
	}, generous, pollEvery, "replaced after the backoff")
	require.Eventually(t, func() bool { return clk.pendingOf(2*time.Second) >= 1 }, generous, pollEvery,
		"the backoff doubles")
}
