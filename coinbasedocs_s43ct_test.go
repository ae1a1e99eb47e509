package meltica_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Contract tests written from Coinbase's Advanced Trade WebSocket
// documentation ("Overview", "Channels": level2, market_trades, ticker,
// ticker_batch, heartbeats, candles, subscriptions): each names the rule
// it checks, fed through the public API (NewCoinbase → Books → Book).

// s43ctL2 is an l2_data frame of one event.
func s43ctL2(seq int, typ, product, updates string) string {
	return fmt.Sprintf(`{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":%d,"events":[{"type":%q,"product_id":%q,"updates":[%s]}]}`, seq, typ, product, updates)
}

// s43ctUp is one l2_data update, the doc's shape.
func s43ctUp(side, px, qty string) string {
	return fmt.Sprintf(`{"side":%q,"event_time":"2023-02-09T20:32:50.714964855Z","price_level":%q,"new_quantity":%q}`, side, px, qty)
}

func s43ctHeartbeat(seq int) string {
	return fmt.Sprintf(`{"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z","sequence_num":%d,"events":[{"current_time":"2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105","heartbeat_counter":"3049"}]}`, seq)
}

// Advanced Trade "Level 2 order book": "new_quantity is the updated size
// at a price level (not a delta); a value of "0" means the level can be
// removed"; sides are "bid" and "offer". An update replaces a level's
// size, inserts a new price, and a 0 removes the level.
func TestS43ctCoinbaseNewQuantityIsTheSizeNotADelta(t *testing.T) {
	w := s43ctCoinbase.wire(t)
	require.NoError(t, w.feed(s43ctL2(0, "snapshot", "BTC-USD", s43ctUp("bid", "100.00", "1")+","+s43ctUp("bid", "99.00", "2")+","+s43ctUp("offer", "101.00", "3"))))
	assert.Equal(t, "100.00x1 99.00x2 | 101.00x3", w.levels(5))
	require.NoError(t, w.feed(s43ctL2(1, "update", "BTC-USD", s43ctUp("bid", "100.00", "2.5"))))
	assert.Equal(t, "100.00x2.5 99.00x2 | 101.00x3", w.levels(5), "2.5 is the size, not 1 + 2.5")
	require.NoError(t, w.feed(s43ctL2(2, "update", "BTC-USD", s43ctUp("bid", "100.00", "0")+","+s43ctUp("offer", "100.50", "4"))))
	assert.Equal(t, "99.00x2 | 100.50x4 101.00x3", w.levels(5), "removed and inserted")
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
}

// Advanced Trade "Level 2 order book": every l2_data event carries its
// updates array; an empty one changes nothing — and the message still
// counts in the connection's sequence_num, so the next one is no gap.
func TestS43ctCoinbaseEmptyUpdatesChangeNothing(t *testing.T) {
	w := s43ctCoinbase.wire(t)
	require.NoError(t, w.feed(s43ctL2(0, "snapshot", "BTC-USD", s43ctUp("bid", "100.00", "1")+","+s43ctUp("offer", "101.00", "3"))))
	require.NoError(t, w.feed(s43ctL2(1, "update", "BTC-USD", "")))
	assert.Equal(t, "100.00x1 | 101.00x3", w.levels(5))
	require.NoError(t, w.feed(s43ctL2(2, "update", "BTC-USD", s43ctUp("offer", "101.00", "2"))))
	assert.Equal(t, "100.00x1 | 101.00x2", w.levels(5))
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
	assert.Zero(t, w.resubscribes())
}

