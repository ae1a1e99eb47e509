package merge_test

// Review s23: continuous views of several Mergers on one dispatcher, and
// the age of a quote, from the package documentation and the exported API.

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/dispatch/merge"
	"github.com/meltica/meltica/schema"
)

func s23BBO(v schema.Venue, bid, ask string, exchange, ingest int64) *schema.CanonicalEvent {
	return &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventBBO, ExchangeTS: exchange, IngestTS: ingest,
		BBO: schema.BBO{BidPrice: schema.MustParseDecimal(bid), BidQty: schema.MustParseDecimal("1"),
			AskPrice: schema.MustParseDecimal(ask), AskQty: schema.MustParseDecimal("1")}}
}

func venuesOf(m *schema.MergedEvent) []schema.Venue {
	var vs []schema.Venue
	for _, f := range m.Fragments {
		vs = append(vs, f.Venue)
	}
	vs = append(vs, m.Missing...)
	slices.Sort(vs)
	return vs
}

// Two continuous Mergers of one symbol (say spot venues and futures venues)
// publish through one dispatcher to a subscriber that is behind: the
// consolidated view is latest-wins per Merger, so the subscriber gets the
// latest view of each, never one Merger's view in place of the other's.
func TestS23TwoContinuousMergersOneSymbol(t *testing.T) {
	t.Parallel()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, &dispatch.Options{Merged: pools.Merged})
	gate := make(chan struct{})
	got := make(chan *schema.MergedEvent, 16)
	first := true
	sub, err := d.SubscribeMerged(dispatch.MergedFilter{Symbols: []string{"BTC-USDT"}}, &dispatch.MergedOptions{
		Handler: func(m *schema.MergedEvent) {
			if first { // hold the subscriber back while the views pile up
				first = false
				<-gate
			}
			got <- m
		},
	})
	require.NoError(t, err)
	clk := &adv3Clock{t: time.Unix(1_700_000_000, 0)}
	mk := func(vs ...schema.Venue) *merge.Merger {
		m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: vs, Mode: merge.Continuous,
			Sink: d, Merged: pools.Merged, Now: clk.now})
		require.NoError(t, err)
		return m
	}
	spot := mk(schema.VenueBinance, schema.VenueOKX)
	perp := mk(schema.VenueBybit, schema.VenueKraken)
	require.NotEqual(t, spot.Source(), perp.Source())
	ctx := context.Background()
	now := clk.now().UnixNano()
	require.NoError(t, spot.Add(ctx, s23BBO(schema.VenueBinance, "100", "101", 0, now)))
	// The handler now holds the first view; what follows waits in line.
	require.Eventually(t, func() bool { return sub.Stats().Depth == 0 }, 60*time.Second, time.Millisecond)
	require.NoError(t, perp.Add(ctx, s23BBO(schema.VenueBybit, "99", "102", 0, now)))
	require.NoError(t, spot.Add(ctx, s23BBO(schema.VenueOKX, "100.5", "101.5", 0, now)))
	require.NoError(t, perp.Add(ctx, s23BBO(schema.VenueKraken, "99.5", "100.8", 0, now)))
	require.NoError(t, spot.Add(ctx, s23BBO(schema.VenueBinance, "100.2", "100.9", 0, now)))
	close(gate)

	recv := func() *schema.MergedEvent {
		select {
		case m := <-got:
			return m
		case <-time.After(60 * time.Second):
			t.Fatal("no merged event")
			return nil
		}
	}
	held := recv()
	require.Equal(t, spot.Source(), held.Source)
	latest := map[uint64]*schema.MergedEvent{}
	for len(latest) < 2 || latest[spot.Source()].BestBid.String() != "100.5" || latest[perp.Source()].BestAsk.String() != "100.8" {
		m := recv()
		require.NoError(t, m.Validate())
		latest[m.Source] = m
		if m.Source == spot.Source() {
			require.Equal(t, []schema.Venue{schema.VenueBinance, schema.VenueOKX}, venuesOf(m))
		} else {
			require.Equal(t, perp.Source(), m.Source)
			require.Equal(t, []schema.Venue{schema.VenueBybit, schema.VenueKraken}, venuesOf(m))
		}
	}
	// The spot view coalesced (latest wins within one Merger): its latest
	// has both spot venues; the perp view has both perp venues.
	require.Equal(t, "100.9", latest[spot.Source()].BestAsk.String())
	require.Equal(t, "99.5", latest[perp.Source()].BestBid.String())
	st := sub.Stats()
	require.Equal(t, uint64(2), st.Coalesced, "one view of each Merger replaced by its next")
	require.Zero(t, st.Dropped)
	require.NoError(t, d.Close(ctx))
	<-sub.Done()
	require.NoError(t, pools.Shutdown(ctx))
}

