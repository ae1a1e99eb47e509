package normalize

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/goccy/go-json/jsontext"

	"github.com/meltica/meltica/internal/safejson"
	"github.com/meltica/meltica/normalize/internal/continuity"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// BinanceSymbolRules returns Binance's symbol spellings: no delimiter,
// quote assets matched longest first, and '_' before a contract suffix
// ("BTCUSD_PERP" is BTC-USD-PERP, "BTCUSDT_250328" is BTC-USDT-250328),
// a contract's quote one it settles in first ("DOTUSD_PERP" is
// DOT-USD-PERP, where "DOTTUSD" is DOT-TUSD).
// USDⓈ-M perpetuals ("BTCUSDT") share the spot spelling; the connection
// tells them apart. Each call returns a fresh copy.
func BinanceSymbolRules() SymbolRules {
	return SymbolRules{
		Quotes: []string{
			"USDT", "USDC", "FDUSD", "TUSD", "BUSD", "USDP", "DAI", "USD", "UST", "PAX",
			"BTC", "ETH", "BNB", "XRP", "TRX", "DOGE", "DOT", "SOL",
			"EUR", "GBP", "AUD", "BRL", "TRY", "RUB", "UAH", "JPY", "ZAR", "IDRT", "BIDR", "NGN", "PLN", "RON", "ARS", "MXN", "COP", "CZK",
		},
		ContractSep: '_',
		// COIN-M contracts settle in USD, USDⓈ-M's in USDT or USDC (BUSD
		// until 2023; Binance COIN-M and USDⓈ-M "Exchange Information").
		ContractQuotes: []string{"USDT", "USDC", "BUSD", "USD"},
	}
}

// NewBinanceSymbols returns an empty registry with [BinanceSymbolRules].
// Load it with [ParseBinanceExchangeInfo].
func NewBinanceSymbols() *Symbols { return NewSymbols(BinanceSymbolRules()) }

// NewBinance returns a parser of Binance spot and USDⓈ-M futures market
// streams, raw or combined, and of the user-data stream (plain or wrapped
// by the WS-API). It takes events from events and hands them to sink, and
// panics when either is nil.
//
// Sequences (Binance Spot and USDⓈ-M "WebSocket Streams" docs): t for
// trades, a for aggregated trades, u for best bid/offer and depth, the last
// trade id L for klines and tickers (24 h and rolling-window: 1hTicker,
// 4hTicker, 1dTicker, whose Ticker.Window names the window), 0 for mini
// tickers, mark prices, liquidations and execution reports. A depth diff continues its symbol's
// last one when U = previous u + 1 (spot) or pu = previous u (futures);
// otherwise a gap event precedes it.
//
// Sizes are Binance's: the base asset on spot and USDⓈ-M; on COIN-M
// ("BTCUSD_PERP") quantities count contracts of 100 USD (BTC) or 10 USD
// (other bases), the exchangeInfo contractSize (Binance COIN-M "Exchange
// Information"), not coins.
func NewBinance(events *pool.Pool[*schema.CanonicalEvent], sink Sink, opts *Options) *Parser {
	return newParser(&binanceSpec, events, sink, opts)
}

// Binance's message kinds, indexes into binanceSpec.kinds.
const (
	bnTrade = iota
	bnAggTrade
	bnBookTicker
	bnDepth
	bnPartialDepth
	bnKline
	bnTicker
	bnMiniTicker
	bnExec
	bnMarkPrice
	bnForceOrder
	bnAck
	bnVenueError
	bnOrderAck
	bnStreamEnd
	bnServerShutdown
	bnFlatError
	bnFuturesOrder
	bnBalanceDelta     // spot balanceUpdate
	bnExternalLock     // spot externalLockUpdate
	bnAccountConfig    // USDⓈ-M ACCOUNT_CONFIG_UPDATE
	bnSpotBalanceEntry // an entry of outboundAccountPosition
	bnBalanceEntry     // a balance entry of ACCOUNT_UPDATE
	bnPositionEntry    // a position entry of ACCOUNT_UPDATE
	bnMarginCallEntry  // a position entry of MARGIN_CALL
	bnAlgoOrder        // USDⓈ-M ALGO_UPDATE
	bnTriggerReject    // USDⓈ-M CONDITIONAL_ORDER_TRIGGER_REJECT
	bnRESTDepth        // a REST depth snapshot given to HandleSnapshot
	bnContinuousKline  // USDⓈ-M continuous_kline
	bnTicker1h         // spot 1hTicker: rolling-window tickers, each a stream of its own
	bnTicker4h         // spot 4hTicker
	bnTicker1d         // spot 1dTicker
	bnContractInfo     // USDⓈ-M and COIN-M contractInfo (binance_futures_market.go)
	numBinanceKinds
	bnUnknown = -1
	bnIgnored = ignoredKind // a known message the parser skips on purpose (binanceEventNames)
)

// Binance messages that carry several entries, each an event of its own
// (binance_account.go): not kinds, whose messages become one event each,
// but splitters that run an entry kind per entry.
const (
	bnSplitAccountPosition = numBinanceKinds + iota // spot outboundAccountPosition
	bnSplitAccountUpdate                            // USDⓈ-M ACCOUNT_UPDATE
	bnSplitMarginCall                               // USDⓈ-M MARGIN_CALL
)

var binanceSpec = venueSpec{
	venue:      schema.VenueBinance,
	rules:      BinanceSymbolRules,
	continuity: continuity.Binance,
	tradeIDs:   true,
	kinds: []kind{
		bnTrade:        {name: "trade", typ: schema.EventTrade, slot: newSlot[bnTradeMsg]},
		bnAggTrade:     {name: "aggTrade", typ: schema.EventTrade, slot: newSlot[bnAggTradeMsg]},
		bnBookTicker:   {name: "bookTicker", typ: schema.EventBBO, latest: true, slot: newSlot[bnBookTickerMsg]},
		bnDepth:        {name: "depthUpdate", typ: schema.EventBookUpdate, book: true, slot: newSlot[bnDepthMsg]},
		bnPartialDepth: {name: "depth", typ: schema.EventBookSnapshot, latest: true, slot: newSlot[bnPartialDepthMsg]},
		bnKline:        {name: "kline", typ: schema.EventKlineLive, slot: newSlot[bnKlineMsg]},
		bnTicker:       {name: "24hrTicker", typ: schema.EventTicker, latest: true, slot: newSlot[bnTickerMsg]},
		bnMiniTicker:   {name: "24hrMiniTicker", typ: schema.EventTicker, latest: true, slot: newSlot[bnTickerMsg]},
		bnExec:         {name: "executionReport", typ: schema.EventExecReport, slot: newSlot[bnExecMsg]},
		bnMarkPrice:    {name: "markPriceUpdate", typ: schema.EventMarkPrice, latest: true, slot: newSlot[bnMarkPriceMsg]},
		bnForceOrder:   {name: "forceOrder", typ: schema.EventLiquidation, slot: newSlot[bnForceOrderMsg]},
		bnAck:          {name: "result", typ: schema.EventControl, ctl: schema.ControlSubscribeAck, slot: newSlot[bnAckMsg]},
		bnVenueError:   {name: "error", typ: schema.EventControl, ctl: schema.ControlVenueError, slot: newSlot[bnErrorMsg]},
		bnOrderAck:     {name: "orderAck", typ: schema.EventOrderAck, slot: newSlot[bnOrderAckMsg]},
		// Messages that end or degrade a stream: critical control events.
		bnStreamEnd:      {name: "streamEnd", typ: schema.EventControl, ctl: schema.ControlVenueError, slot: newSlot[bnStreamEventMsg]},
		bnServerShutdown: {name: "serverShutdown", typ: schema.EventControl, ctl: schema.ControlStatus, slot: newSlot[bnStreamEventMsg]},
		bnFlatError:      {name: "error", typ: schema.EventControl, ctl: schema.ControlVenueError, slot: newSlot[bnFlatErrorMsg]},
		bnFuturesOrder:   {name: "ORDER_TRADE_UPDATE", typ: schema.EventExecReport, slot: newSlot[bnFuturesOrderMsg]},
		// Account updates (binance_account.go).
		bnBalanceDelta:     {name: "balanceUpdate", typ: schema.EventBalance, slot: newSlot[bnBalanceDeltaMsg]},
		bnExternalLock:     {name: "externalLockUpdate", typ: schema.EventBalance, slot: newSlot[bnExternalLockMsg]},
		bnAccountConfig:    {name: "ACCOUNT_CONFIG_UPDATE", typ: schema.EventControl, ctl: schema.ControlAccountConfig, slot: newSlot[bnAccountConfigMsg]},
		bnSpotBalanceEntry: {name: "outboundAccountPosition", typ: schema.EventBalance, slot: newSlot[bnSpotBalanceMsg]},
		bnBalanceEntry:     {name: "ACCOUNT_UPDATE", typ: schema.EventBalance, slot: newSlot[bnFuturesBalanceMsg]},
		bnPositionEntry:    {name: "ACCOUNT_UPDATE", typ: schema.EventPosition, slot: newSlot[bnPositionMsg]},
		bnMarginCallEntry:  {name: "MARGIN_CALL", typ: schema.EventPosition, slot: newSlot[bnMarginCallPositionMsg]},
		// Conditional orders (binance_futures_user.go).
		bnAlgoOrder:     {name: "ALGO_UPDATE", typ: schema.EventExecReport, slot: newSlot[bnAlgoOrderMsg]},
		bnTriggerReject: {name: "CONDITIONAL_ORDER_TRIGGER_REJECT", typ: schema.EventExecReport, slot: newSlot[bnTriggerRejectMsg]},
		// A REST snapshot (HandleSnapshot): the partial depth's shape, but
		// the whole book's start, so it restarts the symbol's diff
		// sequence (book), where a depth5 view, numbered apart, does not.
		bnRESTDepth: {name: "depth", typ: schema.EventBookSnapshot, book: true, slot: newSlot[bnPartialDepthMsg]},
		// USDⓈ-M "Continuous Contract Kline/Candlestick Streams".
		bnContinuousKline: {name: "continuous_kline", typ: schema.EventKlineLive, slot: newSlot[bnContinuousKlineMsg]},
		// Spot "Individual Symbol Rolling Window Statistics Streams": a
		// kind per window, so that each window's quotes are compared with
		// its own (quoteStream), never with another window's.
		bnTicker1h:     {name: "1hTicker", typ: schema.EventTicker, latest: true, slot: newSlot[bnTickerMsg]},
		bnTicker4h:     {name: "4hTicker", typ: schema.EventTicker, latest: true, slot: newSlot[bnTickerMsg]},
		bnTicker1d:     {name: "1dTicker", typ: schema.EventTicker, latest: true, slot: newSlot[bnTickerMsg]},
		bnContractInfo: {name: "contractInfo", typ: schema.EventControl, ctl: schema.ControlStatus, slot: newSlot[bnContractInfoMsg]},
	},
	newState: func() any { return new(bnState) },
	alignKey: binanceAlignKey,
	split:    binanceSplit,
}

