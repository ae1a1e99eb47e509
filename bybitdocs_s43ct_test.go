package meltica_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
)

// Contract tests written from Bybit's v5 WebSocket documentation
// ("Orderbook", "Trade", "Ticker", "Connect"): each names the rule it
// checks, fed through the public API (NewBybit → Books → Book).

// s43ctVenue is a venue's parser and book rule, for these tests.
type s43ctVenue struct {
	rule   book.Rule
	symbol string
	parser func(*schema.Pools, normalize.Sink) *normalize.Parser
}

var (
	s43ctBybit = s43ctVenue{book.Bybit, "BTC-USDT", func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewBybit(p.Events, s, nil)
	}}
	s43ctCoinbase = s43ctVenue{book.Coinbase, "BTC-USD", func(p *schema.Pools, s normalize.Sink) *normalize.Parser {
		return normalize.NewCoinbase(p.Events, s, nil)
	}}
)

// wire is the venue's parser feeding its symbol's book through Books.
func (v s43ctVenue) wire(t *testing.T) *s31ctWireBook {
	return newS31ctWireBook(t, v.rule, v.symbol, v.parser)
}

// events is the venue's parser whose events are kept.
func (v s43ctVenue) events(t *testing.T) *s34ctExecs { return newS34ctExecs(t, v.parser) }

// s43ctBook is an orderbook.50.BTCUSDT push with update id u.
func s43ctBook(typ string, u uint64, bids, asks string) string {
	return s34ctBybitBook(50, typ, u, 1671179923028+int64(u), bids, asks)
}

// s43ctOnly feeds msg, requires it accepted, and returns its events.
func s43ctOnly(t *testing.T, x *s34ctExecs, msg string) []*schema.CanonicalEvent {
	t.Helper()
	require.NoError(t, x.feed(msg), "%s", msg)
	return x.take()
}

// Bybit v5 "Orderbook", the doc's own delta example: "b": [] — a side
// with nothing changed. A delta with both sides empty changes nothing and
// still takes its place in the u chain: no gap, and the next delta
// applies.
func TestS43ctBybitEmptyDeltaContinuesTheChain(t *testing.T) {
	w := s43ctBybit.wire(t)
	require.NoError(t, w.feed(s43ctBook("snapshot", 100, `["100.0","1"]`, `["101.0","2"]`)))
	require.NoError(t, w.feed(s43ctBook("delta", 101, ``, ``)))
	assert.Equal(t, "100.0x1 | 101.0x2", w.levels(5), "an empty delta changes nothing")
	require.NoError(t, w.feed(s43ctBook("delta", 102, `["100.0","3"]`, ``)))
	assert.Equal(t, "100.0x3 | 101.0x2", w.levels(5), "the delta after it applies")
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
	assert.Zero(t, w.resubscribes())
}

// Bybit v5 "Orderbook" → "Process snapshot/delta": "If you receive an
// amount that is 0, delete the entry; If you receive an amount that does
// not exist, insert it; If the entry exists, you simply update the
// value". A 0 for a price the book does not hold deletes nothing and
// breaks nothing.
func TestS43ctBybitDeltaDeletesInsertsAndUpdates(t *testing.T) {
	w := s43ctBybit.wire(t)
	require.NoError(t, w.feed(s43ctBook("snapshot", 100, `["100.0","1"],["99.0","2"]`, `["101.0","2"],["102.0","4"]`)))
	require.NoError(t, w.feed(s43ctBook("delta", 101, `["99.0","0"],["99.5","7"],["100.0","1.5"]`, `["102.0","0"]`)))
	assert.Equal(t, "100.0x1.5 99.5x7 | 101.0x2", w.levels(5), "deleted, inserted, updated")
	require.NoError(t, w.feed(s43ctBook("delta", 102, `["98.0","0"]`, `["105.0","0"]`)))
	assert.Equal(t, "100.0x1.5 99.5x7 | 101.0x2", w.levels(5), "a delete of an absent price changes nothing")
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
}

