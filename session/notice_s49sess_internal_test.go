package session

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// A venue's notice that it will close a market connection (OKX 64008,
// Binance serverShutdown) rotates that connection. Read on a connection a
// rotation replaced — its answers and notices are still delivered for
// RotationOverlap after the switch (wsclient: a frame IsData does not
// take for data; OKX's `{"event":"notice",…}`), the server it was on
// being upgraded — it is about that connection, gone already. Before, it
// rotated the live one: a new connection for nothing, every topic
// subscribed again (OKX: 480 requests an hour). Now only the notice of
// the live connection rotates it.
func TestS49sessCloseNoticeOfAReplacedConnection(t *testing.T) {
	for _, tc := range []struct {
		venue  schema.Venue
		notice schema.Control
	}{
		{schema.VenueOKX, schema.Control{Kind: schema.ControlStatus, Code: 64008}},
		{schema.VenueBinance, schema.Control{Kind: schema.ControlStatus, Reason: "serverShutdown"}},
	} {
		t.Run(string(tc.venue), func(t *testing.T) {
			var reading, live uint64 = 1, 2 // connection 1 replaced, connection 2 live
			var rotated []uint64
			board := newStateBoard(1, false)
			w := bookWatch{next: &s37sink{}, state: func() *stateBoard { return board },
				conn: func() uint64 { return reading }, live: func() uint64 { return live },
				rotate: func() { rotated = append(rotated, live) }}
			notice := func() *schema.CanonicalEvent {
				c := tc.notice
				return &schema.CanonicalEvent{Venue: tc.venue, Type: schema.EventControl, Control: &c}
			}
			require.NoError(t, w.Publish(context.Background(), notice()))
			assert.Empty(t, rotated, "the live connection rotated for the replaced one's notice")

			reading = 2 // the live connection's own notice
			require.NoError(t, w.Publish(context.Background(), notice()))
			assert.Equal(t, []uint64{2}, rotated)
		})
	}
}
