package meltica_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// s40ctBook fills a book message of venue and symbol: a diff (typ
// EventBookUpdate) or a snapshot (EventBookSnapshot) of view depth,
// LastSeq seq, one bid level.
func s40ctBook(venue schema.Venue, symbol string, typ schema.EventType, depth int, seq uint64) func(*schema.CanonicalEvent) {
	return func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = venue, symbol, typ, seq
		ev.ExchangeTS, ev.IngestTS = int64(seq), int64(seq)
		ev.Book.Depth, ev.Book.LastSeq = depth, seq
		ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.MustParseDecimal("100"), Qty: schema.MustParseDecimal("1")})
	}
}

// s40ctGap fills a venue's gap marker (GapSource GapVenue) of venue about
// symbol ("" every symbol) and type gapType (EventUnknown every type).
func s40ctGap(venue schema.Venue, symbol string, gapType schema.EventType, depth int) func(*schema.CanonicalEvent) {
	return func(ev *schema.CanonicalEvent) {
		ev.Venue, ev.Symbol, ev.Type = venue, symbol, schema.EventGap
		*ev.UseControl() = schema.Control{Kind: schema.ControlGap, GapType: gapType, GapSource: schema.GapVenue}
		ev.Book.Depth = depth
	}
}

// s40ctName names a delivered event for the test's story.
func s40ctName(ev *schema.CanonicalEvent) string {
	switch ev.Type {
	case schema.EventGap:
		return fmt.Sprintf("gap %s/%s %s d%d", ev.Venue, ev.Symbol, ev.Control.GapType, ev.Book.Depth)
	case schema.EventBookUpdate, schema.EventBookSnapshot:
		return fmt.Sprintf("%s %s/%s d%d #%d", ev.Type, ev.Venue, ev.Symbol, ev.Book.Depth, ev.Book.LastSeq)
	case schema.EventTrade:
		return fmt.Sprintf("trade %s/%s #%d", ev.Venue, ev.Symbol, ev.SeqProvider)
	case schema.EventKlineClosed:
		return fmt.Sprintf("kline %s/%s %s", ev.Venue, ev.Symbol, ev.Kline.Interval)
	default:
		return ev.Type.String()
	}
}

