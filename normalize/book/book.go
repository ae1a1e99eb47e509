package book

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/bits"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/normalize/internal/continuity"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Sink receives the events a book publishes: gap markers, best bid/offer
// updates, the tops asked for ([Book.PublishTop]) and a fetched book's
// state as it goes live. Publish takes ownership of the pooled event in every case. It is
// the interface of normalize.Sink and of dispatch.Dispatcher.
//
// A book calls Publish with its lock held, so that what it publishes
// keeps the order of its changes: Publish must not call back into the
// same book ([Book.BBO], [Book.Live], Apply …), which would wait for
// that lock for good. Hand the event on (the dispatcher queues a clone
// for each subscriber, whose handlers run on goroutines of their own)
// and read the book from there.
type Sink interface {
	Publish(ctx context.Context, ev *schema.CanonicalEvent) error
}

// Options configure a [Book]. A nil *Options gives the defaults, which
// publish nothing.
type Options struct {
	// Sink receives gap markers, best bid/offer updates and, for a
	// ResyncFetch book, the state it went live on from a snapshot it
	// fetched (an EventBookSnapshot: see "What it publishes"); Events is
	// the pool they are taken from. Both or neither. Defaults to none.
	Sink   Sink
	Events *pool.Pool[*schema.CanonicalEvent]
	// Fetcher gets snapshots for a ResyncFetch rule (Binance:
	// [BinanceREST]; OKXFetch: [OKXREST]). Required by that rule.
	Fetcher Fetcher
	// Resubscribe asks the venue for a new snapshot of a ResyncResubscribe
	// book: at once after a gap or a bad checksum; after a lost connection
	// (whose own resubscription brings the snapshot) only if diffs come
	// while the book still waits for one. Once per invalidation, again
	// after RetryInterval if it failed, and again on a diff 10 ×
	// RetryInterval after a call whose snapshot has not come (lost,
	// dropped, refused), under the resync backoff. It runs on the
	// goroutine applying events. Defaults to nil: the book waits for the next snapshot the
	// venue sends by itself.
	Resubscribe func(ctx context.Context, venue schema.Venue, symbol string) error
	// MaxBuffer is how many diffs a ResyncFetch book keeps while it waits
	// for a snapshot, holding at most MaxLevels levels in all (a diff may
	// hold as many as a frame; one larger than MaxLevels is kept alone);
	// past either the oldest is dropped (a later snapshot covers it;
	// Stats.Overflowed). Defaults to 1000.
	MaxBuffer int
	// MaxLevels is the most levels a side keeps (at least the rule's
	// ChecksumDepth where the venue has a checksum: NewBook fails with
	// ErrMaxLevels below it); defaults to 100 000
	// (3.2 MB a side), far deeper than the venue books recorded here (at
	// most 1 341 levels a side in the Coinbase level2 session). It bounds
	// a book whose stream is the whole book (Binance, Coinbase; a Depth 0
	// book before it saw a view), which otherwise keeps every price the
	// venue sends: past it the worst levels go, and the book treats the
	// rest as a truncated snapshot's range — it serves nothing beyond it
	// and resyncs if its top gets there (ReasonRange). A book of views
	// (Kraken, OKX, Bybit) is bounded by its view's depth and never cut
	// below it.
	MaxLevels int
	// FetchAttempts is how many snapshots one resynchronisation fetches
	// when they come back older than the buffered diffs. Defaults to 3.
	FetchAttempts int
	// RetryInterval is the least time between two rounds of fetches after
	// a round failed, so a venue that keeps failing is not hammered; a
	// [FetchError] with a longer RetryAfter (Binance 429, 418) waits that.
	// It is also the unit of the backoff of a book that breaks again after
	// every resync (the package doc, "When the book is wrong"): after three
	// at once, resyncs wait 1, 2, 4 … 64 × RetryInterval. And it is how
	// long after a pool found exhausted the book tries again to publish
	// what it could not (a quote, a break's announcement) if no message
	// of its own published it first. Defaults to 1 s.
	RetryInterval time.Duration
	// MaxSilence is how long a live book may apply nothing — no snapshot,
	// diff or keep-alive — before it reports itself silent: a stream that
	// stopped while its connection lives (a subscription the venue
	// dropped, a halted instrument) must not be served as if current.
	// A silent book reports not live ([Book.Live], [Book.BBO], [Book.Top],
	// which still give its last state and times) and publishes, once, a
	// gap marker with ReasonSilent and a best bid/offer with no bid and no
	// ask (Stats.Silences), never waiting for the pool for them (on an
	// exhausted pool, again every RetryInterval while it stays silent,
	// and at [Book.Close], which waits for the pool at most StateTimeout);
	// the next message that continues its stream
	// makes it live again, publishing its best bid/offer. Set it above the
	// venue's quietest normal interval (OKX sends a keep-alive every
	// minute on a quiet book; Binance and Bybit push only changes).
	// Coinbase closes most channels, level2 included, after 60–90 s
	// without an update unless the connection subscribes to heartbeats
	// (Coinbase Advanced Trade "WebSocket Channels"): a quiet product's
	// book then stops for good, which only MaxSilence tells.
	// Defaults to 0: never (the host judges [Book.Updated] itself).
	MaxSilence time.Duration
	// Clock times MaxSilence (one AfterFunc timer a book, armed while it
	// is live, never a goroutine of its own), RetryInterval's waits (one
	// more timer, armed while the book owes its subscribers an event the
	// pool did not give) and the resync backoff. Defaults to wsclient.SystemClock().
	Clock wsclient.Clock
	// Logger receives the book's state changes (invalid, live again,
	// resync asked) at Info and its faults (gap, checksum mismatch,
	// crossed book, failed fetch) at Warn, with the keys venue and symbol;
	// nothing per message. Defaults to nil: silent (a book added to
	// [Books] without one takes the Books' logger).
	Logger *slog.Logger
}

// defaultMaxLevels is Options.MaxLevels' default.
const defaultMaxLevels = 100_000

// maxTail bounds how long before a lost connection a message may have
// been received and still be taken for the dead connection's tail.
const maxTail = time.Minute

// Resync backoff. A book that breaks again soon after every resync — a
// venue checksum that never matches (ccxt/ccxt#24461), a stream that gaps
// on every diff (lfern/ccxt#15) — must not resubscribe or fetch at the
// rate it breaks: OKX closes a connection past 480 subscribe requests an
// hour (OKX v5 "WebSocket: connection limits"), with every other
// subscription on it, and Binance bans an IP that keeps exceeding its REST
// weight (Binance "LIMITS": 429, then 418). The first resyncBurst resyncs
// (resubscriptions, fetch rounds) of a run start at once; each later one
// waits RetryInterval, then twice that, and so on up to 2^resyncDoublings
// (64) × RetryInterval after the previous one. A book that stays live
// resyncStable × RetryInterval ends the run — it broke, it did not flap: a
// Binance book whose top leaves its snapshot's range every few minutes in
// a fast market must refetch at once each time — and so does a lost
// connection: the stream starts again (wsclient paces the redials), and a
// book must not stay dark after a reconnection because the connection
// flapped before it.
//
// A resubscription the venue accepted whose snapshot has not come
// snapshotWaits × RetryInterval later is asked again (on the next diff):
// a snapshot lost or refused must not leave the book dark for as long as
// the connection lives. One asked for on a connection since lost is void
// (package session drops it): the next diff asks at once.
const (
	snapshotWaits   = 10
	resyncBurst     = 3
	resyncDoublings = 6
	resyncStable    = 10
)

// Stats counts what a book did.
type Stats struct {
	Applied        uint64 // diffs applied
	Snapshots      uint64 // snapshots applied
	Stale          uint64 // repeats: diffs dropped because the book already covers their ids, snapshots older than a live Binance book, and OKX's empty stream "snapshot" (no book) an OKX book ignores
	Restarts       uint64 // restarts of the venue's numbering (Bybit u = 1), their messages applied as snapshots; one restart's data pushed again (the same u as the book's: Bybit level 1 after 3 s unchanged) is applied, not counted again
	Waiting        uint64 // diffs dropped while waiting for a resubscribed snapshot
	Buffered       uint64 // diffs buffered while waiting for a fetched snapshot
	Overflowed     uint64 // buffered diffs dropped oldest-first past MaxBuffer or MaxLevels levels
	Gaps           uint64 // sequence breaks seen: the book's own, and gap markers of its stream given to it (a break the parser announced, a dropped diff)
	Checksums      uint64 // checksums verified (a placeholder 0 is not a checksum)
	ChecksumErrors uint64 // checksum mismatches
	Crossed        uint64 // books found crossed or locked (best bid ≥ best ask) after a snapshot or diff, invalidated (ReasonCrossed)
	Invalidations  uint64 // times the book marked itself invalid
	Markers        uint64 // gap markers published
	Fetches        uint64 // snapshots fetched
	FetchErrors    uint64 // fetches that failed
	Resubscribes   uint64 // Resubscribe calls
	AfterLoss      uint64 // book messages, and best bid/offers of the venue's quote stream passed through Books, received before a lost connection already applied (its tail), dropped
	BBOs           uint64 // best bid/offer updates published
	BBODropped     uint64 // best bid/offer updates dropped on an exhausted pool (the latest goes out with the next message applied, or RetryInterval later by the Clock)
	Deferred       uint64 // resyncs (resubscriptions, fetch rounds) put off by the backoff after repeated breaks, once per event that found one due
	OtherViews     uint64 // book messages and gap markers of another view of the symbol (OKX books5 beside books, books fed to a Depth 5 book), ignored
	Silences       uint64 // times a live book applied nothing for Options.MaxSilence and reported itself silent (ReasonSilent)
	Withheld       uint64 // book messages Books.Publish did not hand on to its next sink while the book's gap marker was owed (an exhausted pool): subscribers of diffs must not apply them before they hear of the break; each one's pooled event goes back to the pool, for the marker
	StaleQuotes    uint64 // best bid/offers not delivered because older than the symbol's latest from the other source: the book's own top older than a venue quote stream's (Binance bookTicker, OKX bbo-tbt) passed through Books, or such a quote older than the book's top published (quote.go)
}

