package book

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// Books sits between a venue parser and the dispatcher: it is a [Sink] that
// applies every book event to the [Book] of its (venue, symbol) and then
// hands the event on to next, which takes ownership as usual. Gap markers
// reach the book of their symbol, or every book of the venue when they
// name no symbol (a connection's lost message, as Coinbase's
// sequence_num tells); connection state events reach every book of their
// venue, so a lost connection invalidates them.
//
// [Books.OnEvent] is the connection's side: set it as the
// wsclient.Options.OnEvent of each client that feeds the books, and a lost
// connection invalidates the venue's books (Live false, no best bid/offer)
// without any other wiring; it also hands the state change on to the
// subscribers as an schema.EventConnState.
//
// Books is safe for concurrent use; its next sink may publish through
// the same Books (with the ctx it is given, for a connection state it is
// handed). Add the books before events flow; its
// zero value is not usable: build it with NewBooks.
type Books struct {
	next   Sink
	events *pool.Pool[*schema.CanonicalEvent]
	log    *slog.Logger

	mu      sync.RWMutex
	byKey   map[bookKey]*Book
	byVenue map[schema.Venue][]*Book
	closed  bool // Close ran: a book added after it is closed too

	// Connection states the pool did not give within StateTimeout, per
	// venue: owed, published before the venue's next event handed on
	// (connState); owing says some are, read on the path of every event.
	smu    sync.Mutex
	states map[schema.Venue]owedStates
	owing  atomic.Bool
}

// owedStates are a venue's connection states not yet published: the
// first loss (which the subscribers must hear of: a book downstream of
// the dispatcher, the quote Merger, invalidate on it), then the latest
// state after it.
type owedStates struct {
	loss, last       stateMark
	hasLoss, hasLast bool
	// busy is set while a goroutine publishes the venue's states
	// (flushStates), outside the Books' locks, and closed when it is done:
	// the venue's other events wait for it, so none overtakes them.
	busy chan struct{}
}

// add owes m after what o owes: the first loss owed stays, a later state
// replaces the one owed after it; a loss when none is owed replaces every
// state owed before it (it is newer).
func (o *owedStates) add(m stateMark) {
	if m.state.Lost() && !o.hasLoss {
		*o = owedStates{loss: m, hasLoss: true, busy: o.busy}
		return
	}
	o.last, o.hasLast = m, true
}

// flushing is the ctx key of a venue's states being published by
// flushStates: a next sink that calls back into the Books with the ctx
// it was given publishes the venue's events after the state it is
// handed, without waiting for the publication it runs within.
type flushing struct {
	r     *Books
	venue schema.Venue
}

// inFlush is the ctx key of any venue's states being published by the
// Books r: a callback from within one waits for no other venue's — that
// publication's own callback may wait for this one (two goroutines, two
// venues, each calling back with the other's events: for ever with
// context.Background()).
type inFlush struct{ r *Books }

// flushCtx is the ctx flushStates hands the next sink: it answers both
// keys (flushing, inFlush) in one allocation, as context.WithValue
// answers one, and holds the states being published (o), which the
// flushing key answers with: a callback publishes what of them is not
// out yet before its event (publishOwed).
type flushCtx struct {
	context.Context
	key flushing
	o   owedStates
}

func (c *flushCtx) Value(key any) any {
	switch k := key.(type) {
	case flushing:
		if k == c.key {
			return &c.o
		}
	case inFlush:
		if k.r == c.key.r {
			return true
		}
	}
	return c.Context.Value(key)
}

// stateMark is one connection state to publish.
type stateMark struct {
	state  schema.ConnState
	reason string
	at     int64 // IngestTS
}

// BooksOptions configure [Books]. A nil *BooksOptions gives the defaults.
type BooksOptions struct {
	// Logger is given (with the keys venue and symbol) to every book added
	// without a logger of its own, and receives the Books' own faults at
	// Warn. Defaults to nil: silent.
	Logger *slog.Logger
}

