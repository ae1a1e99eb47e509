package venuesim

import (
	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"
)

// The encoders write Binance's spot payloads through goccy/go-json's v2 API
// from typed structs whose field order is Binance's, with eight decimals as
// Binance prints them. Decimals are formatted into the encoder's scratch
// space and marshalled as raw values (jsontext.Value): goccy v0.12.0
// allocates once per MarshalJSONTo call (measured: six calls, six
// allocations per message), and none for a struct of plain fields written
// with MarshalWrite into a reused buffer.

// wire encodes payloads into reused storage. It is not safe for concurrent
// use: each goroutine that encodes has its own.
type wire struct {
	out  appender
	nums [4096]byte // decimal texts of the message being encoded
	n    int
	// The message structs, reused: a struct given to goccy as a local would
	// escape to the heap once per message.
	trade    tradeMsg
	aggTrade aggTradeMsg
	ticker   bookTickerMsg
	depth    depthUpdateMsg
	snapshot depthSnapshotMsg
	kline    klineMsg
	full     tickerMsg
	mini     miniTickerMsg
	rolling  rollingTickerMsg
	combined combinedMsg
	bid, ask wireLevels
}

// appender is an io.Writer appending to a reused slice.
type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// dec returns v (1e-8 units) as a quoted JSON string value with eight
// decimals, held in w's scratch space until the next message (a copy of
// its own once the scratch space is full: REST snapshots).
func (w *wire) dec(v int64) jsontext.Value {
	start := w.n
	b := append(w.nums[start:start:len(w.nums)], '"')
	b = fmtDec(b, v)
	b = append(b, '"')
	if start+len(b) > len(w.nums) || &b[0] != &w.nums[start] {
		return jsontext.Value(b)
	}
	w.n += len(b)
	return jsontext.Value(w.nums[start:w.n:w.n])
}

// encode appends v's JSON to b.
func (w *wire) encode(b []byte, v any) []byte {
	w.out.b = b
	if err := json.MarshalWrite(&w.out, v); err != nil {
		panic("venuesim: encoding a payload: " + err.Error()) // our own structs: a bug
	}
	b, w.out.b, w.n = w.out.b, nil, 0
	return b
}

type tradeMsg struct {
	Event      string         `json:"e"`
	EventTime  int64          `json:"E"`
	Symbol     string         `json:"s"`
	TradeID    uint64         `json:"t"`
	Price      jsontext.Value `json:"p"`
	Qty        jsontext.Value `json:"q"`
	TradeTime  int64          `json:"T"`
	BuyerMaker bool           `json:"m"`
	Ignore     bool           `json:"M"`
}

func (w *wire) appendTrade(b []byte, s *symbolState, eventMs int64, price, qty int64, buyerMaker bool) []byte {
	w.trade = tradeMsg{"trade", eventMs, s.name, s.tradeID, w.dec(price), w.dec(qty), eventMs, buyerMaker, true}
	return w.encode(b, &w.trade)
}

type aggTradeMsg struct {
	Event      string         `json:"e"`
	EventTime  int64          `json:"E"`
	Symbol     string         `json:"s"`
	AggID      uint64         `json:"a"`
	Price      jsontext.Value `json:"p"`
	Qty        jsontext.Value `json:"q"`
	First      uint64         `json:"f"`
	Last       uint64         `json:"l"`
	TradeTime  int64          `json:"T"`
	BuyerMaker bool           `json:"m"`
	Ignore     bool           `json:"M"`
}

// appendAggTrade appends s's aggregate trade s.aggID of the trades first
// to last.
func (w *wire) appendAggTrade(b []byte, s *symbolState, eventMs int64, price, qty int64, buyerMaker bool, first, last uint64) []byte {
	w.aggTrade = aggTradeMsg{"aggTrade", eventMs, s.name, s.aggID, w.dec(price), w.dec(qty), first, last, eventMs, buyerMaker, true}
	return w.encode(b, &w.aggTrade)
}

type bookTickerMsg struct {
	UpdateID uint64         `json:"u"`
	Symbol   string         `json:"s"`
	BidPrice jsontext.Value `json:"b"`
	BidQty   jsontext.Value `json:"B"`
	AskPrice jsontext.Value `json:"a"`
	AskQty   jsontext.Value `json:"A"`
}

func (w *wire) appendBookTicker(b []byte, s *symbolState) []byte {
	bid, ask := s.publicTop(true), s.publicTop(false)
	w.ticker = bookTickerMsg{s.updID, s.name, w.dec(bid.price), w.dec(bid.qty), w.dec(ask.price), w.dec(ask.qty)}
	return w.encode(b, &w.ticker)
}

