package dispatch_test

// Adversarial tests, third round: contract 4 checked from the outside on
// random traffic and a subscriber of random speed. Per stream (venue,
// symbol, type and view): coalescable values never go back in time and the
// latest always arrives; ordered events arrive in order, and every one
// missing is accounted for, exactly, by gap markers delivered before the
// stream's next event (or, for a tail, before Close returns), whose ranges
// name exactly the sequence numbers missing; the counters agree; and the
// queue never holds more than its bounds allow.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/dispatch"
	"github.com/meltica/meltica/schema"
)

type adv3Stream struct {
	venue  schema.Venue
	symbol string
	typ    schema.EventType
	depth  int
	intvl  string
}

func streamOfEvent(ev *schema.CanonicalEvent) adv3Stream {
	typ := ev.Type
	if typ == schema.EventGap {
		typ = ev.Control.GapType
	}
	var interval string // a gap marker about a stream without one carries no Kline
	if ev.Kline != nil {
		interval = ev.Kline.Interval
	}
	return adv3Stream{ev.Venue, ev.Symbol, typ, ev.Book.Depth, interval}
}

func TestAdversarial3BackpressureModel(t *testing.T) {
	t.Parallel()
	for seed := range uint64(6) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			backpressureModel(t, seed)
		})
	}
}

