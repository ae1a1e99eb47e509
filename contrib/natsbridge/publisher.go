package natsbridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/meltica/meltica/contrib/natsbridge/internal/wire"
	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// Defaults of PublisherOptions.
const (
	DefaultExecBound      = 1024
	DefaultPublishTimeout = 2 * time.Second
)

// PublisherOptions tune a Publisher. A nil *PublisherOptions gives the
// defaults; NewPublisher copies the struct.
type PublisherOptions struct {
	// Prefix is the subjects' first token. Defaults to DefaultPrefix.
	Prefix string
	// Filter selects the events bridged. Defaults to all.
	Filter dispatch.Filter
	// Lanes bounds the publisher's subscription in the local dispatcher
	// (its Handler is the publisher's). While NATS is slow, coalescable
	// events coalesce there and ordered ones beyond OrderedBound are dropped
	// with a gap marker, which is bridged too. Defaults to the dispatcher's
	// defaults.
	Lanes dispatch.SubscribeOptions
	// Stream describes the JetStream stream of execution reports.
	Stream StreamOptions
	// ExecBound is the soft bound of the queue of execution reports waiting
	// for the stream's acknowledgement. Reports are never dropped: beyond
	// the bound the queue grows, each report is counted in
	// PublisherStats.ExecOverflowed and OnExecBacklog is called once on the
	// way over. Defaults to DefaultExecBound.
	ExecBound int
	// OnExecBacklog raises the alarm when the queue of execution reports
	// goes over ExecBound (NATS or the stream is unavailable). It runs on
	// a goroutine of its own while the dispatcher's delivery goroutine
	// waits for it, so it must not block; a panic in it is recovered and
	// logged at Error, and a runtime.Goexit ends its goroutine only.
	// Defaults to nil.
	OnExecBacklog func(pending int)
	// MaxStreams bounds the streams (venue, symbol, type and view: a book's
	// depth, a kline's interval) the Publisher
	// keeps a subject and a bridge sequence for: venues list and delist
	// symbols without end (options and dated futures expire by the
	// thousand). Past it the stream bridged least recently is forgotten
	// (PublisherStats.Evicted); if it comes back it counts from 1 again,
	// which a Consumer takes for a new run of the stream, as after a
	// Publisher's restart (see Losses and gap markers). A stream that keeps
	// publishing is never the one forgotten. Defaults to DefaultMaxStreams.
	MaxStreams int
	// PublishTimeout bounds one attempt to store an execution report;
	// failed attempts are retried with capped exponential backoff (50 ms to
	// 2 s) until they succeed or Close gives up. Defaults to
	// DefaultPublishTimeout.
	PublishTimeout time.Duration
	// OnState sees the NATS connection's state changes, from a goroutine
	// of the publisher's (the first, inside NewPublisher). A panic in it is
	// recovered and logged at Error. Defaults to nil.
	OnState func(StateEvent)
	// WireVersion is the layout the Publisher writes: 9, the current one;
	// 8, which is 9 without a ticker's Window and WeightedAvgPrice, for
	// Consumers older than 9 (they refuse 9); 7, which names the run of
	// each stream's sequence but numbers the views of a stream together
	// (9 and 8 number each view apart — a book's depth, a kline's
	// interval, a ticker's window — and say so in their version byte, so
	// that a Consumer checks each message as it is numbered), for
	// Consumers older than 8 (they refuse 8); or 6, which names no run
	// either, for Consumers older than 7. Upgrade every Consumer, then set
	// 9. A Consumer reads all four, each message as its layout numbers it,
	// so a mixed pair announces no loss that did not happen (a loss under
	// 7 or 6 names no view: their numbers do not tell which view lost it).
	// Under 8, 7 and 6 a ticker of a rolling window (Ticker.Window not "":
	// Binance 1hTicker, 4hTicker, 1dTicker) and a gap marker about one are
	// not published, counted in Stats().Unwritable: those layouts cannot
	// carry the window, and an older Consumer would take a 1 h ticker for
	// the symbol's 24 h one, each replacing the other — wrong statistics
	// served as right; such a Consumer's host has no window to ask for
	// either. A ticker's WeightedAvgPrice is left out (reads as zero, "not
	// sent").
	// Defaults to 0: 9.
	WireVersion int
	// Logger receives the publisher's state changes at Info (the NATS
	// connection's states) and its faults and losses at Warn (messages
	// NATS refused, failed attempts to store an execution report, the
	// queue of reports over ExecBound, reports left at Close) — the first
	// of a kind and then each time its total doubles, never once per
	// message — with the keys "subject", "count", "total" and "error".
	// Its handler runs on a goroutine of its own for each record, the
	// bridge's waiting: a panic or runtime.Goexit in it drops the record
	// and harms nothing else. It must not block: the goroutine that logs
	// waits for it (the Consumer's loop, the durable consumer's delivery,
	// the Publisher's storing of reports, the dispatcher's delivery to the
	// Publisher), and is held up until it returns, as with slog's own
	// handlers; what comes meanwhile waits within the bridge's bounds
	// (ConsumerOptions.PendingMsgs, nats.go's pending limits,
	// PublisherOptions.Lanes, ExecBound's alarm), past which market data
	// is dropped and announced as a slow consumer's is (execution reports
	// wait, never dropped). A handler that may stall (a remote sink)
	// belongs behind a buffer of the host's. Defaults to nil: silent.
	Logger *slog.Logger
}

