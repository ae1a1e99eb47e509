package venuesim_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// OKX v5 "WebSocket", "Connect": "Connection limit: 3 requests per second
// (based on IP)". venuesim took any number of connects a second: a
// reconnect storm (every connection of a bot redialled at once) passed on
// venuesim and is refused by OKX. Options.OKXConnectLimit enforces it, on
// the Clock: the fourth handshake of a second is refused, HTTP 429 with
// OKX's rate-limit error 50011, and the next second admits again.
func TestS36simOKXConnectsThreeASecond(t *testing.T) {
	clk := newS29Clock(s29Epoch)
	v := venuesim.Start(&venuesim.Options{Rate: 10, Clock: clk, OKXConnectLimit: 3})
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	try := func() (*websocket.Conn, *http.Response, error) {
		c, resp, err := websocket.Dial(ctx, v.OKXURL(), nil)
		if c != nil {
			t.Cleanup(func() { _ = c.CloseNow() })
		}
		return c, resp, err
	}
	for i := range 3 {
		_, _, err := try()
		require.NoError(t, err, "connect %d of the second", i+1)
	}
	_, resp, err := try()
	require.Error(t, err, "the fourth connect of the second")
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	assert.JSONEq(t, `{"code":"50011","msg":"Too Many Requests","data":[]}`, string(body))
	assert.Equal(t, uint64(1), v.Stats().ConnectRefused)

	clk.Advance(time.Second)
	_, _, err = try()
	assert.NoError(t, err, "the next second admits again")
}
