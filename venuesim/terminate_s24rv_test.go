package venuesim_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// A user-data subscription ended the moment it is in effect: the
// subscription's answer comes first, then eventStreamTerminated, as on
// Binance, where a stream not yet confirmed cannot be terminated. The
// simulator put the subscription in effect before it queued the answer,
// so a TerminateUserData in between queued the event ahead of it: the
// session, told that a stream it had not been given was gone, replaced
// the connection (session's TestUserDataStreamTerminated, 1 run in 4).
func TestS24rvTerminationFollowsTheSubscriptionAnswer(t *testing.T) {
	for range 30 {
		v := venuesim.Start(&venuesim.Options{Rate: 50})
		a := apiConn{t, dial(t, v.APIURL())}
		write(t, a.c, `{"id":1,"method":"userDataStream.subscribe"}`)
		for v.TerminateUserData() == 0 {
			runtime.Gosched() // until the subscription is in effect: no sleep, no clock
		}
		first := a.next()
		require.Equal(t, float64(1), first["id"], "the subscription's answer first, then the termination: %v", first)
		require.Equal(t, "eventStreamTerminated", a.event("eventStreamTerminated")["e"])
		v.Close()
	}
}
