package session_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS27UnansweredSubscriptionReconnects: a private subscription whose
// answer never comes (lost, or echoing an id the session never sent,
// which it now ignores) left the connection in its handshake for good:
// no error, no retry, orders never ready. After 10 s on Client.Clock the
// session reports a LoginError wrapping ErrNoAnswer and, after its
// backoff, sends the unanswered subscription again. The fake venue took
// the muted subscription (only its answer is lost): sent again, Bybit and
// Kraken refuse it as subscribed already, which is taken as its ack
// (before, the session retried it for ever). Only a muted request that
// was the connection's last in flight restarts nothing: it is the answer
// pairing that decides which channel the error names (OKX: by its id).
func TestS27UnansweredSubscriptionReconnects(t *testing.T) {
	for _, c := range privateCases(t) {
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, c.pushes)
			var mu sync.Mutex
			muted := 0
			f.muteSub = func(_, _ int) bool {
				mu.Lock()
				defer mu.Unlock()
				muted++
				return muted == 1 // the first subscription request of the session, on any connection
			}
			clk := newManualClock()
			cfg := c.config(f, time.Now)
			cfg.Client.Clock = clk
			cfg.Pools = schema.NewPools(nil)
			cfg.OnExecReport = func(r *schema.ExecReport) { cfg.Pools.Execs.Put(r) }
			s := start(t, cfg)

			// Fired only once the muted request is out: the login is
			// answered then (an earlier 10 s would be the login's own
			// deadline), and the subscriptions' deadline armed before
			// their writes. The deadline restarts at each answer: fire it
			// until the session reports the refusal.
			mutedN := func() int {
				mu.Lock()
				defer mu.Unlock()
				return muted
			}
			require.Eventually(t, func() bool { return mutedN() >= 1 }, generous, pollEvery, "the first subscription sent")
			clk.fireUntil(t, 10*time.Second, func() bool { return s.Stats().Order.Refused > 0 }, "the unanswered subscription is reported after 10 s on the clock")
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			err := s.WaitConnected(ctx)
			require.ErrorIs(t, err, session.ErrNoAnswer)
			var le *session.LoginError
			require.ErrorAs(t, err, &le)
			assert.True(t, strings.HasSuffix(le.Step, "subscribe"), le.Step)
			assert.NotEmpty(t, le.Channel, "names the unanswered subscription")
			// The retry's timer is armed after the refusal is reported:
			// fire until the subscription goes out again.
			sent := mutedN()
			clk.fireUntil(t, 0, func() bool { return mutedN() > sent }, "the unanswered subscription sent again")
			waitConnected(t, s)
		})
	}
}