type bookKey struct {
	venue  schema.Venue
	symbol string
}

// NewBooks returns a router that hands every event on to next, or returns
// it to events when next is nil.
func NewBooks(next Sink, events *pool.Pool[*schema.CanonicalEvent], opts *BooksOptions) *Books {
	r := &Books{next: next, events: events, byKey: map[bookKey]*Book{}, byVenue: map[schema.Venue][]*Book{}}
	if opts != nil {
		r.log = opts.Logger
	}
	return r
}

// Add routes the events of b's venue and symbol to b, replacing any book of
// the same pair, which it closes once b is in its place (its timers stop,
// as [Book.Close] stops them; what it owes is b's to publish, below);
// b takes on what the replaced book has out (its best bid/offer,
// withdrawn; its tops, each view told by a marker with ReasonReplaced;
// the subscribers of its diffs, where it was live and b is of another
// view — whose stream that ends — a gap marker of its view, ReasonReplaced)
// and what it still owed of a break's or a silence's announcement (the
// broken book's view named), published at once where the pool gives, else before anything b publishes (a b without a
// Sink: by the replaced book's Sink, where its pool gives at once); the
// replaced book publishes nothing more — where b's Sink is another
// than the replaced book's (another dispatcher), the replaced book's
// subscribers get all of that through its own Sink, a gap marker
// (ReasonReplaced) where it was live included, as its markers to them
// end, tried again every RetryInterval on a pool that gives none, and
// b's the break it owed alone —, and reports not live
// ([Book.Live], [Book.BBO], [Book.Top]; its last state stays readable)
// until a message applied to it by the host proves it current — a
// snapshot, or a diff whose ids chain on to the book's (a diff without
// ids, Coinbase's or Kraken's, cannot tell what it missed meanwhile: it
// breaks the book, its levels dropped, and asks for the snapshot,
// Options.Resubscribe, as any diff of a book not live) —:
// fed nothing more, it would only age, read as current by a host that
// kept it.
// b takes on the replaced book's connection too: its [Feed] (unless a
// message bound b already — a book replaced, then added again, takes
// it: what bound it came before) and its latest loss, whose tail b does not
// load — a b already live on that tail is invalidated.
// A book replaced, then added again, is the Books' again with its timers
// (what it owes tried again by its retry timer; MaxSilence's armed when
// it is live again); one closed by the host ([Book.Close]: for good)
// stays closed, added or not: no timer of it armed again. Fed nothing
// since it was replaced, it missed every message routed to the book in
// its place: Add invalidates it, as a gap would — its levels (and the
// diffs it buffered) dropped, not live, a gap marker with
// ReasonAddedAgain through its Sink (not for a book the host closed,
// whose Sink went with its replacement; one Sink with the book in its
// place, that book's subscribers get it too: the stream they followed
// goes on from a book not live), never waiting for the pool:
// what it does not give is owed — and it resynchronises as after a lost
// connection: its next diff fetches a snapshot (ResyncFetch) or calls
// Options.Resubscribe, or its stream's next snapshot makes it live. Add
// calls no host callback.
// Add waits for an Apply the replaced book is running (closing it takes its
// lock), while the other books' events and readers go on. Do not call it
// from a callback of the book it replaces (its Sink's Publish, its
// Resubscribe): closing it would wait for the lock that callback runs under.
func (r *Books) Add(b *Book) {
	b.mu.Lock()
	if r.log != nil && b.log == nil {
		b.log = r.log.With("venue", string(b.rule.Venue), "symbol", b.symbol)
	}
	b.handing = false // a book replaced once, added again: what it still owed its subscribers is its own again, its Sink kept
	b.rearmLocked()   // fed (routed) again: invalidated first where it missed its replacement's messages
	b.mu.Unlock()
	broke := false
	if old := r.Book(b.rule.Venue, b.symbol); old != nil && old != b {
		broke = b.inherit(old) // before the swap routes the old book's messages to b
	}
	old, closed := r.swap(b)
	if old != nil && old != b {
		// Outside r.mu: closing it waits for the old book's lock, which an
		// Apply holds while it runs (a Resubscribe, a marker waiting for
		// the pool); every other book's events would wait behind it.
		old.stop()
		b.takeOver(old, broke) // its quote and tops withdrawn, what it owed told
	}
	if closed {
		b.Close() // added after (or racing) Books.Close: its timer must not outlive the host
	}
}

