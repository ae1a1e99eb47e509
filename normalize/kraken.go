package normalize

import (
	"bytes"
	"context"
	"fmt"
	"maps"

	"github.com/goccy/go-json/jsontext"

	"github.com/meltica/meltica/normalize/internal/continuity"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// KrakenSymbolRules returns Kraken's spot pairs: "BTC/USD" (v2) and
// "XBT/USD" (v1) are both BTC-USD. Kraken Futures ("PF_XBTUSD") is another
// API and not served by this parser; its perpetuals would be BTC-USD-PERP.
func KrakenSymbolRules() SymbolRules {
	return SymbolRules{Delimiter: '/', Aliases: maps.Clone(krakenAliases)}
}

// NewKraken returns a parser of the Kraken spot WebSocket API v2 (trade,
// ticker, book, ohlc, executions, status, heartbeat and method responses;
// instrument and level3 counted Ignored, see krakenChannels) and of the
// v1 book, trade and ticker channels. It takes events from
// events and hands them to sink, and panics when either is nil.
//
// v2 sends prices and quantities as JSON numbers: their text becomes the
// Decimal, digit for digit, so a book checksum computed from the levels
// matches the venue's. A frame with several trades or candles gives an
// event each. Book checksums go to Book.Checksum (HasChecksum set); Kraken
// books carry no sequence (Kraken "Book" docs: the checksum is the
// continuity check). A book message's Book.Depth is its view: v1 names it
// in the channel ("book-25"); v2 does not, so it is the depth the symbol's
// subscription ack named ("result":{"channel":"book","depth":25}), else
// (no ack seen, or not yet) the offered depth its latest snapshot holds
// exactly on its deeper side ("a snapshot is published at the specified
// depth"), 0 before either or for a thinner snapshot. An executions frame's "sequence" is the ExecReport's
// SeqProvider. Connection ids (status "connection_id", v1 "connectionID")
// exceed int64 and are not read. A v1 book message's ExchangeTS is the
// latest of its levels' times; v1 trade times are seconds with six
// decimals; v1 spread and ohlc are counted as unknown: v2 carries them.
// A book message dropped as malformed — a v2 book frame or a v1 array
// frame that does not decode, or whose levels do not — is followed by a
// gap marker for its pair, or for every book of the venue when no pair
// could be read (a v1 frame that names no channel counts as a book's on a
// connection that carried v1 books): nothing else would show the loss.
func NewKraken(events *pool.Pool[*schema.CanonicalEvent], sink Sink, opts *Options) *Parser {
	return newParser(&krakenSpec, events, sink, opts)
}

const (
	krTrade = iota
	krTicker
	krOHLC
	krExec
	krBookSnap
	krBookDiff
	krV1Book
	krV1Trade
	krV1Ticker
	krHeartbeat
	krAck
	krError
	krStatus
	krBalance
)

var krakenSpec = venueSpec{
	venue:      schema.VenueKraken,
	rules:      KrakenSymbolRules,
	continuity: continuity.None,
	tradeIDs:   true,
	alignKey:   krakenAlignKey,
	kinds: []kind{
		krTrade:     {name: "trade", typ: schema.EventTrade, slot: newSlot[krTradeMsg]},
		krTicker:    {name: "ticker", typ: schema.EventTicker, latest: true, slot: newSlot[krTickerMsg]},
		krOHLC:      {name: "ohlc", typ: schema.EventKlineLive, slot: newSlot[krOHLCMsg]},
		krExec:      {name: "executions", typ: schema.EventExecReport, slot: newSlot[krExecMsg]},
		krBookSnap:  {name: "book", typ: schema.EventBookSnapshot, slot: newSlot[krBookMsg]},
		krBookDiff:  {name: "book", typ: schema.EventBookUpdate, slot: newSlot[krBookMsg]},
		krV1Book:    {name: "book", typ: schema.EventBookUpdate, slot: newSlot[krV1BookMsg]}, // a snapshot when it has "as"/"bs"
		krV1Trade:   {name: "trade", typ: schema.EventTrade, slot: newSlot[krV1TradeMsg]},
		krV1Ticker:  {name: "ticker", typ: schema.EventTicker, slot: newSlot[krV1TickerMsg]},
		krHeartbeat: {name: "control", typ: schema.EventControl, ctl: schema.ControlHeartbeat, slot: newSlot[emptyMsg]},
		krAck:       {name: "method", typ: schema.EventControl, ctl: schema.ControlSubscribeAck, slot: newSlot[krMethodMsg]},
		krError:     {name: "method", typ: schema.EventControl, ctl: schema.ControlVenueError, slot: newSlot[krMethodMsg]},
		krStatus:    {name: "status", typ: schema.EventControl, ctl: schema.ControlStatus, slot: newSlot[krStatusMsg]},
		krBalance:   {name: "balances", typ: schema.EventBalance, slot: newSlot[krBalanceMsg]}, // kraken_account.go
	},
	newState: func() any { return new(krState) },
	split:    krakenSplit,
}

var (
	krakenChannels = map[string]int{ // v2 channel; "book" by type below
		"trade": krTrade, "ticker": krTicker, "ohlc": krOHLC, "executions": krExec,
		"heartbeat": krHeartbeat, "status": krStatus, "balances": krBalance,
		// Known and skipped on purpose (counted in Stats.Ignored, never as
		// unknown):
		//   - instrument (Kraken WebSocket v2 "Instrument"): the assets
		//     and pairs reference data, which FetchKrakenInstruments reads
		//     into InstrumentRules; no event of the schema.
		//   - level3 (Kraken WebSocket v2 "Orders (Level 3)"): each resting
		//     order of the book; the schema's books are of price levels.
		"instrument": ignoredKind, "level3": ignoredKind,
	}
	krakenV1Events = map[string]int{ // v1's {"event": …} messages
		"heartbeat": krHeartbeat, "pong": krHeartbeat, "systemStatus": krStatus, "error": krError,
	}
)

type krState struct {
	env    krEnvelope
	v1     krV1Frame
	orders krOrders // the executions channel's open orders (kraken_private.go)
	// v1Books: the connection carried a v1 book frame, so a v1 frame that
	// does not decode far enough to name its channel may be one of them.
	v1Books bool
	// depths: the depth of each symbol's v2 book subscription, from its
	// ack, else from its snapshot (bounded by the symbol registry).
	depths    map[string]krDepth
	depthMemo symMemo[krDepth] // a depth learnt from the message being read
}

// bookView is the depth of sym's v2 book subscription (bookViews), 0 when
// neither its ack nor its snapshot named one.
func (st *krState) bookView(sym string) int { return st.depths[sym].n }

// krDepth is a v2 book subscription's depth and whether its ack named it
// (else its snapshot's level count did: see krState.snapshotDepth).
type krDepth struct {
	n     int
	acked bool
}

// krEnvelope is a v2 channel message ("channel", "data"), a v2 method
// response ("method") or a v1 event ("event").
type krEnvelope struct {
	Channel   text    `json:"channel"`
	Type      text    `json:"type"`
	Data      spans   `json:"data"`
	Method    text    `json:"method"`
	Success   flag    `json:"success"`
	Event     text    `json:"event"`
	Status    text    `json:"status"`
	Sequence  integer `json:"sequence"`
	Timestamp text    `json:"timestamp"`
}

// krV1Frame is a v1 channel message: [channelID, payload…, channelName,
// pair]. A book update may come as two payload objects (asks, then bids and
// the checksum): they are one message.
type krV1Frame struct {
	objs [2]span
	n    int
	arr  span
	name text
	pair text
}

func (v *krV1Frame) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	if err := enter(in, '[', errWantArray); err != nil {
		return err
	}
	for {
		var err error
		switch in.PeekKind() {
		case ']':
			_, err = in.ReadToken()
			return err
		case '{':
			var s span
			err = s.UnmarshalJSONFrom(in)
			if v.n < len(v.objs) {
				v.objs[v.n] = s
				v.n++
			}
		case '[':
			err = v.arr.UnmarshalJSONFrom(in)
		case '"':
			v.name = v.pair
			err = v.pair.UnmarshalJSONFrom(in)
		case 0:
			_, err = in.ReadValue()
			if err == nil {
				err = errWantArray
			}
		default:
			err = in.SkipValue()
		}
		if err != nil {
			return err
		}
	}
}