// Book is the L2 book of one (venue, symbol), kept by the venue's [Rule].
// Feed it the venue's canonical book events, in order, with [Book.Apply];
// it checks every sequence and checksum, and on any break clears itself,
// publishes a gap marker and resynchronises on its own.
//
// A Book is safe for concurrent use: one goroutine applies events while
// others read the top. Its zero value is not usable; build it with NewBook.
// It starts no goroutine, except, with Options.MaxSilence, the Clock's
// timer function when it fires; [Book.Close] (or [Books.Close]) stops
// the timer.
type Book struct {
	mu     sync.Mutex
	rule   Rule
	symbol string
	o      Options
	sink   Sink // Options.Sink as given: its own again when replaced in Books and added again (rearmLocked)

	log *slog.Logger // nil: silent

	bids, asks side
	live       bool              // a snapshot is applied and nothing broke since
	seq        continuity.Stream // the venue's continuity rule and where the book is in the stream
	syncedAt   int64             // IngestTS of the latest snapshot or id-checked diff applied
	lostAt     atomic.Int64      // IngestTS of the latest lost connection applied; written under mu, read without it by Books.Add (Book.inherit)
	anyLost    atomic.Int64      // IngestTS of the latest applied through no Feed (Books.Publish, Book.Apply): every connection's; written under mu (Book.judgedBy)
	asked      bool              // Resubscribe called since the book went invalid
	align      bool              // OKXFetch: no diff joined the fetched snapshot yet (Book.check)
	askedAt    time.Time         // when it was last called
	askFailed  time.Time         // when that call failed, zero if it did not
	pending    []schema.Book     // a ring: the buffered diffs are pend(0) … pend(npend-1), oldest first
	phead      int               // where pend(0) is in pending
	npend      int
	pendLv     int                   // levels in the buffered diffs
	fetchEv    schema.CanonicalEvent // the Fetcher's scratch event
	fetching   bool                  // a Fetch is running, without the lock (fetchUnlocked)
	fetchFrom  int64                 // IngestTS of the diff that started the running fetch
	fetchLost  bool                  // a lost connection newer than fetchFrom came during the fetch
	lastRound  time.Time             // when the last failed round of fetches ended
	wait       time.Duration         // the least time after lastRound before the next round
	deepest    int                   // the deepest view seen (Book.Depth), for a Depth 0 rule of a venue with views
	restarted  bool                  // a restart (Bybit u = 1) was counted and the book's position has not passed 1 since (passedRestart): its data again is no other restart
	scratch    []byte
	mergeIn    []schema.Level // a large diff's levels within range, sorted by side.merge
	ck         ckScales       // a Kraken checksum's precision (ChecksumKraken)
	top        schema.BBO     // last best bid/offer published
	topKnown   bool
	pub, ext   quoteMark // the book's last best bid/offer published; the venue's quote stream's last delivered (quote.go)
	repub      bool      // the quote stream delivered since the book's top was published: publish the next top even unchanged (quote.go)
	stats      Stats
	// The venue and receive times (Unix ns) of the latest message applied
	// (snapshot, diff, keep-alive): the book's age. Zero while invalid.
	exTS, inTS int64
	// The range of a fetched snapshot (ResyncFetch): the worst bid and ask
	// it held where the side was truncated; beyond them the book has only
	// the levels that changed since, so its top may not go there.
	floor, ceil       schema.Decimal
	hasFloor, hasCeil bool
	// The resync backoff: resyncs started in the current run (since the
	// book last stayed live for resyncStable × RetryInterval), when the
	// latest started, when the book last went live, and whether the run's
	// first deferral was logged.
	resyncs   int
	resyncAt  time.Time
	liveSince time.Time
	deferLog  bool
	now       func() time.Time // the clock of the backoff and of RetryInterval's waits: Options.Clock's Now, a test's own
	// MaxSilence: when the book last applied a message (by the Clock),
	// whether it is silent, its timer and whether that is armed, and
	// whether Close stopped it for good.
	heardAt  time.Time
	silent   bool
	silOwed  bool     // silent, and its marker not yet published (the pool was exhausted): the timer tries again
	silLeft  silParts // silent: the parts of its announcement not yet published (publishSilenceLocked)
	silTimer wsclient.Timer
	silArmed bool
	// retry: the Clock's timer that tries again, RetryInterval after the
	// pool was exhausted, what the book could not publish (retryOwed).
	retry      wsclient.Timer
	retryArmed bool
	closed     bool
	shut       bool                 // closed by Close (closeLocked), not only stopped as replaced: no timer armed again, even handing
	retired    bool                 // replaced in Books (takeOver), fed nothing since: not live until a message the host applies proves it current (apply)
	epoch      atomic.Uint64        // moved each time Books.swap (under the Books' lock) puts it in its place or takes it out: a message routed in an earlier one is not applied (apply)
	handing    bool                 // retired by a book of another Sink, its announcement to its own subscribers still owed: its Sink and retry timer kept for it (takeOver)
	handoffs   []*Book              // the books it replaced, itself or through those it replaced, handing then: closed with it (adopt)
	feed       atomic.Pointer[Feed] // the Books' Feed whose client fed it last, nil if none (Books.applyVenue)
	snapOwed   bool                 // live on a snapshot it fetched, whose EventBookSnapshot is not out yet (publishSnapLocked)
	okxRst     okxReset             // OKXFetch: the latest reset buffered (okx_book.go)
	aside      krAside              // Kraken v2: a shallower view's stream, kept aside until the ack's depth shows (kraken_aside.go)
	// tops: the views (Book.Depth) of the tops PublishTop published since
	// the book's last marker, to announce its next break to (markLocked,
	// publishSilenceLocked); past maxTopViews the last is 0, every view.
	tops  [maxTopViews]int
	nTops int
	// owed: a break's announcement not yet published whole (markLocked);
	// owing says it is, read without the lock on the path of every event.
	owed  owedMark
	owing atomic.Bool
}

// NewBook returns an empty, unsynchronised book of symbol kept by rule.
func NewBook(rule Rule, symbol string, opts *Options) (*Book, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if symbol == "" {
		return nil, ErrNoSymbol
	}
	if rule.Resync == ResyncFetch && o.Fetcher == nil {
		return nil, ErrNoFetcher
	}
	if (o.Sink == nil) != (o.Events == nil) {
		return nil, fmt.Errorf("book: Options.Sink and Options.Events go together")
	}
	if o.MaxBuffer <= 0 {
		o.MaxBuffer = 1000
	}
	if o.MaxLevels <= 0 {
		o.MaxLevels = defaultMaxLevels
	}
	if rule.Checksum != ChecksumNone && o.MaxLevels < rule.ChecksumDepth {
		// Cut below the levels the venue's checksum covers, a side could
		// never match it: every snapshot would fail, for good.
		return nil, fmt.Errorf("%w: %d < %s's %d", ErrMaxLevels, o.MaxLevels, rule.Venue, rule.ChecksumDepth)
	}
	if o.FetchAttempts <= 0 {
		o.FetchAttempts = 3
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = time.Second
	}
	if o.Clock == nil {
		o.Clock = wsclient.SystemClock()
	}
	b := &Book{rule: rule, symbol: symbol, o: o, sink: o.Sink, now: o.Clock.Now}
	b.ck = ckScales{px: rule.PriceScale, qty: rule.QtyScale}
	b.bids.bid = true
	b.seq.Rule = rule.Sequence.continuity()
	if o.Logger != nil {
		b.log = o.Logger.With("venue", string(rule.Venue), "symbol", symbol)
	}
	return b, nil
}

// Venue returns the book's venue.
func (b *Book) Venue() schema.Venue { return b.rule.Venue }

// Symbol returns the book's symbol.
func (b *Book) Symbol() string { return b.symbol }

// Live reports whether the book is synchronised — a snapshot is applied and
// no rule has broken since — not replaced in [Books] (a book [Books.Add]
// replaced, fed nothing since, reports not live, its last state still
// readable, until the host applies it a snapshot or a diff whose ids
// chain on to it; a diff without ids breaks it: see [Books.Add]) and, with
// Options.MaxSilence, not silent.
func (b *Book) Live() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.usable()
}

// usable: live, not replaced in [Books] and fed nothing since (its
// state would only age), and not silent past Options.MaxSilence. Judged by the
// Clock here, not only by the timer, whose goroutine a loaded machine
// may start late and which Close stops: a reader must not be served a
// book silent that long as current meanwhile, nor a closed one (a book
// Books replaced, no longer fed) ever.
func (b *Book) usable() bool {
	if !b.live || b.silent || b.retired {
		return false
	}
	return b.o.MaxSilence <= 0 || b.sinceLocked(&b.heardAt) < b.o.MaxSilence
}

// sinceLocked is how long ago *at was by the Clock. A time later than now
// — the clock was set back since — counts as now, and is moved there: a
// wait counted from it (RetryInterval's, the backoff's, MaxSilence) must
// not last as long as the step on top, a book dark, or silent and served
// as current, for the hour its clock went back.
func (b *Book) sinceLocked(at *time.Time) time.Duration {
	now := b.now()
	if at.After(now) {
		*at = now
	}
	return now.Sub(*at)
}

// Close stops the book's timers, for good: Options.MaxSilence's (it
// publishes no silence marker any more) and RetryInterval's. Then it
// publishes what the book still owes of a break's announcement (its gap
// marker, its quote's withdrawal, its tops' markers: the pool gave none
// when it broke), then of a silence's (MaxSilence), waiting for the pool at most StateTimeout (wall
// clock, as for a lost connection's markers): a host that closes a book
// after a loss, which gives it no event more, must not leave its
// subscribers the broken book's quote as the latest, the break untold.
// What the pool does not give in that time is logged at Warn and goes
// out, if ever, with the next event the book is given. The book stays
// readable and applies events as before, and still reports not live
// once silent for MaxSilence (by the Clock). A book replaced in [Books]
// is closed, what it owes taken on by the book in its place — but where
// that book's Sink is another, the replaced book still owing its own
// subscribers (the pool gave nothing) is closed with the book in its
// place, or with its own Close, whichever comes first; one added again
// is not. Safe to call twice.
func (b *Book) Close() {
	_ = b.CloseContext(context.Background())
}

// CloseContext is [Book.Close], its wait for the pool bounded by ctx as
// well as by StateTimeout. It returns ctx.Err() when ctx ended before it
// returned (what was not published then stays owed, logged at Warn; no
// pooled event is kept), else nil.
func (b *Book) CloseContext(ctx context.Context) error {
	wait, cancel := context.WithTimeout(ctx, StateTimeout)
	defer cancel()
	b.closeWith(wait)
	return ctx.Err()
}

// takeHandoffs returns the books b is to close with it (adopt), and
// forgets them.
func (b *Book) takeHandoffs() []*Book {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := b.handoffs
	b.handoffs = nil
	return h
}

// closeWith is Close, waiting for the pool with ctx.
func (b *Book) closeWith(ctx context.Context) {
	b.mu.Lock()
	b.closeLocked(ctx, b.o.Events.Get)
	b.mu.Unlock()
	// The books it replaced, still owing their own subscribers (another
	// Sink; adopt): their announcements go out now, their timers stop
	// with b's.
	closeHanding(ctx, b.takeHandoffs(), true)
}

// closeHanding closes those of list still handing, waiting for the pool
// with ctx if wait, else never. One added again since (Books.Add: not
// handing) is the Books' or the host's again, left alone.
func closeHanding(ctx context.Context, list []*Book, wait bool) {
	for _, h := range list {
		h.mu.Lock()
		if h.handing {
			get := h.tryGet
			if wait {
				get = h.o.Events.Get
			}
			h.closeLocked(ctx, get)
		}
		h.mu.Unlock()
	}
}

// closeLocked is closeWith but for the books b replaced, each event
// taken with get; b.mu held.
func (b *Book) closeLocked(ctx context.Context, get func(context.Context) (*schema.CanonicalEvent, error)) {
	b.stopLocked()
	b.shut = true // a handing book's flush below, its ctx ended, re-armed its retry timer: it outlived Close
	if b.owing.Load() {
		if err := b.flushOwedLocked(ctx, get); err != nil {
			b.warn("book: announcement owed at Close not published", "err", err)
			return
		}
	}
	if b.silOwed {
		if !b.publishSilenceLocked(ctx, get, b.now()) {
			b.warn("book: silence announcement owed at Close not published")
			return
		}
		b.silOwed = false
	}
}

// stop stops the book's timers for good (Close without publishing):
// for a book [Books.Add] replaces, whose owed announcement the new book
// takes on.
func (b *Book) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopLocked()
}

func (b *Book) stopLocked() {
	b.closed = true
	if b.silTimer != nil {
		b.silTimer.Stop()
		b.silArmed = false
	}
	if b.retry != nil {
		b.retry.Stop()
		b.retryArmed = false
	}
}

// rearmLocked undoes stop for a book replaced in [Books] and added again
// (Books.Add): its Sink and its timers are its own again — MaxSilence's armed for the
// time left where it is live (fed nothing more, a quiet stream would
// leave its last quote the subscribers' latest, no silence marker told),
// the retry timer where it owes a break's announcement. A book closed by
// the host (shut) stays closed for good. Either is unbound from the Feed
// its messages bound it to before (Books.Add binds it to its
// replacement's).
func (b *Book) rearmLocked() {
	if b.closed {
		// Replaced (or closed) since a message bound it to a Feed: the
		// binding is of before, its stream's client now the book's in
		// its place, which Add makes its own (inherit).
		b.feed.Store(nil)
	}
	reopen := b.closed && !b.shut
	if reopen {
		b.closed, b.o.Sink = false, b.sink // takeOver let its Sink go: nothing more from it while replaced
	}
	b.addedAgainLocked() // before the timers: a book it invalidates arms no silence timer
	if !reopen {
		return
	}
	if b.live && !b.silent && b.o.MaxSilence > 0 && !b.silArmed {
		b.silArmed = true
		b.arm(&b.silTimer, max(b.o.MaxSilence-b.sinceLocked(&b.heardAt), 0), b.silenceCheck)
	}
	if b.owing.Load() || b.silOwed {
		b.armRetryLocked(pool.ErrExhausted)
	}
}

// addedAgainLocked invalidates a book replaced in [Books] (retired: fed
// nothing since) that Books.Add adds again: every message routed to the
// book in its place meanwhile missed it, so its levels — and the diffs
// it buffered before, the snapshot a fetch running since would join to
// them, a stream it kept aside (Kraken) — are stale, however live it was
// when replaced. Served as live again, its old levels were a stale book
// served as current, its next diff applied on top of the messages it
// missed (a venue without ids, Coinbase, never tells). It drops its
// levels and publishes a gap marker (ReasonAddedAgain) through its Sink,
// as any break, never waiting for the pool (Add has no ctx: what it does
// not give is owed, tried again by the retry timer), and resynchronises
// as after a lost connection: on the next diff routed to it (a fetch, or
// Options.Resubscribe) or the snapshot its stream brings — Add calls no
// host callback. A book closed by the host (shut) is invalidated too; its
// Sink, let go when it was replaced, publishes nothing.
func (b *Book) addedAgainLocked() {
	if !b.retired {
		return
	}
	b.retired = false
	b.keepPending(b.npend) // what came between them and the next diff is lost
	if b.fetching {
		b.fetchLost = true // a running fetch joins no snapshot to them either (fetchLocked)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // what the pool gives at once
	// Stamped as its last message, as a replaced book's withdrawal is (takeOver).
	src := schema.CanonicalEvent{Venue: b.rule.Venue, Symbol: b.symbol, ExchangeTS: b.exTS, IngestTS: b.inTS}
	if err := b.invalidateLocked(ctx, &src, ReasonAddedAgain, 0, 0); err != nil && !errors.Is(err, pool.ErrExhausted) {
		b.warn("book: added again: marker not published", "err", err)
	}
}

// Stats returns the book's counters.
func (b *Book) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// LastSeq returns the last sequence applied (Binance u, OKX seqId, Bybit u).
func (b *Book) LastSeq() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seq.Last()
}