// swap puts b in the place of its pair's book, and returns that book and
// whether the Books were closed.
func (r *Books) swap(b *Book) (*Book, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := bookKey{b.rule.Venue, b.symbol}
	old := r.byKey[k]
	if old != nil {
		list := r.byVenue[k.venue]
		for i, x := range list {
			if x == old {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		r.byVenue[k.venue] = list
	}
	r.byKey[k] = b
	if old != b {
		// A new epoch for each book that changes place, under r.mu as
		// route reads it: from here on, a message routed to old before it
		// was taken out is of an earlier epoch, wherever it is applied —
		// even between the steps of an Add that puts old back (rearmLocked
		// clears retired before this swap runs). b's own starts at 1 when
		// first added: a routed epoch is never 0 (a host's Apply).
		if old != nil {
			old.epoch.Add(1)
		}
		b.epoch.Add(1)
	}
	r.byVenue[k.venue] = append(r.byVenue[k.venue], b)
	return old, r.closed
}

// Close closes every book added ([Book.Close]): their Options.MaxSilence
// and retry timers stop, so none fires after the host shut down and
// publishes into its closed sink, and each publishes what it still owes
// of a break's announcement. A book added after Close is closed as
// it is added. The books stay readable. Then it publishes the connection
// states still owed (the pool gave none in StateTimeout; [Books.OnEvent]),
// after the books' announcements, as OnEvent applies a state to the books
// before it publishes it; it waits for the pool at most StateTimeout in
// all, for the books' and the states: a client's last state,
// ConnClosed, has no event of the venue after it to go out before, and
// the Books have no timer. Call it after the clients that feed the Books
// ended and before the next sink closes. Safe to call twice.
func (r *Books) Close() {
	_ = r.CloseContext(context.Background())
}

// CloseContext is [Books.Close], its wait for the pool bounded by ctx as
// well as by StateTimeout: a host shutting down on a deadline of its own
// (a session's Close) waits no longer than it. It returns ctx.Err() when
// ctx ended before it returned (what was not published then stays owed,
// logged at Warn; no pooled event is kept), else nil. Safe to call twice,
// and after Close.
func (r *Books) CloseContext(ctx context.Context) error {
	parent := ctx
	r.mu.Lock()
	r.closed = true
	list := make([]*Book, 0, len(r.byKey))
	for _, b := range r.byKey {
		list = append(list, b)
	}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, StateTimeout)
	defer cancel()
	for _, b := range list { // outside r.mu, as Add closes: each waits for its book's Apply
		b.closeWith(ctx)
	}
	if r.next == nil || !r.owing.Load() {
		return parent.Err()
	}
	r.smu.Lock()
	venues := make([]schema.Venue, 0, len(r.states))
	for v := range r.states {
		venues = append(venues, v)
	}
	r.smu.Unlock()
	for _, v := range venues {
		if err := r.flushStates(ctx, v); err != nil && r.log != nil {
			r.log.Warn("book: connection states not published at Close: lost", "venue", string(v), "err", err)
		}
	}
	return parent.Err()
}

// Book returns the book of a venue and symbol, or nil.
func (r *Books) Book(venue schema.Venue, symbol string) *Book {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byKey[bookKey{venue, symbol}]
}

// Publish applies ev to its book(s), then hands it on. It takes ownership
// of ev in every case; the error joins the book's and the next sink's. A
// best bid/offer of a symbol that has a book (a venue quote stream:
// Binance bookTicker, OKX bbo-tbt) older than the book's top published is
// dropped and counted in that book's Stats.StaleQuotes (quote.go), and
// one received before a lost connection the book applied (its tail) in
// Stats.AfterLoss. Where several clients feed the venue's books, the
// event does not say which connection the quote came on: one of a
// surviving connection received before another's loss is dropped too (a
// tail let through would be served as live after the withdrawal), and
// only [Feed.Publish] tells the two apart. A
// book message whose book owes a break's gap marker (the pool gave none
// with ctx) is not handed on either — a subscriber of diffs would apply
// it before hearing of the break — and counted in Stats.Withheld; its
// pooled event goes back to the pool, where the marker takes it.
func (r *Books) Publish(ctx context.Context, ev *schema.CanonicalEvent) error {
	return r.publish(ctx, ev, nil)
}

// publish is Publish; f is the Feed ev came through, nil if none.
func (r *Books) publish(ctx context.Context, ev *schema.CanonicalEvent, f *Feed) error {
	if f != nil && ev.Venue == f.venue && connLost(ev) {
		f.lost(ev.IngestTS)
	}
	var serr error
	if r.owing.Load() {
		// A connection state of the venue is owed (connState): it goes
		// out first. Still owed, the event goes on all the same.
		serr = r.flushStates(ctx, ev.Venue)
	}
	if ev.Type == schema.EventBBO && r.staleQuote(ev, f) {
		r.events.Put(ev)
		return serr
	}
	b, aerr := r.applyTo(ctx, ev, f)
	err := errors.Join(serr, aerr)
	if r.next == nil {
		r.events.Put(ev)
		return err
	}
	if b != nil && b.owesMarker(ev) {
		// The break's marker is owed (the pool gave none with ctx): a
		// subscriber of diffs must not get the book's messages before it.
		// The message goes back to the pool, for the marker to take.
		r.events.Put(ev)
		return errors.Join(err, b.withheld(ctx))
	}
	return errors.Join(err, r.next.Publish(ctx, ev))
}

// apply gives ev to the books it concerns; ev stays the caller's.
func (r *Books) apply(ctx context.Context, ev *schema.CanonicalEvent) error {
	_, err := r.applyTo(ctx, ev, nil)
	return err
}

// applyTo gives ev, which came through f (nil: Books.Publish), to the
// books it concerns; ev stays the caller's. b is the book of a book
// message (a snapshot or a diff), nil for the rest. A book message
// through a Feed binds its book to that Feed (Book.feed); one through
// Books.Publish unbinds it.
func (r *Books) applyTo(ctx context.Context, ev *schema.CanonicalEvent, f *Feed) (b *Book, err error) {
	switch ev.Type {
	case schema.EventBookSnapshot, schema.EventBookUpdate:
	case schema.EventGap:
		if ev.Symbol == "" {
			return nil, r.applyVenue(ctx, ev, f)
		}
	case schema.EventConnState:
		return nil, r.applyVenue(ctx, ev, f)
	default:
		return nil, nil
	}
	b, epoch := r.route(ev)
	if b == nil {
		return nil, nil
	}
	if ev.Type != schema.EventGap && b.feed.Load() != f {
		// Fed by f's client now (moved, or its first message); through
		// Books.Publish (f nil) by a connection not known: unbound, every
		// loss of the venue concerns it (a client that replaced a Feed's).
		// Joining f's client, it is judged by f's latest loss, not by
		// those of the client it left: a message of f received before
		// it is that dead connection's tail, which the book, bound to
		// another client then, never applied; one received before the
		// other client's loss is a living connection's. (No lock unless
		// that changes its loss: a host alternating Publish and a Feed
		// rebinds at every message.)
		b.feed.Store(f)
		if f != nil && max(f.lostAt.Load(), b.anyLost.Load()) != b.lostAt.Load() {
			b.judgedBy(f)
		}
	}
	err = b.applyFrom(ctx, ev, epoch)
	if ev.Type == schema.EventGap {
		return nil, err // a marker: handed on
	}
	return b, err
}

// route returns the book of ev's venue and symbol, nil if none, and its
// epoch (Book.epoch) read with it.
func (r *Books) route(ev *schema.CanonicalEvent) (*Book, uint64) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	b := r.byKey[bookKey{ev.Venue, ev.Symbol}]
	if b == nil {
		return nil, 0
	}
	return b, b.epoch.Load()
}

