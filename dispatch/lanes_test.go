package dispatch

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

func gap(typ schema.EventType, sym string, count, first, last uint64) seen {
	return seen{Type: schema.EventGap, Symbol: sym, Gap: schema.Control{
		Kind: schema.ControlGap, GapType: typ, GapCount: count, GapFirstSeq: first, GapLastSeq: last,
		GapSource: schema.GapSubscriberQueue}}
}

func TestOrderedDropsOldestWithGapMarker(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	r, s := stalled(t, d, p, SubscribeOptions{OrderedBound: 4}, schema.EventTrade)
	for seq := uint64(2); seq <= 7; seq++ { // 2 and 3 are dropped
		publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, seq)
	}
	publish(t, d, p, bin, "ETH-USDT", schema.EventTrade, 0)       // no sequence; drops 4
	publish(t, d, p, bin, "ETH-USDT", schema.EventTrade, 0)       // drops 5
	publish(t, d, p, bin, "ETH-USDT", schema.EventBookUpdate, 11) // drops 6
	ev := take(t, p, bin, "ETH-USDT", schema.EventBookUpdate, 0)  // drops 7
	ev.Book.FirstSeq, ev.Book.LastSeq = 12, 20
	require.NoError(t, d.Publish(context.Background(), ev))
	ev = take(t, p, bin, "ETH-USDT", schema.EventBookUpdate, 0) // drops the first ETH trade
	ev.Book.FirstSeq, ev.Book.LastSeq = 21, 25
	require.NoError(t, d.Publish(context.Background(), ev))
	st := s.Stats()
	assert.Equal(t, uint64(7), st.Dropped)
	assert.Equal(t, uint64(2), st.Gaps)
	r.open()
	closeDispatcher(t, d)

	got := describe(r.got())
	// A marker goes out just before the next event of its stream; BTC
	// trades have none queued, so theirs goes once the subscriber has
	// caught up.
	want := []seen{
		{Type: schema.EventTrade, Symbol: "BTC-USDT", Seq: 1},
		gap(schema.EventTrade, "ETH-USDT", 1, 0, 0), // sequence unknown
		{Type: schema.EventTrade, Symbol: "ETH-USDT"},
		{Type: schema.EventBookUpdate, Symbol: "ETH-USDT", Seq: 11},
		{Type: schema.EventBookUpdate, Symbol: "ETH-USDT"},
		{Type: schema.EventBookUpdate, Symbol: "ETH-USDT"},
		gap(schema.EventTrade, "BTC-USDT", 6, 2, 7),
	}
	assert.Equal(t, want, got)
}

// A marker goes out together with the next event of its stream: that
// event is held back from the drops the marker's own delivery may see, so
// a later drop needs a new marker after it.
func TestGapMarkerAfterDelivery(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	r, _ := stalled(t, d, p, SubscribeOptions{OrderedBound: 1}, schema.EventTrade)
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 2)
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 3) // drops 2
	r.gate <- struct{}{}                                    // trade 1 returns
	r.waitEntered(t)                                        // the marker for 2; trade 3 goes next
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 4) // queued behind 3: nothing dropped
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 5) // drops 4: a new marker
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 6) // drops 5: merged into it
	r.open()
	closeDispatcher(t, d)
	want := []seen{
		{Type: schema.EventTrade, Symbol: "BTC-USDT", Seq: 1},
		gap(schema.EventTrade, "BTC-USDT", 1, 2, 2),
		{Type: schema.EventTrade, Symbol: "BTC-USDT", Seq: 3},
		gap(schema.EventTrade, "BTC-USDT", 2, 4, 5),
		{Type: schema.EventTrade, Symbol: "BTC-USDT", Seq: 6},
	}
	assert.Equal(t, want, describe(r.got()))
}