// Updated returns the venue time and the receive time (Unix ns, the
// event's ExchangeTS and IngestTS) of the latest message the book applied —
// a snapshot, a diff, a keep-alive (OKX's empty update) — and zeros while
// the book is not live. A book whose stream went quiet keeps serving its
// last state: compare ingestTS with the clock to tell a quiet market from
// a stream that stopped (the book cannot: venues send nothing while
// nothing changes).
func (b *Book) Updated() (exchangeTS, ingestTS int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.live || b.retired {
		return 0, 0
	}
	return b.exTS, b.inTS
}

// BBO returns the best bid and offer, and false when the book is not live
// (none then) or silent past Options.MaxSilence (its last then).
//
// A side with no level — no bid or no ask: a live book whose venue emptied
// that side (deleted its last level with quantity 0, or sent it as [] in a
// snapshot, as every venue's book stream may), or a book not live — has a
// zero price and a zero quantity there, and BBO still reports true for a
// live one-sided book: nothing was lost. (A fetched book's side that its
// snapshot truncated is not known empty when the diffs delete every level
// it holds: that book resyncs instead, ReasonRange.) Zero is not a price:
// test BidQty (AskQty) with IsZero before reading BidPrice (AskPrice) — a
// quantity is never zero on a level the book holds — or a mid price comes
// out half the ask, a limit buy at the bid goes out at 0. [Book.Top] gives
// such a side no level, and the published EventBBO the same zeros.
func (b *Book) BBO() (schema.BBO, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bboLocked(), b.usable()
}

// Top fills dst as an EventBookSnapshot of the best n levels a side (all
// when n ≤ 0; for a fetched — Binance — book, none beyond the worst level
// of a side its snapshot truncated, where the book knows only the levels
// that changed since, nor, for any book, beyond a side cut to
// Options.MaxLevels), its Book.Depth the view it is (as [Book.PublishTop]
// names it), reusing its slices, and reports whether the book is live
// (false for a book silent past Options.MaxSilence, whose last state it
// fills); an invalid book leaves dst's sides empty. dst's ExchangeTS and IngestTS
// are those of the latest message applied ([Book.Updated]). dst stays the
// caller's.
func (b *Book) Top(n int, dst *schema.CanonicalEvent) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.topLocked(n, dst)
	return b.usable()
}

// topLocked serves a fetched book's sides down to its snapshot's range
// only (Binance "How to manage a local order book correctly": outside the
// snapshot's levels "you won't learn the quantities … unless they
// change"): beyond it the book holds the levels that changed and lacks
// those that did not.
func (b *Book) topLocked(n int, dst *schema.CanonicalEvent) {
	nb, na := b.bids.len(), b.asks.len()
	if b.hasFloor {
		nb = b.bids.within(b.floor)
	}
	if b.hasCeil {
		na = b.asks.within(b.ceil)
	}
	if n > 0 {
		nb, na = min(nb, n), min(na, n)
	}
	dst.Venue, dst.Symbol, dst.Type = b.rule.Venue, b.symbol, schema.EventBookSnapshot
	dst.SeqProvider = b.seq.Last()
	dst.ExchangeTS, dst.IngestTS = b.exTS, b.inTS
	dst.Book.LastSeq = b.seq.Last()
	dst.Book.Depth = b.viewOf(n)
	dst.Book.Bids = b.bids.appendTop(dst.Book.Bids[:0], nb)
	dst.Book.Asks = b.asks.appendTop(dst.Book.Asks[:0], na)
}

// viewOf is the view (schema.Book.Depth) of the best n levels a side of
// the book: n, or the book's own view where it keeps fewer (a book of a
// venue's views) or n ≤ 0 asks for all; 0, the whole book, for all the
// levels of a whole-book venue's book (Binance, Coinbase).
func (b *Book) viewOf(n int) int {
	if k := b.keep(); k > 0 && (n <= 0 || n > k) {
		return k
	}
	return max(n, 0)
}

// PublishTop publishes a pooled EventBookSnapshot of the best n levels a
// side to the sink (waiting for the pool with ctx), stamped like
// [Book.Top] with the times of the latest message applied, never the time
// of the call: a stale book must not look fresh. Its Book.Depth names the
// view it is, as a venue's partial-depth snapshots do: n, or the book's
// own depth where that is less or n ≤ 0 (0 for the whole of a whole-book
// venue's book) — never 0 for a top n, which would read as the venue's
// whole book to a consumer, and to a book downstream of the dispatcher,
// and share the key (venue, symbol, type, depth) of the venue's own
// snapshots in the dispatcher. It does nothing for a book that is not
// live, is silent (Options.MaxSilence) or has no sink.
//
// A book that published tops announces its next break or silence to
// their stream as well: after its gap marker (Control.GapType
// schema.EventBookUpdate and Book.Depth the book's view, which the
// dispatcher routes to the subscribers of diffs, of snapshots and of
// markers), one more for each other view of tops published since its
// last marker (up to 4 views; past them, the fourth names view 0, every
// view), with Control.GapType schema.EventBookSnapshot and Book.Depth
// the view, which reaches the subscribers of snapshots — a host following
// the book by its tops hears that the last one it got is no longer the
// book, once for each view. Tops of the book's own view have no marker of
// their own: the gap marker tells their subscribers; nor have any on a
// whole-book venue (Binance, Coinbase), whose gap marker names view 0,
// every view — a subscriber of snapshots hears one marker per break.
func (b *Book) PublishTop(ctx context.Context, n int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.usable() || b.o.Sink == nil {
		return nil
	}
	if err := b.flushOwedLocked(ctx, b.o.Events.Get); err != nil {
		return err
	}
	if err := b.heldQuoteLocked(ctx); err != nil {
		return err
	}
	ev, err := b.o.Events.Get(ctx)
	if err != nil {
		return err
	}
	b.topLocked(n, ev)
	b.topOut(ev.Book.Depth)
	return b.o.Sink.Publish(ctx, ev)
}

// maxTopViews is the most markers a book announces its break to its tops
// with (PublishTop's views), each naming its view: a host publishes a
// few. Past it, the last names view 0, the whole book's tops — every
// view's. The dispatcher routes a marker to every subscriber of the type,
// whatever the view; the view matters to a book downstream that follows
// it, and to a host that tells its views apart.
const maxTopViews = 4

// topOut records that a top of view was published (see Book.tops); a view
// past maxTopViews turns the last marker into one about every view.
func (b *Book) topOut(view int) {
	switch {
	case slices.Contains(b.tops[:b.nTops], view):
	case b.nTops < len(b.tops):
		b.tops[b.nTops] = view
		b.nTops++
	default:
		b.tops[len(b.tops)-1] = 0
	}
}

// Apply feeds one event to the book; ev stays the caller's. Book snapshots
// and diffs of the book's venue and symbol are applied; a gap marker of
// the venue about the book — of its symbol or of the whole venue
// connection (empty Symbol), with Control.GapType schema.EventBookUpdate,
// schema.EventBookSnapshot or schema.EventUnknown (no type: every stream),
// and of the book's view (Book.Depth) — and a lost connection of the venue
// (schema.EventConnState disconnected, reconnecting or closed) invalidate
// the book; anything else, a marker about trades or best bid/offers
// included, is ignored. A marker or connection state without its Control
// section (nil, as an event made by hand may be) reads it as zero: a gap
// marker about every stream, no range; a state ConnUnknown, ignored.
//
// A lost connection whose event is older (IngestTS) than the latest data
// that proved the book good — a snapshot, or a diff whose ids chain — is
// news of an earlier connection (wsclient reports state on a goroutine of
// its own, which may lag behind the new connection's messages) and is
// ignored; an event without IngestTS always invalidates. Conversely, a
// book message received (IngestTS, up to a minute) before a lost
// connection the book applied is the dead connection's tail and is
// dropped (Stats.AfterLoss): it must not make the book live again.
//
// A snapshot handed to a live ResyncFetch (Binance) book that is older
// than the book (LastSeq below the book's) is stale and dropped
// (Stats.Stale): a REST snapshot taken while the stream went on.
//
// The error is a failed fetch, resubscription or sink; the book has then
// already done what it could and tries again on a later diff.
func (b *Book) Apply(ctx context.Context, ev *schema.CanonicalEvent) error {
	return b.applyFrom(ctx, ev, 0)
}

// applyFrom is Apply; epoch is the book's epoch (Books.swap) when
// [Books] routed ev to it, read with its map before an Add may have
// replaced it, 0 for the host's own Apply. Such a message never makes a
// replaced book (retired) current again — a host that kept it would read
// it live, fed nothing more — nor, once it is replaced, is applied to it:
// not even when Add put the book back in its place since (a new epoch),
// where it would make the book, invalidated by that Add, live again on a
// state older than the messages routed to its replacement meanwhile.
func (b *Book) applyFrom(ctx context.Context, ev *schema.CanonicalEvent, epoch uint64) error {
	if ev.Venue != b.rule.Venue {
		return nil
	}
	if err := b.flushOwed(ctx, breaksBook(ev)); err != nil {
		// Still owed: the event is applied all the same (a diff skipped
		// would break the book), and nothing it would publish goes out
		// before the announcement (publishBBOLocked).
		return errors.Join(err, b.apply(ctx, ev, epoch))
	}
	return b.apply(ctx, ev, epoch)
}