// PublisherStats are a Publisher's counters.
type PublisherStats struct {
	Published      uint64 // market data and control messages handed to NATS
	Dropped        uint64 // of those, refused by NATS (reconnect buffer full, connection closed); consumers see gap markers for ordered streams
	ExecQueued     uint64 // execution reports, order acks and account updates queued for the stream
	ExecStored     uint64 // of those, acknowledged by the stream
	ExecDuplicates uint64 // of those stored, recognised by the stream as already stored (same message id)
	ExecRetries    uint64 // failed attempts to store one, retried
	ExecOverflowed uint64 // reports queued beyond ExecBound (none lost)
	ExecPending    int    // reports waiting now
	Trimmed        uint64 // events over the server's max_payload sent without their Raw (and, if still over, their reason texts)
	Evicted        uint64 // streams forgotten to keep within MaxStreams (each counts from 1 again if it comes back)
	StreamCreated  uint64 // times the stream of execution reports was found missing by a store and created again
	Unwritable     uint64 // tickers of a rolling window (and gap markers about them) not published: WireVersion 8, 7 or 6 cannot carry the window
	// QuoteKindsForgotten counts quote types of venues forgotten past the
	// 1,280 a lost link is told of (the least recently sent): a kind
	// forgotten and not sent since is not told (see Losses and gap markers).
	QuoteKindsForgotten uint64
	Lane                dispatch.Stats
}

// Publisher bridges a local dispatcher to NATS: it is a subscriber of the
// dispatcher whose handler publishes each event on its subject (see
// Subject). Market data and control events go on core NATS without waiting;
// execution reports and order acks go to a queue that a goroutine of the
// publisher stores in the JetStream stream, in order, each with a message id
// for the stream's deduplication, retrying until the stream acknowledges it.
//
// Nothing in it waits for NATS on the dispatcher's behalf: Publish of the
// ingest path only queues a clone (see package dispatch), and the handler
// never blocks for longer than a socket write bounded by the connection's
// FlusherTimeout (see Connect).
//
// A Publisher is safe for concurrent use. It starts two goroutines (the
// dispatcher's delivery goroutine for its subscription, and the sender of
// execution reports) and one for state changes; Close stops them.
type Publisher struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	d    *dispatch.Dispatcher
	sub  *dispatch.Subscription
	opts PublisherOptions
	// streamMax is the operator's stream's max_msg_size (0: none).
	streamMax int
	log       *slog.Logger
	w         *watcher

	// layout is the wire version written (WireVersion).
	layout byte
	// Used by the dispatcher's delivery goroutine only.
	streams *lru[viewKey, stream]
	runs    uint32 // the run of the last stream started: streams start runs in turn from a random one
	evicted atomic.Uint64
	buf     []byte
	idBuf   []byte

	// Used by the sender of execution reports only: a report queued before
	// the server's max_payload was known is decoded and fitted again.
	sdec wire.Decoder
	sev  wire.Scratch
	sbuf []byte

	// lostQuotes are the coalescable streams whose quotes NATS refused
	// (the link down, the reconnect buffer full), told to consumers once
	// the link is back: nothing else would show them a quote is stale.
	// Taken on a refusal and at a reconnection only, never per message.
	lostMu     sync.Mutex
	lostQuotes map[viewKey]lostQuote
	// lostKinds are the quote types of a venue (streamKey without a
	// symbol) told by one marker each: past MaxStreams refused streams,
	// and every one sent when a link is lost (linkLost).
	lostKinds map[streamKey]struct{}
	// quoteKinds are the quote types of each venue the Publisher sent,
	// the maxQuoteKinds sent most recently, told when the link drops
	// (linkLost); kindsForgotten counts those forgotten past the bound.
	// lastKind, the last one noted, is the delivery goroutine's: a quote
	// of the same kind as the one before costs a comparison, not lostMu.
	quoteKinds     *lru[streamKey, struct{}]
	kindsForgotten lossCounter
	lastKind       streamKey

	mu       sync.Mutex
	queue    []execMsg
	over     bool
	wake     chan struct{}
	draining chan struct{} // closed by Close: the sender exits once the queue is empty
	stop     chan struct{} // closed by Close when its ctx ended: the sender exits now
	// life bounds a store in flight: it ends when Close's ctx does, so
	// that a server that stopped answering does not hold Close for
	// PublishTimeout.
	life    context.Context
	endLife context.CancelFunc
	done    chan struct{}

	closeOnce sync.Once
	closeErr  error

	published                       atomic.Uint64
	execQueued, execStored, execDup atomic.Uint64
	execOver                        atomic.Uint64
	streamMade                      atomic.Uint64
	dropped, execRetr, trimmed      lossCounter
	unwritable                      lossCounter
}

