package merge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s44dispVenues are the venues the fuzzed Mergers expect; events name
// these and one more (Kraken), which a Merger ignores.
var s44dispVenues = []schema.Venue{schema.VenueBinance, schema.VenueBybit, schema.VenueOKX}

// s44dispSink keeps a copy of every merged event published and puts the
// pooled one back, as a dispatcher would once delivered.
type s44dispSink struct {
	p   *pool.Pool[*schema.MergedEvent]
	got []schema.MergedEvent
}

func (s *s44dispSink) PublishMerged(_ context.Context, m *schema.MergedEvent) error {
	c := *m
	c.Header = pool.Header{}
	c.Fragments, c.Missing = slices.Clone(m.Fragments), slices.Clone(m.Missing)
	s.got = append(s.got, c)
	s.p.Put(m)
	return nil
}

// s44dispReader reads the fuzz input a byte at a time, 0 past its end.
type s44dispReader struct {
	b []byte
	i int
}

func (r *s44dispReader) more() bool { return r.i < len(r.b) }

func (r *s44dispReader) byte() byte {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return r.b[r.i-1]
}

// price is an exact decimal from a few levels around 100, so that venues
// tie often, each written at one of three scales (100, 100.0, 100.00:
// one price), or now and then 0: no side.
func (r *s44dispReader) price() schema.Decimal {
	b := r.byte()
	if b%16 == 0 {
		return schema.Decimal{}
	}
	scale := int(b/16) % 3
	m := int64(95 + b%10)
	for range scale {
		m *= 10
	}
	return schema.NewDecimal(m, scale)
}

// qty is an exact decimal size: a small mantissa at one of a few scales.
func (r *s44dispReader) qty() schema.Decimal {
	return schema.NewDecimal(int64(r.byte())|int64(r.byte()&3)<<8, int(r.byte()%4))
}

// ts is a timestamp around now: unset, before, after, far before (another
// clock), or the ends of int64.
func (r *s44dispReader) ts(now int64) int64 {
	switch b := r.byte(); b % 8 {
	case 0:
		return 0
	case 1:
		return now - int64(r.byte())*int64(time.Millisecond)
	case 2:
		return now + int64(r.byte())*int64(time.Millisecond)
	case 3:
		return now - int64(r.byte())*int64(time.Minute)
	case 4:
		return math.MaxInt64
	case 5:
		return math.MinInt64 + int64(b)
	default:
		return now - int64(b)*int64(time.Second)/8
	}
}

// event builds one canonical event from the input: its venue (one not
// expected too), symbol (another, or none), type, sections.
func (r *s44dispReader) event(now int64) *schema.CanonicalEvent {
	ev := &schema.CanonicalEvent{
		Venue:       []schema.Venue{schema.VenueBinance, schema.VenueBybit, schema.VenueOKX, schema.VenueKraken}[r.byte()%4],
		Symbol:      []string{"BTC-USDT", "BTC-USDT", "BTC-USDT", "ETH-USDT", ""}[r.byte()%5],
		SeqProvider: uint64(r.byte() % 16),
	}
	ev.ExchangeTS, ev.IngestTS = r.ts(now), r.ts(now)
	switch r.byte() % 5 {
	case 0, 1:
		ev.Type = schema.EventBBO
		ev.BBO.BidPrice, ev.BBO.BidQty, ev.BBO.AskPrice, ev.BBO.AskQty = r.price(), r.qty(), r.price(), r.qty()
	case 2:
		ev.Type = schema.EventTrade
		ev.Trade.Price, ev.Trade.Qty = r.price(), r.qty()
	case 3:
		ev.Type = schema.EventGap
		if b := r.byte(); b%4 != 0 { // a host's marker without its Control too
			c := ev.UseControl()
			c.Kind = schema.ControlGap
			c.GapType = []schema.EventType{schema.EventUnknown, schema.EventBBO, schema.EventTrade, schema.EventBookUpdate, schema.EventBookSnapshot, schema.EventKlineClosed}[b%6]
			c.GapCount = uint64(r.byte() % 4)
		}
	default:
		ev.Type = schema.EventConnState
		if b := r.byte(); b%8 != 0 {
			c := ev.UseControl()
			c.Kind = schema.ControlConnState
			c.State = schema.ConnState(b % 9)
		}
	}
	return ev
}

