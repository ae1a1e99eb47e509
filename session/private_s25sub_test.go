package session_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// TestS25RefusedSubscriptionRetriedAlone: the venue refuses one private
// subscription (OKX positions: error 60018; Kraken balances; Bybit
// wallet) and accepts
// the others. The session tries again, after its backoff, that
// subscription alone, on the same connection: no second login, and no
// second subscription of a channel the venue took (Kraken, Bybit refuse a
// channel a connection already has: "already subscribed", and a retry of
// them all would never end). While it stays refused, WaitConnected returns
// a *session.LoginError of Step "subscribe" naming the channel and how
// many times in a row it was refused.
func TestS25RefusedSubscriptionRetriedAlone(t *testing.T) {
	refuse := map[schema.Venue]string{schema.VenueOKX: "positions", schema.VenueKraken: "balances", schema.VenueBybit: "wallet"}
	for _, c := range privateCases(t) {
		bad, ok := refuse[c.venue]
		if !ok {
			continue
		}
		t.Run(string(c.venue), func(t *testing.T) {
			f := newFakePrivate(t, c.venue, c.pushes)
			var mu sync.Mutex
			subs := map[string]int{}
			f.refuseSub = func(_ int, ch string) bool {
				mu.Lock()
				defer mu.Unlock()
				subs[ch]++
				return ch == bad && subs[ch] <= 2
			}
			count := func(ch string) int {
				mu.Lock()
				defer mu.Unlock()
				return subs[ch]
			}
			others := func() map[string]int {
				mu.Lock()
				defer mu.Unlock()
				m := map[string]int{}
				for ch, n := range subs {
					if ch != bad {
						m[ch] = n
					}
				}
				return m
			}
			clk := newManualClock()
			execs := make(chan *schema.ExecReport, 16)
			cfg := c.config(f, time.Now)
			cfg.Client.Clock = clk
			cfg.OnExecReport = func(r *schema.ExecReport) { execs <- r }
			s := start(t, cfg)
			t.Cleanup(func() { drainExecs(s, execs) })

			for attempt := 1; attempt <= 2; attempt++ {
				ctx, cancel := context.WithTimeout(context.Background(), generous)
				err := s.WaitConnected(ctx)
				cancel()
				var le *session.LoginError
				require.ErrorAs(t, err, &le, "attempt %d", attempt)
				assert.Equal(t, "subscribe", le.Step)
				assert.Equal(t, bad, le.Channel)
				assert.Equal(t, attempt, le.Attempts)
				require.Eventually(t, func() bool { return clk.pending() > 0 && count(bad) == attempt }, generous, pollEvery, "a retry is scheduled")
				for ch, n := range others() {
					assert.Equal(t, 1, n, "%s subscribed once", ch)
				}
				clk.fire()
				require.Eventually(t, func() bool { return count(bad) == attempt+1 }, generous, pollEvery, "tried again")
			}
			waitConnected(t, s)
			assert.Equal(t, 3, count(bad))
			for ch, n := range others() {
				assert.Equal(t, 1, n, "%s subscribed once: the venue took it", ch)
			}
			if c.venue != schema.VenueKraken { // Kraken has no login: each subscription carries a token
				assert.Len(t, f.loginsSeen(), 1, "one login: the connection stays logged in")
			}
		})
	}
}