// applyVenue gives ev, an event about a connection of its venue (a
// state, a gap marker of no symbol) that came through f (nil: not
// known), to the venue's books it concerns: through a Feed, the books
// bound to that Feed and those bound to none (fed through Books.Publish:
// their connection is not known); else every book of the venue.
func (r *Books) applyVenue(ctx context.Context, ev *schema.CanonicalEvent, f *Feed) error {
	r.mu.RLock()
	list := r.byVenue[ev.Venue]
	r.mu.RUnlock()
	err := r.applyList(ctx, ev, f, list, nil)
	// A book added meanwhile (Books.Add) in the place of one of the list
	// may have taken on that book's losses before this one reached it:
	// it gets the event too, or it would load the dead connection's tail.
	r.mu.RLock()
	now := r.byVenue[ev.Venue]
	r.mu.RUnlock()
	if len(now) != 0 && (len(now) != len(list) || &now[0] != &list[0]) {
		err = errors.Join(err, r.applyList(ctx, ev, f, now, list))
	}
	return err
}

// applyList gives ev, which came through f, to the books of list it
// concerns (applyVenue) but those of done.
func (r *Books) applyList(ctx context.Context, ev *schema.CanonicalEvent, f *Feed, list, done []*Book) error {
	var err error
	for _, b := range list {
		if bf := b.feed.Load(); (f != nil && bf != nil && bf != f) || slices.Contains(done, b) {
			continue // another client's connection: not this one's loss; or given it already
		}
		err = errors.Join(err, b.applyFrom(ctx, ev, b.epoch.Load())) // a marker or state: no epoch to keep
		if f == nil && connLost(ev) {
			b.lostAnywhere(ev.IngestTS) // a connection not known: every one's
		}
	}
	return err
}

