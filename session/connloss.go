package session

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/meltica/meltica/normalize/book"
	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// lossMarker announces a lost market connection to every subscriber of
// its market data, whatever types it subscribed: the books announce their
// own loss (a gap marker of the book's stream, then a resynchronised
// snapshot), and schema.EventConnState reaches only the subscribers of
// that type, so a subscriber of trades alone, or of best bid/offers alone,
// would otherwise hold stale state without knowing it (contracts 4 and 5,
// "never silently stale").
//
// On each loss of the shard's connection it publishes schema.EventGap
// markers naming no type (Control.GapType schema.EventUnknown, GapSource
// schema.GapVenue): package dispatch routes those to every subscriber of
// market data of the venue (and symbol), and they replace the best
// bid/offers, tickers and other coalescable events those subscribers have
// queued. A session of one market connection publishes one marker for the
// whole venue (Symbol empty); with several, one per symbol of the lost
// connection, so that the other connections' symbols keep their data.
//
// A loss is announced once: on the first lost state (disconnected,
// reconnecting, closed) after data could flow, or a loss naming a
// connection not seen before; on a rotation only when wsclient reports
// that its switch may have lost or repeated messages
// (wsclient.ErrRotationDropped: frames from before the join the old
// connection never delivered; wsclient.ErrRotationUnaligned: no join
// found) — wsclient hands those to OnEvent, and waits for it, before the
// new connection's first frame, so the marker comes before the data after
// the gap (a late divergence, found among the repeats, is reported after
// the frame out of its place, before the next); one loss, one marker: a
// rotation's loss that follows the announced loss of the connection it
// replaced, with no frame handed to the handler in between (the old
// connection died before the switch), is that loss (see announced), and
// so is the loss of a connection whose rotation, given up after its
// join, was reported (wsclient.ErrRotationUnaligned naming it) with no
// frame after the report (the old connection died after it: wsclient's
// restoreOld) —;
// not when the session is closing, and not for a connection that
// carries only book channels (the books' markers announce it: their
// venues' update ids or checksums find a diff lost or repeated across
// the switch; its loss on the frame path breaks them, see below). As the
// books do, an event naming a new connection after dropped wsclient
// events, while the last state seen was not a loss, means a loss went
// unreported: it is announced then.
//
// wsclient hands events to OnEvent on a goroutine of its own, so a
// reconnection's new connection may deliver its first frames before
// OnEvent saw the previous connection's loss (a marker after trades 6..8
// of the new connection, trades 4..5 lost unannounced: 1 run in 20 under
// -race, TestS36ctOKXMarketLossAnnounced). A frame of a connection later
// than the last one an event named therefore announces the loss first,
// on the reader (onFrame), when the last state seen was not a loss; the
// loss's own event, when it comes, is then not announced again.
//
// The same detection breaks the shard's books (breakBooks), on a
// connection that carries only books too: the books hear of a loss from
// the same event goroutine (book.Books.OnEvent), so a reconnection's new
// connection may deliver frames while they still live on the dead
// connection's levels, Stats naming the new one (the session doc's
// "invalidated at once when its connection is lost": at the latest before
// the new connection's first frame). The books' own rule keeps the
// loss's event, when it comes, from breaking them again (book.Book.Apply:
// older than the data that made them good; a book already broken
// announces nothing more). One detector, one atomic load a frame.
type lossMarker struct {
	s      *Session
	syms   []string // nil: the whole venue
	mu     sync.Mutex
	lost   bool   // the last state seen was a loss
	conn   uint64 // the last connection named
	active bool   // the connection carries data no book announces
	books  bool   // the shard keeps books (sh.books), broken on the frame path's loss
	// seen is the latest connection an event named or a frame came on:
	// onFrame's fast path (a frame of it takes no lock).
	seen atomic.Uint64
	// rotating reports whether the shard's client is rotating, rotations
	// how many rotations it made (wsclient's Stats; nil: none): a
	// rotation's new connection hands its answers (a subscription's
	// acknowledgement) to the handler before the switch, and its frames
	// may come before OnEvent saw its Connected — no loss either way.
	rotating  func() bool
	rotations func() uint64
	rotSeen   uint64 // rotations, read when the last event was handled
	// prev is the connection named before conn. marked says that the
	// last marker was published for the loss event of connection
	// markedConn, when the shard's client had handed markedAt frames
	// to the handler (Stats.Messages); a marker published from onFrame
	// clears it (its frame comes after the marker).
	prev       uint64
	sh         *shard
	marked     bool
	markedConn uint64
	markedAt   uint64
	markedRot  bool // the marker was for a rotation's report (rotationLoss)
}

func (s *Session) newLossMarker(sh *shard) *lossMarker {
	m := &lossMarker{s: s, sh: sh, lost: true} // lost until the first Connected: nothing to announce yet
	for _, ch := range s.cfg.Channels {
		if _, isBook := s.spec.book(ch); !isBook {
			m.active = true
		}
	}
	if len(s.cfg.Symbols) > len(sh.syms) {
		m.syms = sh.syms
	}
	return m
}

