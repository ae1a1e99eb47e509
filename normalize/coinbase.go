package normalize

import (
	"context"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// CoinbaseSymbolRules are Coinbase's product ids: "BTC-USD" is BTC-USD.
// The fallback resolves spot products only; derivatives ("BIP-20DEC30-CDE",
// "BTC-PERP-INTX") name no quote asset, so load them into the registry with
// [Instrument.Contract] set (a perpetual's contract is "PERP", a future's
// its expiry: BTC-USDC-PERP, BIP-USD-20DEC30).
var CoinbaseSymbolRules = SymbolRules{Delimiter: '-'}

// Coinbase normalises the Coinbase Advanced Trade market data feed
// (market_trades, ticker, ticker_batch, l2_data, candles, heartbeats,
// subscriptions)
// and the older Coinbase Exchange feed (match, last_match, ticker,
// snapshot, l2update, heartbeat, subscriptions) into canonical events. One
// Advanced Trade frame may carry several events, and each event several
// trades or tickers: every one becomes an event of its own.
//
// Sequences: an Advanced Trade trade's SeqProvider is its trade_id, any
// other Advanced Trade event's the frame's sequence_num (one counter per
// connection, not per product, so no book gap is derived from it); an
// Exchange message's is its per-product sequence where it has one.
// Exchange match sides name the maker; Trade.Side is the aggressor's, the
// other one.
//
// One parser serves one connection: HandleFrame and HandleBytes must not be
// called concurrently. Stats and Symbols may be called from any goroutine.
// Make it with [NewCoinbase].
type Coinbase struct{ feed }

// NewCoinbase returns a parser that takes events from events and hands
// them to sink. It panics when events or sink is nil.
func NewCoinbase(events *pool.Pool[*schema.CanonicalEvent], sink Sink, opts *Options) *Coinbase {
	p := &Coinbase{}
	p.setup(schema.VenueCoinbase, events, sink, opts, CoinbaseSymbolRules)
	p.split = p.route
	return p
}

// coinbaseChannel is what an Advanced Trade channel carries: each event of
// the frame is a message (spec), or holds an array of them under inner.
type coinbaseChannel struct {
	spec, update *msgSpec // update: for events of type "update", when it differs
	inner        string
}

var (
	coinbaseChannels   map[string]coinbaseChannel
	coinbaseTypes      map[string]*msgSpec // Exchange feed: the "type" field
	coinbaseHeartbeat  = msgSpec{typ: schema.EventControl, table: emptyTable, ctl: schema.ControlHeartbeat}
	coinbaseAck        = msgSpec{typ: schema.EventControl, table: emptyTable, ctl: schema.ControlSubscribeAck}
	coinbaseVenueError = msgSpec{typ: schema.EventControl, table: newTable("error", "", fText("message", reason)), ctl: schema.ControlVenueError}
)

func init() {
	trades := &msgSpec{typ: schema.EventTrade, table: coinbaseTrade}
	tickers := &msgSpec{typ: schema.EventTicker, table: coinbaseTicker}
	coinbaseChannels = map[string]coinbaseChannel{
		"market_trades": {spec: trades, inner: "trades"},
		"ticker":        {spec: tickers, inner: "tickers"},
		"ticker_batch":  {spec: tickers, inner: "tickers"},
		"l2_data": {
			spec:   &msgSpec{typ: schema.EventBookSnapshot, table: coinbaseL2},
			update: &msgSpec{typ: schema.EventBookUpdate, table: coinbaseL2},
		},
		"candles":       {spec: &msgSpec{typ: schema.EventKlineLive, table: coinbaseCandle, after: afterCoinbaseCandle}, inner: "candles"},
		"heartbeats":    {spec: &coinbaseHeartbeat},
		"subscriptions": {spec: &coinbaseAck},
	}
	match := &msgSpec{typ: schema.EventTrade, table: coinbaseMatch}
	coinbaseTypes = map[string]*msgSpec{
		"match":         match,
		"last_match":    match,
		"ticker":        {typ: schema.EventTicker, table: coinbaseExchangeTicker},
		"snapshot":      {typ: schema.EventBookSnapshot, table: coinbaseSnapshot},
		"l2update":      {typ: schema.EventBookUpdate, table: coinbaseL2Update},
		"heartbeat":     &coinbaseHeartbeat,
		"subscriptions": &coinbaseAck,
		"error":         &coinbaseVenueError,
	}
}

// coinbaseEnvelope are the envelope keys route reads, in the order of its variables.
var coinbaseEnvelope = []string{"channel", "type", "events", "sequence_num", "timestamp"}

// route splits a frame: Advanced Trade frames name a channel and carry
// events; Exchange frames are one message named by "type".
func (p *Coinbase) route(ctx context.Context, data []byte, ingest int64) error {
	var v [5][]byte
	if err := members(data, coinbaseEnvelope, v[:]); err != nil {
		return p.bad("envelope", "", err)
	}
	channel, typ, events, seqNum, ts := v[0], v[1], v[2], v[3], v[4]
	if channel == nil { // the Exchange feed
		sp, ok := coinbaseTypes[string(str(typ))]
		if !ok {
			return p.unknown()
		}
		return p.one(ctx, sp, data, nil, ingest)
	}
	ch, ok := coinbaseChannels[string(str(channel))]
	if !ok {
		if string(str(typ)) == "error" {
			return p.one(ctx, &coinbaseVenueError, data, nil, ingest)
		}
		return p.unknown()
	}
	p.env.seq = envInt(seqNum)
	p.env.ts, _ = parseRFC3339(str(ts))
	if ch.spec.typ == schema.EventControl {
		return p.one(ctx, ch.spec, data, nil, ingest)
	}
	var first error
	var ev iter
	ev.array(events)
	ev.loose = true
	for ev.next() {
		var err error
		if ch.inner == "" {
			sp := ch.spec
			if ch.update != nil && string(str(member(ev.val, "type"))) == "update" {
				sp = ch.update
			}
			err = p.one(ctx, sp, ev.val, nil, ingest)
		} else {
			err = p.each(ctx, ch.spec, member(ev.val, ch.inner), nil, ingest)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	if err := ev.finish(); err != nil && first == nil {
		first = p.bad("envelope", "events", err)
	}
	return first
}

// afterCoinbaseCandle: Advanced Trade candles are five minutes long and
// say nothing of being closed, so they are live klines.
func afterCoinbaseCandle(_ *decoder, e *schema.CanonicalEvent) {
	e.Kline.Interval = "5m"
	e.Kline.CloseTime = e.Kline.OpenTime + intervalNanos["5m"]
}

// CoinbaseSubscribe returns an Advanced Trade subscribe request for one
// channel ("market_trades", "ticker", "level2", "heartbeats", …) and
// products ("BTC-USD"). Order books are subscribed as "level2" and
// delivered as "l2_data". Coinbase sends no request id: the ack is a
// "subscriptions" message (ControlSubscribeAck).
func CoinbaseSubscribe(channel string, productIDs ...string) ([]byte, error) {
	if !validName(channel) {
		return nil, wrapBad("channel name " + channel)
	}
	b := append([]byte(`{"type":"subscribe","channel":"`), channel...)
	b = append(b, `","product_ids":`...)
	return appendNames(b, productIDs, '}')
}

// CoinbaseExchangeSubscribe is the Exchange feed's subscribe request, for
// channels ("matches", "ticker", "level2_batch", "heartbeat") and products.
func CoinbaseExchangeSubscribe(channels []string, productIDs ...string) ([]byte, error) {
	b := []byte(`{"type":"subscribe","product_ids":`)
	b, err := appendNames(b, productIDs, ',')
	if err != nil {
		return nil, err
	}
	b = append(b, `"channels":`...)
	return appendNames(b, channels, '}')
}
