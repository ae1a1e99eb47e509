package venuesim_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Binance's WS-API sends its own serverShutdown before a shutdown
// (WebSocket API "Connection events":
// {"event":{"e":"serverShutdown","E":<ms>}}); Venue.ShutdownAPI sends it
// on every WS-API connection, which stays open, and on no market
// connection. Before, the venue had no way to send it: Inject's
// FaultServerShutdown reaches the market streams only.
func TestS29ShutdownAPISendsTheWSAPIEvent(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 1, Clock: clk, PingInterval: -1})
	defer v.Close()
	api := dial(t, v.APIURL())
	defer func() { _ = api.CloseNow() }()
	mkt := dial(t, v.StreamURL())
	defer func() { _ = mkt.CloseNow() }()
	require.Equal(t, 1, v.ShutdownAPI(), "the WS-API connection only")
	assert.JSONEq(t, `{"event":{"e":"serverShutdown","E":`+strconv.FormatInt(s29Epoch.UnixMilli(), 10)+`}}`, string(read(t, api)))
	write(t, api, `{"id":7,"method":"ping"}`)
	assert.Contains(t, string(read(t, api)), `"id":7,"status":200`, "the connection stays open")
	// The market connection got nothing: its next message is the answer
	// to its own request.
	write(t, mkt, `{"method":"LIST_SUBSCRIPTIONS","id":3}`)
	assert.JSONEq(t, `{"result":[],"id":3}`, string(read(t, mkt)))
}
