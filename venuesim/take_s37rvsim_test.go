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

// A MARKET order by quote amount spends at most that amount, however
// many levels it walks ("quoteOrderQty": the amount "the user wants to
// spend"; "the correct quantity will be determined based on the market
// liquidity and quoteOrderQty"). The quantity was reckoned at the best
// ask alone: the worth of twenty levels took more than twenty, at higher
// prices, and spent more than the amount.
func TestS37rvsimQuoteOrderWalkSpendsNoMoreThanItsAmount(t *testing.T) {
	v, _ := s34simStart(t, "ABCUSDT") // price 10, tick 0.0001: a walk's prices rise fast
	v.Pause(true)
	before := getSnapshot(t, v, "ABCUSDT", 100)
	const levels = 20
	require.Greater(t, len(before.Asks), levels)
	var amount, qty int64
	for _, l := range before.Asks[:levels] {
		p, q := s37Units(t, l[0]), s37Units(t, l[1])
		amount += p * (q / 1000) / 100_000 // exact: q a multiple of 0.001
		qty += q
	}
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"ABCUSDT","side":"BUY","type":"MARKET","quoteOrderQty":"`+s37Dec(amount)+`","timestamp":1}}`)
	res := a.response(2)["result"].(map[string]any)
	require.Equal(t, "FILLED", res["status"])
	assert.Equal(t, s37Dec(amount), res["cummulativeQuoteQty"], "the twenty levels' worth, no more")
	assert.Equal(t, s37Dec(qty), res["executedQty"], "the twenty levels")
	assert.Equal(t, res["origQty"], res["executedQty"])
	assert.Len(t, s37Fills(res), levels)
}

// A GTC buy priced two levels up takes both levels, each at its price,
// and rests with the rest: the quote asset pays the two fills from free
// and locks the rest at the order's price; the base asset receives the
// fills less their fees (Binance "User Data Streams": outboundAccountPosition).
func TestS37rvsimWalkThenRestBalances(t *testing.T) {
	v, _ := s37Still(t)
	before := getSnapshot(t, v, "BTCUSDT", 5)
	p0, q0 := s37Units(t, before.Asks[0][0]), s37Units(t, before.Asks[0][1])
	p1, q1 := s37Units(t, before.Asks[1][0]), s37Units(t, before.Asks[1][1])
	const rest = 1_000_000 // 0.01 more than the two levels hold
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","timeInForce":"GTC","price":"`+s37Dec(p1)+`","quantity":"`+s37Dec(q0+q1+rest)+`","timestamp":1}}`)
	res := a.response(2)["result"].(map[string]any)
	require.Equal(t, "PARTIALLY_FILLED", res["status"])
	assert.Equal(t, [][2]string{{s37Dec(p0), s37Dec(q0)}, {s37Dec(p1), s37Dec(q1)}}, s37Fills(res))
	mul := func(px, q int64) int64 { return (px / 1000) * q / 100_000 } // exact: px a multiple of 0.01
	const start = 1_000_000 * 100_000_000
	free, locked := v.Balance("USDT")
	assert.Equal(t, []string{s37Dec(start - mul(p0, q0) - mul(p1, q1) - mul(p1, rest)), s37Dec(mul(p1, rest))}, []string{free, locked})
	free, locked = v.Balance("BTC")
	fee := func(q int64) int64 { return q / 1000 }
	assert.Equal(t, []string{s37Dec(start + q0 - fee(q0) + q1 - fee(q1)), s37Dec(0)}, []string{free, locked})
}

// A MARKET sell by quote amount sells what receives the amount, walking
// the bids down, each at its price: the worth of twenty bid levels sells
// those twenty levels (the amount at the best bid alone sold too little
// to receive it).
func TestS37rvsimQuoteSellReceivesItsAmount(t *testing.T) {
	v, _ := s34simStart(t, "ABCUSDT")
	v.Pause(true)
	before := getSnapshot(t, v, "ABCUSDT", 100)
	const levels = 20
	require.Greater(t, len(before.Bids), levels)
	var amount, qty int64
	for _, l := range before.Bids[:levels] {
		p, q := s37Units(t, l[0]), s37Units(t, l[1])
		amount += p * (q / 1000) / 100_000
		qty += q
	}
	a := openAPI(t, v)
	write(t, a.c, `{"id":2,"method":"order.place","params":{"symbol":"ABCUSDT","side":"SELL","type":"MARKET","quoteOrderQty":"`+s37Dec(amount)+`","timestamp":1}}`)
	res := a.response(2)["result"].(map[string]any)
	require.Equal(t, "FILLED", res["status"])
	assert.Equal(t, s37Dec(amount), res["cummulativeQuoteQty"])
	assert.Equal(t, s37Dec(qty), res["executedQty"])
	assert.Len(t, s37Fills(res), levels)
}
