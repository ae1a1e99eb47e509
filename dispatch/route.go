package dispatch

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/schema"
)

// Filter selects the events a subscriber receives. An empty list matches
// everything on that axis; an event must match all three. A gap marker
// about a stream (schema.EventGap with Control.GapType set) also reaches the
// subscribers of that stream, whether or not they name EventGap, and one
// that names no type (GapType schema.EventUnknown: a whole connection, or
// a whole symbol when it names one) reaches every subscriber of market
// data of its venue and symbol, whatever market data types it names (not
// one that names critical types only: execution reports, account
// updates). Events with an
// empty Symbol (connection states, venue-wide control) match any symbol
// list, so a subscriber to some symbols of a venue still hears that its
// connection dropped.
type Filter struct {
	Venues  []schema.Venue
	Symbols []string
	Types   []schema.EventType
}

// routeKey names a stream: the events of one type for one symbol of one
// venue, and of one view of it where a venue streams several: a book's
// depth (schema.Book.Depth: Bybit orderbook.50 beside orderbook.200, each
// with its own ids) and a kline's interval (Binance @kline_1m beside
// @kline_1h). Routing, coalescing and gap markers are all per stream, so a
// 1 h candle never replaces the 1 m one queued, and one view's drops are
// never reported as another's. Filters match the first three fields only.
type routeKey struct {
	venue    schema.Venue
	symbol   string
	typ      schema.EventType
	depth    int
	interval string
	// anyType: the market data streams of every type of venue (and
	// symbol), which a gap marker naming no type reports on. Only routed,
	// never queued.
	anyType bool
}

func keyOf(ev *schema.CanonicalEvent) routeKey {
	return streamKey(ev, ev.Type)
}

// streamKey is the stream of type typ that ev names: its own (typ is
// ev.Type), or the one a gap marker reports on (typ is Control.GapType),
// whose view the marker names as the stream's events do.
func streamKey(ev *schema.CanonicalEvent, typ schema.EventType) routeKey {
	return routeKey{venue: ev.Venue, symbol: ev.Symbol, typ: typ, depth: ev.Book.Depth, interval: ev.Kline.Interval}
}

// matcher is a Filter compiled into sets. It is immutable.
type matcher struct {
	venues   map[schema.Venue]struct{} // nil: all
	symbols  map[string]struct{}       // nil: all
	types    [schema.NumEventTypes]bool
	allTypes bool
	market   bool // some type named is market data (neither critical nor unknown)
}

func compile(f Filter) matcher {
	m := matcher{allTypes: len(f.Types) == 0}
	if len(f.Venues) > 0 {
		m.venues = make(map[schema.Venue]struct{}, len(f.Venues))
		for _, v := range f.Venues {
			m.venues[v] = struct{}{}
		}
	}
	if len(f.Symbols) > 0 {
		m.symbols = make(map[string]struct{}, len(f.Symbols))
		for _, s := range f.Symbols {
			m.symbols[s] = struct{}{}
		}
	}
	for _, t := range f.Types {
		if int(t) < len(m.types) {
			m.types[t] = true
		}
		m.market = m.market || (t != schema.EventUnknown && !t.Critical())
	}
	return m
}

func (m *matcher) match(k routeKey) bool {
	switch {
	case m.allTypes:
	case k.anyType:
		if !m.market {
			return false
		}
	case int(k.typ) >= len(m.types) || !m.types[k.typ]:
		return false
	}
	if m.venues != nil {
		if _, ok := m.venues[k.venue]; !ok {
			return false
		}
	}
	if m.symbols != nil && k.symbol != "" {
		if _, ok := m.symbols[k.symbol]; !ok {
			return false
		}
	}
	return true
}

