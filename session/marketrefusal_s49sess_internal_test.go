package session

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// A retry armed for connection 1's refusal that fires once connection 1
// is gone — lost and redialled, connection 2 live but its own answers not
// read yet — belongs to the gone connection: connection 2 subscribed every
// topic again as it connected, and its answers decide (an acknowledgement
// disarms, a refusal arms its own retry). Before, it rotated connection 2:
// a needless new connection (OKX takes 3 connection requests a second per
// IP) and every topic subscribed a third time within OKX's 480 requests
// an hour, on a connection that may have been taken.
func TestS49sessMarketRetryOfALostConnection(t *testing.T) {
	clk := &s36rRecClock{Clock: wsclient.SystemClock()}
	rotations := 0
	var live uint64 = 1
	r := &marketRetry{clock: clk, venue: schema.VenueOKX, rotate: func() { rotations++ }, live: func() uint64 { return live }}
	c := &schema.Control{Kind: schema.ControlVenueError, Code: 60014}

	r.refuse(1, c)
	require.Len(t, clk.fns, 1)
	live = 2 // connection 1 lost, connection 2 dialled, subscribing
	clk.fns[0]()
	assert.Zero(t, rotations, "connection 2 rotated for connection 1's refusal")
	assert.Len(t, clk.fns, 1, "no retry armed again for a gone connection")
	assert.Zero(t, r.retries.Load())

	r.refuse(2, c) // connection 2 refused too: its own retry, the backoff grown
	require.Len(t, clk.fns, 2)
	clk.fns[1]()
	assert.Equal(t, 1, rotations)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, clk.waits)
	r.stop()
}
