package session

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// bookLoss invalidates a shard's books on its reader when a frame comes
// on a connection later than the last one an event named while the last
// state seen was not a loss: wsclient hands events to OnEvent (the books'
// book.Books.OnEvent) on a goroutine of its own, which a host's OnState
// holds, so a reconnection's new connection may deliver frames before the
// books heard of the previous one's loss — its books still live on the
// dead connection's levels, Stats naming the new one (the session doc's
// "invalidated at once when its connection is lost": at the latest
// before the new connection's first frame). The books' own rule keeps the
// loss's event, when it comes, from breaking them again (Book.Apply:
// older than the data that made them good). A rotation's new connection
// is no loss: its frames before the switch are passed over (rotating), and
// after a switch its events tell of any loss (rotations), as lossMarker
// does for the other subscribers.
type bookLoss struct {
	s    *Session
	sh   *shard
	mu   sync.Mutex
	lost bool   // the last state seen was a loss
	conn uint64 // the last connection an event named
	// seen is the latest connection an event named or a frame came on:
	// onFrame's fast path (one atomic load a frame).
	seen      atomic.Uint64
	rotating  func() bool
	rotations func() uint64
	rotSeen   uint64 // rotations, read when the last event was handled
}

// onEvent is called with each of the connection's events, before the
// books see it.
func (l *bookLoss) onEvent(e wsclient.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.State.Lost() || e.State == schema.ConnConnected {
		l.lost = e.State.Lost()
	}
	if l.rotations != nil {
		l.rotSeen = l.rotations()
	}
	if e.ConnID != 0 {
		l.conn = e.ConnID
		if e.ConnID > l.seen.Load() {
			l.seen.Store(e.ConnID)
		}
	}
}

// onFrame is called with each frame before the parser reads it.
func (l *bookLoss) onFrame(f *schema.WsFrame) {
	if f.ConnID <= l.seen.Load() {
		return
	}
	if l.rotating != nil && l.rotating() {
		return // a rotation's new connection, before its switch
	}
	l.mu.Lock()
	if f.ConnID <= l.seen.Load() {
		l.mu.Unlock()
		return
	}
	l.seen.Store(f.ConnID)
	lose := l.conn != 0 && f.ConnID > l.conn && !l.lost &&
		(l.rotations == nil || l.rotations() <= l.rotSeen)
	if lose {
		l.lost = true // its event, when it comes, finds the books broken already
	}
	old := l.conn
	l.mu.Unlock()
	if !lose {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), book.StateTimeout)
	defer cancel()
	ev := schema.CanonicalEvent{Venue: l.s.spec.venue, Type: schema.EventConnState, IngestTS: f.ReceivedAt - 1}
	ev.Control = schema.Control{Kind: schema.ControlConnState, State: schema.ConnDisconnected,
		Reason: "a later connection's frame came first"}
	for _, sym := range l.sh.syms {
		if b := l.sh.books.Book(l.s.spec.venue, sym); b != nil {
			if err := b.Apply(ctx, &ev); err != nil && l.s.cfg.Logger != nil {
				l.s.cfg.Logger.Warn("session: invalidating a lost connection's book", "venue", string(l.s.spec.venue),
					"symbol", sym, "conn_id", old, "err", err)
			}
		}
	}
}
