package venuesim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/venuesim"
)

// Binance spot's client order ids: its -1100 answer names the legal range
// '^[a-zA-Z0-9-_]{1,36}$' for newClientOrderId and origClientOrderId
// (binance-spot-api-docs pull request #34, a Binance maintainer: "dot(.)
// is not allowed"); the wider ^[\.A-Z\:/a-z0-9_-]{1,36}$ is the futures
// API's. The simulator took dots, colons and slashes, so a bot whose ids
// carry them passed every test and was refused live.
func TestS25SpotClientIDAlphabet(t *testing.T) {
	v := venuesim.Start(&venuesim.Options{Rate: 50})
	defer v.Close()
	a := openAPI(t, v)
	const cidRange = `; legal range is '^[a-zA-Z0-9-_]{1,36}$'.`
	id := 10
	ask := func(method, params string) map[string]any {
		id++
		write(t, a.c, `{"id":`+itoa(uint64(id))+`,"method":"`+method+`","params":{"symbol":"ETHUSDT",`+params+`"timestamp":1}}`)
		e, _ := a.response(float64(id))["error"].(map[string]any)
		return e
	}
	const limit = `"side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"100.00","quantity":"1",`
	for _, cid := range []string{"bot.1", "bot:1", "bot/1", "x_abc.def"} {
		assert.Equal(t, map[string]any{"code": float64(-1100), "msg": "Illegal characters found in parameter 'newClientOrderId'" + cidRange},
			ask("order.place", limit+`"newClientOrderId":"`+cid+`",`), "newClientOrderId %q", cid)
		assert.Equal(t, map[string]any{"code": float64(-1100), "msg": "Illegal characters found in parameter 'origClientOrderId'" + cidRange},
			ask("order.cancel", `"origClientOrderId":"`+cid+`",`), "origClientOrderId %q", cid)
		assert.Equal(t, map[string]any{"code": float64(-1100), "msg": "Illegal characters found in parameter 'origClientOrderId'" + cidRange},
			ask("order.status", `"origClientOrderId":"`+cid+`",`), "order.status origClientOrderId %q", cid)
	}
	assert.Nil(t, ask("order.place", limit+`"newClientOrderId":"Bot_1-a",`), "letters, digits, - and _")
	// Counted once its answer is out: waited for, not raced.
	require.Eventually(t, func() bool { return v.Stats().Orders == 1 }, 30*time.Second, time.Millisecond, "the legal one taken")
	assert.Equal(t, uint64(1), v.Stats().Orders, "only the legal one taken")
}