// Bybit v5 "Orderbook": bids and asks are "sorted by price in descending
// (ascending) order" "For snapshot stream" only — a delta's levels come
// in no stated order. The book serves best first whatever the order of
// a delta's levels, and a snapshot in the documented order is served as
// sent.
func TestS43ctBybitDeltaLevelsInAnyOrder(t *testing.T) {
	w := s43ctBybit.wire(t)
	require.NoError(t, w.feed(s43ctBook("snapshot", 100, `["100.0","1"],["99.0","1"]`, `["101.0","2"],["102.0","2"]`)))
	assert.Equal(t, "100.0x1 99.0x1 | 101.0x2 102.0x2", w.levels(5))
	require.NoError(t, w.feed(s43ctBook("delta", 101, `["98.5","3"],["100.5","1"],["99.5","1"]`, `["103.0","1"],["101.5","2"],["100.8","1"]`)))
	assert.Equal(t, "100.5x1 100.0x1 99.5x1 99.0x1 98.5x3 | 100.8x1 101.0x2 101.5x2 102.0x2 103.0x1", w.levels(10))
}

// Bybit v5 "Orderbook": u, the update id, "is always in sequence". A
// delta delivered again after a later one (a repeat: its u at or below
// the book's) must not roll the book back to its older size, and is no
// gap; the next delta in sequence continues the book.
func TestS43ctBybitRepeatedDeltaDoesNotRollBack(t *testing.T) {
	w := s43ctBybit.wire(t)
	require.NoError(t, w.feed(s43ctBook("snapshot", 100, `["100.0","1"]`, `["101.0","2"]`)))
	require.NoError(t, w.feed(s43ctBook("delta", 101, `["100.0","3"]`, ``)))
	require.NoError(t, w.feed(s43ctBook("delta", 102, `["100.0","5"]`, ``)))
	_ = w.feed(s43ctBook("delta", 101, `["100.0","3"]`, ``))
	assert.Equal(t, "100.0x5 | 101.0x2", w.levels(5), "the older delta again changes nothing")
	_ = w.feed(s43ctBook("delta", 102, `["100.0","5"],["99.0","1"]`, ``))
	assert.Equal(t, "100.0x5 | 101.0x2", w.levels(5), "the same delta twice is applied once")
	require.NoError(t, w.feed(s43ctBook("delta", 103, `["100.0","6"]`, ``)))
	assert.Equal(t, "100.0x6 | 101.0x2", w.levels(5))
	assert.Zero(t, w.gaps(), "a repeat is no gap: %v", w.sink.gaps)
	assert.Zero(t, w.resubscribes())
}

// Bybit v5 "Orderbook": "Once you have subscribed successfully, you will
// receive a snapshot" — the book starts from it. A delta before any
// snapshot (a stray one of an earlier subscription) is no book: nothing
// is served; the snapshot then makes the book live with its levels only.
func TestS43ctBybitDeltaBeforeSnapshotServesNothing(t *testing.T) {
	w := s43ctBybit.wire(t)
	_ = w.feed(s43ctBook("delta", 101, `["100.0","3"]`, `["100.5","1"]`))
	assert.Equal(t, "not live", w.levels(5))
	require.NoError(t, w.feed(s43ctBook("snapshot", 102, `["100.0","1"]`, `["101.0","2"]`)))
	assert.Equal(t, "100.0x1 | 101.0x2", w.levels(5), "the snapshot's levels alone")
	require.NoError(t, w.feed(s43ctBook("delta", 103, `["99.0","1"]`, ``)))
	assert.Equal(t, "100.0x1 99.0x1 | 101.0x2", w.levels(5))
}

// Bybit v5 "Orderbook": "Occasionally, you'll receive "u"=1, which is a
// snapshot data due to the restart of the service. So please overwrite
// your local orderbook" — also when the restart's book is empty (Bybit
// v5 "Full Orderbook", u = 1 table: "Symbol delist | u=1, b=[], a=[] |
// Clear local book"). Nothing of the book before it may be served.
func TestS43ctBybitRestartWithAnEmptyBookClearsIt(t *testing.T) {
	w := s43ctBybit.wire(t)
	require.NoError(t, w.feed(s43ctBook("snapshot", 100, `["100.0","1"]`, `["101.0","2"]`)))
	require.NoError(t, w.feed(s43ctBook("delta", 101, `["99.0","1"]`, ``)))
	require.NoError(t, w.feed(s43ctBook("delta", 1, ``, ``)))
	assert.Equal(t, " | ", w.levels(5), "overwritten by an empty book")
	require.NoError(t, w.feed(s43ctBook("delta", 2, `["100.0","1"]`, `["101.0","2"]`)))
	assert.Equal(t, "100.0x1 | 101.0x2", w.levels(5), "deltas chain from u = 1")
	assert.Zero(t, w.gaps(), "%v", w.sink.gaps)
	assert.Equal(t, uint64(1), w.b.Stats().Restarts)
}

