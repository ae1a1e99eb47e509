package normalize

import (
	"context"
	"fmt"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// staleKey names a coalescable stream as package dispatch does: venue
// aside (one parser serves one venue), its interned symbol, its type and
// its view (a book top's depth, a kline's interval, a ticker's window;
// interned or constants).
type staleKey struct {
	symbol   string
	typ      schema.EventType
	depth    int
	interval string
	window   string
}

func staleKeyOf(ev *schema.CanonicalEvent) staleKey {
	return staleKey{symbol: ev.Symbol, typ: ev.Type, depth: ev.Book.Depth, interval: ev.KlineInterval(), window: ev.TickerWindow()}
}

// staleReason is the Control.Reason of the marker of a dropped
// coalescable event.
const staleReason = "event pool exhausted: a fresher event was dropped"

// markStale records that a coalescable event of ev's stream was dropped on
// an exhausted pool and that no fresher one has been published since: the
// subscribers hold a stale value. One mark per stream, whatever the number
// of drops: the set is bounded by the streams of the connection (interned
// symbols × types × views) and a mark costs no allocation once the set
// has grown to them.
func (e *emitter) markStale(ev *schema.CanonicalEvent) {
	if e.stale == nil {
		e.stale = make(map[staleKey]struct{})
	}
	k := staleKeyOf(ev)
	if _, ok := e.stale[k]; ok || e.room(len(e.stale)) {
		e.stale[k] = struct{}{}
	}
}

// announceStale runs before ev, any event but a gap marker, is published
// while streams are marked stale. A fresher event of a marked stream
// clears its mark (it supersedes the dropped one: no marker is needed).
// Every other mark gets a gap marker (Control.GapType the stream's type)
// as long as the pool yields an event without waiting (TryGet: the reader
// never waits for a dropped quote). When the pool has no event for them
// and ev is coalescable, the announcement goes first: ev's event carries
// one marker instead, ev is dropped and its own stream marked, and the
// error matches [ErrDropped] (taken reports that ev's event was used).
// Execution reports, control and ordered events are never given up for a
// marker: their marks wait for the next publication.
func (e *emitter) announceStale(ctx context.Context, ev *schema.CanonicalEvent) (taken bool, err error) {
	if ev.Type.Coalescable() {
		delete(e.stale, staleKeyOf(ev))
	}
	for k := range e.stale {
		g, gerr := e.events.TryGet()
		if gerr != nil {
			break
		}
		delete(e.stale, k)
		e.fillStale(g, k, ev.IngestTS)
		if serr := e.send(ctx, g); serr != nil && err == nil {
			err = serr // the sink owns g all the same; ev still goes out
		}
	}
	if len(e.stale) == 0 || !ev.Type.Coalescable() {
		return false, err
	}
	var k staleKey
	for k = range e.stale {
		break
	}
	fresh, ingest := staleKeyOf(ev), ev.IngestTS
	e.stats.dropped.Add(1)
	delete(e.stale, k)
	e.stale[fresh] = struct{}{}
	ev.Reset()
	e.fillStale(ev, k, ingest)
	if serr := e.send(ctx, ev); serr != nil {
		return true, serr
	}
	return true, fmt.Errorf("%w: %s %s (its event carried an older stream's stale marker): %w", ErrDropped, fresh.typ, fresh.symbol, pool.ErrExhausted)
}

// fillStale makes g the gap marker of stream k. It carries a Kline or
// Ticker section only to name the stream's interval or window when it has
// one (not empty): a BBO's or a book top's marker carries none, and a
// standard ticker's (window "") none either — a missing section reads as
// the empty name (schema.CanonicalEvent.KlineInterval, TickerWindow).
func (e *emitter) fillStale(g *schema.CanonicalEvent, k staleKey, ingest int64) {
	g.Venue, g.Symbol, g.Type, g.IngestTS = e.venue, k.symbol, schema.EventGap, ingest
	g.Book.Depth = k.depth
	if k.interval != "" {
		g.UseKline().Interval = k.interval
	}
	if k.window != "" {
		g.UseTicker().Window = k.window
	}
	*g.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: k.typ, Reason: staleReason}
}
