package normalize

import (
	"context"
	"fmt"
	"log/slog"
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
	Ignored    uint64 // messages of a known type that carry nothing the schema holds, skipped (see the venue's doc)
	Control    uint64 // control events (subscription acks, venue errors)
	Gaps       uint64 // gap events (sequence breaks, dropped ordered events)
	Dropped    uint64 // events not emitted: pool exhausted, or ctx ended while waiting
	SinkErrors uint64 // Publish calls that returned an error
	Panics     uint64 // decoder panics recovered at the parser boundary (also in Errors)
	Repeats    uint64 // messages dropped as repeats: book diffs and connection sequence numbers their stream already covered, trades at or below the last id delivered, fills of our orders delivered already (same order and trade id), quotes not newer than the last delivered (quotes.go), Binance contractInfo pushes of a contract status unchanged
	// Untracked counts messages of a stream the parser had no room to
	// follow (maxStreams, bounds.go): quotes and trades delivered without
	// the repeat check, Bybit ticker snapshots not kept as a delta's base,
	// book messages dropped with ErrTooManyStreams (also in Errors),
	// dropped quotes not marked stale, Kraken book depths not remembered.
	Untracked uint64
}

type counters struct {
	messages, events, errors, unknown, ignored, control, gaps, dropped, sinkErrors, panics, repeats, untracked atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Messages:   c.messages.Load(),
		Events:     c.events.Load(),
		Errors:     c.errors.Load(),
		Unknown:    c.unknown.Load(),
		Ignored:    c.ignored.Load(),
		Control:    c.control.Load(),
		Gaps:       c.gaps.Load(),
		Dropped:    c.dropped.Load(),
		SinkErrors: c.sinkErrors.Load(),
		Panics:     c.panics.Load(),
		Repeats:    c.repeats.Load(),
		Untracked:  c.untracked.Load(),
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
	log     *slog.Logger
	stats   counters
	scratch *schema.CanonicalEvent // decode target when the pool is exhausted (schema.NewReusableEvent)
	stale   map[staleKey]struct{}  // coalescable streams dropped and not superseded since (stale.go)
	streams int                    // how many keys each per-stream map may hold (maxStreams; tests lower it)
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
		if e.scratch == nil {
			e.scratch = schema.NewReusableEvent() // keeps its sections: a ticker dropped here allocates nothing once warm
		}
		ev = e.scratch
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

// publish hands ev to the sink, which owns it from then on, after the
// markers of streams left stale by dropped coalescable events (stale.go).
func (e *emitter) publish(ctx context.Context, ev *schema.CanonicalEvent) error {
	if len(e.stale) == 0 || ev.Type == schema.EventGap {
		return e.send(ctx, ev)
	}
	taken, err := e.announceStale(ctx, ev)
	if taken {
		return err
	}
	if serr := e.send(ctx, ev); serr != nil {
		return serr
	}
	return err // a marker the sink refused
}

// send hands ev to the sink and counts it.
func (e *emitter) send(ctx context.Context, ev *schema.CanonicalEvent) error {
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
		e.markStale(ev) // announced once the pool yields again, unless a fresher one comes first
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
	g.Book.Depth = from.Book.Depth // the view that lost messages
	if typ == schema.EventKlineClosed {
		if iv := from.KlineInterval(); iv != "" {
			g.UseKline().Interval = iv // its view: dispatch routes the marker to that interval's subscribers (as fillStale)
		}
	}
	*g.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: typ, GapCount: count, GapFirstSeq: first, GapLastSeq: last, Reason: reason}
	return e.publish(ctx, g)
}

// either returns a, or b when a is zero.
func either[T int64 | uint64](a, b T) T {
	if a != 0 {
		return a
	}
	return b
}