// Advanced Trade "Overview" → "Sequence Numbers": sequence_num counts the
// connection's messages; a number already seen is a message delivered
// again (the doc: "out of order, or duplicated"), not a newer one — it is
// dropped: the book does not go back to the repeated sizes, and no gap
// is announced.
func TestS43ctCoinbaseRepeatedSequenceNumIsDropped(t *testing.T) {
	w := s43ctCoinbase.wire(t)
	require.NoError(t, w.feed(s43ctL2(0, "snapshot", "BTC-USD", s43ctUp("bid", "100.00", "1")+","+s43ctUp("offer", "101.00", "3"))))
	require.NoError(t, w.feed(s43ctL2(1, "update", "BTC-USD", s43ctUp("bid", "100.00", "2"))))
	require.NoError(t, w.feed(s43ctL2(2, "update", "BTC-USD", s43ctUp("bid", "100.00", "5"))))
	_ = w.feed(s43ctL2(1, "update", "BTC-USD", s43ctUp("bid", "100.00", "2")))
	_ = w.feed(s43ctL2(2, "update", "BTC-USD", s43ctUp("bid", "100.00", "5")+","+s43ctUp("bid", "99.00", "1")))
	assert.Equal(t, "100.00x5 | 101.00x3", w.levels(5), "repeats change nothing")
	require.NoError(t, w.feed(s43ctL2(3, "update", "BTC-USD", s43ctUp("bid", "100.00", "6"))))
	assert.Equal(t, "100.00x6 | 101.00x3", w.levels(5))
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
}

// Advanced Trade "Channels" → "Heartbeats Channel": heartbeats come every
// second on the same connection, with their own sequence_num (the doc's
// example: "sequence_num": 0); a heartbeat between two l2_data messages
// is no lost message, and it is published as a heartbeat.
func TestS43ctCoinbaseHeartbeatsCountInTheSequence(t *testing.T) {
	w := s43ctCoinbase.wire(t)
	require.NoError(t, w.feed(s43ctHeartbeat(0)))
	require.NoError(t, w.feed(s43ctL2(1, "snapshot", "BTC-USD", s43ctUp("bid", "100.00", "1")+","+s43ctUp("offer", "101.00", "3"))))
	require.NoError(t, w.feed(s43ctHeartbeat(2)))
	require.NoError(t, w.feed(s43ctHeartbeat(3)))
	require.NoError(t, w.feed(s43ctL2(4, "update", "BTC-USD", s43ctUp("bid", "100.50", "1"))))
	assert.Equal(t, "100.50x1 100.00x1 | 101.00x3", w.levels(5))
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)

	x := s43ctCoinbase.events(t)
	evs := s43ctOnly(t, x, s43ctHeartbeat(0))
	require.Len(t, evs, 1)
	require.NotNil(t, evs[0].Control)
	assert.Equal(t, schema.ControlHeartbeat, evs[0].Control.Kind)
}

// Advanced Trade "Level 2 order book": the first message of a
// subscription is the product's snapshot; a snapshot later on the stream
// (a resubscription's) is the whole book again — nothing of the old book
// survives it.
func TestS43ctCoinbaseSnapshotMidStreamReplacesTheBook(t *testing.T) {
	w := s43ctCoinbase.wire(t)
	require.NoError(t, w.feed(s43ctL2(0, "snapshot", "BTC-USD", s43ctUp("bid", "100.00", "1")+","+s43ctUp("offer", "101.00", "3"))))
	require.NoError(t, w.feed(s43ctL2(1, "update", "BTC-USD", s43ctUp("bid", "99.00", "7"))))
	require.NoError(t, w.feed(s43ctL2(2, "snapshot", "BTC-USD", s43ctUp("bid", "90.00", "1")+","+s43ctUp("offer", "91.00", "3"))))
	assert.Equal(t, "90.00x1 | 91.00x3", w.levels(5))
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
}

// Advanced Trade "Level 2 order book": the book starts from the
// snapshot; an update before it (of a product whose snapshot was not
// received) serves nothing, and the snapshot then makes the book live
// with its levels alone.
func TestS43ctCoinbaseUpdateBeforeSnapshotServesNothing(t *testing.T) {
	w := s43ctCoinbase.wire(t)
	_ = w.feed(s43ctL2(0, "update", "BTC-USD", s43ctUp("bid", "100.50", "1")))
	assert.Equal(t, "not live", w.levels(5))
	require.NoError(t, w.feed(s43ctL2(1, "snapshot", "BTC-USD", s43ctUp("bid", "100.00", "1")+","+s43ctUp("offer", "101.00", "3"))))
	assert.Equal(t, "100.00x1 | 101.00x3", w.levels(5))
}