// Bybit v5 "Orderbook": u = 1 is "snapshot data" — so after a gap has
// stopped the book, a u = 1 message is a whole book and makes it live
// again with its levels alone, as a snapshot does.
func TestS43ctBybitRestartAfterAGapRepairsTheBook(t *testing.T) {
	w := s43ctBybit.wire(t)
	require.NoError(t, w.feed(s43ctBook("snapshot", 100, `["100.0","1"]`, `["101.0","2"]`)))
	_ = w.feed(s43ctBook("delta", 103, `["100.0","2"]`, ``))
	assert.Equal(t, "not live", w.levels(5), "u 101 and 102 lost")
	_ = w.feed(s43ctBook("delta", 1, `["99.0","1"]`, `["99.5","2"]`))
	assert.Equal(t, "99.0x1 | 99.5x2", w.levels(5), "the restart's book")
	require.NoError(t, w.feed(s43ctBook("delta", 2, `["99.2","1"]`, ``)))
	assert.Equal(t, "99.2x1 99.0x1 | 99.5x2", w.levels(5))
}

// Bybit v5 "Trade": publicTrade's data is an array ("A single message
// may contain up to 1024 trades"); T is the fill time in ms, S the
// taker's side, i the trade id (a string; UUIDs on derivatives), BT a
// block trade — still a trade. Each becomes an event of its own, in the
// venue's order, at T in ns.
func TestS43ctBybitPublicTradeArray(t *testing.T) {
	x := s43ctBybit.events(t)
	evs := s43ctOnly(t, x, `{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[`+
		`{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false,"seq":1783284617},`+
		`{"T":1672304486866,"s":"BTCUSDT","S":"Sell","v":"0.002","p":"16578.00","L":"MinusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023b0","BT":true,"seq":1783284618},`+
		`{"T":1672304486866,"s":"BTCUSDT","S":"Sell","v":"0.5","p":"16577.50","L":"MinusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023b1","BT":false,"seq":1783284618}]}`)
	require.Len(t, evs, 3)
	want := []struct {
		id, px, qty string
		side        schema.Side
		ts          int64
	}{
		{"20f43950-d8dd-5b31-9112-a178eb6023af", "16578.50", "0.001", schema.SideBuy, 1672304486865_000000},
		{"20f43950-d8dd-5b31-9112-a178eb6023b0", "16578.00", "0.002", schema.SideSell, 1672304486866_000000},
		{"20f43950-d8dd-5b31-9112-a178eb6023b1", "16577.50", "0.5", schema.SideSell, 1672304486866_000000},
	}
	for i, w := range want {
		ev := evs[i]
		assert.Equal(t, schema.EventTrade, ev.Type)
		assert.Equal(t, "BTC-USDT", ev.Symbol)
		assert.Equal(t, w.id, ev.Trade.ID.String(), "trade %d", i)
		assert.Equal(t, w.px, ev.Trade.Price.String())
		assert.Equal(t, w.qty, ev.Trade.Qty.String())
		assert.Equal(t, w.side, ev.Trade.Side)
		assert.Equal(t, w.ts, ev.ExchangeTS)
	}
}