// binanceEventNames maps the "e" field to a kind.
var binanceEventNames = map[string]int{
	"trade":          bnTrade,
	"aggTrade":       bnAggTrade,
	"bookTicker":     bnBookTicker,
	"depthUpdate":    bnDepth,
	"kline":          bnKline,
	"24hrTicker":     bnTicker,
	"24hrMiniTicker": bnMiniTicker,
	// Spot "Individual Symbol Rolling Window Statistics Streams" and "All
	// Market Rolling Window Statistics Streams": tickers of their window
	// (schema.Ticker.Window).
	"1hTicker":         bnTicker1h,
	"4hTicker":         bnTicker4h,
	"1dTicker":         bnTicker1d,
	"continuous_kline": bnContinuousKline,
	"executionReport":  bnExec,
	// USDⓈ-M user data: an order's update (Binance USDⓈ-M Futures "Event:
	// Order Update"), an execution report like spot's.
	"ORDER_TRADE_UPDATE": bnFuturesOrder,
	// USDⓈ-M conditional orders, kept by the Algo Service since December
	// 2025 (Binance USDⓈ-M "Event: Algo Order Update"), and a conditional
	// order whose trigger was refused (USDⓈ-M "Event: Conditional Order
	// Trigger Reject", deprecated by Binance on 2025-12-15 in favour of
	// ALGO_UPDATE but still parsed): execution reports.
	"ALGO_UPDATE":                      bnAlgoOrder,
	"CONDITIONAL_ORDER_TRIGGER_REJECT": bnTriggerReject,
	// Known, skipped on purpose and counted in Stats.Ignored, never as
	// unknown:
	//   - TRADE_LITE (USDⓈ-M "Event: Trade Lite Update"): a faster copy of
	//     a fill that ORDER_TRADE_UPDATE reports too, with its status, fee,
	//     cumulative quantity and realized profit. Publishing both would
	//     report one fill twice; publishing only TRADE_LITE would lose what
	//     it lacks. Dropped: a host sees each fill once, from
	//     ORDER_TRADE_UPDATE.
	//   - STRATEGY_UPDATE and GRID_UPDATE (USDⓈ-M and COIN-M "Event:
	//     STRATEGY_UPDATE", "Event: GRID_UPDATE"): the state of Binance's
	//     own grid strategies; the orders they place arrive as
	//     ORDER_TRADE_UPDATE, and the schema has no strategy section.
	//   - listStatus (spot "User Data Streams": an order list's OCO/OTO
	//     state, sent in addition to the executionReport of each of its
	//     orders): every order of the list is reported on its own; the
	//     list's state has no place in the schema.
	//   - avgPrice (spot "WebSocket Streams", "Average Price": the
	//     average price "w" over the interval "i", the reference of the
	//     PERCENT_PRICE filters): no event of the schema holds it;
	//     Ticker.WeightedAvgPrice is a ticker window's, and a ticker's or
	//     mark price's field would misname it.
	"avgPrice":        bnIgnored,
	"TRADE_LITE":      bnIgnored,
	"STRATEGY_UPDATE": bnIgnored,
	"GRID_UPDATE":     bnIgnored,
	"listStatus":      bnIgnored,
	// Account updates (binance_account.go): spot balances (Binance "User
	// Data Streams for Binance"), USDⓈ-M balances, positions, margin calls
	// and settings (Binance USDⓈ-M Futures "User Data Streams").
	"outboundAccountPosition": bnSplitAccountPosition,
	"balanceUpdate":           bnBalanceDelta,
	"externalLockUpdate":      bnExternalLock,
	"ACCOUNT_UPDATE":          bnSplitAccountUpdate,
	"MARGIN_CALL":             bnSplitMarginCall,
	"ACCOUNT_CONFIG_UPDATE":   bnAccountConfig,
	"markPriceUpdate":         bnMarkPrice,
	"forceOrder":              bnForceOrder,
	// The user-data stream ends: its listen key expired (Binance "User Data
	// Streams": E may be sent as a number or a string), or the WS-API
	// subscription was terminated (WS-API "User Data Stream requests").
	"listenKeyExpired":      bnStreamEnd,
	"eventStreamTerminated": bnStreamEnd,
	// The WS-API server is about to close the connection (WS-API "Event
	// format": reconnect now).
	"serverShutdown": bnServerShutdown,
	// USDⓈ-M and COIN-M market streams with no place of their own in the
	// schema (binance_futures_market.go): counted in Stats.Ignored.
	"compositeIndex":   bnIgnored,
	"assetIndexUpdate": bnIgnored,
	// A contract's status (listing, delivery, settlement): a control
	// event of its symbol (binance_futures_market.go).
	"contractInfo": bnContractInfo,
}

