package venuesim_test

import (
	"testing"

	"github.com/coder/websocket"
	json "github.com/goccy/go-json"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A taker order that walks two levels prints one aggregate trade a
// price, each naming its own trades: "f" its first trade id, "l" its last
// ("Aggregate Trade Streams": "f" First trade ID, "l" Last trade ID), the
// same ids as the FULL answer's fills. The first aggregate's "l" was the
// order's last trade id, so that the two aggregates overlapped.
func TestS37rvsimAggregatesOfAWalkNameTheirOwnTrades(t *testing.T) {
	v, _ := s37Still(t)
	ctx := s29Ctx(t)
	c, _, err := websocket.Dial(ctx, v.CombinedURL(), nil)
	require.NoError(t, err)
	defer func() { _ = c.CloseNow() }()
	msgs := s34simReader(ctx, t, c)
	s34simSubscribe(ctx, t, c, msgs, "btcusdt@aggTrade")
	before := getSnapshot(t, v, "BTCUSDT", 5)
	p0, q0 := before.Asks[0][0], s37Units(t, before.Asks[0][1])
	p1 := before.Asks[1][0]

	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"MARKET","quantity":"`+s37Dec(q0+100_000)+`","timestamp":1}}`)
	res := a.response(2)["result"].(map[string]any)
	require.Equal(t, "FILLED", res["status"])
	fills := res["fills"].([]any)
	require.Len(t, fills, 2, "one fill a level")
	var ids []uint64
	for _, f := range fills {
		ids = append(ids, uint64(f.(map[string]any)["tradeId"].(float64)))
	}

	type agg struct {
		Price string `json:"p"`
		First uint64 `json:"f"`
		Last  uint64 `json:"l"`
	}
	var got []agg
	for range 2 {
		m := s34simNext(t, msgs)
		require.Equal(t, "btcusdt@aggTrade", m.Stream)
		var g agg
		require.NoError(t, json.Unmarshal(m.Data, &g))
		got = append(got, g)
	}
	assert.Equal(t, []agg{{p0, ids[0], ids[0]}, {p1, ids[1], ids[1]}}, got)
}

// A taker fill is not the maker side, whatever its price: a LIMIT order
// priced at the best ask fills there, at its own price, as the taker
// (executionReport "m": "Is this trade the maker side?"). The report
// said maker whenever the fill's price was the order's.
func TestS37rvsimTakerFillAtItsLimitIsNoMaker(t *testing.T) {
	v, _ := s37Still(t)
	before := getSnapshot(t, v, "BTCUSDT", 5)
	p0 := before.Asks[0][0]
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"`+p0+`","quantity":"0.00100000","timestamp":1}}`)
	require.Equal(t, "FILLED", a.response(2)["result"].(map[string]any)["status"])
	assert.Equal(t, "NEW", a.report()["x"])
	for range 2 {
		r := a.report()
		assert.Equal(t, []any{"TRADE", p0, false}, []any{r["x"], r["L"], r["m"]}, "a taker's fill")
	}
}
