// Package dispatch fans canonical events out to the host's subscribers.
//
// A [Dispatcher] takes ownership of every pooled [schema.CanonicalEvent]
// given to [Dispatcher.Publish]: it makes one heap clone per matching
// [Subscription], queues the clones, and returns the original to its pool
// before Publish returns — with no subscriber, on every error and after
// Close too. A clone handed back to Publish by mistake is refused with a
// [*NotPooledError]. Clones belong to the subscriber, which may keep them;
// no pool accepts them. A clone is one allocation, its book levels and raw
// bytes included (up to about 30 KiB of payload).
//
// # Routing
//
// A subscription's [Filter] names venues, symbols and event types (an empty
// list is "all"). The dispatcher learns which subscriptions want a stream —
// one (venue, symbol, type) — the first time the stream is published and
// keeps the answer in a map read without a lock, rebuilt copy-on-write when
// a subscription comes or goes. Publishing never scans the subscribers.
//
// # Lanes
//
// Every subscription has three queues, chosen by the event's type, and one
// goroutine that delivers from them, either to a handler or on a channel
// (see [SubscribeOptions]). Publish never waits for that goroutine, so a
// slow subscriber never slows the publisher or the other subscribers.
//
//   - Critical: execution reports, order acks, connection states, control
//     and the gap markers a venue parser publishes. FIFO, always delivered
//     before any waiting market data and before the dispatcher's own gap
//     markers, never dropped: an execution report waits at most for the
//     handler call in progress plus the critical events queued ahead of
//     it. Its bound is soft: beyond it the lane grows, the excess is
//     counted in [Stats.Overflowed] and [Options.OnCriticalOverflow]
//     raises the alarm once. Waiting instead would let a stuck subscriber
//     block the socket reader, and a wait that times out would lose the
//     report; critical events are rare enough that growing is the safe
//     choice.
//   - Coalescing: best bid/offer, ticker, kline in progress, mark price,
//     funding rate ([schema.EventType.Coalescable]). At most one event per
//     stream waits; a newer one replaces it in place (without allocating
//     when the payload fits) and keeps its place in line. A slow subscriber
//     sees fewer, fresher updates, and always the latest in the end. The
//     lane needs no bound: it never holds more than one event per stream.
//   - Ordered: trades, book snapshots and diffs, closed klines,
//     liquidations. A bounded FIFO, never reordered. When it is full the
//     oldest event is dropped and counted, and recorded in its stream's gap
//     marker — an [schema.EventGap] with Control.Kind [schema.ControlGap]
//     and Control.GapSource [schema.GapSubscriberQueue], naming the venue,
//     symbol, type, count and sequence range (when known) of what was
//     lost.
//
// # Gap markers of a slow subscriber
//
// A stream's marker is not queued in line. It waits, absorbing every later
// drop of its stream, and goes out immediately before the next event of
// that stream is delivered, which is then held back from further drops so
// that the two arrive together. So a subscriber always hears of a gap
// before it sees the stream continue, and a slow one gets at most one
// marker per stretch of delivered events of a stream instead of one per
// drop: never more markers than ordered events delivered, plus at most one
// per stream per OrderedBound market data deliveries (the markers that come
// due on their own), so most of its deliveries stay data, and its
// execution reports never wait behind markers. (A subscriber to a single
// ordered stream far faster than its handler is the worst case: every
// event it gets follows a gap, so about half its deliveries are markers.
// Dropping the oldest keeps what it gets fresh; that is the price.) A marker whose stream has nothing queued goes out on
// its own once the subscriber has delivered OrderedBound more market data
// events, or as soon as it has nothing else queued.
//
// Market data of the ordered and coalescing lanes is delivered in arrival
// order while the subscriber keeps up. Once it drops events, the two lanes
// take turns instead: a coalescing slot keeps its place in line however
// old it grows while the ordered lane's head is never older than
// OrderedBound events, so arrival order would starve the ordered lane.
// Events of one stream keep their order end to end (when one goroutine
// publishes the stream), and so do all critical events, so the execution
// reports of one order arrive in order.
//
// # Merged events
//
// Cross-venue views (schema.MergedEvent, made by package merge) travel on
// a lane of their own: [Dispatcher.PublishMerged] takes a pooled merged
// event of Options.Merged, queues a heap clone for every
// [MergedSubscription] whose [MergedFilter] matches and returns the
// original, with the same ownership rules as Publish. A merged subscription
// has one bounded FIFO: the coalescable consolidated best bid/offer replaces
// its symbol's queued one in place, windows are dropped oldest-first past
// the bound and counted. A separate lane, rather than a field in
// CanonicalEvent, keeps the canonical clone at one allocation and the
// canonical lanes unchanged; Close drains and stops both kinds.
//
// # Closing
//
// [Dispatcher.Close] refuses new events and lets every subscription deliver
// what it has queued. It waits for handler subscriptions; if its context
// ends first, what is left is released and Close reports how much. It does
// not wait for channel subscriptions (canonical or merged), whose reader may read only after
// Close returns: their goroutine offers what was queued on the channel and
// closes it after the last event. [Dispatcher.Unsubscribe] ends one
// subscription at once and releases its queue, also a channel subscription
// after Close. No goroutine outlives Close, except one still inside a
// handler, until that handler returns, and a channel subscription's, until
// its channel is read to the end or it is unsubscribed.
//
// # A handler that panics
//
// A panic in a subscriber's handler (canonical or merged) is recovered on
// that subscription's goroutine: it is counted ([Stats.Panics],
// [MergedStats.Panics]), logged at Error with the panic value and the
// handler's stack, the event counts as delivered, and the subscription goes
// on with its next event. The publisher and the other subscribers never
// notice. (Unrecovered, it would end the host process, every other
// subscriber and the socket reader with it.) A host that prefers to crash
// recovers and re-panics in its own handler, or watches Stats.Panics.
// A handler that ends its goroutine with runtime.Goexit (t.FailNow in a
// test's handler does) ends its subscription as Unsubscribe would: what is
// queued is released and Done is closed.
//
// # Logging
//
// [Options.Logger] (nil: silent) hears state changes, never one record
// per event: a subscriber starting to drop (Warn, once per slow spell) and
// catching up (Info), a critical lane over its bound (Warn), a Close that
// gave up (Warn), each with "subscription_id" and "subscriber".
package dispatch
