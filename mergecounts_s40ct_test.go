package meltica_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch/merge"
	"github.com/meltica/meltica/schema"
)

// TestS40ctMergedWindowsCarryTheCountsOfThoseNotPublished runs a windowed
// Merger of trades (Binance and OKX expected, 1 s windows, incomplete ones
// suppressed) on an injected clock through a suppressed window, late
// fragments, a window lost waiting for the Merged pool and one suppressed
// while another waited, and adds up what the published windows say.
//
// Package merge: "The late and lost counts of a window not published
// (suppressed, or lost waiting for the Merged pool) go on with the next
// window published, so that the published windows' LateDropped and Lost
// add up to Stats.LateDropped and Stats.Lost"; schema.MergedEvent.Lost:
// those carried counts "leave Complete as its own range has it"; "when a
// newer window closes first, the older is lost, counted in
// Stats.WindowsLost"; "Flush returns ErrWindowWaiting while one waits
// after it".
func TestS40ctMergedWindowsCarryTheCountsOfThoseNotPublished(t *testing.T) {
	ctx := context.Background()
	const btc = "BTC-USDT"
	pools := schema.NewPools(nil)
	views := &s35ctViews{merged: pools.Merged}
	clock := newS35ctClock()
	t0 := clock.Now()
	m, err := merge.New(&merge.Options{Symbol: btc, Venues: []schema.Venue{schema.VenueBinance, schema.VenueOKX},
		Mode: merge.Windowed, Window: time.Second, Incomplete: merge.Suppress, Sink: views, Merged: pools.Merged, Now: clock.Now})
	require.NoError(t, err)
	seq := uint64(0)
	trade := func(venue schema.Venue, at time.Duration) {
		t.Helper()
		seq++
		ev := &schema.CanonicalEvent{}
		s38ctTrade(btc, seq)(ev)
		ev.Venue = venue
		ev.ExchangeTS, ev.IngestTS = t0.Add(at).UnixNano(), t0.Add(at).UnixNano()
		require.NoError(t, m.Add(ctx, ev))
	}
	lose := func(venue schema.Venue, n uint64) {
		t.Helper()
		ev := &schema.CanonicalEvent{}
		s40ctGap(venue, btc, schema.EventTrade, 0)(ev)
		ev.UseControl().GapCount = n
		require.NoError(t, m.Add(ctx, ev))
	}
	tickAt := func(at time.Duration) error {
		t.Helper()
		clock.advance(t0.Add(at).Sub(clock.Now()))
		return m.Tick(ctx)
	}

	// W1 [0.1 s, 1.1 s): Binance alone, and OKX lost 2: suppressed.
	trade(schema.VenueBinance, 100*time.Millisecond)
	lose(schema.VenueOKX, 2)
	require.NoError(t, tickAt(1200*time.Millisecond))
	require.Empty(t, views.all(), "an incomplete window suppressed")
	// W2 [1.5 s, 2.5 s): both venues, and a late Binance fragment (0.5 s).
	trade(schema.VenueBinance, 1500*time.Millisecond)
	trade(schema.VenueOKX, 1600*time.Millisecond)
	trade(schema.VenueBinance, 500*time.Millisecond)
	require.NoError(t, tickAt(2600*time.Millisecond))
	require.Len(t, views.all(), 1, "W2 published")
	w2 := views.last(t)
	assert.True(t, w2.Complete, "W2's own range is complete, W1's loss carried leaves it so: %+v", w2)
	assert.Equal(t, uint64(2), w2.Lost, "W1's loss goes on with W2")
	assert.Equal(t, uint64(1), w2.LateDropped, "the late fragment")

	// W3 [3.0 s, 4.0 s) closes while a host holds the whole Merged pool; a
	// late fragment (1.0 s) counted meanwhile.
	giveBack := s35ctDrain(t, pools)
	trade(schema.VenueBinance, 3000*time.Millisecond)
	trade(schema.VenueOKX, 3100*time.Millisecond)
	trade(schema.VenueOKX, 1000*time.Millisecond)
	require.NoError(t, tickAt(4100*time.Millisecond))
	require.ErrorIs(t, m.Flush(ctx), merge.ErrWindowWaiting, "W3 waits for the pool")
	// W4 [4.5 s, 5.5 s): both venues, a late fragment (2.0 s), closes first: W3 lost.
	trade(schema.VenueBinance, 4500*time.Millisecond)
	trade(schema.VenueOKX, 4600*time.Millisecond)
	trade(schema.VenueBinance, 2000*time.Millisecond)
	require.NoError(t, tickAt(5600*time.Millisecond))
	assert.Equal(t, uint64(1), m.Stats().WindowsLost, "W3 lost: %+v", m.Stats())
	require.ErrorIs(t, m.Flush(ctx), merge.ErrWindowWaiting, "W4 waits for the pool")
	// W5 [6.0 s, 7.0 s): Binance lost 3 while W4 waits: suppressed whatever the pool.
	trade(schema.VenueBinance, 6000*time.Millisecond)
	trade(schema.VenueOKX, 6100*time.Millisecond)
	lose(schema.VenueBinance, 3)
	require.NoError(t, tickAt(7100*time.Millisecond))
	giveBack()
	// W6 [7.5 s, ...): both venues, flushed.
	trade(schema.VenueBinance, 7500*time.Millisecond)
	trade(schema.VenueOKX, 7600*time.Millisecond)
	require.NoError(t, m.Flush(ctx), "nothing waits once the pool is back")

	st := m.Stats()
	var late, lost uint64
	var story string
	for _, w := range views.all() {
		late += w.LateDropped
		lost += w.Lost
		story += fmt.Sprintf("#%d [%v,%v) complete %v late %d lost %d\n", w.MergeID,
			time.Duration(w.WindowOpen-t0.UnixNano()), time.Duration(w.WindowClose-t0.UnixNano()), w.Complete, w.LateDropped, w.Lost)
	}
	t.Logf("published:\n%s%+v", story, st)
	assert.Equal(t, uint64(3), st.LateDropped, "%+v", st)
	assert.Equal(t, uint64(5), st.Lost, "%+v", st)
	assert.Equal(t, st.LateDropped, late, "the published windows' LateDropped add up to Stats.LateDropped:\n%s%+v", story, st)
	assert.Equal(t, st.Lost, lost, "the published windows' Lost add up to Stats.Lost:\n%s%+v", story, st)
	for _, w := range views.all() {
		assert.True(t, w.Complete, "every window published is complete in its own range (Suppress):\n%s", story)
	}
	require.NoError(t, pools.Shutdown(ctx))
}