func krakenSplit(p *Parser, ctx context.Context, data []byte, _ uint64, ingest int64) error {
	st := p.state.(*krState)
	if i := firstByte(data); i < len(data) && data[i] == '[' {
		return p.krakenV1(ctx, st, data, ingest)
	}
	env := &st.env
	*env = krEnvelope{Data: spans{list: &p.elems}}
	p.elems = p.elems[:0]
	if err := p.unmarshal(data, env); err != nil {
		perr := p.badDecode("envelope", err)
		rescanName(data, &env.Channel, "channel")
		if string(env.Channel.bytes()) == "book" { // a book message lost: the pairs it names (every book if cut inside its list)
			return p.booksLost(ctx, p.listedSymbols(data), ingest, perr)
		}
		return p.reportsFrameLost(ctx, string(env.Channel.bytes()) == "executions", ingest, perr)
	}
	p.raw.Payload = data
	switch {
	case env.Method.ok:
		p.raw.Stream = env.Method.bytes()
		switch m := string(env.Method.bytes()); {
		case m == "pong":
			return p.run(ctx, krHeartbeat, data, nil, ingest)
		case env.Success.ok && !env.Success.v:
			return p.run(ctx, krError, data, nil, ingest)
		case m == "subscribe" || m == "unsubscribe":
			return p.run(ctx, krAck, data, nil, ingest)
		}
		return p.unknown() // order method responses: not normalised yet
	case env.Event.ok:
		p.raw.Stream = env.Event.bytes()
		e := string(env.Event.bytes())
		// v1 answers every request (subscriptionStatus, addOrderStatus,
		// cancelOrderStatus, …) with "status":"error" and "errorMessage" on
		// failure (Kraken WebSockets API v1): a venue error, never unknown.
		if string(env.Status.bytes()) == "error" {
			return p.run(ctx, krError, data, nil, ingest)
		}
		if e == "subscriptionStatus" {
			return p.run(ctx, krAck, data, nil, ingest)
		}
		if k, ok := krakenV1Events[e]; ok {
			return p.run(ctx, k, data, nil, ingest)
		}
		return p.unknown()
	}
	ch := env.Channel.bytes()
	p.raw.Stream = ch
	k, ok := krakenChannels[string(ch)]
	if string(ch) == "book" {
		// "type" says snapshot or update (Kraken WebSocket v2 "book"):
		// guessed, a snapshot taken as an update keeps every stale level.
		switch string(env.Type.bytes()) {
		case "snapshot":
			k, ok = krBookSnap, true
		case "update":
			k, ok = krBookDiff, true
		default:
			perr := p.bad("book", "type", presence(env.Type.ok))
			pairs := make([][]byte, len(p.elems))
			for i, s := range p.elems {
				pairs[i] = p.readSymbol(s.of(data))
			}
			return p.booksLost(ctx, pairs, ingest, perr)
		}
	}
	switch {
	case !ok:
		return p.unknown()
	case k == ignoredKind:
		return p.ignored()
	}
	if p.spec.kinds[k].typ == schema.EventControl { // heartbeat, status
		if k == krStatus && len(p.elems) > 0 {
			return p.each(ctx, k, data, p.elems, nil, ingest)
		}
		return p.run(ctx, k, data, nil, ingest)
	}
	if len(p.elems) == 0 && !env.Data.array {
		return p.reportsFrameLost(ctx, k == krExec, ingest, p.bad(string(ch), "data", ErrMissingField))
	}
	if env.Sequence.ok && env.Sequence.v > 0 {
		p.env.seq = uint64(env.Sequence.v)
	}
	p.env.envTime("timestamp", &env.Timestamp)
	p.env.snapshot = string(env.Type.bytes()) == "snapshot" // a subscription's recent trades
	if k == krBalance {
		return p.eachEntry(ctx, k, data, p.elems, nil, ingest)
	}
	return p.each(ctx, k, data, p.elems, nil, ingest)
}