// StateTimeout bounds what [Books.OnEvent] waits for, per state change:
// an event from the pool and the books' gap markers.
const StateTimeout = time.Second

// OnEvent returns a function to set as wsclient.Options.OnEvent of a
// client feeding books of venue:
//
//	client, err := wsclient.New(url, parser.HandleFrame, &wsclient.Options{
//		Venue:   schema.VenueOKX,
//		OnEvent: books.OnEvent(schema.VenueOKX, nil),
//	})
//
// For every change of state (reported errors that leave the state as it
// was are skipped) it applies an schema.EventConnState to every book of
// venue — disconnected, reconnecting or closed invalidate them at once: a
// gap marker each, Live false, no best bid/offer — and, when the Books
// have a next sink, publishes the same event to it (a pooled event,
// waited for at most StateTimeout) so that subscribers see the state
// change; the host need not publish it itself. A state the pool did not
// give in that time is owed, not dropped: it goes out before the next
// event of the venue the Books hand on, or with its next state (the
// first loss owed, then the latest state after it), so that a consumer
// downstream of the dispatcher — a book kept there, the quote Merger —
// never serves the venue across a loss it was not told of. Then it
// calls next, when not nil, with the wsclient event.
//
// wsclient drops events when its queue is full (Event.Dropped says how
// many). An event that names a connection not seen before, after dropped
// events, while the last state seen was not a loss and not for a
// rotation, means the loss of the previous connection went unreported: it
// invalidates the books as a disconnection would; so does one that names
// a connection past the next one after the last named (wsclient numbers
// them as it dials them) while the last state seen was a loss — a whole
// connection came and went unreported, the books maybe live on it. The
// made-up loss is stamped with the event seen: exact for a Connected
// (queued before its connection's reader starts), one extra resync for
// a later report (the events carry no connection's start). A loss that names a
// connection not seen before is applied even when the last state seen was
// a loss too (the new connection's Connected was dropped).
//
// The event is stamped with the time wsclient saw the change (IngestTS =
// Event.At): a book that went live on a newer connection before the
// event reached it is left alone (see [Book.Apply]). Every book of the
// venue is concerned, including books fed by another client of the same
// venue (they resynchronise) — except a book whose messages came through
// another client's [Feed]: fed through Feeds, each client's books are
// kept apart (or give each client's books a Books of their own).
//
// The function is meant for one client's event goroutine, never its
// reader; it is safe for concurrent use all the same. Use one per client:
// it remembers the client's last state and connection. It is the OnEvent
// of a [Books.Feed]; where several clients feed the venue's books, use
// Feed, whose Publish tells which connection a quote came on.
func (r *Books) OnEvent(venue schema.Venue, next func(wsclient.Event)) func(wsclient.Event) {
	return r.Feed(venue, next).OnEvent
}

