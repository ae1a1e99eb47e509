package normalize

import (
	"context"

	"github.com/meltica/meltica/normalize/internal/continuity"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// CoinbaseSymbolRules returns Coinbase's product ids: "BTC-USD" is
// BTC-USD. The fallback resolves spot products only; derivatives
// ("BIP-20DEC30-CDE", "BTC-PERP-INTX") name no quote asset, so load them
// into the registry with [Instrument.Contract] set (a perpetual's contract
// is "PERP", a future's its expiry: BTC-USDC-PERP, BIP-USD-20DEC30).
func CoinbaseSymbolRules() SymbolRules { return SymbolRules{Delimiter: '-'} }

// NewCoinbase returns a parser of the Coinbase Advanced Trade market data
// feed (market_trades, ticker, ticker_batch, l2_data, candles, heartbeats,
// subscriptions, and the authenticated user channel's orders as execution
// reports: see cbUserOrderMsg and [CoinbaseSubscribeUser]) and of the older
// Coinbase Exchange feed (match, last_match, ticker, snapshot, l2update,
// heartbeat, subscriptions); both feeds' status and the user endpoint's
// futures_balance_summary are counted Ignored (see coinbaseChannels). The Exchange full and user channels are not
// parsed as orders: their received, open, done, change and activate
// messages are counted Unknown, and a match is a public trade whichever
// channel carried it (Exchange messages name no channel, and the
// authenticated matches channel adds the same user_id and profile_id
// members, Exchange "WebSocket Channels"); the user channel's copy of a
// match already delivered is a repeat (Stats.Repeats). So the user's own
// fills on the Exchange feed come as trades, never as execution reports:
// for those, use the Advanced Trade user channel. One
// Advanced Trade frame may carry several events, and each event several
// trades or tickers: every one becomes an event of its own. It takes events
// from events and hands them to sink, and panics when either is nil.
//
// Sequences: an Advanced Trade trade's SeqProvider is its trade_id, any
// other Advanced Trade event's the frame's sequence_num, one counter per
// connection for every channel, from 0 (a connection's first message; a 0
// starts the count again, and a 0 after the count had passed it — a new
// connection handed over under the same id, HandleBytes' 0 — is itself a
// gap marker with no symbol: the old connection's tail may be lost): a
// jump is a gap marker with no symbol (the connection lost a message;
// every book it fed is suspect), a lower number a repeat, dropped; an
// Exchange message's is its per-product sequence where it has one. A book
// message dropped as malformed (an l2_data event; an Exchange snapshot or
// l2update, whose frames carry no sequence) is followed by a gap marker
// for its product, or for every book of the venue when none could be read.
// Trade.Side is the aggressor's (taker's) side: Exchange match and
// last_match sides name the maker (Exchange "WebSocket Channels", match:
// "The side field indicates the maker order side"), so the other one;
// Advanced Trade market_trades sides are taken as sent, the taker's (the
// Advanced Trade Trade schema: "Taker side of the trade"; read so by
// cryptofeed too — NautilusTrader's adapter docs say the maker's,
// against that schema: not verified on live data here).
func NewCoinbase(events *pool.Pool[*schema.CanonicalEvent], sink Sink, opts *Options) *Parser {
	return newParser(&coinbaseSpec, events, sink, opts)
}

const (
	cbTrade = iota
	cbTicker
	cbL2Snap
	cbL2Update
	cbCandle
	cbHeartbeat
	cbAck
	cbError
	cbMatch
	cbExchangeTicker
	cbSnapshot
	cbL2Change
	cbUserOrder
)

var coinbaseSpec = venueSpec{
	venue:      schema.VenueCoinbase,
	rules:      CoinbaseSymbolRules,
	continuity: continuity.Coinbase,
	tradeIDs:   true,
	kinds: []kind{
		cbTrade:          {name: "market_trades", typ: schema.EventTrade, slot: newSlot[cbTradeMsg]},
		cbTicker:         {name: "ticker", typ: schema.EventTicker, slot: newSlot[cbTickerMsg]},
		cbL2Snap:         {name: "l2_data", typ: schema.EventBookSnapshot, slot: newSlot[cbL2Msg]},
		cbL2Update:       {name: "l2_data", typ: schema.EventBookUpdate, slot: newSlot[cbL2Msg]},
		cbCandle:         {name: "candles", typ: schema.EventKlineLive, slot: newSlot[cbCandleMsg]},
		cbHeartbeat:      {name: "control", typ: schema.EventControl, ctl: schema.ControlHeartbeat, slot: newSlot[emptyMsg]},
		cbAck:            {name: "control", typ: schema.EventControl, ctl: schema.ControlSubscribeAck, slot: newSlot[emptyMsg]},
		cbError:          {name: "error", typ: schema.EventControl, ctl: schema.ControlVenueError, slot: newSlot[cbErrorMsg]},
		cbMatch:          {name: "match", typ: schema.EventTrade, slot: newSlot[cbMatchMsg]},
		cbExchangeTicker: {name: "ticker", typ: schema.EventTicker, latest: true, slot: newSlot[cbExchangeTickerMsg]},
		cbSnapshot:       {name: "snapshot", typ: schema.EventBookSnapshot, slot: newSlot[cbSnapshotMsg]},
		cbL2Change:       {name: "l2update", typ: schema.EventBookUpdate, slot: newSlot[cbL2UpdateMsg]},
		cbUserOrder:      {name: "user", typ: schema.EventExecReport, slot: newWideSlot[cbUserOrderMsg]}, // coinbase_private.go
	},
	newState: func() any { return new(cbState) },
	alignKey: coinbaseAlignKey,
	split:    coinbaseSplit,
}

// coinbaseChannels maps an Advanced Trade channel to its kind; kinds whose
// events hold an array of messages name its key in coinbaseInner.
var (
	coinbaseChannels = map[string]int{
		"market_trades": cbTrade, "ticker": cbTicker, "ticker_batch": cbTicker, "l2_data": cbL2Snap,
		"candles": cbCandle, "heartbeats": cbHeartbeat, "subscriptions": cbAck, "user": cbUserOrder,
		// status (Advanced Trade "Product status"; the Exchange feed's
		// "status" message likewise): every product's and currency's
		// trading status, resent "on a preset interval" — known and
		// skipped on purpose (Stats.Ignored): a control event per product
		// would put hundreds of critical events on the host's lane at each
		// interval, most saying nothing changed. FetchCoinbaseInstruments
		// reads each product's TradingStatus.
		"status": ignoredKind,
		// futures_balance_summary (Advanced Trade "Futures Balance
		// Summary", the user endpoint, CoinbaseSubscribePrivate): the FCM
		// futures account's buying power, margin and PnL totals, no
		// asset's balance — known and skipped on purpose (Stats.Ignored).
		"futures_balance_summary": ignoredKind,
	}
	coinbaseTypes = map[string]int{ // the Exchange feed's "type"
		"match": cbMatch, "last_match": cbMatch, "ticker": cbExchangeTicker, "snapshot": cbSnapshot,
		"l2update": cbL2Change, "heartbeat": cbHeartbeat, "subscriptions": cbAck, "error": cbError,
		"status": ignoredKind, // see coinbaseChannels
	}
)

type cbState struct {
	env    cbEnvelope
	ev     cbEvent
	orders cbOrders // the user channel's fills so far, per order
}

// cbEnvelope is a Coinbase frame: Advanced Trade frames name a channel and
// carry events; Exchange frames are one message named by "type".
type cbEnvelope struct {
	Channel     text    `json:"channel"`
	Type        text    `json:"type"`
	Events      spans   `json:"events"`
	SequenceNum integer `json:"sequence_num"`
	Timestamp   text    `json:"timestamp"`
}

// cbEvent is one Advanced Trade event: its type and the array it carries.
type cbEvent struct {
	Type      text  `json:"type"`
	ProductID text  `json:"product_id"` // l2_data's, to name a book lost
	Trades    spans `json:"trades"`
	Tickers   spans `json:"tickers"`
	Candles   spans `json:"candles"`
	Orders    spans `json:"orders"` // the user channel's
}

func coinbaseSplit(p *Parser, ctx context.Context, data []byte, _ uint64, ingest int64) error {
	st := p.state.(*cbState)
	env := &st.env
	*env = cbEnvelope{Events: spans{list: &p.elems}}
	p.elems = p.elems[:0]
	if err := p.unmarshal(data, env); err != nil {
		return p.coinbaseFrameLost(ctx, env, data, ingest, p.badDecode("envelope", err))
	}
	p.raw.Payload = data
	if !env.Channel.ok && !env.SequenceNum.ok { // the Exchange feed
		// (An Advanced Trade frame with its channel null or missing but
		// its sequence_num is counted below, as a frame of an unknown
		// channel is: uncounted, it made the next frame a connection gap,
		// resyncing every Coinbase book for one strange message.)
		k, ok := coinbaseTypes[string(env.Type.bytes())]
		switch {
		case !ok:
			return p.unknown()
		case k == ignoredKind:
			return p.ignored()
		}
		p.raw.Stream = env.Type.bytes()
		return p.run(ctx, k, data, nil, ingest)
	}
	p.raw.Stream = env.Channel.bytes()
	// sequence_num counts every message of the connection, whatever its
	// channel, from 0: a jump is a lost message (Advanced Trade "Sequence
	// numbers").
	if env.SequenceNum.ok && env.SequenceNum.v >= 0 {
		keep, err := p.checkConn(ctx, p.raw.ConnID, uint64(env.SequenceNum.v), ingest)
		if !keep || err != nil {
			return err
		}
	}
	k, ok := coinbaseChannels[string(env.Channel.bytes())]
	if !ok || string(env.Type.bytes()) == "error" { // an error may name any channel ("user": authentication failure)
		if string(env.Type.bytes()) == "error" {
			return p.run(ctx, cbError, data, nil, ingest)
		}
		return p.unknown()
	}
	if k == ignoredKind {
		return p.ignored()
	}
	if env.SequenceNum.ok && env.SequenceNum.v > 0 {
		p.env.seq = uint64(env.SequenceNum.v)
	}
	p.env.envTime("timestamp", &env.Timestamp)
	if p.spec.kinds[k].typ == schema.EventControl {
		return p.run(ctx, k, data, nil, ingest)
	}
	if len(p.elems) == 0 && !env.Events.array {
		// A channel's message carries its messages in "events" (Advanced
		// Trade "Channels"); without it nothing was read: refused, and a
		// user frame's reports announced (it was counted in the
		// connection's sequence, so no connection gap tells of it).
		return p.reportsFrameLost(ctx, k == cbUserOrder, ingest, p.bad(p.spec.kinds[k].name, "events", ErrMissingField))
	}
	var first error
	for _, s := range p.elems {
		err := p.coinbaseEvent(ctx, st, k, s.of(data), ingest)
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// coinbaseFrameLost handles a frame that did not decode (cause). A book
// frame is a lost book message: an Exchange snapshot or l2update, whose
// level2 frames carry no sequence, is marked for its product; an Advanced
// Trade l2_data frame is marked for the products its events name. An
// Advanced Trade market-data frame read past its sequence_num counts in
// the connection's sequence (a jump before it is marked as usual): it was
// received, not lost, and uncounted it would make the next frame a
// connection gap, resyncing every Coinbase book for one malformed
// message. A user frame stays uncounted: the next frame's connection gap
// tells every consumer that an order update went missing.
func (p *Parser) coinbaseFrameLost(ctx context.Context, env *cbEnvelope, data []byte, ingest int64, cause error) error {
	rescanName(data, &env.Channel, "channel")
	if !env.Channel.ok {
		rescanName(data, &env.Type, "type")
	}
	if !env.Channel.ok {
		if k, ok := coinbaseTypes[string(env.Type.bytes())]; ok && (k == cbSnapshot || k == cbL2Change) {
			return p.booksLost(ctx, [][]byte{p.readSymbol(data)}, ingest, cause)
		}
		return cause
	}
	k, known := coinbaseChannels[string(env.Channel.bytes())]
	if known && k == cbUserOrder {
		return p.reportsFrameLost(ctx, true, ingest, cause)
	}
	if !known || !env.SequenceNum.ok || env.SequenceNum.v < 0 {
		return cause
	}
	keep, err := p.checkConn(ctx, p.raw.ConnID, uint64(env.SequenceNum.v), ingest)
	if err != nil {
		return err
	}
	if !keep || k != cbL2Snap { // a repeat (delivered already), or no book's
		return cause
	}
	p.env.ts, _ = parseRFC3339(env.Timestamp.bytes())
	return p.booksLost(ctx, p.listedSymbols(data), ingest, cause)
}

// coinbaseEvent runs one Advanced Trade event: l2_data events are a
// message each; the others hold an array of them.
func (p *Parser) coinbaseEvent(ctx context.Context, st *cbState, k int, event []byte, ingest int64) error {
	ev := &st.ev
	*ev = cbEvent{Trades: spans{list: &p.inner}, Tickers: spans{list: &p.inner}, Candles: spans{list: &p.inner}, Orders: spans{list: &p.inner}}
	p.inner = p.inner[:0]
	if err := p.unmarshal(event, ev); err != nil {
		perr := p.badDecode("envelope", err)
		if k == cbL2Snap { // a book message lost
			var named []byte
			if ev.ProductID.ok {
				named = ev.ProductID.bytes()
			}
			return p.bookLost(ctx, &schema.CanonicalEvent{IngestTS: ingest, ExchangeTS: p.env.ts}, named, perr)
		}
		return p.reportsFrameLost(ctx, k == cbUserOrder, ingest, perr)
	}
	if k == cbL2Snap {
		// "type" says snapshot or update (Advanced Trade "Level 2 order
		// book"); guessed, an update taken as a snapshot resets the book
		// to its few levels.
		switch string(ev.Type.bytes()) {
		case "snapshot":
		case "update":
			k = cbL2Update
		default:
			var named []byte
			if ev.ProductID.ok {
				named = ev.ProductID.bytes()
			}
			return p.bookLost(ctx, &schema.CanonicalEvent{IngestTS: ingest, ExchangeTS: p.env.ts}, named, p.bad("l2_data", "type", presence(ev.Type.ok)))
		}
		return p.run(ctx, k, event, nil, ingest)
	}
	p.env.snapshot = string(ev.Type.bytes()) == "snapshot" // a subscription's recent trades
	return p.each(ctx, k, event, p.inner, nil, ingest)
}

// Coinbase's messages.

// cbTradeMsg is one trade of an Advanced Trade market_trades event; its
// side ("BUY", "SELL") is the taker's, the aggressor's (Advanced Trade
// Trade schema: "Taker side of the trade"; see NewCoinbase). Its
// trade_id is a string ("000000000" in the channel's example), kept
// verbatim (filler.idSeq).
type cbTradeMsg struct {
	TradeID   ident `json:"trade_id"`
	ProductID text  `json:"product_id"`
	Price     num   `json:"price"`
	Size      num   `json:"size"`
	Side      text  `json:"side"`
	Time      text  `json:"time"`
}

func (m *cbTradeMsg) fill(f *filler) {
	x := &f.ev.Trade
	f.idSeq(&x.ID, m.TradeID)
	f.symbol("product_id", &m.ProductID)
	f.need("price", m.Price.ok) // a trade without price or size is no trade
	f.need("size", m.Size.ok)
	f.need("trade_id", m.TradeID.some()) // Advanced Trade "market_trades": trade_id and side always sent (null, -1, "": none)
	f.need("side", m.Side.ok)
	f.positive(&x.Price, "price", m.Price)
	f.size(&x.Qty, "size", m.Size)
	f.side(&x.Side, "side", &m.Side)
	f.time(&f.main, "time", &m.Time)
}

type cbTickerMsg struct {
	ProductID       text   `json:"product_id"`
	Price           optNum `json:"price"`
	Volume24h       optNum `json:"volume_24_h"`
	Low24h          optNum `json:"low_24_h"`
	High24h         optNum `json:"high_24_h"`
	PricePctChg24h  optNum `json:"price_percent_chg_24_h"`
	BestBid         optNum `json:"best_bid"`
	BestBidQuantity optNum `json:"best_bid_quantity"`
	BestAsk         optNum `json:"best_ask"`
	BestAskQuantity optNum `json:"best_ask_quantity"`
}

func (m *cbTickerMsg) fill(f *filler) {
	x := f.ev.UseTicker()
	f.need("price", m.Price.sent)
	f.needAll(keySent{"volume_24_h", m.Volume24h.sent}, keySent{"low_24_h", m.Low24h.sent},
		keySent{"high_24_h", m.High24h.sent}, keySent{"price_percent_chg_24_h", m.PricePctChg24h.sent})
	if string(f.p.raw.Stream) == "ticker" { // ticker_batch sends no best bid or ask (Advanced Trade "Ticker (batched)")
		f.needAll(keySent{"best_bid", m.BestBid.sent}, keySent{"best_bid_quantity", m.BestBidQuantity.sent},
			keySent{"best_ask", m.BestAsk.sent}, keySent{"best_ask_quantity", m.BestAskQuantity.sent})
	}
	f.symbol("product_id", &m.ProductID)
	f.price(&x.Last, "price", m.Price.num)
	f.price(&x.Volume, "volume_24_h", m.Volume24h.num)
	f.price(&x.Low, "low_24_h", m.Low24h.num)
	f.price(&x.High, "high_24_h", m.High24h.num)
	f.decimal(&x.ChangePct, m.PricePctChg24h.num)
	f.price(&x.BidPrice, "best_bid", m.BestBid.num)
	f.price(&x.BidQty, "best_bid_quantity", m.BestBidQuantity.num)
	f.price(&x.AskPrice, "best_ask", m.BestAsk.num)
	f.price(&x.AskQty, "best_ask_quantity", m.BestAskQuantity.num)
}

// cbL2Msg is one l2_data event: a product and its changed levels, each
// naming its side ("bid" or "offer").
type cbL2Msg struct {
	ProductID text   `json:"product_id"`
	Updates   levels `json:"updates"`
}

var coinbaseL2Levels = &levelShape{price: 0, qty: 1, side: 2, priceKey: "price_level", qtyKey: "new_quantity", sideKey: "side"}

func (m *cbL2Msg) bind(ev *schema.CanonicalEvent) {
	m.Updates.bind(coinbaseL2Levels, &ev.Book.Bids, &ev.Book.Asks)
}

// fill: every l2_data event carries "updates", [] when empty (Advanced
// Trade "Level 2 order book"): a missing key is not an empty book.
func (m *cbL2Msg) fill(f *filler) {
	f.need("updates", m.Updates.ok)
	f.symbol("product_id", &m.ProductID)
}

func (m *cbL2Msg) bookSymbol() *text { return &m.ProductID }

// cbCandleMsg: Advanced Trade candles are five minutes long ("start" is
// Unix seconds, as text) and say nothing of being closed: live klines.
type cbCandleMsg struct {
	ProductID text `json:"product_id"`
	Start     num  `json:"start"`
	Open      num  `json:"open"`
	High      num  `json:"high"`
	Low       num  `json:"low"`
	Close     num  `json:"close"`
	Volume    num  `json:"volume"`
}

func (m *cbCandleMsg) fill(f *filler) {
	x := f.ev.UseKline()
	// Advanced Trade "Candles" sends every member in every push: absent or
	// null, the candle would be published with a zero in its place.
	f.needAll(keySent{"start", m.Start.ok}, keySent{"open", m.Open.ok}, keySent{"high", m.High.ok},
		keySent{"low", m.Low.ok}, keySent{"close", m.Close.ok}, keySent{"volume", m.Volume.ok})
	f.symbol("product_id", &m.ProductID)
	f.seconds(&x.OpenTime, "start", m.Start)
	f.price(&x.Open, "open", m.Open)
	f.price(&x.High, "high", m.High)
	f.price(&x.Low, "low", m.Low)
	f.price(&x.Close, "close", m.Close)
	f.price(&x.Volume, "volume", m.Volume)
	x.Interval = "5m"
	x.CloseTime = x.OpenTime + intervalNanos["5m"]
}

type cbErrorMsg struct {
	Message reason `json:"message"`
	// Exchange errors add the detail here ("BTC-UST is not a valid
	// product" to "Failed to subscribe"): it goes after the message.
	Reason reason `json:"reason"`
}

func (m *cbErrorMsg) fill(f *filler) {
	f.ev.UseControl().Reason = f.p.reason(&m.Message, &m.Reason) // "message: reason"
}

// cbMatchMsg is an Exchange match: its side is the maker's.
type cbMatchMsg struct {
	Sequence  integer `json:"sequence"`
	TradeID   ident   `json:"trade_id"`
	ProductID text    `json:"product_id"`
	Price     num     `json:"price"`
	Size      num     `json:"size"`
	Side      text    `json:"side"`
	Time      text    `json:"time"`
}

func (m *cbMatchMsg) fill(f *filler) {
	x := &f.ev.Trade
	f.unsigned(&f.ev.SeqProvider, "sequence", m.Sequence)
	f.id(&x.ID, m.TradeID)
	f.symbol("product_id", &m.ProductID)
	f.need("price", m.Price.ok) // a trade without price or size is no trade
	f.need("size", m.Size.ok)
	f.need("trade_id", m.TradeID.some()) // Exchange "match": trade_id and side always sent (null, -1, "": none)
	f.need("side", m.Side.ok)            // absent, opposite would name a side no one took
	f.positive(&x.Price, "price", m.Price)
	f.size(&x.Qty, "size", m.Size)
	f.side(&x.Side, "side", &m.Side)
	x.Side = opposite(x.Side)
	f.time(&f.main, "time", &m.Time)
	// Every match has its time (Exchange "Full channel", match): the
	// Exchange feed has no envelope time to fall back on, so absent, the
	// trade was dated 1970.
	f.need("time", m.Time.ok)
}

type cbExchangeTickerMsg struct {
	Sequence    integer `json:"sequence"`
	ProductID   text    `json:"product_id"`
	Price       optNum  `json:"price"`
	LastSize    optNum  `json:"last_size"`
	Open24h     optNum  `json:"open_24h"`
	High24h     optNum  `json:"high_24h"`
	Low24h      optNum  `json:"low_24h"`
	Volume24h   optNum  `json:"volume_24h"`
	BestBid     optNum  `json:"best_bid"`
	BestBidSize optNum  `json:"best_bid_size"`
	BestAsk     optNum  `json:"best_ask"`
	BestAskSize optNum  `json:"best_ask_size"`
	Time        text    `json:"time"`
}

func (m *cbExchangeTickerMsg) fill(f *filler) {
	x := f.ev.UseTicker()
	f.need("price", m.Price.sent) // Exchange "ticker": always sent
	f.need("best_bid", m.BestBid.sent)
	f.need("best_ask", m.BestAsk.sent)
	f.unsigned(&f.ev.SeqProvider, "sequence", m.Sequence)
	f.symbol("product_id", &m.ProductID)
	f.price(&x.Last, "price", m.Price.num)
	f.price(&x.LastQty, "last_size", m.LastSize.num)
	f.price(&x.Open, "open_24h", m.Open24h.num)
	f.price(&x.High, "high_24h", m.High24h.num)
	f.price(&x.Low, "low_24h", m.Low24h.num)
	f.price(&x.Volume, "volume_24h", m.Volume24h.num)
	f.price(&x.BidPrice, "best_bid", m.BestBid.num)
	f.price(&x.BidQty, "best_bid_size", m.BestBidSize.num)
	f.price(&x.AskPrice, "best_ask", m.BestAsk.num)
	f.price(&x.AskQty, "best_ask_size", m.BestAskSize.num)
	f.time(&f.main, "time", &m.Time)
}

func (m *cbSnapshotMsg) bookSymbol() *text { return &m.ProductID }

type cbSnapshotMsg struct {
	ProductID text   `json:"product_id"`
	Bids      levels `json:"bids"`
	Asks      levels `json:"asks"`
	Time      text   `json:"time"`
}

func (m *cbSnapshotMsg) bind(ev *schema.CanonicalEvent) {
	m.Bids.bind(nil, &ev.Book.Bids, nil)
	m.Asks.bind(nil, &ev.Book.Asks, nil)
}

// fill: a snapshot carries both sides, [] when empty (Exchange "Level2
// channel"): a missing key is not an empty side.
func (m *cbSnapshotMsg) fill(f *filler) {
	f.need("bids", m.Bids.ok)
	f.need("asks", m.Asks.ok)
	f.symbol("product_id", &m.ProductID)
	f.time(&f.main, "time", &m.Time)
}

// cbL2UpdateMsg changes are [side, price, size], side "buy" or "sell".
func (m *cbL2UpdateMsg) bookSymbol() *text { return &m.ProductID }

type cbL2UpdateMsg struct {
	ProductID text   `json:"product_id"`
	Changes   levels `json:"changes"`
	Time      text   `json:"time"`
}

var coinbaseChangeLevels = &levelShape{price: 1, qty: 2, side: 0}

func (m *cbL2UpdateMsg) bind(ev *schema.CanonicalEvent) {
	m.Changes.bind(coinbaseChangeLevels, &ev.Book.Bids, &ev.Book.Asks)
}

func (m *cbL2UpdateMsg) fill(f *filler) {
	f.need("changes", m.Changes.ok)
	f.symbol("product_id", &m.ProductID)
	f.time(&f.main, "time", &m.Time)
}

// CoinbaseSubscribe returns an Advanced Trade subscribe request for one
// channel ("market_trades", "ticker", "level2", "heartbeats", …) and
// products ("BTC-USD"). Order books are subscribed as "level2" and
// delivered as "l2_data". Coinbase sends no request id: the ack is a
// "subscriptions" message (ControlSubscribeAck). "heartbeats" — the
// channel that keeps a connection's other subscriptions open (Coinbase
// closes most within 60-90 seconds without updates) — takes no products
// ("No products or authentication required"): without any, its request
// names none; every other channel needs at least one.
func CoinbaseSubscribe(channel string, productIDs ...string) ([]byte, error) {
	return coinbaseRequest("subscribe", channel, productIDs, channel != "heartbeats")
}

// coinbaseRequest builds an Advanced Trade (un)subscribe request; the
// products are optional unless needed.
func coinbaseRequest(op, channel string, productIDs []string, needed bool) ([]byte, error) {
	if err := checkNames("channel", []string{channel}); err != nil {
		return nil, err
	}
	if len(productIDs) > 0 || needed {
		if err := checkNames("product id", productIDs); err != nil {
			return nil, err
		}
	}
	return marshalRequest(&struct {
		Type       string   `json:"type"`
		Channel    string   `json:"channel"`
		ProductIDs []string `json:"product_ids,omitempty"`
	}{op, channel, productIDs})
}

// CoinbaseExchangeSubscribe is the Exchange feed's subscribe request, for
// channels ("matches", "ticker", "level2_batch", "heartbeat") and products.
func CoinbaseExchangeSubscribe(channels []string, productIDs ...string) ([]byte, error) {
	if err := checkNames("product id", productIDs); err != nil {
		return nil, err
	}
	if err := checkNames("channel", channels); err != nil {
		return nil, err
	}
	return marshalRequest(&struct {
		Type       string   `json:"type"`
		ProductIDs []string `json:"product_ids"`
		Channels   []string `json:"channels"`
	}{"subscribe", productIDs, channels})
}
