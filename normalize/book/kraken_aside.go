package book

import (
	"context"

	"github.com/meltica/meltica/schema"
)

// krAside is a Kraken v2 stream a book of an explicit Rule.Depth follows
// aside while it waits for its snapshot: a snapshot named a shallower
// view, and the updates of that view after it.
//
// Kraken v2 book messages do not name their depth. The parser names them
// by the subscription's ack, else by the snapshot: one holding an offered
// depth exactly on its deeper side is that view, the shallowest it can be
// (normalize TestS31KrakenV2ThinBookDepthAmbiguous). A depth-25
// subscription of a pair with 10 levels a side sends the bytes of a
// depth-10 one; when its ack comes after the snapshot, the snapshot (and
// any update before the ack) is named view 10 and the updates after it
// view 25. The book would ignore the snapshot as another view's and wait
// for one it was already sent, not live until a resubscription. So it
// keeps such a stream aside — a book of its own depth, checked by the
// venue's checksums as its own would be — and when a message of its own
// view comes while it is not live, which shows the subscription is its
// depth, it takes the aside book as its snapshot and applies the
// message, checksum checked. A v1 snapshot names its view in its channel
// ("book-10") and carries no checksum: never kept aside.
//
// Kept aside live or not: a live book's connection may have died, and a
// new connection's parser, which knows no ack yet (session gives each
// connection its own), names the thin pair's new snapshot a shallower
// view while wsclient's report of the loss is still on its way. A live
// book's own view then comes from the new subscription only (the parser
// names a symbol's book messages by one depth, that of its one
// subscription on the connection), so the first message of its view
// after a snapshot kept aside takes it, as a book not live does: the
// dead connection's levels are replaced, without a resubscription. The
// snapshot kept aside ends the live book at once (invalidated, announced
// with ReasonReconnect, the dead connection's tail dropped), so that its
// levels are never served in between; a loss reported as older than that
// snapshot keeps it aside too. Not kept while the
// live book holds more levels on a side than the view: a new
// subscription of the book's depth would have sent them, so it is
// another view's stream beside the book (another connection's), which
// taken would cut the book to its levels. Dropped — the aside
// book let go, its levels with it — when the book goes live or takes it,
// when a snapshot of the book's own view comes, when a checksum of the
// aside stream fails, on a gap marker of that view and whenever the book
// is invalidated (a lost connection included, unless its report is older
// than the snapshot kept aside: see asideSince).
// The one book it may take wrongly is a real shallower view's followed
// by its own view's updates without their snapshot: a host that moves a
// symbol's subscription to another depth on a live connection with
// "snapshot": false. Its levels past the shallower view would be
// missing, not wrong, and the venue's checksum fails once one of them
// reaches the top 10.
type krAside struct {
	bk   *Book // the book aside, its rule the owner's; nil until first needed. Guarded by the owner's lock
	view int   // the view its messages are named
	on   bool  // it holds a snapshot and every update since, checked
}

// asideLocked gives the aside book ev, a message of another view of the
// book's symbol, when it is one to keep aside (see krAside). A gap marker
// of the aside view drops it. A snapshot kept aside by a live book ends
// it: its levels are a dead connection's (ReasonReconnect, announced; the
// error is the sink's).
func (b *Book) asideLocked(ctx context.Context, ev *schema.CanonicalEvent) error {
	if b.rule.Checksum != ChecksumKraken || b.rule.Depth == 0 || b.tailLocked(ev) {
		return nil
	}
	a := &b.aside
	d := ev.Book.Depth
	switch ev.Type {
	case schema.EventGap:
		if d == a.view {
			a.on = false
		}
	case schema.EventBookSnapshot:
		a.on = false
		if d >= b.rule.Depth || !ev.Book.HasChecksum || max(len(ev.Book.Bids), len(ev.Book.Asks)) > d {
			return nil
		}
		if b.live && max(b.bids.len(), b.asks.len()) > d {
			// A live book deeper than the view on a side: the venue's
			// book has those levels, so a new subscription of the book's
			// depth would have sent them; this is another view's stream
			// (Book.otherView), not the book's new connection.
			return nil
		}
		if a.bk == nil {
			o := Options{MaxLevels: b.o.MaxLevels, RetryInterval: b.o.RetryInterval, Clock: b.o.Clock}
			bk, err := NewBook(b.rule, b.symbol, &o)
			if err != nil {
				return nil
			}
			a.bk = bk
		}
		_ = a.bk.snapshotLocked(ctx, ev, &ev.Book) // no sink, no resubscription: it only checks
		a.view, a.on = d, a.bk.live
		if a.on && b.live {
			// The new connection's snapshot: the live book's levels are
			// the dead connection's, which no connection keeps any more.
			// Served as live until the first message of its view (a
			// quiet pair's may come seconds later) or wsclient's report
			// of the loss, they would be stale, unannounced. What the
			// dead connection's reader still hands on is its tail.
			b.lostSinceLocked(ev.IngestTS)
			err := b.invalidateLocked(ctx, ev, ReasonReconnect, 0, 0)
			a.on = true // kept for that first message (clearLocked let it go)
			return err
		}
	case schema.EventBookUpdate:
		if a.on && d == a.view {
			_ = a.bk.diffLocked(ctx, ev)
			a.on = a.bk.live
		}
	}
	return nil
}

// asideSince reports whether the stream kept aside holds a snapshot
// received after at (IngestTS): a lost connection reported at is news of
// an earlier connection to it, as to a book its own snapshot proved good
// since (Book.Apply), and must not drop it.
func (b *Book) asideSince(at int64) bool {
	return b.aside.on && b.aside.bk.syncedAt > at
}

// takeAsideLocked makes the aside book the book's snapshot, then applies
// ev, the first message of the book's own view, which checks it against
// the venue's checksum. It reports false when there is none to take.
func (b *Book) takeAsideLocked(ctx context.Context, ev *schema.CanonicalEvent) (bool, error) {
	a := &b.aside
	if !a.on {
		return false, nil
	}
	ab := a.bk
	a.on = false
	snap := &ab.fetchEv // the aside book's scratch: it never fetches
	ab.topLocked(0, snap)
	snap.Book.HasChecksum, snap.Book.Checksum = false, 0 // checked aside
	b.info("book: taking the stream named a shallower view as its own (the subscription's ack came after its snapshot)",
		"view", a.view, "depth", b.rule.Depth)
	err := b.snapshotLocked(ctx, snap, &snap.Book) // live, it lets the aside book go (verifyLocked)
	b.aside = krAside{}                            // taken or refuted, it is not taken again
	if err != nil || !b.live {
		return true, err
	}
	b.ck = ab.ck // the precision its checksums matched at
	return true, b.diffLocked(ctx, ev)
}
