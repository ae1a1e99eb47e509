package session

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// A refusal read on a connection older than one the venue has since
// acknowledged (the replaced connection of a rotation, answering a
// request written on it before the switch, read after the new
// connection's subscriptions were taken) is about a connection that is
// gone or going: the later connection subscribed every topic again. It
// is counted, but arms no retry — accept disarms one in the same case —
// and does not start the backoff again: before, it armed a 1 s rotation
// of the healthy new connection (on Coinbase an unaligned one, a gap
// marker to every subscriber).
func TestS36rvresubRefusalOfAReplacedConnection(t *testing.T) {
	clk := &s36rRecClock{Clock: wsclient.SystemClock()}
	rotations := 0
	var live uint64 = 1
	r := &marketRetry{clock: clk, venue: schema.VenueOKX, rotate: func() { rotations++; live++ }, live: func() uint64 { return live }}
	c := &schema.Control{Kind: schema.ControlVenueError, Code: 60014}

	r.refuse(1, c) // connection 1 refused: 1 s
	require.Len(t, clk.fns, 1)
	clk.fns[0]() // rotated: connection 2
	r.refuse(2, c)
	require.Len(t, clk.fns, 2) // 2 s
	clk.fns[1]()               // rotated: connection 3
	require.Equal(t, 2, rotations)

	r.accept(3)    // connection 3 took its subscriptions
	r.refuse(2, c) // then connection 2, replaced, reads a late refusal
	assert.Len(t, clk.fns, 2, "no retry armed for a replaced connection")
	assert.Equal(t, 2, rotations)
	assert.Equal(t, uint64(3), r.refusals.Load(), "counted still")

	r.refuse(3, c) // connection 3 refused after all: its own retry
	require.Len(t, clk.fns, 3)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, clk.waits,
		"connection 3 was refused after its acknowledgement: the backoff goes on")
	r.stop()
}
