package merge

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"

	"github.com/meltica/meltica/schema"
)

// windows is the state of windowed mode.
//
// A window holds exactly the fragments of its range [WindowOpen,
// WindowClose): it opens on its first fragment (firstTS) and closes
// Window of event time later; a fragment that arrives out of order with a
// time before the open window's first one, but after the last closed
// window, belongs to no closed window and moves WindowOpen back to its
// time. A window full at MaxEvents fragments closes at the time of its
// latest fragment: the fragments of that very time are carried into the
// next window, which opens there, so that a burst of same-time trades is
// never counted late (only when all MaxEvents fragments share one time
// does the window close just after it). Every fragment before the end of
// the last closed window is late.
type windows struct {
	open      bool
	firstTS   int64 // the first-arrived fragment's time: the window closes Window after it
	openTS    int64 // the earliest fragment's time: WindowOpen
	maxTS     int64 // the latest fragment's time
	closedTo  int64 // end of the last closed window (math.MinInt64 before the first); earlier fragments are late
	frags     []schema.Fragment
	lateSince uint64 // late fragments since the last window built
	lost      uint64 // events of the type lost on the way since the last window closed (gap markers): makes it incomplete
	lostSince uint64 // those since the last window built: told by the next one published, as lateSince

	// pend is the last closed window while it waits for the Merged pool.
	pend    schema.MergedEvent
	pending bool

	complete   bool // the last window closed was complete (logged on change)
	lateLogged bool // the last window published reported late fragments
}

// eventTime is an event's time for windows: the venue's, else the receive
// time, as schema.Fragment.Time has it.
func eventTime(ev *schema.CanonicalEvent) int64 {
	if ev.ExchangeTS != 0 {
		return ev.ExchangeTS
	}
	return ev.IngestTS
}

func (m *Merger) addFragmentLocked(ctx context.Context, ev *schema.CanonicalEvent) error {
	w := &m.w
	err := m.publishPendingLocked(ctx)
	ts := eventTime(ev)
	if ts < w.closedTo || ts == math.MaxInt64 {
		// Before the end of the last closed window; or at the last
		// nanosecond int64 holds, which no window [open, close) can hold.
		m.stats.LateDropped++
		w.lateSince++
		return err
	}
	if w.open && ts >= m.deadlineLocked() {
		err = errors.Join(err, m.closeWindowLocked(ctx, m.deadlineLocked()))
	}
	if m.duplicateLocked(ev) {
		// The same event again (a rotation's overlap, a replay): counted
		// once, or the window's volume would count it twice.
		m.stats.Duplicates++
		return err
	}
	if !w.open {
		w.open, w.firstTS, w.openTS, w.maxTS = true, ts, ts, ts
	}
	w.openTS, w.maxTS = min(w.openTS, ts), max(w.maxTS, ts)
	w.frags = append(w.frags, schema.Fragment{
		Venue: ev.Venue, Symbol: m.o.Symbol, Type: ev.Type, Seq: ev.SeqProvider,
		ExchangeTS: ev.ExchangeTS, IngestTS: ev.IngestTS,
		Price: ev.Trade.Price, Qty: ev.Trade.Qty,
		BidPrice: ev.BBO.BidPrice, BidQty: ev.BBO.BidQty, AskPrice: ev.BBO.AskPrice, AskQty: ev.BBO.AskQty,
	})
	m.stats.Fragments++
	if len(w.frags) >= m.o.MaxEvents {
		end := w.maxTS
		if end == w.openTS {
			end++ // every fragment has the same time
		}
		err = errors.Join(err, m.closeWindowLocked(ctx, end))
	}
	return err
}

// addLossLocked counts in the open window (or the next, when none is
// open) the events of the Merger's type that a gap marker of an expected
// venue says were lost: about the type or every stream (GapType
// EventUnknown), of the symbol or of the whole venue (no symbol). A marker of
// unknown count (GapCount 0) counts one: something was lost.
func (m *Merger) addLossLocked(ev *schema.CanonicalEvent) {
	c := ev.ControlOrZero()
	if t := c.GapType; t != m.o.Type && t != schema.EventUnknown {
		return
	}
	n := max(c.GapCount, 1)
	m.w.lost += n
	m.w.lostSince += n
	m.stats.Lost += n
}

// deadlineLocked is when the open window closes by time: Window after its
// first fragment's time, or the last nanosecond int64 holds when that is
// later (a venue time near the end of int64 must not wrap around to a
// window that closes before it opens).
func (m *Merger) deadlineLocked() int64 {
	if m.w.firstTS > math.MaxInt64-int64(m.o.Window) {
		return math.MaxInt64
	}
	return m.w.firstTS + int64(m.o.Window)
}