// Feed is one client's way into [Books]: set OnEvent as the client's
// wsclient.Options.OnEvent and Publish as the sink of the parser of its
// frames. Its quotes (EventBBO) received before a loss of the client's
// own connections are that connection's tail, dropped (Stats.AfterLoss,
// quote.go); a quote of another client of the venue, received before
// this one's loss, is not: its connection lives. A book whose snapshot or
// diff came through a Feed last belongs to its client (one through
// Books.Publish last, to none: a client that replaced it): the losses and
// connection-wide gap markers (no Symbol) of another Feed's client leave
// it alone; a Feed's (Books.OnEvent's is one) reach every book not bound
// to another Feed, and those published through Books.Publish every book
// of the venue. A book's messages received before its client's latest
// loss are that connection's tail, dropped (Stats.AfterLoss): a book
// that moves to another client is judged by that client's losses from
// its first message through it, and by those published through
// Books.Publish (a connection not known: every one's). Build it with
// [Books.Feed]; it is safe for concurrent use.
type Feed struct {
	r      *Books
	venue  schema.Venue
	on     func(wsclient.Event)
	lostAt atomic.Int64 // IngestTS of the latest loss of the client's connections
	// state is the Control of the connection state connState applies,
	// written and read under onEvent's lock: the event it applies is on
	// connState's stack, and a section it pointed to there would be
	// allocated on the heap at every state change.
	state schema.Control
}

// Feed returns the [Feed] of one more client of venue; next, when not
// nil, is called with each wsclient event after the Books handled it
// ([Books.OnEvent]).
func (r *Books) Feed(venue schema.Venue, next func(wsclient.Event)) *Feed {
	f := &Feed{r: r, venue: venue}
	f.on = r.onEvent(f, next)
	return f
}

// OnEvent is the client's wsclient.Options.OnEvent: [Books.OnEvent].
func (f *Feed) OnEvent(e wsclient.Event) { f.on(e) }

// Publish is [Books.Publish] for the events of the client's frames.
func (f *Feed) Publish(ctx context.Context, ev *schema.CanonicalEvent) error {
	return f.r.publish(ctx, ev, f)
}

// lost records a loss of the client's connection stamped at (IngestTS).
func (f *Feed) lost(at int64) {
	for {
		old := f.lostAt.Load()
		if at <= old || f.lostAt.CompareAndSwap(old, at) {
			return
		}
	}
}

