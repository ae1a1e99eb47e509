package normalize

import (
	"bytes"
	"context"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// OKXSymbolRules are OKX's instrument ids: "BTC-USDT" is BTC-USDT, the
// perpetual swap "BTC-USDT-SWAP" is BTC-USDT-PERP (Binance's form) and the
// future "BTC-USD-250328" is BTC-USD-250328. Options need the registry.
var OKXSymbolRules = SymbolRules{
	Delimiter:   '-',
	ContractSep: '-',
	Contracts:   map[string]string{"SWAP": "PERP"},
}

// OKX normalises OKX v5 public channels (trades, trades-all, tickers,
// bbo-tbt, books, books5, books-l2-tbt, books50-l2-tbt, funding-rate,
// mark-price) and event messages (subscribe, unsubscribe, login acks,
// errors, notices) into canonical events, one per element of "data". Book
// seqId and prevSeqId become Book.LastSeq and Book.PrevSeq (and seqId the
// SeqProvider): a diff whose prevSeqId is not the symbol's last seqId is
// preceded by a gap event; a snapshot restarts the sequence. The signed
// CRC32 "checksum" is kept in Book.Checksum as its 32 bits.
//
// One parser serves one connection: HandleFrame and HandleBytes must not be
// called concurrently. Stats and Symbols may be called from any goroutine.
// Make it with [NewOKX].
type OKX struct{ feed }

// NewOKX returns a parser that takes events from events and hands them to
// sink. It panics when events or sink is nil.
func NewOKX(events *pool.Pool[*schema.CanonicalEvent], sink Sink, opts *Options) *OKX {
	p := &OKX{}
	p.setup(schema.VenueOKX, events, sink, opts, OKXSymbolRules)
	p.split = p.route
	return p
}

var (
	okxChannels  map[string]*msgSpec
	okxBookSnap  = msgSpec{typ: schema.EventBookSnapshot, table: okxBook, after: afterOKXBook, book: true}
	okxBookDiff  = msgSpec{typ: schema.EventBookUpdate, table: okxBook, after: afterOKXBook, book: true}
	okxHeartbeat = msgSpec{typ: schema.EventControl, table: emptyTable, ctl: schema.ControlHeartbeat}
	okxEvents    = map[string]*msgSpec{
		"subscribe":                {typ: schema.EventControl, table: okxEvent, ctl: schema.ControlSubscribeAck},
		"unsubscribe":              {typ: schema.EventControl, table: okxEvent, ctl: schema.ControlSubscribeAck},
		"login":                    {typ: schema.EventControl, table: okxEvent, ctl: schema.ControlSubscribeAck},
		"error":                    {typ: schema.EventControl, table: okxEvent, ctl: schema.ControlVenueError},
		"channel-conn-count-error": {typ: schema.EventControl, table: okxEvent, ctl: schema.ControlVenueError},
		"notice":                   {typ: schema.EventControl, table: okxEvent, ctl: schema.ControlStatus},
		"channel-conn-count":       {typ: schema.EventControl, table: okxEvent, ctl: schema.ControlStatus},
	}
)

func init() {
	trades := &msgSpec{typ: schema.EventTrade, table: okxTrade}
	okxChannels = map[string]*msgSpec{
		"trades":         trades,
		"trades-all":     trades,
		"tickers":        {typ: schema.EventTicker, table: okxTicker},
		"bbo-tbt":        {typ: schema.EventBBO, table: okxBook, after: afterBBO},
		"books":          &okxBookDiff,
		"books-l2-tbt":   &okxBookDiff,
		"books50-l2-tbt": &okxBookDiff,
		"books5":         {typ: schema.EventBookSnapshot, table: okxBook, after: afterOKXBook}, // its own sequence: not the diffs'
		"funding-rate":   {typ: schema.EventFundingRate, table: okxFunding},
		"mark-price":     {typ: schema.EventMarkPrice, table: okxMark},
	}
}

var pong, emptyObject = []byte("pong"), []byte("{}")

// okxEnvelope are the envelope keys route reads, in the order of its variables.
var okxEnvelope = []string{"arg", "action", "data", "event"}

// route splits a frame: "pong" (not JSON), an event message, or a channel
// push {"arg":{"channel","instId"},"action","data":[…]}.
func (p *OKX) route(ctx context.Context, data []byte, ingest int64) error {
	if bytes.Equal(bytes.TrimSpace(data), pong) {
		return p.one(ctx, &okxHeartbeat, emptyObject, nil, ingest)
	}
	var v [4][]byte
	if err := members(data, okxEnvelope, v[:]); err != nil {
		return p.bad("envelope", "", err)
	}
	arg, action, body, event := v[0], v[1], v[2], v[3]
	if event != nil {
		if sp, ok := okxEvents[string(str(event))]; ok {
			return p.one(ctx, sp, data, nil, ingest)
		}
		return p.unknown()
	}
	channel, inst := member(arg, "channel"), member(arg, "instId")
	sp, ok := okxChannels[string(str(channel))]
	if !ok {
		return p.unknown()
	}
	if sp == &okxBookDiff && string(str(action)) == "snapshot" {
		sp = &okxBookSnap
	}
	if body == nil {
		return p.bad(sp.table.name, "data", ErrMissingField)
	}
	return p.each(ctx, sp, body, str(inst), ingest)
}

// afterOKXBook makes seqId the event's sequence.
func afterOKXBook(_ *decoder, e *schema.CanonicalEvent) { e.SeqProvider = e.Book.LastSeq }

// afterBBO turns a one-level book (OKX bbo-tbt) into a best bid/offer.
func afterBBO(d *decoder, e *schema.CanonicalEvent) {
	b := &e.Book
	if len(b.Bids) == 0 || len(b.Asks) == 0 {
		d.fail("bids", ErrMissingField)
		return
	}
	e.BBO = schema.BBO{BidPrice: b.Bids[0].Price, BidQty: b.Bids[0].Qty, AskPrice: b.Asks[0].Price, AskQty: b.Asks[0].Qty}
	e.SeqProvider = b.LastSeq
	*b = schema.Book{Bids: b.Bids[:0], Asks: b.Asks[:0]}
}

// OKXSubscribe returns a v5 subscribe request for channel ("trades",
// "books", "bbo-tbt", "tickers", "funding-rate", …) on instIDs
// ("BTC-USDT", "BTC-USDT-SWAP"). The ack is an EventControl
// ControlSubscribeAck per argument.
func OKXSubscribe(channel string, instIDs ...string) ([]byte, error) {
	if !validName(channel) || len(instIDs) == 0 {
		return nil, wrapBad("channel name " + channel + " or no instruments")
	}
	b := []byte(`{"op":"subscribe","args":[`)
	for i, id := range instIDs {
		if !validName(id) {
			return nil, wrapBad("instrument id " + id)
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(append(append(append(b, `{"channel":"`...), channel...), `","instId":"`...), id...), `"}`...)
	}
	return append(b, "]}"...), nil
}