// execMsg is an encoded execution report waiting to be stored.
type execMsg struct {
	subject, id string
	data        []byte
}

// NewPublisher creates the stream of execution reports if it is missing,
// subscribes to d and starts bridging. nc stays the caller's: close it after
// the Publisher.
func NewPublisher(ctx context.Context, nc *nats.Conn, d *dispatch.Dispatcher, opts *PublisherOptions) (*Publisher, error) {
	var o PublisherOptions
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	o.Stream = o.Stream.withDefaults()
	if o.ExecBound <= 0 {
		o.ExecBound = DefaultExecBound
	}
	o.MaxStreams = orDefault(o.MaxStreams, DefaultMaxStreams)
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = DefaultPublishTimeout
	}
	layout := byte(wire.Version)
	switch o.WireVersion {
	case 0, wire.Version:
	case wire.Version8, wire.Version7, wire.PrevVersion:
		layout = byte(o.WireVersion)
	default:
		return nil, fmt.Errorf("natsbridge: WireVersion %d: %d, %d, %d or %d", o.WireVersion, wire.PrevVersion, wire.Version7, wire.Version8, wire.Version)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("natsbridge: %w", err)
	}
	maxMsg, err := ensureStream(ctx, js, o.Prefix, o.Stream)
	if err != nil {
		return nil, err
	}
	p := &Publisher{
		nc: nc, js: js, d: d, opts: o, log: logger(o.Logger).With("role", "publisher"), streamMax: maxMsg,
		streams:  newLRU[viewKey, stream](o.MaxStreams),
		runs:     rand.Uint32(),
		layout:   layout,
		wake:     make(chan struct{}, 1),
		draining: make(chan struct{}),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	p.life, p.endLife = context.WithCancel(context.Background())
	lanes := o.Lanes
	lanes.Handler = p.handle
	if p.sub, err = d.Subscribe(o.Filter, &lanes); err != nil {
		return nil, fmt.Errorf("natsbridge: %w", err)
	}
	go p.send()
	p.w = watch(nc, func(e StateEvent) {
		logState(p.log, e)
		switch e.State {
		case schema.ConnConnected:
			p.tellLostQuotes()
		case schema.ConnDisconnected, schema.ConnClosed:
			p.linkLost()
		}
		onState(p.log, o.OnState, e)
	})
	return p, nil
}

// handle runs on the dispatcher's delivery goroutine with a heap clone.
func (p *Publisher) handle(ev *schema.CanonicalEvent) {
	sk := streamKey{ev.Venue, ev.Symbol, ev.Type}
	if ev.TickerWindow() != "" && p.layout != wire.Version && (ev.Type == schema.EventTicker || ev.GapType() == schema.EventTicker) {
		// See WireVersion: read as the 24 h ticker's, it were wrong data.
		p.refuse(ev)
		return
	}
	if t := ev.GapType(); ev.Type == schema.EventGap && t != schema.EventUnknown && (!t.Critical() || durable(t)) {
		// A gap marker travels with the stream it reports on, so that a
		// consumer subscribed to that stream's subject alone hears of its
		// losses, in order with its events: one of market data on core
		// NATS, numbered in its stream; one about execution reports (order
		// acks, account updates) stored in the JetStream stream with
		// them, as critical as they are — on core NATS its loss could not
		// even be told.
		sk.typ = t
	}
	// Each view of a stream (a book's depth, a kline's interval, a
	// ticker's window) is numbered on its own (layouts 9 and 8), in a run
	// of its own, as dispatch queues and reports them apart: numbered together, a loss of one view could be
	// announced to neither in particular. Under layouts 7 and 6
	// (WireVersion) the views of a stream share one count, as the
	// Consumers they are written for (older than 8) check it: numbered
	// apart, two views interleaved hid a loss from a Consumer of 6 (50 at
	// 5, its 6 lost, 200 at 6, 50 at 7: no jump, and no run to tell the
	// views apart), and a Consumer of 7 took them for runs taking turns.
	key := viewKey{streamKey: sk}
	if p.layout == wire.Version || p.layout == wire.Version8 { // as wire.PerView reads them
		key = viewOf(sk, ev)
	}
	st, known := p.streams.get(key)
	if !known {
		st.subject = Subject(p.opts.Prefix, key.venue, key.symbol, key.typ)
		// A run of its own, that a Consumer tells from the one this stream
		// had before (it was forgotten, or the Publisher restarted: a
		// random start), as the stream's sequence counts from 1 again.
		if p.runs++; p.runs == 0 {
			p.runs++ // 0 is "no run"
		}
		st.run = p.runs
		p.evicted.Store(p.streams.evicted)
	}
	if key.typ.Coalescable() {
		p.noteQuoteKind(key.venue, key.typ)
	}
	if durable(key.typ) {
		id := p.msgID(ev)
		var trimmed bool
		p.buf, trimmed = p.fit(p.buf, ev, 0, 0, p.maxPayload(id))
		if trimmed {
			p.trimmed.add(p.log, 1, "natsbridge: events over the server's max_payload sent without their Raw", "subject", st.subject)
		}
		p.enqueue(execMsg{subject: st.subject, id: id, data: append([]byte(nil), p.buf...)})
		return
	}
	// Market data carries a sequence per stream, lost messages included, so
	// that a consumer can tell a loss anywhere on the way by the jump; so
	// does a gap marker that travels with its stream: its loss would leave
	// a consumer applying diffs to a book the ingest node knew broken.
	var seq uint64
	if !ev.Type.Critical() || key.typ != ev.Type {
		st.seq++
		seq = st.seq
	}
	var trimmed bool
	if p.buf, trimmed = p.fit(p.buf, ev, seq, st.run, int(p.nc.MaxPayload())); trimmed {
		p.trimmed.add(p.log, 1, "natsbridge: events over the server's max_payload sent without their Raw", "subject", st.subject)
	}
	if err := p.nc.Publish(st.subject, p.buf); err != nil {
		p.dropped.add(p.log, 1, "natsbridge: messages refused by NATS (consumers see gap markers for ordered streams)", "subject", st.subject, "error", err)
		if ev.Type.Coalescable() {
			p.lostQuote(sk, st.subject, ev)
		}
	}
	p.published.Add(1)
}

