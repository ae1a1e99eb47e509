package venuesim_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// OKX limits the subscribe, unsubscribe and login requests of a
// connection to 480 an hour (v5 "WebSocket", "Connect": "The total number
// of 'subscribe'/'unsubscribe'/'login' requests per connection is
// limited to 480 times per hour"; "Error Code" 60014 "Requests too
// frequent"). The simulator answered every one: a client that
// resubscribes in a loop, or unsubscribes and subscribes each instrument
// apart, ran clean here and is refused there — its streams left unserved
// after the 480th request. Now the 481st request of the hour is refused
// with 60014, its arg left unsubscribed, the connection kept.
func TestS35simOKXRequestsAnHour(t *testing.T) {
	v, _ := s34simStart(t, "BTCUSDT") // the clock stands still: nothing traded, no idle cut
	c, ctx := s33simDial(t, v.OKXURL())
	ops := [2]string{"subscribe", "unsubscribe"}
	for i := range 480 {
		req := fmt.Sprintf(`{"id":"%d","op":%q,"args":[{"channel":"trades","instId":"BTC-USDT"}]}`, i, ops[i%2])
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(req)))
		_, msg, err := c.Read(ctx)
		require.NoError(t, err)
		require.Contains(t, string(msg), `"event":"`+ops[i%2]+`"`, "request %d: %s", i, msg)
	}
	require.NoError(t, c.Write(ctx, websocket.MessageText,
		[]byte(`{"id":"480","op":"subscribe","args":[{"channel":"tickers","instId":"BTC-USDT"}]}`)))
	_, msg, err := c.Read(ctx)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(msg), `{"id":"480","event":"error","code":"60014","msg":"Requests too frequent."`), "%s", msg)
	// The connection stays, and still answers its pings.
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("ping")))
	_, msg, err = c.Read(ctx)
	require.NoError(t, err)
	assert.Equal(t, "pong", string(msg))
}