// TestS40ctWideBookMarkerOvertakesQueuedBookStateNotTrades holds a
// subscriber while trades, a closed kline, book diffs and snapshots (a
// whole book and a view of 5) and a venue's marker about one book's diffs
// queue on its Ordered lane, then publishes a gap marker about more than
// one stream of a book, and lets it go.
//
// Package dispatch, "Lanes": "one about more than one stream of a book —
// every symbol of the venue (Symbol "": a connection lost) or every
// stream of its symbol (GapType schema.EventUnknown), about the book's
// diffs, its snapshots or no type — drops the book snapshots and diffs of
// those streams still queued on the Ordered lane, counted in
// Stats.Coalesced (markers about them stay and go out after it: a book's
// own marker is promised to its subscribers): it overtakes them ...
// Trades, closed klines and liquidations queued before it stay and go out
// after it, in order"; Critical events are "always delivered before any
// waiting market data". And the control: a marker about one stream of a
// book (Symbol set, GapType its type) goes "in line, after the stream's
// events published before the marker": nothing is dropped.
func TestS40ctWideBookMarkerOvertakesQueuedBookStateNotTrades(t *testing.T) {
	const btc, eth = "BTC-USDT", "ETH-USDT"
	bn := schema.VenueBinance
	cases := []struct {
		name    string
		symbol  string
		gapType schema.EventType
		wide    bool                                        // the marker covers more than one stream of a book
		covers  func(sym string, typ schema.EventType) bool // the Binance book streams whose queued events it drops
	}{
		{"connection lost: every symbol, no type", "", schema.EventUnknown, true, func(string, schema.EventType) bool { return true }},
		// diffs: the book whole, its snapshots too ("a view's snapshots and diffs are one book")
		{"every symbol's diffs", "", schema.EventBookUpdate, true, func(string, schema.EventType) bool { return true }},
		// snapshots: the docs do not say a marker about snapshots covers the diffs
		// (routing: one about diffs reaches snapshots' subscribers, not the
		// reverse); only the snapshots are held to it here
		{"every symbol's snapshots", "", schema.EventBookSnapshot, true, func(_ string, typ schema.EventType) bool { return typ == schema.EventBookSnapshot }},
		{"every stream of BTC", btc, schema.EventUnknown, true, func(s string, _ schema.EventType) bool { return s == btc }},
		{"control: BTC's diffs, one stream, in line", btc, schema.EventBookUpdate, false, func(string, schema.EventType) bool { return false }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pools := schema.NewPools(nil)
			d := dispatch.New(pools.Events, nil)
			defer func() { _ = d.Close(context.Background()) }()
			var tally s38ctTally
			stall := newS35ctStalled(tally.handle)
			sub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: stall.handle})
			require.NoError(t, err)

			release := stall.hold(t, d, s35ctEvent(t, pools, s35ctConn(bn, schema.ConnConnected, time.Unix(1, 0))))
			type pub struct {
				fill   func(*schema.CanonicalEvent)
				book   bool   // a book snapshot or diff
				symbol string // its symbol, when of Binance
				typ    schema.EventType
			}
			before := []pub{
				{fill: s38ctTrade(btc, 1)},
				{fill: s40ctBook(bn, btc, schema.EventBookUpdate, 0, 11), book: true, symbol: btc, typ: schema.EventBookUpdate},
				{fill: s40ctBook(bn, btc, schema.EventBookSnapshot, 5, 12), book: true, symbol: btc, typ: schema.EventBookSnapshot},
				{fill: func(ev *schema.CanonicalEvent) {
					ev.Venue, ev.Symbol, ev.Type = bn, btc, schema.EventKlineClosed
					k := ev.UseKline()
					k.Interval, k.Closed = "1m", true
					k.Open, k.Close = schema.MustParseDecimal("1"), schema.MustParseDecimal("2")
				}},
				{fill: s40ctBook(bn, eth, schema.EventBookUpdate, 0, 21), book: true, symbol: eth, typ: schema.EventBookUpdate},
				{fill: s40ctGap(bn, btc, schema.EventBookUpdate, 0)}, // a venue's marker about BTC's diffs, in line
				{fill: s38ctTrade(eth, 2)},
				{fill: s40ctBook(schema.VenueOKX, btc, schema.EventBookUpdate, 0, 31), book: true}, // another venue's book
				{fill: s40ctBook(bn, eth, schema.EventBookSnapshot, 5, 22), book: true, symbol: eth, typ: schema.EventBookSnapshot},
			}
			var wantBefore []string // what must still come, in order, of what was queued
			dropped := 0
			for _, p := range before {
				ev := s35ctEvent(t, pools, p.fill)
				name := s40ctName(ev)
				require.NoError(t, d.Publish(context.Background(), ev))
				if p.book && p.symbol != "" && tc.covers(p.symbol, p.typ) {
					dropped++
					continue
				}
				wantBefore = append(wantBefore, name)
			}
			marker := s35ctEvent(t, pools, s40ctGap(bn, tc.symbol, tc.gapType, 0))
			markerName := s40ctName(marker)
			require.NoError(t, d.Publish(context.Background(), marker))
			after := []func(*schema.CanonicalEvent){
				s40ctBook(bn, btc, schema.EventBookUpdate, 0, 13),
				s38ctTrade(btc, 3),
			}
			var wantAfter []string
			for _, fill := range after {
				ev := s35ctEvent(t, pools, fill)
				wantAfter = append(wantAfter, s40ctName(ev))
				require.NoError(t, d.Publish(context.Background(), ev))
			}
			release()
			s35ctIdle(t, sub)

			var got []string
			for _, ev := range tally.all()[1:] { // the plug first
				got = append(got, s40ctName(ev))
			}
			story := fmt.Sprintf("delivered:\n%v", got)
			at := s40ctIndex(got, markerName)
			if !tc.wide {
				// The control: an Ordered marker, in line (FIFO), nothing dropped.
				want := append(append(append([]string(nil), wantBefore...), markerName), wantAfter...)
				assert.Equal(t, want, got, "a marker about one stream goes in line")
				assert.Zero(t, sub.Stats().Coalesced, "a marker about one stream drops nothing: %+v", sub.Stats())
				assert.Zero(t, pools.Events.Stats().InUse)
				return
			}
			require.GreaterOrEqual(t, at, 0, "the marker came: %s", story)
			assert.Equal(t, 0, at, "the critical marker goes ahead of the waiting market data: %s", story)
			want := append([]string{markerName}, wantBefore...)
			want = append(want, wantAfter...)
			assert.Equal(t, want, got, "the marker overtakes the covered book events (dropped), everything else after it in order")
			st := sub.Stats()
			assert.Equal(t, uint64(dropped), st.Coalesced, "the dropped book events counted in Coalesced: %+v", st)
			assert.Zero(t, st.Dropped, "%+v", st)
			assert.Zero(t, pools.Events.Stats().InUse, "every original back in its pool")
		})
	}
}