// FuzzS44dispMerger feeds a Merger canonical events built from the fuzz
// bytes — venues expected and not, symbols, prices and sizes as exact
// decimals at several scales, zero sides, gap markers (with and without
// their Control), connection states (unknown ones too), timestamps out of
// order, unset, far off and at int64's ends — with clock moves, Ticks and
// Flushes between, in both modes, and checks what package merge's doc
// states of the merged events:
//
//   - no panic, no error (the sink accepts everything);
//   - MergeID counts the published events without holes;
//   - continuous: the best bid is the highest bid a fragment shows and the
//     best ask the lowest ask, credited to the venue named first among
//     those quoting it, with that venue's quantity (crossed across venues
//     may be: not checked); Missing and the fragments' venues split the
//     venues expected, Complete when none is missing; a venue whose
//     connection was last reported not connected, or that a gap marker
//     took out, shows in no view until it quotes again; none shows a
//     quote received Staleness ago or more; two views in a row differ
//     (a quote repeated unchanged publishes nothing);
//   - windowed: a window's fragments lie in [WindowOpen, WindowClose), in
//     order of time, at most MaxEvents, no (venue, non-zero seq) twice,
//     windows one after another; Missing names exactly the expected
//     venues with no fragment, Complete when none is missing and none
//     was lost; the published LateDropped and Lost add up to at most
//     Stats' and, flushed, every fragment taken is in a window published.
func FuzzS44dispMerger(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x01\x00\x00\x01\x01\x01\x01\x05\x01\x03\x01\x10\x01\x04\x01\x64\x00\x02\x01\x65\x00\x02\x01\x07\x00\x01"))
	f.Add([]byte("\x00\x01\x01\x00\x02\x01\x02\x03\x04\x00\x05\x00\x00\x02\x02\x02\x03\x01\x01\x01\x04\x02\x00\x00\x02\x03\x03\x00\x03\x01\x00\x00\x09\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &s44dispReader{b: data}
		mode := Mode(r.byte() % 2)
		merged := pool.New("merged", 4+int(r.byte()%8), func() *schema.MergedEvent { return new(schema.MergedEvent) }, nil)
		sink := &s44dispSink{p: merged}
		now := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
		o := Options{
			Symbol: "BTC-USDT", Venues: s44dispVenues, Mode: mode, Sink: sink, Merged: merged, Type: schema.EventTrade,
			Now:       func() time.Time { return now },
			MaxEvents: 1 + int(r.byte()%8), Window: time.Duration(1+r.byte()%16) * 100 * time.Millisecond,
			Staleness: time.Duration(1+r.byte()%16) * 100 * time.Millisecond,
		}
		if r.byte()%2 == 1 {
			o.Incomplete = Suppress
		}
		m, err := New(&o)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		c := s44dispContinuous{o: &o, down: map[schema.Venue]bool{}, lost: map[schema.Venue]bool{}, lastAdd: map[schema.Venue]time.Time{}}
		for r.more() {
			seen := len(sink.got)
			switch op := r.byte(); op % 8 {
			case 0:
				now = now.Add(time.Duration(r.byte()) * 10 * time.Millisecond)
				err = m.Tick(ctx)
			case 1:
				if mode == Windowed {
					if err = m.Flush(ctx); errors.Is(err, ErrWindowWaiting) {
						err = nil
					}
				}
			default:
				ev := r.event(now.UnixNano())
				err = m.Add(ctx, ev)
				if mode == Continuous {
					c.added(ev, now)
				}
			}
			if err != nil {
				t.Fatalf("merge: %v", err)
			}
			if mode == Continuous {
				for i := seen; i < len(sink.got); i++ {
					c.check(t, sink.got, i, now)
				}
			}
		}
		if mode == Windowed {
			// Put every window out: the pool is free again (the sink gives
			// each back), so nothing waits.
			if err := m.Flush(ctx); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			s44dispCheckWindows(t, &o, sink.got, m.Stats())
		}
		for i, g := range sink.got {
			if g.MergeID != uint64(i+1) {
				t.Fatalf("view %d has MergeID %d: a hole", i, g.MergeID)
			}
		}
	})
}

