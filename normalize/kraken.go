package normalize

import (
	"bytes"
	"context"
	"strconv"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// KrakenSymbolRules are Kraken's spot pairs: "BTC/USD" (v2) and "XBT/USD"
// (v1) are both BTC-USD. Kraken Futures ("PF_XBTUSD") is another API and
// not served by this parser; its perpetuals would be BTC-USD-PERP.
var KrakenSymbolRules = SymbolRules{
	Delimiter: '/',
	Aliases:   map[string]string{"XBT": "BTC", "XDG": "DOGE"},
}

// Kraken normalises the Kraken spot WebSocket API v2 (trade, ticker, book,
// ohlc, executions, status, heartbeat and method responses) and the v1
// book channel into canonical events. v2 sends prices and quantities as
// JSON numbers: their text becomes the Decimal, digit for digit, so a book
// checksum computed from the levels matches the venue's. A frame with
// several trades or candles gives an event each. Book checksums go to
// Book.Checksum (HasChecksum set); Kraken books carry no sequence. An
// executions frame's "sequence" is the ExecReport's SeqProvider.
//
// Connection ids (status "connection_id", v1 "connectionID") exceed int64
// and are not read. v1 trade and ticker messages are normalised too (their
// tuples by position; v1 trade times are seconds with six decimals); v1
// spread and ohlc are counted as unknown: v2 carries them.
//
// One parser serves one connection: HandleFrame and HandleBytes must not be
// called concurrently. Stats and Symbols may be called from any goroutine.
// Make it with [NewKraken].
type Kraken struct{ feed }

// NewKraken returns a parser that takes events from events and hands them
// to sink. It panics when events or sink is nil.
func NewKraken(events *pool.Pool[*schema.CanonicalEvent], sink Sink, opts *Options) *Kraken {
	p := &Kraken{}
	p.setup(schema.VenueKraken, events, sink, opts, KrakenSymbolRules)
	p.split = p.route
	return p
}

var (
	krakenChannels  map[string]*msgSpec // v2 channel; "book" and "ticker" by type below
	krakenBookSnap  = msgSpec{typ: schema.EventBookSnapshot, table: krakenBook}
	krakenBookDiff  = msgSpec{typ: schema.EventBookUpdate, table: krakenBook}
	krakenV1Snap    = msgSpec{typ: schema.EventBookSnapshot, table: krakenV1Book}
	krakenV1Diff    = msgSpec{typ: schema.EventBookUpdate, table: krakenV1Book}
	krakenV1Trades  = msgSpec{typ: schema.EventTrade, table: krakenV1Trade}
	krakenV1Tickers = msgSpec{typ: schema.EventTicker, table: krakenV1Ticker}
	krakenHeartbeat = msgSpec{typ: schema.EventControl, table: emptyTable, ctl: schema.ControlHeartbeat}
	krakenAck       = msgSpec{typ: schema.EventControl, table: krakenMethod, ctl: schema.ControlSubscribeAck}
	krakenError     = msgSpec{typ: schema.EventControl, table: krakenMethod, ctl: schema.ControlVenueError}
	krakenStatus    = msgSpec{typ: schema.EventControl, table: krakenStatusTable, ctl: schema.ControlStatus}
	// krakenV1Events are v1's {"event": …} messages.
	krakenV1Events = map[string]*msgSpec{
		"heartbeat":    &krakenHeartbeat,
		"pong":         &krakenHeartbeat,
		"systemStatus": &krakenStatus,
		"error":        &krakenError,
	}
)

func init() {
	krakenChannels = map[string]*msgSpec{
		"trade":      {typ: schema.EventTrade, table: krakenTrade},
		"ticker":     {typ: schema.EventTicker, table: krakenTicker},
		"ohlc":       {typ: schema.EventKlineLive, table: krakenOHLC, after: afterKrakenOHLC},
		"executions": {typ: schema.EventExecReport, table: krakenExec, after: afterExec},
		"heartbeat":  &krakenHeartbeat,
		"status":     &krakenStatus,
	}
}

// krakenEnvelope are the envelope keys route reads, in the order of its variables.
var krakenEnvelope = []string{"channel", "type", "data", "method", "success", "event", "status", "sequence", "timestamp"}

// route splits a frame: a v1 channel message is an array; everything else
// is an object, a v2 channel message ("channel", "data"), a v2 method
// response ("method") or a v1 event ("event").
func (p *Kraken) route(ctx context.Context, data []byte, ingest int64) error {
	if i := skipSpace(data, 0); i < len(data) && data[i] == '[' {
		return p.v1(ctx, data, ingest)
	}
	var v [9][]byte
	if err := members(data, krakenEnvelope, v[:]); err != nil {
		return p.bad("envelope", "", err)
	}
	channel, typ, body, method, success, event, status, sequence, ts := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]
	switch {
	case method != nil:
		switch m := string(str(method)); {
		case m == "pong":
			return p.one(ctx, &krakenHeartbeat, data, nil, ingest)
		case string(success) == "false":
			return p.one(ctx, &krakenError, data, nil, ingest)
		case m == "subscribe" || m == "unsubscribe":
			return p.one(ctx, &krakenAck, data, nil, ingest)
		}
		return p.unknown() // order method responses: not normalised yet
	case event != nil:
		e := string(str(event))
		if e == "subscriptionStatus" {
			if string(str(status)) == "error" {
				return p.one(ctx, &krakenError, data, nil, ingest)
			}
			return p.one(ctx, &krakenAck, data, nil, ingest)
		}
		if sp, ok := krakenV1Events[e]; ok {
			return p.one(ctx, sp, data, nil, ingest)
		}
		return p.unknown()
	}
	ch := str(channel)
	sp, ok := krakenChannels[string(ch)]
	if string(ch) == "book" {
		sp, ok = &krakenBookDiff, true
		if string(str(typ)) == "snapshot" {
			sp = &krakenBookSnap
		}
	}
	if !ok {
		return p.unknown()
	}
	if body == nil && sp.typ == schema.EventControl { // a heartbeat: no data
		return p.one(ctx, sp, data, nil, ingest)
	}
	if body == nil {
		return p.bad(string(ch), "data", ErrMissingField)
	}
	p.env.seq = envInt(sequence)
	p.env.ts, _ = parseRFC3339(str(ts))
	return p.each(ctx, sp, body, nil, ingest)
}