// A quote's age counts from when it was received off the wire (IngestTS)
// or sent by the venue (ExchangeTS), whichever is earlier, not from when
// the Merger was handed it: a quote that waited in a queue is that much
// older, and one already older than Staleness never joins the view. A
// timestamp more than Staleness + 1 min old is another clock's (a replay,
// a counter): the age then counts from receipt.
func TestS23StalenessCountsFromTheQuotesTime(t *testing.T) {
	t.Parallel()
	const staleness = 5 * time.Second
	venues := []schema.Venue{schema.VenueBinance, schema.VenueOKX, schema.VenueBybit, schema.VenueKraken}
	for _, tc := range []struct {
		name          string
		exchange      time.Duration // before now; 0: none
		ingest        time.Duration // before now; 0: none
		leavesAfter   time.Duration // the clock moves by this before the venue's quote expires
		neverJoins    bool
		exchangeAhead bool  // ExchangeTS after now: a venue clock ahead of the host's
		ingestAt      int64 // IngestTS as is, when set
	}{
		{name: "no timestamps: receipt", leavesAfter: staleness},
		{name: "queued 4s by IngestTS", ingest: 4 * time.Second, leavesAfter: time.Second},
		{name: "venue lag 3s by ExchangeTS", exchange: 3 * time.Second, ingest: time.Millisecond, leavesAfter: 2 * time.Second},
		{name: "IngestTS earlier than ExchangeTS", exchange: time.Second, ingest: 2 * time.Second, leavesAfter: 3 * time.Second},
		{name: "older than Staleness on arrival", ingest: 6 * time.Second, neverJoins: true},
		{name: "exactly Staleness old on arrival", exchange: staleness, neverJoins: true},
		{name: "venue clock ahead", exchangeAhead: true, leavesAfter: staleness},
		{name: "just within Staleness + 1 min: same clock, stale", ingest: staleness + time.Minute, neverJoins: true},
		// Older than Staleness + 1 min: stamped by another clock (a replay
		// of a recording, a test's counter), so the age counts from receipt.
		{name: "replay: IngestTS a day old", ingest: 24 * time.Hour, leavesAfter: staleness},
		{name: "replay: both a day old", exchange: 24 * time.Hour, ingest: 24 * time.Hour, leavesAfter: staleness},
		{name: "counter: IngestTS 1000 ns", ingestAt: 1000, leavesAfter: staleness},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pools := schema.NewPools(nil)
			sink := &adv3Sink{p: pools.Merged}
			clk := &adv3Clock{t: time.Unix(1_700_000_000, 0)}
			m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: venues[:2], Mode: merge.Continuous,
				Sink: sink, Merged: pools.Merged, Now: clk.now, Staleness: staleness})
			require.NoError(t, err)
			ctx := context.Background()
			now := clk.now()
			// OKX quotes now, and stays: it holds the other side of the view.
			require.NoError(t, m.Add(ctx, s23BBO(schema.VenueOKX, "99", "103", now.UnixNano(), now.UnixNano())))
			var ex, in int64
			if tc.exchange > 0 {
				ex = now.Add(-tc.exchange).UnixNano()
			}
			if tc.ingest > 0 {
				in = now.Add(-tc.ingest).UnixNano()
			}
			if tc.exchangeAhead {
				ex = now.Add(time.Hour).UnixNano()
			}
			if tc.ingestAt != 0 {
				in = tc.ingestAt
			}
			require.NoError(t, m.Add(ctx, s23BBO(schema.VenueBinance, "100", "101", ex, in)))
			last := sink.got[len(sink.got)-1]
			if tc.neverJoins {
				require.Equal(t, []schema.Venue{schema.VenueBinance}, last.Missing, "a quote older than Staleness is stale on arrival")
				require.Equal(t, schema.VenueOKX, last.BestBidVenue)
				require.Equal(t, uint64(2), m.Stats().Expired, "both of its sides expired")
				return
			}
			require.Equal(t, schema.VenueBinance, last.BestBidVenue)
			// Just before its age reaches Staleness it is still in.
			clk.add(tc.leavesAfter - time.Nanosecond)
			// OKX refreshes so that only Binance's age matters.
			require.NoError(t, m.Add(ctx, s23BBO(schema.VenueOKX, "99", "103", clk.now().UnixNano(), clk.now().UnixNano())))
			require.NoError(t, m.Tick(ctx))
			require.Equal(t, schema.VenueBinance, sink.got[len(sink.got)-1].BestBidVenue)
			require.Zero(t, m.Stats().Expired)
			clk.add(time.Nanosecond)
			require.NoError(t, m.Tick(ctx))
			last = sink.got[len(sink.got)-1]
			require.Equal(t, schema.VenueOKX, last.BestBidVenue, "Binance's quote is Staleness old: it left")
			require.Equal(t, []schema.Venue{schema.VenueBinance}, last.Missing)
			require.Equal(t, uint64(2), m.Stats().Expired)
		})
	}
}