// binanceStreamKinds maps a stream name's channel (after the '@') to a kind:
// the combined stream names the type, so the payload is decoded once.
var binanceStreamKinds = map[string]int{
	"trade":      bnTrade,
	"aggTrade":   bnAggTrade,
	"bookTicker": bnBookTicker,
	"depth":      bnDepth, // "depth" and "depth@100ms" are diffs; a REST snapshot has no "e" (see classify)
	"depth5":     bnPartialDepth,
	"depth10":    bnPartialDepth,
	"depth20":    bnPartialDepth,
	// USDⓈ-M "RPI Diff. Book Depth Streams" (<symbol>@rpiDepth@500ms): the
	// diff's shape, but of the book with RPI orders, whose crossed levels
	// are hidden: another book, synchronised from /fapi/v1/rpiDepth, with
	// ids chaining on their own. Read as the symbol's diffs it would break
	// their pu chain and put RPI quantities in the book: not normalised.
	// (On a raw stream it cannot be told from the diffs: use a combined
	// stream.)
	"rpiDepth":   bnUnknown,
	"ticker":     bnTicker,
	"miniTicker": bnMiniTicker,
	"markPrice":  bnMarkPrice,
	"forceOrder": bnForceOrder,
	"kline":      bnKline, // "kline_1m" and every interval: see classify
	// "<pair>_<contractType>@continuousKline_1m" and every interval.
	"continuousKline": bnContinuousKline,
	"avgPrice":        bnIgnored,  // see binanceEventNames
	"ticker_1h":       bnTicker1h, // "<symbol>@ticker_1h", "!ticker_1h@arr"
	"ticker_4h":       bnTicker4h,
	"ticker_1d":       bnTicker1d,
	"allForceOrder":   bnForceOrder,
	"compositeIndex":  bnIgnored, // see binanceEventNames
	"assetIndex":      bnIgnored, // "<assetSymbol>@assetIndex", "!assetIndex@arr"
}

// bnEnvelope is a Binance frame's envelope (combined stream or WS-API
// user-data wrapper) and, for a payload sent raw, what classifies it when
// it has no "e" first.
type bnEnvelope struct {
	Stream       text     `json:"stream"`
	Data         span     `json:"data"`
	Event        span     `json:"event"`
	Subscription present  `json:"subscriptionId"`
	E            text     `json:"e"`
	Result       bnResult `json:"result"`
	ID           present  `json:"id"`
	Error        present  `json:"error"`
	LastUpdateID present  `json:"lastUpdateId"`
	Code         present  `json:"code"`
	Msg          present  `json:"msg"`
	// A spot bookTicker has no "e": the members that classify it are its
	// own, so such a payload is decoded once, here, and filled from here.
	U   integer    `json:"u"`
	S   text       `json:"s"`
	B   lenientNum `json:"b"`
	BQ  lenientNum `json:"B"`
	A   lenientNum `json:"a"`
	AQ  lenientNum `json:"A"`
	EvT integer    `json:"E"`
	T   integer    `json:"T"`
}

// lenientNum is a decimal where the member may also hold something else
// (a depth diff's "b" is an array, a balanceUpdate's "a" an asset's name):
// only a string or number is decoded, and a value that is not a decimal is
// kept as err, for a bookTicker's fill to report, rather than failing the
// classification of another message.
type lenientNum struct {
	num
	err  error
	seen bool
}

func (n *lenientNum) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	n.seen = true
	if k := in.PeekKind(); k != '"' && k != '0' {
		return in.SkipValue()
	}
	v, err := in.ReadValue()
	if err != nil {
		return err
	}
	// A name, not a number: no decimal error to build. NaN and infinity
	// are numbers a decimal refuses: their error is the decimal's, as on
	// every other member (schema.ErrDecimalNotFinite).
	if t := unquoted(v); !numeric(t) && !notFinite(t) {
		n.err = errWantNumber
		return nil
	}
	if err := n.v.UnmarshalJSON(v); err != nil {
		n.err = err
		return nil
	}
	n.ok = true
	return nil
}

// numeric reports whether b is made of the bytes a decimal may have.
func numeric(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E' {
			return false
		}
	}
	return len(b) > 0
}

// notFinite reports whether b spells NaN or infinity, signed or not,
// in any case ("NaN", "-Infinity", "inf").
func notFinite(b []byte) bool {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	return bytes.EqualFold(b, []byte("nan")) || bytes.EqualFold(b, []byte("inf")) || bytes.EqualFold(b, []byte("infinity"))
}

// sent reports whether the member held a string or a number.
func (n *lenientNum) sent() bool { return n.ok || n.err != nil }

// price fills dst from a member of a bookTicker, or reports the value
// that was not a decimal.
func (n *lenientNum) price(f *filler, dst *schema.Decimal, field string) {
	if n.err != nil {
		f.fail(field, n.err)
		return
	}
	f.price(dst, field, n.num)
}

// bnEnv is the parser's envelope struct: the one inside its bookTicker
// slot.
func bnEnv(p *Parser) *bnEnvelope {
	return &p.slots[bnBookTicker].msg().(*bnBookTickerMsg).bnEnvelope
}

// bnResult is a WS-API "result": an order answer when it has an orderId.
type bnResult struct {
	ok    bool
	order bool
}

func (r *bnResult) UnmarshalJSONFrom(in *jsontext.Decoder) error {
	r.ok = true
	if in.PeekKind() != '{' {
		return in.SkipValue()
	}
	// Member by member with the token reader: UnmarshalDecode would
	// allocate on every call (goccy v0.12.0).
	if _, err := in.ReadToken(); err != nil {
		return err
	}
	for {
		switch in.PeekKind() {
		case '}':
			_, err := in.ReadToken()
			return err
		case 0:
			_, err := in.ReadValue()
			return err
		}
		name, err := in.ReadValue()
		if err != nil {
			return err
		}
		if string(name) == `"orderId"` {
			r.order = true
		}
		if err := in.SkipValue(); err != nil {
			return err
		}
	}
}

// binanceSplit reads a frame. Fast paths take the common shapes without a
// pass over the envelope: a payload sent raw with "e" first, and a combined
// stream {"stream":"…","data":…} whose payload is then decoded once (the
// stream name gives its kind). Anything else is split by goccy.
func binanceSplit(p *Parser, ctx context.Context, data []byte, _ uint64, ingest int64) error {
	r := &p.raw
	if stream, payload, ok := binanceFastSplit(data); ok {
		r.Stream, r.Payload = stream, payload
		p.unsure = len(payload) != len(data)
		err := p.binanceMessage(ctx, nil)
		p.unsure = false
		if err != errResplit {
			return err
		}
		valid, err := safejson.IsValid(data)
		if err != nil {
			p.stats.panics.Add(1) // not known to be JSON: refused as not JSON
		}
		if !valid {
			// Not JSON: the payload's own error is the message's — its
			// kind's, and for an execution report its gap marker.
			return p.binanceMessage(ctx, nil)
		}
	}
	env := bnEnv(p)
	if err := p.splitBinance(env, data, r); err != nil {
		return err
	}
	if len(r.Payload) != len(data) {
		env = nil // the envelope's own members are not the payload's
	}
	return p.binanceMessage(ctx, env)
}

var klinePrefix, continuousKlinePrefix = []byte("kline_"), []byte("continuousKline_")

// skipSpace returns b without its leading JSON whitespace.
func skipSpace(b []byte) []byte { return b[firstByte(b):] }

// member reads, at the start of b, the JSON text `"name":` — its tokens
// separated by any JSON whitespace (RFC 8259 §2: Binance's docs print their
// messages indented) — and returns what follows the colon, its leading
// whitespace skipped; ok is false when b does not start so. With first,
// b must open an object first: `{"name":`.
func member(b []byte, name string, first bool) (rest []byte, ok bool) {
	b = skipSpace(b)
	if first {
		if len(b) == 0 || b[0] != '{' {
			return nil, false
		}
		b = skipSpace(b[1:])
	}
	if len(b) < len(name)+2 || b[0] != '"' || string(b[1:1+len(name)]) != name || b[1+len(name)] != '"' {
		return nil, false
	}
	b = skipSpace(b[len(name)+2:])
	if len(b) == 0 || b[0] != ':' {
		return nil, false
	}
	return skipSpace(b[1:]), true
}

// leadingString reads a plain JSON string (no escape) at the start of b:
// its text and what follows it.
func leadingString(b []byte) (s, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, nil, false
	}
	q := bytes.IndexByte(b[1:], '"')
	if q < 0 || hasEscape(b[1:1+q]) {
		return nil, nil, false
	}
	return b[1 : 1+q], b[2+q:], true
}

// nextMember reads `,"name":` at the start of b (whitespace allowed between
// the tokens) and returns what follows the colon.
func nextMember(b []byte, name string) ([]byte, bool) {
	b = skipSpace(b)
	if len(b) == 0 || b[0] != ',' {
		return nil, false
	}
	return member(b[1:], name, false)
}

