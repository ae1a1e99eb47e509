package merge

import (
	"context"
	"math"
	"time"

	"github.com/meltica/meltica/schema"
)

// addQuoteLocked updates a venue's quote from a best bid/offer, or drops it
// when the venue's book or connection is lost.
//
// A connection state other than connected — disconnected, reconnecting,
// rotating, closed, connecting, or one this version does not know — takes
// the venue out of the view, and its quotes are refused until a
// ConnConnected comes and a quote received after it (by IngestTS, when
// both carry one) arrives: a quote still queued from before the loss is
// stale. A gap marker likewise refuses the quotes received before it (a
// marker is critical on the dispatcher: it overtakes the best bid/offers
// still queued). A venue whose connection state is never reported is
// taken as connected.
func (m *Merger) addQuoteLocked(ctx context.Context, vs *venueState, ev *schema.CanonicalEvent) error {
	switch ev.Type {
	case schema.EventBBO:
		if vs.down || before(ev.IngestTS, vs.upAt) || before(ev.IngestTS, vs.lostAt) {
			m.stats.Refused++
			return m.publishBBOLocked(ctx)
		}
		at := m.quoteTime(m.o.Now(), ev)
		vs.bid = quote{price: ev.BBO.BidPrice, qty: ev.BBO.BidQty, at: at, ok: !ev.BBO.BidPrice.IsZero(), exTS: ev.ExchangeTS, inTS: ev.IngestTS, seq: ev.SeqProvider}
		vs.ask = quote{price: ev.BBO.AskPrice, qty: ev.BBO.AskQty, at: at, ok: !ev.BBO.AskPrice.IsZero(), exTS: ev.ExchangeTS, inTS: ev.IngestTS, seq: ev.SeqProvider}
	case schema.EventGap:
		if quoteLost(ev) {
			m.dropQuoteLocked(vs, "gap")
			// The marker is critical on the dispatcher and overtakes the
			// venue's quotes still queued from before the gap: those are
			// not afresh.
			vs.lostAt = max(vs.lostAt, ev.IngestTS)
		}
	case schema.EventConnState:
		state := ev.ControlOrZero().State // ConnUnknown on a host's event without its Control: never a panic
		if state == schema.ConnConnected {
			if vs.down {
				m.log.Info("merge: venue connected again; it rejoins the view with its next quote", "venue", vs.venue)
			}
			vs.down, vs.upAt = false, ev.IngestTS
			return nil
		}
		if !vs.down {
			m.log.Info("merge: venue not connected; its quotes are refused until it is", "venue", vs.venue, "state", state.String())
		}
		vs.down = true
		m.dropQuoteLocked(vs, "connection "+state.String())
	default:
		return nil
	}
	return m.publishBBOLocked(ctx)
}

// otherClock is how much older than Staleness a quote's timestamp may be
// and still be taken for the Merger's clock. Older, it is another clock's —
// a replay of a recording, a test's counter — as package book takes a
// book message's stamp more than a minute old: on the same clock the quote
// would be stale on arrival by far, and every quote of a replay with it.
const otherClock = time.Minute

// quoteTime is the time a quote's age counts from: the earliest of its
// ExchangeTS (the venue sent it), its IngestTS (it came off the wire) and
// now (the Merger got it), those not set (0) left out. A quote that waited
// in a queue, or that a lagging venue sent late, is that much older; a
// timestamp after now (a venue clock ahead of the host's) is not taken,
// so a quote is never younger than its receipt by the Merger makes it,
// and neither is one more than staleness + otherClock before now.
func (m *Merger) quoteTime(now time.Time, ev *schema.CanonicalEvent) time.Time {
	t := now.UnixNano()
	span := m.o.Staleness + otherClock
	if span < m.o.Staleness { // overflow: any past time is the Merger's clock
		span = math.MaxInt64
	}
	oldest := t - int64(span)
	for _, ts := range [2]int64{ev.ExchangeTS, ev.IngestTS} {
		if ts != 0 && ts < t && ts >= oldest {
			t = ts
		}
	}
	return time.Unix(0, t)
}

// quoteLost reports whether a gap marker of the venue may have cost it
// quotes: one about the whole venue, or about the symbol's best bid/offer,
// its book (snapshots or diffs) or any of its streams (GapType
// EventUnknown).
func quoteLost(ev *schema.CanonicalEvent) bool {
	switch ev.GapType() {
	case schema.EventUnknown, schema.EventBBO, schema.EventBookUpdate, schema.EventBookSnapshot:
		return true
	}
	return ev.Symbol == ""
}

// before reports whether a quote received at ingest came before at (a
// reconnection, a gap); either unknown (0) is not before.
func before(ingest, at int64) bool { return ingest != 0 && at != 0 && ingest < at }

func (m *Merger) dropQuoteLocked(vs *venueState, reason string) {
	if vs.bid.ok || vs.ask.ok {
		m.stats.Invalidated++
		m.log.Info("merge: venue leaves the consolidated view", "venue", vs.venue, "reason", reason)
	}
	vs.bid.ok, vs.ask.ok = false, false
}