// A gap marker of the merged symbol that names no type (GapType
// EventUnknown: whatever the venue's connection carried for the symbol may
// be lost) says the venue's quote may be stale as surely as one about its
// best bid/offer or book stream: the venue leaves the view until it quotes
// afresh. A marker about another stream of the symbol (trades) does not
// touch the quote.
func TestS23SymbolGapOfNoTypeTakesTheQuoteOut(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		gapType schema.EventType
		leaves  bool
	}{
		{schema.EventUnknown, true},
		{schema.EventBBO, true},
		{schema.EventBookUpdate, true},
		{schema.EventBookSnapshot, true},
		{schema.EventTrade, false},
	} {
		t.Run(tc.gapType.String(), func(t *testing.T) {
			t.Parallel()
			pools := schema.NewPools(nil)
			sink := &adv3Sink{p: pools.Merged}
			clk := &adv3Clock{t: time.Unix(1_700_000_000, 0)}
			m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX},
				Mode: merge.Continuous, Sink: sink, Merged: pools.Merged, Now: clk.now})
			require.NoError(t, err)
			ctx := context.Background()
			now := clk.now().UnixNano()
			require.NoError(t, m.Add(ctx, s23BBO(schema.VenueOKX, "99", "103", now, now)))
			require.NoError(t, m.Add(ctx, s23BBO(schema.VenueBinance, "100", "101", now, now)))
			require.NoError(t, m.Add(ctx, &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventGap, IngestTS: now + 1,
				Control: &schema.Control{Kind: schema.ControlGap, GapType: tc.gapType, GapSource: schema.GapVenue}}))
			last := sink.got[len(sink.got)-1]
			if !tc.leaves {
				require.Equal(t, schema.VenueBinance, last.BestBidVenue)
				require.Empty(t, last.Missing)
				return
			}
			require.Equal(t, schema.VenueOKX, last.BestBidVenue, "Binance's quote may be stale: it left")
			require.Equal(t, []schema.Venue{schema.VenueBinance}, last.Missing)
			require.NoError(t, m.Add(ctx, s23BBO(schema.VenueBinance, "100.1", "101", now+2, now+2)))
			require.Equal(t, "100.1", sink.got[len(sink.got)-1].BestBid.String(), "a quote after the gap brings it back")
		})
	}
}

