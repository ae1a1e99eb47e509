package session_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/session"
	"github.com/meltica/meltica/wsclient"
)

// TestS34dayNegativeMaxAgeNeverRotates: session doc, Config.Client.MaxAge
// "negative: never". Start took -1 for the WS-API connection but passed
// it unchanged to wsclient.New for the market connections, which refused
// it ("wsclient: Options.MaxAge is negative"). With -1 the session starts
// and arms no age rotation on any connection; by default both the market
// and the WS-API connection age out at 23 h.
func TestS34dayNegativeMaxAgeNeverRotates(t *testing.T) {
	for _, tc := range []struct {
		maxAge time.Duration
		want   int // connections armed to rotate at 23 h
	}{{0, 2}, {-1, 0}} {
		t.Run(tc.maxAge.String(), func(t *testing.T) {
			v := startVenue(t)
			clk := &s34dayClock{ageClock: &ageClock{Clock: wsclient.SystemClock()}}
			cfg := session.Config{
				Endpoints:   endpoints(v),
				Symbols:     []string{"BTC-USDT"},
				Channels:    []string{"trade"},
				Credentials: credentials(),
				Client:      fastRedial,
			}
			cfg.Client.Clock, cfg.Client.MaxAge = clk, tc.maxAge
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			s, err := session.Start(ctx, cfg)
			require.NoError(t, err)
			defer func() {
				cctx, ccancel := context.WithTimeout(context.Background(), generous)
				defer ccancel()
				assert.NoError(t, s.Close(cctx))
			}()
			require.NoError(t, s.WaitConnected(ctx))
			day := func() int {
				n := int(clk.dayTimers.Load())    // wsclient's market rotation
				for _, d := range clk.pending() { // the session's WS-API ageOut
					if d == 23*time.Hour {
						n++
					}
				}
				return n
			}
			if tc.want > 0 {
				require.Eventually(t, func() bool { return day() == tc.want }, generous, pollEvery)
				return
			}
			assert.Zero(t, day(), "no connection rotated by age: %v", clk.pending())
		})
	}
}

// s34dayClock counts the timers armed for about a day (wsclient arms its
// MaxAge rotation with NewTimer, the session its WS-API ageOut with
// AfterFunc, which ageClock holds).
type s34dayClock struct {
	*ageClock
	dayTimers atomic.Int64
}

func (c *s34dayClock) NewTimer(d time.Duration) wsclient.Timer {
	if d > 22*time.Hour && d <= 23*time.Hour {
		c.dayTimers.Add(1)
	}
	return c.ageClock.NewTimer(d)
}
