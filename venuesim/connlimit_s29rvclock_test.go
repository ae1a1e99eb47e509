package venuesim_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Options.ConnectLimit on a clock stepped back (a fake Options.Clock,
// as a wall clock stepped by NTP): a connection counted before an hour's
// step back still counts, but for at most the window from the step:
// Retry-After 300, and admitted once 5 minutes have passed on the clock.
// Before, the connection lay an hour in the clock's future: Retry-After
// 3900 and refused for 65 minutes.
func TestS29rvConnectLimitClockStepBack(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 1, Clock: clk, ConnectLimit: 1, PingInterval: -1})
	defer v.Close()
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), nil)
	require.NoError(t, err)
	_ = c.CloseNow()
	clk.Advance(-time.Hour)
	_, resp, err := websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "300", resp.Header.Get("Retry-After"), "at most the window")
	clk.Advance(5 * time.Minute)
	c, _, err = websocket.Dial(ctx, v.StreamURL("btcusdt@trade"), nil)
	require.NoError(t, err, "the window has passed on the clock since the step")
	_ = c.CloseNow()
}