// onEvent is called with each of the connection's events, after the books
// saw it.
func (m *lossMarker) onEvent(e wsclient.Event) {
	m.mu.Lock()
	unseen := e.ConnID != 0 && m.conn != 0 && e.ConnID != m.conn
	isLost := e.State.Lost()
	announce := isLost && (!m.lost || unseen) && !rotationOwn(e)
	if rotationLoss(e) && !m.lost {
		announce = !m.announced(e)
	}
	if announce && isLost && m.markedRot && m.markedLoss(e.ConnID, 0) {
		// The old connection of a rotation given up after its join,
		// dying after wsclient reported the gap (ErrRotationUnaligned
		// naming it, the state Rotating: no loss state), with no frame
		// between: the same gap (wsclient's restoreOld; the mirror of
		// announced). Still a loss: m.lost is set below.
		announce = false
	}
	if !isLost && unseen && e.Dropped > 0 && !m.lost && !rotationOwn(e) {
		announce = true // the previous connection's loss was dropped from wsclient's queue
	}
	if isLost || e.State == schema.ConnConnected {
		m.lost = isLost
	}
	if m.rotations != nil {
		m.rotSeen = m.rotations()
	}
	if e.ConnID != 0 {
		if e.ConnID != m.conn {
			m.prev, m.conn = m.conn, e.ConnID
		}
		if e.ConnID > m.seen.Load() {
			m.seen.Store(e.ConnID)
		}
	}
	announce = announce && m.active && !m.s.closing.Load()
	if announce {
		m.marked, m.markedConn, m.markedAt, m.markedRot = true, e.ConnID, m.messages(), rotationLoss(e)
	}
	m.mu.Unlock()
	if announce {
		m.publish(e)
	}
}

// announced reports whether e, a rotation's loss, is the loss the last
// marker announced: the marker was for the loss of the connection the
// rotation replaced (wsclient reports a rotation's old connection lost
// when it dies before the switch, then the switch unaligned or dropping
// frames — one gap), and no frame reached the handler since. A loss
// event of that connection comes once its frames have all been handed
// to the handler (wsclient reports it after the connection's reader
// stopped), and a rotation's new connection delivers after its loss
// events (wsclient waits for OnEvent), so no frame was in the handler,
// between the two, that the first marker would have come before. m.mu
// is held.
func (m *lossMarker) announced(e wsclient.Event) bool {
	replaced := m.conn // e comes before the rotation's Connected (ErrRotationDropped)
	if e.ConnID == m.conn {
		replaced = m.prev // after it (ErrRotationUnaligned)
	}
	return m.markedLoss(replaced, 0)
}

// markedLoss reports whether the last marker was published for a loss
// event naming connection id, and no frame reached the handler since
// but the handed ones (0 for an event; 1 for the frame onFrame reads,
// which wsclient counted before handing it): a loss of id now is the
// gap that marker announced. m.mu is held.
func (m *lossMarker) markedLoss(id, handed uint64) bool {
	return m.marked && m.markedConn == id && m.messages() == m.markedAt+handed
}

// messages is how many frames the shard's client has handed to its
// handler.
func (m *lossMarker) messages() uint64 {
	if m.sh == nil || m.sh.client == nil {
		return 0
	}
	return m.sh.client.Stats().Messages
}

// onFrame is called with each frame before the parser reads it (see
// lossMarker): a frame of a connection no event has named yet, after one
// that was live, announces that one's loss now. Connections are numbered
// in the order they are dialled (wsclient's ConnID); a rotation's new
// connection is named by its events before its first frame (wsclient
// waits for OnEvent), and a replaced connection's late frames are of an
// older one; a rotation's new connection's answers before the switch are
// passed over (rotating).
func (m *lossMarker) onFrame(f *schema.WsFrame) {
	if f.ConnID <= m.seen.Load() || (!m.active && !m.books) {
		return
	}
	if m.rotating != nil && m.rotating() {
		return // a rotation's new connection, before its switch (named by its events then)
	}
	m.mu.Lock()
	if f.ConnID <= m.seen.Load() {
		m.mu.Unlock()
		return
	}
	m.seen.Store(f.ConnID)
	announce := m.conn != 0 && f.ConnID > m.conn && !m.lost
	if announce && m.rotations != nil && m.rotations() > m.rotSeen {
		announce = false // a rotation switched to it: its events tell of any loss
	}
	// The first frame since a rotation's report named m.conn (f counted
	// already, see markedLoss): that report announced the gap this loss
	// is in (the old connection of a rotation given up after its join,
	// dead after the report, its Disconnected not seen yet).
	same := announce && m.markedRot && m.markedLoss(m.conn, 1)
	if announce {
		m.lost = true // its event, when it comes, is not announced again
		m.marked = false
	}
	old := m.conn
	m.mu.Unlock()
	if !announce {
		return
	}
	// The marker is stamped just before the frame (ReceivedAt-1: after
	// the dead connection's data, before the new one's, while the clock
	// runs forward); 0 (no stamp) for a frame stamped 0 or 1, never
	// below. A live book whose data is not after it hears it so stamped,
	// any other unstamped (breakBooks).
	lost := wsclient.Event{State: schema.ConnDisconnected, ConnID: old, IngestTS: max(f.ReceivedAt-1, 0)}
	if m.books {
		m.breakBooks(lost)
	}
	if m.active && !same && !m.s.closing.Load() {
		m.publish(lost)
	}
}