// wireLevels is one side of a book, as [["price","qty"], …], in reused
// storage.
type wireLevels [][2]jsontext.Value

// levels fills dst with lv's decimals.
func (w *wire) levels(dst *wireLevels, lv []level) wireLevels {
	*dst = (*dst)[:0]
	for _, x := range lv {
		*dst = append(*dst, [2]jsontext.Value{w.dec(x.price), w.dec(x.qty)})
	}
	return *dst
}

type depthUpdateMsg struct {
	Event     string     `json:"e"`
	EventTime int64      `json:"E"`
	Symbol    string     `json:"s"`
	First     uint64     `json:"U"`
	Last      uint64     `json:"u"`
	Bids      wireLevels `json:"b"`
	Asks      wireLevels `json:"a"`
}

func (w *wire) appendDepthUpdate(b []byte, s *symbolState, eventMs int64, bids, asks []level, first, last uint64) []byte {
	w.depth = depthUpdateMsg{"depthUpdate", eventMs, s.name, first, last, w.levels(&w.bid, bids), w.levels(&w.ask, asks)}
	return w.encode(b, &w.depth)
}

// bookLevels lists up to n non-empty levels of one side, best first, our
// resting orders in them (publicLevels), reading only as far as the n
// levels it lists (a partial book of 5 levels reads some 5 of the
// grid's, not every level of it). Caller holds the market lock.
func bookLevels(s *symbolState, bidSide bool, n int) []level {
	out := make([]level, 0, max(0, min(n, len(s.bids)+len(*s.ownSide(bidSide)))))
	if n <= 0 {
		return out
	}
	for l := range s.publicLevels(bidSide) {
		if out = append(out, level{l.price, l.grid + l.own}); len(out) == n {
			break
		}
	}
	return out
}

type depthSnapshotMsg struct {
	LastUpdateID uint64     `json:"lastUpdateId"`
	Bids         wireLevels `json:"bids"`
	Asks         wireLevels `json:"asks"`
}

func (w *wire) appendDepthSnapshot(b []byte, s *symbolState, limit int) []byte {
	w.snapshot = depthSnapshotMsg{s.updID, w.levels(&w.bid, bookLevels(s, true, limit)), w.levels(&w.ask, bookLevels(s, false, limit))}
	return w.encode(b, &w.snapshot)
}

type klineMsg struct {
	Event     string    `json:"e"`
	EventTime int64     `json:"E"`
	Symbol    string    `json:"s"`
	K         klineBody `json:"k"`
}

type klineBody struct {
	Start       int64          `json:"t"`
	End         int64          `json:"T"`
	Symbol      string         `json:"s"`
	Interval    string         `json:"i"`
	FirstTrade  int64          `json:"f"`
	LastTrade   int64          `json:"L"`
	Open        jsontext.Value `json:"o"`
	Close       jsontext.Value `json:"c"`
	High        jsontext.Value `json:"h"`
	Low         jsontext.Value `json:"l"`
	Volume      jsontext.Value `json:"v"`
	Trades      uint64         `json:"n"`
	Closed      bool           `json:"x"`
	QuoteVolume jsontext.Value `json:"q"`
	TakerVolume string         `json:"V"`
	TakerQuote  string         `json:"Q"`
	Ignore      string         `json:"B"`
}

// appendKline encodes a candle; one with no trade names the first and
// last trade -1, as Binance does ({"f":-1,"L":-1,…,"n":0}). The spot
// "Kline/Candlestick Streams" doc shows only a candle with trades ("f":
// 100, "L": 200) and says nothing of one without: the -1 is from a
// recording of the 1s stream and a public report of the same
// (sonvister/Binance issue 7, "Binance returns -1 for the TradeId field
// when there were no trades").
func (w *wire) appendKline(b []byte, s *symbolState, eventMs int64, interval string, k *kline, closed bool) []byte {
	first, last := int64(k.firstTrade), int64(k.lastTrade)
	if k.trades == 0 {
		first, last = -1, -1
	}
	w.kline = klineMsg{"kline", eventMs, s.name, klineBody{
		k.start, k.end, s.name, interval, first, last,
		w.dec(k.open), w.dec(k.close), w.dec(k.high), w.dec(k.low), w.dec(k.volume),
		k.trades, closed, w.dec(k.quoteVol), "0.00000000", "0.00000000", "0",
	}}
	return w.encode(b, &w.kline)
}

type combinedMsg struct {
	Stream string         `json:"stream"`
	Data   jsontext.Value `json:"data"`
}

func (w *wire) appendCombined(b []byte, stream string, payload []byte) []byte {
	w.combined = combinedMsg{stream, payload}
	return w.encode(b, &w.combined)
}