// s44dispContinuous is what the continuous checks know of the venues
// from the events fed: which are down (last reported not connected),
// which a gap marker took out (and have not quoted since), and when each
// last quoted.
type s44dispContinuous struct {
	o       *Options
	down    map[schema.Venue]bool
	lost    map[schema.Venue]bool
	lastAdd map[schema.Venue]time.Time
}

func (c *s44dispContinuous) added(ev *schema.CanonicalEvent, now time.Time) {
	if !slices.Contains(c.o.Venues, ev.Venue) || (ev.Symbol != c.o.Symbol && ev.Symbol != "") || (ev.Symbol == "" && !ev.Type.Critical()) {
		return // another symbol's, an unexpected venue's: ignored
	}
	switch ev.Type {
	case schema.EventBBO:
		c.lastAdd[ev.Venue] = now
		c.lost[ev.Venue] = false // it may rejoin (a quote after the marker, by IngestTS)
	case schema.EventGap:
		if quoteLost(ev) {
			c.lost[ev.Venue] = true
		}
	case schema.EventConnState:
		c.down[ev.Venue] = ev.ControlOrZero().State != schema.ConnConnected
	}
}

func (c *s44dispContinuous) check(t *testing.T, got []schema.MergedEvent, i int, now time.Time) {
	g := &got[i]
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("view %d (%+v): %s", i, *g, fmt.Sprintf(format, args...))
	}
	if g.Type != schema.EventBBO || g.Symbol != c.o.Symbol {
		fail("type or symbol")
	}
	var bid, ask *schema.Fragment
	names := make([]schema.Venue, 0, len(c.o.Venues))
	for j := range g.Fragments {
		fr := &g.Fragments[j]
		names = append(names, fr.Venue)
		if fr.BidPrice.IsZero() && fr.AskPrice.IsZero() {
			fail("fragment of %s quotes nothing", fr.Venue)
		}
		if c.down[fr.Venue] || c.lost[fr.Venue] {
			fail("%s shows though not connected (%v) or its quote lost to a gap since it last quoted (%v)", fr.Venue, c.down[fr.Venue], c.lost[fr.Venue])
		}
		if at, ok := c.lastAdd[fr.Venue]; !ok || now.Sub(at) >= c.o.Staleness {
			fail("%s shows a quote received %v ago (Staleness %v)", fr.Venue, now.Sub(at), c.o.Staleness)
		}
		// Fragments come in the order of Options.Venues: the first of a
		// price is the venue named first.
		if !fr.BidPrice.IsZero() && (bid == nil || fr.BidPrice.Cmp(bid.BidPrice) > 0) {
			bid = fr
		}
		if !fr.AskPrice.IsZero() && (ask == nil || fr.AskPrice.Cmp(ask.AskPrice) < 0) {
			ask = fr
		}
	}
	if !slices.IsSortedFunc(names, func(a, b schema.Venue) int {
		return slices.Index(c.o.Venues, a) - slices.Index(c.o.Venues, b)
	}) {
		fail("fragments out of the venues' order")
	}
	switch {
	case bid == nil && (!g.BestBid.IsZero() || g.BestBidVenue != ""):
		fail("a best bid no fragment shows")
	case bid != nil && (!g.BestBid.Identical(bid.BidPrice) || !g.BestBidQty.Identical(bid.BidQty) || g.BestBidVenue != bid.Venue):
		fail("best bid is not the highest shown, of the venue named first (%s %s@%s)", bid.Venue, bid.BidQty, bid.BidPrice)
	case ask == nil && (!g.BestAsk.IsZero() || g.BestAskVenue != ""):
		fail("a best ask no fragment shows")
	case ask != nil && (!g.BestAsk.Identical(ask.AskPrice) || !g.BestAskQty.Identical(ask.AskQty) || g.BestAskVenue != ask.Venue):
		fail("best ask is not the lowest shown, of the venue named first (%s %s@%s)", ask.Venue, ask.AskQty, ask.AskPrice)
	}
	for _, v := range c.o.Venues {
		if slices.Contains(names, v) == slices.Contains(g.Missing, v) {
			fail("%s must be either shown or missing", v)
		}
	}
	if len(names)+len(g.Missing) != len(c.o.Venues) || g.Complete != (len(g.Missing) == 0) {
		fail("Missing and Complete against the fragments")
	}
	if i > 0 && s44dispSameView(&got[i-1], g) {
		fail("the same view as the one before")
	}
}