// breakBooks invalidates the shard's books for e, a loss the frame path
// found (onFrame), waiting for the event pool at most book.StateTimeout
// each (as book.Books.OnEvent does for connection states). The loss is
// the connection whose data the books hold (the later connection's first
// frame is not read yet), whatever the stamps say. It goes to a live book
// stamped e.IngestTS when that is not before the book's latest data
// (book.Book.Updated: the clock ran forward), so that the book's gap
// marker carries it (merge refuses by it the dead connection's quotes
// queued behind the marker); else unstamped (IngestTS 0: book.Book.Apply
// always applies such a loss). The stamp would be judged against the
// book's data: a clock stepped back since (the new frame's ReceivedAt
// before that data), or a frame stamped 0, made it "news of an earlier
// connection", ignored — the book stayed live on the dead connection's
// levels. A book not live (Updated zero; a fetch maybe in flight, its
// syncedAt of an earlier run) gets it unstamped too.
func (m *lossMarker) breakBooks(e wsclient.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), book.StateTimeout)
	defer cancel()
	ev := schema.CanonicalEvent{Venue: m.s.spec.venue, Type: schema.EventConnState}
	ev.Control = &schema.Control{Kind: schema.ControlConnState, State: e.State,
		Reason: "a later connection's frame came first"}
	for _, sym := range m.sh.syms {
		if b := m.sh.books.Book(m.s.spec.venue, sym); b != nil {
			ev.IngestTS = 0
			if _, data := b.Updated(); data != 0 && e.IngestTS >= data {
				ev.IngestTS = e.IngestTS
			}
			if err := b.Apply(ctx, &ev); err != nil && m.s.cfg.Logger != nil {
				m.s.cfg.Logger.Warn("session: invalidating a lost connection's book", "venue", string(m.s.spec.venue),
					"symbol", sym, "conn_id", e.ConnID, "err", err)
			}
		}
	}
}

// rotationOwn reports whether e is a rotation's own event (Rotating, its
// switch's or failure's Connected, its reports), which tells no loss of
// the connection by itself. A Reconnecting event is a loss's, whatever its
// Reason: with ReasonRotation it tells, after the live connection's loss,
// the wait and error of a rotation the venue refused before (wsclient's
// Event doc), and it is the loss's first word when the Disconnected
// event before it was dropped from wsclient's queue.
func rotationOwn(e wsclient.Event) bool {
	return e.Reason == wsclient.ReasonRotation && e.State != schema.ConnReconnecting
}

// rotationLoss reports whether e is a rotation's report of messages its
// switch may have lost or repeated.
func rotationLoss(e wsclient.Event) bool {
	return e.Reason == wsclient.ReasonRotation && (errors.Is(e.Err, wsclient.ErrRotationDropped) || errors.Is(e.Err, wsclient.ErrRotationUnaligned))
}

// publish sends the markers, waiting for the event pool at most
// book.StateTimeout each (as the books do for connection states).
func (m *lossMarker) publish(e wsclient.Event) {
	ctx, cancel := context.WithTimeout(context.Background(), book.StateTimeout)
	defer cancel()
	one := func(sym string) {
		ev, err := m.s.pools.Events.Get(ctx)
		if err != nil {
			if l := m.s.cfg.Logger; l != nil {
				l.Warn("session: lost connection not announced", "venue", string(m.s.spec.venue), "symbol", sym, "err", err)
			}
			return
		}
		ev.Venue, ev.Symbol, ev.Type = m.s.spec.venue, sym, schema.EventGap
		ev.IngestTS = e.Stamp()
		*ev.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: schema.EventUnknown, GapSource: schema.GapVenue, Reason: markerReason(e)}
		_ = m.s.disp.Publish(ctx, ev)
	}
	if m.syms == nil {
		one("")
		return
	}
	for _, sym := range m.syms {
		one(sym)
	}
}

// markerReason is the Control.Reason of e's markers. A Reconnecting
// event with ReasonRotation tells a refused rotation's wait, not why the
// connection was lost (the Disconnected event it follows, dropped, said).
func markerReason(e wsclient.Event) string {
	switch {
	case rotationLoss(e):
		return "rotation: " + e.Err.Error()
	case e.Reason == wsclient.ReasonRotation:
		return "connection lost"
	}
	return "connection lost: " + e.Reason.String()
}
