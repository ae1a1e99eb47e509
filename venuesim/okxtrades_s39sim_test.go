package venuesim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// OKX's trades pushes carry the order's source and a sequence id (OKX v5
// "Trades channel", push data: source "Order source, 0: normal order,
// 1: RPI order", seqId "Sequence ID of the current message"; a capture:
// {"instId":"BTC-USDT","tradeId":"1032787952",…,"count":"1","source":"0",
// "seqId":78755034232}, seqId a JSON number). venuesim's pushes had
// neither.
func TestS39simOKXTradesCarrySourceAndSeqID(t *testing.T) {
	v, _ := s37Still(t)
	okx := s36OKX(t, v, "trades")
	a := openAPI(t, v)
	var last float64
	for i, side := range []string{"BUY", "SELL", "BUY"} {
		id := 2 + i
		write(t, a.c, `{"id":`+itoa(uint64(id))+`,"method":"order.place","params":{"symbol":"BTCUSDT","side":"`+side+`","type":"MARKET","quantity":"0.00100000","timestamp":1}}`)
		a.response(float64(id))
		o := s36Next(t, okx)["data"].([]any)[0].(map[string]any)
		assert.Equal(t, "0", o["source"], "a normal order's print")
		seq, ok := o["seqId"].(float64)
		require.True(t, ok, "seqId a number: %v", o)
		assert.Greater(t, seq, last, "each print's seqId after the last")
		last = seq
	}
}
