package normalize

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"slices"
	"sync/atomic"
	"time"

	"github.com/goccy/go-json/jsontext"
	json "github.com/goccy/go-json/v2"

	"github.com/meltica/meltica/internal/safejson"
	"github.com/meltica/meltica/normalize/internal/continuity"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Options configure a [Parser]. A nil *Options means the defaults.
type Options struct {
	// Symbols resolves venue symbols. Defaults to a new registry with the
	// venue's rules and nothing loaded (the fallback alone).
	Symbols *Symbols
	// KeepRaw copies each message's payload into the event's Raw, reusing
	// its capacity. Defaults to false.
	KeepRaw bool
	// Logger receives the parser's faults at Warn (a message dropped with a
	// *ParseError, a recovered decoder panic, a sequence gap), with the keys
	// venue, symbol (when known), stream, err and count: each kind at its
	// 1st, 2nd, 4th, 8th… occurrence, so that a stream of bad messages
	// costs a few lines, never one a message. Nothing is logged for a
	// message that normalises. Defaults to nil: silent.
	Logger *slog.Logger
	// TimeUnit is the unit of the venue's integer times (Binance "E", "T",
	// kline "t"/"T", …): time.Millisecond, the default, or
	// time.Microsecond for a Binance connection opened with
	// timeUnit=MICROSECOND (Binance "Websocket Market Streams" and
	// "WebSocket API": every time field is then in microseconds). Other
	// values mean the default. Events carry Unix nanoseconds either way.
	TimeUnit time.Duration
	// RawStreams (Binance parsers only) names the streams a raw connection
	// carries — its "/ws/<streamName>" and those SUBSCRIBEd on it — as
	// Binance spells them ("btcusdt@depth5@100ms"). USDⓈ-M and COIN-M
	// futures send a partial book depth view ("<symbol>@depth<levels>",
	// levels 5, 10 or 20) in a diff's shape, "e":"depthUpdate" with "pu"
	// (Binance USDⓈ-M Futures "Partial Book Depth Streams"), and a raw
	// connection's frames name no stream: only this list tells the view
	// from a diff. A futures depthUpdate on a raw connection is read as a
	// top-N snapshot (EventBookSnapshot, Book.Depth N) when its symbol's
	// partial depth stream is listed, as a diff otherwise; listed with its
	// diff stream too, the two cannot be told apart and every such
	// message is refused (*ParseError, ErrBadValue). A combined stream's
	// frames ("/stream?streams=…") name their stream and need none of
	// this. Defaults to nil: every raw depthUpdate is a diff.
	RawStreams []string
}

// ErrDecoderPanic: the JSON decoder panicked on a message. The panic was
// recovered at the parser boundary; the message is dropped and counted
// (Stats.Panics and Stats.Errors) and the parser is unharmed.
var ErrDecoderPanic = errors.New("normalize: decoder panic")

// Parser normalises one venue connection's frames into canonical events.
// Every venue is served by this one type, built from the venue's
// specification — its envelope, message kinds and their structs, symbol
// rules, sequence rule and control messages — by [NewBinance],
// [NewCoinbase], [NewKraken], [NewOKX] or [NewBybit].
//
// One parser serves one connection: HandleFrame, HandleBytes, HandleRaw
// and HandleSnapshot must not be called concurrently (the parser reuses its
// decode structs and keeps each symbol's book sequence). Stats and Symbols
// may be called from any goroutine. The zero value is not usable.
type Parser struct {
	emitter
	spec    *venueSpec
	syms    *Symbols
	slots   []slot // a reused decode struct per message kind
	fill    filler
	books   map[bookView]*bookState // book streams by interned symbol and depth
	conns   [2]connSeq              // the connections' own sequences (Coinbase): a rotation's two
	connNew int                     // index in conns of the connection that sent last
	tickers map[string]schema.Ticker
	refused refusedReports     // execution reports refused and not announced yet (execloss.go)
	raw     schema.ProviderRaw // the current message, split from its envelope
	env     envelope           // what the envelope says for all its messages
	more    []byte             // a second object of the same message (Kraken v1 books), or nil
	gapLogs atomic.Uint64      // sequence gaps seen by logGap (its 1st, 2nd, 4th… are logged)
	elems   []span             // elements of the envelope's data array
	inner   []span             // elements of an element's own array (Coinbase events)
	acct    acctBatch          // the account message being split into entries (account.go)
	list    spans              // decodes a top-level array into elems
	state   any                // the venue's envelope structs
	bare    bool               // benchmarks: decode into the structs only, no event
	snapSym []byte             // HandleSnapshot's symbol, reused
	// predecoded: the message's struct was filled while classifying it
	// (a Binance payload without "e" is decoded once, into the bookTicker
	// struct that also classifies it).
	predecoded bool
	// unsure: the payload was cut from its wrapper by the leading
	// members alone (Binance fast split), so a syntax error in it may be
	// a member after the payload, legal JSON: resplit it whole.
	unsure  bool
	bareEv  schema.CanonicalEvent
	tsScale int64 // nanoseconds per unit of an integer time (Options.TimeUnit)
	// reasons interns the venue's free texts (error messages): a venue
	// repeats the same few, so after the first of each a control event
	// costs no allocation. Bounded by maxReasons; past that a new text is
	// a string of its own.
	reasons   map[string]string
	reasonBuf []byte // joins two texts before they are interned
	// trades: where each trade stream stands, for repeats (trades.go);
	// tradeFrame: the marks as they were before the current frame.
	trades     map[tradeKey]tradeMark
	quotes     map[quoteKey]quoteMark // quotes.go
	tradeFrame []frameMark
	// fills: the fills of our orders delivered lately, for repeats
	// (private.go).
	fills recentFills
}