// Advanced Trade "Overview": a message carries an events array — one
// l2_data frame may hold events of several products; each applies to its
// own product's book (here an empty one of ETH-USD before BTC-USD's).
func TestS43ctCoinbaseSeveralEventsInOneFrame(t *testing.T) {
	w := s43ctCoinbase.wire(t)
	require.NoError(t, w.feed(s43ctL2(0, "snapshot", "BTC-USD", s43ctUp("bid", "100.00", "1")+","+s43ctUp("offer", "101.00", "3"))))
	require.NoError(t, w.feed(`{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":1,"events":[`+
		`{"type":"update","product_id":"ETH-USD","updates":[`+s43ctUp("bid", "10.00", "1")+`]},`+
		`{"type":"update","product_id":"BTC-USD","updates":[`+s43ctUp("bid", "100.50", "2")+`]},`+
		`{"type":"update","product_id":"BTC-USD","updates":[`+s43ctUp("offer", "100.80", "1")+`]}]}`))
	assert.Equal(t, "100.50x2 100.00x1 | 100.80x1 101.00x3", w.levels(5))
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
}

// Advanced Trade "Channels" → "Market Trades Channel": trades come in an
// events[].trades array, each with trade_id, product_id, price, size,
// side ("Taker side of the trade": BUY, SELL) and time (RFC 3339, to the
// microsecond here): each its own trade event, its time exact in ns.
func TestS43ctCoinbaseMarketTradesArray(t *testing.T) {
	x := s43ctCoinbase.events(t)
	evs := s43ctOnly(t, x, `{"channel":"market_trades","client_id":"","timestamp":"2026-04-07T14:30:02.789012Z","sequence_num":5,"events":[{"type":"update","trades":[`+
		`{"trade_id":"995098700","product_id":"BTC-USD","price":"68900.50","size":"0.00150000","side":"BUY","time":"2026-04-07T14:30:02.789012Z"},`+
		`{"trade_id":"995098701","product_id":"BTC-USD","price":"68900.00","size":"0.05000000","side":"SELL","time":"2026-04-07T14:30:02.800000123Z"}]}]}`)
	require.Len(t, evs, 2)
	assert.Equal(t, "995098700", evs[0].Trade.ID.String())
	assert.Equal(t, "68900.50", evs[0].Trade.Price.String())
	assert.Equal(t, "0.00150000", evs[0].Trade.Qty.String())
	assert.Equal(t, schema.SideBuy, evs[0].Trade.Side)
	assert.Equal(t, int64(1775572202789012000), evs[0].ExchangeTS)
	assert.Equal(t, "995098701", evs[1].Trade.ID.String())
	assert.Equal(t, schema.SideSell, evs[1].Trade.Side)
	assert.Equal(t, int64(1775572202800000123), evs[1].ExchangeTS, "nanoseconds kept")
	for _, ev := range evs {
		assert.Equal(t, "BTC-USD", ev.Symbol)
		assert.Equal(t, schema.EventTrade, ev.Type)
	}
}

