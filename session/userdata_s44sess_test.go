package session_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
)

// TestS44sessLateUserDataAcceptanceLeavesNoStaleError: Binance's
// user-data subscription goes unanswered past its deadline (answerTimeout,
// 10 s on Client.Clock), and its acceptance comes just then — taken by the
// reader (orders ready) after the deadline gave the subscription up, before
// the deadline put its refusal (a *LoginError wrapping ErrNoAnswer) on the
// board. The stream is subscribed: WaitOrdersReady returns nil, and the
// retry is not sent (Binance takes one subscription an account a
// connection). Before, the refusal stayed on the board for good:
// WaitOrdersReady returned it, orders never went, and the retry, seeing the
// connection ready, was never sent — until the connection went.
func TestS44sessLateUserDataAcceptanceLeavesNoStaleError(t *testing.T) {
	v := startVenue(t)
	var (
		mu     sync.Mutex
		subs   int
		subID  uint64
		subCon int
	)
	url, push := wsAPIPush(t, func(conn int, id uint64, msg []byte) string {
		if !strings.Contains(string(msg), "userDataStream.subscribe") {
			return ""
		}
		mu.Lock()
		defer mu.Unlock()
		subs++
		if subs == 1 {
			subID, subCon = id, conn
			return "" // answered late, by push
		}
		return fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, id)
	})
	ep := endpoints(v)
	ep.API = url
	clk := newManualClock()
	cfg := session.Config{Endpoints: ep, Symbols: []string{"BTC-USDT"}, Channels: []string{"trade"},
		Credentials: credentials(), Client: fastRedial, NoClockSync: true}
	cfg.Client.Clock = clk
	s := start(t, cfg)
	held, release := s.HoldUserDataUnanswered()
	t.Cleanup(release)
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return subs >= 1 }, generous, pollEvery, "the subscription sent")

	// The deadline fires and is held before its board update; the
	// acceptance comes meanwhile and is taken (orders ready).
	clk.fireUntil(t, s44answerTimeout, func() bool { return len(held) > 0 }, "the subscription's deadline")
	<-held
	mu.Lock()
	id, conn := subID, subCon
	mu.Unlock()
	require.NoError(t, push(conn, fmt.Sprintf(`{"id":%d,"status":200,"result":{"subscriptionId":0}}`, id)))
	require.Eventually(t, func() bool { return ordersReadyNow(s) == nil }, generous, pollEvery, "the late acceptance taken")
	release()

	// The backoff's timers fired too: a retry, were one due, would go.
	clk.fireUntil(t, 0, func() bool { return ordersReadyNow(s) == nil }, "a recovered user-data stream reports no stale error")
	require.NoError(t, ordersReadyNow(s))
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 1, subs, "not signed again: the first subscription is in effect")
}

// ordersReadyNow is WaitOrdersReady bounded by a short wait: nil when
// orders are ready, the error the session reports, or the context's.
func ordersReadyNow(s *session.Session) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*pollEvery)
	defer cancel()
	return s.WaitOrdersReady(ctx)
}
