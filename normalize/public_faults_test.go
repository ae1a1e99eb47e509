package normalize

// Faults that users of other trading libraries reported publicly against
// the venues' market-data streams, each replayed here through Meltica's
// parsers (frames in, canonical events out) against the venue's documented
// rule. The thread each case comes from is named in its comment; a case
// that passed on the first run is a regression test.

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

type newParserFunc func(*pool.Pool[*schema.CanonicalEvent], Sink, *Options) *Parser

// feedFrames runs frames through a fresh parser of the venue, each
// received 1 ms after the last, and returns the parser and the events it
// published, of the given types (all when none).
func feedFrames(t *testing.T, np newParserFunc, opts *Options, frames []string, types ...schema.EventType) (*Parser, []*schema.CanonicalEvent) {
	t.Helper()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	p := np(events, sink, opts)
	for i, f := range frames {
		_ = p.HandleBytes(context.Background(), []byte(f), int64(i+1)*1e6)
	}
	require.Zero(t, events.Stats().InUse, "events not returned to the pool")
	if len(types) == 0 {
		return p, sink.got
	}
	var out []*schema.CanonicalEvent
	for _, ev := range sink.got {
		for _, ty := range types {
			if ev.Type == ty {
				out = append(out, ev)
			}
		}
	}
	return p, out
}

// Bybit linear tickers: one snapshot, then deltas carrying only the fields
// that changed ("If a response param is not found in the message, then
// its value has not changed", Bybit v5 "Ticker"). Clients that read a
// delta as a whole ticker published a funding rate, last price and volume
// of nothing (sieblyio/bybit-api#329 "fundingRate missing in ticker delta
// events"; ccxt/ccxt#21451 "Bybit handle_ticker bug: process the delta
// data"; unkuseni/rs_bybit#32). Every EventTicker must be the whole
// ticker, the delta merged into the last one.
func TestPublicFaultBybitTickerDelta(t *testing.T) {
	_, got := feedFrames(t, NewBybit, nil, []string{
		`{"topic":"tickers.NKNUSDT","type":"snapshot","data":{"symbol":"NKNUSDT","tickDirection":"ZeroPlusTick","price24hPcnt":"-0.014972","lastPrice":"0.13947","prevPrice24h":"0.14159","highPrice24h":"0.14331","lowPrice24h":"0.11993","prevPrice1h":"0.14097","markPrice":"0.13946","indexPrice":"0.13909","openInterest":"12675990","openInterestValue":"1767793.57","turnover24h":"4827106.0929","volume24h":"36044080.0000","nextFundingTime":"1709222400000","fundingRate":"0.00137968","bid1Price":"0.13937","bid1Size":"2315","ask1Price":"0.13942","ask1Size":"1691"},"cs":93597540115,"ts":1709202837189}`,
		`{"topic":"tickers.NKNUSDT","type":"delta","data":{"symbol":"NKNUSDT","ask1Price":"0.13942","ask1Size":"3691"},"cs":93597554249,"ts":1709202840989}`,
		`{"topic":"tickers.NKNUSDT","type":"delta","data":{"symbol":"NKNUSDT","lastPrice":"0.13950","fundingRate":"0.00140000"},"cs":93597554300,"ts":1709202841989}`,
	}, schema.EventTicker)
	require.Len(t, got, 3)
	d := got[1].Ticker
	requireDigits(t, "3691", d.AskQty)
	requireDigits(t, "0.13942", d.AskPrice)
	requireDigits(t, "0.13947", d.Last, "a field the delta did not carry keeps its value")
	requireDigits(t, "0.00137968", d.FundingRate)
	requireDigits(t, "0.13946", d.MarkPrice)
	requireDigits(t, "2315", d.BidQty)
	requireDigits(t, "36044080.0000", d.Volume)
	require.Equal(t, int64(1709222400000)*1e6, d.NextFundingTime)
	e := got[2].Ticker
	requireDigits(t, "0.13950", e.Last)
	requireDigits(t, "0.00140000", e.FundingRate)
	requireDigits(t, "3691", e.AskQty, "the earlier delta's change is kept")
	require.Equal(t, int64(1709202841989)*1e6, got[2].ExchangeTS)
}

