package schema

import (
	"strconv"

	"github.com/meltica/meltica/pool"
)

// Fragment is one venue's contribution to a MergedEvent.
type Fragment struct {
	Venue            Venue
	Symbol           string
	Type             EventType
	Seq              uint64
	ExchangeTS       int64 // Unix ns
	IngestTS         int64 // Unix ns
	Price, Qty       Decimal
	BidPrice, BidQty Decimal
	AskPrice, AskQty Decimal
}

// Time is the fragment's event time, by which windows hold it: the venue's
// ExchangeTS, or the receive time IngestTS when the venue sent none (Unix
// ns).
func (f *Fragment) Time() int64 {
	if f.ExchangeTS != 0 {
		return f.ExchangeTS
	}
	return f.IngestTS
}

// MergedEvent is one view of a symbol across venues: the fragments of a
// window, or the consolidated best bid/offer with the venue of each side.
type MergedEvent struct {
	pool.Header `json:"-"` // the pool's bookkeeping, not data: never encoded
	// Source identifies what made the event: each merge.Merger has its
	// own, never 0, unique within the process. Views are latest-wins per
	// (Source, Symbol, Type), so the views of two Mergers of one symbol
	// (say, over spot venues and over futures venues) never replace each
	// other. 0 for an event made by hand.
	Source uint64
	// MergeID numbers the events of one Source, from 1. A Merger's
	// windows are numbered without holes (a suppressed window takes no
	// number), so a jump between two windows of one Source tells a
	// subscriber how many it lost on the way: dropped past
	// dispatch.MergedOptions.Bound, or lost waiting for the Merged pool.
	// Views are latest-wins, so their numbers jump by design.
	MergeID     uint64
	Symbol      string
	Type        EventType
	WindowOpen  int64      // Unix ns
	WindowClose int64      // Unix ns
	Fragments   []Fragment // owned; capacity kept by Reset
	Missing     []Venue    // venues expected but absent; owned
	Complete    bool
	LateDropped uint64 // fragments that arrived after the window closed
	// Lost counts the events of the window's Type its venues lost on the
	// way to the Merger, by the gap markers it received while the window
	// was open (a marker of unknown count counts one): a window that lost
	// events is not Complete. As LateDropped, it also tells the losses of
	// the windows before it that were not published (suppressed as
	// incomplete, or lost waiting for the Merged pool), which leave
	// Complete as its own range has it: the sum of the published windows'
	// Lost is merge.Stats.Lost once the Merger is flushed.
	Lost uint64

	// The consolidated best bid and ask (Type EventBBO) and the venue of
	// each. With no venue quoting a side (no bid, or no ask: a venue's
	// side with no order is a zero price and quantity, see [BBO]) that
	// side's price, quantity and venue are all zero: zero is not a price;
	// check the quantity or the venue before reading it.
	BestBid, BestBidQty Decimal
	BestAsk, BestAskQty Decimal
	BestBidVenue        Venue
	BestAskVenue        Venue
}

// Reset zeroes every field but the header and keeps the capacity of
// Fragments and Missing up to 256 KiB each, as
// [CanonicalEvent.Reset] does.
func (m *MergedEvent) Reset() {
	m.Source, m.MergeID, m.Symbol, m.Type, m.WindowOpen, m.WindowClose = 0, 0, "", EventUnknown, 0, 0
	m.Fragments, m.Missing = kept(m.Fragments), kept(m.Missing)
	m.Complete, m.LateDropped, m.Lost = false, 0, 0
	m.BestBid, m.BestBidQty, m.BestAsk, m.BestAskQty = Decimal{}, Decimal{}, Decimal{}, Decimal{}
	m.BestBidVenue, m.BestAskVenue = "", ""
}

// Clone returns an independent heap copy that no pool accepts.
func (m *MergedEvent) Clone() *MergedEvent {
	c := &MergedEvent{}
	*c = *m
	c.Header = pool.Header{}
	c.Fragments = nil
	if len(m.Fragments) > 0 {
		c.Fragments = append(make([]Fragment, 0, len(m.Fragments)), m.Fragments...)
	}
	c.Missing = nil
	if len(m.Missing) > 0 {
		c.Missing = append(make([]Venue, 0, len(m.Missing)), m.Missing...)
	}
	return c
}

// View reports whether m is a consolidated view — the latest state across
// venues at one instant, of a coalescable type (the consolidated best
// bid/offer), WindowOpen equal to WindowClose — rather than a window of
// fragments over a time range. Views are latest-wins per (Source, Symbol,
// Type) on the dispatcher's merged lane; windows, of any type (windows of best
// bid/offers included), are kept in order and dropped oldest-first.
func (m *MergedEvent) View() bool {
	return m.Type.Coalescable() && m.WindowOpen == m.WindowClose
}

// Validate checks that the event names a symbol and a type and that every
// fragment shares them, names its venue and, in a window (not a [View],
// with WindowOpen or WindowClose set), lies inside it: WindowOpen ≤
// [Fragment.Time] < WindowClose. The fragments of a consolidated view
// carry each venue's last quote time, which may be any time before the
// view (or after it, by the venue's clock), so they are not held to its
// instant.
func (m *MergedEvent) Validate() error {
	window := !m.View() && (m.WindowOpen != 0 || m.WindowClose != 0)
	switch {
	case m.Symbol == "":
		return invalid("MergedEvent", "Symbol", "empty")
	case m.Type == EventUnknown:
		return invalid("MergedEvent", "Type", "unknown")
	case m.WindowClose != 0 && m.WindowClose < m.WindowOpen:
		return invalid("MergedEvent", "WindowClose", "before WindowOpen")
	}
	for i := range m.Fragments {
		f := &m.Fragments[i]
		if f.Symbol != m.Symbol {
			return invalid("MergedEvent", "Fragments", "fragment symbol "+f.Symbol+" differs from "+m.Symbol)
		}
		if f.Type != m.Type {
			return invalid("MergedEvent", "Fragments", "fragment type "+f.Type.String()+" differs from "+m.Type.String())
		}
		if f.Venue == "" {
			return invalid("MergedEvent", "Fragments", "fragment without venue")
		}
		if ts := f.Time(); window && (ts < m.WindowOpen || ts >= m.WindowClose) {
			return invalid("MergedEvent", "Fragments", "fragment of "+string(f.Venue)+" at "+strconv.FormatInt(ts, 10)+
				" outside the window ["+strconv.FormatInt(m.WindowOpen, 10)+", "+strconv.FormatInt(m.WindowClose, 10)+")")
		}
	}
	return nil
}
