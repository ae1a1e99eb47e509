package session_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// okxUpgradeNotice is OKX's notice before a service upgrade closes the
// connection (OKX v5 "WebSocket → Notification of service upgrade": "The
// connection will soon be closed for a service upgrade. Please
// reconnect.", sent 60 s before).
const okxUpgradeNotice = `{"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"}`

// TestS25OrderConnNoticeReconnectsAhead: OKX announces on the private
// connection, the one orders go on, that it will close it. The order in
// flight when the notice comes still gets its answer on that connection;
// the session connects and logs in anew before the venue closes the old
// one, and the next order goes on the new connection (on the old one its
// answer would be lost with the connection when the venue closes it).
func TestS25OrderConnNoticeReconnectsAhead(t *testing.T) {
	c := orderCases()[0]
	require.Equal(t, schema.VenueOKX, c.venue)
	f, s := connectedOrders(t, c)
	// The venue's clock a second further at every look (the session reads
	// it before each login): the fake refuses a login stamped with the
	// second of the one before, as a replay.
	var mu sync.Mutex
	step := time.Duration(0)
	f.setServerClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		step += time.Second
		return time.Now().Add(step)
	})
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	f.setScript(func(o orderSeen) ([]string, bool) {
		if o.arg["clOrdId"] == "n1" {
			return []string{okxUpgradeNotice, acceptOrder(f.venue, o)}, false
		}
		return []string{acceptOrder(f.venue, o)}, false
	})
	ack, err := place(t, s, ctx, "n1")
	require.NoError(t, err, "the order in flight at the notice is answered on its connection")
	assert.Equal(t, "n1", ack.ClientOrderID.String())

	_, err = place(t, s, ctx, "n2") // at once: it waits for the new connection
	require.NoError(t, err)
	seen := f.ordersSeen()
	require.Len(t, seen, 2)
	assert.True(t, seen[1].loggedIn)
	assert.NotEqual(t, seen[0].conn, seen[1].conn, "the order after the notice goes on a new connection, not on the one the venue is about to close")
	l := f.loginsSeen()
	require.Len(t, l, 2, "logged in anew")
	assert.True(t, l[1].accepted)
	assert.Equal(t, seen[1].conn, l[1].conn)
}