// refuse counts ev, a ticker of a rolling window (or a marker about one)
// that the layout written cannot carry. Binance sends one a second per
// symbol and window, refused for as long as a rolling upgrade lasts: the
// log's arguments (which allocate) are built only for the counts that log
// (see lossCounter), not per refusal. handle is its only caller, on one
// goroutine: the count cannot move between the check and the add.
func (p *Publisher) refuse(ev *schema.CanonicalEvent) {
	if n := p.unwritable.load() + 1; bits.Len64(n) == bits.Len64(n-1) {
		p.unwritable.n.Add(1) // not a doubling: lossCounter.add would not log
		return
	}
	p.unwritable.add(p.log, 1, "natsbridge: tickers of a rolling window not published: WireVersion's layout cannot carry the window", "venue", ev.Venue, "symbol", ev.Symbol, "window", ev.TickerWindow())
}

// lostQuote is a coalescable stream whose quote NATS refused: its subject
// (a marker about it goes where its events go).
type lostQuote struct {
	subject string
}

// lostQuote records that NATS refused a quote of stream sk.
func (p *Publisher) lostQuote(sk streamKey, subject string, ev *schema.CanonicalEvent) {
	k := viewOf(sk, ev) // each lost interval is told, not only the last one refused
	p.lostMu.Lock()
	defer p.lostMu.Unlock()
	if _, ok := p.lostQuotes[k]; !ok && len(p.lostQuotes) >= p.opts.MaxStreams {
		if p.lostKinds == nil {
			p.lostKinds = make(map[streamKey]struct{})
		}
		p.lostKinds[streamKey{venue: k.venue, typ: k.typ}] = struct{}{}
		return
	}
	if p.lostQuotes == nil {
		p.lostQuotes = make(map[viewKey]lostQuote)
	}
	p.lostQuotes[k] = lostQuote{subject: subject}
}

// maxQuoteKinds bounds the quote types of venues a Publisher tells
// after a lost link: 256 venues (maxVenues) of their five coalescable
// types. Venues are the host's own, few; of a producer that names
// thousands the Publisher keeps the kinds sent most recently — kept in the
// order first sent, 1,280 stray kinds sent once left every kind after
// them, the host's own venue's, untold of a lost link for the Publisher's
// life. A kind forgotten is counted (PublisherStats.QuoteKindsForgotten)
// and logged.
const maxQuoteKinds = 5 * maxVenues

// noteQuoteKind notes that a quote of type typ of venue v was sent (see
// linkLost). Called per quote on the dispatcher's delivery goroutine: one
// of the kind noted last costs a comparison.
func (p *Publisher) noteQuoteKind(v schema.Venue, typ schema.EventType) {
	k := streamKey{venue: v, typ: typ}
	if k == p.lastKind && p.quoteKinds != nil {
		return
	}
	p.lastKind = k
	p.lostMu.Lock()
	if p.quoteKinds == nil {
		p.quoteKinds = newLRU[streamKey, struct{}](maxQuoteKinds)
	}
	before := p.quoteKinds.evicted
	p.quoteKinds.get(k)
	forgot := p.quoteKinds.evicted != before
	p.lostMu.Unlock()
	if forgot { // logged unlocked: the handler is host code (the watcher takes lostMu)
		p.kindsForgotten.add(p.log, 1, "natsbridge: more quote types of venues than the Publisher tells after a lost link; the least recently sent forgotten, not told", "bound", maxQuoteKinds)
	}
}

