package normalize

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// Sink receives normalised events. Publish takes ownership of ev in every
// case, error or not: the caller never touches ev again. The dispatcher
// implements it.
type Sink interface {
	Publish(ctx context.Context, ev *schema.CanonicalEvent) error
}

// SinkFunc adapts a function to [Sink].
type SinkFunc func(ctx context.Context, ev *schema.CanonicalEvent) error

// Publish calls f.
func (f SinkFunc) Publish(ctx context.Context, ev *schema.CanonicalEvent) error { return f(ctx, ev) }

// Stats counts what a parser did. Every field only grows.
type Stats struct {
	Messages   uint64 // venue messages seen, after envelope splitting
	Events     uint64 // events handed to the sink
	Errors     uint64 // messages dropped with a *ParseError
	Unknown    uint64 // messages of a type the parser does not know, skipped
	Control    uint64 // control events (subscription acks, venue errors)
	Gaps       uint64 // gap events (sequence breaks, dropped ordered events)
	Dropped    uint64 // events not emitted: pool exhausted, or ctx ended while waiting
	SinkErrors uint64 // Publish calls that returned an error
}

type counters struct {
	messages, events, errors, unknown, control, gaps, dropped, sinkErrors atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Messages:   c.messages.Load(),
		Events:     c.events.Load(),
		Errors:     c.errors.Load(),
		Unknown:    c.unknown.Load(),
		Control:    c.control.Load(),
		Gaps:       c.gaps.Load(),
		Dropped:    c.dropped.Load(),
		SinkErrors: c.sinkErrors.Load(),
	}
}

// emitter is the part of every venue parser that takes events from the pool
// and hands them to the sink.
//
// Pool policy: events of a critical type (execution reports, control, gap
// markers) wait for the pool with Get(ctx) and are lost only when ctx ends.
// Market data uses TryGet: on an exhausted pool the message is still decoded
// (into a scratch event, to learn its symbol and sequence), counted as
// dropped, and — for ordered types (trades, book diffs, closed klines,
// liquidations) — replaced by a gap marker, for which the emitter waits.
// Coalescable types (best bid/offer, tickers, live klines, mark prices) are
// simply dropped: a fresher one follows.
type emitter struct {
	venue   schema.Venue
	events  *pool.Pool[*schema.CanonicalEvent]
	sink    Sink
	keepRaw bool
	stats   counters
	scratch schema.CanonicalEvent // decode target when the pool is exhausted
}

// acquire returns an event of type typ stamped with the venue and ingest
// time. pooled is false when the pool was exhausted for market data: ev is
// then the scratch event, to be decoded and passed to dropped.
func (e *emitter) acquire(ctx context.Context, typ schema.EventType, ingest int64) (ev *schema.CanonicalEvent, pooled bool, err error) {
	if typ.Critical() {
		ev, err = e.events.Get(ctx)
		if err != nil {
			e.stats.dropped.Add(1)
			return nil, false, fmt.Errorf("%w: %s: %w", ErrDropped, typ, err)
		}
		pooled = true
	} else if ev, err = e.events.TryGet(); err == nil {
		pooled = true
	} else {
		ev = &e.scratch
		ev.Reset()
	}
	ev.Venue, ev.Type, ev.IngestTS = e.venue, typ, ingest
	return ev, pooled, nil
}

// release gives back an event that will not be published.
func (e *emitter) release(ev *schema.CanonicalEvent, pooled bool) {
	if pooled {
		e.events.Put(ev)
	}
}

// publish hands ev to the sink, which owns it from then on.
func (e *emitter) publish(ctx context.Context, ev *schema.CanonicalEvent) error {
	typ := ev.Type // ev belongs to the sink once Publish is called
	if err := e.sink.Publish(ctx, ev); err != nil {
		e.stats.sinkErrors.Add(1)
		return err
	}
	e.stats.events.Add(1)
	switch typ {
	case schema.EventGap:
		e.stats.gaps.Add(1)
	case schema.EventControl:
		e.stats.control.Add(1)
	}
	return nil
}