func TestCoalescingLatestWins(t *testing.T) { // not parallel: it counts allocations
	p := newEventPool(4)
	d := New(p, nil)
	r, s := stalled(t, d, p, SubscribeOptions{}, schema.EventTrade)

	syms := []string{"BTC-USDT", "ETH-USDT", "SOL-USDT"}
	var seq uint64 = 1
	for range 100 {
		for _, sym := range syms {
			seq++
			ev := take(t, p, bin, sym, schema.EventBBO, seq)
			ev.Raw = fmt.Appendf(ev.Raw, `{"s":%d}`, seq) // payload sizes vary: some replacements allocate
			require.NoError(t, d.Publish(context.Background(), ev))
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		ev, _ := p.TryGet()
		ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, "ETH-USDT", schema.EventBBO, seq
		_ = d.Publish(context.Background(), ev)
	})
	assert.Zero(t, allocs, "a replacement that fits is made in place")
	publish(t, d, p, bin, "BTC-USDT", schema.EventTicker, 1000)
	assert.Equal(t, 4, s.Stats().Coalescing)
	r.open()
	closeDispatcher(t, d)

	want := []seen{
		{Type: schema.EventTrade, Symbol: "BTC-USDT", Seq: 1},
		{Type: schema.EventBBO, Symbol: "BTC-USDT", Seq: 299},
		{Type: schema.EventBBO, Symbol: "ETH-USDT", Seq: 301},
		{Type: schema.EventBBO, Symbol: "SOL-USDT", Seq: 301},
		{Type: schema.EventTicker, Symbol: "BTC-USDT", Seq: 1000},
	}
	got := r.got()
	assert.Equal(t, want, describe(got))
	assert.Equal(t, `{"s":299}`, string(got[1].Raw))
	assert.Empty(t, got[2].Raw, "the in-place copy kept no stale payload")
	assert.Equal(t, uint64(297+101), s.Stats().Coalesced)
}

func TestCriticalNeverDropped(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	alarms := make(chan Stats, 16)
	d := New(p, &Options{OnCriticalOverflow: func(_ *Subscription, st Stats) { alarms <- st }})
	r, s := stalled(t, d, p, SubscribeOptions{CriticalBound: 8, OrderedBound: 2}, schema.EventExecReport)
	const n = 1000
	for seq := uint64(2); seq <= n; seq++ {
		publish(t, d, p, bin, "BTC-USDT", schema.EventExecReport, seq)
		publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, seq) // floods the ordered lane too
	}
	assert.Len(t, alarms, 1, "one alarm on the way over")
	st := s.Stats()
	assert.Equal(t, uint64(n-1-8), st.Overflowed, "every exec report beyond the bound (gap markers wait apart)")
	r.open()
	closeDispatcher(t, d)

	var execs []uint64
	for _, ev := range r.got() {
		if ev.Type == schema.EventExecReport {
			execs = append(execs, ev.SeqProvider)
		}
	}
	require.Len(t, execs, n)
	for i, seq := range execs {
		require.Equal(t, uint64(i+1), seq)
	}
}

// TestAccountUpdatesNeverDropped: balances and positions ride the critical
// lane with execution reports: on a stalled subscriber whose ordered lane
// overflows, none is dropped, none is coalesced (two balances of the same
// asset are both kept), and they arrive in the order published, interleaved
// with the reports as they were.
func TestAccountUpdatesNeverDropped(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	r, s := stalled(t, d, p, SubscribeOptions{CriticalBound: 8, OrderedBound: 2}, schema.EventExecReport)
	const n = 300
	for seq := uint64(2); seq <= n; seq++ {
		typ, sym := schema.EventBalance, "" // balances name an asset, not a symbol
		switch seq % 3 {
		case 1:
			typ, sym = schema.EventPosition, "BTC-USDT"
		case 2:
			typ, sym = schema.EventExecReport, "BTC-USDT"
		}
		publish(t, d, p, bin, sym, typ, seq)
		publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, seq) // floods the ordered lane
	}
	assert.Positive(t, s.Stats().Overflowed)
	r.open()
	closeDispatcher(t, d)
	var seqs []uint64
	for _, ev := range r.got() {
		if ev.Type.Critical() && ev.Type != schema.EventGap {
			seqs = append(seqs, ev.SeqProvider)
		}
	}
	require.Len(t, seqs, n)
	for i, seq := range seqs {
		require.Equal(t, uint64(i+1), seq)
	}
	assert.Zero(t, s.Stats().Coalesced)
}