// linkLost runs when the connection drops. What the link had taken and
// not delivered is lost — quotes nats.go accepted (Publish returned nil),
// not among those NATS refused (lostQuote), and a consumer whose own link
// stayed up is told of nothing: it would keep a quote stale, with no
// sign, as long as its stream stays quiet. Which quotes were in flight
// cannot be told, so every quote type of every venue sent is told once
// the link is back (tellLostQuotes: a gap marker naming the type and no
// symbol, on the subject "prefix.venue._.type", which a Consumer selecting
// by type or by symbol receives too; dispatch delivers it to the venue's
// subscribers of that type, dropping their quotes still queued). Ordered
// streams show their losses by their sequences: their subscribers are
// not told.
func (p *Publisher) linkLost() {
	p.lostMu.Lock()
	defer p.lostMu.Unlock()
	if p.quoteKinds == nil || p.quoteKinds.len() == 0 {
		return
	}
	if p.lostKinds == nil {
		p.lostKinds = make(map[streamKey]struct{})
	}
	for k := range p.quoteKinds.m {
		p.lostKinds[k] = struct{}{}
	}
}

// tellLostQuotes runs when the connection is (back) up: for every
// coalescable stream whose quotes NATS refused, it publishes a gap marker
// on the stream's subject (GapType the stream's type, GapCount 0,
// GapSource schema.GapRelay), and one naming the type and no symbol (on
// "prefix.venue._.type") for a quote type of a venue whose streams were
// too many to list or whose quotes a lost link may have taken (linkLost).
// A stream of a quote type told so is not told apart: the marker about
// its type tells it (a link lost tells every type sent, so a refused
// stream is told apart only when its type is past maxQuoteKinds), one
// announcement per type lost rather than a burst of one per stream at the
// reconnection. A consumer's subscribers of
// the stream hear that its last quote is stale until the next update
// (and dispatch drops a quote still queued from before the loss). One
// NATS refuses again waits for the next reconnection.
func (p *Publisher) tellLostQuotes() {
	p.lostMu.Lock()
	lost, kinds := p.lostQuotes, p.lostKinds
	p.lostQuotes, p.lostKinds = nil, nil
	p.lostMu.Unlock()
	const why = "natsbridge: quotes lost while the ingest node's NATS link was down: stale until the next update"
	now := time.Now().UnixNano()
	var buf []byte
	send := func(subject string, g *schema.CanonicalEvent) bool {
		buf = wire.AppendVersion(buf[:0], g, 0, 0, p.layout)
		return p.nc.Publish(subject, buf) == nil
	}
	for k, l := range lost {
		if _, told := kinds[streamKey{venue: k.venue, typ: k.typ}]; told {
			// The marker about every symbol of its venue and type tells
			// the stream too (every view: dispatch drops what it queued):
			// one per stream beside it was a burst of up to MaxStreams
			// markers at the reconnection, saying nothing more.
			continue
		}
		g := &schema.CanonicalEvent{Venue: k.venue, Symbol: k.symbol, Type: schema.EventGap, IngestTS: now}
		*g.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: k.typ, GapSource: schema.GapRelay, Reason: why}
		k.name(g) // a ticker's window in Ticker.Window, as dispatch names it
		if !send(l.subject, g) {
			p.lostMu.Lock()
			if p.lostQuotes == nil {
				p.lostQuotes = make(map[viewKey]lostQuote)
			}
			p.lostQuotes[k] = l
			p.lostMu.Unlock()
		}
	}
	for k := range kinds {
		g := &schema.CanonicalEvent{Venue: k.venue, Type: schema.EventGap, IngestTS: now}
		*g.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: k.typ, GapSource: schema.GapRelay, Reason: why}
		if !send(Subject(p.opts.Prefix, k.venue, "", k.typ), g) {
			p.lostMu.Lock()
			if p.lostKinds == nil {
				p.lostKinds = make(map[streamKey]struct{})
			}
			p.lostKinds[k] = struct{}{}
			p.lostMu.Unlock()
		}
	}
}

// maxPayload is the most bytes of an execution report with message id id
// the server and the stream take (the server's max_payload, the stream's
// max_msg_size, less the headers nats.go adds: the message id and the
// expected stream), or 0 when it is not known yet (no connection so far).
func (p *Publisher) maxPayload(id string) int {
	limit := int(p.nc.MaxPayload())
	if p.streamMax > 0 && (limit <= 0 || p.streamMax < limit) {
		limit = p.streamMax // the operator's stream's max_msg_size
	}
	if limit <= 0 {
		return 0
	}
	const framing = 64 // "NATS/1.0", the header names, line ends
	return max(1, limit-framing-len(id)-len(p.opts.Stream.Name))
}

