package venuesim_test

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// A handshake whose upgrade fails (a plain GET on a stream URL) is no
// connection: it does not keep a slot of Options.ConnectLimit. Before
// the fix the venue counted the admission before the upgrade and kept it
// when the upgrade failed, so ConnectLimit failed upgrades refused every
// later client with 429 for the whole window.
func TestS29FailedUpgradeFreesItsConnectSlot(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 1, ConnectLimit: 2, ConnectWindow: time.Hour})
	defer v.Close()
	for range 5 {
		s27rvPlainGet(t, v.StreamURL("btcusdt@trade"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 2 {
		c, _, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), nil)
		require.NoError(t, err, "dial %d after failed upgrades", i)
		defer func() { _ = c.CloseNow() }()
	}
	_, resp, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), nil)
	require.Error(t, err, "the limit still holds for real connections")
	require.NotNil(t, resp)
	assert.Equal(t, 429, resp.StatusCode)
	assert.EqualValues(t, 1, v.Stats().ConnectRefused)
}

// A WS-API handshake whose upgrade fails costs no request weight
// ("Connecting to WebSocket API costs 2 weight": a failed upgrade is no
// connection). Before the fix each plain GET on /ws-api/v3 spent 2.
func TestS29FailedAPIUpgradeCostsNoWeight(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 1})
	defer v.Close()
	for range 5 {
		s27rvPlainGet(t, v.APIURL())
	}
	c := dial(t, v.APIURL())
	defer func() { _ = c.CloseNow() }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"id":1,"method":"ping"}`)))
	_, msg, err := c.Read(ctx)
	require.NoError(t, err)
	// 2 for this connection, 1 for the ping; none for the failed upgrades
	// (unless the minute turned between them, which only lowers it).
	assert.Contains(t, string(msg), `"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":`)
	assert.Regexp(t, `"count":[123]\}`, string(msg))
}

// Binance's WS-API has its own connection limit (WebSocket API "Rate
// limits", https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/rate-limits:
// "There is a limit of 300 connections per attempt every 5 minutes. The
// connection is per IP address."): with Options.ConnectLimit the WS-API's
// handshake past it is refused as the streams' is, counted apart from
// the streams' (another host, ws-api.binance.com). Before, the WS-API
// was not limited at all.
func TestS29ConnectLimitOnTheWSAPI(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 1, ConnectLimit: 2, Clock: clk, PingInterval: -1})
	defer v.Close()
	ctx := s29Ctx(t)
	s27rvPlainGet(t, v.APIURL()) // a failed upgrade takes no slot
	for range 2 {
		c, _, err := websocket.Dial(ctx, v.APIURL(), nil)
		require.NoError(t, err)
		defer func() { _ = c.CloseNow() }()
	}
	clk.Advance(time.Minute)
	_, resp, err := websocket.Dial(ctx, v.APIURL(), nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, 429, resp.StatusCode)
	assert.Equal(t, "240", resp.Header.Get("Retry-After"))
	assert.EqualValues(t, 1, v.Stats().ConnectRefused)
	// The streams count apart.
	c, _, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), nil)
	require.NoError(t, err)
	_ = c.CloseNow()
	clk.Advance(4 * time.Minute)
	c, _, err = websocket.Dial(ctx, v.APIURL(), nil)
	require.NoError(t, err, "the window has passed")
	_ = c.CloseNow()
}