// errResplit: a payload cut from its wrapper by binanceFastSplit was not
// one JSON value — a member after it (JSON objects are unordered, RFC 8259
// §4), or a frame that is not JSON. binanceSplit then splits a valid frame
// with goccy, and refuses any other as the message the cut payload names
// (an execution report so refused is announced: contract 3).
var errResplit = errors.New("normalize: resplit")

// resplitOr returns errResplit for a syntax error in a payload the fast
// split cut (see Parser.unsure), else err.
func (p *Parser) resplitOr(err error) error {
	var syn *jsontext.SyntacticError
	if p.unsure && errors.As(err, &syn) {
		return errResplit
	}
	return err
}

// binanceFastSplit recognises a raw payload with "e" first, a combined
// stream or a WS-API user-data wrapper in Binance's own layout by its
// leading members, whatever the whitespace between their tokens (a frame
// as Binance's docs print it, indented, was classified by decoding it
// whole, and an ORDER_TRADE_UPDATE's "o" of some 37 members cost goccy's
// duplicate-name check 4 allocations a message). It reads no JSON:
// the payload is validated when it is decoded, and a frame it does not
// recognise goes to goccy.
func binanceFastSplit(data []byte) (stream, payload []byte, ok bool) {
	if rest, ok := member(data, "e", true); ok && len(rest) > 0 && rest[0] == '"' {
		return nil, data, true
	}
	if rest, ok := member(data, "subscriptionId", true); ok {
		// The WS-API user-data wrapper: {"subscriptionId":N,"event":{…}}.
		// Other layouts ({"event":{…}} without subscriptionId, as Binance
		// spot "User Data Streams" shows eventStreamTerminated, or members
		// in another order) are split by goccy.
		i := 0
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
		if i == 0 {
			return nil, nil, false
		}
		if rest, ok = nextMember(rest[i:], "event"); !ok {
			return nil, nil, false
		}
		body, ok := objectBody(rest)
		return nil, body, ok
	}
	rest, ok := member(data, "stream", true)
	if !ok {
		return nil, nil, false
	}
	name, rest, ok := leadingString(rest)
	if !ok || len(name) == 0 {
		return nil, nil, false
	}
	if rest, ok = nextMember(rest, "data"); !ok {
		return nil, nil, false
	}
	body, ok := objectBody(rest)
	return name, body, ok
}

// objectBody returns the member value that ends an envelope: rest is the
// value followed by the envelope's closing brace. The value is validated
// when it is decoded.
func objectBody(rest []byte) ([]byte, bool) {
	body := bytes.TrimRight(rest, " \t\r\n")
	if len(body) < 3 || body[len(body)-1] != '}' || body[0] != '{' {
		return nil, false
	}
	return body[:len(body)-1], true
}

// SplitBinance splits a Binance frame into r's Stream and Payload, which
// alias data: a combined-stream envelope {"stream":…,"data":…} gives both; a
// WS-API user-data envelope {"subscriptionId":…,"event":…} (or {"event":…})
// gives the event; anything else (an object, or an array of them) is its
// own payload. The whole frame is validated by goccy's v2 decoder. It
// allocates the decode struct: parsers split without it.
func SplitBinance(data []byte, r *schema.ProviderRaw) error {
	p := &Parser{spec: &binanceSpec}
	p.venue = schema.VenueBinance
	return p.splitBinance(new(bnEnvelope), data, r)
}

func (p *Parser) splitBinance(env *bnEnvelope, data []byte, r *schema.ProviderRaw) error {
	*env = bnEnvelope{}
	if i := firstByte(data); i < len(data) && data[i] == '[' {
		p.list = spans{list: &p.elems}
		if err := p.unmarshal(data, &p.list); err != nil {
			return p.badDecode("envelope", err)
		}
		r.Stream, r.Payload = nil, data
		return nil
	}
	if err := p.unmarshal(data, env); err != nil {
		field, cause := decodeError(err)
		if field == "stream" || field == "e" {
			cause = ErrBadValue
		}
		return p.bad("envelope", field, cause)
	}
	switch {
	case env.Data.to > 0 && env.Stream.ok:
		r.Stream, r.Payload = env.Stream.bytes(), env.Data.of(data)
	case env.Event.to > 0 && (bool(env.Subscription) || !env.E.ok):
		// The WS-API user-data wrapper, with or without its
		// subscriptionId.
		r.Stream, r.Payload = nil, env.Event.of(data)
	default:
		r.Stream, r.Payload = nil, data
	}
	return nil
}

