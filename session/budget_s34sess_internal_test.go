package session

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// OKX allows 480 subscribe/unsubscribe/login requests per connection per
// hour (OKX API v5 "WebSocket", limits). A connection's own subscription
// messages (sent at each connect) count in it, so the books'
// resubscriptions on that connection get only the rest: in the hour from
// the connect, own messages and the resubscriptions together stay within
// 480, counted on the injected clock while books break back to back.
// Before: the resubscriptions had the whole 480 (a bucket of 40, then 440
// an hour), and own messages came on top.
func TestS34sessOKXResubscriptionsLeaveRoomForOwnSubscriptions(t *testing.T) {
	spec := venues[schema.VenueOKX]
	for _, own := range []int{0, 1, 3, 39, 45, 200} {
		rate, burst := spec.resubBudget(own)
		clk := &stepClock{Clock: wsclient.SystemClock(), now: time.Unix(100000, 0)}
		p := newPacer(clk, 4, rate, burst)
		start, sent := clk.now, 0
		for {
			require.NoError(t, p.wait(context.Background()))
			if clk.now.Sub(start) > time.Hour {
				break
			}
			sent++
		}
		require.LessOrEqual(t, own+sent, 480, "own %d: %d resubscription messages in the hour", own, sent)
		require.Positive(t, sent, "own %d: resubscriptions still go", own)
	}
	rate, burst := venues[schema.VenueBybit].resubBudget(5)
	require.Zero(t, rate, "no budget where the venue documents none")
	require.Zero(t, burst)
}