func s40ctIndex(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// TestS40ctWideBookMarkerOverAFullOrderedLane fills a held subscriber's
// Ordered lane with one book's diffs past OrderedBound (its oldest
// dropped, a marker of the subscriber's queue waiting for the stream),
// then publishes the venue's marker of a lost connection (Symbol "",
// GapType EventUnknown), and lets the subscriber go.
//
// Package dispatch, "Lanes": the wide marker "drops the book snapshots
// and diffs of those streams still queued on the Ordered lane, counted in
// Stats.Coalesced (published markers about them stay and go out after it
// ...; the markers of the subscriber's own drops of those streams still
// waiting go out just before it, as their losses came first ...)"; "A
// published marker is never dropped"; the Stats identity
// "accepted + Gaps = Delivered + Depth + InHand + Dropped + Coalesced +
// Discarded".
func TestS40ctWideBookMarkerOverAFullOrderedLane(t *testing.T) {
	const btc = "BTC-USDT"
	bn := schema.VenueBinance
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	defer func() { _ = d.Close(context.Background()) }()
	var tally s38ctTally
	stall := newS35ctStalled(tally.handle)
	const bound, diffs = 4, 10
	sub, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{Handler: stall.handle, OrderedBound: bound})
	require.NoError(t, err)
	release := stall.hold(t, d, s35ctEvent(t, pools, s35ctConn(bn, schema.ConnConnected, time.Unix(1, 0))))
	accepted := 1
	for i := 1; i <= diffs; i++ {
		s38ctPublish(t, d, pools, s40ctBook(bn, btc, schema.EventBookUpdate, 0, uint64(i)))
		accepted++
	}
	s38ctPublish(t, d, pools, s35ctBBO(bn, btc, "100", "101", time.Unix(2, 0))) // a quote from before the loss
	accepted++
	held := sub.Stats()
	require.Equal(t, uint64(diffs-bound), held.Dropped, "the lane full, its oldest dropped: %+v", held)
	s38ctPublish(t, d, pools, s40ctGap(bn, "", schema.EventUnknown, 0))
	accepted++
	s38ctPublish(t, d, pools, s40ctBook(bn, btc, schema.EventBookSnapshot, 0, 100)) // the resync's snapshot
	accepted++
	release()
	s35ctIdle(t, sub)

	var got []string
	for _, ev := range tally.all()[1:] {
		got = append(got, s40ctName(ev))
	}
	story := fmt.Sprintf("delivered:\n%v", got)
	require.NotEmpty(t, got, story)
	// The subscriber's own marker of the drops (a loss that came first)
	// just before the connection's marker: "the markers of the
	// subscriber's own drops of those streams still waiting go out just
	// before it, as their losses came first".
	require.GreaterOrEqual(t, len(got), 2, story)
	assert.Equal(t, []string{"gap binance/BTC-USDT book_update d0", "gap binance/ unknown d0"}, got[:2],
		"the queue's marker, then the connection's marker, first: %s", story)
	for _, name := range got {
		assert.NotContains(t, name, "book_update binance/BTC-USDT d0 #", "no book diff from before the loss after its marker: %s", story)
		assert.NotEqual(t, "bbo", name, "no quote from before the loss after its marker: %s", story)
	}
	queueMarkers := tally.queueGaps(schema.EventBookUpdate)[btc]
	assert.Len(t, queueMarkers, 1, "the subscriber's marker of the drops stays and goes out: %s", story)
	if len(queueMarkers) == 1 {
		assert.Equal(t, uint64(diffs-bound), queueMarkers[0].GapCount, "it counts the drops of the full lane")
	}
	last := tally.all()[len(tally.all())-1]
	assert.Equal(t, schema.EventBookSnapshot, last.Type, "the resync's snapshot after it all: %s", story)
	st := sub.Stats()
	assert.Equal(t, uint64(bound+1), st.Coalesced, "the diffs still queued and the quote, dropped by the marker: %+v", st)
	assert.Equal(t, uint64(accepted)+st.Gaps, st.Delivered+uint64(st.Depth)+uint64(st.InHand)+st.Dropped+st.Coalesced+st.Discarded,
		"the Stats add up: %+v", st)
	assert.Zero(t, pools.Events.Stats().InUse)
}

