package session_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// aheadClock is the wall clock moved on by ahead: the session's Now as a
// test steps it.
type aheadClock struct {
	wsclient.Clock
	ahead atomic.Int64
}

func (c *aheadClock) Now() time.Time { return c.Clock.Now().Add(time.Duration(c.ahead.Load())) }

// TestS35rvKrakenTokenAge: Kraken "Get Websockets Token": a token "should
// be used within 15 minutes of creation". A subscription refused for the
// channel (EGeneral:Internal error) and tried again on the same connection
// reuses the connection's token while it is younger than 14 minutes on the
// session's clock (Client.Clock), and fetches a new one once it is not.
// Each refusal here moves the session's clock on by step: at 4 minutes
// one token serves the four tries (0 to 12 minutes old); at 13 the third
// try's token is 26 minutes old and fetched anew (two); at 14 each try
// fetches its own (four).
// (The 14-minute bound had no test: the manual clock's Now is the wall
// clock's.)
func TestS35rvKrakenTokenAge(t *testing.T) {
	for _, c := range []struct {
		step   time.Duration
		tokens int
	}{{4 * time.Minute, 1}, {13 * time.Minute, 2}, {14 * time.Minute, 4}} {
		t.Run(c.step.String(), func(t *testing.T) {
			pc := privateCases(t)[2]
			require.Equal(t, schema.VenueKraken, pc.venue)
			f := newFakePrivate(t, pc.venue, pc.pushes)
			ahead := &aheadClock{Clock: wsclient.SystemClock()}
			clk := &manualClock{Clock: ahead}
			var mu sync.Mutex
			refusals := 0
			f.refuseSub = func(_ int, ch string) bool {
				if ch != "balances" {
					return false
				}
				mu.Lock()
				defer mu.Unlock()
				refusals++
				if refusals > 3 {
					return false
				}
				ahead.ahead.Add(int64(c.step)) // the token fetched for this try is step old at the next
				return true
			}
			cfg := pc.config(f, time.Now)
			cfg.Client.Clock = clk
			s := start(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			clk.fireUntil(t, 0, func() bool {
				wctx, wcancel := context.WithTimeout(ctx, pollEvery)
				defer wcancel()
				return s.WaitConnected(wctx) == nil
			}, "subscribed after three refusals")
			mu.Lock()
			assert.Equal(t, 4, refusals, "refused three times, then taken")
			mu.Unlock()
			f.mu.Lock()
			defer f.mu.Unlock()
			assert.Len(t, f.tokens, c.tokens, "tokens fetched")
		})
	}
}