// publishBBOLocked expires stale sides, works out the consolidated best
// bid/offer and publishes it when it differs from the one last published.
// A view that finds the Merged pool exhausted is not recorded as
// published: the next Add or Tick publishes the latest.
func (m *Merger) publishBBOLocked(ctx context.Context) error {
	now := m.o.Now()
	var bid, ask *quote
	var bidV, askV schema.Venue
	for i := range m.venues {
		vs := &m.venues[i]
		for _, q := range []*quote{&vs.bid, &vs.ask} {
			if q.ok && now.Sub(q.at) >= m.o.Staleness {
				q.ok = false
				m.stats.Expired++
				if !vs.bid.ok && !vs.ask.ok {
					m.log.Info("merge: venue leaves the consolidated view", "venue", vs.venue, "reason", "stale")
				}
			}
		}
		if vs.bid.ok && (bid == nil || vs.bid.price.Cmp(bid.price) > 0) {
			bid, bidV = &vs.bid, vs.venue
		}
		if vs.ask.ok && (ask == nil || vs.ask.price.Cmp(ask.price) < 0) {
			ask, askV = &vs.ask, vs.venue
		}
	}
	var next schema.MergedEvent
	if bid != nil {
		next.BestBid, next.BestBidQty, next.BestBidVenue = bid.price, bid.qty, bidV
	}
	if ask != nil {
		next.BestAsk, next.BestAskQty, next.BestAskVenue = ask.price, ask.qty, askV
	}
	if m.lastKnow && sameTop(&next, &m.last) && m.sameQuotes() {
		return nil
	}
	out := m.take()
	if out == nil {
		return nil // not recorded: a later Add or Tick publishes the latest
	}
	m.last.BestBid, m.last.BestBidQty, m.last.BestBidVenue = next.BestBid, next.BestBidQty, next.BestBidVenue
	m.last.BestAsk, m.last.BestAskQty, m.last.BestAskVenue = next.BestAsk, next.BestAskQty, next.BestAskVenue
	m.lastKnow = true
	m.mergeID++
	out.Source, out.MergeID, out.Symbol, out.Type = m.source, m.mergeID, m.o.Symbol, schema.EventBBO
	out.WindowOpen, out.WindowClose = now.UnixNano(), now.UnixNano()
	out.BestBid, out.BestBidQty, out.BestBidVenue = next.BestBid, next.BestBidQty, next.BestBidVenue
	out.BestAsk, out.BestAskQty, out.BestAskVenue = next.BestAsk, next.BestAskQty, next.BestAskVenue
	out.Complete = true
	for i := range m.venues {
		vs := &m.venues[i]
		vs.listed = vs.bid.ok || vs.ask.ok
		vs.shownBid, vs.shownAsk = vs.bid.shown(), vs.ask.shown()
		if !vs.listed {
			out.Missing = append(out.Missing, vs.venue)
			out.Complete = false
			continue
		}
		f := schema.Fragment{Venue: vs.venue, Symbol: m.o.Symbol, Type: schema.EventBBO}
		for _, q := range []*quote{&vs.bid, &vs.ask} {
			if q.ok {
				f.Seq, f.ExchangeTS, f.IngestTS = max(f.Seq, q.seq), max(f.ExchangeTS, q.exTS), max(f.IngestTS, q.inTS)
			}
		}
		if vs.bid.ok {
			f.BidPrice, f.BidQty = vs.bid.price, vs.bid.qty
		}
		if vs.ask.ok {
			f.AskPrice, f.AskQty = vs.ask.price, vs.ask.qty
		}
		out.Fragments = append(out.Fragments, f)
	}
	if err := m.o.Sink.PublishMerged(ctx, out); err != nil {
		m.lastKnow = false // not delivered: the next Add or Tick publishes again
		return err
	}
	m.stats.Published++
	return nil
}

// sameQuotes reports whether every venue quotes what the view published
// last shows of it: a venue that leaves or joins without changing the top
// still changes Missing and Complete, and one whose quote moves (or loses
// a side) beneath the top changes its fragment, which must not go on
// showing a price the venue no longer quotes.
func (m *Merger) sameQuotes() bool {
	for i := range m.venues {
		vs := &m.venues[i]
		if vs.listed != (vs.bid.ok || vs.ask.ok) || vs.shownBid != vs.bid.shown() || vs.shownAsk != vs.ask.shown() {
			return false
		}
	}
	return true
}

// shownQuote is what a view's fragment shows of one side of a venue's
// quote: its price and quantity, or nothing.
type shownQuote struct {
	price, qty schema.Decimal
	ok         bool
}

func (q *quote) shown() shownQuote {
	if !q.ok {
		return shownQuote{}
	}
	return shownQuote{price: q.price, qty: q.qty, ok: true}
}

func sameTop(a, b *schema.MergedEvent) bool {
	return a.BestBid.Identical(b.BestBid) && a.BestBidQty.Identical(b.BestBidQty) && a.BestBidVenue == b.BestBidVenue &&
		a.BestAsk.Identical(b.BestAsk) && a.BestAskQty.Identical(b.BestAskQty) && a.BestAskVenue == b.BestAskVenue
}
