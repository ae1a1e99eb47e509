package session_test

import (
	"context"
	"errors"
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
// backoff, sends the unanswered subscription again.
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

			// The deadline restarts at each answer: fire it until the
			// session reports the refusal.
			var err error
			require.Eventually(t, func() bool {
				clk.fireAfter(10 * time.Second)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
				defer cancel()
				err = s.WaitConnected(ctx)
				return errors.Is(err, session.ErrNoAnswer)
			}, generous, pollEvery, "the unanswered subscription is reported after 10 s on the clock")
			var le *session.LoginError
			require.ErrorAs(t, err, &le)
			assert.True(t, strings.HasSuffix(le.Step, "subscribe"), le.Step)
			assert.NotEmpty(t, le.Channel, "names the unanswered subscription")
			mu.Lock()
			sent := muted
			mu.Unlock()
			clk.fire()
			require.Eventually(t, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return muted > sent
			}, generous, pollEvery, "the unanswered subscription sent again")
			waitConnected(t, s)
		})
	}
}