// Windows lost on the way — dropped oldest-first past a slow merged
// subscriber's Bound, or lost waiting for the Merged pool — are told in
// band: the windows of one Merger (Source) are numbered by MergeID without
// holes, so the subscriber sees how many it missed from the jump.
func TestS23LostWindowsShowAsMergeIDJumps(t *testing.T) {
	t.Parallel()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, &dispatch.Options{Merged: pools.Merged})
	gate := make(chan struct{})
	var got []*schema.MergedEvent
	first := true
	sub, err := d.SubscribeMerged(dispatch.MergedFilter{}, &dispatch.MergedOptions{Bound: 2, Handler: func(w *schema.MergedEvent) {
		if first {
			first = false
			<-gate
		}
		got = append(got, w)
	}})
	require.NoError(t, err)
	clk := &adv3Clock{t: time.Unix(1_700_000_000, 0)}
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance}, Sink: d, Merged: pools.Merged,
		Now: clk.now, MaxEvents: 1})
	require.NoError(t, err)
	ctx := context.Background()
	base := clk.now().UnixNano()
	trade := func(i int) *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventTrade, SeqProvider: uint64(i),
			ExchangeTS: base + int64(i), Trade: schema.Trade{Price: schema.NewDecimal(100, 0), Qty: schema.NewDecimal(1, 0)}}
	}
	require.NoError(t, m.Add(ctx, trade(1))) // window 1: the handler holds it
	require.Eventually(t, func() bool { return sub.Stats().Depth == 0 }, 60*time.Second, time.Millisecond)
	for i := 2; i <= 6; i++ { // windows 2–6: 2, 3 and 4 dropped past Bound 2
		require.NoError(t, m.Add(ctx, trade(i)))
	}
	close(gate)
	require.Eventually(t, func() bool { return sub.Stats().Delivered == 3 }, 60*time.Second, time.Millisecond)
	require.NoError(t, d.Close(ctx))
	var ids []uint64
	for _, w := range got {
		require.Equal(t, m.Source(), w.Source)
		ids = append(ids, w.MergeID)
	}
	require.Equal(t, []uint64{1, 5, 6}, ids)
	require.Equal(t, uint64(3), sub.Stats().Dropped, "the jump from 1 to 5 is the three windows dropped")
}

// Ties across venues: the best bid (or ask) quoted by several venues at one
// price is credited to the venue named first in Options.Venues, whatever
// the order the quotes came in, with that venue's quantity (quantities are
// not summed). A consolidated view may cross across venues (one's bid above
// another's ask): it shows what each venue quotes.
func TestS23TiesAndCrossedVenues(t *testing.T) {
	t.Parallel()
	pools := schema.NewPools(nil)
	sink := &adv3Sink{p: pools.Merged}
	clk := &adv3Clock{t: time.Unix(1_700_000_000, 0)}
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueOKX, schema.VenueBinance},
		Mode: merge.Continuous, Sink: sink, Merged: pools.Merged, Now: clk.now})
	require.NoError(t, err)
	ctx := context.Background()
	now := clk.now().UnixNano()
	q := func(v schema.Venue, bid, bidQty, ask string) *schema.CanonicalEvent {
		ev := s23BBO(v, bid, ask, now, now)
		ev.BBO.BidQty = schema.MustParseDecimal(bidQty)
		return ev
	}
	require.NoError(t, m.Add(ctx, q(schema.VenueBinance, "100", "5", "102")))
	require.NoError(t, m.Add(ctx, q(schema.VenueOKX, "100", "1", "102")))
	last := sink.got[len(sink.got)-1]
	require.Equal(t, schema.VenueOKX, last.BestBidVenue, "a tie goes to the venue named first")
	require.Equal(t, "1", last.BestBidQty.String(), "its own quantity")
	require.Equal(t, schema.VenueOKX, last.BestAskVenue)
	require.NoError(t, m.Add(ctx, q(schema.VenueBinance, "103", "5", "104")))
	last = sink.got[len(sink.got)-1]
	require.Equal(t, "103", last.BestBid.String())
	require.Equal(t, "102", last.BestAsk.String(), "crossed across venues: shown as quoted")
	require.NoError(t, last.Validate())
}