// maxReasons bounds a parser's table of interned free texts.
const maxReasons = 256

// reason returns the texts as one string ("a: b" when both are sent),
// interned in the parser's bounded table.
func (p *Parser) reason(texts ...*reason) string {
	b := p.reasonBuf[:0]
	for _, t := range texts {
		if t.empty() {
			continue
		}
		if len(b) > 0 {
			b = append(b, ": "...)
		}
		b = append(b, t.bytes()...)
	}
	p.reasonBuf = b
	return p.intern(b)
}

// intern returns b as a string from the parser's bounded table of free
// texts.
func (p *Parser) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := p.reasons[string(b)]; ok {
		return s
	}
	s := string(b)
	if p.reasons == nil {
		p.reasons = make(map[string]string)
	}
	if len(p.reasons) < maxReasons {
		p.reasons[s] = s
	}
	return s
}

// envelope holds what a venue's envelope says for every message it carries:
// used when the message itself does not say.
type envelope struct {
	seq uint64 // SeqProvider
	ts  int64  // ExchangeTS
	// snapshot: the trades it carries are the venue's recent trades sent
	// on a subscription (trades.go), not new ones.
	snapshot bool
	// depth: the levels per side of the book view the stream names
	// (Bybit orderbook.50, OKX books5, Binance depth5), 0 for none.
	depth int
	// tsBad: the envelope's time member that was sent but is no instant
	// int64 ns can hold (Bybit "ts" past 2262, Coinbase "timestamp" not
	// RFC 3339 in 1970–2261): each message of the frame is refused with
	// it (errTime), never delivered with ExchangeTS 0 or another
	// member's time.
	tsBad string
	// utc8: a Binance kline stream named with "@+08:00" (its candles open
	// and close in UTC+8): the interval is named "<i>+08:00".
	utc8 bool
}

// envMillis sets the envelope's time from a member in Unix ms sent as
// t: the first valid one of those tried wins; one sent out of range
// (negative, or past int64 ns) marks the frame (tsBad). 0 is no time.
func (e *envelope) envMillis(name string, t integer) {
	switch {
	case !t.ok || t.v == 0:
	case t.v < 0 || t.v > maxMillis:
		if e.tsBad == "" {
			e.tsBad = name
		}
	case e.ts == 0:
		e.ts = t.v * 1_000_000
	}
}

// envTime sets the envelope's time from an RFC 3339 member sent as t; one
// that does not parse marks the frame (tsBad).
func (e *envelope) envTime(name string, t *text) {
	if !t.ok {
		return
	}
	ns, ok := parseRFC3339(t.bytes())
	if !ok {
		e.tsBad = name
		return
	}
	e.ts = ns
}

// viewDepth returns the depth a stream names ("50" of Bybit's
// orderbook.50), 0 when it names none.
func viewDepth(b []byte) int {
	if n, ok := parseInt(b); ok && n > 0 && n <= 1<<20 {
		return int(n)
	}
	return 0
}

// bookView is one book stream of a symbol: a venue that offers views at
// several depths (Bybit orderbook.1 and orderbook.50) numbers each on its
// own.
type bookView struct {
	symbol string
	depth  int
}

// venueSpec is a venue as data: built once, never changed.
type venueSpec struct {
	venue schema.Venue
	rules func() SymbolRules
	// continuity is the venue's rule for book diffs (and, for Coinbase,
	// for the connection's sequence_num): normalize/internal/continuity,
	// shared with normalize/book.
	continuity continuity.Rule
	// tradeIDs: the venue's trade ids increase per symbol, so a trade at
	// or below the last one delivered is a repeat (trades.go).
	tradeIDs bool
	// alignKey is the venue's AlignKey (align.go); nil: whole frames.
	alignKey func(frame []byte) []byte
	kinds    []kind
	newState func() any
	// split reads a frame's envelope, fills p.raw, and runs each message.
	split func(p *Parser, ctx context.Context, data []byte, conn uint64, ingest int64) error
}

