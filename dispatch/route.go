package dispatch

import (
	"maps"
	"sync"
	"sync/atomic"

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
// of subscribers (copy-on-write on Subscribe and Unsubscribe) and read
// through an atomic pointer. It learns the route of a stream the first time
// the stream is published, by matching every subscriber once; later events
// of the stream find it in a map without a lock.
//
// Learned routes go to dirty (under mu) and are promoted into a new read
// map once the slow path has been taken as often as there are routes, so
// that promotion costs amortized O(1) per new stream.
//
// What it learns is bounded: venues list and delist symbols without end
// (options and dated futures expire by the thousand), so a route is kept
// for a generation of learned streams, not for ever. When read and dirty
// together hold the generation's limit, they become the old generation
// (as they are: no copy, so the Publish that starts a generation costs no
// more than another) and learning starts afresh; a stream of the old
// generation published again takes its route back from it without
// matching the subscribers, and one not published for a whole generation
// is forgotten (and learned again if it comes back). A generation's limit
// is maxRoutes, or twice the routes the last one took back from its
// predecessor if more: a host that follows more streams at once than
// maxRoutes keeps them all in the read map, learned once, rather than
// learning them again in every generation (a lock and an allocation per
// event on the hot path). So an index holds at most twice the limit,
// which is at most four times the streams published again across a
// generation, or 2 × maxRoutes when they are fewer.
type index struct {
	subs []*Subscription // in subscription order

	read    atomic.Pointer[map[routeKey][]*Subscription]
	mu      sync.Mutex
	dirty   map[routeKey][]*Subscription
	old     [2]map[routeKey][]*Subscription // the previous generation: its read and dirty maps, no longer written
	misses  int
	limit   int // routes of this generation that start the next
	revived int // routes of this generation taken back from the old one
}

// maxRoutes is the fewest streams' routes one generation of an index
// holds: more streams than most hosts follow at once on one dispatcher.
const maxRoutes = 1 << 15

func newIndex(subs []*Subscription) *index {
	ix := &index{subs: subs, limit: maxRoutes}
	m := map[routeKey][]*Subscription{}
	ix.read.Store(&m)
	return ix
}

// route returns the subscribers that want stream k, in subscription order.
// The slice is shared and MUST NOT be modified.
func (ix *index) route(k routeKey) []*Subscription {
	if r, ok := (*ix.read.Load())[k]; ok {
		return r
	}
	return ix.learn(k)
}

func (ix *index) learn(k routeKey) []*Subscription {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	read := *ix.read.Load()
	if r, ok := read[k]; ok {
		return r
	}
	r, ok := ix.dirty[k]
	if !ok {
		if r, ok = ix.old[0][k]; !ok {
			r, ok = ix.old[1][k]
		}
		if ok {
			ix.revived++
		} else {
			for _, s := range ix.subs {
				if s.m.match(k) {
					r = append(r, s)
				}
			}
		}
		if ix.dirty == nil {
			ix.dirty = make(map[routeKey][]*Subscription)
		}
		ix.dirty[k] = r
	}
	ix.misses++
	if len(read)+len(ix.dirty) >= ix.limit {
		// A new generation: forget what was not published in this one.
		ix.old = [2]map[routeKey][]*Subscription{read, ix.dirty}
		ix.limit, ix.revived = max(maxRoutes, 2*ix.revived), 0
		m := map[routeKey][]*Subscription{}
		ix.read.Store(&m)
		ix.dirty, ix.misses = nil, 0
		return r
	}
	if ix.misses >= len(read)+len(ix.dirty) {
		m := make(map[routeKey][]*Subscription, len(read)+len(ix.dirty))
		maps.Copy(m, read)
		maps.Copy(m, ix.dirty)
		ix.read.Store(&m)
		ix.dirty, ix.misses = nil, 0
	}
	return r
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