// dropped accounts for a market-data event decoded into the scratch event
// because the pool was exhausted, emitting a gap marker for ordered types.
func (e *emitter) dropped(ctx context.Context, ev *schema.CanonicalEvent) error {
	e.stats.dropped.Add(1)
	err := fmt.Errorf("%w: %s %s: %w", ErrDropped, ev.Type, ev.Symbol, pool.ErrExhausted)
	if ev.Type.Coalescable() {
		return err
	}
	first, last := ev.SeqProvider, ev.SeqProvider
	if ev.Type == schema.EventBookUpdate && ev.Book.FirstSeq != 0 {
		first = ev.Book.FirstSeq
	}
	var count uint64
	if first != 0 && last >= first {
		count = last - first + 1
	}
	if gerr := e.gap(ctx, ev, ev.Type, first, last, count, "event pool exhausted"); gerr != nil {
		return gerr
	}
	return err
}

// gap emits a gap marker for events of type typ on from's symbol.
func (e *emitter) gap(ctx context.Context, from *schema.CanonicalEvent, typ schema.EventType, first, last, count uint64, reason string) error {
	g, _, err := e.acquire(ctx, schema.EventGap, from.IngestTS)
	if err != nil {
		return err
	}
	g.Symbol, g.ExchangeTS, g.SeqProvider = from.Symbol, from.ExchangeTS, from.SeqProvider
	g.Control = schema.Control{Kind: schema.ControlGap, GapType: typ, GapCount: count, GapFirstSeq: first, GapLastSeq: last, Reason: reason}
	return e.publish(ctx, g)
}

// seqTracker follows a sequence per key (an interned symbol) for the life of
// a stream, to find the messages that went missing.
type seqTracker struct {
	last map[string]uint64
}

// reset restarts key's sequence at last (a snapshot).
func (t *seqTracker) reset(key string, last uint64) {
	if t.last == nil {
		t.last = make(map[string]uint64)
	}
	t.last[key] = last
}

// seqBreak describes a sequence that did not continue where it left off.
type seqBreak struct {
	First, Last uint64 // the missing ids, or the replayed ones when Back
	Back        bool   // the sequence went backwards (replay or reset)
}

// step records a message whose predecessor, by the venue's account, is prev
// and whose own last id is last. It reports a break when the previous
// message of key was not prev. The first message of a key never breaks.
func (t *seqTracker) step(key string, prev, last uint64) (seqBreak, bool) {
	if t.last == nil {
		t.last = make(map[string]uint64)
	}
	known, ok := t.last[key]
	t.last[key] = last
	switch {
	case !ok || known == prev:
		return seqBreak{}, false
	case prev > known:
		return seqBreak{First: known + 1, Last: prev}, true
	default:
		return seqBreak{First: prev + 1, Last: known, Back: true}, true
	}
}

// msgSpec is what a venue says about one of its message types: data, not
// code.
type msgSpec struct {
	typ   schema.EventType // the event type (an after hook may refine it)
	table *table
	after func(d *decoder, e *schema.CanonicalEvent) // derives what the venue does not send
	book  bool                                       // a book diff: check its sequence; a snapshot: restart it
	ctl   schema.ControlKind                         // the Control.Kind of a control message
	merge mergeMode                                  // tickers sent as a snapshot then changed fields
}

// mergeMode says how a ticker message relates to the symbol's last one.
type mergeMode uint8

const (
	mergeNone     mergeMode = iota
	mergeSnapshot           // a complete ticker: remember it
	mergeDelta              // only the fields that changed: start from the last one
)

// envelope holds what a venue's envelope says for every message it carries:
// used when the message itself does not say.
type envelope struct {
	seq uint64 // SeqProvider
	ts  int64  // ExchangeTS
}

// parser is the core every venue parser embeds: pool and sink, the table
// decoder, and the per-symbol book sequences.
type parser struct {
	emitter
	dec     decoder
	tg      target // a field, not a local: the table getters would make it escape
	books   seqTracker
	env     envelope // set by the envelope splitter around run
	more    []byte   // a second object of the same message (Kraken v1 books), or nil
	tickers map[string]schema.Ticker
}