// Advanced Trade "Channels" → "Ticker Channel" and "Ticker Batch
// Channel": ticker_batch sends the ticker's members every 5000 ms; its
// doc example has no best bid or offer — accepted as a ticker without
// them; the ticker channel's carries best_bid, best_bid_quantity,
// best_ask, best_ask_quantity. price_percent_chg_24_h is in percent
// already (kept as sent).
func TestS43ctCoinbaseTickerAndTickerBatch(t *testing.T) {
	x := s43ctCoinbase.events(t)
	members := `"product_id":"BTC-USD","price":"21932.98","volume_24_h":"16038.28770938","low_24_h":"21835.29","high_24_h":"23011.18","low_52_w":"15460","high_52_w":"48240","price_percent_chg_24_h":"-4.15775596190603"`
	evs := s43ctOnly(t, x, `{"channel":"ticker_batch","client_id":"","timestamp":"2022-10-19T23:28:22.061769Z","sequence_num":0,"events":[{"type":"snapshot","tickers":[{"type":"ticker",`+members+`}]}]}`)
	require.Len(t, evs, 1)
	tk := evs[0].Ticker
	require.NotNil(t, tk)
	assert.Equal(t, "21932.98", tk.Last.String())
	assert.Equal(t, "23011.18", tk.High.String())
	assert.Equal(t, "21835.29", tk.Low.String())
	assert.Equal(t, "16038.28770938", tk.Volume.String())
	assert.Equal(t, "-4.15775596190603", tk.ChangePct.String())
	assert.True(t, tk.BidPrice.IsZero())
	evs = s43ctOnly(t, x, `{"channel":"ticker","client_id":"","timestamp":"2022-10-19T23:28:22.061769Z","sequence_num":1,"events":[{"type":"update","tickers":[{"type":"ticker",`+members+
		`,"best_bid":"21931.98","best_bid_quantity":"8000.21","best_ask":"21933.98","best_ask_quantity":"8038.07770938"}]}]}`)
	require.Len(t, evs, 1)
	tk = evs[0].Ticker
	assert.Equal(t, "21931.98", tk.BidPrice.String())
	assert.Equal(t, "8000.21", tk.BidQty.String())
	assert.Equal(t, "21933.98", tk.AskPrice.String())
	assert.Equal(t, "8038.07770938", tk.AskQty.String())
	assert.Equal(t, int64(1666222102061769000), evs[0].ExchangeTS)
}

// Advanced Trade "Overview" → "Subscribe": the answer to a subscribe is a
// "subscriptions" message listing what the connection is subscribed to
// (an ack); an {"type":"error","message":…} is a refusal whose message
// says why.
func TestS43ctCoinbaseSubscriptionsAndErrors(t *testing.T) {
	x := s43ctCoinbase.events(t)
	evs := s43ctOnly(t, x, `{"channel":"subscriptions","client_id":"","timestamp":"2026-04-07T14:30:00.000000Z","sequence_num":0,"events":[{"subscriptions":{"level2":["BTC-USD"],"market_trades":["BTC-USD","ETH-USD"]}}]}`)
	require.Len(t, evs, 1)
	require.NotNil(t, evs[0].Control)
	assert.Equal(t, schema.ControlSubscribeAck, evs[0].Control.Kind)
	evs = s43ctOnly(t, x, `{"type":"error","message":"failure to subscribe"}`)
	require.Len(t, evs, 1)
	require.NotNil(t, evs[0].Control)
	assert.Equal(t, schema.ControlVenueError, evs[0].Control.Kind)
	assert.Equal(t, "failure to subscribe", evs[0].Control.Reason)
}

// Advanced Trade "Channels" → "Candles Channel": "Candles are grouped
// into buckets (granularities) of five minutes"; start is Unix seconds,
// as text. The candle opens at start and closes five minutes later.
func TestS43ctCoinbaseCandlesAreFiveMinutesFromUnixSeconds(t *testing.T) {
	x := s43ctCoinbase.events(t)
	evs := s43ctOnly(t, x, `{"channel":"candles","client_id":"","timestamp":"2023-06-09T20:19:35.39625135Z","sequence_num":0,"events":[{"type":"snapshot","candles":[{"start":"1688998200","high":"1867.72","low":"1865.63","open":"1867.38","close":"1866.81","volume":"0.20269406","product_id":"ETH-USD"}]}]}`)
	require.Len(t, evs, 1)
	k := evs[0].Kline
	require.NotNil(t, k)
	assert.Equal(t, "ETH-USD", evs[0].Symbol)
	assert.Equal(t, int64(1688998200_000000000), k.OpenTime)
	assert.Equal(t, int64(1688998500_000000000), k.CloseTime)
	assert.Equal(t, "5m", k.Interval)
	assert.Equal(t, "1867.38", k.Open.String())
	assert.Equal(t, "1866.81", k.Close.String())
	assert.Equal(t, "0.20269406", k.Volume.String())
}