// v1 splits a v1 channel message: [channelID, payload…, channelName, pair].
// A book update may come as two payload objects (asks, then bids and the
// checksum): they are one message.
func (p *Kraken) v1(ctx context.Context, data []byte, ingest int64) error {
	var it iter
	var objs [2][]byte
	var arr, name, pair []byte
	n := 0
	it.array(data)
	it.loose = true
	for it.next() {
		switch v := it.val; {
		case v[0] == '{' && n < len(objs):
			objs[n] = v
			n++
		case v[0] == '[':
			arr = v
		case v[0] == '"':
			name, pair = pair, str(v)
		}
	}
	if err := it.finish(); err != nil {
		return p.bad("envelope", "", err)
	}
	switch {
	case string(name) == "trade" && arr != nil:
		return p.each(ctx, &krakenV1Trades, arr, pair, ingest)
	case string(name) == "ticker" && n > 0:
		return p.one(ctx, &krakenV1Tickers, objs[0], pair, ingest)
	case !bytes.HasPrefix(name, []byte("book")):
		return p.unknown()
	}
	if n == 0 {
		return p.bad("book", "", ErrMissingField)
	}
	sp := &krakenV1Diff
	if member(objs[0], "as") != nil || member(objs[0], "bs") != nil {
		sp = &krakenV1Snap
	}
	p.more = objs[1]
	return p.one(ctx, sp, objs[0], pair, ingest)
}

// afterKrakenOHLC derives the candle's close from its start and interval.
func afterKrakenOHLC(_ *decoder, e *schema.CanonicalEvent) {
	if d, ok := intervalNanos[e.Kline.Interval]; ok && e.Kline.OpenTime != 0 {
		e.Kline.CloseTime = e.Kline.OpenTime + d
	}
}

// KrakenSubscribe returns a v2 subscribe request for channel ("trade",
// "ticker", "book", "ohlc", …) and pairs ("BTC/USD"), with request id
// reqID, which the ack carries back in Control.RequestID.
func KrakenSubscribe(reqID uint64, channel string, pairs ...string) ([]byte, error) {
	if !validName(channel) {
		return nil, wrapBad("channel name " + channel)
	}
	b := append([]byte(`{"method":"subscribe","params":{"channel":"`), channel...)
	b = append(b, `","symbol":`...)
	b, err := appendNames(b, pairs, '}')
	if err != nil {
		return nil, err
	}
	b = append(b, `,"req_id":`...)
	return append(strconv.AppendUint(b, reqID, 10), '}'), nil
}
