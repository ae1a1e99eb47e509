package book

import (
	"context"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// modelVenue is a venue's whole book, prices in ticks, for a model test:
// a fetched book must agree with it wherever it serves levels.
type modelVenue struct {
	bids, asks map[int64]int64
	u          uint64
	limit      int // levels a side a snapshot holds
}

func (m *modelVenue) side(bid bool) []schema.Level {
	src := m.asks
	if bid {
		src = m.bids
	}
	px := slices.Sorted(maps.Keys(src))
	if bid {
		slices.Reverse(px)
	}
	out := make([]schema.Level, 0, len(px))
	for _, p := range px {
		out = append(out, schema.Level{Price: schema.NewDecimal(p, 2), Qty: schema.NewDecimal(src[p], 0)})
	}
	return out
}

func (m *modelVenue) Fetch(_ context.Context, symbol string, dst *schema.CanonicalEvent) error {
	dst.Venue, dst.Symbol, dst.Type = schema.VenueBinance, symbol, schema.EventBookSnapshot
	bids, asks := m.side(true), m.side(false)
	dst.Book.Bids = append(dst.Book.Bids[:0], bids[:min(len(bids), m.limit)]...)
	dst.Book.Asks = append(dst.Book.Asks[:0], asks[:min(len(asks), m.limit)]...)
	dst.Book.LastSeq = m.u
	return nil
}

func (m *modelVenue) SnapshotDepth() int { return m.limit }

// A Binance and a Coinbase book fed random diffs — near the top and far beyond its
// snapshot's range, inserts, changes and deletes, the top moving both
// ways — against a model of the venue's whole book: whenever the book is
// live, every level it serves (Top) is the venue's, in order, with no
// level of the venue missing between its best and its worst served; its
// sides never hold more than its snapshot's range and MaxLevels allow.
func TestBookAgreesWithVenueModel(t *testing.T) {
	for _, c := range []struct {
		rule      Rule
		limit     int // a snapshot's levels a side
		maxLevels int
		futures   bool // USDⓈ-M/COIN-M diffs: pu (PrevSeq) chains them
	}{{Binance, 8, 0, false}, {Binance, 8, 12, false}, {Binance, 8, 0, true}, {Binance, 8, 12, true}, {Coinbase, math.MaxInt, 0, false}, {Coinbase, math.MaxInt, 12, false}} {
		rng := rand.New(rand.NewPCG(29, uint64(c.maxLevels)))
		if c.futures {
			rng = rand.New(rand.NewPCG(30, uint64(c.maxLevels)))
		}
		m := &modelVenue{bids: map[int64]int64{}, asks: map[int64]int64{}, limit: c.limit}
		maxLevels := c.maxLevels
		for i := range int64(60) {
			m.bids[10000-i*5] = 1 + i%7
			m.asks[10005+i*5] = 1 + i%5
		}
		m.u = 100
		events := schema.NewPools(nil).Events
		o := &Options{MaxLevels: maxLevels, Sink: &sinkPut{events: events}, Events: events}
		resub := true // a Coinbase book's first snapshot comes with the subscription
		if c.rule.Resync == ResyncFetch {
			o.Fetcher = m
		} else {
			o.Resubscribe = func(context.Context, schema.Venue, string) error { resub = true; return nil }
		}
		b, err := NewBook(c.rule, "BTC-USDT", o)
		require.NoError(t, err)
		clock := time.Unix(1700000000, 0)
		b.now = func() time.Time { return clock }
		ctx := context.Background()
		lives := 0
		for range 2000 {
			clock = clock.Add(100 * time.Millisecond)        // depth@100ms
			if resub && c.rule.Resync == ResyncResubscribe { // the venue answers with a snapshot
				resub = false
				var snap schema.CanonicalEvent
				require.NoError(t, m.Fetch(ctx, "BTC-USDT", &snap))
				snap.Venue = c.rule.Venue
				require.NoError(t, b.Apply(ctx, &snap))
			}
			ev := &schema.CanonicalEvent{Venue: c.rule.Venue, Symbol: "BTC-USDT", Type: schema.EventBookUpdate}
			m.u++
			ev.Book.FirstSeq, ev.Book.LastSeq = m.u, m.u
			if c.futures {
				ev.Book.PrevSeq = m.u - 1
			}
			for range 1 + rng.IntN(4) {
				bid, p, q, ok := modelChange(rng, m.bids, m.asks, modelOdds{best: 2, near: 6, deep: 400, deepBid: 1, deepAsk: 20000})
				if !ok {
					continue
				}
				lv := schema.Level{Price: schema.NewDecimal(p, 2), Qty: schema.NewDecimal(q, 0)}
				if bid {
					ev.Book.Bids = append(ev.Book.Bids, lv)
				} else {
					ev.Book.Asks = append(ev.Book.Asks, lv)
				}
			}
			_ = b.Apply(ctx, ev)
			var top schema.CanonicalEvent
			if !b.Top(0, &top) {
				continue
			}
			lives++
			requireVenuePrefix(t, &top, m.side(true), m.side(false), m.u)
			// Nothing beyond the range: a fetched book's, or the worst
			// level a side cut to MaxLevels kept.
			b.mu.Lock()
			nb, na := b.bids.len(), b.asks.len()
			farBid := b.hasFloor && nb > 0 && b.bids.lv[0].Price.Cmp(b.floor) < 0
			farAsk := b.hasCeil && na > 0 && b.asks.lv[0].Price.Cmp(b.ceil) > 0
			b.mu.Unlock()
			require.False(t, farBid, "u %d: a bid beyond the range kept", m.u)
			require.False(t, farAsk, "u %d: an ask beyond the range kept", m.u)
			if maxLevels > 0 {
				require.LessOrEqual(t, nb, maxLevels)
				require.LessOrEqual(t, na, maxLevels)
			}
		}
		require.Greater(t, lives, 600, "the book was rarely live: the test proves little")
		if c.limit < math.MaxInt || maxLevels > 0 {
			require.Positive(t, b.Stats().Invalidations, "the top never left the range: the test proves little")
		}
		t.Logf("%s MaxLevels %d: live after %d of 2000 diffs, %+v", c.rule.Venue, maxLevels, lives, b.Stats())
	}
}

// modelOdds shapes modelChange's draws: out of 10, best in 10 take the
// best level, near - best a price near the top, the rest a price deep in
// the book (deepBid or deepAsk + [0, deep)); a side with fewer than
// minDepth levels gets no delete.
type modelOdds struct {
	best, near             int
	deep, deepBid, deepAsk int64
	minDepth               int
}

// modelChange draws one change of a model venue's book (prices in ticks)
// and applies it to bids or asks: false when the draw would cross the
// book (nothing changed). A quantity 0 is a delete.
func modelChange(rng *rand.Rand, bids, asks map[int64]int64, o modelOdds) (bid bool, p, q int64, ok bool) {
	bestBid, bestAsk := int64(0), int64(1<<62)
	for p := range bids {
		bestBid = max(bestBid, p)
	}
	for p := range asks {
		bestAsk = min(bestAsk, p)
	}
	bid = rng.IntN(2) == 0
	switch r := rng.IntN(10); {
	case r < o.best: // the best level goes: the top drifts
		p = bestAsk
		if bid {
			p = bestBid
		}
	case r < o.near: // near the top, on its side of the spread
		p = bestBid + 1 + rng.Int64N(40)
		if bid {
			p = bestAsk - 1 - rng.Int64N(40)
		}
	default: // far beyond any snapshot or view
		p = o.deepAsk + rng.Int64N(o.deep)
		if bid {
			p = o.deepBid + rng.Int64N(o.deep)
		}
	}
	q = rng.Int64N(4) // 0 deletes
	if best := (bid && p == bestBid) || (!bid && p == bestAsk); best && rng.IntN(2) == 0 {
		q = 0
	}
	side := asks
	if bid {
		side = bids
		if p >= bestAsk {
			return bid, p, q, false
		}
	} else if p <= bestBid {
		return bid, p, q, false
	}
	if q == 0 && len(side) < o.minDepth {
		q = 1 // keep the book deep
	}
	if q == 0 {
		delete(side, p)
	} else {
		side[p] = q
	}
	return bid, p, q, true
}

// requireVenuePrefix requires each side a book served (top) to be the
// venue's best levels (bids, asks) from the first, in order: none not the
// venue's, none of the venue's missing between the best and the worst
// served.
func requireVenuePrefix(t *testing.T, top *schema.CanonicalEvent, bids, asks []schema.Level, seq uint64) {
	t.Helper()
	for _, s := range []struct {
		got, want []schema.Level
	}{{top.Book.Bids, bids}, {top.Book.Asks, asks}} {
		require.LessOrEqual(t, len(s.got), len(s.want))
		for i, l := range s.got {
			if !l.Price.Equal(s.want[i].Price) || !l.Qty.Equal(s.want[i].Qty) {
				require.Failf(t, "a level not the venue's", "seq %d level %d: served %s %s, the venue has %s %s", seq, i, l.Price, l.Qty, s.want[i].Price, s.want[i].Qty)
			}
		}
	}
}