// kind is one message type of a venue: what it becomes, and the struct it
// is decoded into.
type kind struct {
	name  string           // the venue's name, for errors
	typ   schema.EventType // the event type (fill may refine it)
	book  bool             // a book diff: check its sequence; a snapshot: restart it
	ctl   schema.ControlKind
	merge mergeMode // tickers sent as a snapshot then changed fields
	// latest: a quote (best bid/offer, ticker, mark price, book top)
	// whose SeqProvider is the venue's number of the symbol's stream (not
	// the connection's) or 0, and whose ExchangeTS is the time of the fact
	// or 0: one not newer than the last delivered is dropped (quotes.go).
	latest bool
	slot   func() slot
}

// mergeMode says how a ticker message relates to the symbol's last one.
type mergeMode uint8

const (
	mergeNone     mergeMode = iota
	mergeSnapshot           // a complete ticker: remember it
	mergeDelta              // only the fields that changed: start from the last one
)

// message is a venue struct decoded by goccy: fill moves what it holds
// into the event.
type message interface{ fill(f *filler) }

// binder is a message that decodes book levels straight into the event.
type binder interface {
	bind(ev *schema.CanonicalEvent)
}

// slot holds a kind's reused decode struct.
type slot interface {
	decode(p *Parser, in []byte, ev *schema.CanonicalEvent) error
	msg() message
	// framed returns a fresh struct of the message inside a combined
	// stream's envelope, for benchmarks' bare decode, and the message in it.
	framed() (frame any, m message)
}

// framedMsg is a message inside a Binance combined-stream envelope.
type framedMsg[M any] struct {
	Stream text `json:"stream"`
	Data   M    `json:"data"`
}

type slotOf[M any, P interface {
	*M
	message
}] struct{ m M }

func newSlot[M any, P interface {
	*M
	message
}]() slot {
	return &slotOf[M, P]{}
}

func (s *slotOf[M, P]) decode(p *Parser, in []byte, ev *schema.CanonicalEvent) error {
	var zero M
	s.m = zero
	m := P(&s.m)
	if b, ok := any(m).(binder); ok {
		b.bind(ev)
	}
	return p.unmarshal(in, m)
}

func (s *slotOf[M, P]) msg() message { return P(&s.m) }

func (s *slotOf[M, P]) framed() (any, message) {
	f := new(framedMsg[M])
	return f, P(&f.Data)
}