func (r *Books) onEvent(f *Feed, next func(wsclient.Event)) func(wsclient.Event) {
	var mu sync.Mutex
	last, conn := schema.ConnUnknown, uint64(0) // the last state applied, the last connection named
	return func(e wsclient.Event) {
		mu.Lock()
		unseen := e.ConnID != 0 && conn != 0 && e.ConnID != conn
		// A loss of another connection than the one last named is news
		// even in the same state: the events between (the new
		// connection's Connected) were dropped, and the books may have
		// gone live on its data since.
		changed := e.State != last || (unseen && e.State.Lost())
		// A connection past the next one after the last named (wsclient
		// numbers them from 1 as it dials them): one between came and
		// went, its events dropped — the books may have gone live on it
		// since the loss last seen.
		skipped := conn != 0 && e.ConnID > conn+1
		missed := unseen && e.Dropped > 0 && (!last.Lost() || skipped) && e.Reason != wsclient.ReasonRotation && !e.State.Lost()
		last = e.State
		if e.ConnID != 0 {
			conn = e.ConnID
		}
		if missed {
			lostEv := e
			lostEv.State = schema.ConnDisconnected
			f.lost(lostEv.Stamp())
			r.connState(f, lostEv)
		}
		if changed && e.State.Lost() {
			f.lost(e.Stamp())
		}
		if changed {
			r.connState(f, e)
		}
		mu.Unlock()
		if next != nil {
			next(e)
		}
	}
}

func (r *Books) connState(f *Feed, e wsclient.Event) {
	venue := f.venue
	ctx, cancel := context.WithTimeout(context.Background(), StateTimeout)
	defer cancel()
	f.state = schema.Control{Kind: schema.ControlConnState, State: e.State, Reason: e.Reason.String()}
	ev := schema.CanonicalEvent{Venue: venue, Type: schema.EventConnState, IngestTS: e.Stamp(), Control: &f.state}
	if err := r.applyVenue(ctx, &ev, f); err != nil && r.log != nil {
		r.log.Warn("book: applying a connection state", "venue", string(venue), "state", e.State.String(), "err", err)
	}
	if r.next == nil {
		return
	}
	m := stateMark{state: e.State, reason: ev.Control.Reason, at: ev.IngestTS}
	err := r.flushStates(ctx, venue)
	if err == nil {
		err = r.publishState(ctx, venue, m)
	}
	if err != nil {
		r.oweState(venue, m)
		if r.log != nil {
			r.log.Warn("book: connection state not published yet: owed, it goes out before the venue's next event", "venue", string(venue), "state", e.State.String(), "err", err)
		}
	}
}

// publishState publishes m as an schema.EventConnState of venue to next,
// waiting for the pool with ctx; the error is the pool's.
func (r *Books) publishState(ctx context.Context, venue schema.Venue, m stateMark) error {
	out, err := r.events.Get(ctx)
	if err != nil {
		return err
	}
	out.Venue, out.Type, out.IngestTS = venue, schema.EventConnState, m.at
	*out.UseControl() = schema.Control{Kind: schema.ControlConnState, State: m.state, Reason: m.reason}
	_ = r.next.Publish(ctx, out)
	return nil
}

// oweState keeps m to publish before venue's next event: the first loss
// owed stays, a later state replaces the one owed after it.
func (r *Books) oweState(venue schema.Venue, m stateMark) {
	r.smu.Lock()
	defer r.smu.Unlock()
	if r.states == nil {
		r.states = map[schema.Venue]owedStates{}
	}
	o := r.states[venue]
	o.add(m)
	r.states[venue] = o
	r.owing.Store(true)
}

