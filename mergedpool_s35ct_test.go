package meltica_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/dispatch/merge"
	"github.com/meltica/meltica/schema"
)

// s35ctDrain takes every idle object of the Merged pool (a host holding
// them all) and returns a func giving them back.
func s35ctDrain(t *testing.T, pools *schema.Pools) (giveBack func()) {
	t.Helper()
	var held []*schema.MergedEvent
	for {
		m, err := pools.Merged.TryGet()
		if err != nil {
			break
		}
		held = append(held, m)
	}
	require.NotEmpty(t, held)
	return func() {
		for _, m := range held {
			pools.Merged.Put(m)
		}
	}
}

// No consolidated view is lost to an exhausted Merged pool (merge: "A
// Merger never waits for the Merged pool. A view due while it is exhausted
// is counted (Stats.PoolDropped) and not recorded as published: the next
// Add or Tick publishes the latest consolidated best bid/offer"). While a
// host holds the whole pool, OKX joins the view and Binance moves: nothing
// can be published, both counted; once the pool is back, one Tick
// publishes the view as it is now — OKX's ask and Binance's new bid —,
// not the last one published, and the Merger waits for nothing meanwhile.
func TestS35ctMergedViewDueDuringPoolExhaustionIsPublishedLatest(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	views := &s35ctViews{merged: pools.Merged}
	clock := newS35ctClock()
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX},
		Mode: merge.Continuous, Sink: views, Merged: pools.Merged, Now: clock.Now})
	require.NoError(t, err)
	add := func(fill func(*schema.CanonicalEvent)) {
		ev := &schema.CanonicalEvent{}
		fill(ev)
		require.NoError(t, m.Add(ctx, ev))
	}
	add(s35ctBBO(schema.VenueBinance, "BTC-USDT", "100", "102", clock.Now()))
	require.Len(t, views.all(), 1)

	giveBack := s35ctDrain(t, pools)
	clock.advance(10 * time.Millisecond)
	add(s35ctBBO(schema.VenueOKX, "BTC-USDT", "99", "101", clock.Now()))
	clock.advance(10 * time.Millisecond)
	add(s35ctBBO(schema.VenueBinance, "BTC-USDT", "100.5", "102", clock.Now()))
	assert.Len(t, views.all(), 1, "nothing published without a pooled event")
	assert.Equal(t, uint64(2), m.Stats().PoolDropped, "%+v", m.Stats())

	giveBack()
	require.NoError(t, m.Tick(ctx))
	all := views.all()
	require.Len(t, all, 2, "the Tick after the pool came back published the view")
	v := all[1]
	assert.Equal(t, schema.VenueBinance, v.BestBidVenue)
	assert.True(t, v.BestBid.Equal(schema.MustParseDecimal("100.5")), "Binance's latest bid: %+v", v)
	assert.Equal(t, schema.VenueOKX, v.BestAskVenue)
	assert.True(t, v.BestAsk.Equal(schema.MustParseDecimal("101")), "OKX's ask: %+v", v)
	assert.Len(t, v.Fragments, 2, "one fragment per venue quoting")
	require.NoError(t, m.Tick(ctx))
	assert.Len(t, views.all(), 2, "a Tick with nothing changed publishes nothing")
	require.NoError(t, pools.Shutdown(ctx))
}

// Windows lost are told by their numbers (schema.MergedEvent.MergeID: "A
// Merger's windows are numbered without holes …, so a jump between two
// windows of one Source tells a subscriber how many it lost on the way:
// dropped past dispatch.MergedOptions.Bound, or lost waiting for the
// Merged pool"). A windowed Merger of trades (1 s windows) publishing to a
// dispatcher: windows closed while the host holds the whole Merged pool
// are lost but one (Stats.WindowsLost), and a merged subscription that
// does not read, Bound 2, drops the oldest; the windows the subscriber
// finally reads are in order, and their jumps add up to exactly what the
// Merger and the subscription counted lost.
func TestS35ctLostWindowsAreToldByTheirNumbers(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, &dispatch.Options{Merged: pools.Merged})
	msub, err := d.SubscribeMerged(dispatch.MergedFilter{}, &dispatch.MergedOptions{Bound: 2})
	require.NoError(t, err)
	clock := newS35ctClock()
	m, err := merge.New(&merge.Options{Symbol: "BTC-USDT", Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX},
		Mode: merge.Windowed, Window: time.Second, Sink: d, Merged: pools.Merged, Now: clock.Now})
	require.NoError(t, err)
	seq := uint64(0)
	trades := func() { // one trade of each venue at the clock's time, then 1.5 s on
		for _, v := range []schema.Venue{schema.VenueBinance, schema.VenueOKX} {
			seq++
			ev := &schema.CanonicalEvent{Venue: v, Symbol: "BTC-USDT", Type: schema.EventTrade, SeqProvider: seq,
				ExchangeTS: clock.Now().UnixNano(), IngestTS: clock.Now().UnixNano()}
			ev.Trade.Price, ev.Trade.Qty = schema.MustParseDecimal("100"), schema.MustParseDecimal("1")
			require.NoError(t, m.Add(ctx, ev))
		}
		clock.advance(1500 * time.Millisecond)
	}
	for range 3 { // windows 1 and 2 closed and published; 3 open
		trades()
	}
	giveBack := s35ctDrain(t, pools)
	for range 4 { // windows 3 to 6 close while the pool is held: the older lost as newer close
		trades()
	}
	giveBack()
	for range 6 { // the last of those and 5 more published, one open
		trades()
	}
	require.NoError(t, m.Flush(ctx)) // the open one
	st := m.Stats()
	t.Logf("merger %+v", st)
	require.NotZero(t, st.WindowsLost, "windows were lost waiting for the pool")
	require.Equal(t, st.Windows, st.Published+st.WindowsLost, "every window closed was published or counted lost: %+v", st)

	require.NoError(t, d.Close(ctx))
	var ids []uint64
	for ev := range msub.C() {
		ids = append(ids, ev.MergeID)
	}
	ms := msub.Stats()
	t.Logf("read %v; subscription %+v", ids, ms)
	require.NotEmpty(t, ids)
	jumps := ids[0] - 1
	for i := 1; i < len(ids); i++ {
		require.Greater(t, ids[i], ids[i-1], "windows in order, each once: %v", ids)
		jumps += ids[i] - ids[i-1] - 1
	}
	jumps += st.Windows - ids[len(ids)-1]
	assert.Equal(t, st.WindowsLost+ms.Dropped, jumps, "the holes in %v are the windows lost at the pool (%d) and past Bound (%d)", ids, st.WindowsLost, ms.Dropped)
	assert.Equal(t, st.Windows, ids[len(ids)-1], "the last window read is the last closed")
	require.NoError(t, pools.Shutdown(ctx))
}