// A window must not pass for whole when events of its type were lost on the
// way to the Merger: a gap marker of an expected venue about the Merger's
// type (dropped from a slow subscription's queue, a venue's trade id gap),
// about every stream of the symbol or about the whole venue, counts in the
// open window's Lost (its GapCount; one when the count is unknown), which
// makes it incomplete (flagged, or suppressed). A marker about another type,
// symbol or venue does not.
func TestS23WindowCountsWhatWasLostOnTheWay(t *testing.T) {
	t.Parallel()
	base := time.Unix(1_700_000_000, 0)
	trade := func(v schema.Venue, at time.Duration, seq uint64) *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventTrade, SeqProvider: seq, ExchangeTS: base.Add(at).UnixNano(),
			Trade: schema.Trade{Price: schema.NewDecimal(100, 0), Qty: schema.NewDecimal(1, 0)}}
	}
	gap := func(v schema.Venue, sym string, typ schema.EventType, count uint64) *schema.CanonicalEvent {
		return &schema.CanonicalEvent{Venue: v, Symbol: sym, Type: schema.EventGap,
			Control: &schema.Control{Kind: schema.ControlGap, GapType: typ, GapCount: count, GapSource: schema.GapSubscriberQueue}}
	}
	for _, tc := range []struct {
		name     string
		marker   *schema.CanonicalEvent
		lost     uint64
		suppress bool
	}{
		{"trades dropped", gap(schema.VenueBinance, "BTC-USDT", schema.EventTrade, 3), 3, false},
		{"count unknown", gap(schema.VenueBinance, "BTC-USDT", schema.EventTrade, 0), 1, false},
		{"every stream of the symbol", gap(schema.VenueOKX, "BTC-USDT", schema.EventUnknown, 2), 2, false},
		{"whole venue", gap(schema.VenueOKX, "", schema.EventUnknown, 0), 1, false},
		{"suppressed", gap(schema.VenueBinance, "BTC-USDT", schema.EventTrade, 3), 3, true},
		{"best bid/offers", gap(schema.VenueBinance, "BTC-USDT", schema.EventBBO, 3), 0, false},
		{"the venue's best bid/offers", gap(schema.VenueBinance, "", schema.EventBBO, 3), 0, false},
		{"the venue's trades", gap(schema.VenueBinance, "", schema.EventTrade, 4), 4, false},
		{"another symbol", gap(schema.VenueBinance, "ETH-USDT", schema.EventTrade, 3), 0, false},
		{"another venue", gap(schema.VenueBybit, "BTC-USDT", schema.EventTrade, 3), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pools := schema.NewPools(nil)
			sink := &adv3Sink{p: pools.Merged}
			clk := &adv3Clock{t: base}
			o := &merge.Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX},
				Sink: sink, Merged: pools.Merged, Now: clk.now, Window: 10 * time.Second}
			if tc.suppress {
				o.Incomplete = merge.Suppress
			}
			m, err := merge.New(o)
			require.NoError(t, err)
			ctx := context.Background()
			require.NoError(t, m.Add(ctx, trade(schema.VenueBinance, time.Second, 1)))
			require.NoError(t, m.Add(ctx, tc.marker))
			require.NoError(t, m.Add(ctx, trade(schema.VenueOKX, 2*time.Second, 1)))
			// The next window: nothing lost.
			require.NoError(t, m.Add(ctx, trade(schema.VenueBinance, 11*time.Second, 5)))
			require.NoError(t, m.Add(ctx, trade(schema.VenueOKX, 12*time.Second, 2)))
			require.NoError(t, m.Add(ctx, trade(schema.VenueOKX, 30*time.Second, 3)))
			st := m.Stats()
			require.Equal(t, tc.lost, st.Lost)
			if tc.suppress {
				require.Len(t, sink.got, 1)
				require.Equal(t, uint64(1), st.Suppressed)
			} else {
				require.Len(t, sink.got, 2)
				w := sink.got[0]
				require.Equal(t, tc.lost, w.Lost)
				require.Equal(t, tc.lost == 0, w.Complete, "a window that lost events is not complete")
				require.Empty(t, w.Missing, "every venue sent something")
				require.Len(t, w.Fragments, 2)
			}
			next := sink.got[len(sink.got)-1]
			if tc.suppress {
				// The suppressed window's loss is told by the next one
				// published (Stats add up), which is whole itself.
				require.Equal(t, tc.lost, next.Lost)
			} else {
				require.Zero(t, next.Lost)
			}
			require.True(t, next.Complete)
		})
	}
}

// "Events of another symbol ... are ignored": a best bid/offer naming no
// symbol is not the merged symbol's quote (only connection states and gap
// markers speak for a whole venue without one).
func TestS23QuoteWithoutSymbolIgnored(t *testing.T) {
	t.Parallel()
	pools := schema.NewPools(nil)
	sink := &adv3Sink{p: pools.Merged}
	clk := &adv3Clock{t: time.Unix(1_700_000_000, 0)}
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX},
		Mode: merge.Continuous, Sink: sink, Merged: pools.Merged, Now: clk.now})
	require.NoError(t, err)
	ctx := context.Background()
	now := clk.now().UnixNano()
	require.NoError(t, m.Add(ctx, s23BBO(schema.VenueOKX, "99", "103", now, now)))
	ev := s23BBO(schema.VenueBinance, "1", "2", now, now)
	ev.Symbol = ""
	require.NoError(t, m.Add(ctx, ev))
	last := sink.got[len(sink.got)-1]
	require.Equal(t, schema.VenueOKX, last.BestBidVenue)
	require.Equal(t, []schema.Venue{schema.VenueBinance}, last.Missing)
}