// index routes a stream to its subscribers. One index is built for each set
// of subscribers (empty, on Subscribe and Unsubscribe) and read through an
// atomic pointer. It learns the route of a stream the first time the
// stream is published, by matching every subscriber once; later events of
// the stream find it without a lock.
//
// Learned routes live in a sync.Map (a concurrent hash trie since Go
// 1.24): a lookup takes no lock and writes nothing, and learning a route
// inserts one entry, never copying the others. (Before, routes learned
// under the lock were promoted into a new read map by copying every route:
// O(streams) on one unlucky Publish, 30–126 ms measured at 100k streams,
// a stall of the publisher's goroutine and so a stale market for every
// subscriber.)
//
// What it learns is bounded: venues list and delist symbols without end
// (options and dated futures expire by the thousand), so a route is kept
// for a generation of learned streams, not for ever. When this generation
// holds its limit, it becomes the old generation as it is (no copy: the
// Publish that starts a generation costs no more than another) and
// learning starts afresh; a stream of the old generation published again
// takes its route back from it without matching the subscribers, and one
// not published for a whole generation is forgotten (and learned again if
// it comes back). A generation's limit is maxRoutes, or twice the routes
// the last one took back from its predecessor if more, so that a host
// following more streams at once keeps them learned; and twice the last
// limit (at most maxLimit) when the last generation filled in less than
// minGeneration: streams quoting in turn, more of them than two
// generations hold, are each learned again before they come back, so none
// is ever taken back, and only their rate tells them from a stream of new
// symbols. So an index holds at most its limit and the last one: twice
// the streams published again across a generation, or those learned in
// the last minGeneration, or maxRoutes, whichever is most, and never more
// than 2 × maxLimit.
type index struct {
	subs []*Subscription // in subscription order

	cur atomic.Pointer[routes] // this generation

	mu      sync.Mutex
	old     *routes // the previous generation, no longer written; nil at first
	limit   int     // routes of this generation that start the next
	floor   int     // the least limit: maxRoutes (a test's less)
	ceil    int     // the greatest limit: maxLimit (a test's less)
	revived int     // routes of this generation taken back from the old one
	born    int64   // IngestTS of this generation's first event that had one (Unix ns); 0: none yet
	matched uint64  // subscriptions matched against a stream, for tests: the work of learning
}

// routes is one generation of learned routes: routeKey → *route.
type routes struct {
	m sync.Map
	n int // entries, under index.mu
}

// route is a learned route: the subscriptions that want a stream, in
// subscription order.
type route struct{ subs []*Subscription }

const (
	// maxRoutes is the fewest streams' routes one generation of an index
	// holds: more streams than most hosts follow at once on one
	// dispatcher.
	maxRoutes = 1 << 15
	// maxLimit is the most routes one generation may hold, however fast
	// streams come: a venue (or a parser's bug) naming a new symbol in
	// every message grows it no further. A route takes about 220 bytes
	// besides its symbol (measured at 200k routes, one subscription), so
	// two generations of maxLimit about 115 MB.
	maxLimit = 1 << 18
	// minGeneration: a generation that fills faster doubles the next
	// one's limit. A host whose streams, more than two generations hold,
	// quote in turn slower than a generation a second learns each quote's
	// route again — a lock, a match of every subscription and a few
	// allocations each, at most maxRoutes a second — rather than keep
	// them all.
	minGeneration = time.Second
)

func newIndex(subs []*Subscription) *index {
	ix := &index{subs: subs, limit: maxRoutes, floor: maxRoutes, ceil: maxLimit}
	ix.cur.Store(new(routes))
	return ix
}

// route returns the subscribers that want stream k, in subscription order,
// for an event received at "at" (its IngestTS, Unix ns; 0 if unknown).
// The slice is shared and MUST NOT be modified.
func (ix *index) route(k routeKey, at int64) []*Subscription {
	if r, ok := ix.cur.Load().m.Load(k); ok {
		return r.(*route).subs
	}
	return ix.learn(k, at)
}

// learn finds the route of k, in the old generation or by matching every
// subscription, and adds it to this one: one insertion, a few allocations,
// never a copy of the others.
func (ix *index) learn(k routeKey, at int64) []*Subscription {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	g := ix.cur.Load()
	if r, ok := g.m.Load(k); ok {
		return r.(*route).subs
	}
	var r *route
	if ix.old != nil {
		if v, ok := ix.old.m.Load(k); ok {
			r = v.(*route)
			ix.revived++
		}
	}
	if r == nil {
		r = &route{}
		for _, s := range ix.subs {
			if s.m.match(k) {
				r.subs = append(r.subs, s)
			}
		}
		ix.matched += uint64(len(ix.subs))
	}
	g.m.Store(k, r)
	g.n++
	if ix.born == 0 {
		ix.born = at
	}
	if g.n >= ix.limit {
		// A new generation: forget what was not published in this one.
		limit := max(ix.floor, 2*ix.revived)
		if at != 0 && ix.born != 0 && at-ix.born < int64(minGeneration) {
			limit = max(limit, 2*ix.limit) // filled in less than minGeneration
		}
		ix.limit, ix.revived, ix.born = min(limit, ix.ceil), 0, at
		ix.old = g
		ix.cur.Store(new(routes))
	}
	return r.subs
}

// size returns the routes the index holds, both generations, for tests.
func (ix *index) size() int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	n := ix.cur.Load().n
	if ix.old != nil {
		n += ix.old.n
	}
	return n
}

// union returns the subscriptions of a and b, each once, in subscription
// order (both are in it, which is the order of their ids). It is for gap
// markers, which are rare: it allocates when b is not empty.
func union(a, b []*Subscription) []*Subscription {
	if len(b) == 0 {
		return a
	}
	out := make([]*Subscription, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].id < b[j].id:
			out = append(out, a[i])
			i++
		case b[j].id < a[i].id:
			out = append(out, b[j])
			j++
		default: // the same subscription
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
