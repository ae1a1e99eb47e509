// Package book keeps L2 order books that know when they are wrong.
//
// A [Book] holds the bids and asks of one (venue, symbol), built from the
// venue's canonical book events (schema.EventBookSnapshot and
// schema.EventBookUpdate, as the normalize parsers make them) by the
// venue's [Rule]: how messages chain, which checksum the venue sends (OKX
// over 25 levels, Kraken over 10, CRC32 of the wire digits that
// schema.Decimal keeps), how many levels the subscription keeps, and how
// to get a new snapshot (fetch one through a [Fetcher], or resubscribe).
// The rules are data: [Binance], [OKX], [OKXFetch], [KrakenV1], [KrakenV2],
// [Bybit], [Coinbase].
//
// # Continuity, per venue
//
// Each diff is classified against the book by its venue's rule — the same
// implementation the normalize parsers use for their gap markers, so
// parser and book never disagree — as continuous, a repeat, a gap or a
// restart:
//
//   - Binance spot, USDⓈ-M and COIN-M ("How to manage a local order book
//     correctly", spot and derivatives editions). Against the snapshot's
//     lastUpdateId L: a diff with u < L (spot: u ≤ L) is covered by it;
//     the first applied has U ≤ L+1 ≤ u (spot) or U ≤ L ≤ u (derivatives,
//     so a diff whose u is exactly L joins) or pu = L. Then spot diffs
//     chain by U = previous u + 1 and derivatives diffs (which carry pu,
//     and whose U skips ids) by pu = previous u. The snapshot comes from
//     the market's own REST endpoint ([BinanceREST].Path: /api/v3/depth,
//     /fapi/v1/depth, /dapi/v1/depth).
//   - OKX ("Order book channel"): prevSeqId = previous seqId. A keep-alive
//     (no levels, prevSeqId = seqId) and a reset after maintenance (seqId
//     < prevSeqId) are continuous; ids carry on from the new seqId. OKX
//     sends no initial snapshot any more (API changelog "Delist initial
//     snapshot and checksum field in order book channels"; an empty
//     "snapshot" at most, which no OKX rule goes live on; books5 aside,
//     whose every push, empty or not, is its whole view): [OKXFetch]
//     with [OKXREST] takes the snapshot from GET /api/v5/market/books,
//     the first diff applied the one with prevSeqId ≤ its seqId < seqId
//     ("How to manage a local order book correctly"), and a stream
//     snapshot with levels where an OKX still sends one. Its fetches keep
//     to OKX's limit of the endpoint, 40 requests per 2 s per IP, and
//     pause for 2 s after a 429 / 50011 ([OKXLimiter]: share one).
//   - Bybit ("Orderbook"): u = previous u + 1; u = 1 is the service's
//     restart: its data is a snapshot, applied as one (Stats.Restarts,
//     once per restart: level 1's snapshot pushed again after 3 s
//     without a change carries the same u, 1 included, and is applied
//     without counting another). A u = 1 whose seq (the cross sequence:
//     "for the smaller seq, then it means the data is generated
//     earlier") is below the newest its stream took is no restart but a
//     late copy of one already taken (a rotation's other connection, a
//     re-push delivered after a change): the parser drops it as a
//     repeat, so the book never rolls back to it. The events do not
//     carry seq: a book fed by the host alone cannot tell them apart.
//   - Coinbase Advanced Trade: sequence_num counts the messages of a
//     connection across all channels, so only the parser can check it; a
//     jump makes it publish a gap marker without a symbol, which
//     invalidates every book of the venue fed through [Books].
//   - Kraken: no ids; the checksum is the check.
//
// A repeat is a diff whose ids the book already covers — the last diff
// again, an older one, for Binance any diff older than the snapshot — as
// venues resend and connection rotation overlaps deliver. It is stale:
// dropped and counted (Stats.Stale), never a gap, never a resync; that
// includes, for OKX and Bybit, the diffs a rotation's old connection still
// delivers after the new connection's snapshot (ids between the book's
// position before that snapshot and the snapshot). For OKX and Bybit,
// whose numbering can start again, ids below the first of the current
// numbering (the first snapshot's or that position, or the reset's or
// restart's) are not a repeat but a gap, so that a venue renumbering without the message
// that says so cannot leave a book silently stale; and Bybit's u = 1 is a
// restart every time it reaches the book.
//
// # Placeholders and depth
//
// A checksum of 0 is a placeholder for "not sent" (OKX sends
// "checksum":0 since it deprecated the books checksum) and is not
// checked; Stats.Checksums counts those that were. Kraken checksums each
// price and quantity at the pair's full precision, which the values that
// reach the book may not show (v2's JSON numbers may drop trailing zeros;
// a schema.Decimal keeps a value past its 63-bit mantissa without them):
// a Kraken book writes them at Rule.PriceScale and Rule.QtyScale, or the
// most digits its top levels show, and otherwise learns the precision
// from the venue's checksum of a snapshot (v2) — the one, up to
// schema.MaxScale, at which it matches — so that a good book is never
// resynced for its digits; an update's checksum (v1's first) teaches
// none beyond the digits shown, since a lost update may explain it too. A book keeps exactly
// the depth it subscribed (Rule.Depth, from the same per-venue table the
// subscribe builders use; [Rule.WithDepth] for another): it truncates
// after every snapshot and diff, because Kraken sends no delete for a
// level pushed out of the view and its checksum covers the view. A depth
// the venue does not offer as a book stream is refused with a
// [*DepthError]: OKX's depth 1 is bbo-tbt, read as schema.EventBBO
// events (the top of the book as the venue sends it), never as book
// messages, so a book there would never go live (OKX API v5, "Order book
// channel").
//
// A venue may stream one symbol's book at several depths on one connection
// (Binance btcusdt@depth5 beside btcusdt@depth, OKX books5 beside books,
// Bybit orderbook.1 beside orderbook.50, each depth with its own ids). The
// parsers name each message's view in schema.Book.Depth; a book ignores
// the messages and gap markers of a view other than its Rule.Depth (any
// view, for a whole-book venue: Binance, Coinbase; any but the deepest
// view seen, for a Depth 0 rule of Kraken, OKX or Bybit, which then keeps
// that view's depth as it would its own) and counts them
// in Stats.OtherViews, so a top-5 snapshot never cuts it to five levels,
// and a deeper view is never kept truncated (the levels that come into
// view when a top one goes are never sent again: a hole, silent where
// there is no checksum, as on OKX). Set Rule.Depth to the depth subscribed
// (or 0), or the book ignores its own stream (logged once at Warn).
// Kraken v2 names no view in its messages: the parser names a snapshot
// by the subscription's ack, else as the shallowest view it can be, so a
// thin pair's snapshot that came before its ack may be named shallower
// than the book's depth; a book of an explicit depth follows such a
// stream aside, checked by its checksums, and takes it as its own once a
// message of its view comes (kraken_aside.go): live whatever the order
// of ack and snapshot, without a resubscription — on a new connection
// too (its parser knows no ack yet), where it replaces a live book's
// levels, the dead connection's, whether wsclient's report of the loss
// comes before that message or after; the live book ends (a marker) as
// the snapshot is kept aside, not live until that message.
//
// # When the book is wrong
//
// A gap, a checksum that does not match, sides that cross or lock (best
// bid ≥ best ask after any snapshot or diff, checksum or not:
// ReasonCrossed, Stats.Crossed), a gap marker
// from upstream, a lost connection or — for a fetched (Binance) book — a
// best bid or ask beyond the worst level of its snapshot make the book
// invalid (the REST snapshot holds the best Limit levels and the diffs
// only what changes, so beyond the snapshot's range the book lacks every
// level that did not change: its top there may be wrong;
// [BinanceREST].SnapshotDepth tells a truncated side from a whole one in
// the snapshots the book fetches; a snapshot handed to [Book.Apply] counts
// as truncated, and one older than a live book is dropped; the levels a
// diff puts beyond that range, which it could never serve, it does not
// keep, so the venue's far prices do not grow it): it drops
// every level at once — nothing stale survives a resync, [Book.BBO] and
// [Book.Top] report not live and serve nothing — publishes a gap marker
// (an schema.EventGap with Control.Kind schema.ControlGap, the missing
// ids when known, one of the Reason* texts, and Book.Depth the book's
// view, as the parsers name the view that lost messages: 0, which a book
// downstream takes for every view, only for a whole-book venue) to its
// [Sink], withdraws
// the best bid/offer it published (see "What it publishes"), and
// resynchronises by itself: a ResyncFetch book buffers diffs and fetches
// a snapshot (a bounded number of attempts, then not again before
// Options.RetryInterval), a ResyncResubscribe book calls
// Options.Resubscribe (after a lost connection only if diffs come before
// the snapshot the new connection brings) and waits for the snapshot the
// venue answers with (asking again on a diff 10 × RetryInterval later if
// none came: a snapshot lost or refused must not leave it dark). A marker goes out once per breakage, not once per
// message, and every step is counted in [Stats].
//
// A book that breaks again after every resync — a venue checksum that
// never matches, a stream that gaps on every diff — backs off: the first
// three resyncs (resubscriptions or fetch rounds) of such a run start at
// once, each later one RetryInterval after the previous, then 2×, 4× … up
// to 64 × RetryInterval (Stats.Deferred counts the events that found one
// put off; the first is logged at Warn). Without it such a book would
// resubscribe as fast as snapshots come back — OKX closes a connection
// past 480 subscribe requests an hour, with every subscription on it — or
// fetch per diff until Binance bans the IP. A book that stays live
// 10 × RetryInterval ends the run (it broke, it did not flap), and so
// does a lost connection.
//
// # Rotations
//
// A make-before-break rotation (wsclient Options.MaxAge) hands the book
// the old connection's messages, then the new connection's, never
// interleaved. Where the two streams align (Binance, OKX, Bybit, Kraken
// through normalize.Parser.AlignKey) the book sees one stream, each
// message once. Where they cannot (Coinbase Advanced Trade, whose frames
// carry their connection's sequence_num), the new connection's
// subscription snapshot replaces the book after the old connection's last
// message: no message of the old connection comes after it, and none is
// applied twice (the tests rotate Coinbase and Kraken v1 books on
// loopback and compare the book with the venue's).
//
// # Lost connections
//
// Set [Books.OnEvent] as the wsclient.Options.OnEvent of every client
// that feeds the books: a disconnected, reconnecting or closed connection
// then invalidates every book of its venue as soon as wsclient reports it,
// and the state change reaches the subscribers as an
// schema.EventConnState through the Books' next sink. Nothing else is
// needed. A report that reaches a book after the new connection's
// snapshot made it live again is recognised by its time and ignored.
// Where several clients of a venue feed one Books, give each a
// [Books.Feed] (its OnEvent the client's, its Publish its parser's sink):
// the events do not say which connection they came on, and only a Feed
// tells a lost connection's tail from a surviving one's quote, and keeps
// one client's lost connection from invalidating the books another
// client feeds.
//
// # What it publishes
//
// Every change of the best bid or offer is published as a pooled
// schema.EventBBO (coalescable: a slow subscriber sees the latest; one
// that finds the pool exhausted is dropped, counted in Stats.BBODropped,
// and the latest goes out with the next message applied or, on a quiet
// symbol, Options.RetryInterval later by the Clock, tried again until
// the pool gives one), the change to
// none included: a book that breaks after publishing one
// publishes, after its gap marker, an EventBBO with no bid and no ask
// (zero prices and quantities), so that a subscriber of best bid/offers
// alone — whom the marker, about book diffs, does not reach — never keeps
// a broken book's quote as the latest. A live book one side of which the
// venue emptied (every venue's book stream may delete a side's last level
// or send a side as []) is no fault: it stays live, Book.BBO reports true
// with a zero price and quantity on that side — no bid (or ask), not a
// price of 0: check the quantity —, Book.Top gives that side no level, and
// its EventBBO carries the same zeros; a fetched book whose snapshot
// truncated that side cannot tell it empty (no diff named the levels
// beyond the snapshot's range, which never changed) and resyncs instead
// (ReasonRange). Where the venue's quote stream
// (Binance bookTicker, OKX bbo-tbt) passes through [Books] too, the two
// sources of the symbol's EventBBO are kept in one order: a quote of
// either older than the other's last delivered — by the order book's
// update id on Binance (bookTicker "u" and the diffs' "u" number one
// book), else by exchange time — is dropped and counted in
// Stats.StaleQuotes (quote.go), and a quote received before a lost
// connection (the dead connection's tail, handed on after wsclient
// reported the loss: the loss of the client whose [Feed] it came
// through, else the book's latest loss applied, whichever client's — a
// surviving client's quote of before it is dropped too) in
// Stats.AfterLoss, as the book's
// own messages of that tail: after its withdrawal it would be the
// subscribers' latest, of a connection that sends nothing more;
// [Book.Top] and [Book.PublishTop] give the best N levels on request
// (a fetched book's down to its snapshot's range only),
// stamped with the times of the latest message applied; a book that
// published tops follows its gap marker (about diffs, which the
// dispatcher routes to the subscribers of snapshots too) with one about
// each other view of tops out (Control.GapType schema.EventBookSnapshot,
// Book.Depth their view), so that a subscriber of tops alone hears of the
// break, once for each view — none on a whole-book venue (Binance,
// Coinbase), whose gap marker names view 0, every view, and is a
// subscriber of snapshots' one marker of the break. A book replaced
// while it owed its announcement has it published by its replacement,
// naming the replaced book's view — through the replaced book's own Sink
// where the replacement's is another (another dispatcher), with the
// withdrawal of its quote and a gap marker (ReasonReplaced) where it was
// live, as its markers to those subscribers end; the replacement's
// subscribers get the break it owed. A replaced book added again, fed
// nothing meanwhile, missed its replacement's messages: it breaks
// (ReasonAddedAgain) and resynchronises on its next diff. A
// book that goes live on a snapshot it fetched (a [Fetcher]: Binance,
// [OKXFetch]), at start and after each break, publishes the state it went
// live on — the snapshot and the buffered diffs it replayed, all its
// levels down to the snapshot's range, Book.LastSeq the last id applied,
// Book.Depth 0 for Binance's whole book — as a pooled
// schema.EventBookSnapshot, after the break's marker and before the diff
// that made it live is handed on by [Books]: a subscriber of the diffs
// never saw the REST snapshot and rebuilds from this one, dropping the
// diffs it covers, as from a venue's stream snapshot (session doc "Lost
// market connections"). On a pool that gives none with the applying
// goroutine's ctx it is owed, and goes out — the book's state then — before
// the book's next diff is applied, or at the retry (RetryInterval), never
// before an owed announcement; diffs handed on meanwhile precede it. A stream that
// stops while its connection lives (a subscription the venue dropped, a
// halted instrument) cannot be told from a quiet market — venues send
// nothing while nothing changes — so by default it leaves the book live
// with its last state, and [Book.Updated] says how old it is, for the
// host to judge. With Options.MaxSilence the book judges: live and silent
// that long (by Options.Clock), it reports not live — [Book.BBO] and
// [Book.Top] still give its last state, with its times — publishes a gap
// marker with ReasonSilent and withdraws its best bid/offer, once; the
// next message of its stream makes it live again. A silent book asks for
// no snapshot: it lost nothing the venue says it sent (no venue documents
// a silence as a loss), and a quiet market would be resubscribed every
// MaxSilence. The one venue rule about a stream that stops for good —
// Coinbase Advanced Trade closes a channel after 60–90 s without an
// update ("WebSocket Channels") — is met by subscribing the connection
// to "heartbeats", as package session does. One timer a book
// (Clock.AfterFunc, armed while it is live, stopped by [Book.Close]) for
// the marker, nothing per message but a clock read; the readers judge the
// silence by the Clock themselves, so that neither a timer started late
// nor a closed book (one [Books] replaced) serves a silent book as
// current.
//
// A gap marker and its withdrawal must reach the subscribers before
// anything the book publishes after them, and a marker about lost diffs
// must never be lost: the book waits for the event pool to give them, with
// its lock held, as long as the applying goroutine's ctx allows (the
// reader's ctx, which would wait on the same pool for its next event; at
// most StateTimeout for a lost connection applied through [Books.OnEvent])
// — readers of the book wait meanwhile, on a pool exhausted only when
// the pipeline is already stalled. What that ctx leaves out is owed, not
// lost: it goes out first at the next event the book is given (the
// connection's next state included), [Book.PublishTop], silence check or
// retry (Options.RetryInterval after the pool failed, by the Clock, again
// until it is out: a lost connection sends the book nothing, and the
// broken book's quote must not stay the subscribers' latest meanwhile)
// or [Book.Close] (waiting at most StateTimeout: a closed book is given
// no more events, its timers stop), and no best bid/offer or top goes out before it (Stats.BBODropped
// counts the quotes held back; the latest follows it, whichever of these
// flushed it); [Books.Publish] hands none of the book's messages on
// before its gap marker either (Stats.Withheld), their pooled events
// given back for the marker. The silence
// marker does not wait: it
// and the rest of its announcement (the quote's withdrawal, the markers
// about the tops out) take one pooled event at a time, so one free event
// is all they need; on an exhausted pool what is left is tried again
// every Options.RetryInterval (by the Clock) while the book stays silent, and is dropped once its stream
// resumes (nothing was lost; the book reports not live until then either
// way), so that a timer never holds the connection's reader.
//
// # Wiring
//
// [Books] is a [Sink] to put between a parser and the dispatcher: it
// applies each event to its book and hands it on, so the host's
// subscribers see the venue's diffs, the books' best bid/offer, the gap
// markers and the connection state on one dispatcher:
//
//	books := book.NewBooks(dispatcher, pools.Events, &book.BooksOptions{Logger: logger})
//	b, _ := book.NewBook(book.Binance, "BTC-USDT", &book.Options{
//		Sink: dispatcher, Events: pools.Events,
//		Fetcher: &book.BinanceREST{BaseURL: "https://api.binance.com"},
//	})
//	books.Add(b)
//	parser := normalize.NewBinance(pools.Events, books, nil)
//	client, _ := wsclient.New(url, parser.HandleFrame, &wsclient.Options{
//		Venue: schema.VenueBinance, Frames: pools.Frames,
//		OnEvent: books.OnEvent(schema.VenueBinance, nil),
//	})
//
// # Logging
//
// Options.Logger (or BooksOptions.Logger, for the books added without
// one) receives state changes — live, invalidated by a lost connection,
// fetching, resubscribing — at Info and faults — gap, checksum mismatch,
// crossed book, upstream loss, failed fetch or resubscription — at Warn,
// with the keys venue and symbol. Nothing is logged per message. Nil is
// silent.
//
// # Cost
//
// Each side is a slice sorted by price, best last, keyed by
// schema.Decimal: no map, no allocation per level once the slices have
// grown, so a diff costs no allocation in steady state
// (TestZeroAllocsPerDiff) and a change near the top moves few levels; a
// diff of many levels (64 or more a side) is sorted and merged into the
// side in O(n log n + m), not inserted level by level (O(n × m)).
// Memory is bounded: a book of views keeps its depth (never cut below
// it), a fetched book no level beyond its snapshot's range, and every
// other side at most Options.MaxLevels (100 000 by default) — a whole-book stream (Coinbase,
// a Binance side its snapshot held whole) cut there is served and
// watched like a truncated snapshot: nothing beyond the worst level kept,
// and a resync (ReasonRange) if its top gets there.
//
// A fetch runs on the goroutine that applies events (the connection's
// reader, with the usual wiring), without the book's lock: the stream
// waits in the socket meanwhile, which is the buffering Binance asks for,
// while the book's readers get its state at once (not live, nothing
// served) and a diff applied by another goroutine is buffered in order; a
// connection lost during the fetch, after the diff that asked for it,
// discards the snapshot. A
// [BinanceREST] or [OKXREST] fetch is bounded in time (Timeout, 10 s by
// default: a venue that never answers must not hold the stream for
// good) and in memory (MaxBody, 16 MiB by default).
//
// # Time
//
// Everything a book times runs on Options.Clock: RetryInterval's waits,
// the resync backoff, MaxSilence (a Clock set back lengthens none of them:
// a time it recorded later than now counts as now), and — the book hands its Clock to the
// fetchers of this package — a fetch's Timeout and an [OKXLimiter]'s
// window (unless the fetcher or the limiter has a Clock of its own). A
// host that injects a clock (a replay, a simulation, a test) gets a venue
// that never answers timed as the rest. A fetch's Timeout passes on the
// wall clock too, whichever clock passes it first ending the fetch (an
// OKXLimiter's wait for its window included): a fetch holds the stream's
// goroutine, and a clock that moves with the stream's events — a
// replay's — does not move while the fetch keeps them waiting, while the
// request goes over a real network in real time either way. Two more
// bounds stay on the wall
// clock, on purpose: StateTimeout, how long a lost connection's markers
// ([Books.OnEvent]) and a silence marker may wait for the host's own
// pipeline (the event pool, a sink that blocks) — a stalled host holds a
// real goroutine (wsclient's event goroutine, the Clock's timer), which
// a clock that is not moving would hold for good; and a Retry-After that
// is an HTTP date, read against the venue's Date header or else the wall
// clock, as the venue's date is real time. The buffer of diffs is a ring:
// dropping the oldest costs nothing per diff kept. The package starts no
// goroutine (a MaxSilence timer's check runs on the Clock's AfterFunc).
package book