func (c *parser) init(venue schema.Venue, events *pool.Pool[*schema.CanonicalEvent], sink Sink, o *Options) {
	c.venue, c.events, c.sink, c.keepRaw = venue, events, sink, o.KeepRaw
	c.dec.venue, c.dec.syms = venue, o.Symbols
}

// run decodes payload with sp into a pooled event and publishes it.
// streamSym is the venue symbol named by the envelope, used when the payload
// names none.
func (c *parser) run(ctx context.Context, sp *msgSpec, payload, streamSym []byte, ingest int64) error {
	ev, pooled, err := c.acquire(ctx, sp.typ, ingest)
	if err != nil {
		return err
	}
	d := &c.dec
	d.begin(sp.table.name)
	ev.Control.Kind = sp.ctl
	if sp.merge == mergeDelta {
		c.startDelta(ev, streamSym)
	}
	tg := &c.tg
	*tg = target{ev: ev}
	if d.err == nil {
		d.object(tg, sp.table, payload, "")
	}
	if c.more != nil && d.err == nil {
		d.object(tg, sp.table, c.more, "")
	}
	ev.ExchangeTS = either(either(tg.main, tg.fallback), c.env.ts)
	ev.SeqProvider = either(ev.SeqProvider, c.env.seq)
	tg.ev = nil
	if sp.after != nil && d.err == nil {
		sp.after(d, ev)
	}
	if ev.Symbol == "" && d.err == nil && !sp.typ.Critical() {
		if streamSym == nil {
			d.fail("s", ErrMissingField)
		} else if ev.Symbol, err = d.syms.Lookup(streamSym); err != nil {
			d.fail("s", err)
		}
	}
	if sp.merge != mergeNone && d.err == nil {
		if c.tickers == nil {
			c.tickers = make(map[string]schema.Ticker)
		}
		c.tickers[ev.Symbol] = ev.Ticker
	}
	if d.err != nil {
		c.release(ev, pooled)
		c.stats.errors.Add(1)
		return d.err
	}
	if c.keepRaw {
		ev.Raw = append(ev.Raw[:0], payload...)
	}
	if sp.book && ev.Type == schema.EventBookSnapshot {
		c.books.reset(ev.Symbol, ev.Book.LastSeq)
	} else if sp.book {
		if err := c.checkBook(ctx, ev); err != nil {
			c.release(ev, pooled)
			return err
		}
	}
	if !pooled {
		return c.dropped(ctx, ev)
	}
	return c.publish(ctx, ev)
}

// startDelta fills ev's ticker with the last one of its symbol, which the
// delta's fields then overwrite; a delta before any snapshot is an error.
func (c *parser) startDelta(ev *schema.CanonicalEvent, streamSym []byte) {
	sym, err := c.dec.syms.Lookup(streamSym)
	if err != nil {
		c.dec.fail("symbol", err)
		return
	}
	last, ok := c.tickers[sym]
	if !ok {
		c.dec.fail("type", ErrNoSnapshot)
		return
	}
	ev.Symbol, ev.Ticker = sym, last
}

// checkBook emits a gap marker before a book diff that does not continue
// its symbol's previous one: the venue's previous id (PrevSeq, as Binance
// futures' pu) must be the last one seen, or else FirstSeq must follow it.
func (c *parser) checkBook(ctx context.Context, ev *schema.CanonicalEvent) error {
	if ev.Book.LastSeq == 0 { // the venue sent no ids (older OKX books)
		return nil
	}
	prev := ev.Book.PrevSeq
	if prev == 0 {
		prev = ev.Book.FirstSeq - 1
	}
	brk, ok := c.books.step(ev.Symbol, prev, ev.Book.LastSeq)
	if !ok {
		return nil
	}
	reason, count := "book diff sequence gap", brk.Last-brk.First+1
	if brk.Back {
		reason, count = "book diff sequence went backwards", 0
	}
	return c.gap(ctx, ev, schema.EventBookUpdate, brk.First, brk.Last, count, reason)
}

// either returns a, or b when a is zero.
func either[T int64 | uint64](a, b T) T {
	if a != 0 {
		return a
	}
	return b
}
