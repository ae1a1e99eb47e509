package normalize

import (
	"bytes"
	"context"
	"fmt"

	"github.com/meltica/meltica/normalize/internal/continuity"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// OKXSymbolRules returns OKX's instrument ids: "BTC-USDT" is BTC-USDT,
// the perpetual swap "BTC-USDT-SWAP" is BTC-USDT-PERP (Binance's form) and
// the future "BTC-USD-250328" is BTC-USD-250328. Options need the registry.
func OKXSymbolRules() SymbolRules {
	return SymbolRules{Delimiter: '-', ContractSep: '-', Contracts: map[string]string{"SWAP": "PERP"}}
}

// NewOKX returns a parser of OKX v5 public channels (trades, trades-all,
// tickers, bbo-tbt, books, books5, books-l2-tbt, books50-l2-tbt,
// funding-rate, mark-price, liquidation-orders, the candle channels: see
// okxCandleMsg), the private orders channel (execution
// reports, see okxOrderMsg; log in with [OKXLogin]), the algo order
// channels orders-algo and algo-advance (reports of the algo order, see
// okxAlgoOrderMsg), account, positions, balance_and_position, the status
// channel (a maintenance's state: schema.ControlStatus, status.go), and
// event messages (subscribe, unsubscribe, login acks, errors, notices),
// one event per element of "data"; open-interest, index-tickers,
// price-limit, fills and the mark and index price candles
// (mark-price-candle<bar>, index-candle<bar>: okxPriceCandle) are counted
// Ignored (see okxChannels). It takes
// events from events and hands them to sink, and panics when either is nil.
//
// Book seqId and prevSeqId become Book.LastSeq and Book.PrevSeq (and seqId
// the SeqProvider): a diff whose prevSeqId is not the symbol's last seqId
// is preceded by a gap event; a snapshot restarts the sequence (OKX v5
// "Order book channel" docs). The signed CRC32 "checksum" is kept in
// Book.Checksum as its 32 bits. A bbo-tbt push is an EventBBO; a side
// sent as [] (no order on it) is a zero price and quantity.
//
// Sizes are OKX's, digit for digit: for SWAP, FUTURES and OPTION
// instruments a trade's sz, a book level's size and a ticker's lastSz,
// bidSz and askSz count contracts, not the base asset (OKX v5 "Trades
// channel", "Order book channel": "For FUTURES/SWAP/OPTION … the number
// of contracts"; BTC-USDT-SWAP's contract is 0.01 BTC). Multiply by the
// instrument's Rules.ContractSize ([ParseOKXInstruments]) for the base
// asset: read as coins, a swap's volume is 100× off beside another
// venue's (ko0hi/pybotters-wrapper#129).
func NewOKX(events *pool.Pool[*schema.CanonicalEvent], sink Sink, opts *Options) *Parser {
	return newParser(&okxSpec, events, sink, opts)
}

const (
	oxTrade = iota
	oxTicker
	oxBBO
	oxBookSnap
	oxBookDiff
	oxBooks5
	oxFunding
	oxMark
	oxHeartbeat
	oxAck
	oxError
	oxStatus
	oxOrders
	oxTradeAll // trades-all: each trade, where trades aggregates them; ids of their own to compare
	oxAccount
	oxPositions
	oxBalPosBalance  // a balData entry of balance_and_position (okx_account.go)
	oxBalPosPosition // a posData entry of balance_and_position
	oxLiquidation    // a detail of a liquidation-orders element
	oxCandle         // candle1m, candle1D, candle1Dutc…: okx_candle.go
	oxAlgoOrders     // orders-algo, algo-advance: okx_private.go
	oxSystemStatus   // the status channel: maintenance of OKX's systems
)

var okxSpec = venueSpec{
	venue:      schema.VenueOKX,
	rules:      OKXSymbolRules,
	continuity: continuity.OKX,
	tradeIDs:   true,
	kinds: []kind{
		oxTrade:          {name: "trades", typ: schema.EventTrade, slot: newSlot[okxTradeMsg]},
		oxTicker:         {name: "tickers", typ: schema.EventTicker, latest: true, slot: newSlot[okxTickerMsg]},
		oxBBO:            {name: "bbo-tbt", typ: schema.EventBBO, latest: true, slot: newSlot[okxBookMsg]},
		oxBookSnap:       {name: "books", typ: schema.EventBookSnapshot, book: true, slot: newSlot[okxBookMsg]},
		oxBookDiff:       {name: "books", typ: schema.EventBookUpdate, book: true, slot: newSlot[okxBookMsg]},
		oxBooks5:         {name: "books5", typ: schema.EventBookSnapshot, latest: true, slot: newSlot[okxBookMsg]}, // its own sequence: not the diffs'
		oxFunding:        {name: "funding-rate", typ: schema.EventFundingRate, slot: newSlot[okxFundingMsg]},
		oxMark:           {name: "mark-price", typ: schema.EventMarkPrice, slot: newSlot[okxMarkMsg]},
		oxHeartbeat:      {name: "pong", typ: schema.EventControl, ctl: schema.ControlHeartbeat, slot: newSlot[emptyMsg]},
		oxAck:            {name: "event", typ: schema.EventControl, ctl: schema.ControlSubscribeAck, slot: newSlot[okxEventMsg]},
		oxError:          {name: "event", typ: schema.EventControl, ctl: schema.ControlVenueError, slot: newSlot[okxEventMsg]},
		oxStatus:         {name: "event", typ: schema.EventControl, ctl: schema.ControlStatus, slot: newSlot[okxEventMsg]},
		oxOrders:         {name: "orders", typ: schema.EventExecReport, slot: newWideSlot[okxOrderMsg]}, // private: okx_private.go
		oxTradeAll:       {name: "trades-all", typ: schema.EventTrade, slot: newSlot[okxTradeMsg]},
		oxAccount:        {name: "account", typ: schema.EventBalance, slot: newWideSlot[okxBalanceMsg]}, // private: okx_account.go
		oxPositions:      {name: "positions", typ: schema.EventPosition, slot: newWideSlot[okxPositionMsg]},
		oxBalPosBalance:  {name: okxBalPos, typ: schema.EventBalance, slot: newSlot[okxCashMsg]},
		oxBalPosPosition: {name: okxBalPos, typ: schema.EventPosition, slot: newWideSlot[okxPositionMsg]},
		oxLiquidation:    {name: "liquidation-orders", typ: schema.EventLiquidation, slot: newSlot[okxLiquidationMsg]},
		oxCandle:         {name: "candle", typ: schema.EventKlineLive, slot: newSlot[okxCandleMsg]},
		oxAlgoOrders:     {name: "orders-algo", typ: schema.EventExecReport, slot: newWideSlot[okxAlgoOrderMsg]},
		oxSystemStatus:   {name: "status", typ: schema.EventControl, ctl: schema.ControlStatus, slot: newSlot[maintenanceMsg]},
	},
	newState: func() any { return new(okxEnvelope) },
	alignKey: okxAlignKey,
	split:    okxSplit,
}

var (
	okxChannels = map[string]int{
		"trades": oxTrade, "trades-all": oxTradeAll, "tickers": oxTicker, "bbo-tbt": oxBBO,
		"books": oxBookDiff, "books-l2-tbt": oxBookDiff, "books50-l2-tbt": oxBookDiff, "books5": oxBooks5,
		"funding-rate": oxFunding, "mark-price": oxMark, "orders": oxOrders,
		"account": oxAccount, "positions": oxPositions, okxBalPos: oxBalPosBalance,
		"liquidation-orders": oxLiquidation,
		"orders-algo":        oxAlgoOrders, "algo-advance": oxAlgoOrders,
		"status": oxSystemStatus,
		// Known and skipped on purpose (counted in Stats.Ignored, never as
		// unknown; OKX v5 "WebSocket → Public / Private channel"):
		//   - open-interest: a contract's open interest alone. As an
		//     EventTicker it would share the symbol's latest-wins slot with
		//     its tickers and replace them with a ticker of zeros but
		//     OpenInt; the schema has no event of its own for it.
		//   - index-tickers: an index ("BTC-USDT"), no instrument, whose
		//     name is the spot and margin instrument's: as a ticker or a
		//     mark price it would stand in that instrument's slots.
		//   - price-limit: the highest buy and lowest sell limit of a
		//     contract; the schema has no place for them.
		//   - fills (VIP 6 and above): each fill of our orders, which the
		//     orders channel reports too, with the status, fee and
		//     cumulative quantity fills lacks (as Binance's TRADE_LITE):
		//     a host sees each fill once, from orders.
		"open-interest": ignoredKind, "index-tickers": ignoredKind, "price-limit": ignoredKind, "fills": ignoredKind,
	}
	// okxDepths: the levels per side of each book channel's view (OKX
	// "Order book channel"). books and books-l2-tbt, both 400, are one
	// stream of the symbol: OKX numbers seqId per instrument ("Each instId
	// has an unique set of sequence ID") and refuses books-l2-tbt beside
	// books or books50-l2-tbt for one symbol, so a books message the
	// tick-by-tick ones covered is a repeat, never a gap.
	okxDepths = map[string]int{"books": 400, "books-l2-tbt": 400, "books50-l2-tbt": 50, "books5": 5}
	okxEvents = map[string]int{
		"subscribe": oxAck, "unsubscribe": oxAck, "login": oxAck,
		"error": oxError, "channel-conn-count-error": oxError,
		"notice": oxStatus, "channel-conn-count": oxStatus,
	}
)

// okxEnvelope is an OKX frame: a channel push {"arg":{"channel","instId"},
// "action","data":[…]} or an event message.
type okxEnvelope struct {
	Arg struct {
		Channel text `json:"channel"`
		InstID  text `json:"instId"`
	} `json:"arg"`
	Action text  `json:"action"`
	Data   spans `json:"data"`
	Event  text  `json:"event"`
	// A trade operation's answer {"id","op":"order",…,"code","msg","data"}
	// (OKX v5 WebSocket Trade API): code "0" is success.
	Op   text    `json:"op"`
	Code integer `json:"code"`
}

var pong, emptyObject = []byte("pong"), []byte("{}")

func okxSplit(p *Parser, ctx context.Context, data []byte, _ uint64, ingest int64) error {
	if bytes.Equal(bytes.TrimSpace(data), pong) {
		p.raw.Payload = data
		return p.run(ctx, oxHeartbeat, emptyObject, nil, ingest)
	}
	env := p.state.(*okxEnvelope)
	*env = okxEnvelope{Data: spans{list: &p.elems}}
	p.elems = p.elems[:0]
	if err := p.unmarshal(data, env); err != nil {
		rescanName(data, &env.Arg.Channel, "arg", "channel")
		k := okxChannels[string(env.Arg.Channel.bytes())]
		return p.reportsFrameLost(ctx, k == oxOrders || k == oxAlgoOrders, ingest, p.badDecode("envelope", err))
	}
	if env.Event.ok {
		k, ok := okxEvents[string(env.Event.bytes())]
		if !ok {
			return p.unknown()
		}
		p.raw.Stream, p.raw.Payload = env.Event.bytes(), data
		return p.run(ctx, k, data, nil, ingest)
	}
	if env.Op.ok && env.Code.v != 0 { // a failed trade operation: a venue error, never unknown
		p.raw.Stream, p.raw.Payload = env.Op.bytes(), data
		return p.run(ctx, oxError, data, nil, ingest)
	}
	k, ok := okxChannels[string(env.Arg.Channel.bytes())]
	if !ok && okxCandleInterval(env.Arg.Channel.bytes()) != "" {
		k, ok = oxCandle, true
	}
	if !ok && okxPriceCandle(env.Arg.Channel.bytes()) {
		k, ok = ignoredKind, true
	}
	switch {
	case !ok:
		return p.unknown()
	case k == ignoredKind:
		return p.ignored()
	}
	if k == oxBookDiff {
		// books, books-l2-tbt, books50-l2-tbt: "action" says snapshot or
		// update (OKX v5 "Order book channel"); guessed, a snapshot
		// taken as a diff keeps every stale level.
		switch string(env.Action.bytes()) {
		case "snapshot":
			k = oxBookSnap
		case "update":
		default:
			return p.bad(p.spec.kinds[k].name, "action", presence(env.Action.ok))
		}
	}
	p.env.depth = okxDepths[string(env.Arg.Channel.bytes())]
	if !env.Data.array && len(p.elems) == 0 {
		return p.reportsFrameLost(ctx, k == oxOrders || k == oxAlgoOrders, ingest, p.bad(p.spec.kinds[k].name, "data", ErrMissingField))
	}
	p.raw.Stream, p.raw.Payload = env.Arg.Channel.bytes(), data
	var sym []byte
	if env.Arg.InstID.ok {
		sym = env.Arg.InstID.bytes()
	}
	switch k {
	case oxAccount:
		return p.nestedEntries(ctx, k, data, "account", "details", decodeOKXAccount, ingest)
	case oxPositions:
		return p.eachEntry(ctx, k, data, p.elems, sym, ingest)
	case oxBalPosBalance:
		return p.okxBalancesAndPositions(ctx, data, ingest)
	case oxLiquidation:
		return p.nestedEntries(ctx, k, data, "liquidation-orders", "details", decodeOKXLiquidations, ingest)
	}
	return p.each(ctx, k, data, p.elems, sym, ingest)
}

// OKX's messages: each decodes one element of "data".

type okxTradeMsg struct {
	InstID  text    `json:"instId"`
	TradeID integer `json:"tradeId"`
	Px      num     `json:"px"`
	Sz      num     `json:"sz"`
	Side    text    `json:"side"`
	TS      integer `json:"ts"`
}

func (m *okxTradeMsg) fill(f *filler) {
	x := &f.ev.Trade
	f.symbol("instId", &m.InstID)
	f.seqID("tradeId", &x.ID, m.TradeID)
	f.need("px", m.Px.ok) // a trade without price or size is no trade
	f.need("sz", m.Sz.ok)
	f.need("tradeId", m.TradeID.ok) // repeats are told by it (OKX v5 "Trades channel")
	f.need("side", m.Side.ok)
	f.need("ts", m.TS.ok) // absent, the trade would be dated 1970
	f.positive(&x.Price, "px", m.Px)
	f.size(&x.Qty, "sz", m.Sz)
	f.side(&x.Side, "side", &m.Side)
	f.millis(&f.main, "ts", m.TS)
}

type okxTickerMsg struct {
	InstType  text    `json:"instType"`
	InstID    text    `json:"instId"`
	Last      optNum  `json:"last"`
	LastSz    optNum  `json:"lastSz"`
	AskPx     optNum  `json:"askPx"`
	AskSz     optNum  `json:"askSz"`
	BidPx     optNum  `json:"bidPx"`
	BidSz     optNum  `json:"bidSz"`
	Open24h   optNum  `json:"open24h"`
	High24h   optNum  `json:"high24h"`
	Low24h    optNum  `json:"low24h"`
	Vol24h    optNum  `json:"vol24h"`
	VolCcy24h optNum  `json:"volCcy24h"`
	TS        integer `json:"ts"`
}

func (m *okxTickerMsg) fill(f *filler) {
	x := f.ev.UseTicker()
	// Always sent, "" when there is none (OKX v5 "Tickers channel"):
	// absent, the ticker would show a price of 0.
	f.need("last", m.Last.sent)
	f.need("askPx", m.AskPx.sent)
	f.need("bidPx", m.BidPx.sent)
	f.needAll(keySent{"lastSz", m.LastSz.sent}, keySent{"askSz", m.AskSz.sent}, keySent{"bidSz", m.BidSz.sent},
		keySent{"open24h", m.Open24h.sent}, keySent{"high24h", m.High24h.sent}, keySent{"low24h", m.Low24h.sent},
		keySent{"vol24h", m.Vol24h.sent}, keySent{"volCcy24h", m.VolCcy24h.sent})
	f.symbol("instId", &m.InstID)
	f.price(&x.Last, "last", m.Last.num)
	f.price(&x.LastQty, "lastSz", m.LastSz.num)
	f.price(&x.AskPrice, "askPx", m.AskPx.num)
	f.price(&x.AskQty, "askSz", m.AskSz.num)
	f.price(&x.BidPrice, "bidPx", m.BidPx.num)
	f.price(&x.BidQty, "bidSz", m.BidSz.num)
	f.price(&x.Open, "open24h", m.Open24h.num)
	f.price(&x.High, "high24h", m.High24h.num)
	f.price(&x.Low, "low24h", m.Low24h.num)
	// OKX "Tickers channel": for SPOT and MARGIN vol24h is the base
	// currency and volCcy24h the quote currency; for derivatives vol24h
	// counts contracts (no canonical field) and volCcy24h is the base
	// currency. Without instType, a three-part instId is a derivative.
	if okxDerivative(&m.InstType, &m.InstID) {
		f.price(&x.Volume, "volCcy24h", m.VolCcy24h.num)
	} else {
		f.price(&x.Volume, "vol24h", m.Vol24h.num)
		f.price(&x.QuoteVolume, "volCcy24h", m.VolCcy24h.num)
	}
	f.millis(&f.main, "ts", m.TS)
}

// okxDerivative reports whether an instrument is a swap, future or option.
func okxDerivative(instType, instID *text) bool {
	switch string(instType.bytes()) {
	case "SPOT", "MARGIN":
		return false
	case "SWAP", "FUTURES", "OPTION":
		return true
	}
	return bytes.Count(instID.bytes(), []byte("-")) >= 2
}

// okxBookMsg: levels are [price, qty, "0", orders]; prevSeqId is -1 in a
// snapshot.
type okxBookMsg struct {
	Bids      levels  `json:"bids"`
	Asks      levels  `json:"asks"`
	TS        integer `json:"ts"`
	Checksum  integer `json:"checksum"`
	SeqID     integer `json:"seqId"`
	PrevSeqID integer `json:"prevSeqId"`
}

func (m *okxBookMsg) bind(ev *schema.CanonicalEvent) {
	m.Bids.bind(nil, &ev.Book.Bids, nil)
	m.Asks.bind(nil, &ev.Book.Asks, nil)
}

func (m *okxBookMsg) fill(f *filler) {
	b := &f.ev.Book
	// OKX sends both sides in every push, [] when a side has no change
	// (OKX v5 "Order book channel"): a missing key is not an empty side.
	f.need("asks", m.Asks.ok)
	f.need("bids", m.Bids.ok)
	f.millis(&f.main, "ts", m.TS)
	// Every push of every book channel has its ts (OKX v5 "Order book
	// channel"), and the envelope none: absent, the book was dated 1970.
	f.need("ts", m.TS.ok)
	// OKX deprecated the books checksum and sends "checksum":0 in its
	// place (issue #14 C): a placeholder, not sent, so HasChecksum stays
	// false.
	if m.Checksum.v != 0 {
		f.checksum("checksum", m.Checksum)
	}
	f.seq(&b.LastSeq, m.SeqID)
	f.seq(&b.PrevSeq, m.PrevSeqID)
	if f.ev.Type == schema.EventBookUpdate && (b.LastSeq != 0) != (m.PrevSeqID.ok && m.PrevSeqID.v >= 0) {
		// OKX numbers every push of books, books-l2-tbt and
		// books50-l2-tbt with seqId and prevSeqId (-1 in a snapshot
		// only): an update with one and not the other cannot be checked,
		// and its seqId would move the stream on over a loss unseen.
		// One sending neither (OKX's books before it numbered them) is
		// taken unchecked, as before.
		if b.LastSeq == 0 {
			f.fail("seqId", ErrMissingField)
		} else {
			f.fail("prevSeqId", ErrMissingField)
		}
	}
	f.ev.SeqProvider = b.LastSeq
	if f.ev.Type == schema.EventBBO { // bbo-tbt: a one-level book
		// A side with no order is [] and has no best level (zeros, as a
		// book's side that emptied): the quote is gone, not the message.
		x := &f.ev.BBO
		if len(b.Bids) > 0 {
			x.BidPrice, x.BidQty = b.Bids[0].Price, b.Bids[0].Qty
		}
		if len(b.Asks) > 0 {
			x.AskPrice, x.AskQty = b.Asks[0].Price, b.Asks[0].Qty
		}
		*b = schema.Book{Bids: b.Bids[:0], Asks: b.Asks[:0]}
	}
}

type okxFundingMsg struct {
	InstID      text    `json:"instId"`
	FundingRate optNum  `json:"fundingRate"`
	FundingTime integer `json:"fundingTime"`
	TS          integer `json:"ts"`
}

func (m *okxFundingMsg) fill(f *filler) {
	f.symbol("instId", &m.InstID)
	x := f.ev.UseMark()
	f.decimal(&x.FundingRate, m.FundingRate.num)
	f.millis(&x.NextFundingTime, "fundingTime", m.FundingTime)
	f.millis(&f.main, "ts", m.TS)
}

// okxLiquidationsMsg is an element of a liquidation-orders push (OKX v5
// "Liquidation orders channel"): an instrument ("instId") and its
// "details", each a liquidation of it. instType, instFamily and uly are
// not read: the symbol says them.
type okxLiquidationsMsg struct {
	InstID  text    `json:"instId"`
	Details entries `json:"details"`
}

// decodeOKXLiquidations decodes a liquidation-orders element, binding its
// details to p.inner and its instrument to p.acct.sym.
func decodeOKXLiquidations(p *Parser, elem []byte) (bool, error) {
	m := &p.acct.okxLiq
	*m = okxLiquidationsMsg{}
	m.Details.bind(&p.inner)
	if err := p.unmarshal(elem, m); err != nil {
		return false, err
	}
	if !m.InstID.ok {
		return false, &fieldError{field: "instId", err: ErrMissingField}
	}
	p.acct.sym = m.InstID.bytes()
	return m.Details.seen, nil
}

// okxLiquidationMsg is a detail of a liquidation-orders element (OKX v5
// "Liquidation orders channel"): "side" the liquidation order's side
// (Liquidation.Side; FUTURES and SWAP only), "bkPx" the price it traded at
// with the system's liquidation account (Liquidation.Price; FUTURES and
// SWAP only), "sz" its quantity (Liquidation.Qty: contracts for FUTURES
// and SWAP, the base currency for MARGIN), "ts" its time in Unix ms
// (ExchangeTS). Not read: posSide (the position's side: side says the
// order's), bkLoss (the bankruptcy loss) and ccy (MARGIN's liquidation
// currency): the schema holds none of them. The page warns the details
// come "from different data sources", not in time order: they are
// delivered as sent. No status is sent: Liquidation.Status is unknown.
type okxLiquidationMsg struct {
	Side text    `json:"side"`
	BkPx optNum  `json:"bkPx"`
	Sz   num     `json:"sz"`
	TS   integer `json:"ts"`
}

func (m *okxLiquidationMsg) fill(f *filler) {
	x := f.ev.UseLiquidation()
	f.symKey = "instId"
	f.need("sz", m.Sz.ok)
	f.need("ts", m.TS.ok) // absent, the liquidation would be dated 1970
	if len(m.Side.bytes()) > 0 {
		f.side(&x.Side, "side", &m.Side)
	}
	f.positive(&x.Price, "bkPx", m.BkPx.num)
	f.size(&x.Qty, "sz", m.Sz)
	f.millis(&f.main, "ts", m.TS)
}

type okxMarkMsg struct {
	InstID text    `json:"instId"`
	MarkPx num     `json:"markPx"`
	TS     integer `json:"ts"`
}

func (m *okxMarkMsg) fill(f *filler) {
	f.symbol("instId", &m.InstID)
	f.price(&f.ev.UseMark().MarkPrice, "markPx", m.MarkPx)
	f.millis(&f.main, "ts", m.TS)
}

// okxEventMsg: acks, errors and notices; code is a string ("60012").
type okxEventMsg struct {
	ID    reqID   `json:"id"`
	Code  integer `json:"code"`
	Msg   reason  `json:"msg"`
	Event text    `json:"event"`
	// A failed trade operation's "msg" may be empty; each order's
	// sCode/sMsg say why (allocated on this rare error path only).
	Data []struct {
		SCode integer `json:"sCode"`
		SMsg  string  `json:"sMsg"`
	} `json:"data"`
}

func (m *okxEventMsg) fill(f *filler) {
	c := f.ev.UseControl()
	c.RequestID, c.Code, c.Reason = m.ID.v, m.Code.v, f.p.reason(&m.Msg)
	if c.Kind != schema.ControlVenueError || c.Reason != "" {
		return
	}
	for _, d := range m.Data { // the first order that failed
		if d.SCode.v != 0 {
			c.Code, c.Reason = d.SCode.v, d.SMsg
			return
		}
	}
	// channel-conn-count-error has no code or msg: its event names it.
	c.Reason = f.p.intern(m.Event.bytes())
}

// OKXSubscribeLiquidations returns the subscribe request of the public
// "liquidation-orders" channel for instType (SWAP, FUTURES, MARGIN or
// OPTION): {"op":"subscribe","args":[{"channel":"liquidation-orders",
// "instType":…}]}. The channel takes an instrument type, required, and no
// instId (OKX v5 "Liquidation orders channel", Request Parameters), so
// [OKXSubscribe] cannot ask for it. Its pushes become
// schema.EventLiquidation events, one per detail (see okxLiquidationMsg);
// the ack is an EventControl ControlSubscribeAck. Another instType is
// ErrBadValue. OPTION is taken as the page lists it, but the page sends
// sz only for MARGIN, FUTURES and SWAP: an OPTION detail without sz is
// refused (*ParseError), and option instIds need the symbol registry.
func OKXSubscribeLiquidations(instType string) ([]byte, error) {
	switch instType {
	case "SWAP", "FUTURES", "MARGIN", "OPTION":
		return okxSubscribePrivate("liquidation-orders", instType)
	}
	return nil, fmt.Errorf("%w: OKX liquidation-orders instrument type %q", ErrBadValue, instType)
}

// OKXSubscribe returns a v5 subscribe request for channel ("trades",
// "books", "bbo-tbt", "tickers", "funding-rate", …) on instIDs
// ("BTC-USDT", "BTC-USDT-SWAP"). The ack is an EventControl
// ControlSubscribeAck per argument.
func OKXSubscribe(channel string, instIDs ...string) ([]byte, error) {
	if err := checkNames("channel", []string{channel}); err != nil {
		return nil, err
	}
	if err := checkNames("instrument id", instIDs); err != nil {
		return nil, err
	}
	type arg struct {
		Channel string `json:"channel"`
		InstID  string `json:"instId"`
	}
	args := make([]arg, len(instIDs))
	for i, id := range instIDs {
		args[i] = arg{channel, id}
	}
	return marshalRequest(&struct {
		Op   string `json:"op"`
		Args []arg  `json:"args"`
	}{"subscribe", args})
}