func (p *Parser) krakenV1(ctx context.Context, st *krState, data []byte, ingest int64) error {
	v := &st.v1
	*v = krV1Frame{}
	if err := p.unmarshal(data, v); err != nil {
		return p.v1Lost(ctx, st, ingest, p.badDecode("envelope", err))
	}
	name, pair := v.name.bytes(), v.pair.bytes()
	p.raw.Stream, p.raw.Payload = name, data
	switch {
	case string(name) == "trade" && v.arr.to > 0:
		p.list = spans{list: &p.elems}
		arr := v.arr.of(data)
		if err := p.unmarshal(arr, &p.list); err != nil {
			return p.badDecode("trade", err)
		}
		return p.each(ctx, krV1Trade, arr, p.elems, pair, ingest)
	case string(name) == "ticker" && v.n > 0:
		return p.run(ctx, krV1Ticker, v.objs[0].of(data), pair, ingest)
	case !bytes.HasPrefix(name, []byte("book")):
		return p.unknown()
	}
	st.v1Books = true
	p.env.depth = viewDepth(bytes.TrimPrefix(name, []byte("book-"))) // "book-25": the top 25
	if v.n == 0 {
		from := schema.CanonicalEvent{IngestTS: ingest}
		from.Book.Depth = p.env.depth
		return p.bookLost(ctx, &from, pair, p.bad("book", "", ErrMissingField))
	}
	if v.n > 1 {
		p.more = v.objs[1].of(data)
	}
	return p.run(ctx, krV1Book, v.objs[0].of(data), pair, ingest)
}

