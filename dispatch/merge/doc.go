// Package merge makes one view of a symbol across venues: pooled
// schema.MergedEvents, published through the dispatcher's MergedEvent lane
// (dispatch.Dispatcher.PublishMerged, dispatch.Dispatcher.SubscribeMerged).
//
// A [Merger] takes the canonical events of one symbol from several venues —
// typically as the Handler of a dispatch subscription to that symbol, so it
// reads heap clones and never holds a pooled event — and works in one of
// two modes:
//
//   - [Windowed]: the events of one type (trades by default) are collected
//     as fragments into windows. A window holds exactly the fragments of its
//     range [WindowOpen, WindowClose): it opens on its first fragment and
//     closes Options.Window (10 s) of event time later, or when it holds
//     Options.MaxEvents (1000) fragments — then at the time of its latest
//     fragment, whose same-time fragments open the next window; when all
//     MaxEvents fragments share one time, it closes 1 ns after it, so that
//     further fragments of that very time are late. A fragment
//     that arrives out of order, before the open window's first but after
//     the last closed window, moves WindowOpen back; one older than the end
//     of the last closed window is late: dropped and counted
//     (Stats.LateDropped, and MergedEvent.LateDropped of the next window);
//     before the first window closes nothing is late, whatever the time
//     (zero and negative times included). A fragment at the very end of
//     int64's time (math.MaxInt64 ns), which no window can hold, is
//     counted late too.
//     An event the open window already holds — same venue, same non-zero
//     sequence, as a connection rotation's overlap or a replay repeats it —
//     is not taken twice (Stats.Duplicates).
//     A window some expected venue sent nothing to, or that lost events
//     on the way, is flagged (Complete false, Missing names the absent
//     venues, Lost counts the events lost) or suppressed, by
//     Options.Incomplete.
//     A window's fragments come in order of event time ([schema.Fragment.Time]),
//     those of one time in the order they arrived, whatever the order the
//     venues' events arrived in.
//     A window holds what reached the Merger; events of its type lost on
//     the way are told by the gap markers the Merger's subscription gets
//     with the stream's events (dropped from its queue, a venue's id gap,
//     a whole connection's loss): each marker of an expected venue about
//     the type or about every stream (GapType schema.EventUnknown), of the
//     symbol or of the whole venue, counts its GapCount (one when unknown)
//     in the open window's MergedEvent.Lost, or the next window's when none
//     is open (Stats.Lost). The late and lost counts of a window not
//     published (suppressed, or lost waiting for the Merged pool) go on
//     with the next window published, so that the published windows'
//     LateDropped and Lost add up to Stats.LateDropped and Stats.Lost.
//   - [Continuous]: each venue's best bid/offer is kept, and the
//     consolidated one — best bid and best ask across venues, with the venue
//     of each side, and one fragment per venue quoting — is published on
//     every change as a coalescable MergedEvent of Type schema.EventBBO:
//     of the top, of the venues quoting, or of a venue's quote (a price,
//     a quantity or a side gone) beneath the top, so that no fragment of
//     the latest view shows a quote its venue no longer has. A quote
//     repeated unchanged publishes nothing. A price quoted by several
//     venues is credited to the one named first in Options.Venues, with
//     its own quantity (quantities are not summed); the view shows what
//     each venue quotes, crossed across venues as it may be. A
//     venue whose quote is older than Options.Staleness leaves it — its age
//     counting from the earliest of its ExchangeTS, its IngestTS and its
//     receipt by the Merger, so a quote that waited in a queue or came
//     late from a lagging venue is not taken as fresh (a time after the
//     Merger's clock, or more than Staleness + 1 min before it, is another
//     clock's: receipt counts) — and so
//     does one whose quote may be lost (a gap marker about the whole
//     venue, or about the symbol's best bid/offer, its book, or all its
//     streams: GapType schema.EventUnknown) or whose connection is in
//     any state other than connected (disconnected, reconnecting, rotating,
//     closed, or one unknown): a silent venue never lingers at the top. It
//     comes back once connected again, with its first quote received after
//     the reconnection (or after the gap marker, by IngestTS: a marker is
//     critical on the dispatcher and overtakes the quotes still queued from
//     before it, which are refused, counted in Stats.Refused).
//
// # Pool exhaustion
//
// A Merger never waits for the Merged pool. A view due while it is
// exhausted is counted (Stats.PoolDropped) and not recorded as published:
// the next Add or Tick publishes the latest consolidated best bid/offer,
// and a closed window waits for the next Add, Tick or Flush (when a newer
// window closes first, the older is lost, counted in Stats.WindowsLost).
// Flush returns ErrWindowWaiting while one waits after it.
//
// # Backpressure
//
// On the dispatcher's MergedEvent lane the consolidated best bid/offer is
// latest-wins per (Merger, symbol, type) — each Merger's views carry its
// [Merger.Source] — and never dropped; windows are dropped
// oldest-first among windows past dispatch.MergedOptions.Bound. A Merger
// numbers its windows without holes (schema.MergedEvent.MergeID), so a
// subscriber sees how many it lost from a jump.
//
// # Logging
//
// With Options.Logger set, state changes go at Info (a venue leaving or
// rejoining the view, windows turning incomplete, the pool available
// again) and losses at Warn (the pool exhausted, a window lost, late
// fragments), once per transition, never per event.
//
// Feed the Merger the venues' gap markers along with their events, and in
// continuous mode their connection states too: a dispatch subscription
// whose Filter names types should name schema.EventGap and
// schema.EventConnState (their empty Symbol matches any symbol filter; a
// marker about the named types, or about none, reaches it anyway).
//
// Time moves windows and staleness even when no event comes: call
// [Merger.Tick] periodically, or run [Merger.Run] on a goroutine of yours.
// The Merger starts none itself.
package merge