// Kraken names bitcoin XBT and dogecoin XDG in its v1 pairs ("XBT/USD",
// "ETH/XBT", "XDG/USD") and BTC/DOGE in v2; one instrument must get one
// canonical symbol whichever API, base or quote, carries it
// (nautechsystems/nautilus_trader#3509 "wrong symbol format (XBT vs
// BTC)"; nautechsystems/nautilus_trader#3960 "XDG/USD … WS v2 requires
// DOGE/USD"; JKorf/Kraken.Net#126; ArthurBernard/Download_Crypto_Currencies_Data#113
// "mapped only the base BTC→XBT", the quote too).
func TestPublicFaultKrakenXBTSymbols(t *testing.T) {
	_, got := feedFrames(t, NewKraken, nil, []string{
		`[0,[["5541.20000","0.15850568","1534614057.321597","s","l",""]],"trade","XBT/USD"]`,
		`[0,[["0.05541","1.5","1534614057.321597","b","l",""]],"trade","ETH/XBT"]`,
		`[0,[["0.1","100","1534614057.321597","b","m",""]],"trade","XDG/USD"]`,
		`{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":5541.3,"qty":0.1,"ord_type":"limit","trade_id":4665906,"timestamp":"2023-09-25T07:49:37.708706Z"}]}`,
		`{"channel":"trade","type":"update","data":[{"symbol":"DOGE/USD","side":"sell","price":0.1,"qty":50,"ord_type":"market","trade_id":99,"timestamp":"2023-09-25T07:49:37.708706Z"}]}`,
	}, schema.EventTrade)
	require.Len(t, got, 5)
	want := []string{"BTC-USD", "ETH-BTC", "DOGE-USD", "BTC-USD", "DOGE-USD"}
	for i, ev := range got {
		require.Equal(t, want[i], ev.Symbol, "event %d", i)
	}
	// v1 trade times are seconds with six decimals.
	require.Equal(t, int64(1534614057321597000), got[0].ExchangeTS)
}

// OKX instrument ids: "BTC-USDT-SWAP" is the perpetual, "BTC-USDT" the
// spot pair, "BTC-USD-SWAP" the inverse perpetual; labelling one market's
// data with another's symbol mixes their prices (ccxt/ccxt#14286 "Wrong
// data in OKEX/OKX OrderBook": every book carried the last symbol asked;
// JKorf/OKX.Net#95 swap and futures ids confused). Each message keeps the
// canonical symbol of its own instId.
func TestPublicFaultOKXSwapSymbols(t *testing.T) {
	tr := func(inst string) string {
		return `{"arg":{"channel":"trades","instId":"` + inst + `"},"data":[{"instId":"` + inst + `","tradeId":"130639474","px":"42219.9","sz":"0.12060306","side":"buy","ts":"1630048897897","count":"3"}]}`
	}
	_, got := feedFrames(t, NewOKX, nil, []string{tr("BTC-USDT-SWAP"), tr("BTC-USDT"), tr("BTC-USD-SWAP"), tr("BTC-USD-250328")}, schema.EventTrade)
	require.Len(t, got, 4)
	require.Equal(t, "BTC-USDT-PERP", got[0].Symbol)
	require.Equal(t, "BTC-USDT", got[1].Symbol)
	require.Equal(t, "BTC-USD-PERP", got[2].Symbol)
	require.Equal(t, "BTC-USD-250328", got[3].Symbol)
	require.Equal(t, int64(1630048897897)*1e6, got[0].ExchangeTS, "OKX ts is milliseconds")
}

// Binance sends microseconds when the connection asks timeUnit=MICROSECOND
// (python-binance#1519 "add support for microseconds time unit"; Binance
// changelog 2024-12-17), and milliseconds otherwise; a client that scaled
// one as the other put its trades 1000× off (altangent/ccxws#72 "Binance
// ticker has timestamp in microseconds": a stray × 1000). Events carry
// Unix nanoseconds either way.
func TestPublicFaultBinanceTimeUnit(t *testing.T) {
	ms := `{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}`
	us := `{"e":"trade","E":1672515782136123,"s":"BNBBTC","t":12346,"p":"0.001","q":"100","T":1672515782136123,"m":false,"M":true}`
	_, got := feedFrames(t, NewBinance, nil, []string{ms}, schema.EventTrade)
	require.Len(t, got, 1)
	require.Equal(t, int64(1672515782136)*1e6, got[0].ExchangeTS)
	// m: the buyer is the maker, so the aggressor sold.
	require.Equal(t, schema.SideSell, got[0].Trade.Side)

	_, got = feedFrames(t, NewBinance, &Options{TimeUnit: time.Microsecond}, []string{us}, schema.EventTrade)
	require.Len(t, got, 1)
	require.Equal(t, int64(1672515782136123)*1e3, got[0].ExchangeTS)
	require.Equal(t, schema.SideBuy, got[0].Trade.Side)

	// A microsecond time on a connection read as milliseconds is not a
	// time 1000× later: it is refused (a year past 2261), never published
	// as a plausible-looking one.
	_, got = feedFrames(t, NewBinance, nil, []string{us}, schema.EventTrade)
	for _, ev := range got {
		require.Less(t, ev.ExchangeTS, int64(1e19/10), "a microsecond time read as milliseconds")
	}
}