// Bybit v5 "Ticker", option response: an option's best bid and offer are
// "bidPrice", "bidSize", "askPrice", "askSize" (not the derivatives'
// "bid1Price"…), and its 24 h change is "change24h", a ratio like
// price24hPcnt. Read from the doc's own option example, the ticker
// carries the offer (10 x 5.1), the bid "0" (none), and -33.333334 %.
func TestS43ctBybitOptionTickerBidAsk(t *testing.T) {
	x := s43ctBybit.events(t)
	require.NoError(t, x.parser.Symbols().Load([]normalize.Instrument{{Symbol: "BTC-6JAN23-17500-C", Base: "BTC", Quote: "USDC", Contract: "6JAN23-17500-C"}}))
	evs := s43ctOnly(t, x, `{"id":"tickers.BTC-6JAN23-17500-C-2480334983-1672917511074","topic":"tickers.BTC-6JAN23-17500-C","ts":1672917511074,"data":{"symbol":"BTC-6JAN23-17500-C","bidPrice":"0","bidSize":"0","bidIv":"0","askPrice":"10","askSize":"5.1","askIv":"0.514","lastPrice":"10","highPrice24h":"25","lowPrice24h":"5","markPrice":"7.86976724","indexPrice":"16823.73","markPriceIv":"0.4896","underlyingPrice":"16815.1","openInterest":"49.85","turnover24h":"446802.8473","volume24h":"26.55","totalVolume":"86","totalTurnover":"1437431","delta":"0.047831","gamma":"0.00021453","vega":"0.81351067","theta":"-19.9115368","predictedDeliveryPrice":"0","change24h":"-0.33333334"},"type":"snapshot"}`)
	require.Len(t, evs, 1)
	tk := evs[0].Ticker
	require.NotNil(t, tk)
	assert.Equal(t, "10", tk.AskPrice.String(), "askPrice")
	assert.Equal(t, "5.1", tk.AskQty.String(), "askSize")
	assert.True(t, tk.BidPrice.IsZero(), "bidPrice 0: no bid")
	assert.True(t, tk.BidQty.IsZero())
	assert.Equal(t, "-33.333334", tk.ChangePct.String(), "change24h, a ratio, in percent")
	assert.Equal(t, "10", tk.Last.String())
	assert.Equal(t, int64(1672917511074_000000), evs[0].ExchangeTS)
}

// Bybit v5 "Ticker": "If a response param is not found in the message,
// then its value has not changed" — that is a delta's rule. A snapshot is
// the whole ticker: a member it lacks is not carried over from the
// ticker before it (the doc does not say so in words: a snapshot, as in
// the orderbook topic, replaces what was kept).
func TestS43ctBybitTickerSnapshotReplacesTheMergedTicker(t *testing.T) {
	x := s43ctBybit.events(t)
	s43ctOnly(t, x, `{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","price24hPcnt":"-0.009772","lastPrice":"61874.00","prevPrice24h":"62484.60","highPrice24h":"62752.90","lowPrice24h":"61000.10","markPrice":"61875.25","indexPrice":"61903.73","openInterest":"58117.022","turnover24h":"6073739017.8331","volume24h":"98430.1050","nextFundingTime":"1715760000000","fundingRate":"0.00008055","bid1Price":"61873.90","bid1Size":"3.783","ask1Price":"61874.00","ask1Size":"16.278"},"cs":176530003895,"ts":1715748762463}`)
	evs := s43ctOnly(t, x, `{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"61873.80","bid1Size":"1"},"cs":176530003896,"ts":1715748762563}`)
	require.Len(t, evs, 1)
	assert.Equal(t, "61873.80", evs[0].Ticker.BidPrice.String(), "the delta's member")
	assert.Equal(t, "61874.00", evs[0].Ticker.Last.String(), "a member the delta lacks: unchanged")
	assert.Equal(t, "0.00008055", evs[0].Ticker.FundingRate.String())
	evs = s43ctOnly(t, x, `{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","price24hPcnt":"-0.009772","lastPrice":"61875.00","prevPrice24h":"62484.60","highPrice24h":"62752.90","lowPrice24h":"61000.10","turnover24h":"6073739017.8331","volume24h":"98430.1050"},"cs":176530003897,"ts":1715748762663}`)
	require.Len(t, evs, 1)
	tk := evs[0].Ticker
	assert.Equal(t, "61875.00", tk.Last.String())
	assert.True(t, tk.BidPrice.IsZero(), "the earlier bid not carried into a snapshot without one: %s", tk.BidPrice)
	assert.True(t, tk.FundingRate.IsZero())
	assert.Equal(t, uint64(176530003897), evs[0].SeqProvider, "cs, the cross sequence")
}