// fit encodes ev with bridge sequence seq of run run, in the Publisher's
// layout, into buf and reports whether it
// had to leave something out to keep within limit bytes (0: no bound): the
// venue payload (Raw, kept "when kept"), then the free texts (reject
// reason, control and account reasons), never a number, an id or a
// price. ev is the publisher's heap clone and is changed. What still does
// not fit is NATS's to refuse.
func (p *Publisher) fit(buf []byte, ev *schema.CanonicalEvent, seq uint64, run uint32, limit int) ([]byte, bool) {
	buf = wire.AppendVersion(buf[:0], ev, seq, run, p.layout)
	if limit <= 0 || len(buf) <= limit {
		return buf, false
	}
	ev.Raw = ev.Raw[:0]
	if buf = wire.AppendVersion(buf[:0], ev, seq, run, p.layout); len(buf) <= limit {
		return buf, true
	}
	if ev.Exec != nil {
		ev.Exec.RejectReason = ""
	}
	if ev.Control != nil {
		ev.Control.Reason = ""
	}
	if ev.Balance != nil {
		ev.Balance.Reason = ""
	}
	if ev.Position != nil {
		ev.Position.Reason = ""
	}
	return wire.AppendVersion(buf[:0], ev, seq, run, p.layout), true
}

// msgID is the message id of an execution report, ack or account update,
// built from what tells one report of an order from another (and one
// answer from another: the request id; one balance or position of a venue
// message from the next: asset, side, place in the message, update time):
// the same event published twice gets the same id and is stored once.
// Fields are separated by '|', and a field's bytes outside printable ASCII,
// '|' and '%' are escaped as %XX, so that two different reports can never
// make the same id (an order id may hold any byte; a NATS header keeps
// neither a line break nor leading or trailing spaces).
func (p *Publisher) msgID(ev *schema.CanonicalEvent) string {
	x := ev.Exec
	if x == nil { // an ack, an account update, a marker: no order's fields
		x = &noExec
	}
	var code int64
	var request uint64
	if c := ev.Control; c != nil {
		code, request = c.Code, c.RequestID
	}
	b := appendIDField(p.idBuf[:0], []byte(ev.Venue))
	b = appendIDField(b, []byte(ev.Symbol))
	b = append(append(b, '|'), ev.Type.String()...)
	b = appendIDField(b, x.ClientOrderID.Bytes())
	b = appendIDField(b, x.VenueOrderID.Bytes())
	b = appendIDField(b, x.OrigClientOrderID.Bytes())
	b = append(append(b, '|'), x.ExecType.String()...)
	b = append(append(b, '|'), x.Status.String()...)
	b = appendIDField(b, x.TradeID.Bytes())
	b = x.CumFillQty.AppendTo(append(b, '|'))
	b = strconv.AppendInt(append(b, '|'), x.TransactTime, 10)
	b = strconv.AppendUint(append(b, '|'), ev.SeqProvider, 10)
	b = strconv.AppendInt(append(b, '|'), ev.ExchangeTS, 10)
	b = strconv.AppendInt(append(b, '|'), code, 10)
	b = strconv.AppendUint(append(b, '|'), request, 10)
	switch ev.Type {
	case schema.EventBalance:
		a := ev.Balance
		if a == nil {
			break
		}
		b = appendIDField(b, a.Asset.Bytes())
		b = append(append(b, '|'), a.Kind.String()...)
		b = strconv.AppendUint(append(b, '|'), uint64(a.Index), 10)
		b = strconv.AppendUint(append(b, '|'), uint64(a.Count), 10)
		b = strconv.AppendInt(append(b, '|'), a.UpdateTime, 10)
		b = a.Delta.AppendTo(append(b, '|'))
		b = a.Free.AppendTo(append(b, '|'))
		b = a.Wallet.AppendTo(append(b, '|'))
	case schema.EventGap: // about execution reports: what it says was lost, and when it was made
		// Two markers alike but for their time are two losses (session's
		// reconciliation gives up on an order again at the next reconnect,
		// for the reports of another window), not one published twice: a
		// store retried keeps the id it was given once.
		b = strconv.AppendInt(append(b, '|'), ev.IngestTS, 10)
		g := ev.Control
		if g == nil {
			break
		}
		b = append(append(b, '|'), g.GapType.String()...)
		b = strconv.AppendUint(append(b, '|'), uint64(g.GapSource), 10)
		b = strconv.AppendUint(append(b, '|'), g.GapCount, 10)
		b = strconv.AppendUint(append(b, '|'), g.GapFirstSeq, 10)
		b = strconv.AppendUint(append(b, '|'), g.GapLastSeq, 10)
		b = appendIDField(b, []byte(g.Reason))
	case schema.EventPosition:
		q := ev.Position
		if q == nil {
			break
		}
		b = append(append(b, '|'), q.Side.String()...)
		b = strconv.AppendUint(append(b, '|'), uint64(q.Index), 10)
		b = strconv.AppendUint(append(b, '|'), uint64(q.Count), 10)
		b = strconv.AppendInt(append(b, '|'), q.UpdateTime, 10)
		b = q.Amount.AppendTo(append(b, '|'))
		b = strconv.AppendBool(append(b, '|'), q.MarginCall)
	}
	p.idBuf = b
	return string(b[1:])
}

