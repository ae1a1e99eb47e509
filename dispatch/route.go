package dispatch

import (
	"hash/maphash"
	"math/bits"
	"slices"
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
// @kline_1h), and for tickers their window (schema.Ticker.Window, kept in
// interval: Binance @ticker beside @ticker_1h, @ticker_4h, @ticker_1d) and
// whether they state it (see windowed: Binance 24hrTicker beside
// 24hrMiniTicker, which has fewer fields). Routing, coalescing and gap
// markers are all per stream, so a 1 h candle never replaces the 1 m one
// queued, nor a 1 h ticker the 24 h or 1 d one, nor a mini ticker the
// full one, and one view's drops are never reported as another's. Filters
// match the first three fields only.
type routeKey struct {
	venue    schema.Venue
	symbol   string
	typ      schema.EventType
	depth    int    // a book's depth; windowed for a ticker stating its window
	interval string // a kline's interval; a ticker's window
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
//
// The view is read from the sections ev carries: one it does not carry
// (a host's marker naming no interval, a kline published without its
// section) names the view "", as a zero section would.
func streamKey(ev *schema.CanonicalEvent, typ schema.EventType) routeKey {
	k := routeKey{venue: ev.Venue, symbol: ev.Symbol, typ: typ, depth: ev.Book.Depth, interval: ev.KlineInterval()}
	if typ == schema.EventTicker {
		k.interval = ev.TickerWindow() // a ticker's view is its window: "" (24 h), "1h", "4h", "1d"
		if ev.TickerWindowClose() != 0 {
			k.depth = windowed
		}
	}
	return k
}

// windowed is routeKey.depth of the tickers that state their window
// (schema.Ticker.WindowClose): a stream apart from the tickers of the
// symbol that do not. A venue sending both kinds sends two tickers with
// different fields: Binance's 24hrTicker states its window ("O", "C") and
// carries bid, ask, change and trade count; its 24hrMiniTicker has none of
// them (Binance WebSocket Streams "Individual Symbol Ticker Streams",
// "Individual Symbol Mini Ticker Stream"). One coalescing slot for both
// let the mini ticker replace the full one queued: a slow subscriber never
// got the full ticker's other fields. A venue's ticker of one kind either
// states its window or does not, so a stream never moves between the two.
// (No book has a negative depth.)
const windowed = -1

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

// index routes a stream to its subscribers: one index for each set of
// subscribers, read through an atomic pointer and replaced on Subscribe and
// Unsubscribe. It learns the route of a stream the first time the stream
// is published, by matching every subscriber once; later events of the
// stream find it without a lock.
//
// A Subscribe or an Unsubscribe changes a route by one subscription at
// most, so the routes learned stay valid but for that one: the indexes of
// one dispatcher share what they learned (store), each route tagged with
// the index it was made for (its epoch), and an index keeps the changes
// that led to it (log, the last maxChanges of them). A route of an earlier
// epoch is brought up to date on its stream's next Publish by those
// changes alone: a subscription added is matched against the stream, one
// removed is taken out without matching; not by matching every
// subscription again (each change used to start an empty index: S streams
// × N subscriptions of matching after it, on the publisher's goroutine, a
// burst of misses after every Unsubscribe). One older than the log is
// learned by matching. A route kept holds the subscriptions that left
// until its stream publishes again: a subscription releases its queues
// when it stops (what a route holds of it is its shell), and every
// maxGone Unsubscribes the routes still holding some are rewritten
// without them (sweepGone), so that routes of streams that never publish
// again do not keep them for ever.
type index struct {
	*store
	subs  []*Subscription // in subscription order
	epoch uint64          // this set of subscribers; routes of another are brought up to date
	log   []change        // the changes that led to epoch, the last one last: log[i] made epoch-len(log)+i+1
}

// change is a subscription added to the subscribers, or removed (gone).
type change struct {
	s    *Subscription
	gone bool
}

// maxGone is how many Unsubscribes may pass before the routes still
// holding the subscriptions that left are rewritten without them.
const maxGone = 64

// maxChanges is how many Subscribes an index keeps to bring a route up to
// date: a stream that publishes again after more is learned by matching.
const maxChanges = 64

// store is what the indexes of one dispatcher learn, shared by them.
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
// limit (at most maxLimit) when at least 1/returnShare of the streams the
// last generation learned were learned before, recently (a fixed-size
// sketch of the streams learned lately, returnSlots fingerprints): streams
// quoting in turn, more of them than a generation holds, are many of them
// forgotten before they come back (all of them when more than two
// generations hold), so they are learned again, and only their coming
// back tells them from streams of new symbols, which never do, however
// fast they come (the rate is no evidence: options expiring by the
// thousand come as fast). So an index holds at most its limit and the
// last one: twice the streams published again across a generation, or
// twice the last limit while streams come back, or maxRoutes, whichever
// is most, and never more than 2 × maxLimit; streams that never come back
// keep it at 2 × maxRoutes.
type store struct {
	cur atomic.Pointer[routes] // this generation

	mu      sync.Mutex
	old     *routes // the previous generation, no longer written; nil at first
	limit   int     // routes of this generation that start the next
	floor   int     // the least limit: maxRoutes (a test's less)
	ceil    int     // the greatest limit: maxLimit (a test's less)
	revived int     // routes of this generation taken back from the old one
	learned int     // routes of this generation learned by matching the subscriptions
	returns int     // of those, the ones the sketch saw learned before: streams that came back
	seen    *sketch // the streams learned lately; nil until the first generation is full
	matched uint64  // subscriptions matched against a stream, for tests: the work of learning
	gone    int     // Unsubscribes since the routes were last swept of the subscriptions gone; under Dispatcher.mu
	onSweep func()  // tests: called as a sweep begins
}

// sketch remembers, in a fixed size, the streams recorded in it lately:
// one 16-bit fingerprint of a stream in a slot chosen by its hash, which
// a later stream landing in the slot overwrites. A stream found in it was
// recorded before (a false match of another stream: about 1 in 32,768, the
// fingerprint's low bit being always set); a
// stream recorded again after N others is still found with a chance of
// about exp(-N / slots): for the route index's (returnSlots) 68% after
// 100k, 37% after 2^18. Its slots are made a page (512 bytes) at a time,
// when first written, so that no lookup allocates more than a page of it
// (and the page pointers, 8 bytes per page, once).
type sketch struct {
	seed  maphash.Seed
	pages []*[sketchPage]uint16
}

const sketchPage = 256 // slots: 512 bytes

// newSketch returns an empty sketch of at least slots slots (whole pages,
// at least one).
func newSketch(slots int) *sketch {
	return &sketch{seed: maphash.MakeSeed(), pages: make([]*[sketchPage]uint16, max(1, (slots+sketchPage-1)/sketchPage))}
}

// size returns the sketch's slots.
func (sk *sketch) size() int { return len(sk.pages) * sketchPage }

// routes is one generation of learned routes: routeKey → *route.
type routes struct {
	m sync.Map
	n int // entries, under index.mu
}

// route is a learned route: the subscriptions that want a stream, in
// subscription order, as of the index of epoch.
type route struct {
	subs  []*Subscription
	epoch uint64
}

// saw tells whether the sketch holds k, and records it.
func (sk *sketch) saw(k routeKey) bool {
	i, fp := sk.place(k)
	page := sk.pages[i/sketchPage]
	if page == nil {
		page = new([sketchPage]uint16)
		sk.pages[i/sketchPage] = page
	}
	slot := &page[i%sketchPage]
	seen := *slot == fp
	*slot = fp
	return seen
}

// has tells whether the sketch holds k, and records nothing.
func (sk *sketch) has(k routeKey) bool {
	i, fp := sk.place(k)
	page := sk.pages[i/sketchPage]
	return page != nil && page[i%sketchPage] == fp
}

// place returns k's slot and fingerprint.
func (sk *sketch) place(k routeKey) (i uint64, fp uint16) {
	var h maphash.Hash
	h.SetSeed(sk.seed)
	h.WriteString(string(k.venue))
	h.WriteByte(0)
	h.WriteString(k.symbol)
	h.WriteByte(0)
	h.WriteString(k.interval)
	var b [10]byte
	b[0] = byte(k.typ)
	for i := range 8 {
		b[1+i] = byte(uint64(k.depth) >> (8 * i))
	}
	if k.anyType {
		b[9] = 1
	}
	h.Write(b[:])
	x := h.Sum64()
	// The slot from the high bits (x scaled to the slots), the
	// fingerprint from the low ones.
	i, _ = bits.Mul64(x, uint64(sk.size()))
	return i, uint16(x) | 1 // 0: an empty slot
}

const (
	// maxRoutes is the fewest streams' routes one generation of an index
	// holds: more streams than most hosts follow at once on one
	// dispatcher.
	maxRoutes = 1 << 15
	// maxLimit is the most routes one generation may hold, however many
	// streams come back: a route takes about 220 bytes besides its symbol
	// (measured at 200k routes, one subscription), so two generations of
	// maxLimit about 115 MB.
	maxLimit = 1 << 18
	// returnShare: a generation of which at least 1/returnShare of the
	// streams learned had been learned lately (the sketch found them)
	// doubles the next one's limit. The sketch finds a returning stream
	// with a chance of 37% or more up to 2^18 streams in turn, and a new
	// one by mistake about once in 32,768, so 1/8 tells the two apart.
	returnShare = 8
	// returnSlots is the sketch's size: at most 512 KiB, begun for an
	// index whose first generation fills (more than maxRoutes streams),
	// kept for its life.
	returnSlots = 1 << 18
)

func newIndex(subs []*Subscription) *index {
	st := &store{limit: maxRoutes, floor: maxRoutes, ceil: maxLimit}
	st.cur.Store(new(routes))
	return &index{store: st, subs: subs}
}

// with returns the index of subs, ix's subscribers changed by c (a
// subscription added is the newest), sharing what ix learned, and whether
// the routes are due to be swept of the subscriptions gone (sweepGone,
// which the caller has run on the dispatcher's sweep goroutine). Called
// under Dispatcher.mu.
func (ix *index) with(subs []*Subscription, c change) (next *index, sweep bool) {
	if c.gone {
		if ix.gone++; ix.gone >= maxGone {
			ix.gone, sweep = 0, true
		}
	}
	log := append(ix.log, c)
	if len(log) > maxChanges {
		log = log[len(log)-maxChanges:]
	}
	return &index{store: ix.store, subs: subs, epoch: ix.epoch + 1, log: slices.Clip(log)}, sweep
}

// route returns the subscribers that want stream k, in subscription order.
// The slice is shared and MUST NOT be modified.
func (ix *index) route(k routeKey) []*Subscription {
	if r, ok := ix.cur.Load().m.Load(k); ok && r.(*route).epoch == ix.epoch {
		return r.(*route).subs
	}
	return ix.learn(k)
}

// learn finds the route of k — in this generation or the old one, brought
// up to date by the changes since it was made, or by matching every
// subscription — and puts it in this generation: one insertion, a few
// allocations, never a copy of the others.
func (ix *index) learn(k routeKey) []*Subscription {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	g := ix.cur.Load()
	var r *route
	if v, ok := g.m.Load(k); ok {
		r = v.(*route)
		if r.epoch == ix.epoch {
			return r.subs
		}
		if r = ix.update(k, r); r != nil {
			g.m.Store(k, r) // replaced: n unchanged
			return r.subs
		}
	} else if ix.old != nil {
		if v, ok := ix.old.m.Load(k); ok {
			r = ix.update(k, v.(*route))
			if r != nil {
				ix.revived++
				if ix.seen != nil {
					ix.seen.saw(k) // remembered as learned lately
				}
			}
		}
	}
	if r == nil {
		r = &route{epoch: ix.epoch}
		for _, s := range ix.subs {
			if s.m.match(k) {
				r.subs = append(r.subs, s)
			}
		}
		ix.matched += uint64(len(ix.subs))
		if v, ok := g.m.Load(k); ok {
			// A route of another epoch: replaced (n unchanged), unless
			// made for a later index than this one, which a Publish that
			// loaded ix before a change is still using.
			if v.(*route).epoch < ix.epoch {
				g.m.Store(k, r)
			}
			return r.subs
		}
		ix.learned++
		if ix.seen != nil && ix.seen.saw(k) {
			ix.returns++
		}
	}
	g.m.Store(k, r)
	g.n++
	if g.n >= ix.limit {
		// A new generation: forget what was not published in this one.
		limit := max(ix.floor, 2*ix.revived)
		if ix.returns*returnShare >= ix.learned && ix.returns > 0 {
			limit = max(limit, 2*ix.limit) // streams forgotten came back
		}
		ix.limit, ix.revived, ix.learned, ix.returns = min(limit, ix.ceil), 0, 0, 0
		ix.old = g
		ix.cur.Store(new(routes))
		if ix.seen == nil {
			ix.seen = newSketch(returnSlots)
		}
	}
	return r.subs
}

// update returns r, a route of k learned for another index, brought up to
// date by the subscriptions added since, or nil when they are not all in
// the log: r was made for an index older than the log
// reaches, or for a later one than ix (a Publish that loaded ix just
// before a change).
func (ix *index) update(k routeKey, r *route) *route {
	from := ix.epoch - uint64(len(ix.log))
	if r.epoch == ix.epoch {
		return r
	}
	if r.epoch < from || r.epoch > ix.epoch {
		return nil
	}
	subs := r.subs
	for _, c := range ix.log[r.epoch-from:] {
		if c.gone {
			if i := slices.Index(subs, c.s); i >= 0 {
				subs = slices.Delete(slices.Clone(subs), i, i+1)
				if len(subs) == 0 {
					subs = nil // as matching nothing gives
				}
			}
			continue
		}
		ix.matched++
		if c.s.m.match(k) {
			// The newest subscription: the last in subscription order.
			subs = append(slices.Clip(subs), c.s)
		}
	}
	return &route{subs: subs, epoch: ix.epoch}
}

// sweepGone rewrites the routes of both generations that hold a
// subscription no longer subscribed, without it, each in its epoch: a
// Publish through that epoch's index would find it stopped and queue
// nothing for it. It takes O(routes) (BenchmarkS30SweepGone: tens of ms at
// 10k routes, hundreds at 100k), once every maxGone Unsubscribes, on the
// dispatcher's sweep goroutine (Dispatcher.sweep), holding neither
// Dispatcher.mu — which PublishMerged, Subscribe and Close take — nor any
// lock a lookup takes (a route learned meanwhile through an index from
// before the change may hold one still, until the next sweep; two sweeps
// at once rewrite a route once). It stops early once stop is set: the
// dispatcher is closed and its routes dropped.
func (ix *index) sweepGone(stop *atomic.Bool) {
	if ix.onSweep != nil {
		ix.onSweep()
	}
	ix.mu.Lock()
	gens := [2]*routes{ix.cur.Load(), ix.old}
	ix.mu.Unlock()
	for _, g := range gens {
		if g == nil {
			continue
		}
		g.m.Range(func(k, v any) bool {
			r := v.(*route)
			if slices.ContainsFunc(r.subs, (*Subscription).unlisted) {
				kept := slices.Clip(slices.DeleteFunc(slices.Clone(r.subs), (*Subscription).unlisted))
				if len(kept) == 0 {
					kept = nil
				}
				g.m.CompareAndSwap(k, v, &route{subs: kept, epoch: r.epoch})
			}
			return !stop.Load()
		})
	}
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