// firstByte returns the index of data's first non-space byte.
func firstByte(data []byte) int {
	i := 0
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// HandleRaw (Binance parsers only) normalises one Binance message already
// split from its envelope (see [SplitBinance]). An array payload (the
// all-market ticker streams) is a message per element.
func (p *Parser) HandleRaw(ctx context.Context, r *schema.ProviderRaw) error {
	if p.venue != schema.VenueBinance {
		return p.bad("envelope", "", wrapBad("HandleRaw serves Binance only"))
	}
	p.beginFrame()
	if &p.raw != r {
		q := &p.raw
		q.Provider, q.ConnID, q.ReceivedAt, q.Stream, q.Payload = r.Provider, r.ConnID, r.ReceivedAt, r.Stream, r.Payload
		defer q.Reset()
	}
	return p.binanceMessage(ctx, nil)
}

// HandleSnapshot (Binance parsers only) normalises a Binance REST depth
// snapshot ({"lastUpdateId", "bids", "asks"}) of venueSymbol into an
// EventBookSnapshot; it restarts the symbol's book sequence at
// lastUpdateId — unless the diffs already published run with no gap from
// at most lastUpdateId+1 past it (a snapshot fetched while the stream
// went on, as Binance's "How to manage a local order book correctly"
// has it): those are the host's to apply on top of it, and the sequence
// carries on from the last of them, with no gap marker.
func (p *Parser) HandleSnapshot(ctx context.Context, venueSymbol string, data []byte, receivedAt int64) error {
	if p.venue != schema.VenueBinance {
		return p.bad("depth", "", wrapBad("HandleSnapshot serves Binance only"))
	}
	p.snapSym = append(p.snapSym[:0], venueSymbol...)
	return p.run(ctx, bnRESTDepth, data, p.snapSym, receivedAt)
}

// binanceMessage classifies p.raw's payload and runs it; env is the
// envelope already decoded from the frame, or nil.
func (p *Parser) binanceMessage(ctx context.Context, env *bnEnvelope) error {
	r := &p.raw
	payload := r.Payload
	sym, channel := splitStream(r.Stream)
	p.env.utc8 = bytes.HasSuffix(r.Stream, utc8Suffix) // "btcusdt@kline_1d@+08:00"
	if i := firstByte(payload); i < len(payload) && payload[i] == '[' {
		p.list = spans{list: &p.elems}
		if err := p.unmarshal(payload, &p.list); err != nil {
			return p.badDecode("envelope", err)
		}
		var first error
		for _, s := range p.elems {
			el := s.of(payload)
			k, probed, err := p.classify(nil, el, nil)
			if err == nil {
				err = p.runKind(ctx, k, probed, el, nil, r.ReceivedAt)
			}
			if err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	k, probed, err := p.classify(channel, payload, env)
	if err != nil {
		return err
	}
	return p.runKind(ctx, k, probed, payload, sym, r.ReceivedAt)
}

// runKind runs a classified payload; probed says the payload was decoded
// into the envelope struct, which a bookTicker is filled from.
func (p *Parser) runKind(ctx context.Context, k int, probed bool, payload, sym []byte, ingest int64) error {
	switch {
	case k == bnUnknown:
		return p.unknown()
	case k == bnIgnored:
		return p.ignored()
	case k >= numBinanceKinds:
		return p.binanceEntries(ctx, k, payload, ingest)
	}
	p.predecoded = probed && k == bnBookTicker
	err := p.run(ctx, k, payload, sym, ingest)
	p.predecoded = false
	return err
}

// classify finds the kind of a payload: the stream's channel, else its "e"
// (read from its literal prefix when first), else its members as decoded
// by goccy into env (the frame's own decode when the payload was not in an
// envelope).
func (p *Parser) classify(channel, payload []byte, env *bnEnvelope) (k int, probed bool, err error) {
	if bytes.HasPrefix(channel, klinePrefix) {
		channel = channel[:len(klinePrefix)-1]
	} else if bytes.HasPrefix(channel, continuousKlinePrefix) {
		channel = channel[:len(continuousKlinePrefix)-1]
	}
	if k, ok := binanceStreamKinds[string(channel)]; ok && channel != nil {
		if k == bnPartialDepth { // "depth5": a view of the top 5 levels
			p.env.depth = viewDepth(channel[len("depth"):])
		}
		return k, false, nil
	}
	if rest, ok := member(payload, "e", true); ok {
		if name, _, ok := leadingString(rest); ok {
			if k, ok := binanceEventNames[string(name)]; ok {
				if k == bnDepth && channel == nil {
					return p.rawDepth(payload)
				}
				return k, false, nil
			}
			return bnUnknown, false, nil
		}
	}
	if env == nil {
		env = bnEnv(p)
		*env = bnEnvelope{}
		if err := p.unmarshal(payload, env); err != nil {
			if p.resplitOr(err) == errResplit {
				return bnUnknown, false, errResplit
			}
			field, cause := decodeError(err)
			if field == "e" {
				cause = ErrBadValue
			}
			return bnUnknown, false, p.bad("message", field, cause)
		}
	}
	switch {
	case env.E.ok:
		if k, ok := binanceEventNames[string(env.E.bytes())]; ok {
			if k == bnDepth && channel == nil {
				return p.rawDepth(payload)
			}
			return k, false, nil
		}
		return bnUnknown, false, nil
	case bool(env.Error):
		return bnVenueError, false, nil
	case bool(env.Code) && bool(env.Msg):
		// {"code":2,"msg":"Invalid request: …","id":1}: the market streams'
		// flat error (spot and USDⓈ-M), also for a request that made the
		// connection useless.
		return bnFlatError, false, nil
	case env.Result.ok && bool(env.ID):
		if env.Result.order {
			return bnOrderAck, false, nil // a WS-API order.place or order.cancel response
		}
		return bnAck, false, nil
	case env.U.ok && env.B.seen && env.BQ.seen && env.A.seen && env.AQ.seen:
		return bnBookTicker, true, nil // spot bookTicker has no "e"
	case bool(env.LastUpdateID):
		return bnPartialDepth, false, nil
	}
	return bnUnknown, false, nil
}

// errRawViewAndDiff refuses a futures depthUpdate of a symbol whose partial
// depth view and diff stream are both on a raw connection.
var errRawViewAndDiff = wrapBad("the symbol's partial depth view and diff stream are both on this raw connection (Options.RawStreams): a futures view cannot be told from a diff")

// bnAmbiguous marks a symbol whose partial depth view and diff stream are
// both on a raw connection (Options.RawStreams).
const bnAmbiguous = -1

// binanceRawViews maps each symbol with a partial depth stream in streams
// ("btcusdt@depth5@100ms") to its view's depth, in the case its messages
// spell it ("BTCUSDT"); nil when there is none.
func binanceRawViews(streams []string) map[string]int {
	var views map[string]int
	diffs := map[string]bool{}
	for _, s := range streams {
		sym, channel := splitStream([]byte(s))
		if len(sym) == 0 {
			continue
		}
		key := string(bytes.ToUpper(sym))
		switch k, ok := binanceStreamKinds[string(channel)]; {
		case ok && k == bnPartialDepth:
			if views == nil {
				views = map[string]int{}
			}
			views[key] = viewDepth(channel[len("depth"):])
		case ok && k == bnDepth:
			diffs[key] = true
		}
	}
	for sym := range views {
		if diffs[sym] {
			views[sym] = bnAmbiguous
		}
	}
	return views
}

// bnDepthProbe reads what tells a futures partial depth view from a diff
// on a raw connection: the symbol, and "pu" (futures only: a spot
// depthUpdate is always a diff, its partial view has its own shape).
type bnDepthProbe struct {
	S  text    `json:"s"`
	PU present `json:"pu"`
}

// rawDepth classifies a depthUpdate that came without a stream name: a
// diff, unless Options.RawStreams lists its futures symbol's partial depth
// view (Binance USDⓈ-M Futures "Partial Book Depth Streams": the same
// shape as a diff), whose depth it then names.
func (p *Parser) rawDepth(payload []byte) (int, bool, error) {
	st := p.state.(*bnState)
	if len(st.rawViews) == 0 {
		return bnDepth, false, nil
	}
	st.probe = bnDepthProbe{}
	if err := p.unmarshal(payload, &st.probe); err != nil {
		return bnDepth, false, nil // the diff's own decode reports it
	}
	d, ok := st.rawViews[string(st.probe.S.bytes())]
	switch {
	case !ok || !bool(st.probe.PU):
		return bnDepth, false, nil
	case d == bnAmbiguous:
		return bnUnknown, false, p.bad("depthUpdate", "s", errRawViewAndDiff)
	}
	p.env.depth = d
	return bnPartialDepth, false, nil
}

// splitStream returns a stream name's symbol and channel:
// "btcusdt@depth5@100ms" → "btcusdt", "depth5". All-market streams
// ("!bookTicker@arr") have no symbol.
func splitStream(s []byte) (sym, channel []byte) {
	at := bytes.IndexByte(s, '@')
	if at < 0 {
		return nil, nil
	}
	if s[0] == '!' { // all-market: "!miniTicker@arr"
		return nil, s[1:at]
	}
	sym, channel = s[:at], s[at+1:]
	if i := bytes.IndexByte(channel, '@'); i >= 0 {
		channel = channel[:i]
	}
	return sym, channel
}

// Binance's messages as goccy v2 structs. Names are matched exactly ("t"
// is not "T"); members a struct does not name are skipped, so Binance may
// add fields. ExchangeTS is the message's main time, else its fallback.

// bnTradeMsg is a trade (id in "t") or, as bnAggTradeMsg, an aggregated
// trade (id in "a").
type bnTradeMsg struct {
	S     text    `json:"s"`
	ID    integer `json:"t"`
	P     num     `json:"p"`
	Q     num     `json:"q"`
	T     integer `json:"T"` // trade time
	E     integer `json:"E"`
	Maker flag    `json:"m"` // buyer is the maker
	X     text    `json:"X"` // USDⓈ-M "trade": the trade's type, "NA" for no trade
}

// bnNoTrade is the type USDⓈ-M's "<symbol>@trade" stream gives an entry
// that is no trade: "X":"NA" with "p":"0" and "q":"0" (a fault reported
// publicly, hftbacktest issue #263, 2025-08; Binance documents "X" as
// MARKET, ADL or INSURANCE_FUND). Such an entry is skipped on purpose and
// counted in Stats.Ignored, not refused as a price 0.
var bnNoTrade = []byte("NA")

func (m *bnTradeMsg) fill(f *filler) {
	if bytes.Equal(m.X.bytes(), bnNoTrade) {
		f.symbol("s", &m.S) // a stream of ours: its symbol still known
		f.ignore = true
		return
	}
	m.fillAs(f, "t", m.ID)
}

func (m *bnTradeMsg) fillAs(f *filler, idKey string, id integer) {
	x := &f.ev.Trade
	f.need(idKey, id.ok)
	f.need("p", m.P.ok)
	f.need("q", m.Q.ok)
	f.symbol("s", &m.S)
	f.seqID(idKey, &x.ID, id)
	f.positive(&x.Price, "p", m.P)
	f.size(&x.Qty, "q", m.Q)
	f.millis(&f.main, "T", m.T)
	f.millis(&f.fallback, "E", m.E)
	if m.Maker.ok {
		x.Side = schema.SideBuy
		if m.Maker.v {
			x.Side = schema.SideSell
		}
	}
	// Binance "Trade Streams", "Aggregate Trade Streams" (spot, USDⓈ-M,
	// COIN-M): every trade has its time and its maker flag; absent, the
	// trade was dated by the event time or taken by no side.
	f.need("T", m.T.ok)
	f.need("m", m.Maker.ok)
}

type bnAggTradeMsg struct {
	bnTradeMsg
	AggID integer `json:"a"`
}

func (m *bnAggTradeMsg) fill(f *filler) { m.fillAs(f, "a", m.AggID) }

// bnBookTickerMsg is a best bid/offer: its members are in bnEnvelope,
// which also classifies a payload without "e".
type bnBookTickerMsg struct{ bnEnvelope }

func (m *bnBookTickerMsg) fill(f *filler) {
	x := &f.ev.BBO
	f.need("u", m.U.ok)
	f.need("b", m.B.sent())
	f.need("B", m.BQ.sent())
	f.need("a", m.A.sent())
	f.need("A", m.AQ.sent())
	f.unsigned(&f.ev.SeqProvider, "u", m.U)
	f.symbol("s", &m.S)
	m.B.price(f, &x.BidPrice, "b")
	m.BQ.price(f, &x.BidQty, "B")
	m.A.price(f, &x.AskPrice, "a")
	m.AQ.price(f, &x.AskQty, "A")
	f.millis(&f.main, "E", m.EvT)
	f.millis(&f.fallback, "T", m.T)
}

// bnDepthMsg is a diff: U..u with the futures' previous u in pu.
type bnDepthMsg struct {
	S  text    `json:"s"`
	U  integer `json:"U"`
	LU integer `json:"u"`
	PU integer `json:"pu"`
	B  levels  `json:"b"`
	A  levels  `json:"a"`
	E  integer `json:"E"`
	T  integer `json:"T"`
}

func (m *bnDepthMsg) bind(ev *schema.CanonicalEvent) {
	m.B.bind(nil, &ev.Book.Bids, nil)
	m.A.bind(nil, &ev.Book.Asks, nil)
}

func (m *bnDepthMsg) fill(f *filler) {
	b := &f.ev.Book
	f.need("U", m.U.ok)
	f.need("u", m.LU.ok)
	f.need("b", m.B.ok)
	f.need("a", m.A.ok)
	f.symbol("s", &m.S)
	f.unsigned(&b.FirstSeq, "U", m.U)
	f.unsigned(&b.LastSeq, "u", m.LU)
	f.unsigned(&b.PrevSeq, "pu", m.PU)
	f.millis(&f.main, "E", m.E)
	f.millis(&f.fallback, "T", m.T)
	if b.FirstSeq > b.LastSeq {
		f.fail("U", errBadRange)
	}
	f.ev.SeqProvider = b.LastSeq
}

// bnPartialDepthMsg is a partial book stream or a REST snapshot: the top
// 5, 10 or 20 levels of each side, each message a whole view. Spot sends
// {"lastUpdateId","bids","asks"} (Binance "Partial Book Depth Streams");
// USDⓈ-M and COIN-M send the diff's shape, {"e":"depthUpdate","E","T",
// "s","U","u","pu","b","a"} (Binance USDⓈ-M and COIN-M Futures "Partial
// Book Depth Streams"), whose u is then the view's last update id. Their
// combined stream's name ("btcusdt@depth5@100ms") is what tells the two
// apart from a diff; on a raw connection ("/ws/btcusdt@depth5") only
// Options.RawStreams does.
type bnPartialDepthMsg struct {
	LastUpdateID integer `json:"lastUpdateId"`
	Bids         levels  `json:"bids"`
	Asks         levels  `json:"asks"`
	S            text    `json:"s"`
	LU           integer `json:"u"`
	B            levels  `json:"b"`
	A            levels  `json:"a"`
	E            integer `json:"E"`
	T            integer `json:"T"`
}

func (m *bnPartialDepthMsg) bind(ev *schema.CanonicalEvent) {
	m.Bids.bind(nil, &ev.Book.Bids, nil)
	m.Asks.bind(nil, &ev.Book.Asks, nil)
	m.B.bind(nil, &ev.Book.Bids, nil)
	m.A.bind(nil, &ev.Book.Asks, nil)
}

func (m *bnPartialDepthMsg) fill(f *filler) {
	if m.LastUpdateID.ok {
		// Both sides are always sent, [] when empty (Binance "Order book",
		// "Partial Book Depth Streams"): a missing one is not an empty side.
		f.need("bids", m.Bids.ok)
		f.need("asks", m.Asks.ok)
		f.unsigned(&f.ev.Book.LastSeq, "lastUpdateId", m.LastUpdateID)
	} else {
		f.need("u", m.LU.ok) // a futures view: its u is the view's update id
		f.need("b", m.B.ok)
		f.need("a", m.A.ok)
		f.unsigned(&f.ev.Book.LastSeq, "u", m.LU)
	}
	f.symbol("s", &m.S)
	f.millis(&f.main, "E", m.E)
	f.millis(&f.fallback, "T", m.T)
	f.ev.SeqProvider = f.ev.Book.LastSeq
}

// binanceCoinM reports whether a symbol is a COIN-M contract
// ("BTCUSD_PERP", "BTCUSD_250328": quoted in USD, settled in the coin),
// whose 24 h tickers and klines count "v" in contracts and "q" in the base
// asset (Binance COIN-M Futures "Individual Symbol Ticker Streams",
// "Kline/Candlestick Streams"); spot and USDⓈ-M count "v" in the base
// asset and "q" in the quote asset.
func binanceCoinM(s *text) bool {
	b := s.bytes()
	i := bytes.IndexByte(b, '_')
	return i > 0 && bytes.HasSuffix(b[:i], []byte("USD"))
}

type bnKlineMsg struct {
	S text     `json:"s"`
	E integer  `json:"E"`
	K bnCandle `json:"k"`
}

// bnCandle is a kline message's "k": a symbol's candle, or a continuous
// contract's (whose "L" is the last update id, not a trade id).
type bnCandle struct {
	T  integer `json:"t"`
	CT integer `json:"T"`
	I  word    `json:"i"`
	L  integer `json:"L"` // last trade id, -1 when none
	O  num     `json:"o"`
	C  num     `json:"c"`
	H  num     `json:"h"`
	Lo num     `json:"l"`
	V  num     `json:"v"`
	Q  num     `json:"q"`
	N  integer `json:"n"`
	X  flag    `json:"x"`
}

// bnContinuousKlineMsg is a USDⓈ-M continuous contract kline (Binance
// USDⓈ-M Futures "Continuous Contract Kline/Candlestick Streams",
// <pair>_<contractType>@continuousKline_<interval>): the pair in "ps",
// the contract type in "ct" (PERPETUAL, CURRENT_QUARTER, NEXT_QUARTER).
type bnContinuousKlineMsg struct {
	PS text     `json:"ps"`
	CT text     `json:"ct"`
	E  integer  `json:"E"`
	K  bnCandle `json:"k"`
}

// errNoContract: a continuous kline of a delivery contract type follows
// whichever quarter is current, a contract the message does not name.
var errNoContract = fmt.Errorf("%w: a quarter's continuous kline names no delivery contract", ErrUnknownSymbol)

// fill: a PERPETUAL's continuous kline is its pair's perpetual's kline
// (the symbol of a USDⓈ-M perpetual is its pair: "BTCUSDT" is BTC-USDT);
// a quarter's is refused with errNoContract rather than published under a
// symbol it is not.
func (m *bnContinuousKlineMsg) fill(f *filler) {
	f.need("ct", m.CT.ok)
	if m.CT.ok && string(m.CT.bytes()) != "PERPETUAL" {
		f.fail("ct", errNoContract)
	}
	f.need("ps", m.PS.ok)
	f.symbol("ps", &m.PS)
	f.millis(&f.main, "E", m.E)
	m.K.fill(f, false)
}

var binanceIntervals = internTable("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M")

// binanceIntervalsUTC8 names the intervals of the klines of a stream named
// "<symbol>@kline_<interval>@+08:00" (Binance Spot "WebSocket Streams",
// "Kline/Candlestick Streams with timezone offset": the candles open and
// close in UTC+8, their "i" the bare interval): "1d+08:00", as OKX's
// UTC+8 candles (okx_candle.go), so that a host and the dispatcher keep
// them apart from the UTC klines of the same interval. Only a combined
// stream names the offset: a raw stream's are named as UTC's.
var binanceIntervalsUTC8 = func() map[string]string {
	m := make(map[string]string, len(binanceIntervals))
	for i := range binanceIntervals {
		m[i] = i + "+08:00"
	}
	return m
}()

var utc8Suffix = []byte("@+08:00")

func (m *bnKlineMsg) fill(f *filler) {
	f.symbol("s", &m.S)
	f.millis(&f.main, "E", m.E)
	m.K.fill(f, binanceCoinM(&m.S))
}

// fill fills the event's kline; coinM: its "v" counts contracts.
func (k *bnCandle) fill(f *filler, coinM bool) {
	x := f.ev.UseKline()
	if !k.T.ok && !k.CT.ok && !k.I.ok && !k.O.ok && !k.C.ok && !k.X.ok {
		f.fail("k", ErrMissingField)
		return
	}
	f.needAll(keySent{"t", k.T.ok}, keySent{"T", k.CT.ok}, keySent{"i", k.I.ok}, keySent{"o", k.O.ok},
		keySent{"h", k.H.ok}, keySent{"l", k.Lo.ok}, keySent{"c", k.C.ok}, keySent{"v", k.V.ok}, keySent{"x", k.X.ok})
	f.millis(&x.OpenTime, "t", k.T)
	f.millis(&x.CloseTime, "T", k.CT)
	intervals := binanceIntervals
	if f.p.env.utc8 {
		intervals = binanceIntervalsUTC8
	}
	f.word(&x.Interval, "i", intervals, &k.I)
	f.seq(&f.ev.SeqProvider, k.L)
	f.price(&x.Open, "o", k.O)
	f.price(&x.Close, "c", k.C)
	f.price(&x.High, "h", k.H)
	f.price(&x.Low, "l", k.Lo)
	if coinM { // v counts contracts (no canonical field), q is the base asset
		f.price(&x.Volume, "q", k.Q)
	} else {
		f.price(&x.Volume, "v", k.V)
		f.price(&x.QuoteVolume, "q", k.Q)
	}
	f.unsigned(&x.TradeCount, "n", k.N)
	x.Closed = k.X.v
	if x.Closed {
		f.ev.Type = schema.EventKlineClosed
	}
	// "n" and "q" too (every market's "Kline/Candlestick Streams"):
	// COIN-M's volume is its "q".
	f.needAll(keySent{"n", k.N.ok}, keySent{"q", k.Q.ok})
}

// bnTickerMsg decodes 24hrTicker, 24hrMiniTicker and the rolling-window
// tickers (1hTicker, 4hTicker, 1dTicker), whose fields are subsets of the
// full 24 h ticker's.
type bnTickerMsg struct {
	S  text    `json:"s"`
	E  integer `json:"E"`
	P  num     `json:"p"`
	PP num     `json:"P"`
	W  num     `json:"w"` // weighted average price
	C  num     `json:"c"`
	Q  num     `json:"Q"`
	B  num     `json:"b"`
	BQ num     `json:"B"`
	A  num     `json:"a"`
	AQ num     `json:"A"`
	O  num     `json:"o"`
	H  num     `json:"h"`
	L  num     `json:"l"`
	V  num     `json:"v"`
	QV num     `json:"q"`
	OT integer `json:"O"`
	CT integer `json:"C"`
	N  integer `json:"n"`
	LT integer `json:"L"` // last trade id, -1 when none
}

func (m *bnTickerMsg) fill(f *filler) {
	x := f.ev.UseTicker()
	f.need("c", m.C.ok)
	f.need("o", m.O.ok)
	f.need("h", m.H.ok)
	f.need("l", m.L.ok)
	f.need("v", m.V.ok)
	f.need("q", m.QV.ok)
	f.symbol("s", &m.S)
	f.millis(&f.main, "E", m.E)
	f.decimal(&x.PriceChange, m.P)
	f.decimal(&x.ChangePct, m.PP)
	f.price(&x.Last, "c", m.C)
	f.price(&x.LastQty, "Q", m.Q)
	f.price(&x.BidPrice, "b", m.B)
	f.price(&x.BidQty, "B", m.BQ)
	f.price(&x.AskPrice, "a", m.A)
	f.price(&x.AskQty, "A", m.AQ)
	f.price(&x.Open, "o", m.O)
	f.price(&x.High, "h", m.H)
	f.price(&x.Low, "l", m.L)
	if binanceCoinM(&m.S) { // v counts contracts (no canonical field), q is the base asset
		f.price(&x.Volume, "q", m.QV)
	} else {
		f.price(&x.Volume, "v", m.V)
		f.price(&x.QuoteVolume, "q", m.QV)
	}
	f.millis(&x.WindowOpen, "O", m.OT)
	f.millis(&x.WindowClose, "C", m.CT)
	f.unsigned(&x.TradeCount, "n", m.N)
	f.price(&x.WeightedAvgPrice, "w", m.W)
	f.seq(&f.ev.SeqProvider, m.LT)
	if f.name == "24hrMiniTicker" {
		return
	}
	// The full tickers' own members, sent by every market ("Individual
	// Symbol Ticker Streams") and by the rolling-window tickers
	// ("Individual Symbol Rolling Window Statistics Streams", which have
	// no "Q", "b", "a"); the mini ticker has none.
	f.needAll(keySent{"p", m.P.ok}, keySent{"P", m.PP.ok}, keySent{"O", m.OT.ok}, keySent{"C", m.CT.ok}, keySent{"n", m.N.ok})
	switch f.name {
	case "24hrTicker":
		f.need("Q", m.Q.ok)
	case "1hTicker":
		x.Window = "1h"
	case "4hTicker":
		x.Window = "4h"
	case "1dTicker":
		x.Window = "1d"
	}
}

type bnMarkPriceMsg struct {
	S text    `json:"s"`
	E integer `json:"E"`
	P num     `json:"p"`
	I optNum  `json:"i"`
	Q optNum  `json:"P"`
	R optNum  `json:"r"`
	T integer `json:"T"`
}

func (m *bnMarkPriceMsg) fill(f *filler) {
	x := f.ev.UseMark()
	f.need("p", m.P.ok)
	f.symbol("s", &m.S)
	f.millis(&f.main, "E", m.E)
	f.price(&x.MarkPrice, "p", m.P)
	f.price(&x.IndexPrice, "i", m.I.num)
	f.price(&x.EstSettlePrice, "P", m.Q.num)
	f.decimal(&x.FundingRate, m.R.num)
	f.millis(&x.NextFundingTime, "T", m.T)
}

type bnForceOrderMsg struct {
	E integer `json:"E"`
	O struct {
		S  text    `json:"s"`
		SS text    `json:"S"`
		P  num     `json:"p"`
		Q  num     `json:"q"`
		AP num     `json:"ap"`
		Z  num     `json:"z"`
		X  text    `json:"X"`
		T  integer `json:"T"`
	} `json:"o"`
}

func (m *bnForceOrderMsg) fill(f *filler) {
	o, x := &m.O, f.ev.UseLiquidation()
	if !o.S.ok && !o.SS.ok && !o.P.ok && !o.Q.ok {
		f.fail("o", ErrMissingField)
		return
	}
	f.need("S", o.SS.ok)
	f.need("p", o.P.ok)
	f.need("q", o.Q.ok)
	f.millis(&f.fallback, "E", m.E)
	f.symbol("s", &o.S)
	f.side(&x.Side, "S", &o.SS)
	f.positive(&x.Price, "p", o.P)
	f.size(&x.Qty, "q", o.Q)
	f.price(&x.AvgPrice, "ap", o.AP)
	f.price(&x.FilledQty, "z", o.Z)
	x.Status = enum(binanceStatuses, &o.X)
	f.millis(&f.main, "T", o.T)
	// "Liquidation Order Streams" (USDⓈ-M, COIN-M) send every member.
	f.needAll(keySent{"ap", o.AP.ok}, keySent{"z", o.Z.ok}, keySent{"X", o.X.ok}, keySent{"T", o.T.ok})
}

// execDerive derives what venues do not send: the remaining quantity, and
// the transaction time as ExchangeTS when there is no event time.
func execDerive(f *filler) {
	x := f.ev.UseExec()
	f.fallback = either(f.fallback, x.TransactTime)
	if x.RejectReason == "NONE" {
		x.RejectReason = ""
	}
	if x.CumFillQty.Cmp(x.Qty) <= 0 {
		if rem, err := x.Qty.Sub(x.CumFillQty); err == nil {
			x.RemainingQty = rem
		}
	}
}

// bnAckMsg is a subscription ack ({"result":…,"id":…}, also WS-API
// responses other than orders). WS-API ids that are not numbers are
// skipped.
type bnAckMsg struct {
	ID reqID `json:"id"`
}

func (m *bnAckMsg) fill(f *filler) { f.ev.UseControl().RequestID = m.ID.v }

// bnErrorMsg is a venue error {"error":{"code","msg"},"id"}.
type bnErrorMsg struct {
	ID    reqID `json:"id"`
	Error object[struct {
		Code integer `json:"code"`
		Msg  reason  `json:"msg"`
	}] `json:"error"`
}

func (m *bnErrorMsg) fill(f *filler) {
	c := f.ev.UseControl()
	c.RequestID, c.Code, c.Reason = m.ID.v, m.Error.v.Code.v, f.p.reason(&m.Error.v.Msg)
}

// bnStreamEventMsg is a user-data or WS-API event that ends or degrades
// the stream: {"e":"listenKeyExpired","E":…,"listenKey":…},
// {"e":"eventStreamTerminated","E":…}, {"e":"serverShutdown","E":…}. The
// event's name is the Reason.
type bnStreamEventMsg struct {
	E  text    `json:"e"`
	ET integer `json:"E"`
}

var binanceStreamEvents = internTable("listenKeyExpired", "eventStreamTerminated", "serverShutdown")

func (m *bnStreamEventMsg) fill(f *filler) {
	f.ev.UseControl().Reason = internOrCopy(binanceStreamEvents, &m.E)
	f.millis(&f.main, "E", m.ET)
}

// bnFlatErrorMsg is {"code":2,"msg":"Invalid request: …","id":1}.
type bnFlatErrorMsg struct {
	Code integer `json:"code"`
	Msg  reason  `json:"msg"`
	ID   reqID   `json:"id"`
}

func (m *bnFlatErrorMsg) fill(f *filler) {
	c := f.ev.UseControl()
	c.Code, c.Reason, c.RequestID = m.Code.v, f.p.reason(&m.Msg), m.ID.v
}

// bnOrderAckMsg is a WS-API response to order.place or order.cancel:
// {"id":N,"status":200,"result":{"symbol","orderId",…}}.
type bnOrderAckMsg struct {
	ID     reqID `json:"id"`
	Result struct {
		Symbol       text    `json:"symbol"`
		OrderID      ident   `json:"orderId"`
		ClientID     ident   `json:"clientOrderId"`
		OrigClientID ident   `json:"origClientOrderId"`
		Status       text    `json:"status"`
		Side         text    `json:"side"`
		Type         text    `json:"type"`
		TIF          text    `json:"timeInForce"`
		Price        num     `json:"price"`
		OrigQty      num     `json:"origQty"`
		StopPrice    num     `json:"stopPrice"`
		ExecutedQty  num     `json:"executedQty"`
		CumQuoteQty  num     `json:"cummulativeQuoteQty"`
		TransactTime integer `json:"transactTime"`
	} `json:"result"`
}

func (m *bnOrderAckMsg) fill(f *filler) {
	r, x := &m.Result, f.ev.UseExec()
	f.ev.UseControl().RequestID = m.ID.v
	f.symbol("symbol", &r.Symbol)
	f.id(&x.VenueOrderID, r.OrderID)
	f.id(&x.ClientOrderID, r.ClientID)
	f.id(&x.OrigClientOrderID, r.OrigClientID)
	x.Status = enum(binanceStatuses, &r.Status)
	f.side(&x.Side, "side", &r.Side)
	x.Type = enum(binanceOrderTypes, &r.Type)
	x.TimeInForce = enum(binanceTIFs, &r.TIF)
	f.price(&x.Price, "price", r.Price)
	f.price(&x.Qty, "origQty", r.OrigQty)
	f.price(&x.StopPrice, "stopPrice", r.StopPrice)
	f.price(&x.CumFillQty, "executedQty", r.ExecutedQty)
	f.price(&x.CumQuoteQty, "cummulativeQuoteQty", r.CumQuoteQty)
	f.millis(&x.TransactTime, "transactTime", r.TransactTime)
	execDerive(f)
}

// Binance's enum spellings, as data.
var (
	binanceExecTypes = map[string]schema.ExecType{
		"NEW": schema.ExecNew, "TRADE": schema.ExecTrade, "CANCELED": schema.ExecCanceled,
		"REPLACED": schema.ExecReplaced, "REJECTED": schema.ExecRejected, "EXPIRED": schema.ExecExpired,
		"TRADE_PREVENTION": schema.ExecTradePrevention, "AMENDMENT": schema.ExecAmendment,
		"PENDING_NEW": schema.ExecPendingNew, "PENDING_CANCEL": schema.ExecPendingCancel,
		"CALCULATED": schema.ExecTrade, // USDⓈ-M and COIN-M: a liquidation's or an ADL's fill
	}
	binanceStatuses = map[string]schema.OrderStatus{
		"PENDING_NEW": schema.StatusPendingNew, "NEW": schema.StatusNew,
		"PARTIALLY_FILLED": schema.StatusPartiallyFilled, "FILLED": schema.StatusFilled,
		"PENDING_CANCEL": schema.StatusPendingCancel, "CANCELED": schema.StatusCanceled,
		"REJECTED": schema.StatusRejected, "EXPIRED": schema.StatusExpired,
		"EXPIRED_IN_MATCH": schema.StatusExpiredInMatch,
		// USDⓈ-M statuses of a liquidation order in earlier versions of
		// "Event: Order Update" (with the Insurance Fund; by ADL): working.
		"NEW_INSURANCE": schema.StatusNew, "NEW_ADL": schema.StatusNew,
	}
	binanceOrderTypes = map[string]schema.OrderType{
		"MARKET": schema.OrderTypeMarket, "LIMIT": schema.OrderTypeLimit, "LIMIT_MAKER": schema.OrderTypeLimitMaker,
		"STOP_LOSS": schema.OrderTypeStopLoss, "STOP_LOSS_LIMIT": schema.OrderTypeStopLossLimit,
		"TAKE_PROFIT": schema.OrderTypeTakeProfit, "TAKE_PROFIT_LIMIT": schema.OrderTypeTakeProfitLimit,
	}
	// binanceTIFs: GTD is USDⓈ-M's and COIN-M's good-till-date ("New
	// Order": timeInForce GTD with goodTillDate; "Event: Order Update"
	// says its expiry in "gtd"), GTC as Kraken's gtd and Coinbase's
	// GOOD_UNTIL_DATE_TIME are: the schema has no GTD. GTE_GTC is
	// USDⓈ-M's conditional order that rests until canceled or until the
	// position it closes is gone ("Event: Algo Order Update": "a user
	// places a GTE_GTC Time-In-Force conditional order but then closes all
	// positions on that symbol", and the system cancels it): GTC.
	binanceTIFs = map[string]schema.TimeInForce{
		"GTC": schema.TIFGTC, "IOC": schema.TIFIOC, "FOK": schema.TIFFOK, "GTX": schema.TIFGTX, "GTD": schema.TIFGTC,
		"GTE_GTC": schema.TIFGTC,
	}
	// binanceRejectReasons interns the reasons Binance documents; others
	// are copied (rejects are rare).
	binanceRejectReasons = internTable("NONE",
		"INSUFFICIENT_BALANCES", "UNKNOWN_ORDER", "DUPLICATE_ORDER", "MARKET_CLOSED",
		"PRICE_QTY_EXCEED_HARD_LIMITS", "STOP_PRICE_WOULD_TRIGGER_IMMEDIATELY",
		"ORDER_WOULD_IMMEDIATELY_MATCH_AND_TAKE", "ORDER_WOULD_TRIGGER_IMMEDIATELY",
		"UNKNOWN_ACCOUNT", "UNKNOWN_INSTRUMENT", "ORDER_ARCHIVED",
		"WOULD_MATCH_IMMEDIATELY", "OCO_BAD_PRICES",
	)
	// binanceExpiryReasons interns spot's documented "eR" words (Binance
	// "User Data Streams for Binance", "Order Expiry Reason").
	binanceExpiryReasons = internTable("REJECTED", "EXCHANGE_CANCELED", "OCO_TRIGGER",
		"OTO_PHASE_ONE_EXPIRED", "UNFILLED_IOC_QUANTITY_EXPIRED", "UNFILLED_FOK_ORDER_EXPIRED",
		"INSUFFICIENT_LIQUIDITY", "EXECUTION_RULE_PRICE_RANGE_EXCEEDED",
	)
)

func internTable(words ...string) map[string]string {
	m := make(map[string]string, len(words))
	for _, w := range words {
		m[w] = w
	}
	return m
}