// Trades a venue sends again: the recent trades every subscription
// starts with (Kraken v2 trade snapshot) and a reconnection's overlap.
// Clients passed them on twice, doubling volume, or broke their builds
// on them (ccxt/ccxt#25639 "ws duplicate trades filtering";
// bitrich-info/xchange-stream#498 "if i receive past trades every time i
// connect … in a reconnection event i will also get past trades"). A
// trade whose id the stream already delivered is dropped; the trades after
// it are delivered, none lost.
func TestPublicFaultDuplicateTradesOnResubscribe(t *testing.T) {
	tr := func(typ string, ids ...int) string {
		s := `{"channel":"trade","type":"` + typ + `","data":[`
		for i, id := range ids {
			if i > 0 {
				s += ","
			}
			s += `{"symbol":"BTC/USD","side":"buy","price":100.5,"qty":0.1,"ord_type":"limit","trade_id":` + itoa(id) + `,"timestamp":"2023-09-25T07:49:37.` + itoa(100000+id) + `Z"}`
		}
		return s + `]}`
	}
	p, got := feedFrames(t, NewKraken, nil, []string{
		tr("snapshot", 1, 2, 3),
		tr("update", 4),
		tr("update", 5),
		// A reconnection: the new subscription's recent trades overlap.
		tr("snapshot", 3, 4, 5, 6),
		tr("update", 7),
	}, schema.EventTrade)
	var ids []string
	for _, ev := range got {
		ids = append(ids, ev.Trade.ID.String())
	}
	require.Equal(t, []string{"1", "2", "3", "4", "5", "6", "7"}, ids)
	require.Equal(t, uint64(3), p.Stats().Repeats)

	// Lost across a reconnection: the new subscription's recent trades
	// start after 8 and 9, which never came. The subscriber is told which.
	_, all := feedFrames(t, NewKraken, nil, []string{tr("snapshot", 1, 2, 3), tr("update", 7), tr("snapshot", 10, 11, 12)})
	var gaps []*schema.CanonicalEvent
	for _, ev := range all {
		if ev.Type == schema.EventGap {
			gaps = append(gaps, ev)
		}
	}
	require.Len(t, gaps, 1)
	require.Equal(t, schema.EventTrade, gaps[0].Control.GapType)
	require.Equal(t, [2]uint64{8, 9}, [2]uint64{gaps[0].Control.GapFirstSeq, gaps[0].Control.GapLastSeq})
	require.Equal(t, "BTC-USD", gaps[0].Symbol)
}

// Coinbase Exchange's match "side" is the maker's: the taker, whose side a
// trade feed reports elsewhere, is the other one (c9s/bbgo#2148 "reverse
// side when user is the taker"; Tucsky/aggr#253). A match "buy" is a
// taker sell.
func TestPublicFaultCoinbaseMatchSide(t *testing.T) {
	_, got := feedFrames(t, NewCoinbase, nil, []string{
		`{"type":"match","trade_id":10,"sequence":50,"maker_order_id":"ac928c66-ca53-498f-9c13-a110027a60e8","taker_order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","time":"2014-11-07T08:19:27.028459Z","product_id":"BTC-USD","size":"5.23512","price":"400.23","side":"buy"}`,
		`{"type":"match","trade_id":11,"sequence":51,"maker_order_id":"ac928c66-ca53-498f-9c13-a110027a60e8","taker_order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","time":"2014-11-07T08:19:28.028459Z","product_id":"BTC-USD","size":"1","price":"400.24","side":"sell"}`,
	}, schema.EventTrade)
	require.Len(t, got, 2)
	require.Equal(t, schema.SideSell, got[0].Trade.Side)
	require.Equal(t, schema.SideBuy, got[1].Trade.Side)
}

// Coinbase Advanced Trade numbers every message of a connection with
// sequence_num; a jump means messages were lost, and a level2 book built
// on without them drifts and crosses (danpaquin/coinbasepro-python#365
// "messages missing. Re-initializing book"; coinbase/coinbase-pro-node#183
// "Synchronized order book using level2 channel"). The parser must publish
// a gap marker that reaches the books.
func TestPublicFaultCoinbaseSequenceGap(t *testing.T) {
	l2 := func(seq int, typ string) string {
		return `{"channel":"l2_data","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":` + itoa(seq) + `,"events":[{"type":"` + typ + `","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.73","new_quantity":"0.06317902"},{"side":"offer","event_time":"1970-01-01T00:00:00Z","price_level":"21921.74","new_quantity":"0.1"}]}]}`
	}
	p, got := feedFrames(t, NewCoinbase, nil, []string{l2(1, "snapshot"), l2(2, "update"), l2(5, "update")})
	var gaps, books int
	for _, ev := range got {
		switch ev.Type {
		case schema.EventGap:
			gaps++
			require.Equal(t, uint64(3), ev.Control.GapFirstSeq)
			require.Equal(t, uint64(4), ev.Control.GapLastSeq)
		case schema.EventBookSnapshot, schema.EventBookUpdate:
			books++
		}
	}
	require.Equal(t, 1, gaps, "a sequence_num jump must be marked")
	require.Equal(t, 3, books)
	require.Equal(t, uint64(1), p.Stats().Gaps)
}