// v1Lost handles a v1 frame that did not decode (cause): Kraken books
// carry no ids and their checksum covers the top 10 only (Kraken
// WebSockets API v1, "book"), so a lost book frame is marked where it is
// dropped — for its pair when the frame named one, else for every book of
// the venue. The frame is a book's when the strings read before the fault
// name a book channel ([channelID, payload…, channelName, pair]: a lone
// string is the name), or, naming nothing, when the connection carries v1
// books. A frame of another channel costs nothing else.
func (p *Parser) v1Lost(ctx context.Context, st *krState, ingest int64, cause error) error {
	v := &st.v1
	name, pair := &v.name, &v.pair
	if !name.ok {
		name, pair = pair, nil // a lone string is the name
	}
	switch {
	case name.ok && bytes.HasPrefix(name.bytes(), []byte("book")):
	case !name.ok && st.v1Books:
	default:
		return cause
	}
	from := schema.CanonicalEvent{IngestTS: ingest}
	from.Book.Depth = viewDepth(bytes.TrimPrefix(name.bytes(), []byte("book-")))
	var sym []byte
	if pair != nil && pair.ok {
		sym = pair.bytes()
	}
	return p.bookLost(ctx, &from, sym, cause)
}

// intervalNanos is the length of each canonical kline interval.
var intervalNanos = map[string]int64{
	"1m": 60e9, "3m": 180e9, "5m": 300e9, "15m": 900e9, "30m": 1800e9,
	"1h": 3600e9, "2h": 7200e9, "4h": 14400e9, "6h": 21600e9, "12h": 43200e9,
	"1d": 86400e9, "1w": 604800e9, "15d": 1296000e9,
	"1s": 1e9, "2d": 172800e9, "3d": 259200e9, "5d": 432000e9,
	"6h+08:00": 21600e9, "12h+08:00": 43200e9, "1d+08:00": 86400e9, "2d+08:00": 172800e9,
	"3d+08:00": 259200e9, "5d+08:00": 432000e9, "1w+08:00": 604800e9,
}

// Kraken's messages. v2 keys are words; numbers are JSON numbers whose
// text is kept.

type krTradeMsg struct {
	Symbol    text    `json:"symbol"`
	Side      text    `json:"side"`
	Price     num     `json:"price"`
	Qty       num     `json:"qty"`
	TradeID   integer `json:"trade_id"`
	Timestamp text    `json:"timestamp"`
}

func (m *krTradeMsg) fill(f *filler) {
	x := &f.ev.Trade
	f.symbol("symbol", &m.Symbol)
	f.side(&x.Side, "side", &m.Side)
	f.need("price", m.Price.ok) // a trade without price or size is no trade
	f.need("qty", m.Qty.ok)
	f.need("side", m.Side.ok) // Kraken WebSocket v2 "trade": side and trade_id always sent
	f.need("trade_id", m.TradeID.ok)
	f.need("timestamp", m.Timestamp.ok) // absent, the trade would be dated 1970
	f.positive(&x.Price, "price", m.Price)
	f.size(&x.Qty, "qty", m.Qty)
	f.seqID("trade_id", &x.ID, m.TradeID)
	f.time(&f.main, "timestamp", &m.Timestamp)
}