// duplicateLocked reports whether the open window already holds ev: the
// same venue and the same non-zero sequence (the venue's trade id or update
// id; a Merger has one symbol and one type, so that identifies the event —
// the receive time does not, as a rotation's overlap comes on another
// connection). Events without a sequence cannot be told apart and are all
// kept.
func (m *Merger) duplicateLocked(ev *schema.CanonicalEvent) bool {
	if ev.SeqProvider == 0 || !m.w.open {
		return false
	}
	for i := range m.w.frags {
		f := &m.w.frags[i]
		if f.Seq == ev.SeqProvider && f.Venue == ev.Venue {
			return true
		}
	}
	return false
}

// closeWindowLocked closes the open window at end: the fragments before
// end make the window, published (or suppressed); those from end on — only
// after a close by MaxEvents — open the next one. Every fragment before end
// is late from now on.
func (m *Merger) closeWindowLocked(ctx context.Context, end int64) error {
	w := &m.w
	m.stats.Windows++
	w.closedTo = max(w.closedTo, end)
	missing := 0
	for i := range m.venues {
		if !m.seenBefore(m.venues[i].venue, end) {
			missing++
		}
	}
	lost := w.lost
	w.lost = 0
	complete := missing == 0 && lost == 0
	if complete != w.complete {
		w.complete = complete
		if complete {
			m.log.Info("merge: windows complete again")
		} else {
			m.log.Info("merge: window incomplete", "missing", missing, "lost", lost)
		}
	}
	publish := true
	if !complete {
		m.stats.Incomplete++
		if m.o.Incomplete == Suppress {
			m.stats.Suppressed++
			publish = false
		}
	}
	p := &w.pend
	if publish {
		// The late and lost counts of the windows suppressed since the
		// last one built go on with this one (Stats add up: every late
		// fragment and every lost event is told by a published window).
		late, lostSince := w.lateSince, w.lostSince
		if w.pending {
			// The older window never found a pool object: windows go
			// oldest-first, its late and lost counts go on with the newer one.
			m.stats.WindowsLost++
			late += p.LateDropped
			lostSince += p.Lost
			m.log.Warn("merge: window lost waiting for the Merged pool", "window_open", p.WindowOpen, "fragments", len(p.Fragments))
		}
		w.lateSince, w.lostSince = 0, 0
		m.mergeID++
		p.Reset()
		p.MergeID, p.Symbol, p.Type = m.mergeID, m.o.Symbol, m.o.Type
		p.WindowOpen, p.WindowClose = w.openTS, end
		p.Complete, p.LateDropped, p.Lost = complete, late, lostSince
		for i := range m.venues {
			if !m.seenBefore(m.venues[i].venue, end) {
				p.Missing = append(p.Missing, m.venues[i].venue)
			}
		}
		w.pending = true
	}
	// Split: fragments before end go to the window, the rest stay open.
	keep := w.frags[:0]
	w.open = false
	for _, f := range w.frags {
		ts := f.Time()
		if ts < end {
			if publish {
				p.Fragments = append(p.Fragments, f)
			}
			continue
		}
		if !w.open {
			w.open, w.firstTS, w.openTS, w.maxTS = true, ts, ts, ts
		}
		w.firstTS, w.openTS, w.maxTS = min(w.firstTS, ts), min(w.openTS, ts), max(w.maxTS, ts)
		keep = append(keep, f)
	}
	w.frags = keep
	if publish {
		// The venues' streams merged: in order of event time, those of one
		// time in arrival order (a stable sort), whatever the order the
		// venues' events arrived in.
		slices.SortStableFunc(p.Fragments, func(a, b schema.Fragment) int { return cmp.Compare(a.Time(), b.Time()) })
	}
	return m.publishPendingLocked(ctx)
}

// seenBefore reports whether the open window has a fragment of v before
// end.
func (m *Merger) seenBefore(v schema.Venue, end int64) bool {
	for i := range m.w.frags {
		if f := &m.w.frags[i]; f.Venue == v && f.Time() < end {
			return true
		}
	}
	return false
}

// publishPendingLocked publishes the closed window waiting for the Merged
// pool, if there is one and the pool has an object.
func (m *Merger) publishPendingLocked(ctx context.Context) error {
	w := &m.w
	if !w.pending {
		return nil
	}
	out := m.take()
	if out == nil {
		return nil
	}
	p := &w.pend
	w.pending = false
	out.Source, out.MergeID, out.Symbol, out.Type = m.source, p.MergeID, p.Symbol, p.Type
	out.WindowOpen, out.WindowClose = p.WindowOpen, p.WindowClose
	out.Complete, out.LateDropped, out.Lost = p.Complete, p.LateDropped, p.Lost
	out.Fragments = append(out.Fragments, p.Fragments...)
	out.Missing = append(out.Missing, p.Missing...)
	switch {
	case p.LateDropped > 0 && !w.lateLogged:
		w.lateLogged = true
		m.log.Warn("merge: late fragments dropped", "late", p.LateDropped, "late_total", m.stats.LateDropped)
	case p.LateDropped == 0:
		w.lateLogged = false
	}
	if err := m.o.Sink.PublishMerged(ctx, out); err != nil {
		w.pending = true // not delivered: the next Add, Tick or Flush tries again
		return err
	}
	m.stats.Published++
	return nil
}