// s44dispSameView: the top, the venues missing and every fragment's
// quote the same (sequences and times aside).
func s44dispSameView(a, b *schema.MergedEvent) bool {
	if !sameTop(a, b) || !slices.Equal(a.Missing, b.Missing) || len(a.Fragments) != len(b.Fragments) {
		return false
	}
	for j := range a.Fragments {
		x, y := &a.Fragments[j], &b.Fragments[j]
		if x.Venue != y.Venue || !x.BidPrice.Identical(y.BidPrice) || !x.BidQty.Identical(y.BidQty) ||
			!x.AskPrice.Identical(y.AskPrice) || !x.AskQty.Identical(y.AskQty) {
			return false
		}
	}
	return true
}

func s44dispCheckWindows(t *testing.T, o *Options, got []schema.MergedEvent, st Stats) {
	t.Helper()
	var late, lost, frags uint64
	closedTo := int64(math.MinInt64)
	for i := range got {
		g := &got[i]
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("window %d (open %d close %d, %d fragments, missing %v, lost %d): %s",
				i, g.WindowOpen, g.WindowClose, len(g.Fragments), g.Missing, g.Lost, fmt.Sprintf(format, args...))
		}
		if g.Type != o.Type || g.Symbol != o.Symbol {
			fail("type or symbol")
		}
		if g.WindowOpen >= g.WindowClose || g.WindowOpen < closedTo {
			fail("range empty or overlapping the window before (closed at %d)", closedTo)
		}
		closedTo = g.WindowClose
		if len(g.Fragments) == 0 || len(g.Fragments) > o.MaxEvents {
			fail("fragments count (MaxEvents %d)", o.MaxEvents)
		}
		if !slices.IsSortedFunc(g.Fragments, func(a, b schema.Fragment) int { return cmp.Compare(a.Time(), b.Time()) }) {
			fail("fragments out of time order")
		}
		type key struct {
			v   schema.Venue
			seq uint64
		}
		held := map[key]bool{}
		for j := range g.Fragments {
			fr := &g.Fragments[j]
			if tm := fr.Time(); tm < g.WindowOpen || tm >= g.WindowClose {
				fail("fragment %d at %d outside the window", j, tm)
			}
			if !slices.Contains(o.Venues, fr.Venue) || fr.Symbol != o.Symbol || fr.Type != o.Type {
				fail("fragment %d of %s %s %s", j, fr.Venue, fr.Symbol, fr.Type)
			}
			if k := (key{fr.Venue, fr.Seq}); fr.Seq != 0 {
				if held[k] {
					fail("fragment %d (%s seq %d) twice", j, fr.Venue, fr.Seq)
				}
				held[k] = true
			}
		}
		for _, v := range o.Venues {
			has := slices.ContainsFunc(g.Fragments, func(fr schema.Fragment) bool { return fr.Venue == v })
			if has == slices.Contains(g.Missing, v) {
				fail("%s must be either in the fragments or missing", v)
			}
		}
		if g.Complete != (len(g.Missing) == 0 && g.Lost == 0) {
			fail("Complete against Missing and Lost")
		}
		if o.Incomplete == Suppress && !g.Complete {
			fail("an incomplete window published though suppressed")
		}
		late, lost, frags = late+g.LateDropped, lost+g.Lost, frags+uint64(len(g.Fragments))
	}
	if late > st.LateDropped || lost > st.Lost {
		t.Fatalf("published late %d lost %d, more than counted (%+v)", late, lost, st)
	}
	if o.Incomplete == Flag && (frags != st.Fragments || uint64(len(got)) != st.Windows || st.WindowsLost != 0) {
		t.Fatalf("flushed: %d fragments in %d windows published, against %+v", frags, len(got), st)
	}
}