// TestS40ctDiffMarkerReachesATopsSubscriberBehindAFullLane holds a
// subscriber of book snapshots alone (a host following a book's tops of 5
// levels) while its Ordered lane overflows with them, then publishes a
// venue's marker about the symbol's book diffs (the whole book, view 0)
// and a snapshot after it.
//
// Package dispatch, "Routing": "One about book diffs (GapType
// schema.EventBookUpdate) reaches the subscribers of book snapshots of its
// symbol too, whatever their view (Book.Depth: a book's tops of 5 levels
// beside its whole-book diffs), once each, ahead of the snapshots
// published after it (also when a full ordered lane made it wait)";
// "A published marker is never dropped".
func TestS40ctDiffMarkerReachesATopsSubscriberBehindAFullLane(t *testing.T) {
	const btc, eth = "BTC-USDT", "ETH-USDT"
	bn := schema.VenueBinance
	for _, bound := range []int{2, 64} { // a lane that overflows, one that does not
		t.Run(fmt.Sprintf("OrderedBound %d", bound), func(t *testing.T) {
			pools := schema.NewPools(nil)
			d := dispatch.New(pools.Events, nil)
			defer func() { _ = d.Close(context.Background()) }()
			var tops, both s38ctTally
			stall := newS35ctStalled(tops.handle)
			subTops, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBookSnapshot}},
				&dispatch.SubscribeOptions{Handler: stall.handle, OrderedBound: bound})
			require.NoError(t, err)
			subBoth, err := d.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBookSnapshot, schema.EventBookUpdate}},
				&dispatch.SubscribeOptions{Handler: both.handle})
			require.NoError(t, err)

			release := stall.hold(t, d, s35ctEvent(t, pools, s40ctBook(bn, eth, schema.EventBookSnapshot, 5, 1)))
			for i := uint64(1); i <= 4; i++ {
				s38ctPublish(t, d, pools, s40ctBook(bn, btc, schema.EventBookSnapshot, 5, i))
			}
			s38ctPublish(t, d, pools, s40ctGap(bn, btc, schema.EventBookUpdate, 0))
			s38ctPublish(t, d, pools, s40ctBook(bn, btc, schema.EventBookSnapshot, 5, 5))
			release()
			s35ctIdle(t, subTops)
			s35ctIdle(t, subBoth)

			for _, c := range []struct {
				name  string
				tally *s38ctTally
			}{{"tops", &tops}, {"diffs and snapshots", &both}} {
				var got []string
				marker, after := -1, -1
				markers := 0
				for i, ev := range c.tally.all() {
					got = append(got, s40ctName(ev))
					if ev.Type == schema.EventGap && ev.Control.GapSource == schema.GapVenue && ev.Control.GapType == schema.EventBookUpdate {
						markers++
						marker = i
					}
					if ev.Type == schema.EventBookSnapshot && ev.Symbol == btc && ev.Book.LastSeq == 5 {
						after = i
					}
				}
				assert.Equal(t, 1, markers, "%s: the venue's marker about BTC's diffs, once: %v", c.name, got)
				assert.GreaterOrEqual(t, after, 0, "%s: the snapshot after the marker came: %v", c.name, got)
				assert.Less(t, marker, after, "%s: the marker ahead of the snapshot published after it: %v", c.name, got)
			}
			st := subTops.Stats()
			if bound == 2 {
				assert.NotZero(t, st.Dropped, "the lane overflowed: %+v", st)
			}
			assert.Zero(t, pools.Events.Stats().InUse)
		})
	}
}
