package meltica_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// Latest-wins holds for a channel subscription (no Handler) as for a
// handler: "A slow subscriber sees fewer, fresher updates". A reader that
// reads nothing while 50 quotes of each coalescable type are published
// then reads: of each stream at most the one quote already on its way
// (the goroutine's send in progress, as a handler's call in progress) and
// then the latest — never a backlog of stale quotes buffered in C.
func TestS27ctChannelSubscriberLatestWins(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, nil)
	sub, err := d.Subscribe(dispatch.Filter{}, nil)
	require.NoError(t, err)
	types := s27ctCoalescable(t)
	const n = 50
	for seq := uint64(1); seq <= n; seq++ {
		for _, typ := range types {
			require.NoError(t, d.Publish(ctx, s27ctQuote(t, pools, typ, schema.VenueBinance, "BTC-USDT", "1m", seq)))
		}
	}
	require.NoError(t, d.Close(ctx))
	perType := map[schema.EventType][]uint64{}
	for ev := range sub.C() {
		perType[ev.Type] = append(perType[ev.Type], ev.SeqProvider)
	}
	total := 0
	for _, typ := range types {
		got := perType[typ]
		require.NotEmpty(t, got, "%v", typ)
		assert.Equal(t, uint64(n), got[len(got)-1], "%v: the latest last", typ)
		total += len(got)
	}
	assert.LessOrEqual(t, total, len(types)+1, "at most one quote in flight besides the latest of each stream: %v", perType)
	require.NoError(t, pools.Shutdown(ctx))
}

// The merged lane (MergedOptions.Bound): "The consolidated view ... is
// latest-wins per (source, symbol, type) ...: It never counts against
// Bound and is never dropped"; windows "are dropped oldest-first past the
// bound and counted". A held merged subscriber, Bound 3: views of two
// Sources of one symbol and of another symbol, 20 each, and 10 windows;
// once released it gets the latest view of each (source, symbol), the 3
// newest windows in order, and the counters say 7 dropped and the views
// replaced.
func TestS27ctMergedLaneLatestWinsAndBound(t *testing.T) {
	ctx := context.Background()
	pools := schema.NewPools(nil)
	d := dispatch.New(pools.Events, &dispatch.Options{Merged: pools.Merged})
	entered, release := make(chan struct{}), make(chan struct{})
	var got []string
	first := true
	sub, err := d.SubscribeMerged(dispatch.MergedFilter{}, &dispatch.MergedOptions{Bound: 3, Handler: func(m *schema.MergedEvent) {
		if first {
			first = false
			close(entered)
			<-release
			return
		}
		got = append(got, fmt.Sprintf("%d %s %v view=%v #%d", m.Source, m.Symbol, m.Type, m.View(), m.MergeID))
	}})
	require.NoError(t, err)
	publish := func(source uint64, symbol string, view bool, id uint64) {
		m, err := pools.Merged.Get(ctx)
		require.NoError(t, err)
		m.Source, m.Symbol, m.Type, m.MergeID = source, symbol, schema.EventBBO, id
		m.WindowOpen, m.WindowClose = int64(id)*1000, int64(id)*1000
		if !view {
			m.Type = schema.EventTrade
			m.WindowClose += 500
		}
		require.Equal(t, view, m.View())
		require.NoError(t, d.PublishMerged(ctx, m))
	}
	publish(9, "HOLD", false, 1)
	<-entered
	for i := uint64(1); i <= 20; i++ {
		publish(1, "BTC-USDT", true, i)
		publish(2, "BTC-USDT", true, i)
		publish(1, "ETH-USDT", true, i)
		if i <= 10 {
			publish(3, "BTC-USDT", false, i)
		}
	}
	close(release)
	require.NoError(t, d.Close(ctx))
	s27ctClosed(t, sub.Done(), "the merged subscription ends")
	want := []string{
		"1 BTC-USDT bbo view=true #20", "2 BTC-USDT bbo view=true #20", "1 ETH-USDT bbo view=true #20",
		"3 BTC-USDT trade view=false #8", "3 BTC-USDT trade view=false #9", "3 BTC-USDT trade view=false #10",
	}
	assert.ElementsMatch(t, want, got, "the latest view of each source and symbol, the 3 newest windows")
	var windows []string
	for _, g := range got {
		if g[0] == '3' {
			windows = append(windows, g)
		}
	}
	assert.Equal(t, want[3:], windows, "windows in order")
	st := sub.Stats()
	assert.Equal(t, uint64(7), st.Dropped, "%+v", st)
	assert.Equal(t, uint64(3*19), st.Coalesced, "%+v", st)
	require.NoError(t, pools.Shutdown(ctx))
}
