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
//     as fragments into windows. A window opens on its first fragment and
//     closes after Options.Window (10 s) of event time or Options.MaxEvents
//     (1000) fragments; a fragment older than the end of the last closed
//     window is late: dropped and counted (Stats.LateDropped, and
//     MergedEvent.LateDropped of the next window). A window some expected
//     venue sent nothing to is flagged (Complete false, Missing names the
//     venues) or suppressed, by Options.Incomplete.
//   - [Continuous]: each venue's best bid/offer is kept, and the
//     consolidated one — best bid and best ask across venues, with the venue
//     of each side, and one fragment per venue quoting — is published on
//     every change as a coalescable MergedEvent of Type schema.EventBBO. A
//     venue whose quote is older than Options.Staleness leaves it, and so
//     does one whose book or connection is lost (a gap marker or a
//     connection state other than connected): a silent venue never lingers
//     at the top.
//
// Time moves windows and staleness even when no event comes: call
// [Merger.Tick] periodically, or run [Merger.Run] on a goroutine of yours.
// The Merger starts none itself.
package merge