type krTickerMsg struct {
	Symbol    text `json:"symbol"`
	Bid       num  `json:"bid"`
	BidQty    num  `json:"bid_qty"`
	Ask       num  `json:"ask"`
	AskQty    num  `json:"ask_qty"`
	Last      num  `json:"last"`
	Volume    num  `json:"volume"`
	VWAP      num  `json:"vwap"`
	Low       num  `json:"low"`
	High      num  `json:"high"`
	Change    num  `json:"change"`
	ChangePct num  `json:"change_pct"`
	Timestamp text `json:"timestamp"`
}

func (m *krTickerMsg) fill(f *filler) {
	x := f.ev.UseTicker()
	f.need("bid", m.Bid.ok) // Kraken WebSocket v2 "ticker": always sent
	f.need("ask", m.Ask.ok)
	// "last": "Last traded price (only guaranteed if traded within the
	// past 24 hours)" (Kraken WebSocket v2 "ticker"): a quiet pair's
	// ticker may come without it, and its best bid/ask must still be
	// served. Absent, Ticker.Last stays zero (not sent).
	f.needAll(keySent{"bid_qty", m.BidQty.ok}, keySent{"ask_qty", m.AskQty.ok}, keySent{"volume", m.Volume.ok},
		keySent{"low", m.Low.ok}, keySent{"high", m.High.ok}, keySent{"change", m.Change.ok}, keySent{"change_pct", m.ChangePct.ok})
	f.symbol("symbol", &m.Symbol)
	f.price(&x.BidPrice, "bid", m.Bid)
	f.price(&x.BidQty, "bid_qty", m.BidQty)
	f.price(&x.AskPrice, "ask", m.Ask)
	f.price(&x.AskQty, "ask_qty", m.AskQty)
	f.price(&x.Last, "last", m.Last)
	f.price(&x.Volume, "volume", m.Volume)
	// "vwap": "24-hour volume weighted average price" (Kraken WebSocket
	// v2 "ticker"); not required: absent, WeightedAvgPrice stays zero
	// (not sent), the ticker still served.
	f.price(&x.WeightedAvgPrice, "vwap", m.VWAP)
	f.price(&x.Low, "low", m.Low)
	f.price(&x.High, "high", m.High)
	f.decimal(&x.PriceChange, m.Change)
	f.decimal(&x.ChangePct, m.ChangePct)
	f.time(&f.main, "timestamp", &m.Timestamp)
}

var krakenLevels = &levelShape{price: 0, qty: 1, side: -1, priceKey: "price", qtyKey: "qty"}

type krBookMsg struct {
	Symbol    text    `json:"symbol"`
	Bids      levels  `json:"bids"`
	Asks      levels  `json:"asks"`
	Checksum  integer `json:"checksum"`
	Timestamp text    `json:"timestamp"`
}

func (m *krBookMsg) bind(ev *schema.CanonicalEvent) {
	m.Bids.bind(krakenLevels, &ev.Book.Bids, nil)
	m.Asks.bind(krakenLevels, &ev.Book.Asks, nil)
}

func (m *krBookMsg) bookSymbol() *text { return &m.Symbol }

// fill names the message's view: v2 book messages carry no depth, so it is
// the one the symbol's subscription ack named (Kraken WebSocket v2 "book":
// "result":{"depth":…}), else the one its latest snapshot shows
// (krState.snapshotDepth), 0 (not said) before either.
func (m *krBookMsg) fill(f *filler) {
	// Both sides are always sent, [] when unchanged (Kraken WebSocket v2
	// "book"): a missing key is not an empty side.
	f.need("bids", m.Bids.ok)
	f.need("asks", m.Asks.ok)
	f.symbol("symbol", &m.Symbol)
	st := f.p.state.(*krState)
	sym := f.ev.Symbol
	d := st.depths[sym]
	if f.ev.Type == schema.EventBookSnapshot && sym != "" {
		if now, learnt := st.snapshotDepth(sym, max(len(f.ev.Book.Bids), len(f.ev.Book.Asks))); learnt {
			st.depthMemo.hold(f, &st.depths, sym, now) // learnt once the snapshot is accepted
			if fits(f.p, st.depths, sym) {
				d = now
			}
		}
	}
	if d.n > 0 {
		f.ev.Book.Depth = d.n
	}
	f.checksum("checksum", m.Checksum)
	f.time(&f.main, "timestamp", &m.Timestamp)
}