func backpressureModel(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	streams := []adv3Stream{
		{schema.VenueBinance, "BTC-USDT", schema.EventTrade, 0, ""},
		{schema.VenueOKX, "BTC-USDT", schema.EventTrade, 0, ""},
		{schema.VenueBybit, "BTC-USDT", schema.EventBookUpdate, 50, ""},
		{schema.VenueBybit, "BTC-USDT", schema.EventBookUpdate, 200, ""},
		{schema.VenueBinance, "ETH-USDT", schema.EventKlineClosed, 0, "1m"},
		{schema.VenueBinance, "ETH-USDT", schema.EventKlineClosed, 0, "1h"},
		{schema.VenueBinance, "BTC-USDT", schema.EventBBO, 0, ""},
		{schema.VenueOKX, "BTC-USDT", schema.EventBBO, 0, ""},
		{schema.VenueBinance, "ETH-USDT", schema.EventKlineLive, 0, "1m"},
		{schema.VenueBinance, "ETH-USDT", schema.EventKlineLive, 0, "5m"},
		{schema.VenueOKX, "ETH-USDT", schema.EventTicker, 0, ""},
	}
	ordBound := 1 + rng.IntN(6)
	p := adv3Pool(4)
	d := dispatch.New(p, nil)
	permits := make(chan struct{}, 1<<20)
	var mu sync.Mutex
	var got []*schema.CanonicalEvent
	s, err := d.Subscribe(dispatch.Filter{}, &dispatch.SubscribeOptions{OrderedBound: ordBound, Handler: func(ev *schema.CanonicalEvent) {
		<-permits
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}})
	require.NoError(t, err)

	seq := map[adv3Stream]uint64{}
	maxDepth := 0
	ctx := context.Background()
	for range 4000 {
		st := streams[rng.IntN(len(streams))]
		seq[st]++
		ev, err := p.TryGet()
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type = st.venue, st.symbol, st.typ
		ev.Book.Depth, ev.UseKline().Interval = st.depth, st.intvl
		n := seq[st]
		switch st.typ {
		case schema.EventBookUpdate:
			ev.Book.FirstSeq, ev.Book.LastSeq = n, n
			ev.Book.Bids = append(ev.Book.Bids, schema.Level{Price: schema.NewDecimal(int64(n), 1)})
		default:
			ev.SeqProvider = n
		}
		ev.Raw = fmt.Appendf(ev.Raw, `{"n":%d}`, n)
		require.NoError(t, d.Publish(ctx, ev))
		if rng.IntN(3) == 0 {
			for range rng.IntN(4) {
				permits <- struct{}{}
			}
		}
		stt := s.Stats()
		maxDepth = max(maxDepth, stt.Depth)
		// Bounded: one slot per coalescable stream, OrderedBound ordered
		// events, one marker per ordered stream, the handler's event
		// staged; nothing grows with the publish count.
		require.LessOrEqual(t, stt.Ordered, ordBound+1)
		require.LessOrEqual(t, stt.Coalescing, 5)
		require.LessOrEqual(t, stt.Markers, 6)
	}
	close(permits) // everything left goes through
	ctx2, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	require.NoError(t, d.Close(ctx2))
	stats := s.Stats()

	type state struct {
		last        uint64 // last seq delivered
		pending     uint64 // lost, by markers delivered since
		rangeNext   uint64 // where the markers' ranges continue
		rangeBroken bool
	}
	states := map[adv3Stream]*state{}
	var dropped, markers uint64
	for _, ev := range got {
		k := streamOfEvent(ev)
		stt := states[k]
		if stt == nil {
			stt = &state{}
			states[k] = stt
		}
		n := ev.SeqProvider
		if k.typ == schema.EventBookUpdate && ev.Type != schema.EventGap {
			n = ev.Book.LastSeq
			require.Equal(t, string(fmt.Appendf(nil, `{"n":%d}`, n)), string(ev.Raw), "raw bytes of another event")
			require.Len(t, ev.Book.Bids, 1)
			require.Equal(t, int64(n), ev.Book.Bids[0].Price.Mantissa(), "levels of another event")
		}
		switch {
		case ev.Type == schema.EventGap:
			c := ev.Control
			require.Equal(t, schema.ControlGap, c.Kind)
			require.Equal(t, schema.GapSubscriberQueue, c.GapSource)
			require.False(t, k.typ.Coalescable(), "coalescable streams are never dropped")
			require.Positive(t, c.GapCount)
			markers++
			dropped += c.GapCount
			if stt.pending == 0 {
				stt.rangeNext = stt.last + 1
			}
			if c.GapFirstSeq != stt.rangeNext || c.GapLastSeq != c.GapFirstSeq+c.GapCount-1 {
				stt.rangeBroken = true
			}
			stt.rangeNext = c.GapLastSeq + 1
			stt.pending += c.GapCount
		case k.typ.Coalescable():
			require.Greater(t, n, stt.last, "%v: value %d delivered after %d (stale after fresh)", k, n, stt.last)
			stt.last = n
		default:
			require.Equal(t, n-stt.last-1, stt.pending, "%v: event %d follows %d, markers before it account for %d lost", k, n, stt.last, stt.pending)
			require.False(t, stt.rangeBroken, "%v: markers' ranges before %d do not name exactly %d..%d", k, n, stt.last+1, n-1)
			stt.last, stt.pending, stt.rangeBroken = n, 0, false
		}
	}
	for k, n := range seq {
		stt := states[k]
		require.NotNil(t, stt, "%v: nothing delivered", k)
		if k.typ.Coalescable() {
			require.Equal(t, n, stt.last, "%v: the latest value never arrived", k)
			continue
		}
		require.Equal(t, n-stt.last, stt.pending, "%v: the tail after %d (of %d) is not accounted for", k, stt.last, n)
		require.False(t, stt.rangeBroken, "%v: tail markers' ranges", k)
	}
	require.Positive(t, stats.Dropped, "the subscriber fell behind")
	require.Positive(t, stats.Coalesced)
	// "Never more markers than ordered events delivered, plus at most one
	// per stream per OrderedBound market data deliveries."
	var orderedDelivered, marketDelivered, orderedStreams uint64
	for _, ev := range got {
		switch {
		case ev.Type == schema.EventGap:
		case ev.Type.Coalescable():
			marketDelivered++
		case !ev.Type.Critical():
			marketDelivered++
			orderedDelivered++
		}
	}
	for k := range seq {
		if !k.typ.Coalescable() {
			orderedStreams++
		}
	}
	require.LessOrEqual(t, markers, orderedDelivered+orderedStreams*(marketDelivered/uint64(ordBound)+1),
		"markers %d, ordered delivered %d, market delivered %d", markers, orderedDelivered, marketDelivered)
	require.Equal(t, stats.Dropped, dropped, "Stats.Dropped equals the markers' counts")
	require.Equal(t, stats.Gaps, markers, "Stats.Gaps equals the markers delivered")
	require.Equal(t, uint64(len(got)), stats.Delivered)
	require.Zero(t, stats.Depth)
	require.Zero(t, p.Stats().InUse)
}
