package contracttest_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

// Contract 3 (DESIGN.md): execution reports are never dropped — not under
// backpressure, not on a slow subscriber — and travel ahead of market
// data. A subscriber is held in its handler while the venue sends a flood
// of trades with fills between them, far past both lanes' bounds.
func TestS45ctExecReportsNeverDropped(t *testing.T) {
	p, conn := startPipeline(t, nil)
	g := newGate()
	defer g.release()
	var rec recorder
	sub, err := p.disp.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{
		Handler:       func(ev *schema.CanonicalEvent) { g.wait(); rec.add(ev) },
		CriticalBound: 2,
		OrderedBound:  4,
	})
	require.NoError(t, err)
	defer func() { assert.NoError(t, p.disp.Unsubscribe(sub)) }()

	send(t, conn, trade(t, 1, "1.0", "BTCUSDT"))
	g.held(t) // the subscriber is stuck with trade 1 in hand

	const fills, trades = 20, 60
	sent := uint64(1)
	for i := range trades {
		send(t, conn, trade(t, 2+i, "1.0", "BTCUSDT"))
		sent++
		if i%3 == 0 && i/3 < fills {
			send(t, conn, fill(t, 1000+i/3))
			sent++
		}
	}
	waitAccepted(t, sub, sent)
	st := sub.Stats()
	require.Positive(t, st.Dropped, "the ordered lane never filled: the test proves nothing")
	require.Positive(t, st.Overflowed, "the critical lane never went past its bound: the test proves nothing")

	g.release()
	drained(t, sub)

	var got []string
	firstReport, lastTrade := -1, -1
	for i, ev := range rec.events() {
		switch ev.Type {
		case schema.EventExecReport:
			require.NotNil(t, ev.Exec)
			got = append(got, string(ev.Exec.TradeID.Bytes()))
			if firstReport < 0 {
				firstReport = i
			}
		case schema.EventTrade:
			lastTrade = i
		}
	}
	want := make([]string, fills)
	for i := range want {
		want[i] = strconv.Itoa(1000 + i)
	}
	assert.Equal(t, want, got, "every execution report, once, in order")
	assert.Equal(t, 1, firstReport, "the reports go out right after the event in hand, ahead of the queued market data")
	assert.Greater(t, lastTrade, firstReport)
	assert.Zero(t, p.parser.Stats().Dropped)
}

// Contract 4, ordered class (DESIGN.md; dispatch doc "Lanes", "Gap markers
// of a slow subscriber"): trades are never reordered; when a subscriber
// cannot keep up they are dropped oldest-first, counted, and the
// subscriber is told by a gap marker before the stream goes on. Bounded
// memory: the lane never holds more than its bound, and the pools do not
// grow with the flood.
func TestS45ctOrderedDropsOldestAnnounced(t *testing.T) {
	p, conn := startPipeline(t, nil)
	g := newGate()
	defer g.release()
	var rec recorder
	const bound = 4
	sub, err := p.disp.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventTrade}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { g.wait(); rec.add(ev) }, OrderedBound: bound})
	require.NoError(t, err)
	defer func() { assert.NoError(t, p.disp.Unsubscribe(sub)) }()

	send(t, conn, trade(t, 1, "1.0", "BTCUSDT"))
	g.held(t)
	const last = 500
	for id := 2; id <= last; id++ {
		send(t, conn, trade(t, id, "1.0", "BTCUSDT"))
	}
	waitAccepted(t, sub, last)
	st := sub.Stats()
	require.Positive(t, st.Dropped)
	assert.LessOrEqual(t, st.MaxDepth, bound+1, "the ordered lane holds its bound and one marker, no more")
	for _, ps := range p.pools.Stats() {
		assert.LessOrEqual(t, ps.PeakInUse, int64(2), "pool %s grew with the flood", ps.Name)
	}

	g.release()
	drained(t, sub)
	st = sub.Stats()

	prev, markers, lost := 0, 0, uint64(0)
	markerPending := false
	for _, ev := range rec.events() {
		switch ev.Type {
		case schema.EventGap:
			c := ev.ControlOrZero()
			assert.Equal(t, schema.GapSubscriberQueue, c.GapSource)
			assert.Equal(t, schema.EventTrade, c.GapType)
			assert.Equal(t, "BTC-USDT", ev.Symbol)
			markers++
			lost += c.GapCount
			markerPending = true
		case schema.EventTrade:
			id, err := strconv.Atoi(string(ev.Trade.ID.Bytes()))
			require.NoError(t, err)
			require.Greater(t, id, prev, "trades reordered or repeated")
			if id != prev+1 {
				require.True(t, markerPending, "trades %d..%d lost without a gap marker before %d", prev+1, id-1, id)
			}
			markerPending = false
			prev = id
		}
	}
	assert.Equal(t, last, prev, "the newest trade is kept: the oldest are dropped")
	assert.Positive(t, markers)
	assert.Equal(t, st.Dropped, lost, "the markers count every trade dropped")
	assert.Equal(t, uint64(last)+st.Gaps, st.Delivered+st.Dropped, "each trade delivered or dropped")
}

// Contract 4, coalescable class: best bid/offers are latest-wins per key
// (venue, symbol, type) in a slow subscriber's queue: it sees fewer,
// fresher updates, never a stale one, and the latest of each symbol in the
// end.
func TestS45ctQuotesLatestWinsPerKey(t *testing.T) {
	p, conn := startPipeline(t, nil)
	g := newGate()
	defer g.release()
	var rec recorder
	sub, err := p.disp.Subscribe(dispatch.Filter{Types: []schema.EventType{schema.EventBBO}},
		&dispatch.SubscribeOptions{Handler: func(ev *schema.CanonicalEvent) { g.wait(); rec.add(ev) }})
	require.NoError(t, err)
	defer func() { assert.NoError(t, p.disp.Unsubscribe(sub)) }()

	send(t, conn, quote(t, 1, "1", "BTCUSDT"))
	g.held(t)
	const last = 100
	for u := 2; u <= last; u++ {
		send(t, conn, quote(t, u, strconv.Itoa(u), "BTCUSDT"), quote(t, u, strconv.Itoa(u), "ETHUSDT"))
	}
	waitAccepted(t, sub, 2*last-1)
	st := sub.Stats()
	assert.LessOrEqual(t, st.Coalescing, 2, "one queued quote per symbol")
	assert.Positive(t, st.Coalesced)

	g.release()
	drained(t, sub)

	latest := map[string]schema.Decimal{}
	for _, ev := range rec.events() {
		if prev, ok := latest[ev.Symbol]; ok {
			require.Positive(t, ev.BBO.BidPrice.Cmp(prev), "%s: bid %s after %s: stale", ev.Symbol, ev.BBO.BidPrice, prev)
		}
		latest[ev.Symbol] = ev.BBO.BidPrice
	}
	require.Len(t, latest, 2)
	for sym, bid := range latest {
		assert.Equal(t, strconv.Itoa(last), bid.String(), "%s: the latest quote is delivered", sym)
	}
	assert.LessOrEqual(t, len(rec.events()), 3, "a slow subscriber sees fewer updates")
	assert.Equal(t, uint64(2*last-1), sub.Stats().Delivered+sub.Stats().Coalesced)
}