// noExec is the zero execution msgID reads for an event that carries
// none. Never written.
var noExec schema.Execution

// appendIDField appends '|' and f to a message id, its bytes outside
// printable ASCII, '|' and '%' escaped as %XX.
func appendIDField(b, f []byte) []byte {
	const hex = "0123456789ABCDEF"
	b = append(b, '|')
	for _, c := range f {
		if c <= ' ' || c >= 0x7f || c == '|' || c == '%' {
			b = append(b, '%', hex[c>>4], hex[c&0xf])
			continue
		}
		b = append(b, c)
	}
	return b
}

func (p *Publisher) enqueue(m execMsg) {
	p.mu.Lock()
	p.queue = append(p.queue, m)
	n := len(p.queue)
	alarm := false
	if n > p.opts.ExecBound {
		p.execOver.Add(1)
		alarm, p.over = !p.over, true
	}
	p.mu.Unlock()
	p.execQueued.Add(1)
	select {
	case p.wake <- struct{}{}:
	default:
	}
	if alarm {
		p.log.Warn("natsbridge: execution reports waiting for the stream over ExecBound", "pending", n, "bound", p.opts.ExecBound)
		if fn := p.opts.OnExecBacklog; fn != nil {
			// Host code on the dispatcher's delivery goroutine: a Goexit
			// there unsubscribed the Publisher, every later report lost.
			if r, _ := hostCall(func() { fn(n) }); r != nil {
				p.log.Error("natsbridge: OnExecBacklog panicked (recovered)", "panic", r)
			}
		}
	}
}

func (p *Publisher) head() (execMsg, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 {
		return execMsg{}, false
	}
	return p.queue[0], true
}

func (p *Publisher) pop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.queue[0] = execMsg{}
	p.queue = p.queue[1:]
	if len(p.queue) == 0 {
		p.queue = nil // let the grown array go
	}
	if len(p.queue) <= p.opts.ExecBound {
		p.over = false
	}
}

// send stores the queued reports one at a time, in order: a report is
// retried until the stream acknowledges it, and none overtakes it.
func (p *Publisher) send() {
	defer close(p.done)
	const backoffBase, backoffCap = 50 * time.Millisecond, 2 * time.Second
	backoff := backoffBase
	for {
		m, ok := p.head()
		if !ok {
			select {
			case <-p.wake:
				continue
			case <-p.draining:
				if _, ok := p.head(); !ok {
					return
				}
				continue
			case <-p.stop:
				return
			}
		}
		if err := p.store(m); err != nil {
			if errors.Is(err, jetstream.ErrNoStreamResponse) {
				p.ensureStream() // gone: deleted, or a memory stream lost with its server
			}
			// A closed connection never comes back: Close need not wait
			// for it (it reports what is left).
			var closing <-chan struct{}
			if p.nc.IsClosed() {
				closing = p.draining
			}
			p.execRetr.add(p.log, 1, "natsbridge: storing an execution report failed, retrying", "subject", m.subject, "error", err)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-closing:
				t.Stop()
				return
			case <-p.stop:
				t.Stop()
				return
			}
			backoff = min(2*backoff, backoffCap)
			continue
		}
		backoff = backoffBase
		p.pop()
	}
}

// ensureStream creates the stream of execution reports again when a store
// found none listening: an operator deleted it (to change a field the
// server will not update), or it was a memory stream and its server
// restarted. Without it every report would wait for ever. An operator's
// stream (StreamOptions.NoCreate) is the operator's to make again.
func (p *Publisher) ensureStream() {
	if p.opts.Stream.NoCreate {
		return
	}
	ctx, cancel := context.WithTimeout(p.life, p.opts.PublishTimeout)
	defer cancel()
	if _, err := ensureStream(ctx, p.js, p.opts.Prefix, p.opts.Stream); err != nil {
		return // retried with the report
	}
	p.streamMade.Add(1)
	p.log.Warn("natsbridge: the stream of execution reports was missing; created again", "stream", p.opts.Stream.Name)
}

func (p *Publisher) store(m execMsg) error {
	data, trimmed := m.data, false
	if limit := p.maxPayload(m.id); limit > 0 && len(data) > limit {
		// Queued before the connection told the server's max_payload.
		if _, _, err := p.sdec.DecodeScratch(data, &p.sev); err == nil {
			p.sbuf, trimmed = p.fit(p.sbuf, &p.sev.CanonicalEvent, 0, 0, limit)
			data = p.sbuf
		}
	}
	ctx, cancel := context.WithTimeout(p.life, p.opts.PublishTimeout)
	defer cancel()
	ack, err := p.js.PublishMsg(ctx, &nats.Msg{Subject: m.subject, Data: data},
		jetstream.WithMsgID(m.id), jetstream.WithExpectStream(p.opts.Stream.Name))
	if err != nil {
		return err
	}
	if trimmed {
		p.trimmed.add(p.log, 1, "natsbridge: events over the server's max_payload sent without their Raw", "subject", m.subject)
	}
	p.execStored.Add(1)
	if ack.Duplicate {
		p.execDup.Add(1)
	}
	return nil
}