// krV1BookMsg: "as"/"bs" in a snapshot, "a"/"b" and the checksum "c" in
// an update; levels are [price, volume, timestamp(, "r")].
type krV1BookMsg struct {
	AS levels  `json:"as"`
	BS levels  `json:"bs"`
	A  levels  `json:"a"`
	B  levels  `json:"b"`
	C  integer `json:"c"`
}

// krakenV1Levels: [price, volume, timestamp(, "r")], the time in seconds.
var krakenV1Levels = &levelShape{price: 0, qty: 1, side: -1, time: 2}

func (m *krV1BookMsg) bind(ev *schema.CanonicalEvent) {
	m.AS.bind(krakenV1Levels, &ev.Book.Asks, nil)
	m.BS.bind(krakenV1Levels, &ev.Book.Bids, nil)
	m.A.bind(krakenV1Levels, &ev.Book.Asks, nil)
	m.B.bind(krakenV1Levels, &ev.Book.Bids, nil)
}

// fill sets the checksum and, as ExchangeTS, the latest time of a level
// the message carries (Kraken v1 "book": each level has its update time).
func (m *krV1BookMsg) fill(f *filler) {
	if m.AS.ok || m.BS.ok {
		f.ev.Type = schema.EventBookSnapshot
	}
	f.checksum("c", m.C)
	for _, l := range [...]*levels{&m.AS, &m.BS, &m.A, &m.B} {
		f.main = max(f.main, l.latest)
	}
}

var krakenIntervals = map[string]string{"1": "1m", "5": "5m", "15": "15m", "30": "30m", "60": "1h", "240": "4h", "1440": "1d", "10080": "1w", "21600": "15d"}

type krOHLCMsg struct {
	Symbol        text    `json:"symbol"`
	Open          num     `json:"open"`
	High          num     `json:"high"`
	Low           num     `json:"low"`
	Close         num     `json:"close"`
	Volume        num     `json:"volume"`
	Trades        integer `json:"trades"`
	IntervalBegin text    `json:"interval_begin"`
	Interval      word    `json:"interval"`
	Timestamp     text    `json:"timestamp"`
}

func (m *krOHLCMsg) fill(f *filler) {
	x := f.ev.UseKline()
	// Kraken v2 "OHLC" sends every member in every push: absent or null,
	// the candle would be published with a zero in its place.
	f.needAll(keySent{"open", m.Open.ok}, keySent{"high", m.High.ok}, keySent{"low", m.Low.ok}, keySent{"close", m.Close.ok},
		keySent{"volume", m.Volume.ok}, keySent{"interval_begin", m.IntervalBegin.ok}, keySent{"interval", m.Interval.ok})
	f.symbol("symbol", &m.Symbol)
	f.price(&x.Open, "open", m.Open)
	f.price(&x.High, "high", m.High)
	f.price(&x.Low, "low", m.Low)
	f.price(&x.Close, "close", m.Close)
	f.price(&x.Volume, "volume", m.Volume)
	f.unsigned(&x.TradeCount, "trades", m.Trades)
	f.time(&x.OpenTime, "interval_begin", &m.IntervalBegin)
	f.word(&x.Interval, "interval", krakenIntervals, &m.Interval)
	f.time(&f.main, "timestamp", &m.Timestamp)
	if d, ok := intervalNanos[x.Interval]; ok && x.OpenTime != 0 {
		x.CloseTime = x.OpenTime + d
	}
}

// krV1TradeMsg is one [price, volume, time, side, orderType, misc].
type krV1TradeMsg struct{ t krTuple }

func (m *krV1TradeMsg) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	return m.t.UnmarshalJSONFrom(in)
}

func (m *krV1TradeMsg) fill(f *filler) {
	x := &f.ev.Trade
	// [price, volume, time, side, orderType, misc], all sent (Kraken v1
	// "trade"): without price or volume it is no trade, without time or
	// side it would be dated 1970 or taken by no one.
	f.needAll(keySent{"0", m.t.num[0].ok}, keySent{"1", m.t.num[1].ok}, keySent{"2", m.t.num[2].ok}, keySent{"3", m.t.txt[3].ok})
	f.positive(&x.Price, "0", m.t.num[0])
	f.size(&x.Qty, "1", m.t.num[1])
	f.seconds(&f.main, "2", m.t.num[2])
	f.side(&x.Side, "3", &m.t.txt[3])
}

