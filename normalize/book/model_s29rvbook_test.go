package book

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// viewModel is a venue's whole book (prices in ticks) streamed as a view
// of its best depth levels a side, as Kraken, OKX and Bybit stream it: a
// diff carries the levels of the view that changed or entered it and a
// delete for a level that left the book; a level pushed out of the view
// by a better one gets no delete (Kraken "Book Checksum": "the book should
// be truncated to your subscribed depth").
type viewModel struct {
	modelVenue
	depth int
	seq   uint64
}

func (m *viewModel) view(bid bool) []schema.Level {
	s := m.side(bid)
	return s[:min(len(s), m.depth)]
}

// viewDiff is what the venue sends between two views of a side.
func viewDiff(old, cur []schema.Level, whole map[int64]int64) []schema.Level {
	var out []schema.Level
	had := map[int64]int64{}
	for _, l := range old {
		had[l.Price.Mantissa()] = l.Qty.Mantissa()
	}
	in := map[int64]bool{}
	for _, l := range cur {
		in[l.Price.Mantissa()] = true
		if q, ok := had[l.Price.Mantissa()]; !ok || q != l.Qty.Mantissa() {
			out = append(out, l)
		}
	}
	for _, l := range old {
		p := l.Price.Mantissa()
		if _, still := whole[p]; !still && !in[p] {
			out = append(out, schema.Level{Price: l.Price, Qty: schema.NewDecimal(0, 0)})
		}
	}
	return out
}

// Q1/Q2 for the venues of views and Binance USDⓈ-M: a book fed a model
// venue's messages — random changes near the top, the top walking both
// ways, levels entering the view from deep in the book — serves, whenever
// it is live, only the venue's levels, in order, none missing between its
// best and its worst served, with and without a side cut to MaxLevels
// below the view's depth; and it never fails a good checksum.
func TestViewBooksAgreeWithVenueModel(t *testing.T) {
	kraken := KrakenV1
	kraken.PriceScale, kraken.QtyScale = 2, 0
	kraken, err := kraken.WithDepth(25)
	require.NoError(t, err)
	okx, err := OKX.WithDepth(50)
	require.NoError(t, err)
	for _, c := range []struct {
		name      string
		rule      Rule
		maxLevels int
	}{
		{"kraken", kraken, 0}, {"kraken-cut", kraken, 12},
		{"okx", okx, 0}, {"okx-cut", okx, 30},
		{"bybit", Bybit, 0}, {"bybit-cut", Bybit, 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(29, uint64(c.maxLevels)))
			m := &viewModel{modelVenue: modelVenue{bids: map[int64]int64{}, asks: map[int64]int64{}}, depth: c.rule.Depth, seq: 100}
			for i := range int64(200) {
				m.bids[10000-i*5] = 1 + i%7
				m.asks[10005+i*5] = 1 + i%5
			}
			events := schema.NewPools(nil).Events
			resub := true // the subscription's own snapshot
			o := &Options{MaxLevels: c.maxLevels, Sink: &sinkPut{events: events}, Events: events, RetryInterval: time.Millisecond,
				Resubscribe: func(context.Context, schema.Venue, string) error { resub = true; return nil }}
			b, err := NewBook(c.rule, "BTC-USDT", o)
			require.NoError(t, err)
			scratch, err := NewBook(Rule{Venue: c.rule.Venue, Checksum: c.rule.Checksum, ChecksumDepth: c.rule.ChecksumDepth,
				PriceScale: c.rule.PriceScale, QtyScale: c.rule.QtyScale, Resync: ResyncResubscribe}, "BTC-USDT", nil)
			require.NoError(t, err)
			clock := time.Unix(1700000000, 0)
			b.now = func() time.Time { return clock }
			ctx := context.Background()
			curB, curA := m.view(true), m.view(false)
			sum := func() uint32 { // the venue's checksum, of its view
				snap := &schema.CanonicalEvent{Venue: c.rule.Venue, Symbol: "BTC-USDT", Type: schema.EventBookSnapshot}
				snap.Book.Bids, snap.Book.Asks = curB[:min(len(curB), c.rule.ChecksumDepth)], curA[:min(len(curA), c.rule.ChecksumDepth)]
				require.NoError(t, scratch.Apply(ctx, snap))
				s, _ := c.rule.Checksum.sum(scratch, nil)
				return s
			}
			stamp := func(ev *schema.CanonicalEvent) {
				ev.Book.PrevSeq, ev.Book.LastSeq = m.seq, m.seq+1
				m.seq++
				if c.rule.Checksum != ChecksumNone {
					ev.Book.Checksum, ev.Book.HasChecksum = sum(), true
				}
			}
			lives := 0
			const diffs = 1500
			for range diffs {
				clock = clock.Add(100 * time.Millisecond)
				if resub {
					resub = false
					snap := &schema.CanonicalEvent{Venue: c.rule.Venue, Symbol: "BTC-USDT", Type: schema.EventBookSnapshot}
					snap.Book.Bids, snap.Book.Asks = curB, curA
					stamp(snap)
					require.NoError(t, b.Apply(ctx, snap))
				}
				oldB, oldA := curB, curA
				for range 1 + rng.IntN(4) {
					modelChange(rng, m.bids, m.asks, modelOdds{best: 3, near: 8, deep: 8000, deepBid: 1, deepAsk: 12000, minDepth: 60})
				}
				ev := &schema.CanonicalEvent{Venue: c.rule.Venue, Symbol: "BTC-USDT", Type: schema.EventBookUpdate}
				curB, curA = m.view(true), m.view(false)
				ev.Book.Bids = viewDiff(oldB, curB, m.bids)
				ev.Book.Asks = viewDiff(oldA, curA, m.asks)
				stamp(ev)
				_ = b.Apply(ctx, ev)
				var top schema.CanonicalEvent
				if !b.Top(0, &top) {
					continue
				}
				lives++
				requireVenuePrefix(t, &top, curB, curA, m.seq)
			}
			st := b.Stats()
			t.Logf("live after %d of %d diffs, %+v", lives, diffs, st)
			require.Greater(t, lives, diffs/2, "the book was rarely live")
			require.Zero(t, st.ChecksumErrors, "a good book failed the venue's checksum")
			require.Zero(t, st.Invalidations, "a good venue's book resynced")
		})
	}
}
