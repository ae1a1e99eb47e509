package normalize

import (
	"bytes"
	"context"
	"errors"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// BinanceSymbolRules are Binance's symbol spellings: no delimiter, quote
// assets matched longest first, and '_' before a contract suffix
// ("BTCUSD_PERP" is BTC-USD-PERP, "BTCUSDT_250328" is BTC-USDT-250328).
// USDⓈ-M perpetuals ("BTCUSDT") share the spot spelling; the connection
// tells them apart.
var BinanceSymbolRules = SymbolRules{
	Quotes: []string{
		"USDT", "USDC", "FDUSD", "TUSD", "BUSD", "USDP", "DAI", "USD", "UST", "PAX",
		"BTC", "ETH", "BNB", "XRP", "TRX", "DOGE", "DOT", "SOL",
		"EUR", "GBP", "AUD", "BRL", "TRY", "RUB", "UAH", "JPY", "ZAR", "IDRT", "BIDR", "NGN", "PLN", "RON", "ARS", "MXN", "COP", "CZK",
	},
	ContractSep: '_',
}

// NewBinanceSymbols returns an empty registry with [BinanceSymbolRules].
// Load it with [ParseBinanceExchangeInfo].
func NewBinanceSymbols() *Symbols { return NewSymbols(BinanceSymbolRules) }

// Options configure a venue parser. A nil *Options means the defaults.
type Options struct {
	// Symbols resolves venue symbols. Defaults to a new registry with the
	// venue's rules and nothing loaded (the fallback alone).
	Symbols *Symbols
	// KeepRaw copies each message's payload into the event's Raw, reusing
	// its capacity. Defaults to false.
	KeepRaw bool
}

// Binance normalises Binance spot and USDⓈ-M futures market streams, raw or
// combined, and the user-data stream (plain or wrapped by the WS-API) into
// canonical events.
//
// One parser serves one connection: HandleFrame, HandleBytes, HandleRaw and
// HandleSnapshot must not be called concurrently (the parser reuses its
// scratch space and keeps each symbol's book sequence). Stats and Symbols
// may be called from any goroutine. Make it with [NewBinance].
type Binance struct {
	feed
	raw schema.ProviderRaw
}

// NewBinance returns a parser that takes events from events and hands them
// to sink. It panics when events or sink is nil.
func NewBinance(events *pool.Pool[*schema.CanonicalEvent], sink Sink, opts *Options) *Binance {
	p := &Binance{}
	p.setup(schema.VenueBinance, events, sink, opts, BinanceSymbolRules)
	p.split = func(ctx context.Context, data []byte, ingest int64) error { return p.handle(ctx, data, 0, ingest) }
	return p
}

// HandleFrame normalises one frame: it has the signature of the websocket
// client's frame handler. The frame is only borrowed: nothing refers to
// f.Data once it returns. A *ParseError concerns this message only (it is
// dropped and counted); other errors come from the sink or from ctx.
func (p *Binance) HandleFrame(ctx context.Context, f *schema.WsFrame) error {
	return p.handle(ctx, f.Data, f.ConnID, f.ReceivedAt)
}

func (p *Binance) handle(ctx context.Context, data []byte, conn uint64, receivedAt int64) error {
	r := &p.raw
	r.Provider, r.ConnID, r.ReceivedAt = schema.VenueBinance, conn, receivedAt
	defer r.Reset() // drop the references into data
	if err := SplitBinance(data, r); err != nil {
		p.stats.messages.Add(1)
		p.stats.errors.Add(1)
		return err
	}
	return p.HandleRaw(ctx, r)
}

// SplitBinance splits a Binance frame into r's Stream and Payload, which
// alias data: a combined-stream envelope {"stream":…,"data":…} gives both; a
// WS-API user-data envelope {"subscriptionId":…,"event":…} gives the event;
// anything else is its own payload. It checks the envelope's structure but
// not the values it skips: the payload is validated when it is decoded.
func SplitBinance(data []byte, r *schema.ProviderRaw) error {
	var it iter
	var stream, body, event []byte
	hasSub := false
	it.object(data)
	it.loose = true
	for it.next() {
		switch string(it.key) {
		case "stream":
			stream = it.val
		case "data":
			body = it.val
		case "event":
			event = it.val
		case "subscriptionId":
			hasSub = true
		}
	}
	if err := it.finish(); err != nil {
		if errors.Is(err, errJSONType) {
			var arr iter // an all-market array stream sent raw
			arr.array(data)
			arr.loose = true
			for arr.next() {
			}
			if arr.finish() == nil {
				r.Stream, r.Payload = nil, data
				return nil
			}
		}
		return &ParseError{Venue: schema.VenueBinance, Stream: "envelope", Err: err}
	}
	switch {
	case body != nil && stream != nil:
		s, err := unquote(stream, new([]byte))
		if err != nil {
			return &ParseError{Venue: schema.VenueBinance, Stream: "envelope", Field: "stream", Err: ErrBadValue}
		}
		r.Stream, r.Payload = s, body
	case event != nil && hasSub:
		r.Stream, r.Payload = nil, event
	default:
		r.Stream, r.Payload = nil, data
	}
	return nil
}

// HandleRaw normalises one message already split from its envelope. An
// array payload (the all-market ticker streams) is a message per element.
func (p *Binance) HandleRaw(ctx context.Context, r *schema.ProviderRaw) error {
	if i := skipSpace(r.Payload, 0); i < len(r.Payload) && r.Payload[i] == '[' {
		var first error
		var it iter
		for it.array(r.Payload); it.next(); {
			if err := p.message(ctx, r.Stream, it.val, r.ReceivedAt); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	return p.message(ctx, r.Stream, r.Payload, r.ReceivedAt)
}

// HandleSnapshot normalises a REST depth snapshot ({"lastUpdateId", "bids",
// "asks"}) of venueSymbol into an EventBookSnapshot.
func (p *Binance) HandleSnapshot(ctx context.Context, venueSymbol string, data []byte, receivedAt int64) error {
	return p.message(ctx, []byte(venueSymbol+"@depth"), data, receivedAt)
}

// binanceKind is one message type Binance sends.
type binanceKind uint8

const (
	bnUnknown binanceKind = iota
	bnTrade
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
	numBinanceKinds
)

var binanceSpecs [numBinanceKinds]msgSpec

func init() {
	binanceSpecs = [numBinanceKinds]msgSpec{
		bnTrade:        {typ: schema.EventTrade, table: binanceTrade},
		bnAggTrade:     {typ: schema.EventTrade, table: binanceAggTrade},
		bnBookTicker:   {typ: schema.EventBBO, table: binanceBookTicker},
		bnDepth:        {typ: schema.EventBookUpdate, table: binanceDepth, after: afterDepth, book: true},
		bnPartialDepth: {typ: schema.EventBookSnapshot, table: binancePartialDepth, after: afterDepth},
		bnKline:        {typ: schema.EventKlineLive, table: binanceKline, after: afterKline},
		bnTicker:       {typ: schema.EventTicker, table: binanceTicker},
		bnMiniTicker:   {typ: schema.EventTicker, table: binanceTicker},
		bnExec:         {typ: schema.EventExecReport, table: binanceExec, after: afterExec},
		bnMarkPrice:    {typ: schema.EventMarkPrice, table: binanceMarkPrice},
		bnForceOrder:   {typ: schema.EventLiquidation, table: binanceForceOrder},
		bnAck:          {typ: schema.EventControl, table: binanceAck, ctl: schema.ControlSubscribeAck},
		bnVenueError:   {typ: schema.EventControl, table: binanceVenueError, ctl: schema.ControlVenueError},
		bnOrderAck:     {typ: schema.EventOrderAck, table: binanceOrderAck, after: afterExec},
	}
}

// binanceEventNames maps the "e" field to a kind.
var binanceEventNames = map[string]binanceKind{
	"trade":           bnTrade,
	"aggTrade":        bnAggTrade,
	"bookTicker":      bnBookTicker,
	"depthUpdate":     bnDepth,
	"kline":           bnKline,
	"24hrTicker":      bnTicker,
	"24hrMiniTicker":  bnMiniTicker,
	"executionReport": bnExec,
	"markPriceUpdate": bnMarkPrice,
	"forceOrder":      bnForceOrder,
}

// binanceStreamKinds maps a stream name's channel (after the '@') to the kind
// of payloads without an "e" field.
var binanceStreamKinds = map[string]binanceKind{
	"bookTicker": bnBookTicker,
	"depth":      bnPartialDepth, // REST snapshot, see HandleSnapshot
	"depth5":     bnPartialDepth,
	"depth10":    bnPartialDepth,
	"depth20":    bnPartialDepth,
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

// bookTickerShape are the keys of a spot bookTicker, which has no "e".
var bookTickerShape = charBit('u') | charBit('b') | charBit('a') | charBit('B') | charBit('A')

// classify finds the kind of a payload: its "e" field, else its shape, else
// its stream's channel.
func (p *Binance) classify(stream, payload []byte) (binanceKind, error) {
	var it iter
	var hasID, hasError, hasLastUpdate bool
	var result []byte
	var seen uint64
	for it.object(payload); it.next(); {
		seen |= letterBit(it.key)
		switch string(it.key) {
		case "lastUpdateId":
			hasLastUpdate = true
		case "e":
			name, err := unquote(it.val, &p.dec.scratch)
			if err != nil {
				return bnUnknown, &ParseError{Venue: schema.VenueBinance, Stream: "message", Field: "e", Err: ErrBadValue}
			}
			return binanceEventNames[string(name)], nil
		case "result":
			result = it.val
		case "id":
			hasID = true
		case "error":
			hasError = true
		}
	}
	if err := it.finish(); err != nil {
		return bnUnknown, &ParseError{Venue: schema.VenueBinance, Stream: "message", Err: err}
	}
	switch {
	case hasError:
		return bnVenueError, nil
	case result != nil && hasID:
		if result[0] == '{' && member(result, "orderId") != nil {
			return bnOrderAck, nil // a WS-API order.place or order.cancel response
		}
		return bnAck, nil
	}
	if _, ch := splitStream(stream); ch != nil {
		return binanceStreamKinds[string(ch)], nil
	}
	// A raw stream: the shape decides (spot bookTicker has no "e").
	switch {
	case seen&bookTickerShape == bookTickerShape:
		return bnBookTicker, nil
	case hasLastUpdate:
		return bnPartialDepth, nil
	}
	return bnUnknown, nil
}

// message normalises one payload.
func (p *Binance) message(ctx context.Context, stream, payload []byte, ingest int64) error {
	p.stats.messages.Add(1)
	kind, err := p.classify(stream, payload)
	if err != nil {
		p.stats.errors.Add(1)
		return err
	}
	return p.emit(ctx, kind, stream, payload, ingest)
}

// emit decodes a payload of a known kind into an event and publishes it.
func (p *Binance) emit(ctx context.Context, kind binanceKind, stream, payload []byte, ingest int64) error {
	if kind == bnUnknown || kind >= numBinanceKinds {
		p.stats.unknown.Add(1)
		return nil
	}
	sym, _ := splitStream(stream)
	return p.run(ctx, &binanceSpecs[kind], payload, sym, ingest)
}