// apply is Apply once what is owed of a break's announcement is out.
func (b *Book) apply(ctx context.Context, ev *schema.CanonicalEvent, epoch uint64) error {
	routed := epoch != 0
	switch ev.Type {
	case schema.EventConnState:
		if !connLost(ev) {
			return nil
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		err := b.lossLocked(ctx, ev)
		if !routed {
			b.lostAnywhereLocked(ev.IngestTS) // the host's own: no Feed
		}
		return err
	case schema.EventGap:
		if ev.Symbol != "" && ev.Symbol != b.symbol {
			return nil
		}
		if b.otherView(ev) {
			b.mu.Lock()
			defer b.mu.Unlock()
			return b.asideLocked(ctx, ev)
		}
		// A host's marker without its Control names no stream (EventUnknown)
		// and no range: it breaks the book as one about it does.
		switch c := ev.ControlOrZero(); c.GapType {
		case schema.EventBookUpdate, schema.EventBookSnapshot, schema.EventUnknown:
			b.mu.Lock()
			defer b.mu.Unlock()
			b.stats.Gaps++ // announced (an OKX prevSeqId break): the diff after it finds a book no longer live, and no break
			return b.invalidateLocked(ctx, ev, ReasonUpstream, c.GapFirstSeq, c.GapLastSeq)
		}
		return nil
	}
	if ev.Symbol != b.symbol {
		return nil
	}
	if b.otherView(ev) {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.asideLocked(ctx, ev)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if routed && (b.retired || b.epoch.Load() != epoch) {
		return nil // replaced since Books routed it (and maybe added again): the book in its place had it
	}
	if b.tailLocked(ev) {
		b.stats.AfterLoss++
		return nil
	}
	var err error
	if !routed && b.retired && b.live && ev.Type == schema.EventBookUpdate && b.seq.Rule == continuity.None {
		// The host's diff to a replaced book, which cannot tell what the
		// book missed meanwhile (no ids: Coinbase, Kraken): it can never
		// make the book current (below), so the book breaks as on a gap —
		// its stale levels dropped, the snapshot asked for
		// (Options.Resubscribe) — and the diff waits for it, as any diff
		// of a book not live. Kept live underneath, it would wait for
		// good for a snapshot nothing requests.
		err = b.invalidateLocked(ctx, ev, ReasonReplaced, 0, 0)
	}
	was, last := b.live, b.seq.Last()
	typ := ev.Type
	if typ == schema.EventBookSnapshot || typ == schema.EventBookUpdate {
		// The one place a book tells a restart (Bybit u = 1: "snapshot
		// data due to the restart of the service… overwrite your local
		// orderbook", Bybit v5 "Orderbook"), by the venue's continuity
		// rule, as the parser does (it publishes one as the
		// EventBookSnapshot it is): a diff of it — a host's, not
		// converted — is loaded as the snapshot it is, live or not,
		// counted once. Once per restart: a message of the u the book
		// already holds is that restart's data again, applied but not
		// counted — Bybit pushes a level-1 snapshot again, "the field u
		// … the same as that in the previous message", after 3 s without
		// a change (Bybit v5 "Orderbook"), every 3 s for as long as the
		// book after a restart stays at u = 1.
		// A resync in between (a lost connection, a gap) forgets the
		// book's u but not that its restart was counted: the snapshot
		// of the new subscription at u = 1 is the same restart's —
		// unless the book moved past 1 since (passedRestart).
		// A u = 1 generated before data the book took — a restart it
		// already loaded, delivered again by a rotation's other
		// connection, pushed again before a change, or a frame twice
		// — is not another restart, but by u alone the book cannot tell:
		// the parser drops such late copies by Bybit's cross sequence
		// seq (continuity.Stream.Older; normalize.NewBybit), which the
		// event does not carry. A host feeding a Bybit book its own
		// events from two connections must drop them likewise.
		if b.seq.Check(idsOf(&ev.Book)).Verdict == continuity.Restart {
			typ = schema.EventBookSnapshot
			if !b.restarted {
				b.restarted = true
				b.stats.Restarts++
				b.info("book: venue restarted its sequence", "seq", ev.Book.LastSeq)
			}
		}
	}
	switch typ {
	case schema.EventBookSnapshot:
		if b.okxPlaceholder(&ev.Book) {
			return nil // OKX's empty "snapshot" since the delisting: no book (okx_book.go)
		}
		if b.rule.Resync == ResyncFetch && !b.rule.fetchOKX() && b.live && ev.Book.LastSeq != 0 && ev.Book.LastSeq < b.seq.Last() {
			// A REST snapshot older than the book (a host's, fetched
			// while the stream went on): the book holds all it does and
			// more; loaded, it would rewind the book, whose next diff
			// would then read as a gap. Binance's ids never start again;
			// OKX's do (maintenance), and its stream snapshot is the
			// venue's book now (okx_book.go).
			b.stats.Stale++
			return nil
		}
		b.aside = krAside{} // a snapshot of its own view: nothing aside is taken (kraken_aside.go)
		err = b.snapshotLocked(ctx, ev, &ev.Book)
	case schema.EventBookUpdate:
		// The snapshot owed to the subscribers of diffs goes before them.
		err = errors.Join(err, b.publishSnapLocked(ctx, b.o.Events.Get), b.diffLocked(ctx, ev))
	}
	if !was && b.live {
		b.info("book: live", "seq", b.seq.Last(), "bids", b.bids.len(), "asks", b.asks.len())
	}
	if b.live && !routed && b.retired && (typ == schema.EventBookSnapshot || !was || (b.seq.Rule != continuity.None && b.seq.Last() != last)) {
		// Fed again by the host itself, on a message that proves it
		// current: a snapshot (a fetched one, or one taken from aside,
		// made it live), or a diff whose ids chained on to the book's —
		// it missed nothing. A diff that cannot tell (a repeat; one
		// without ids broke it, above) leaves it not live: applied on top of the
		// messages routed to its replacement, which it missed, its levels
		// would be served stale as current. Not by a message Books
		// routed before Add replaced it (a fetch without the lock spans
		// the swap): nothing feeds it any more.
		b.retired = false
	}
	return err
}

// lossLocked applies ev, a lost connection of the book's venue (Apply).
func (b *Book) lossLocked(ctx context.Context, ev *schema.CanonicalEvent) error {
	if ev.IngestTS != 0 && b.syncedAt > ev.IngestTS {
		return nil
	}
	if ev.IngestTS != 0 && b.asideSince(ev.IngestTS) {
		// The new connection's snapshot is aside: the book's levels
		// are the dead connection's, the snapshot to take is kept.
		if !b.live {
			return nil
		}
		b.lostSinceLocked(ev.IngestTS)
		err := b.invalidateLocked(ctx, ev, ReasonReconnect, 0, 0)
		b.aside.on = true
		return err
	}
	b.lostSinceLocked(ev.IngestTS)
	if b.fetching && (ev.IngestTS == 0 || ev.IngestTS > b.fetchFrom) {
		b.fetchLost = true // as syncedAt would judge it, had the diff been applied
	}
	return b.invalidateLocked(ctx, ev, ReasonReconnect, 0, 0)
}

// tailLocked reports whether ev was received before a loss already
// applied: the dead connection's tail, which its reader hands on after
// wsclient reported the loss on its own goroutine. Applied, it would make
// the book live again (a snapshot loaded, a fetch joined) on a connection
// that sends nothing more. (Older stamps than maxTail are not taken for a
// tail: a feed whose IngestTS is not wsclient's clock, a replay, must not
// be dropped for good.)
func (b *Book) tailLocked(ev *schema.CanonicalEvent) bool {
	return isTail(ev.IngestTS, b.lostAt.Load())
}

// isTail reports whether a message received at ingest (IngestTS) came
// before a loss stamped lostAt, by at most maxTail.
func isTail(ingest, lostAt int64) bool {
	return ingest != 0 && ingest < lostAt && lostAt-ingest <= int64(maxTail)
}

// otherView reports whether ev belongs to a view of the symbol other
// than the one the book follows (Book.Depth, as the parser read it from
// the stream's name): Binance's btcusdt@depth5, OKX books5, Bybit
// orderbook.1 beside the stream the book follows. Each is a stream of its
// own, with its own ids (Bybit) or a top-N snapshot per message (Binance,
// OKX): loaded, its snapshot would cut the book to N levels and its ids
// break the book's chain. The book follows the whole book where the
// venue's diffs are the whole book (Binance, Coinbase: every view is
// shallower), else its Rule.Depth, else (Depth 0, keep all) the deepest
// view it has seen. Depth 0 on a message (the whole book, or not said) is
// always the book's. It counts what it ignores.
func (b *Book) otherView(ev *schema.CanonicalEvent) bool {
	d := ev.Book.Depth
	if d == 0 {
		return false
	}
	switch ev.Type {
	case schema.EventBookSnapshot, schema.EventBookUpdate, schema.EventGap:
	default:
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	follow := b.rule.Depth
	switch {
	case !b.rule.views():
		follow = -1 // the whole book: deeper than any view
	case follow == 0:
		b.deepest = max(b.deepest, d)
		follow = b.deepest
	}
	// A view deeper than the book's depth is not its stream either: kept
	// truncated, the book would lose the levels that come into view when
	// a top one goes, which the venue never sends again.
	if follow >= 0 && d == follow {
		return false
	}
	if b.stats.OtherViews++; b.stats.OtherViews == 1 {
		b.warn("book: ignoring another view of the symbol (is Rule.Depth the depth subscribed?)", "view", d, "depth", b.rule.Depth)
	}
	return true
}

// keep is how many levels a side keeps: Rule.Depth, or — for a Depth 0
// rule of a venue that streams views (Kraken, Bybit, OKX) — the depth of
// the view the book follows, the deepest its messages named (0, all, while
// none did). A view's venue sends no delete for a level pushed out of it
// (Kraken "Spot Websockets (v2) Book Checksum": "the book should be
// truncated to your subscribed depth"): kept, it comes back into the top
// when a better level goes, where the venue has other levels.
func (b *Book) keep() int {
	if b.rule.Depth == 0 && b.rule.views() {
		return b.deepest
	}
	return b.rule.Depth
}

// check classifies a diff by the venue's continuity rule, and the first
// diff after a fetched OKX snapshot (align) by OKX's "How to manage a
// local order book correctly": its seqId at or below the snapshot's is
// covered (a Repeat), its prevSeqId at or below it joins the snapshot,
// above it follows messages the snapshot lacks (a Gap: fetched again).
func (b *Book) check(id continuity.IDs) continuity.Result {
	s := b.seq.Last()
	if !b.align || id.Last == 0 || id.Prev == 0 || id.Prev == s {
		return b.seq.Check(id)
	}
	switch {
	case id.Last <= s:
		return continuity.Result{Verdict: continuity.Repeat}
	case id.Prev < s:
		return continuity.Result{}
	}
	return continuity.Result{Verdict: continuity.Gap, MissingFirst: s + 1, MissingLast: id.Prev}
}

func idsOf(bk *schema.Book) continuity.IDs {
	return continuity.IDs{First: bk.FirstSeq, Last: bk.LastSeq, Prev: bk.PrevSeq}
}

// diffLocked applies, buffers or drops one diff, by the venue's
// continuity rule.
func (b *Book) diffLocked(ctx context.Context, ev *schema.CanonicalEvent) error {
	bk := &ev.Book
	id := idsOf(bk)
	// Never a Restart: apply loads one as a snapshot.
	r := b.check(id)
	if took, err := b.takeAsideLocked(ctx, ev); took { // a new subscription's (kraken_aside.go)
		return err
	}
	if !b.live {
		if b.rule.Resync == ResyncFetch {
			b.buffer(bk)
			return b.fetchLocked(ctx, ev)
		}
		b.stats.Waiting++
		return b.askLocked(ctx, "diffs while waiting for a snapshot")
	}
	switch r.Verdict {
	case continuity.Repeat:
		b.stats.Stale++
		return nil
	case continuity.Gap:
		b.stats.Gaps++
		if err := b.invalidateLocked(ctx, ev, ReasonGap, r.MissingFirst, r.MissingLast); err != nil {
			return err
		}
		if b.rule.Resync == ResyncFetch {
			b.buffer(bk)
			return b.fetchLocked(ctx, ev)
		}
		return nil
	}
	b.applyLevels(bk)
	b.stats.Applied++
	if ok, err := b.verifyLocked(ctx, ev, bk); !ok {
		return err
	}
	b.exTS, b.inTS = ev.ExchangeTS, ev.IngestTS
	b.heardLocked()
	if b.seq.Rule != continuity.None && bk.LastSeq != 0 {
		b.syncedAt = ev.IngestTS // its ids prove it continues the book
	}
	return b.publishBBOLocked(ctx, ev)
}

// applyLevels applies a diff's levels and moves the sequence on. A
// fetched book drops the levels beyond its snapshot's range: it never
// serves them (topLocked) and resyncs before its top could reach them
// (outOfRange), so kept they would only grow the book, without bound, with
// every far price the venue's whole-book diffs touch.
func (b *Book) applyLevels(bk *schema.Book) {
	b.applySide(&b.bids, bk.Bids, b.hasFloor, b.floor)
	b.applySide(&b.asks, bk.Asks, b.hasCeil, b.ceil)
	b.bids.truncate(b.keep())
	b.asks.truncate(b.keep())
	b.bound()
	b.seq.Accept(idsOf(bk))
	b.passedRestart()
	b.align = b.align && bk.LastSeq == 0
}

// passedRestart ends a counted restart once the book's position (a diff
// applied, a snapshot loaded) is past 1: the numbering passed it, and a
// u = 1 from now on is another restart, even after a resync has
// forgotten the position. Checked as the position moves, not at the next
// message: a loss right after the first message past 1 would otherwise
// hide a second restart.
func (b *Book) passedRestart() {
	if b.seq.Last() > 1 {
		b.restarted = false
	}
}

// applySide applies a diff's levels to one side, dropping those beyond
// limit (when bounded): one by one, or merged for a large diff.
func (b *Book) applySide(s *side, levels []schema.Level, bounded bool, limit schema.Decimal) {
	beyond := func(l schema.Level) bool {
		c := l.Price.Cmp(limit)
		return bounded && ((s.bid && c < 0) || (!s.bid && c > 0))
	}
	if len(levels) < mergeAt {
		for _, l := range levels {
			if !beyond(l) {
				s.set(l.Price, l.Qty)
			}
		}
		return
	}
	in := b.mergeIn[:0]
	for _, l := range levels {
		if !beyond(l) {
			in = append(in, l)
		}
	}
	s.merge(in)
	if cap(in) > b.o.MaxLevels {
		in = nil // a diff past the book's own bound: its scratch is not kept
	}
	b.mergeIn = in
}

// bound cuts a side past Options.MaxLevels to its best MaxLevels and
// makes the worst level kept the side's range, as a truncated snapshot's
// (setRange): the book has let the levels beyond go. A book of views
// (keep() > 0) is bounded by its view and never cut below it: a side cut
// inside the view lacks the levels that come into view when better ones
// go — which the venue sends once, as they enter — and, once fewer than
// the checksum's depth are left, fails the venue's good checksum.
func (b *Book) bound() {
	m := max(b.o.MaxLevels, b.keep())
	if b.bids.len() > m {
		b.bids.truncate(m)
		b.floor, b.hasFloor = b.bids.at(m-1).Price, true
	}
	if b.asks.len() > m {
		b.asks.truncate(m)
		b.ceil, b.hasCeil = b.asks.at(m-1).Price, true
	}
	// A large diff grew a side's slice past its bound before the cut (or
	// its deletes left it mostly empty): the capacity is not kept.
	b.bids.shrink(2*m + keepSlice)
	b.asks.shrink(2*m + keepSlice)
}

// verifyLocked checks the book after a change — the venue's checksum,
// crossed sides — and marks it live, or invalidates it.
func (b *Book) verifyLocked(ctx context.Context, src *schema.CanonicalEvent, bk *schema.Book) (bool, error) {
	// A checksum of 0 is a placeholder, not a checksum: OKX sends
	// "checksum":0 since it deprecated the books checksum (2026), and a
	// real CRC32 is 0 once in 2³² books, whose next checksum checks them.
	if bk.HasChecksum && bk.Checksum != 0 && b.rule.Checksum != ChecksumNone {
		b.stats.Checksums++
		ok := b.checksumLocked() == bk.Checksum || b.learnScales(bk.Checksum)
		b.ck.snap = false
		if !ok {
			b.stats.ChecksumErrors++
			return false, b.invalidateLocked(ctx, src, ReasonChecksum, bk.LastSeq, bk.LastSeq)
		}
		b.ck.sure = true
	}
	b.ck.snap = false // only a snapshot's own checksum teaches a precision
	if bid, ok := b.bids.best(); ok {
		if ask, ok := b.asks.best(); ok && bid.Price.Cmp(ask.Price) >= 0 {
			b.stats.Crossed++
			return false, b.invalidateLocked(ctx, src, ReasonCrossed, bk.LastSeq, bk.LastSeq)
		}
	}
	if b.outOfRange() {
		return false, b.invalidateLocked(ctx, src, ReasonRange, bk.LastSeq, bk.LastSeq)
	}
	if !b.live {
		b.live, b.asked = true, false
		b.liveSince = b.now()
		b.aside = krAside{} // live: nothing aside is taken any more (kraken_aside.go)
	}
	return true, nil
}

// snapshotLocked replaces the book with a snapshot, then (ResyncFetch)
// replays the buffered diffs it does not cover.
func (b *Book) snapshotLocked(ctx context.Context, src *schema.CanonicalEvent, bk *schema.Book) error {
	b.bids.load(bk.Bids)
	b.asks.load(bk.Asks)
	b.bids.truncate(b.keep())
	b.asks.truncate(b.keep())
	b.ck = ckScales{px: b.rule.PriceScale, qty: b.rule.QtyScale, snap: true} // a pair's precision may change: learned again
	b.setRange(bk)
	b.bound()
	b.seq.Snapshot(bk.LastSeq)
	b.passedRestart()
	b.align = b.rule.fetchOKX()
	b.stats.Snapshots++
	if ok, err := b.verifyLocked(ctx, src, bk); !ok {
		return err
	}
	b.syncedAt = src.IngestTS
	b.exTS, b.inTS = src.ExchangeTS, src.IngestTS
	b.heardLocked()
	if ok, err := b.replayLocked(ctx, src); !ok {
		return err
	}
	// A snapshot the stream did not carry (fetched): its subscribers
	// never saw it. One the stream carried goes on to them as it is.
	b.snapOwed = bk == &b.fetchEv.Book
	serr := b.publishSnapLocked(ctx, b.o.Events.Get)
	return errors.Join(serr, b.publishBBOLocked(ctx, src))
}

// publishSnapLocked publishes the state a book went live on from a
// snapshot it fetched (Binance, OKXFetch: any Fetcher), the buffered
// diffs it replayed included, as a pooled EventBookSnapshot of all its
// levels (topLocked: a fetched book's down to its snapshot's range;
// Book.LastSeq the id of the last diff applied), taken with get: a
// subscriber of the book's diffs, which never saw the REST snapshot,
// rebuilds the book from it, as from a venue's stream snapshot. Not before
// a break's owed announcement (the marker first); on a pool that gives
// none, it is owed (snapOwed) and goes out — the book's state then — before
// the next diff is applied, after the owed announcement, or by the retry
// timer (RetryInterval, by the Clock), whichever comes first; a break
// drops it (clearLocked: the next snapshot is owed instead).
func (b *Book) publishSnapLocked(ctx context.Context, get func(context.Context) (*schema.CanonicalEvent, error)) error {
	if !b.snapOwed || b.o.Sink == nil || b.owing.Load() || !b.usable() {
		return nil
	}
	ev, err := get(ctx)
	if err != nil {
		b.armRetryLocked(err)
		return err
	}
	b.snapOwed = false
	b.topLocked(0, ev)
	return b.o.Sink.Publish(ctx, ev)
}

// replayLocked applies the buffered diffs after a snapshot. A buffer that
// does not join the snapshot (too old a snapshot, or a gap inside the
// buffer) leaves the book not live with the rest still buffered.
func (b *Book) replayLocked(ctx context.Context, src *schema.CanonicalEvent) (bool, error) {
	for i := 0; i < b.npend; i++ {
		p := b.pend(i)
		switch b.check(idsOf(p)).Verdict {
		case continuity.Repeat:
			b.stats.Stale++
			continue
		case continuity.Gap:
			b.keepPending(i)
			b.clearLocked()
			return false, nil
		}
		b.applyLevels(p)
		b.stats.Applied++
		if ok, err := b.verifyLocked(ctx, src, p); !ok {
			b.keepPending(i + 1)
			return false, err
		}
	}
	b.keepPending(b.npend)
	return true, nil
}

// pend returns the i-th buffered diff, oldest first.
func (b *Book) pend(i int) *schema.Book {
	j := b.phead + i
	if j >= len(b.pending) {
		j -= len(b.pending)
	}
	return &b.pending[j]
}

// keepPending drops the buffered diffs before i (the i oldest), in O(i):
// the buffer is a ring, nothing moves. A dropped diff's slices go with it
// when they are large (see release).
func (b *Book) keepPending(i int) {
	for j := range i {
		p := b.pend(j)
		b.pendLv -= len(p.Bids) + len(p.Asks)
		release(p)
	}
	b.npend -= i
	if b.npend == 0 {
		b.phead = 0
	} else if b.phead += i; b.phead >= len(b.pending) {
		b.phead -= len(b.pending)
	}
}

// keepSlice is the most levels a buffer slot keeps the slices of once
// its diff left: the slices of a larger one go, so that the buffer does
// not hold MaxBuffer slots each the size of the largest diff it ever held.
const keepSlice = 1024

// release drops a buffer slot's slices when they are large.
func release(p *schema.Book) {
	if cap(p.Bids) > keepSlice {
		p.Bids = nil
	}
	if cap(p.Asks) > keepSlice {
		p.Asks = nil
	}
}

// buffer copies a diff into the buffer, reusing the slices of the slot.
// It holds at most MaxBuffer diffs and MaxLevels levels in all (a diff
// may hold as many levels as a frame): past either, the oldest go.
func (b *Book) buffer(bk *schema.Book) {
	b.stats.Buffered++
	n := len(bk.Bids) + len(bk.Asks)
	drop, lv := 0, b.pendLv
	for drop < b.npend && (b.npend-drop == b.o.MaxBuffer || lv+n > b.o.MaxLevels) {
		p := b.pend(drop)
		lv -= len(p.Bids) + len(p.Asks)
		drop++
	}
	b.keepPending(drop)
	b.stats.Overflowed += uint64(drop)
	if b.npend == len(b.pending) {
		b.growPending()
	}
	p := b.pend(b.npend)
	bids, asks := append(p.Bids[:0], bk.Bids...), append(p.Asks[:0], bk.Asks...)
	*p = *bk
	p.Bids, p.Asks = bids, asks
	b.npend++
	b.pendLv += n
}

// growPending makes room in a full ring for one more diff: twice the
// slots, up to MaxBuffer, the diffs moved (with their slices) to the
// front in order.
func (b *Book) growPending() {
	n := min(max(2*len(b.pending), 8), b.o.MaxBuffer)
	ring := make([]schema.Book, n)
	for i := range b.npend {
		ring[i] = *b.pend(i)
	}
	b.pending, b.phead = ring, 0
}

// fetchLocked fetches snapshots until one joins the buffered diffs, at most
// FetchAttempts of them, and not sooner than RetryInterval after a round
// that failed.
func (b *Book) fetchLocked(ctx context.Context, src *schema.CanonicalEvent) error {
	b.okxNoteReset(src)
	if b.fetching {
		return nil // another goroutine's fetch is on its way: the diff waits in the buffer
	}
	if !b.lastRound.IsZero() && b.sinceLocked(&b.lastRound) < max(b.o.RetryInterval, b.wait) {
		return nil
	}
	if !b.resyncDue("fetch") {
		return nil
	}
	b.wait = 0
	b.info("book: fetching a snapshot", "buffered", b.npend)
	for range b.o.FetchAttempts {
		b.stats.Fetches++
		b.fetchEv.Reset()
		err := b.fetchUnlocked(ctx, src.IngestTS)
		if b.live || b.fetchLost {
			// Made live meanwhile (a snapshot handed to Apply): it holds
			// what the fetched one does. Or the connection was lost after
			// the diff that asked for it: the buffered diffs joined to the
			// snapshot would make the book live on a stream that sends
			// nothing more; the new connection's first diff fetches again.
			b.lastRound = time.Time{}
			return nil
		}
		if err != nil {
			b.stats.FetchErrors++
			b.lastRound = b.now()
			if fe := (*FetchError)(nil); errors.As(err, &fe) {
				b.wait = fe.RetryAfter // the venue's wait: going on earlier extends a ban
			}
			b.warn("book: snapshot fetch failed", "err", err)
			return err
		}
		b.okxAfterReset(&b.fetchEv)
		if err := b.snapshotLocked(ctx, src, &b.fetchEv.Book); err != nil {
			b.lastRound = b.now()
			return err
		}
		if b.live {
			b.lastRound = time.Time{}
			return nil
		}
	}
	b.lastRound = b.now()
	b.info("book: every snapshot fetched was older than the buffered diffs", "attempts", b.o.FetchAttempts, "retry_after", b.o.RetryInterval)
	return ErrStale
}

// fetchUnlocked calls the Fetcher without the book's lock, so that a
// venue slow to answer (BinanceREST waits up to its Timeout) does not hold
// the book's readers: they see it as it is meanwhile, not live. A diff
// applied meanwhile by another goroutine is buffered behind the others
// and starts no fetch of its own (fetching); b.fetchEv is the fetching
// goroutine's until it returns.
func (b *Book) fetchUnlocked(ctx context.Context, from int64) error {
	b.fetching, b.fetchFrom, b.fetchLost = true, from, false
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.fetching = false
	}()
	return b.o.Fetcher.Fetch(withBookClock(ctx, b.o.Clock), b.symbol, &b.fetchEv)
}

// setRange records the range of a snapshot bk a ResyncFetch book just
// loaded: the worst level of each side that may have been truncated (as
// many levels as the Fetcher's SnapshotDepth, or any for a Fetcher that
// does not say, or for a snapshot the book did not fetch: one handed to
// Apply says nothing of the limit it was taken with).
func (b *Book) setRange(bk *schema.Book) {
	b.hasFloor, b.hasCeil = false, false
	if b.rule.Resync != ResyncFetch {
		return
	}
	limit := 0
	if d, ok := b.o.Fetcher.(snapshotDepth); ok && bk == &b.fetchEv.Book {
		limit = d.SnapshotDepth()
	}
	if b.okxWholeView(bk, limit) {
		return
	}
	if n := b.bids.len(); n > 0 && n >= limit {
		b.floor, b.hasFloor = b.bids.at(n-1).Price, true
	}
	if n := b.asks.len(); n > 0 && n >= limit {
		b.ceil, b.hasCeil = b.asks.at(n-1).Price, true
	}
}

// outOfRange reports whether a side's top left its snapshot's range (or
// the side emptied): its true best level may be one the book never saw.
func (b *Book) outOfRange() bool {
	if b.hasFloor {
		if l, ok := b.bids.best(); !ok || l.Price.Cmp(b.floor) < 0 {
			return true
		}
	}
	if b.hasCeil {
		if l, ok := b.asks.best(); !ok || l.Price.Cmp(b.ceil) > 0 {
			return true
		}
	}
	return false
}

// clearLocked empties the book; nothing of it may survive a resync.
func (b *Book) clearLocked() {
	b.live = false
	b.seq.Reset()
	b.align = false
	b.bids.clear()
	b.asks.clear()
	b.topKnown = false
	b.silent, b.silOwed, b.silLeft = false, false, 0 // not live says more
	b.exTS, b.inTS = 0, 0
	b.hasFloor, b.hasCeil = false, false
	b.aside.on = false // what was kept aside came before the break
	b.snapOwed = false // the next snapshot is owed instead
}

// invalidateLocked clears the book, publishes a gap marker when there was
// something to lose, and asks for a new snapshot where the rule says so.
func (b *Book) invalidateLocked(ctx context.Context, src *schema.CanonicalEvent, reason string, first, last uint64) error {
	had := b.live || b.bids.len() > 0 || b.asks.len() > 0
	quoted := b.topKnown && !sameBBO(b.top, schema.BBO{})
	if reason == ReasonReconnect || (b.live && b.sinceLocked(&b.liveSince) >= b.stableFor()) {
		// It was healthy, or its stream starts again on a new connection
		// (whose redials wsclient paces): a new run.
		b.resyncs, b.deferLog = 0, false
	}
	b.clearLocked()
	if reason == ReasonReconnect {
		// A resubscription asked for on the lost connection is void
		// (package session drops it with the connection), even when the
		// book had nothing left to lose (empty since the break that
		// asked): the next diff that finds it waiting asks again, not
		// snapshotWaits × RetryInterval later.
		b.asked, b.askFailed = false, time.Time{}
	}
	if !had {
		return nil
	}
	b.stats.Invalidations++
	b.asked, b.askFailed = false, time.Time{}
	if reason == ReasonReconnect {
		b.info(reason, "state", src.ControlOrZero().State.String())
	} else {
		b.warn(reason, "first", first, "last", last)
	}
	err := b.markLocked(ctx, src, reason, first, last, quoted)
	if reason != ReasonReconnect && reason != ReasonAddedAgain { // those resync on the next diff (addedAgainLocked)
		if rerr := b.askLocked(ctx, reason); err == nil {
			err = rerr
		}
	}
	return err
}

// markLocked announces a break: a gap marker of reason, then, when the
// book had published a quote, its withdrawal (an EventBBO with no bid and
// no ask), then a marker about each view of the tops it published since
// its last marker (PublishTop). Each waits for the pool with ctx; what
// ctx leaves out is owed (owedMark), published before anything else the
// book publishes. A break while one's marker is still owed adds its quote
// and tops to it: the subscribers have not heard of the first yet, which
// tells them. A break after the first's marker went out (its withdrawal
// or tops still owed: the book went live again on a snapshot applied by
// a ctx that left them owed) has a marker of its own, owed first: the
// subscribers of diffs heard of the first break, then saw the new
// snapshot, and would take the book for good — a crossed book or a
// checksum mismatch no parser marks.
func (b *Book) markLocked(ctx context.Context, src *schema.CanonicalEvent, reason string, first, last uint64, quoted bool) error {
	if b.o.Sink == nil {
		return nil
	}
	o := &b.owed
	if o.parts&silGap == 0 {
		o.parts |= silGap
		o.reason, o.first, o.last, o.exTS, o.inTS = reason, first, last, src.ExchangeTS, src.IngestTS
		o.view = b.gapView()
	}
	if quoted {
		o.parts |= silQuote
	}
	o.addTops(b.tops[:b.nTops], o.covered())
	b.nTops = 0
	b.owing.Store(true)
	return b.flushOwedLocked(ctx, b.o.Events.Get)
}

// addTops adds a marker about each view of tops to the announcement but
// those the view covered, that of the announcement's gap marker
// (owedMark.covered; -1 when it has none), tells of (covers): the
// dispatcher routes a marker about diffs to the subscribers of snapshots
// too, and a second marker would tell them of one break twice.
func (o *owedMark) addTops(views []int, covered int) {
	for _, view := range views {
		if covers(covered, view) {
			continue
		}
		if i := slices.Index(o.tops[:o.nTops], view); i >= 0 {
			o.parts |= silTop << i
			continue
		}
		i := min(o.nTops, maxTopViews-1)
		if o.nTops == maxTopViews {
			o.tops[i] = 0 // every view (Book.topOut)
		} else {
			o.tops[i], o.nTops = view, o.nTops+1
		}
		o.parts |= silTop << i
	}
}

// takeOver takes on what old, the book b replaces in [Books], has out
// and owes its subscribers: the withdrawal of its best bid/offer, a
// marker about each view of its tops (ReasonReplaced), a gap marker of
// its view where it was live and b is of another view (ReasonReplaced:
// the stream of its view ends), and a break's announcement it still
// owed, or its silence marker (ReasonSilent) — but for the gap marker
// where broke (b, live before Add on the tail of old's loss, was
// invalidated by it: inherit) and b's view covers old's: b's own marker
// told of that loss. Fed nothing more, old would leave them the
// subscribers' latest for good, and b publishes nothing before it is
// live. They go out at once where the pool gives (never waiting: Add has
// no ctx), else before anything b publishes, as b's own; old publishes
// nothing more. A b without a Sink publishes nothing: old's Sink then
// withdraws them, where its pool gives at once (what it does not is
// lost, logged). A b of another Sink (sameSink: another dispatcher)
// does not reach old's subscribers: old publishes all of it through its
// own Sink — its gap marker, where it was live, as its markers to them
// end — at once where its pool gives, else by its retry timer (handing);
// b's subscribers get the break old owed alone.
func (b *Book) takeOver(old *Book, broke bool) {
	// Last, after old's lock and b's: the books to close with b.
	defer b.adopt(old)
	broke = b.inherit(old) || broke // again: a loss old applied since Add's first look
	b.mu.Lock()
	sink, view := b.o.Sink, b.gapView()
	b.mu.Unlock()
	publishes := sink != nil
	old.mu.Lock()
	// Apart: b's Sink (another dispatcher) does not reach old's
	// subscribers. What old has out and owes goes to them through its
	// own Sink, b's marker about a loss it broke on does not tell them
	// of it, and the markers old published to them end here: a gap
	// marker of its view where it was live, as for a book of another
	// view. b's subscribers get the break old owed — the stream's diffs
	// (the Books' next sink) reach them too — and nothing about old's
	// quote or tops, which they never had.
	apart := publishes && old.o.Sink != nil && !sameSink(sink, old.o.Sink)
	brk := old.owed // the break's announcement old owed, if any
	o := old.owed
	if o.parts == 0 {
		o = owedMark{reason: ReasonReplaced, exTS: old.exTS, inTS: old.inTS} // stamped as its last message
	}
	if old.silLeft&silGap != 0 && o.parts&silGap == 0 {
		// Its silence marker, owed (the pool gave none): the subscribers
		// of its diffs have not heard that it stopped.
		o.parts |= silGap
		o.view = old.gapView()
		if old.owed.parts == 0 {
			o.reason = ReasonSilent
		}
	}
	old.silLeft, old.silOwed = 0, false
	if old.live && o.parts&silGap == 0 && (old.gapView() != view || apart) {
		// Live, replaced by a book of another view: the stream of its
		// view ends here (the host subscribed another depth), and a
		// book downstream of it would serve its last state as live for
		// good. Of the same view, the stream goes on into b.
		o.parts |= silGap
		o.view = old.gapView()
	}
	covered := o.covered()
	if broke && publishes && !apart && (covered < 0 || covers(view, covered)) {
		// b was live before the swap and broke on the loss it took on
		// (inherit): its gap marker, published or owed, of a view
		// covering old's, tells the subscribers of that loss — old's
		// would tell them twice — and the tops of its view.
		o.parts &^= silGap
		covered = view
	}
	if old.topKnown && !sameBBO(old.top, schema.BBO{}) {
		o.parts |= silQuote
	}
	o.addTops(old.tops[:old.nTops], covered)
	old.owed, old.nTops, old.top, old.topKnown = owedMark{}, 0, schema.BBO{}, true
	// Retired: an Apply the Books routed to it before the swap, still to
	// run, must not publish a quote after its withdrawal (nor its
	// fetched snapshot after the announcement below); and a host that
	// kept the book must not read it live — fed nothing more, its state
	// only ages, which without MaxSilence nothing would judge.
	old.retired = true
	if (!publishes || apart) && o.parts != 0 && old.o.Sink != nil {
		old.owed = o
		err := old.flushOwedLocked(context.Background(), old.tryGet)
		if apart && old.owed.parts != 0 {
			// What the pool did not give stays owed to old's
			// subscribers: tried again by old's retry timer, at its
			// Close, or at an event the Books routed to it before the
			// swap (Book.handing).
			old.handing = true
			old.owing.Store(true)
			old.armRetryLocked(pool.ErrExhausted)
		} else if err != nil {
			old.warn("book: replaced book's withdrawal not published", "err", err)
		}
		o = owedMark{}
		if apart && brk.parts&silGap != 0 && (!broke || !covers(view, brk.view)) {
			o = owedMark{parts: silGap, view: brk.view, reason: brk.reason, first: brk.first, last: brk.last, exTS: brk.exTS, inTS: brk.inTS}
		}
	}
	if !old.handing {
		old.owed = owedMark{}
		old.owing.Store(false)
		old.o.Sink = nil
	}
	old.mu.Unlock()
	if o.parts == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.o.Sink == nil {
		return
	}
	if b.owed.parts == 0 {
		b.owed = o
	} else {
		b.owed.merge(&o)
	}
	b.owing.Store(true)
	err := b.flushOwedLocked(context.Background(), b.tryGet)
	if err == nil {
		err = b.heldQuoteLocked(context.Background())
	}
	if err != nil && !errors.Is(err, pool.ErrExhausted) {
		b.warn("book: replaced book's withdrawal not published", "err", err)
	}
}

// adopt makes the books old was to close with it, and old itself where
// it still owes its own subscribers (handing: takeOver), closed with b,
// which replaced it (Book.CloseContext): Books.Close closes the books it
// holds, and their retry timers must not outlive the host. It keeps only
// the books still handing: one whose announcement went out has nothing
// left to close, one added again (Books.Add) is the Books' or the host's
// again — so no ring of books forms, each handing book closed with
// the book in its place.
func (b *Book) adopt(old *Book) {
	list := append(old.takeHandoffs(), old)
	kept := list[:0]
	for _, h := range list {
		h.mu.Lock()
		if h.handing && h != b {
			kept = append(kept, h)
		}
		h.mu.Unlock()
	}
	clear(list[len(kept):])
	if len(kept) == 0 {
		return
	}
	b.mu.Lock()
	shut := b.shut
	if !shut {
		b.handoffs = append(b.handoffs, kept...)
	}
	b.mu.Unlock()
	if shut {
		// b closed already (a Books.Close or a host's Close between the
		// swap and here, its handed-off books taken then): they close
		// now, never waiting for the pool (Add has no ctx) — their
		// timers must not outlive the host. What the pool does not give
		// is logged, as at Close.
		closeHanding(context.Background(), kept, false)
	}
}

// sameSink reports whether a and b are one Sink: the replaced book's
// subscribers are the replacement's (takeOver). Two of one type compare
// as Go's == does (two pointers: one instance). A Sink whose value
// cannot be compared — a func adapter, or a struct value holding one
// (its type comparable, == on it a panic) — is taken for another: its
// announcement then reaches the replaced book's subscribers through
// their own Sink, at worst once more.
func sameSink(a, b Sink) bool {
	ta := reflect.TypeOf(a)
	if ta == nil || ta != reflect.TypeOf(b) {
		return false
	}
	return reflect.ValueOf(a).Comparable() && reflect.ValueOf(b).Comparable() && a == b
}

// inherit makes b, which replaces old in [Books], the book of old's
// connection: its Feed (Book.feed; unless a message bound b already),
// whose losses concern b and another client's do not, and its latest
// loss (lostAt), whose tail — a message received before it, handed on
// after it — b must not load either: without them a replacement took
// the dead connection's snapshot and read live on a connection that
// sends nothing more, and another client's loss dropped the snapshot of
// its own living one. A b already live on that tail (the host's own
// Apply, or a message routed to it between Add's first look and the
// swap) is invalidated, as the loss would have had b been in the Books
// then; its announcement never waits for the pool (Add has no ctx): what
// the pool does not give is owed. It reads old without its lock, which
// an Apply may hold for long (a Resubscribe, a marker waiting for the
// pool): Add must not wait for it.
func (b *Book) inherit(old *Book) (broke bool) {
	b.feed.CompareAndSwap(nil, old.feed.Load())
	at := old.lostAt.Load()
	b.mu.Lock()
	defer b.mu.Unlock()
	if a := old.anyLost.Load(); a > b.anyLost.Load() {
		b.anyLost.Store(a)
	}
	if !b.live || !isTail(b.syncedAt, at) {
		b.lostSinceLocked(at)
		return false
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // what the pool gives at once
	ev := schema.CanonicalEvent{Venue: b.rule.Venue, Type: schema.EventConnState, IngestTS: at,
		Control: &schema.Control{Kind: schema.ControlConnState, State: schema.ConnDisconnected, Reason: ReasonReplaced}}
	if err := b.lossLocked(ctx, &ev); err != nil && !errors.Is(err, pool.ErrExhausted) {
		b.warn("book: replacement live on the lost connection's tail: marker not published", "err", err)
	}
	return true
}

// judgedBy makes the loss the book's tail rule judges its messages by
// (Book.tailLocked) that of f, the Feed it joined, or a later one applied
// through no Feed (anyLost: every connection's). f's is read under the
// book's lock: a loss of f applied to the book since the caller looked
// (Books.applyTo) is not undone — read before, it was, and the dead
// connection's tail loaded.
func (b *Book) judgedBy(f *Feed) {
	b.mu.Lock()
	b.lostAt.Store(max(f.lostAt.Load(), b.anyLost.Load()))
	b.mu.Unlock()
}

// lostAnywhereLocked records that the loss stamped at (IngestTS), which
// came through no Feed, concerns every connection of the venue
// (Book.judgedBy) — where the book applied it (lossLocked ignores one
// older than its data).
func (b *Book) lostAnywhereLocked(at int64) {
	if at > b.anyLost.Load() && at <= b.lostAt.Load() {
		b.anyLost.Store(at)
	}
}

// lostAnywhere is lostAnywhereLocked, the lock taken.
func (b *Book) lostAnywhere(at int64) {
	b.mu.Lock()
	b.lostAnywhereLocked(at)
	b.mu.Unlock()
}

// lostSinceLocked records a loss stamped at (IngestTS) when later than
// the latest the book knows.
func (b *Book) lostSinceLocked(at int64) {
	if at > b.lostAt.Load() {
		b.lostAt.Store(at)
	}
}

// covered is the view the gap marker of o names (owedMark.view), -1 when
// its gap marker is not part of what is owed: the tops of the views it
// covers need no marker of their own (owedMark.addTops).
func (o *owedMark) covered() int {
	if o.parts&silGap == 0 {
		return -1
	}
	return o.view
}

// merge adds to o, what a replacement book owes, what the book it
// replaced owed (Book.takeOver). Two gap markers of different views are
// one about view 0, every view: a book downstream of either view hears
// it (and one of another view, which lost nothing, resynchronises once
// more — the safe side).
func (o *owedMark) merge(old *owedMark) {
	if old.parts&silGap != 0 {
		switch {
		case o.parts&silGap == 0:
			o.view = old.view
		case o.view != old.view:
			o.view = 0
		}
	}
	o.parts |= old.parts & (silGap | silQuote)
	o.addTops(old.tops[:old.nTops], o.covered())
}

// covers reports whether a gap marker naming view gap (-1: none) tells
// the subscribers of tops of view of the break: its own view, and every
// view where it names view 0 — a whole-book venue's (Book.gapView), or
// past maxTopViews. A marker of that view would tell a subscriber of
// snapshots, whom the dispatcher routes a marker about diffs to, of one
// break twice.
func covers(gap, view int) bool {
	return gap == 0 || (gap > 0 && gap == view)
}

// owedMark is a break's announcement not yet published whole (markLocked):
// the parts left (silParts), the marker's reason, ids and times, the
// view its gap marker names — that of the book that broke, kept when a
// replacement publishes it (takeOver) — and the views of the tops its
// markers name.
type owedMark struct {
	parts       silParts
	view        int
	reason      string
	first, last uint64
	exTS, inTS  int64
	tops        [maxTopViews]int
	nTops       int
}

// flushOwedLocked publishes what is owed of a break's announcement, in
// order, each part's event taken with get (Events.Get with ctx, or
// without waiting), and stops at the first the pool does not give.
func (b *Book) flushOwedLocked(ctx context.Context, get func(context.Context) (*schema.CanonicalEvent, error)) error {
	o := &b.owed
	src := schema.CanonicalEvent{ExchangeTS: o.exTS, IngestTS: o.inTS}
	err, gerr := b.announceLocked(ctx, get, &o.parts, &src, &o.tops, o.view, o.reason, o.first, o.last)
	if gerr != nil {
		// What is left stays owed, the withdrawal included: not
		// dropped (Stats.BBODropped), tried again at the next event or
		// by the retry timer, whichever comes first.
		b.armRetryLocked(gerr)
		return errors.Join(err, gerr)
	}
	*o = owedMark{}
	b.owing.Store(false)
	if b.handing {
		b.handing, b.o.Sink = false, nil // replaced: nothing more from it (takeOver)
		return err
	}
	return errors.Join(err, b.publishSnapLocked(ctx, get))
}

// armRetryLocked arms the retry timer (retryOwed) when err says the pool
// was exhausted: what the book could not publish then — a quote, a
// break's announcement — goes out RetryInterval later (by the Clock) if
// no message of the book published it first. Without it a quiet symbol
// (a lost connection sends nothing) left the subscribers' latest the
// older quote, or the broken book's, for as long as it stayed quiet; the
// MaxSilence timer, where there is one, only sees a book gone silent.
func (b *Book) armRetryLocked(err error) {
	if b.retryArmed || b.shut || (b.closed && !b.handing) || b.o.Sink == nil || !errors.Is(err, pool.ErrExhausted) {
		return
	}
	b.retryArmed = true
	b.arm(&b.retry, b.o.RetryInterval, b.retryOwed)
}

// arm sets *t to run f after d by the Clock: a timer made the first time,
// reset after (one a purpose, never one a call).
func (b *Book) arm(t *wsclient.Timer, d time.Duration, f func()) {
	if *t == nil {
		*t = b.o.Clock.AfterFunc(d, f)
	} else {
		(*t).Reset(d)
	}
}

// retryOwed runs on the retry timer (armRetryLocked): it publishes what
// is owed of a break's announcement, then the book's quote if it is live
// and its latest is not out, never waiting for the pool; on an exhausted
// pool still, it arms the timer again.
func (b *Book) retryOwed() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.retryArmed = false
	if b.handing {
		b.handOverLocked()
		return
	}
	if b.closed || b.o.Sink == nil {
		return
	}
	// A sink that waits waits a bounded time, as for a silence marker.
	ctx, cancel := context.WithTimeout(context.Background(), StateTimeout)
	defer cancel()
	err := b.flushOwedLocked(ctx, b.tryGet)
	if err == nil {
		// The quote it tries again was counted in BBODropped when it
		// was dropped: a try on a pool still exhausted drops no update.
		dropped := b.stats.BBODropped
		err = b.heldQuoteLocked(ctx)
		b.stats.BBODropped = dropped
	}
	if err != nil && !errors.Is(err, pool.ErrExhausted) {
		b.warn("book: owed announcement or quote not published", "err", err)
	}
}

// handOverLocked publishes, never waiting, what b, replaced by a book of
// another Sink (takeOver), still owes its own subscribers; on an
// exhausted pool still, it arms the retry timer again. Once it is out,
// b publishes nothing more.
func (b *Book) handOverLocked() {
	err := b.flushOwedLocked(context.Background(), b.tryGet)
	if err != nil && !errors.Is(err, pool.ErrExhausted) {
		b.warn("book: replaced book's announcement not published", "err", err)
	}
}

// heldQuoteLocked publishes, once nothing is owed, the quote of a book
// live again while a break's announcement was: held back
// (publishBBOLocked), it follows the announcement, not the book's next
// message — which a quiet market may not send for long, the withdrawal
// the subscribers' latest meanwhile. Not before an event that breaks the
// book (Book.flushOwed): it would be the quote of a lost connection.
func (b *Book) heldQuoteLocked(ctx context.Context) error {
	if b.owing.Load() || !b.usable() || b.o.Sink == nil {
		return nil
	}
	return b.publishBBOLocked(ctx, &schema.CanonicalEvent{ExchangeTS: b.exTS, IngestTS: b.inTS})
}

// announceLocked publishes the parts of an announcement left in parts,
// in order — the gap marker of reason naming view, the withdrawal of the quote, a
// marker for each view of tops (silParts) — one pooled event at a time,
// taken with get and published (the sink hands it back) before the
// next is taken. It stops at the first event get does not give: gerr,
// what is left still in parts. err joins the sink's errors.
func (b *Book) announceLocked(ctx context.Context, get func(context.Context) (*schema.CanonicalEvent, error), parts *silParts, src *schema.CanonicalEvent, tops *[maxTopViews]int, view int, reason string, first, last uint64) (err, gerr error) {
	for *parts != 0 {
		ev, e := get(ctx)
		if e != nil {
			return err, e
		}
		part := *parts & -*parts // the first left
		*parts &^= part
		switch part {
		case silGap:
			err = errors.Join(err, b.publishGapLocked(ctx, ev, src, view, reason, first, last))
		case silQuote:
			err = errors.Join(err, b.publishWithdrawalLocked(ctx, ev, src))
		default:
			err = errors.Join(err, b.publishTopGapLocked(ctx, ev, src, tops[bits.TrailingZeros8(uint8(part/silTop))], reason, first, last))
		}
	}
	return err, nil
}

// flushOwed publishes what is owed of a break's announcement (markLocked)
// before anything else the book publishes, when something is, and then
// the quote held back unless the event to apply breaks the book
// (breaksBook).
func (b *Book) flushOwed(ctx context.Context, breaks bool) error {
	if !b.owing.Load() {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.flushOwedLocked(ctx, b.o.Events.Get)
	if !breaks {
		err = errors.Join(err, b.heldQuoteLocked(ctx))
	}
	return err
}

// breaksBook says whether ev, given to a book, breaks it whatever its
// state: a gap marker or a lost connection.
func breaksBook(ev *schema.CanonicalEvent) bool {
	return ev.Type == schema.EventGap || connLost(ev)
}

// connLost says whether ev is the state of a lost connection (Disconnected,
// Reconnecting, Closed). An EventConnState without its Control section (a
// host's, made by hand) states ConnUnknown: not a loss.
func connLost(ev *schema.CanonicalEvent) bool {
	return ev.Type == schema.EventConnState && ev.ControlOrZero().State.Lost()
}

// owesMarker says whether the gap marker of a break is owed (markLocked):
// [Books.Publish] then hands none of the book's messages (ev, of another
// view excepted) on before it.
func (b *Book) owesMarker(ev *schema.CanonicalEvent) bool {
	if !b.owing.Load() || b.otherView(ev) {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.owed.parts&silGap != 0
}

// withheld counts a message of the book [Books.Publish] did not hand on
// while its gap marker was owed, then publishes what is owed, with ctx,
// into the pooled event the message gave back.
func (b *Book) withheld(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stats.Withheld++
	return b.flushOwedLocked(ctx, b.o.Events.Get)
}

// tryGet takes a pooled event without waiting, for flushOwedLocked.
func (b *Book) tryGet(context.Context) (*schema.CanonicalEvent, error) {
	return b.o.Events.TryGet()
}

// publishGapLocked fills ev, the caller's pooled event, as the book's gap
// marker of reason and publishes it. It names view, the book's
// (Book.gapView; Book.Depth, as the parsers name the view that lost
// messages; 0 for a whole-book venue's book), or that of the book a
// replacement publishes it for (owedMark.view): view 0 is every view's to
// a book downstream, and would
// tell a book of the venue's other view of the symbol (OKX books5 beside
// books), which lost nothing, that it broke.
func (b *Book) publishGapLocked(ctx context.Context, ev, src *schema.CanonicalEvent, view int, reason string, first, last uint64) error {
	return b.publishMarkerLocked(ctx, ev, src, schema.EventBookUpdate, view, reason, first, last)
}

// gapView is the view the book's gap marker names (publishGapLocked).
func (b *Book) gapView() int {
	if b.rule.views() {
		return b.keep()
	}
	return 0
}

// publishTopGapLocked fills ev, the caller's pooled event, as the book's
// gap marker of reason about its tops of view (PublishTop's
// EventBookSnapshot of Book.Depth view) and publishes it: the dispatcher
// routes a marker to the subscribers of the stream it names
// (Control.GapType), and a host that follows the book by its tops
// subscribes to snapshots, not to diffs.
func (b *Book) publishTopGapLocked(ctx context.Context, ev, src *schema.CanonicalEvent, view int, reason string, first, last uint64) error {
	return b.publishMarkerLocked(ctx, ev, src, schema.EventBookSnapshot, view, reason, first, last)
}

// publishMarkerLocked fills ev as the book's gap marker of reason about
// its stream of type typ and view, and publishes it.
func (b *Book) publishMarkerLocked(ctx context.Context, ev, src *schema.CanonicalEvent, typ schema.EventType, view int, reason string, first, last uint64) error {
	ev.Venue, ev.Symbol, ev.Type = b.rule.Venue, b.symbol, schema.EventGap
	ev.ExchangeTS, ev.IngestTS = src.ExchangeTS, src.IngestTS
	ev.Book.Depth = view
	*ev.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: typ, GapFirstSeq: first, GapLastSeq: last, Reason: reason}
	b.stats.Markers++
	return b.o.Sink.Publish(ctx, ev)
}

// heardLocked records that the book applied a message now (by the Clock),
// for Options.MaxSilence: a silent book is live again, and the timer is
// armed if it is not. Nothing else per message: the timer, when it
// fires, arms itself again for the time left.
func (b *Book) heardLocked() {
	if b.o.MaxSilence <= 0 {
		return
	}
	b.heardAt = b.now()
	if b.silent {
		b.silent, b.silOwed, b.silLeft = false, false, 0 // a marker still owed is moot: nothing was lost
		b.info("book: stream resumed")
	}
	if b.silArmed || b.closed {
		return
	}
	b.silArmed = true
	b.arm(&b.silTimer, b.o.MaxSilence, b.silenceCheck)
}

// silenceCheck runs on the Clock's timer: a live book that applied
// nothing for MaxSilence goes silent; one that did is checked again when
// MaxSilence has passed since its last message. A book not live, silent
// (its marker published) or closed lets the timer go (heardLocked arms it
// again). A silent book whose marker the pool could not give is tried
// again RetryInterval later, for as long as it stays silent; so is a
// book not live that owes a break's announcement (markLocked), until it
// is out or the book's next event publishes it.
func (b *Book) silenceCheck() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.live && !b.closed && b.owing.Load() {
		// A break's announcement is owed (markLocked), which the book's
		// next event would publish first: a book given none (a symbol
		// delisted) would leave its quote the subscribers' latest, the
		// break untold. Tried again, never waiting, as a silence marker.
		if err := b.flushOwedLocked(context.Background(), b.tryGet); err != nil && !errors.Is(err, pool.ErrExhausted) {
			b.warn("book: owed announcement not published", "err", err)
		}
		if b.owing.Load() {
			b.silTimer.Reset(b.o.RetryInterval)
			return
		}
	}
	if !b.live || (b.silent && !b.silOwed) || b.closed {
		b.silArmed = false
		return
	}
	now := b.now()
	if !b.silent {
		if idle := b.sinceLocked(&b.heardAt); idle < b.o.MaxSilence {
			b.silTimer.Reset(b.o.MaxSilence - idle)
			return
		}
		b.silent = true
		b.silLeft = b.silenceParts()
		b.stats.Silences++
		b.warn(ReasonSilent, "since", b.heardAt, "max_silence", b.o.MaxSilence)
	}
	// A sink that waits (not the dispatcher, whose market lanes drop,
	// counted) waits a bounded time, as for a connection state.
	ctx, cancel := context.WithTimeout(context.Background(), StateTimeout)
	defer cancel()
	if b.publishSilenceLocked(ctx, b.tryGet, now) {
		b.silArmed, b.silOwed = false, false
		return
	}
	if !b.silOwed {
		b.warn("book: silence marker waits for the event pool", "retry", b.o.RetryInterval)
	}
	b.silOwed = true
	b.silTimer.Reset(b.o.RetryInterval)
}

// silParts are the parts of a silent book's announcement, one pooled
// event each: silGap its gap marker, silQuote the withdrawal of its best
// bid/offer, silTop<<i the marker about its tops of view Book.tops[i].
type silParts uint8

const (
	silGap silParts = 1 << iota
	silQuote
	silTop
)

// Every view of tops has a part: silTop << (maxTopViews-1) fits.
const _ = silTop << (maxTopViews - 1)

// silenceParts returns the parts of the announcement of a book going
// silent: its marker, the withdrawal of the quote it has out, and a
// marker for each view of tops out.
func (b *Book) silenceParts() silParts {
	p := silGap
	if b.topKnown && !sameBBO(b.top, schema.BBO{}) {
		p |= silQuote
	}
	covered := b.gapView() // its marker reaches their subscribers (owedMark.addTops)
	for i := range b.nTops {
		if !covers(covered, b.tops[i]) {
			p |= silTop << i
		}
	}
	return p
}

// publishSilenceLocked publishes what is left of the silence
// announcement (Book.silLeft), in order: the marker, the quote's
// withdrawal, a marker for each view of tops out; and reports whether it
// is all out, each part's event taken with get. On the timer's goroutine
// (silenceCheck) it never waits for the pool (get is tryGet), with the
// book locked: the connection's reader and the book's readers would
// wait with it; Close, the book's last chance, waits a bounded time
// (closeWith). It takes one pooled event at a time and publishes it
// before the next (a sink hands each back, as the dispatcher does once it
// has cloned it), so that one free event is all it ever needs: on an
// exhausted pool, what is left waits for the next try (the book reports
// not live meanwhile), and is moot once the stream resumes, which a
// marker about lost diffs never is. Taken all or none, the parts needed
// up to six free events at once, which a busy pipeline may never have.
func (b *Book) publishSilenceLocked(ctx context.Context, get func(context.Context) (*schema.CanonicalEvent, error), now time.Time) bool {
	if b.o.Sink == nil {
		b.silLeft = 0
		return true
	}
	if err := b.flushOwedLocked(ctx, get); errors.Is(err, pool.ErrExhausted) {
		return false // a break's announcement owed goes first
	}
	src := schema.CanonicalEvent{IngestTS: now.UnixNano()}
	err, gerr := b.announceLocked(ctx, get, &b.silLeft, &src, &b.tops, b.gapView(), ReasonSilent, 0, 0)
	if err != nil {
		b.warn("book: silence marker not published", "err", err)
	}
	if errors.Is(gerr, pool.ErrExhausted) {
		return false
	}
	if gerr != nil {
		b.warn("book: silence marker not published", "err", gerr) // a closed pool: the host shut down
	}
	b.silLeft, b.nTops = 0, 0
	return true
}

// askLocked calls Resubscribe for a ResyncResubscribe book, once per
// invalidation, again RetryInterval after a call that failed.
func (b *Book) askLocked(ctx context.Context, why string) error {
	if b.rule.Resync != ResyncResubscribe || b.o.Resubscribe == nil {
		return nil
	}
	if b.asked {
		if !b.askFailed.IsZero() && b.sinceLocked(&b.askFailed) < b.o.RetryInterval {
			return nil
		}
		if b.askFailed.IsZero() && b.sinceLocked(&b.askedAt) < b.snapshotWait() {
			return nil // the snapshot may still come
		}
	}
	if !b.resyncDue("resubscribe") {
		return nil
	}
	b.asked, b.askedAt, b.askFailed = true, b.now(), time.Time{}
	b.stats.Resubscribes++
	b.info("book: resubscribing", "why", why)
	err := b.o.Resubscribe(ctx, b.rule.Venue, b.symbol)
	if err != nil {
		b.askFailed = b.now()
		b.warn("book: resubscribe failed", "err", err)
	}
	return err
}

// resyncDue reports whether a resync (what names it, for the log) may
// start now under the backoff, and if so counts it as started.
func (b *Book) resyncDue(what string) bool {
	now := b.now()
	if b.resyncs >= resyncBurst {
		wait := b.o.RetryInterval
		for range min(b.resyncs-resyncBurst, resyncDoublings) {
			wait = satDouble(wait)
		}
		if b.sinceLocked(&b.resyncAt) < wait {
			b.stats.Deferred++
			if !b.deferLog {
				b.deferLog = true
				b.warn("book: breaking again after every resync; backing off", "what", what, "resyncs", b.resyncs, "wait", wait)
			}
			return false
		}
	}
	b.resyncs++
	b.resyncAt = now
	return true
}

// snapshotWait is how long a book waits for the snapshot a resubscription
// asked for before it asks again: snapshotWaits × RetryInterval,
// saturating.
func (b *Book) snapshotWait() time.Duration {
	if d := b.o.RetryInterval; d <= math.MaxInt64/snapshotWaits {
		return snapshotWaits * d
	}
	return math.MaxInt64
}

// stableFor is how long a book must stay live to end a run of the resync
// backoff: resyncStable × RetryInterval, saturating.
func (b *Book) stableFor() time.Duration {
	if d := b.o.RetryInterval; d <= math.MaxInt64/resyncStable {
		return resyncStable * d
	}
	return math.MaxInt64
}

// satDouble doubles d, saturating instead of overflowing.
func satDouble(d time.Duration) time.Duration {
	if d > math.MaxInt64/2 {
		return math.MaxInt64
	}
	return 2 * d
}

func (b *Book) info(msg string, args ...any) {
	if b.log != nil {
		b.log.Info(msg, args...)
	}
}

func (b *Book) warn(msg string, args ...any) {
	if b.log != nil {
		b.log.Warn(msg, args...)
	}
}

func (b *Book) bboLocked() schema.BBO {
	var q schema.BBO
	if l, ok := b.bids.best(); ok {
		q.BidPrice, q.BidQty = l.Price, l.Qty
	}
	if l, ok := b.asks.best(); ok {
		q.AskPrice, q.AskQty = l.Price, l.Qty
	}
	return q
}

// publishBBOLocked publishes the best bid/offer when it differs from the
// one last published. It is coalescable market data: on an exhausted pool
// it is dropped and counted, never waited for, and not recorded as
// published, so the next message applied publishes the latest (the
// subscribers' last must not stay the one before it while the top holds).
func (b *Book) publishBBOLocked(ctx context.Context, src *schema.CanonicalEvent) error {
	q := b.bboLocked()
	if b.topKnown && !b.repub && sameBBO(q, b.top) {
		return nil
	}
	if b.o.Sink == nil {
		b.top, b.topKnown = q, true
		return nil
	}
	if b.owing.Load() {
		// A break's announcement is owed (markLocked): nothing goes
		// out before it. Not recorded as published: the next message
		// applied after it publishes the latest, or the retry timer
		// once the announcement is out (retryOwed).
		b.stats.BBODropped++
		b.armRetryLocked(pool.ErrExhausted)
		return nil
	}
	if b.ext.older(b.rule, b.seq.Last(), src.ExchangeTS, src.IngestTS) {
		// The venue's quote stream delivered a newer state of this order
		// book: the book's top is not recorded as published, so the first
		// message applied that is newer publishes it.
		b.stats.StaleQuotes++
		return nil
	}
	ev, err := b.o.Events.TryGet()
	if err != nil {
		b.stats.BBODropped++
		b.armRetryLocked(err)
		return nil
	}
	b.top, b.topKnown, b.repub = q, true, false
	b.pub = quoteMark{seq: b.seq.Last(), ts: src.ExchangeTS, ingest: src.IngestTS, known: true}
	ev.Venue, ev.Symbol, ev.Type = b.rule.Venue, b.symbol, schema.EventBBO
	ev.SeqProvider = b.seq.Last()
	ev.ExchangeTS, ev.IngestTS = src.ExchangeTS, src.IngestTS
	ev.BBO = q
	b.stats.BBOs++
	return b.o.Sink.Publish(ctx, ev)
}

// publishWithdrawalLocked fills ev, the caller's pooled event, as an
// EventBBO with no bid and no ask and publishes it: the change from a
// quote to none, for a book that broke or went silent after publishing
// one. Its gap marker is about its diffs and does not reach a subscriber
// of best bid/offers alone, whose queue would keep the broken book's last
// quote as the latest; so a withdrawal is never dropped as a quote may
// be, but owed with its marker.
func (b *Book) publishWithdrawalLocked(ctx context.Context, ev, src *schema.CanonicalEvent) error {
	b.top, b.topKnown = schema.BBO{}, true
	ev.Venue, ev.Symbol, ev.Type = b.rule.Venue, b.symbol, schema.EventBBO
	ev.ExchangeTS, ev.IngestTS = src.ExchangeTS, src.IngestTS
	b.stats.BBOs++
	return b.o.Sink.Publish(ctx, ev)
}

func sameBBO(a, b schema.BBO) bool {
	return a.BidPrice.Identical(b.BidPrice) && a.BidQty.Identical(b.BidQty) &&
		a.AskPrice.Identical(b.AskPrice) && a.AskQty.Identical(b.AskQty)
}
