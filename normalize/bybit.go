package normalize

import (
	"bytes"
	"context"
	"strconv"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// BybitSymbolRules are Bybit v5's symbols: no delimiter, quote assets
// matched longest first, like Binance. Linear perpetuals ("BTCUSDT") share
// the spot spelling (the connection — spot, linear, inverse — tells them
// apart); dated futures "BTCUSDT-27DEC24" are BTC-USDT-27DEC24. USDC
// perpetuals ("BTCPERP") and inverse futures ("BTC-27DEC24") name no quote
// asset: load them with [Instrument.Contract] ("PERP", "27DEC24").
var BybitSymbolRules = SymbolRules{
	Quotes: []string{
		"USDT", "USDC", "USDE", "USD", "DAI", "BTC", "ETH", "EUR", "BRL", "PLN", "TRY", "MNT",
	},
	ContractSep: '-',
}

// Bybit normalises Bybit v5 public topics (publicTrade, orderbook
// snapshot and delta, tickers snapshot and delta, kline, allLiquidation,
// liquidation) and op responses (pong, subscribe acks and errors) into
// canonical events. A tickers delta carries only the fields that changed:
// the parser keeps each symbol's last ticker and merges the delta into it,
// so every EventTicker is complete (a delta before any snapshot of its
// symbol is a *ParseError wrapping [ErrNoSnapshot]). Book levels with a
// quantity of "0" delete the level and are passed through as such; the
// book's update id u is Book.LastSeq and the SeqProvider (Bybit does not
// promise consecutive ids, so no gap is derived from it). Tickers carry
// the cross sequence "cs". allLiquidation and liquidation name the side of
// the liquidated position; Liquidation.Side is the liquidation order's,
// the other one. price24hPcnt, a ratio, becomes Ticker.ChangePct in
// percent.
//
// One parser serves one connection: HandleFrame and HandleBytes must not be
// called concurrently. Stats and Symbols may be called from any goroutine.
// Make it with [NewBybit].
type Bybit struct{ feed }

// NewBybit returns a parser that takes events from events and hands them
// to sink. It panics when events or sink is nil.
func NewBybit(events *pool.Pool[*schema.CanonicalEvent], sink Sink, opts *Options) *Bybit {
	p := &Bybit{}
	p.setup(schema.VenueBybit, events, sink, opts, BybitSymbolRules)
	p.split = p.route
	return p
}

// bybitTopic is what a topic carries: snapshot and delta specs (the same
// when the topic has no delta).
type bybitTopic struct{ snapshot, delta *msgSpec }

var (
	bybitTopics    map[string]bybitTopic
	bybitHeartbeat = msgSpec{typ: schema.EventControl, table: bybitOp, ctl: schema.ControlHeartbeat}
	bybitAck       = msgSpec{typ: schema.EventControl, table: bybitOp, ctl: schema.ControlSubscribeAck}
	bybitError     = msgSpec{typ: schema.EventControl, table: bybitOp, ctl: schema.ControlVenueError}
)

func init() {
	one := func(sp *msgSpec) bybitTopic { return bybitTopic{sp, sp} }
	bybitTopics = map[string]bybitTopic{
		"publicTrade": one(&msgSpec{typ: schema.EventTrade, table: bybitTrade}),
		"orderbook": {
			&msgSpec{typ: schema.EventBookSnapshot, table: bybitBook, after: afterBybitBook},
			&msgSpec{typ: schema.EventBookUpdate, table: bybitBook, after: afterBybitBook},
		},
		"tickers": {
			&msgSpec{typ: schema.EventTicker, table: bybitTicker, merge: mergeSnapshot},
			&msgSpec{typ: schema.EventTicker, table: bybitTicker, merge: mergeDelta},
		},
		"kline":          one(&msgSpec{typ: schema.EventKlineLive, table: bybitKline, after: afterKline}),
		"allLiquidation": one(&msgSpec{typ: schema.EventLiquidation, table: bybitAllLiquidation}),
		"liquidation":    one(&msgSpec{typ: schema.EventLiquidation, table: bybitLiquidation}),
	}
}

// bybitEnvelope are the envelope keys route reads, in the order of its variables.
var bybitEnvelope = []string{"topic", "type", "ts", "cts", "cs", "data", "op", "success"}

// route splits a frame: an op response, or a topic push {"topic":
// "name(.param).SYMBOL", "type", "ts", "cs", "data"}.
func (p *Bybit) route(ctx context.Context, data []byte, ingest int64) error {
	var v [8][]byte
	if err := members(data, bybitEnvelope, v[:]); err != nil {
		return p.bad("envelope", "", err)
	}
	topic, typ, ts, cts, cs, body, op, success := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
	if op != nil {
		switch o := string(str(op)); {
		case string(success) == "false":
			return p.one(ctx, &bybitError, data, nil, ingest)
		case o == "pong" || o == "ping":
			return p.one(ctx, &bybitHeartbeat, data, nil, ingest)
		case o == "subscribe" || o == "unsubscribe" || o == "auth":
			return p.one(ctx, &bybitAck, data, nil, ingest)
		}
		return p.unknown()
	}
	name := str(topic)
	kind, sym := name, []byte(nil)
	if i := bytes.IndexByte(name, '.'); i >= 0 {
		kind, sym = name[:i], name[bytes.LastIndexByte(name, '.')+1:]
	}
	t, ok := bybitTopics[string(kind)]
	if !ok {
		return p.unknown()
	}
	sp := t.snapshot
	if string(str(typ)) == "delta" {
		sp = t.delta
	}
	if body == nil {
		return p.bad(sp.table.name, "data", ErrMissingField)
	}
	p.env.seq = envInt(cs)
	p.env.ts = either(envMillis(cts), envMillis(ts))
	return p.each(ctx, sp, body, sym, ingest)
}

// afterBybitBook makes the update id the event's sequence.
func afterBybitBook(_ *decoder, e *schema.CanonicalEvent) { e.SeqProvider = e.Book.LastSeq }

// BybitSubscribe returns a v5 subscribe request for topics
// ("publicTrade.BTCUSDT", "orderbook.50.BTCUSDT", "tickers.BTCUSDT", …)
// with request id reqID, which the ack carries back in Control.RequestID.
func BybitSubscribe(reqID uint64, topics ...string) ([]byte, error) {
	b := append([]byte(`{"op":"subscribe","req_id":"`), strconv.FormatUint(reqID, 10)...)
	b = append(b, `","args":`...)
	return appendNames(b, topics, '}')
}
