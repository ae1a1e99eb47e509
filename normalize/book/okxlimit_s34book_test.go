package book

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A fetch that ended while it waited for its OKXLimiter slot (its ctx
// cancelled: the book closed, the connection lost) sent nothing, and kept
// its slot: each such end pushed every later fetch a window further, and
// after a few no fetch could run at all (refused at once: the slots
// "spent" past Timeout) for as long again, on a venue that got no request.
// A slot not used is given back.
func TestS34OKXLimiterSlotOfAnEarlyEndIsGivenBack(t *testing.T) {
	rest, venue, clock := newOKXTimed(t, func(int) (int, string) {
		return http.StatusOK, okxBooksJSON(7, `["100","1","0","1"]`, `["101","1","0","1"]`)
	})
	rest.Limiter = &OKXLimiter{Requests: 1, Per: 2 * time.Second}
	rest.Timeout = 10 * time.Second
	ctx := withBookClock(context.Background(), clock)
	var ev schema.CanonicalEvent
	require.NoError(t, rest.Fetch(ctx, "BTC-USDT", &ev)) // the window's one request
	ended, cancel := context.WithCancel(ctx)
	cancel()
	for range 20 { // each waits for the next slot, and ends before it
		err := rest.Fetch(ended, "BTC-USDT", &ev)
		require.ErrorIs(t, err, context.Canceled)
	}
	require.Len(t, venue.times(), 1, "a fetch that ended early sent its request")
	clock.advance(2 * time.Second) // the window has passed: the next fetch goes at once
	start := clock.Now()
	require.NoError(t, rest.Fetch(ctx, "BTC-USDT", &ev), "the slots of fetches that never ran are still held")
	at := venue.times()
	require.Len(t, at, 2)
	require.Equal(t, start, at[1], "the fetch waited for slots nobody used")
}