// flushStates publishes venue's owed connection states, in order, and
// stops at the first the pool does not give with ctx (still owed). It
// publishes them outside r.smu, which guards the owed states of every
// venue: another venue's events never wait for them, and a next sink may
// call back into the Books. An event of venue waits, with ctx, for the
// states another goroutine is publishing, so that it never overtakes
// them — unless it comes from within that publication (a next sink
// calling back with the ctx it was given), after the state it is handed,
// or from within another venue's (it goes on then, as when ctx ends:
// that venue's goroutine may be waiting in its own callback for this
// one).
func (r *Books) flushStates(ctx context.Context, venue schema.Venue) error {
	r.smu.Lock()
	o, ok := r.states[venue]
	for ok && o.busy != nil {
		if f, _ := ctx.Value(flushing{r, venue}).(*owedStates); f != nil {
			// A callback from within the venue's publication: its event
			// goes out after the states being published, the later
			// ones not out yet included — they happened before it.
			r.smu.Unlock()
			return r.publishOwed(ctx, venue, f)
		}
		if ctx.Value(inFlush{r}) != nil {
			// Within another venue's publication: waiting could be a
			// cycle. The event goes on, as when ctx ends; the states
			// still go out, by the goroutine publishing them.
			r.smu.Unlock()
			return fmt.Errorf("%w: %s connection states being published, while another venue's are", pool.ErrExhausted, venue)
		}
		busy := o.busy
		r.smu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return fmt.Errorf("%w: %s connection states still being published: %w", pool.ErrExhausted, venue, ctx.Err())
		}
		r.smu.Lock()
		o, ok = r.states[venue]
	}
	if !ok {
		r.smu.Unlock()
		return nil
	}
	busy := make(chan struct{})
	r.states[venue] = owedStates{busy: busy} // taken: what is owed meanwhile comes after
	r.smu.Unlock()

	// Deferred: a next sink that panics (a host's OnState the session
	// recovers) must not leave the venue's publication in progress for
	// good, every later event of the venue waiting for it; what was not
	// out stays owed.
	fctx := &flushCtx{ctx, flushing{r, venue}, o}
	defer r.flushed(venue, &fctx.o, busy)
	return r.publishOwed(fctx, venue, &fctx.o)
}

// publishOwed publishes what of o, a venue's states flushStates took, is
// not out yet, in order, and stops at the first the pool does not give
// with ctx (still in o). Each is taken from o before it goes out, under
// r.smu: a next sink calling back from within its publication
// (flushStates) publishes the rest before its own event, and none twice.
func (r *Books) publishOwed(ctx context.Context, venue schema.Venue, o *owedStates) error {
	for {
		if more, err := r.publishNext(ctx, venue, o); !more || err != nil {
			return err
		}
	}
}

// publishNext publishes the first state of o not out yet, and reports
// whether there was one. A state not published — the pool gave none, or
// the next sink panicked (a host's OnState the session recovers) — is
// put back in o, owed still.
func (r *Books) publishNext(ctx context.Context, venue schema.Venue, o *owedStates) (more bool, err error) {
	r.smu.Lock()
	m, loss := o.loss, o.hasLoss
	switch {
	case o.hasLoss:
		o.hasLoss = false
	case o.hasLast:
		m, o.hasLast = o.last, false
	default:
		r.smu.Unlock()
		return false, nil
	}
	r.smu.Unlock()
	out := false
	defer func() {
		if out {
			return
		}
		r.smu.Lock()
		defer r.smu.Unlock()
		if loss {
			o.hasLoss = true
		} else {
			o.hasLast = true
		}
	}()
	err = r.publishState(ctx, venue, m)
	out = err == nil
	return true, err
}

// flushed ends the publication flushStates began with busy: what of o is
// not out stays owed, before what was owed meanwhile, and busy closes.
func (r *Books) flushed(venue schema.Venue, o *owedStates, busy chan struct{}) {
	r.smu.Lock()
	defer r.smu.Unlock()
	later := r.states[venue]
	left := owedStates{loss: o.loss, last: o.last, hasLoss: o.hasLoss, hasLast: o.hasLast}
	if later.hasLoss {
		left.add(later.loss)
	}
	if later.hasLast {
		left.add(later.last)
	}
	if left.hasLoss || left.hasLast {
		r.states[venue] = left
	} else {
		delete(r.states, venue)
	}
	r.owing.Store(len(r.states) > 0)
	close(busy)
}