// Binance's 24 h ticker has keys that differ only by case — c (last
// price) and C (close time), o and O, q and Q, p and P, b and B, a and A —
// and a case-insensitive decoder fills one from the other, whichever comes
// last (c9s/bbgo#235 "prevent Unmarshal case-insensitive issue";
// ccxt/go-binance#723, golang/go#14750). Here the upper-case keys come
// after the lower-case ones, so such a decoder would put the close time in
// the last price. A symbol without trades in the window sends F and L as
// -1 (Binance "Individual Symbol Ticker Streams"): no trade id, no
// sequence.
func TestPublicFaultBinanceTickerKeyCase(t *testing.T) {
	_, got := feedFrames(t, NewBinance, nil, []string{
		`{"e":"24hrTicker","E":1672515782136,"s":"BNBBTC","p":"0.0015","P":"250.00","w":"0.0018","x":"0.0009","c":"0.0025","Q":"10","b":"0.0024","B":"10","a":"0.0026","A":"100","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":1672429382136,"C":1672515782136,"F":0,"L":18150,"n":18151}`,
		`{"e":"24hrTicker","E":1672515782136,"s":"NEWBTC","p":"0","P":"0","w":"0","x":"0","c":"0.5","Q":"0","b":"0.4","B":"1","a":"0.6","A":"1","o":"0.5","h":"0.5","l":"0.5","v":"0","q":"0","O":1672429382136,"C":1672515782136,"F":-1,"L":-1,"n":0}`,
	}, schema.EventTicker)
	require.Len(t, got, 2)
	x := got[0].Ticker
	requireDigits(t, "0.0025", x.Last)
	requireDigits(t, "10", x.LastQty)
	requireDigits(t, "0.0010", x.Open)
	requireDigits(t, "18", x.QuoteVolume)
	requireDigits(t, "10000", x.Volume)
	requireDigits(t, "0.0015", x.PriceChange)
	requireDigits(t, "250.00", x.ChangePct)
	requireDigits(t, "0.0024", x.BidPrice)
	requireDigits(t, "10", x.BidQty)
	requireDigits(t, "0.0026", x.AskPrice)
	requireDigits(t, "100", x.AskQty)
	require.Equal(t, int64(1672429382136)*1e6, x.WindowOpen)
	require.Equal(t, int64(1672515782136)*1e6, x.WindowClose)
	require.Equal(t, uint64(18151), x.TradeCount)
	require.Equal(t, uint64(18150), got[0].SeqProvider)

	y := got[1]
	require.Zero(t, y.SeqProvider, "L = -1: no trade, no sequence")
	require.Zero(t, y.Ticker.TradeCount)
	requireDigits(t, "0.5", y.Ticker.Last)
}

// Kraken v2 book messages name no depth; the parser takes it from the
// symbol's subscription ack and forgets it on the unsubscription's
// (knowm/XChange#4571: a book kept at another depth than the one
// subscribed fails Kraken's checksum). A failed subscription names none.
func TestPublicFaultKrakenV2BookDepthFromAck(t *testing.T) {
	book := `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":66786.5,"qty":0.5}],"asks":[],"checksum":1,"timestamp":"2024-05-19T16:45:24.204654Z"}]}`
	_, got := feedFrames(t, NewKraken, nil, []string{
		book,
		`{"method":"subscribe","req_id":11,"result":{"channel":"book","depth":25,"snapshot":true,"symbol":"BTC/USD"},"success":true,"time_in":"2024-05-19T16:27:13.694962Z","time_out":"2024-05-19T16:27:13.695006Z"}`,
		book,
		`{"method":"subscribe","req_id":12,"error":"Already subscribed","result":{"channel":"book","depth":100,"symbol":"BTC/USD"},"success":false,"time_in":"2024-05-19T16:27:13.694962Z","time_out":"2024-05-19T16:27:13.695006Z"}`,
		book,
		`{"method":"unsubscribe","req_id":13,"result":{"channel":"book","depth":25,"symbol":"BTC/USD"},"success":true,"time_in":"2024-05-19T16:27:13.694962Z","time_out":"2024-05-19T16:27:13.695006Z"}`,
		book,
	}, schema.EventBookUpdate)
	require.Len(t, got, 4)
	require.Equal(t, []int{0, 25, 25, 0}, []int{got[0].Book.Depth, got[1].Book.Depth, got[2].Book.Depth, got[3].Book.Depth})
}