func newParser(spec *venueSpec, events *pool.Pool[*schema.CanonicalEvent], sink Sink, opts *Options) *Parser {
	if events == nil || sink == nil {
		panic("normalize: a " + string(spec.venue) + " parser needs an event pool and a sink")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Symbols == nil {
		o.Symbols = NewSymbols(spec.rules())
	}
	p := &Parser{spec: spec, syms: o.Symbols}
	p.venue, p.events, p.sink, p.keepRaw, p.log = spec.venue, events, sink, o.KeepRaw, o.Logger
	p.streams = maxStreams
	p.tsScale = int64(time.Millisecond)
	if o.TimeUnit == time.Microsecond {
		p.tsScale = int64(time.Microsecond)
	}
	p.slots = make([]slot, len(spec.kinds))
	for i := range spec.kinds {
		p.slots[i] = spec.kinds[i].slot()
	}
	if spec.newState != nil {
		p.state = spec.newState()
	}
	if st, ok := p.state.(*bnState); ok {
		st.rawViews = binanceRawViews(o.RawStreams)
	}
	return p
}

// Stats returns the parser's counters.
func (p *Parser) Stats() Stats { return p.stats.snapshot() }

// Symbols returns the parser's symbol registry.
func (p *Parser) Symbols() *Symbols { return p.syms }

// Venue returns the venue the parser serves.
func (p *Parser) Venue() schema.Venue { return p.venue }

// HandleFrame normalises one frame: it has the signature of the websocket
// client's frame handler. The frame is only borrowed: nothing refers to
// f.Data once it returns. A *ParseError concerns one message only (it is
// dropped and counted); other errors come from the sink or from ctx.
func (p *Parser) HandleFrame(ctx context.Context, f *schema.WsFrame) error {
	return p.handle(ctx, f.Data, f.ConnID, f.ReceivedAt)
}

// HandleBytes is HandleFrame for a message held elsewhere; receivedAt
// (Unix ns) becomes the events' IngestTS.
func (p *Parser) HandleBytes(ctx context.Context, data []byte, receivedAt int64) error {
	return p.handle(ctx, data, 0, receivedAt)
}

func (p *Parser) handle(ctx context.Context, data []byte, conn uint64, ingest int64) error {
	p.env, p.more = envelope{}, nil
	p.beginFrame()
	r := &p.raw
	r.Provider, r.ConnID, r.ReceivedAt = p.venue, conn, ingest
	err := p.spec.split(p, ctx, data, conn, ingest)
	if gerr := p.endFrame(ctx, ingest); err == nil {
		err = gerr
	}
	p.env, p.more = envelope{}, nil
	r.Reset() // drop the references into data
	return err
}

// unmarshal decodes in into v with goccy's v2 API (and opts, if any). It
// is the parser's boundary with the decoder: a panic inside it is
// recovered, counted and returned as ErrDecoderPanic (see decode), and
// nothing else is affected.
func (p *Parser) unmarshal(in []byte, v any, opts ...json.Options) error {
	err := decode(in, v, opts...)
	if err != nil && errors.Is(err, ErrDecoderPanic) {
		p.stats.panics.Add(1)
	}
	return err
}

// decode decodes in into v with goccy's v2 API (and opts, if any) through
// safejson: a panic inside the decoder is an error wrapping
// ErrDecoderPanic (and the *safejson.PanicError), never raised; any other
// error is goccy's, unwrapped.
func decode(in []byte, v any, opts ...json.Options) error {
	err := safejson.Unmarshal(in, v, opts...)
	if err != nil && errors.Is(err, safejson.ErrPanic) {
		return fmt.Errorf("%w: %w", ErrDecoderPanic, err)
	}
	return err
}

// bad counts a frame or message that could not be split and returns its
// error.
func (p *Parser) bad(stream, field string, err error) error {
	p.stats.messages.Add(1)
	p.stats.errors.Add(1)
	pe := &ParseError{Venue: p.venue, Stream: stream, Field: field, Err: err}
	p.warn(pe, "")
	return pe
}

// badDecode is bad for an error goccy returned.
func (p *Parser) badDecode(stream string, err error) error {
	field, cause := decodeError(err)
	return p.bad(stream, field, cause)
}

// unknown counts a message of a type the parser does not know.
func (p *Parser) unknown() error {
	p.stats.messages.Add(1)
	p.stats.unknown.Add(1)
	return nil
}

// ignoredKind is the kind a venue's channel table gives a message the
// parser knows and skips on purpose (see ignored); the table's comment
// names each such channel and why.
const ignoredKind = -2

// ignored counts a message of a known type that the parser skips on
// purpose: it carries nothing the schema holds, or repeats what another
// message already delivered.
func (p *Parser) ignored() error {
	p.stats.messages.Add(1)
	p.stats.ignored.Add(1)
	return nil
}

// warn logs a dropped message at the 1st, 2nd, 4th, 8th… error, with the
// count so far (as wsclient does): a stream of bad messages costs a few
// lines, never one a message.
func (p *Parser) warn(err error, symbol string) {
	if p.log == nil {
		return
	}
	count := p.stats.errors.Load()
	if bits.OnesCount64(count) != 1 {
		return
	}
	var pe *ParseError
	stream := ""
	if errors.As(err, &pe) {
		stream = pe.Stream
	}
	p.log.LogAttrs(context.Background(), slog.LevelWarn, "normalize: message dropped",
		slog.String("venue", string(p.venue)), slog.String("symbol", symbol), slog.String("stream", stream), slog.Any("err", err), slog.Uint64("count", count))
}

// each runs kind k on every element of the array (or lone object) at
// data, whose elements the caller recorded in list; the first error is
// returned, the other elements are still decoded.
func (p *Parser) each(ctx context.Context, k int, input []byte, list []span, sym []byte, ingest int64) error {
	var first error
	for _, s := range list {
		if err := p.run(ctx, k, s.of(input), sym, ingest); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// run decodes one message of kind k into a pooled event and publishes it.
// streamSym is the venue symbol named by the envelope, used when the
// payload names none.
func (p *Parser) run(ctx context.Context, k int, payload, streamSym []byte, ingest int64) error {
	p.stats.messages.Add(1)
	if p.refused.pending > 0 {
		p.flushRefused(ctx, ingest)
	}
	if p.bare {
		ev := &p.bareEv
		ev.Book.Bids, ev.Book.Asks = ev.Book.Bids[:0], ev.Book.Asks[:0]
		if err := p.slots[k].decode(p, payload, ev); err != nil {
			if p.resplitRun(err) {
				return errResplit
			}
			return err
		}
		return nil
	}
	kd := &p.spec.kinds[k]
	ev, pooled, err := p.acquire(ctx, kd.typ, ingest)
	if err != nil {
		return err
	}
	f := &p.fill
	f.begin(p, kd, ev)
	if kd.ctl != schema.ControlNone {
		ev.UseControl().Kind = kd.ctl // a control event carries its section, whatever its message fills
	}
	if kd.merge == mergeDelta {
		p.startDelta(ev, streamSym)
	}
	s := p.slots[k]
	for i, part := range [2][]byte{payload, p.more} {
		if f.err != nil || part == nil {
			continue
		}
		if i == 0 && p.predecoded {
			s.msg().fill(f) // decoded while its kind was found
			continue
		}
		if err := s.decode(p, part, ev); err != nil {
			if i == 0 && p.resplitRun(err) {
				p.release(ev, pooled)
				return errResplit
			}
			field, cause := decodeError(err)
			f.fail(field, cause)
			break
		}
		s.msg().fill(f)
	}
	if p.env.tsBad != "" {
		f.fail(p.env.tsBad, errTime)
	}
	ev.ExchangeTS = either(either(f.main, f.fallback), p.env.ts)
	ev.SeqProvider = either(ev.SeqProvider, p.env.seq)
	isBook := kd.typ == schema.EventBookSnapshot || kd.typ == schema.EventBookUpdate
	if isBook && ev.Book.Depth == 0 { // a message that names its view (Kraken v2, from its ack) keeps it
		ev.Book.Depth = p.env.depth
	}
	if ev.Symbol == "" && f.err == nil && !kd.typ.Critical() {
		if streamSym == nil {
			f.fail(f.symKey, ErrMissingField)
		} else if ev.Symbol, err = p.syms.Lookup(streamSym); err != nil {
			f.fail(f.symKey, err)
		}
	}
	if kd.latest && f.err == nil && p.staleQuote(k, ev, payload) {
		p.release(ev, pooled) // before a delta is merged: it was, when first delivered
		return nil
	}
	if kd.merge != mergeNone && f.err == nil && ev.Ticker != nil {
		if p.tickers == nil {
			p.tickers = make(map[string]schema.Ticker)
		}
		if _, ok := p.tickers[ev.Symbol]; ok || p.room(len(p.tickers)) {
			p.tickers[ev.Symbol] = *ev.Ticker
		}
	}
	if isBook && f.err == nil && !p.followsBook(ev.Symbol, ev.Book.Depth) {
		f.fail(f.symKey, ErrTooManyStreams)
	}
	if f.err != nil {
		sym, from := ev.Symbol, schema.CanonicalEvent{Symbol: ev.Symbol, IngestTS: ev.IngestTS, ExchangeTS: ev.ExchangeTS}
		from.Book.Depth = ev.Book.Depth
		p.release(ev, pooled)
		p.stats.errors.Add(1)
		p.warn(f.err, sym)
		if isBook && p.spec.continuity.Blind() {
			return p.bookLost(ctx, &from, p.namedSymbol(streamSym, s.msg(), payload), f.err)
		}
		if kd.typ == schema.EventExecReport {
			return p.reportLost(ctx, &from, f.err)
		}
		return f.err
	}
	if f.memo != nil {
		f.memo.commit() // accepted: the memory it changes now changes
	}
	if f.repeat {
		p.release(ev, pooled)
		p.stats.repeats.Add(1)
		return nil
	}
	if f.ignore {
		p.release(ev, pooled)
		p.stats.ignored.Add(1)
		return nil
	}
	if ev.Type == schema.EventExecReport && ev.Exec != nil {
		endRemaining(ev.Exec)
	}
	if (ev.Type == schema.EventTrade && p.repeatTrade(k, ev)) || (ev.Type == schema.EventExecReport && p.repeatFill(ev, f.amend)) {
		p.release(ev, pooled)
		return nil
	}
	if p.keepRaw {
		raw := payload
		if p.more != nil { // a message sent as two objects: keep the whole frame
			raw = p.raw.Payload
		}
		ev.Raw = append(ev.Raw[:0], raw...)
	}
	if kd.book {
		keep, err := p.checkBook(ctx, ev)
		if !keep || err != nil {
			p.release(ev, pooled)
			return err
		}
	}
	if !pooled {
		if kd.book { // its subscribers' book lost it: a snapshot repairs it
			p.bookStream(ev.Symbol, ev.Book.Depth).broken = true
		}
		return p.dropped(ctx, ev)
	}
	if !kd.book {
		return p.publish(ctx, ev)
	}
	sym, depth := ev.Symbol, ev.Book.Depth // ev is the sink's once published
	err = p.publish(ctx, ev)
	if err != nil {
		// The sink refused it (book.Books: a diff its book could not
		// apply, the book invalidated): as lost, a snapshot repairs it.
		p.bookStream(sym, depth).broken = true
	}
	return err
}

// resplitRun reports whether err, a run's decode error, asks for the
// frame to be split again (resplitOr); the run's count is then taken
// back, the message being counted again when resplit.
func (p *Parser) resplitRun(err error) bool {
	if p.resplitOr(err) != errResplit {
		return false
	}
	p.stats.messages.Add(^uint64(0))
	return true
}

// bookLost publishes the gap marker of a book message dropped for cause
// (a *ParseError, which it returns unless the marker could not be
// published); from has the view and the times, and the symbol when the
// message was filled that far. Else named is the venue symbol the message
// named: one the registry cannot resolve is no book's symbol (no marker);
// nil, none could be read, marks every book of the venue. A view from does
// not name is the one the venue's state knows for the symbol (bookViews:
// Kraken v2 messages name none, their ack does), so that the subscriber
// of that view hears of the loss.
func (p *Parser) bookLost(ctx context.Context, from *schema.CanonicalEvent, named []byte, cause error) error {
	if from.Symbol == "" && len(named) > 0 {
		s, err := p.syms.Lookup(named)
		if err != nil {
			return cause
		}
		from.Symbol = s
	}
	if v, ok := p.state.(bookViews); ok && from.Book.Depth == 0 && from.Symbol != "" {
		from.Book.Depth = v.bookView(from.Symbol)
	}
	if err := p.gap(ctx, from, schema.EventBookUpdate, 0, 0, 0, "book message dropped: "+cause.Error()); err != nil {
		return err
	}
	return cause
}

// bookViews is the state of a venue whose book messages name no view:
// bookView returns the one it knows for a canonical symbol, 0 if none.
type bookViews interface{ bookView(sym string) int }

// booksLost marks the books of a frame dropped for cause before its book
// messages were read: a gap marker for each venue symbol they name (syms,
// empty where a message's symbol was not read), for the view the venue's
// state knows for the symbol (bookLost), or — when one names none, or none
// was read — a marker for every book of the venue. Marking every book for one
// symbol's bad message would resync books that lost nothing. A symbol the
// registry cannot resolve is no book's (no marker, as bookLost).
func (p *Parser) booksLost(ctx context.Context, syms [][]byte, ingest int64, cause error) error {
	if len(syms) == 0 || slices.ContainsFunc(syms, func(b []byte) bool { return len(b) == 0 }) {
		return p.bookLost(ctx, &schema.CanonicalEvent{IngestTS: ingest}, nil, cause)
	}
	for _, named := range syms {
		sym, err := p.syms.Lookup(named)
		if err != nil {
			continue
		}
		from := schema.CanonicalEvent{Symbol: sym, IngestTS: ingest, ExchangeTS: p.env.ts}
		if err := p.bookLost(ctx, &from, nil, cause); err != cause {
			return err
		}
	}
	return cause
}

// namedSymbol is the venue symbol a book message names: its envelope's,
// else the one it decoded before its fault, else the one its payload
// names after the fault (a bad level before the symbol key); nil when
// none.
func (p *Parser) namedSymbol(streamSym []byte, m message, payload []byte) []byte {
	if streamSym != nil {
		return streamSym
	}
	if n, ok := m.(interface{ bookSymbol() *text }); ok && n.bookSymbol().ok {
		return n.bookSymbol().bytes()
	}
	return p.readSymbol(payload)
}

// symbolMsg reads the symbol key of a book message and skips the rest, so
// that a bad value elsewhere does not hide it: the keys of the venues
// whose lost book messages are marked where they are dropped (Kraken v2
// "symbol", Coinbase "product_id").
type symbolMsg struct {
	Symbol    text `json:"symbol"`
	ProductID text `json:"product_id"`
}

// named returns the symbol the message names, nil when none was read.
func (m *symbolMsg) named() []byte {
	switch {
	case m.Symbol.ok:
		return m.Symbol.bytes()
	case m.ProductID.ok:
		return m.ProductID.bytes()
	}
	return nil
}

// readSymbol returns the symbol the book message msg names, nil when it
// names none or does not decode that far.
func (p *Parser) readSymbol(msg []byte) []byte {
	var m symbolMsg
	_ = p.unmarshal(msg, &m) // what was read before a fault is kept
	return m.named()
}

// listedSymbols returns the symbol each message of a frame's list names
// ("data": Kraken v2; "events": Coinbase Advanced Trade), read as far as
// the frame decodes: nil where a message's was not read — and a nil last
// when the list does not decode to its end, as more messages, of symbols
// unknown, may have followed the fault (booksLost then marks every book).
func (p *Parser) listedSymbols(frame []byte) (out [][]byte) {
	defer func() { // the decoder's boundary, as unmarshal's
		if r := recover(); r != nil {
			p.stats.panics.Add(1)
			out = nil
		}
	}()
	cut := func(from int64) [][]byte { // the list broke at from
		if rest := bytes.TrimLeft(frame[min(int(from), len(frame)):], " \t\r\n,"); len(rest) > 0 && rest[0] == '{' {
			if named := p.readSymbol(rest); named != nil {
				out = append(out, named)
			}
		}
		return append(out, nil)
	}
	d := jsontext.NewDecoder(bytes.NewReader(frame))
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil
	}
	for {
		name, err := d.ReadToken()
		if err != nil || name.Kind() != '"' {
			return out // the object ended, or broke outside the list
		}
		if n := name.String(); n != "data" && n != "events" {
			if d.SkipValue() != nil {
				return out
			}
			continue
		}
		if tok, err := d.ReadToken(); err != nil || tok.Kind() != '[' {
			return cut(d.InputOffset())
		}
		for d.PeekKind() != ']' {
			from := d.InputOffset()
			v, err := d.ReadValue()
			if err != nil {
				return cut(from)
			}
			end := int(d.InputOffset())
			out = append(out, p.readSymbol(frame[end-len(v):end]))
		}
		if _, err := d.ReadToken(); err != nil {
			return cut(d.InputOffset())
		}
	}
}

// startDelta fills ev's ticker with the last one of its symbol, which the
// delta's fields then overwrite; a delta before any snapshot is an error.
func (p *Parser) startDelta(ev *schema.CanonicalEvent, streamSym []byte) {
	sym, err := p.syms.Lookup(streamSym)
	if err != nil {
		p.fill.fail("symbol", err)
		return
	}
	last, ok := p.tickers[sym]
	if !ok {
		p.fill.fail("type", ErrNoSnapshot)
		return
	}
	ev.Symbol = sym
	*ev.UseTicker() = last
}

// followsBook reports whether the parser follows, or has room to follow,
// the continuity of sym's book stream at depth.
func (p *Parser) followsBook(sym string, depth int) bool {
	_, ok := p.books[bookView{sym, depth}]
	return ok || p.room(len(p.books))
}

// bookStream returns the continuity state of sym's book stream at depth,
// made when new: its callers run after followsBook said there is room.
func (p *Parser) bookStream(sym string, depth int) *bookState {
	key := bookView{sym, depth}
	st, ok := p.books[key]
	if !ok {
		if p.books == nil {
			p.books = make(map[bookView]*bookState)
		}
		st = &bookState{Stream: continuity.Stream{Rule: p.spec.continuity}}
		p.books[key] = st
	}
	return st
}

// bookState is a book stream's continuity and the exchange time of its
// last message delivered.
type bookState struct {
	continuity.Stream
	ts int64
	// broken: a gap since the stream's last snapshot, or a book message
	// dropped for the pool or refused by the sink; a snapshot, older or
	// not, is then what repairs the book.
	broken bool
}

// olderSnapshot reports whether a snapshot with ids id, at exchange time
// ts, is older than the stream's position — an unaligned rotation's or a
// reconnection's overlap, which would restart the book at an older state
// than one served (contract 4): a lower id at a time strictly before the
// last message delivered. Only where the venue numbers a symbol's book
// alike on every connection and a numbering started again comes later
// (OKX seqId, lower after a maintenance: OKX v5 "Order book channel";
// Bybit u, 1 after a restart, "please overwrite your local orderbook":
// Bybit v5 "Orderbook"). Bybit's u = 1 is older only by its cross
// sequence (continuity.Stream.Older: seq below the newest the stream
// took, "the data is generated earlier", same page) — a restart the
// stream already took, delivered late — broken stream or not: older data
// repairs nothing. An equal id is the same state (Bybit level 1 pushed
// again after 3 s unchanged) and an equal time may be another update:
// both delivered. A stream that lost messages since its last snapshot
// takes any other snapshot: it repairs the book.
func (st *bookState) olderSnapshot(id continuity.IDs, ts int64) bool {
	last := id.Last
	switch {
	case st.Rule == continuity.Bybit && last == 1:
		return st.Older(id) // broken or not: older data repairs nothing
	case st.Rule != continuity.OKX && st.Rule != continuity.Bybit:
		return false
	}
	return !st.broken && st.Known() && last != 0 && last < st.Last() && ts != 0 && ts < st.ts
}

// checkBook applies the venue's continuity rule to a book message: a
// snapshot restarts its symbol's stream; a diff that follows lost ones is
// preceded by a gap marker; a repeat of ids the stream already covered is
// dropped and counted (keep false), never a gap; a diff that restarts the
// venue's numbering becomes the snapshot it is.
func (p *Parser) checkBook(ctx context.Context, ev *schema.CanonicalEvent) (keep bool, err error) {
	st := p.bookStream(ev.Symbol, ev.Book.Depth)
	b := &ev.Book
	id := continuity.IDs{First: b.FirstSeq, Last: b.LastSeq, Prev: b.PrevSeq}
	if st.Rule == continuity.Bybit {
		id.Cross = p.fill.cross // seq, the cross sequence (bybit.go)
		if b.LastSeq == 1 && st.Older(id) && ev.ExchangeTS > st.ts && st.ts != 0 {
			// A lower seq at a time after the last message delivered is
			// no copy of data the stream took (a copy is never newer):
			// were seq ever numbered again, a restart dropped for it
			// would leave every later delta "covered" and the book
			// stalled. Judged by u alone: a restart.
			id.Cross = 0
		}
	}
	if ev.Type == schema.EventBookSnapshot {
		if st.olderSnapshot(id, ev.ExchangeTS) {
			p.stats.repeats.Add(1)
			return false, nil
		}
		st.ts, st.broken = ev.ExchangeTS, false
		if p.spec.continuity == continuity.Binance {
			// Binance's only book snapshot is the REST one
			// (HandleSnapshot), fetched while the diffs run: those
			// published past it are the host's to apply on top of it.
			st.Join(b.LastSeq)
		} else {
			st.SnapshotOf(id)
		}
		return true, nil
	}
	r := st.Step(id)
	if r.Verdict != continuity.Repeat {
		st.ts = ev.ExchangeTS
	}
	switch r.Verdict {
	case continuity.Repeat:
		p.stats.repeats.Add(1)
		return false, nil
	case continuity.Gap:
		st.broken = true
		var count uint64
		if r.MissingLast >= r.MissingFirst && r.MissingFirst != 0 && b.PrevSeq == 0 && p.spec.continuity != continuity.OKX {
			count = r.MissingLast - r.MissingFirst + 1 // consecutive ids: a count
		}
		p.logGap(ctx, ev.Symbol, r)
		return true, p.gap(ctx, ev, schema.EventBookUpdate, r.MissingFirst, r.MissingLast, count, "book diff sequence gap")
	case continuity.Restart:
		// The venue restarted its numbering and the message is snapshot
		// data (Bybit u = 1: "please overwrite your local orderbook"):
		// published as a diff, it would be merged into the stale book.
		ev.Type = schema.EventBookSnapshot
		st.broken = false
	}
	return true, nil
}

// checkConn applies the connection-wide sequence rule (Coinbase
// sequence_num) to a frame: a jump publishes one gap marker with no symbol
// (every book the connection fed is no longer trusted); a repeat is
// dropped. 0 is a connection's first message: it starts the count again,
// so that message 1 lost after it is a gap, and a new connection handed
// over under the same id (HandleBytes' 0) is no repeat of the last one.
// Such a 0, after the count had passed it, is itself a gap marker: the
// parser never saw the old connection end, and what it sent after the
// last number seen may be lost.
// It reports whether the frame's messages are to be decoded.
func (p *Parser) checkConn(ctx context.Context, conn, seq uint64, ingest int64) (bool, error) {
	if p.spec.continuity != continuity.Coinbase {
		return true, nil
	}
	s := p.connSeq(conn)
	if seq == 0 {
		last := s.Last()
		s.Reset()
		s.Step(continuity.IDs{})
		if last == 0 {
			return true, nil
		}
		r := continuity.Result{Verdict: continuity.Gap, MissingFirst: last + 1}
		p.logGap(ctx, "", r)
		from := schema.CanonicalEvent{IngestTS: ingest, ExchangeTS: p.env.ts}
		return true, p.gap(ctx, &from, schema.EventUnknown, r.MissingFirst, 0, 0, "connection sequence restarted")
	}
	r := s.Step(continuity.IDs{Last: seq})
	switch r.Verdict {
	case continuity.Repeat:
		p.stats.messages.Add(1)
		p.stats.repeats.Add(1)
		return false, nil
	case continuity.Gap:
		p.logGap(ctx, "", r)
		var count uint64
		if r.MissingFirst != 0 && r.MissingLast >= r.MissingFirst {
			count = r.MissingLast - r.MissingFirst + 1
		}
		from := schema.CanonicalEvent{IngestTS: ingest, ExchangeTS: p.env.ts, SeqProvider: seq}
		return true, p.gap(ctx, &from, schema.EventUnknown, r.MissingFirst, r.MissingLast, count, "connection sequence gap")
	}
	return true, nil
}

// connSeq is one connection's sequence and the connection it follows.
type connSeq struct {
	id uint64
	s  continuity.Stream
}

// connSeq returns the sequence of connection conn. Two are kept: while a
// make-before-break rotation has both connections open, their frames
// interleave, and each keeps its own count (following one at a time
// restarted it on every switch, so a gap on either went unseen). A third
// connection takes the place of the one that sent least recently. The
// rule is also unset before the first frame of connection 0
// (HandleBytes): without it every sequence_num was accepted.
func (p *Parser) connSeq(conn uint64) *continuity.Stream {
	for i := range p.conns {
		if c := &p.conns[i]; c.id == conn && c.s.Rule == continuity.Coinbase {
			p.connNew = i
			return &c.s
		}
	}
	p.connNew ^= 1
	p.conns[p.connNew] = connSeq{id: conn, s: continuity.Stream{Rule: continuity.Coinbase}}
	return &p.conns[p.connNew].s
}

func (p *Parser) logGap(ctx context.Context, symbol string, r continuity.Result) {
	if p.log == nil {
		return
	}
	// The 1st, 2nd, 4th… gap, with the count: never one record a message.
	if count := p.gapLogs.Add(1); bits.OnesCount64(count) == 1 {
		p.log.LogAttrs(ctx, slog.LevelWarn, "normalize: sequence gap", slog.String("venue", string(p.venue)),
			slog.String("symbol", symbol), slog.Uint64("first", r.MissingFirst), slog.Uint64("last", r.MissingLast), slog.Uint64("count", count))
	}
}
