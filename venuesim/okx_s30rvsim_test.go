package venuesim_test

import (
	"testing"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// OKX echoes a request's "id" in its answers (v5 "Order book channel",
// Request Parameters "id: Unique identifier of message (client
// provided)"; its Response and Failure examples carry "id":"1512", the
// failure one for a request with "argss"): the subscribe and unsubscribe
// answers, 60018 and 60012 alike; a request without id gets none.
func TestS30rvsimOKXEchoesID(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Symbols: []string{"BTCUSDT"}, Rate: 1})
	defer v.Close()
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.OKXURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	for _, tc := range []struct{ req, event, code, id string }{
		{`{"id":"1512","op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}`, "subscribe", "", "1512"},
		{`{"id":"1513","op":"unsubscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}`, "unsubscribe", "", "1513"},
		{`{"id":"a7","op":"subscribe","args":[{"channel":"trades","instId":"XRP-USDT"}]}`, "error", "60018", "a7"},
		{`{"id":"1512","op":"subscribe","argss":[{"channel":"books","instId":"BTC-USD-191227"}]}`, "error", "60012", "1512"},
		{`{"op":"subscribe","args":[{"channel":"trades","instId":"BTC-USDT"}]}`, "subscribe", "", ""},
	} {
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(tc.req)))
		_, msg, err := c.Read(ctx)
		require.NoError(t, err)
		var e struct {
			ID    *string `json:"id"`
			Event string  `json:"event"`
			Code  string  `json:"code"`
		}
		require.NoError(t, json.Unmarshal(msg, &e), "%s", msg)
		assert.Equal(t, tc.event, e.Event, "%s", msg)
		assert.Equal(t, tc.code, e.Code, "%s", msg)
		if tc.id == "" {
			assert.Nil(t, e.ID, "%s", msg)
			continue
		}
		if assert.NotNil(t, e.ID, "%s", msg) {
			assert.Equal(t, tc.id, *e.ID, "%s", msg)
		}
	}
}
