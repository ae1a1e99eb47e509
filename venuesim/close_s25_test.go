package venuesim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Close waits for every goroutine the venue started, the connections'
// own included ("Close stops every goroutine it started"): once it
// returns no connection is left open (Stats.Active is 0). The handlers
// of the upgraded (hijacked) connections were not waited for —
// httptest.Server.Close forgets a hijacked connection — so Close
// returned with connections still winding down, and a close they began
// meanwhile (an age cut, a slow consumer, too many messages) added to
// the venue's WaitGroup while Close waited on it (a misuse -race
// reports, and a goroutine that outlived Close).
func TestS25CloseWaitsForConnections(t *testing.T) {
	for range 20 {
		v := venuesim.Start(&venuesim.Options{Rate: 2000})
		for range 8 {
			dial(t, v.StreamURL("btcusdt@trade", "ethusdt@depth"))
			dial(t, v.APIURL())
		}
		require.Eventually(t, func() bool { return v.Stats().Active == 16 }, 10*time.Second, time.Millisecond)
		// Every connection's age cut falls due around Close.
		v.SetMaxConnAge(time.Microsecond)
		v.Close()
		assert.Zero(t, v.Stats().Active, "connections open after Close")
	}
}
