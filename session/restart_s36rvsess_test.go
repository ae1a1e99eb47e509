package session_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/session"
)

// bybitRestarting is Bybit's trade-connection refusal while its service
// restarts (Bybit v5 "Error Codes", "WS OE General code").
const bybitRestarting = "ws trade service is restarting, do not accept new request, but the request in the process is not affected. You can build new connection to be routed to normal service"

// TestS36rvsessBybitTradeRestartingReconnects: Bybit refuses an order
// with 10019 — its trade service restarts, accepts no new request on the
// connection, and tells to "build new connection to be routed to normal
// service". The caller gets the venue's refusal (not acted on); the
// session replaces the trade connection (a rotation: logged in before
// the switch) and the next order goes on the new connection. Before
// s36rvsess every later order went on the restarting connection, each
// refused 10019, for as long as the venue kept it open.
func TestS36rvsessBybitTradeRestartingReconnects(t *testing.T) {
	c := orderCases()[1]
	require.Equal(t, schema.VenueBybit, c.venue)
	f, s := connectedOrders(t, c)
	steppingServerClock(f)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	f.setScript(func(o orderSeen) ([]string, bool) {
		if clientID(o) == "r1" {
			return []string{bybitRefusal(o, 10019, bybitRestarting)}, false
		}
		return []string{acceptOrder(f.venue, o)}, false
	})
	_, err := place(t, s, ctx, "r1")
	var verr *session.VenueError
	require.True(t, errors.As(err, &verr), "%v", err)
	assert.EqualValues(t, 10019, verr.Code)

	require.Eventually(t, func() bool { return s.Stats().Trade.Client.Rotations == 1 }, generous, pollEvery,
		"the trade connection replaced")
	_, err = place(t, s, ctx, "r2")
	require.NoError(t, err)
	seen := f.ordersSeen()
	require.Len(t, seen, 2)
	assert.NotEqual(t, seen[0].conn, seen[1].conn, "the next order goes on a new connection, not on the restarting one")
}