// Flush waits until every event published to the dispatcher before the
// call has been taken by the publisher, every execution report among them
// is stored, and the server has received every market data message among
// them, or ctx ends.
func (p *Publisher) Flush(ctx context.Context) error {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		// Idle first: the handler queues reports before it returns.
		idle := p.sub.Idle()
		p.mu.Lock()
		n := len(p.queue)
		p.mu.Unlock()
		if idle && n == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %d: %w", ErrExecPending, n, ctx.Err())
		case <-p.done:
			return ErrClosed
		case <-t.C:
		}
	}
	return flush(ctx, p.nc)
}

// handOverCritical waits until the publisher's lane holds no critical
// event, or its subscription has ended (the dispatcher closed and drained
// it), or ctx ends; it returns how many were left in the lane.
func (p *Publisher) handOverCritical(ctx context.Context) int {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		n := p.sub.Stats().Critical
		if n == 0 {
			return 0
		}
		select {
		case <-p.sub.Done():
			return 0
		case <-ctx.Done():
			return n
		case <-t.C:
		}
	}
}

// Stats returns the publisher's counters.
func (p *Publisher) Stats() PublisherStats {
	p.mu.Lock()
	pending := len(p.queue)
	p.mu.Unlock()
	return PublisherStats{
		Published:           p.published.Load(),
		Dropped:             p.dropped.load(),
		ExecQueued:          p.execQueued.Load(),
		ExecStored:          p.execStored.Load(),
		ExecDuplicates:      p.execDup.Load(),
		ExecRetries:         p.execRetr.load(),
		ExecOverflowed:      p.execOver.Load(),
		Trimmed:             p.trimmed.load(),
		Evicted:             p.evicted.Load(),
		StreamCreated:       p.streamMade.Load(),
		Unwritable:          p.unwritable.load(),
		QuoteKindsForgotten: p.kindsForgotten.load(),
		ExecPending:         pending,
		Lane:                p.sub.Stats(),
	}
}

// Close stops bridging. Close the dispatcher first when you can: its Close
// hands everything still queued to the publisher. Otherwise Close waits
// (until ctx ends) for the critical events in the publisher's lane of the
// dispatcher — execution reports among them — to reach the publisher, then
// unsubscribes, and the market data the lanes held is discarded (counted
// in Stats().Lane.Discarded). Close then waits, until ctx ends, for the
// queued execution reports to be stored and for the connection to flush;
// reports left when ctx ends are lost with the process, and the error
// (matching ErrExecPending and ctx.Err()) says how many, those still in
// the lane included (counted as its critical events). A store in flight when ctx
// ends is abandoned then, not waited for until PublishTimeout (its report,
// which the server may have stored, counts as pending). On a connection already
// closed (nats.Conn.Close, or it gave up) Close does not wait: the error
// matches ErrExecPending and nats.ErrConnectionClosed. It is safe to call
// twice.
func (p *Publisher) Close(ctx context.Context) error {
	p.closeOnce.Do(func() { p.closeErr = p.close(ctx) })
	return p.closeErr
}

func (p *Publisher) close(ctx context.Context) error {
	defer p.endLife()
	// The critical events still in the lane (execution reports among them)
	// go to the handler first: unsubscribing discards what is queued.
	inLane := p.handOverCritical(ctx)
	if err := p.d.Unsubscribe(p.sub); err != nil && !errors.Is(err, dispatch.ErrUnknownSubscription) {
		return err
	}
	var errs []error
	select {
	case <-p.sub.Done():
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("natsbridge: handler still publishing: %w", ctx.Err()))
	}
	close(p.draining)
	cause := nats.ErrConnectionClosed // the sender gave up on a closed connection
	select {
	case <-p.done:
	case <-ctx.Done():
		close(p.stop)
		p.endLife() // a store in flight ends now
		<-p.done
		cause = ctx.Err()
	}
	p.mu.Lock()
	n := len(p.queue) + inLane
	p.mu.Unlock()
	if n > 0 {
		p.log.Warn("natsbridge: publisher closed with execution reports not stored", "pending", n, "in_lane", inLane)
		errs = append(errs, fmt.Errorf("%w: %d: %w", ErrExecPending, n, cause))
	}
	if p.nc.IsConnected() {
		if err := flush(ctx, p.nc); err != nil {
			errs = append(errs, fmt.Errorf("natsbridge: flush: %w", err))
		}
	}
	p.w.stop()
	return errors.Join(errs...)
}