// Bybit v5 "Connect" → "How to Send the Heartbeat Packet" and
// "Subscribe": the subscribe answer {"success":true,…,"req_id":…,
// "op":"subscribe"} is an ack carrying the request id; "success":false
// is a refusal whose ret_msg says why; the pong comes as {"op":"ping",
// "ret_msg":"pong"} (derivatives) or {"op":"pong","args":[…]} (spot) —
// both a heartbeat.
func TestS43ctBybitOpAnswers(t *testing.T) {
	x := s43ctBybit.events(t)
	one := func(msg string) *schema.Control {
		t.Helper()
		evs := s43ctOnly(t, x, msg)
		require.Len(t, evs, 1, "%s", msg)
		require.Equal(t, schema.EventControl, evs[0].Type)
		require.NotNil(t, evs[0].Control)
		return evs[0].Control
	}
	c := one(`{"success":true,"ret_msg":"","conn_id":"cejreaspqfh3sjdnldmg-p","req_id":"100001","op":"subscribe"}`)
	assert.Equal(t, schema.ControlSubscribeAck, c.Kind)
	assert.Equal(t, uint64(100001), c.RequestID)
	c = one(`{"success":false,"ret_msg":"error:handler not found,topic:orderbook.40.BTCUSDT","conn_id":"c","req_id":"7","op":"subscribe"}`)
	assert.Equal(t, schema.ControlVenueError, c.Kind)
	assert.Equal(t, uint64(7), c.RequestID)
	assert.Contains(t, c.Reason, "orderbook.40.BTCUSDT")
	c = one(`{"success":true,"ret_msg":"pong","conn_id":"0970e817-426e-429a-a679-ff7f55e0b16a","op":"ping"}`)
	assert.Equal(t, schema.ControlHeartbeat, c.Kind)
	c = one(`{"req_id":"test","op":"pong","args":["1675418560633"],"conn_id":"cfcb4ocsvfriu23r3er0-1b"}`)
	assert.Equal(t, schema.ControlHeartbeat, c.Kind)
}

// Bybit v5 "Ticker": derivatives' tickers are a snapshot, then deltas of
// the members that changed ("If a response param is not found in the
// message, then its value has not changed"). A delta of a symbol whose
// snapshot was never received has nothing to merge into: refused with a
// typed error (ErrNoSnapshot), never a ticker of zeros; the snapshot then
// starts the symbol's ticker, and its deltas merge.
func TestS43ctBybitTickerDeltaBeforeSnapshotIsRefused(t *testing.T) {
	x := s43ctBybit.events(t)
	err := x.feed(`{"topic":"tickers.ETHUSDT","type":"delta","data":{"symbol":"ETHUSDT","markPrice":"3000.5"},"cs":7,"ts":1715748763064}`)
	require.ErrorIs(t, err, normalize.ErrNoSnapshot)
	assert.Empty(t, x.take(), "no ticker of zeros")
	s43ctOnly(t, x, `{"topic":"tickers.ETHUSDT","type":"snapshot","data":{"symbol":"ETHUSDT","lastPrice":"3001.00","highPrice24h":"3100","lowPrice24h":"2900","volume24h":"10","turnover24h":"30000","markPrice":"3000.9"},"cs":8,"ts":1715748763164}`)
	evs := s43ctOnly(t, x, `{"topic":"tickers.ETHUSDT","type":"delta","data":{"symbol":"ETHUSDT","markPrice":"3000.5"},"cs":9,"ts":1715748763264}`)
	require.Len(t, evs, 1)
	assert.Equal(t, "3000.5", evs[0].Ticker.MarkPrice.String())
	assert.Equal(t, "3001.00", evs[0].Ticker.Last.String(), "kept from the snapshot")
	assert.Equal(t, int64(1715748763264_000000), evs[0].ExchangeTS, "ts, in ms")
}

// Bybit v5 "Trade": "For options the parameter is the base coin" — an
// option's trades come on publicTrade.BTC, each naming its own contract
// in "s". The trade is the contract's (BTC-USDC-6JAN23-17500-C once the
// instrument is loaded), not the topic's base coin.
func TestS43ctBybitOptionTradesNameTheirContract(t *testing.T) {
	x := s43ctBybit.events(t)
	require.NoError(t, x.parser.Symbols().Load([]normalize.Instrument{{Symbol: "BTC-6JAN23-17500-C", Base: "BTC", Quote: "USDC", Contract: "6JAN23-17500-C"}}))
	evs := s43ctOnly(t, x, `{"id":"publicTrade.BTC-1","topic":"publicTrade.BTC","ts":1672304486868,"type":"snapshot","data":[{"T":1672304486865,"s":"BTC-6JAN23-17500-C","S":"Buy","v":"0.01","p":"110","L":"PlusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false,"mP":"105","iP":"16800","mIv":"0.5","iv":"0.6","seq":1}]}`)
	require.Len(t, evs, 1)
	assert.Equal(t, "BTC-USDC-6JAN23-17500-C", evs[0].Symbol)
	assert.Equal(t, "110", evs[0].Trade.Price.String())
	assert.Equal(t, "0.01", evs[0].Trade.Qty.String())
	assert.Equal(t, schema.SideBuy, evs[0].Trade.Side)
}
