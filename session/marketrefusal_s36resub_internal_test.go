package session

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Each venue's refusals of a market subscription, by kind: the rate
// limits and busy venues pass (asked again after 1 s), the others — an
// unknown symbol or channel, a malformed request — never will (after
// 1 min). Sources: OKX v5 "Error Code" (60014 "Requests too frequent",
// 60018 "… doesn't exist", 60012 "Invalid request"); Binance WebSocket
// Streams "Error Messages" (codes 0–3 of a SUBSCRIBE) and "Error codes"
// (-1003 TOO_MANY_REQUESTS); Bybit v5 "Error Codes" (10006); Kraken
// "Spot Error Messages"; Coinbase Advanced Trade WebSocket errors.
func TestS36resubRefusalKinds(t *testing.T) {
	for _, tc := range []struct {
		venue  schema.Venue
		code   int64
		reason string
		passes bool
	}{
		{schema.VenueOKX, 60014, "Requests too frequent.", true},
		{schema.VenueOKX, 63999, "Login failed due to internal error. Please try again later.", true},
		{schema.VenueOKX, 60018, "Wrong URL or channel:trades,instId:BTC-USDX doesn't exist.", false},
		{schema.VenueOKX, 60012, `Invalid request: {"op":"subscribe"}`, false},
		{schema.VenueBinance, -1003, "Too many requests queued.", true},
		{schema.VenueBinance, 2, "Invalid request: unknown variable", false},
		{schema.VenueBinance, 1, "Invalid symbol.", false},
		{schema.VenueBybit, 10006, "Too many visits!", true},
		{schema.VenueBybit, 0, "error:handler not found,topic:publicTrade.BTCUSDX", false},
		{schema.VenueKraken, 0, "EGeneral:Too many requests", true},
		{schema.VenueKraken, 0, "Currency pair not supported BTC/USDX", false},
		{schema.VenueCoinbase, 0, "rate limit exceeded", true},
		{schema.VenueCoinbase, 0, "Failed to subscribe: BTC-USDX is not a valid product", false},
	} {
		c := &schema.Control{Kind: schema.ControlVenueError, Code: tc.code, Reason: tc.reason}
		assert.Equal(t, tc.passes, refusalPasses(tc.venue, c), "%s %d %q", tc.venue, tc.code, tc.reason)
	}
}

// s36rRecClock records the callbacks it is asked to run, and runs them
// when told.
type s36rRecClock struct {
	wsclient.Clock
	mu    sync.Mutex
	waits []time.Duration
	fns   []func()
}

func (c *s36rRecClock) AfterFunc(d time.Duration, f func()) wsclient.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits, c.fns = append(c.waits, d), append(c.fns, f)
	return c.NewTimer(time.Hour) // stopped by the retry, or never fires in the test
}

// A refusal that never passes (an unknown symbol) is asked again on a
// backoff that grows to lastingCap (15 min) and stays there: it never
// spins, however long the venue refuses. One that passes grows to
// passingCap (1 min). Each retry is a rotation, counted.
func TestS36resubBackoffCapped(t *testing.T) {
	for _, tc := range []struct {
		code int64
		want []time.Duration
	}{
		{60018, []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute, 15 * time.Minute}},
		{60014, []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}},
	} {
		clk := &s36rRecClock{Clock: wsclient.SystemClock()}
		rotations := 0
		var conn uint64 = 1
		r := &marketRetry{clock: clk, venue: schema.VenueOKX, rotate: func() { rotations++; conn++ }, live: func() uint64 { return conn }}
		c := &schema.Control{Kind: schema.ControlVenueError, Code: tc.code}
		for i := range tc.want {
			r.refuse(conn, c)
			r.refuse(conn, c) // a second refusal of the same connection waits for the retry armed
			require.Len(t, clk.fns, i+1)
			clk.fns[i]()
			assert.Equal(t, i+1, rotations)
		}
		assert.Equal(t, tc.want, clk.waits, "code %d", tc.code)
		assert.Equal(t, uint64(2*len(tc.want)), r.refusals.Load())
		assert.Equal(t, uint64(len(tc.want)), r.retries.Load())
		r.stop()
	}
}

// A refusal read by a rotation's new connection before the switch (the
// old one still live): a retry fired then waits another backoff instead
// of asking wsclient to rotate the old connection — a request that the
// switch drops (Client.Rotate: "one whose connection was since replaced
// is dropped"), which would leave the refused connection as it is with
// no retry armed. Once the refused connection is live, the next firing
// rotates it.
func TestS36resubRetryWaitsForTheSwitch(t *testing.T) {
	clk := &s36rRecClock{Clock: wsclient.SystemClock()}
	rotations := 0
	var live uint64 = 1 // the old connection, until the switch
	r := &marketRetry{clock: clk, venue: schema.VenueOKX, rotate: func() { rotations++ }, live: func() uint64 { return live }}
	r.refuse(2, &schema.Control{Kind: schema.ControlVenueError, Code: 60014})
	require.Len(t, clk.fns, 1)
	clk.fns[0]()
	assert.Zero(t, rotations, "not the old connection's rotation")
	require.Len(t, clk.fns, 2, "armed again")
	assert.Equal(t, []time.Duration{time.Second, time.Second}, clk.waits)
	live = 2 // the switch
	clk.fns[1]()
	assert.Equal(t, 1, rotations)
	assert.Equal(t, uint64(1), r.retries.Load())
	r.stop()
}