// krTuple reads an array by position: numbers at 0–2, words at 3–5.
type krTuple struct {
	num [3]num
	txt [6]text
}

func (t *krTuple) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	return tuple(in, func(pos int) error {
		var err error
		switch {
		case pos < len(t.num):
			err = t.num[pos].UnmarshalJSONFrom(in)
		case pos < len(t.txt):
			err = t.txt[pos].UnmarshalJSONFrom(in)
		default:
			return in.SkipValue()
		}
		if err != nil {
			return &fieldError{field: positions[pos : pos+1], err: err}
		}
		return nil
	})
}

// positions name the elements of a tuple in errors.
const positions = "0123456789"

// krV1TickerMsg: each field is an array, today's value then the last 24
// hours' (a and b: price, whole-lot volume, lot volume).
type krV1TickerMsg struct {
	A krTuple `json:"a"`
	B krTuple `json:"b"`
	C krTuple `json:"c"`
	V krTuple `json:"v"`
	P krTuple `json:"p"`
	T krTuple `json:"t"`
	L krTuple `json:"l"`
	H krTuple `json:"h"`
	O krTuple `json:"o"`
}

func (m *krV1TickerMsg) fill(f *filler) {
	x := f.ev.UseTicker()
	// Kraken v1 "ticker": best ask, best bid and last trade in every
	// message, as v2 (krTickerMsg); absent, the price would be a 0.
	f.needAll(keySent{"a", m.A.num[0].ok}, keySent{"b", m.B.num[0].ok}, keySent{"c", m.C.num[0].ok})
	f.price(&x.AskPrice, "a", m.A.num[0])
	f.price(&x.AskQty, "a", m.A.num[2])
	f.price(&x.BidPrice, "b", m.B.num[0])
	f.price(&x.BidQty, "b", m.B.num[2])
	f.price(&x.Last, "c", m.C.num[0])
	f.price(&x.LastQty, "c", m.C.num[1])
	f.price(&x.Volume, "v", m.V.num[1])
	f.price(&x.WeightedAvgPrice, "p", m.P.num[1]) // volume weighted average price, last 24 hours
	if n := m.T.num[1]; n.ok {
		if n.v.Scale() != 0 || n.v.Sign() < 0 {
			f.fail("t", errWantInteger)
		} else {
			x.TradeCount = uint64(n.v.Mantissa())
		}
	}
	f.price(&x.Low, "l", m.L.num[1])
	f.price(&x.High, "h", m.H.num[1])
	f.price(&x.Open, "o", m.O.num[1])
}

// krMethodMsg is a v2 method response or a v1 subscriptionStatus.
type krMethodMsg struct {
	Method       text   `json:"method"`
	ReqID        reqID  `json:"req_id"`
	V1ReqID      reqID  `json:"reqid"`
	Error        reason `json:"error"`
	ErrorMessage reason `json:"errorMessage"`
	Result       struct {
		Channel text    `json:"channel"`
		Symbol  text    `json:"symbol"`
		Depth   integer `json:"depth"`
	} `json:"result"`
}

func (m *krMethodMsg) fill(f *filler) {
	c := f.ev.UseControl()
	c.RequestID = either(m.ReqID.v, m.V1ReqID.v)
	if !m.ErrorMessage.empty() {
		c.Reason = f.p.reason(&m.ErrorMessage)
	} else {
		c.Reason = f.p.reason(&m.Error)
	}
	if c.Kind == schema.ControlSubscribeAck && string(m.Result.Channel.bytes()) == "book" {
		f.p.state.(*krState).bookAck(f, &m.Method, &m.Result.Symbol, m.Result.Depth)
	}
}

// bookAck holds the depth a v2 book subscription's ack names for its
// symbol, and the forgetting of it on the unsubscription's, made once the
// ack is accepted (symMemo): v2 book messages do not name their depth,
// and a book kept at another depth fails the checksum (see
// krBookMsg.fill).
func (st *krState) bookAck(f *filler, method, symbol *text, depth integer) {
	sym, err := f.p.syms.Lookup(symbol.bytes())
	if err != nil {
		return
	}
	switch {
	case string(method.bytes()) == "unsubscribe":
		st.depthMemo.hold(f, &st.depths, sym, krDepth{})
		st.depthMemo.del = true
	case depth.ok && depth.v > 0 && depth.v <= 1<<20:
		st.depthMemo.hold(f, &st.depths, sym, krDepth{n: int(depth.v), acked: true})
	}
}

