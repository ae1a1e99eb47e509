package normalize

import (
	"bytes"
	"context"
	"strconv"

	"github.com/meltica/meltica/normalize/internal/continuity"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// BybitSymbolRules returns Bybit v5's symbols: no delimiter, quote assets
// matched longest first, like Binance. Linear perpetuals ("BTCUSDT") share
// the spot spelling (the connection — spot, linear, inverse — tells them
// apart); dated futures "BTCUSDT-27DEC24" are BTC-USDT-27DEC24. USDC
// perpetuals ("BTCPERP") and inverse futures ("BTC-27DEC24") name no quote
// asset: load them with [Instrument.Contract] ("PERP", "27DEC24").
func BybitSymbolRules() SymbolRules {
	return SymbolRules{
		Quotes: []string{
			"USDT", "USDC", "USDE", "USD", "DAI", "BTC", "ETH", "EUR", "BRL", "PLN", "TRY", "MNT",
		},
		ContractSep: '-',
	}
}

// NewBybit returns a parser of Bybit v5 public topics (publicTrade,
// orderbook snapshot and delta, tickers snapshot and delta, kline,
// allLiquidation, liquidation), private topics (order and execution:
// execution reports, see bybitOrderMsg and bybitExecMsg; authenticate with
// [BybitAuth]), system.status (a maintenance's state, a
// schema.ControlStatus event; status.go) and op responses (pong,
// subscribe acks and errors); greeks, dcp, insurance and adlAlert are
// counted Ignored. It takes events from events and hands them to sink, and panics
// when either is nil.
//
// A tickers delta carries only the fields that changed: the parser keeps
// each symbol's last ticker and merges the delta into it, so every
// EventTicker is complete (a delta before any snapshot of its symbol is a
// *ParseError wrapping [ErrNoSnapshot]). Book levels with a quantity of "0"
// delete the level and are passed through as such; the book's update id u
// is Book.LastSeq and the SeqProvider; a delta continues when u =
// previous u + 1, and u = 1 is a service restart whose data is a snapshot
// (Bybit v5 "Orderbook" docs: "please overwrite your local orderbook"),
// published as an EventBookSnapshot whatever its "type" — unless its seq,
// the cross sequence, is below the newest its stream took ("for the
// smaller seq, then it means the data is generated earlier", same page)
// and its time (cts, else ts) not after the last message delivered: then
// it is a late copy of a restart already taken (a rotation's other
// connection, a level-1 snapshot pushed again, a frame delivered twice),
// dropped and counted in Stats.Repeats; each
// depth's topic (orderbook.1, orderbook.50, …) is a stream of its own,
// named in Book.Depth; orderbook.rpi (RPI levels) and orderbook.full
// (Bybit v5 "Full Orderbook": deltas only, joined to a REST snapshot, and
// u = 1 meaning a resync rather than snapshot data) are not normalised
// and count as unknown. Tickers carry the
// cross sequence "cs". allLiquidation and liquidation name the side of the
// liquidated position; Liquidation.Side is the liquidation order's, the
// other one. price24hPcnt, a ratio, becomes Ticker.ChangePct in percent;
// an option's ticker names its best bid and offer bidPrice, bidSize,
// askPrice, askSize and its change change24h, read alike (Bybit v5
// "Ticker", option response).
// Sizes are Bybit's: the base asset for spot and linear contracts, the
// contract count — one USD each — for inverse ones ("BTCUSD", "BTCUSDH25";
// Bybit v5 "Orderbook", "Trade").
func NewBybit(events *pool.Pool[*schema.CanonicalEvent], sink Sink, opts *Options) *Parser {
	return newParser(&bybitSpec, events, sink, opts)
}

const (
	byTrade = iota
	byBookSnap
	byBookDiff
	byTickerSnap
	byTickerDelta
	byKline
	byAllLiquidation
	byLiquidation
	byHeartbeat
	byAck
	byError
	byOrder
	byExec
	byWallet
	byPosition
	bySystemStatus
)

var bybitSpec = venueSpec{
	venue:      schema.VenueBybit,
	rules:      BybitSymbolRules,
	continuity: continuity.Bybit,
	kinds: []kind{
		byTrade:          {name: "publicTrade", typ: schema.EventTrade, slot: newSlot[bybitTradeMsg]},
		byBookSnap:       {name: "orderbook", typ: schema.EventBookSnapshot, book: true, slot: newSlot[bybitBookMsg]},
		byBookDiff:       {name: "orderbook", typ: schema.EventBookUpdate, book: true, slot: newSlot[bybitBookMsg]},
		byTickerSnap:     {name: "tickers", typ: schema.EventTicker, merge: mergeSnapshot, latest: true, slot: newSlot[bybitTickerMsg]},
		byTickerDelta:    {name: "tickers", typ: schema.EventTicker, merge: mergeDelta, latest: true, slot: newSlot[bybitTickerMsg]},
		byKline:          {name: "kline", typ: schema.EventKlineLive, slot: newSlot[bybitKlineMsg]},
		byAllLiquidation: {name: "allLiquidation", typ: schema.EventLiquidation, slot: newSlot[bybitAllLiquidationMsg]},
		byLiquidation:    {name: "liquidation", typ: schema.EventLiquidation, slot: newSlot[bybitLiquidationMsg]},
		byHeartbeat:      {name: "op", typ: schema.EventControl, ctl: schema.ControlHeartbeat, slot: newSlot[bybitOpMsg]},
		byAck:            {name: "op", typ: schema.EventControl, ctl: schema.ControlSubscribeAck, slot: newSlot[bybitOpMsg]},
		byError:          {name: "op", typ: schema.EventControl, ctl: schema.ControlVenueError, slot: newSlot[bybitOpMsg]},
		// Private topics (bybit_private.go): execution reports.
		byOrder: {name: "order", typ: schema.EventExecReport, slot: newWideSlot[bybitOrderMsg]},
		byExec:  {name: "execution", typ: schema.EventExecReport, slot: newSlot[bybitExecMsg]},
		// Account topics (bybit_account.go).
		byWallet:   {name: "wallet", typ: schema.EventBalance, slot: newSlot[bybitCoinMsg]},
		byPosition: {name: "position", typ: schema.EventPosition, slot: newWideSlot[bybitPositionMsg]},
		// system.status (status.go).
		bySystemStatus: {name: "system.status", typ: schema.EventControl, ctl: schema.ControlStatus, slot: newSlot[maintenanceMsg]},
	},
	newState: func() any { return new(bybitState) },
	alignKey: bybitAlignKey,
	split:    bybitSplit,
}

// bybitTopics maps a topic's name to its snapshot and delta kinds.
var bybitTopics = map[string][2]int{
	"publicTrade":    {byTrade, byTrade},
	"orderbook":      {byBookSnap, byBookDiff},
	"tickers":        {byTickerSnap, byTickerDelta},
	"kline":          {byKline, byKline},
	"allLiquidation": {byAllLiquidation, byAllLiquidation},
	"liquidation":    {byLiquidation, byLiquidation},
	"order":          {byOrder, byOrder},
	"execution":      {byExec, byExec},
	"wallet":         {byWallet, byWallet},
	"position":       {byPosition, byPosition},
	"system":         {bySystemStatus, bySystemStatus}, // system.status: maintenance (status.go)
	// Known and skipped on purpose (counted in Stats.Ignored, never as
	// unknown):
	//   - greeks.{baseCoin} (Bybit v5 "Greeks", private): the account's
	//     option greeks per base coin; the schema has no place for them.
	//   - dcp.future, dcp.spot, dcp.option (Bybit v5 "Dcp", private): a
	//     subscription that arms Disconnect Cancel Protection for the
	//     connections carrying it; what it pushes is the setting's state,
	//     no order, balance or market event.
	//   - insurance.{USDT,USDC,inverse} (Bybit v5 "Insurance Pool"): the
	//     insurance fund's balance per coin and its symbols; no event of
	//     the schema.
	//   - adlAlert.{coin} (Bybit v5 "ADL Alert"): the auto-deleveraging
	//     thresholds of a contract's insurance pool; no event of the
	//     schema.
	"greeks":    {ignoredKind, ignoredKind},
	"dcp":       {ignoredKind, ignoredKind},
	"insurance": {ignoredKind, ignoredKind},
	"adlAlert":  {ignoredKind, ignoredKind},
}

// bybitReportTopic reports whether a topic carries execution reports:
// "order", "execution", "execution.fast" and their category forms
// ("order.spot"; Bybit v5 "Order", "Execution", "Fast Execution").
func bybitReportTopic(topic []byte) bool {
	if i := bytes.IndexByte(topic, '.'); i >= 0 {
		topic = topic[:i]
	}
	t, ok := bybitTopics[string(topic)]
	return ok && (t[0] == byOrder || t[0] == byExec)
}

// bybitState is a Bybit parser's own: the frame's envelope, and the
// working orders of the "order" topic (for their amendments).
type bybitState struct {
	env    bybitEnvelope
	orders bybitOrders
}

// bybitEnvelope is a Bybit frame: an op response, or a topic push
// {"topic":"name(.param).SYMBOL","type","ts","cs","data"}.
type bybitEnvelope struct {
	Topic   text    `json:"topic"`
	Type    text    `json:"type"`
	TS      integer `json:"ts"`
	CTS     integer `json:"cts"`
	CS      integer `json:"cs"`
	Data    spans   `json:"data"`
	Op      text    `json:"op"`
	Success flag    `json:"success"`
	RetCode integer `json:"retCode"` // trade WebSocket (order.create, …) answers

	CreationTime integer `json:"creationTime"` // private topics (order, execution)
}

func bybitSplit(p *Parser, ctx context.Context, data []byte, _ uint64, ingest int64) error {
	env := &p.state.(*bybitState).env
	*env = bybitEnvelope{Data: spans{list: &p.elems}}
	p.elems = p.elems[:0]
	if err := p.unmarshal(data, env); err != nil {
		rescanName(data, &env.Topic, "topic")
		return p.reportsFrameLost(ctx, bybitReportTopic(env.Topic.bytes()), ingest, p.badDecode("envelope", err))
	}
	if env.Op.ok {
		p.raw.Stream, p.raw.Payload = env.Op.bytes(), data
		switch o := string(env.Op.bytes()); {
		case env.Success.ok && !env.Success.v,
			env.RetCode.v != 0: // trade WebSocket: "retCode" non-zero, "retMsg" (Bybit v5 WebSocket Trade Guideline)
			return p.run(ctx, byError, data, nil, ingest)
		case o == "pong" || o == "ping":
			return p.run(ctx, byHeartbeat, data, nil, ingest)
		case o == "subscribe" || o == "unsubscribe" || o == "auth":
			return p.run(ctx, byAck, data, nil, ingest)
		}
		return p.unknown()
	}
	name := env.Topic.bytes()
	kindName, sym := name, []byte(nil)
	if i := bytes.IndexByte(name, '.'); i >= 0 {
		j := bytes.LastIndexByte(name, '.')
		kindName, sym = name[:i], name[j+1:]
		if i < j && string(kindName) == "orderbook" { // orderbook.{depth}.{symbol}
			if p.env.depth = viewDepth(name[i+1 : j]); p.env.depth == 0 {
				// orderbook.rpi.{symbol} (Bybit v5 "RPI Orderbook"): levels
				// [price, non-RPI size, RPI size] with ids of their own, a
				// view crossed by design; not a book to merge with the
				// others, not normalised. orderbook.full.{symbol} (Bybit v5
				// "Full Orderbook"): deltas only, whose u = 1 asks for a
				// resync from REST rather than carrying snapshot data: read
				// as an orderbook.{depth} it would be a book of deltas with
				// no snapshot; not normalised either.
				return p.unknown()
			}
		}
	}
	t, ok := bybitTopics[string(kindName)]
	switch {
	case !ok:
		return p.unknown()
	case t[0] == ignoredKind:
		return p.ignored()
	case t[0] == bySystemStatus:
		sym = nil // "system.status": no symbol
	}
	k := t[0]
	if t[0] != t[1] {
		// orderbook and tickers: "type" says snapshot or delta (Bybit v5
		// "Orderbook", "Ticker"); guessed, a delta taken as a snapshot
		// resets the book to its few levels.
		switch string(env.Type.bytes()) {
		case "snapshot":
		case "delta":
			k = t[1]
		default:
			return p.bad(p.spec.kinds[k].name, "type", presence(env.Type.ok))
		}
	}
	if len(p.elems) == 0 && !env.Data.array {
		return p.reportsFrameLost(ctx, k == byOrder || k == byExec, ingest, p.bad(p.spec.kinds[k].name, "data", ErrMissingField))
	}
	p.raw.Stream, p.raw.Payload = name, data
	if env.CS.ok && env.CS.v > 0 {
		p.env.seq = uint64(env.CS.v)
	}
	p.env.envMillis("cts", env.CTS)
	p.env.envMillis("ts", env.TS)
	p.env.envMillis("creationTime", env.CreationTime)
	switch k {
	case byWallet:
		return p.nestedEntries(ctx, k, data, "wallet", "coin", decodeBybitWallet, ingest)
	case byPosition:
		return p.eachEntry(ctx, k, data, p.elems, nil, ingest) // "position.linear": the category, no symbol
	}
	return p.each(ctx, k, data, p.elems, sym, ingest)
}

// Bybit's messages. Names are matched exactly: publicTrade has both "s"
// (symbol) and "S" (side).

type bybitTradeMsg struct {
	T   integer `json:"T"`
	S   text    `json:"s"`
	SS  text    `json:"S"`
	V   num     `json:"v"`
	P   num     `json:"p"`
	I   ident   `json:"i"`
	Seq integer `json:"seq"`
}

func (m *bybitTradeMsg) fill(f *filler) {
	x := &f.ev.Trade
	f.need("p", m.P.ok)
	f.need("v", m.V.ok)
	f.need("S", m.SS.ok)
	f.need("i", m.I.some()) // Bybit v5 "Trade": every trade has its id (null, -1, "": none)
	f.millis(&f.main, "T", m.T)
	f.symbol("s", &m.S)
	f.side(&x.Side, "S", &m.SS)
	f.size(&x.Qty, "v", m.V)
	f.positive(&x.Price, "p", m.P)
	f.id(&x.ID, m.I)
	f.seq(&f.ev.SeqProvider, m.Seq)
}

type bybitBookMsg struct {
	S   text    `json:"s"`
	B   levels  `json:"b"`
	A   levels  `json:"a"`
	U   integer `json:"u"`
	Seq integer `json:"seq"`
}

func (m *bybitBookMsg) bind(ev *schema.CanonicalEvent) {
	m.B.bind(nil, &ev.Book.Bids, nil)
	m.A.bind(nil, &ev.Book.Asks, nil)
}

func (m *bybitBookMsg) fill(f *filler) {
	f.need("b", m.B.ok)
	f.need("a", m.A.ok)
	f.need("u", m.U.ok) // Bybit v5 "Orderbook": every message's update id, its only continuity check
	f.symbol("s", &m.S)
	f.unsigned(&f.ev.Book.LastSeq, "u", m.U)
	f.ev.SeqProvider = f.ev.Book.LastSeq
	// The cross sequence, which orders the data across restarts and
	// connections where u cannot (continuity.IDs.Cross); none on options'
	// books.
	f.seq(&f.cross, m.Seq)
}

type bybitTickerMsg struct {
	Symbol          text    `json:"symbol"`
	LastPrice       optNum  `json:"lastPrice"`
	HighPrice24h    optNum  `json:"highPrice24h"`
	LowPrice24h     optNum  `json:"lowPrice24h"`
	PrevPrice24h    optNum  `json:"prevPrice24h"`
	Volume24h       optNum  `json:"volume24h"`
	Turnover24h     optNum  `json:"turnover24h"`
	Price24hPcnt    optNum  `json:"price24hPcnt"`
	Bid1Price       optNum  `json:"bid1Price"`
	Bid1Size        optNum  `json:"bid1Size"`
	Ask1Price       optNum  `json:"ask1Price"`
	Ask1Size        optNum  `json:"ask1Size"`
	MarkPrice       optNum  `json:"markPrice"`
	IndexPrice      optNum  `json:"indexPrice"`
	OpenInterest    optNum  `json:"openInterest"`
	FundingRate     optNum  `json:"fundingRate"`
	NextFundingTime integer `json:"nextFundingTime"`

	// Options' best bid and offer, and 24 h change (a ratio), spelled
	// apart from the others' (Bybit v5 "Ticker", option response).
	BidPrice  optNum `json:"bidPrice"`
	BidSize   optNum `json:"bidSize"`
	AskPrice  optNum `json:"askPrice"`
	AskSize   optNum `json:"askSize"`
	Change24h optNum `json:"change24h"`
}

func (m *bybitTickerMsg) fill(f *filler) {
	x := f.ev.UseTicker()
	if f.merge == mergeSnapshot {
		// The whole ticker, and the base later deltas merge into: without
		// the last price it would be a 0 until a delta sent one.
		f.need("lastPrice", m.LastPrice.sent)
		// So are its 24 h members (Bybit v5 "Ticker": spot, derivatives
		// and options alike send these four; prevPrice24h and
		// price24hPcnt are not in options' tickers).
		f.needAll(keySent{"highPrice24h", m.HighPrice24h.sent}, keySent{"lowPrice24h", m.LowPrice24h.sent},
			keySent{"volume24h", m.Volume24h.sent}, keySent{"turnover24h", m.Turnover24h.sent})
	}
	f.symbol("symbol", &m.Symbol)
	f.price(&x.Last, "lastPrice", m.LastPrice.num)
	f.price(&x.High, "highPrice24h", m.HighPrice24h.num)
	f.price(&x.Low, "lowPrice24h", m.LowPrice24h.num)
	f.price(&x.Open, "prevPrice24h", m.PrevPrice24h.num)
	f.price(&x.Volume, "volume24h", m.Volume24h.num)
	f.price(&x.QuoteVolume, "turnover24h", m.Turnover24h.num)
	f.percent(&x.ChangePct, "price24hPcnt", m.Price24hPcnt.num)
	f.price(&x.BidPrice, "bid1Price", m.Bid1Price.num)
	f.price(&x.BidQty, "bid1Size", m.Bid1Size.num)
	f.price(&x.AskPrice, "ask1Price", m.Ask1Price.num)
	f.price(&x.AskQty, "ask1Size", m.Ask1Size.num)
	f.price(&x.BidPrice, "bidPrice", m.BidPrice.num)
	f.price(&x.BidQty, "bidSize", m.BidSize.num)
	f.price(&x.AskPrice, "askPrice", m.AskPrice.num)
	f.price(&x.AskQty, "askSize", m.AskSize.num)
	f.percent(&x.ChangePct, "change24h", m.Change24h.num)
	f.price(&x.MarkPrice, "markPrice", m.MarkPrice.num) // no negative prices, as Binance "p", "i"
	f.price(&x.IndexPrice, "indexPrice", m.IndexPrice.num)
	f.price(&x.OpenInt, "openInterest", m.OpenInterest.num)
	f.decimal(&x.FundingRate, m.FundingRate.num)
	f.millis(&x.NextFundingTime, "nextFundingTime", m.NextFundingTime)
}

var bybitIntervals = map[string]string{
	"1": "1m", "3": "3m", "5": "5m", "15": "15m", "30": "30m", "60": "1h", "120": "2h",
	"240": "4h", "360": "6h", "720": "12h", "D": "1d", "W": "1w", "M": "1M",
}

type bybitKlineMsg struct {
	Start     integer `json:"start"`
	End       integer `json:"end"`
	Interval  word    `json:"interval"`
	Open      num     `json:"open"`
	Close     num     `json:"close"`
	High      num     `json:"high"`
	Low       num     `json:"low"`
	Volume    num     `json:"volume"`
	Turnover  num     `json:"turnover"`
	Confirm   flag    `json:"confirm"`
	Timestamp integer `json:"timestamp"`
}

func (m *bybitKlineMsg) fill(f *filler) {
	x := f.ev.UseKline()
	// Bybit v5 "Kline" sends every member in every push: absent or null,
	// the candle would be published with a zero in its place.
	f.needAll(keySent{"start", m.Start.ok}, keySent{"end", m.End.ok}, keySent{"interval", m.Interval.ok},
		keySent{"open", m.Open.ok}, keySent{"close", m.Close.ok}, keySent{"high", m.High.ok}, keySent{"low", m.Low.ok},
		keySent{"volume", m.Volume.ok}, keySent{"confirm", m.Confirm.ok})
	f.millis(&x.OpenTime, "start", m.Start)
	f.millis(&x.CloseTime, "end", m.End)
	f.word(&x.Interval, "interval", bybitIntervals, &m.Interval)
	f.price(&x.Open, "open", m.Open)
	f.price(&x.Close, "close", m.Close)
	f.price(&x.High, "high", m.High)
	f.price(&x.Low, "low", m.Low)
	f.price(&x.Volume, "volume", m.Volume)
	f.price(&x.QuoteVolume, "turnover", m.Turnover)
	x.Closed = m.Confirm.v
	if x.Closed {
		f.ev.Type = schema.EventKlineClosed
	}
	f.millis(&f.main, "timestamp", m.Timestamp)
}

type bybitAllLiquidationMsg struct {
	T  integer `json:"T"`
	S  text    `json:"s"`
	SS text    `json:"S"`
	V  num     `json:"v"`
	P  num     `json:"p"`
}

func (m *bybitAllLiquidationMsg) fill(f *filler) {
	x := f.ev.UseLiquidation()
	f.need("p", m.P.ok)
	f.need("v", m.V.ok)
	f.need("S", m.SS.ok)
	f.millis(&f.main, "T", m.T)
	f.symbol("s", &m.S)
	f.side(&x.Side, "S", &m.SS)
	x.Side = opposite(x.Side) // the liquidated position's side
	f.size(&x.Qty, "v", m.V)
	f.positive(&x.Price, "p", m.P)
}

type bybitLiquidationMsg struct {
	Symbol      text    `json:"symbol"`
	Side        text    `json:"side"`
	Price       num     `json:"price"`
	Size        num     `json:"size"`
	UpdatedTime integer `json:"updatedTime"`
}

func (m *bybitLiquidationMsg) fill(f *filler) {
	x := f.ev.UseLiquidation()
	f.symbol("symbol", &m.Symbol)
	f.side(&x.Side, "side", &m.Side)
	x.Side = opposite(x.Side)
	f.need("price", m.Price.ok) // a liquidation without price or size is none
	f.need("size", m.Size.ok)
	f.need("side", m.Side.ok) // Bybit v5 "Liquidation": always sent
	f.positive(&x.Price, "price", m.Price)
	f.size(&x.Qty, "size", m.Size)
	f.millis(&f.main, "updatedTime", m.UpdatedTime)
}

type bybitOpMsg struct {
	ReqID   reqID   `json:"req_id"`
	RetMsg  reason  `json:"ret_msg"`
	RetCode integer `json:"ret_code"`
	// The trade WebSocket spells them in camelCase.
	TradeReqID   reqID   `json:"reqId"`
	TradeRetMsg  reason  `json:"retMsg"`
	TradeRetCode integer `json:"retCode"`
}

func (m *bybitOpMsg) fill(f *filler) {
	c := f.ev.UseControl()
	if m.TradeRetCode.ok {
		c.RequestID, c.Reason, c.Code = m.TradeReqID.v, f.p.reason(&m.TradeRetMsg), m.TradeRetCode.v
		return
	}
	c.RequestID, c.Reason, c.Code = m.ReqID.v, f.p.reason(&m.RetMsg), m.RetCode.v
}

// BybitSubscribe returns a v5 subscribe request for topics
// ("publicTrade.BTCUSDT", "orderbook.50.BTCUSDT", "tickers.BTCUSDT", …)
// with request id reqID, which the ack carries back in Control.RequestID.
func BybitSubscribe(reqID uint64, topics ...string) ([]byte, error) {
	if err := checkNames("topic", topics); err != nil {
		return nil, err
	}
	return marshalRequest(&struct {
		Op    string   `json:"op"`
		ReqID string   `json:"req_id"`
		Args  []string `json:"args"`
	}{"subscribe", strconv.FormatUint(reqID, 10), topics})
}