// TestPublishNeverBlocks publishes to a subscriber whose handler never
// returns until the end, next to a fast one: Publish must neither wait for
// the stuck one nor starve the fast one.
func TestPublishNeverBlocks(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	stuck := newGatedRecorder()
	s, err := d.Subscribe(Filter{}, &SubscribeOptions{Handler: stuck.handle, OrderedBound: 64})
	require.NoError(t, err)
	last := map[string]uint64{}
	fast, err := d.Subscribe(Filter{}, nil)
	require.NoError(t, err)
	fastDone := make(chan struct{})
	go func() {
		defer close(fastDone)
		for ev := range fast.C() {
			if ev.Type != schema.EventGap { // it may fall behind too, on a busy machine
				last[ev.Type.String()+ev.Symbol] = ev.SeqProvider
			}
		}
	}()
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 0)
	stuck.waitEntered(t)

	// Hundreds of times the stuck subscriber's bounds. A Publish that
	// waits for it stops the count for good; a loaded machine under -race
	// only slows it (100 000 took over a minute there), so what fails the
	// test is no progress for a while, not a total time.
	const n = 20_000
	published := make(chan time.Duration, 1)
	var count atomic.Uint64
	var quit atomic.Bool
	t.Cleanup(func() { quit.Store(true) }) // no publisher left running into the next test
	go func() {
		start := time.Now()
		types := []schema.EventType{schema.EventTrade, schema.EventBBO, schema.EventBookUpdate, schema.EventTicker}
		syms := []string{"BTC-USDT", "ETH-USDT"}
		for i := range uint64(n) {
			if quit.Load() {
				return
			}
			ev, _ := p.TryGet()
			ev.Venue, ev.Symbol, ev.Type, ev.SeqProvider = bin, syms[i%2], types[i/2%4], i+1
			_ = d.Publish(context.Background(), ev)
			count.Store(i + 1)
		}
		published <- time.Since(start)
	}()
	for before := uint64(0); ; before = count.Load() {
		select {
		case took := <-published:
			t.Logf("%d events published in %v with one subscriber stuck", n, took)
		case <-time.After(patience):
			if count.Load() == before {
				t.Fatalf("Publish blocked on a stuck subscriber: %d of %d published", before, n)
			}
			continue
		}
		break
	}
	st := s.Stats()
	assert.Equal(t, 64, st.Ordered)
	assert.Equal(t, 4, st.Coalescing)
	assert.Equal(t, uint64(n/2-64), st.Dropped)
	stuck.open()
	closeDispatcher(t, d)
	<-fastDone
	assert.Len(t, last, 8)
	for k, seq := range last {
		assert.Greater(t, seq, uint64(n-8), k)
	}
	fs := fast.Stats()
	assert.Equal(t, uint64(n+1), fs.Delivered-fs.Gaps+fs.Coalesced+fs.Dropped, "every event delivered (besides the gap markers), replaced or dropped")
	t.Logf("fast subscriber: %+v", fs)
}

// A marker whose stream has nothing queued still goes out once the
// subscriber has delivered OrderedBound more market data events, even if
// other streams keep it busy.
func TestQuietStreamMarkerComesDue(t *testing.T) {
	t.Parallel()
	p := newEventPool(4)
	d := New(p, nil)
	r, _ := stalled(t, d, p, SubscribeOptions{OrderedBound: 3}, schema.EventTrade)
	publish(t, d, p, bin, "BTC-USDT", schema.EventTrade, 2)
	for seq := uint64(1); seq <= 3; seq++ { // 3 drops BTC 2, the last of its stream
		publish(t, d, p, bin, "ETH-USDT", schema.EventTrade, seq)
	}
	for seq := uint64(4); seq <= 6; seq++ {
		r.gate <- struct{}{}
		r.waitEntered(t)
		publish(t, d, p, bin, "ETH-USDT", schema.EventTrade, seq) // ETH keeps the subscriber busy
	}
	r.open()
	closeDispatcher(t, d)
	want := []seen{
		{Type: schema.EventTrade, Symbol: "BTC-USDT", Seq: 1},
		{Type: schema.EventTrade, Symbol: "ETH-USDT", Seq: 1},
		{Type: schema.EventTrade, Symbol: "ETH-USDT", Seq: 2},
		{Type: schema.EventTrade, Symbol: "ETH-USDT", Seq: 3},
		gap(schema.EventTrade, "BTC-USDT", 1, 2, 2), // due after three market data deliveries
		{Type: schema.EventTrade, Symbol: "ETH-USDT", Seq: 4},
		{Type: schema.EventTrade, Symbol: "ETH-USDT", Seq: 5},
		{Type: schema.EventTrade, Symbol: "ETH-USDT", Seq: 6},
	}
	assert.Equal(t, want, describe(r.got()))
}