// snapshotDepth returns the book depth of sym a v2 snapshot of n levels
// a side teaches where no ack named it, and whether it teaches one — the
// ack was lost, came after the snapshot, or the subscription was made
// before the parser was attached: "on subscription, a snapshot is
// published at the specified depth" (Kraken WebSocket "Book"), so a
// snapshot whose deeper side holds an offered depth (10, 25, 100, 500,
// 1000) exactly is that view. A thinner one (7 levels, 30) says only
// that the view is at least as deep: it names none, as before (a book
// with a Rule.Depth takes a view of 0 as its own; named wrong, it would
// ignore the stream as another view's). An ack's depth wins over a
// snapshot's unless the snapshot is deeper than it: the venue never sends
// more levels than the view it serves.
func (st *krState) snapshotDepth(sym string, n int) (krDepth, bool) {
	d, known := st.depths[sym]
	if known && d.acked && n <= d.n {
		return d, false
	}
	return krDepth{n: n, acked: d.acked && known}, continuity.KrakenDepth.Offers(n)
}

// krStatusMsg is a v2 status element ("system": "online", "maintenance",
// …) or a v1 systemStatus ("status").
type krStatusMsg struct {
	System text `json:"system"`
	Status text `json:"status"`
}

func (m *krStatusMsg) fill(f *filler) {
	c := f.ev.UseControl()
	c.Reason = internOrCopy(krakenSystemStates, &m.System)
	if m.Status.ok {
		c.Reason = internOrCopy(krakenSystemStates, &m.Status)
	}
}

var krakenSystemStates = internTable("online", "maintenance", "cancel_only", "limit_only", "post_only")

// KrakenSubscribe returns a v2 subscribe request for channel ("trade",
// "ticker", "book", "ohlc", …) and pairs ("BTC/USD"), with request id
// reqID, which the ack carries back in Control.RequestID.
func KrakenSubscribe(reqID uint64, channel string, pairs ...string) ([]byte, error) {
	if err := checkNames("channel", []string{channel}); err != nil {
		return nil, err
	}
	if err := checkNames("pair", pairs); err != nil {
		return nil, err
	}
	type params struct {
		Channel string   `json:"channel"`
		Symbol  []string `json:"symbol"`
	}
	return marshalRequest(&struct {
		Method string `json:"method"`
		Params params `json:"params"`
		ReqID  uint64 `json:"req_id"`
	}{"subscribe", params{channel, pairs}, reqID})
}

// KrakenSubscribeBook returns a v2 "book" subscribe request for pairs at
// depth levels a side, one Kraken offers (Kraken WebSocket v2 "book": 10,
// 25, 100, 500, 1000; KrakenSubscribe asks for the default, 10); any
// other depth is ErrBadValue. A book kept from the subscription must keep
// that depth (book.KrakenV2.WithDepth): Kraken sends no delete for a
// level pushed out of the view, and checksums the view's top 10.
func KrakenSubscribeBook(reqID uint64, depth int, pairs ...string) ([]byte, error) {
	return krakenBookRequest("subscribe", reqID, depth, pairs)
}

// KrakenUnsubscribeBook is the unsubscribe request of what
// KrakenSubscribeBook subscribes.
func KrakenUnsubscribeBook(reqID uint64, depth int, pairs ...string) ([]byte, error) {
	return krakenBookRequest("unsubscribe", reqID, depth, pairs)
}

func krakenBookRequest(method string, reqID uint64, depth int, pairs []string) ([]byte, error) {
	if !continuity.KrakenDepth.Offers(depth) {
		return nil, fmt.Errorf("%w: Kraken book depth %d (offered: %v)", ErrBadValue, depth, continuity.KrakenDepth.Offered)
	}
	if err := checkNames("pair", pairs); err != nil {
		return nil, err
	}
	type params struct {
		Channel string   `json:"channel"`
		Symbol  []string `json:"symbol"`
		Depth   int      `json:"depth"`
	}
	return marshalRequest(&struct {
		Method string `json:"method"`
		Params params `json:"params"`
		ReqID  uint64 `json:"req_id"`
	}{method, params{"book", pairs, depth}, reqID})
}
