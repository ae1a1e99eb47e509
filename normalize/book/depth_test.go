package book

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// viewVenue models a venue that holds a whole book and keeps a subscriber
// to a view of its top depth levels a side, as Kraken documents for its
// book channel (and Bybit and OKX behave alike): a change to a level in
// the view is sent; a level that leaves the view because a better one came
// in gets no delete; a level that enters it because one above was deleted
// is sent as an insert; changes outside the view are not sent.
type viewVenue struct {
	depth      int
	full       [2]map[int64]int64 // ticks → lots; 0 bids, 1 asks
	view       [2][]schema.Level  // best first
	trim       bool               // prices and quantities as JSON numbers print them (Kraken v2)
	seq        uint64
	priceScale int
	qtyScale   int
}

func newViewVenue(depth int, trim bool) *viewVenue {
	v := &viewVenue{depth: depth, trim: trim, priceScale: 1, qtyScale: 8}
	v.full[0], v.full[1] = map[int64]int64{}, map[int64]int64{}
	return v
}

func (v *viewVenue) dec(n int64, scale int) schema.Decimal {
	d := schema.NewDecimal(n, scale)
	if !v.trim {
		return d
	}
	s := d.String()
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return schema.MustParseDecimal(s)
}

// top returns side's best depth levels, best first.
func (v *viewVenue) top(side int) []schema.Level {
	prices := make([]int64, 0, len(v.full[side]))
	for p := range v.full[side] {
		prices = append(prices, p)
	}
	slices.Sort(prices)
	if side == 0 {
		slices.Reverse(prices)
	}
	prices = prices[:min(len(prices), v.depth)]
	out := make([]schema.Level, len(prices))
	for i, p := range prices {
		out[i] = schema.Level{Price: v.dec(p, v.priceScale), Qty: v.dec(v.full[side][p], v.qtyScale)}
	}
	return out
}

// set changes the venue's book (lots 0 deletes) and returns the message
// the subscriber gets for it: the view's changes, or nil for none.
func (v *viewVenue) set(side int, price, lots int64) []schema.Level {
	if lots == 0 {
		delete(v.full[side], price)
	} else {
		v.full[side][price] = lots
	}
	before, after := v.view[side], v.top(side)
	v.view[side] = after
	var msg []schema.Level
	for _, l := range after {
		i := slices.IndexFunc(before, func(b schema.Level) bool { return b.Price.Cmp(l.Price) == 0 })
		if i < 0 || !before[i].Qty.Identical(l.Qty) {
			msg = append(msg, l)
		}
	}
	for _, b := range before {
		if slices.ContainsFunc(after, func(l schema.Level) bool { return l.Price.Cmp(b.Price) == 0 }) {
			continue
		}
		if _, still := v.full[side][v.ticks(b.Price)]; !still {
			msg = append(msg, schema.Level{Price: b.Price, Qty: schema.NewDecimal(0, 0)}) // deleted in view
		} // else pushed out: no delete
	}
	return msg
}

func (v *viewVenue) ticks(d schema.Decimal) int64 {
	var p int64
	for _, c := range d.String() {
		if c >= '0' && c <= '9' {
			p = p*10 + int64(c-'0')
		}
	}
	for k := d.Scale(); k < v.priceScale; k++ {
		p *= 10
	}
	return p
}

// event makes the book event of the venue's current view: a snapshot, or
// an update with levels; checksummed by rule when it has a checksum
// (computed over the venue's view, not over the book under test).
func (v *viewVenue) event(t testing.TB, rule Rule, typ schema.EventType, side int, levels []schema.Level) *schema.CanonicalEvent {
	t.Helper()
	ev := &schema.CanonicalEvent{Venue: rule.Venue, Symbol: "BTC-USD", Type: typ}
	if typ == schema.EventBookSnapshot {
		ev.Book.Bids, ev.Book.Asks = slices.Clone(v.view[0]), slices.Clone(v.view[1])
	} else if side == 0 {
		ev.Book.Bids = levels
	} else {
		ev.Book.Asks = levels
	}
	v.seq++
	ev.Book.LastSeq, ev.Book.PrevSeq = 1000+v.seq, 999+v.seq
	if typ == schema.EventBookSnapshot {
		ev.Book.PrevSeq = 0
	}
	if rule.Checksum != ChecksumNone {
		scratch, err := NewBook(Rule{Venue: rule.Venue, Checksum: rule.Checksum, ChecksumDepth: rule.ChecksumDepth, PriceScale: rule.PriceScale, QtyScale: rule.QtyScale, Resync: ResyncResubscribe}, "BTC-USD", nil)
		require.NoError(t, err)
		scratch.bids.load(v.view[0])
		scratch.asks.load(v.view[1])
		ev.Book.Checksum, _ = rule.Checksum.sum(scratch, nil)
		ev.Book.HasChecksum = true
	}
	return ev
}

// requireView asserts the book holds exactly the venue's view.
func requireView(t testing.TB, b *Book, v *viewVenue, msg string) {
	t.Helper()
	var got schema.CanonicalEvent
	b.Top(0, &got)
	require.Equal(t, levelText(v.view[0]), levelText(got.Book.Bids), "bids %s", msg)
	require.Equal(t, levelText(v.view[1]), levelText(got.Book.Asks), "asks %s", msg)
}

// The case on Kraken v2 at the default depth (10): a level pushed
// out of view by a better one (no delete sent), then cancelled out of view
// (nothing sent), then the best level deleted (a delete, and the level
// that enters the view sent as an insert). The book keeps exactly the
// view, so every checksum matches; kept deeper, as before, the stale
// level comes back into the top 10 and the checksum fails.
func TestKrakenPushedOutLevel(t *testing.T) {
	run := func(t *testing.T, rule Rule) (*Book, *recSink) {
		v := newViewVenue(10, true)
		bk, sink, _ := newRecBook(t, rule, "BTC-USD", nil)
		ctx := context.Background()
		for i := range int64(12) { // 12 levels a side at the venue, 10 in view
			v.full[0][1000000-10*i] = 100000000 + i
			v.full[1][1000010+10*i] = 200000000 + i
		}
		v.view[0], v.view[1] = v.top(0), v.top(1)
		require.NoError(t, bk.Apply(ctx, v.event(t, rule, schema.EventBookSnapshot, 0, nil)))
		apply := func(side int, price, lots int64) {
			t.Helper()
			if msg := v.set(side, price, lots); msg != nil {
				require.NoError(t, bk.Apply(ctx, v.event(t, rule, schema.EventBookUpdate, side, msg)))
			}
		}
		apply(0, 1000005, 50000000) // a better bid: 99991.0 (10th) leaves the view, no delete
		apply(0, 999910, 0)         // 99991.0 cancelled out of view: nothing sent
		apply(0, 1000005, 0)        // the new best deleted: 99990.0 enters, sent as an insert
		apply(0, 1000000, 0)        // and again: 99989.0 enters
		return bk, sink
	}
	t.Run("depth 10", func(t *testing.T) {
		rule := KrakenV2
		rule.PriceScale, rule.QtyScale = 1, 8
		require.Equal(t, 10, rule.Depth, "the default is the default subscription depth")
		bk, sink := run(t, rule)
		require.True(t, bk.Live())
		require.Zero(t, bk.Stats().ChecksumErrors)
		require.Equal(t, uint64(4), bk.Stats().Checksums)
		require.Empty(t, sink.ofType(schema.EventGap))
	})
	t.Run("kept deeper than subscribed", func(t *testing.T) {
		rule := KrakenV2
		rule.PriceScale, rule.QtyScale, rule.Depth = 1, 8, 0
		bk, sink := run(t, rule)
		require.False(t, bk.Live())
		require.Equal(t, uint64(1), bk.Stats().ChecksumErrors, "the stale 99991.0 came back into the top 10")
		requireMarker(t, sink, 1, ReasonChecksum)
	})
}

// TestSubscribedDepth drives every venue whose subscription is a view
// (Kraken v1 and v2, Bybit, OKX) through random changes of a venue that
// sends only what its view shows: after every message the book is exactly
// the view, every checksum matches. The same run kept deeper than the
// subscription ends with a book that is not the view (and, with a
// checksum, mismatches): the test can fail.
func TestSubscribedDepth(t *testing.T) {
	okx50, err := OKX.WithDepth(50)
	require.NoError(t, err)
	kr25, err := KrakenV1.WithDepth(25)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		rule Rule
		trim bool
	}{
		{"kraken v1", KrakenV1, false},
		{"kraken v1 depth 25", kr25, false},
		{"kraken v2", func() Rule { r := KrakenV2; r.PriceScale, r.QtyScale = 1, 8; return r }(), true},
		{"bybit", Bybit, false},
		{"okx books50", okx50, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deeper := tc.rule
			deeper.Depth = 0
			bk, sink, _ := newRecBook(t, tc.rule, "BTC-USD", nil)
			deep, _, _ := newRecBook(t, deeper, "BTC-USD", nil)
			v := newViewVenue(tc.rule.Depth, tc.trim)
			rng := rand.New(rand.NewPCG(7, uint64(tc.rule.Depth)))
			for i := range int64(tc.rule.Depth + 20) {
				v.full[0][1000000-10*i] = 1 + rng.Int64N(1e8)
				v.full[1][1000010+10*i] = 1 + rng.Int64N(1e8)
			}
			v.view[0], v.view[1] = v.top(0), v.top(1)
			ctx := context.Background()
			snap := v.event(t, tc.rule, schema.EventBookSnapshot, 0, nil)
			require.NoError(t, bk.Apply(ctx, snap))
			require.NoError(t, deep.Apply(ctx, snap))
			sent, diverged := 0, false
			for n := range 1500 {
				side := rng.IntN(2)
				sign := int64(1 - 2*side) // bids below 1000005, asks above
				price := 1000005 - sign*(5+10*rng.Int64N(int64(tc.rule.Depth+40)))
				var lots int64
				if rng.IntN(3) > 0 {
					lots = 1 + rng.Int64N(1e8)
				}
				msg := v.set(side, price, lots)
				if msg == nil {
					continue
				}
				sent++
				ev := v.event(t, tc.rule, schema.EventBookUpdate, side, msg)
				require.NoError(t, bk.Apply(ctx, ev))
				require.True(t, bk.Live(), "message %d", n)
				requireView(t, bk, v, "after a message")
				if deep.Live() {
					require.NoError(t, deep.Apply(ctx, ev))
				}
				var got schema.CanonicalEvent
				deep.Top(0, &got)
				if !slices.Equal(levelText(v.view[0]), levelText(got.Book.Bids)) || !slices.Equal(levelText(v.view[1]), levelText(got.Book.Asks)) {
					diverged = true
				}
			}
			require.Greater(t, sent, 250)
			st := bk.Stats()
			require.Zero(t, st.ChecksumErrors)
			require.Zero(t, st.Gaps)
			require.Empty(t, sink.ofType(schema.EventGap))
			if tc.rule.Checksum != ChecksumNone {
				require.Equal(t, uint64(sent+1), st.Checksums)
			}
			if tc.rule.Checksum != ChecksumNone && tc.rule.Depth <= tc.rule.ChecksumDepth {
				require.Positive(t, deep.Stats().ChecksumErrors, "kept deeper, a stale level reaches the checksum")
			}
			require.True(t, diverged, "kept deeper, the book is not the venue's")
		})
	}
}

// WithDepth takes the depths each venue offers, and refuses the venues
// whose stream is the whole book.
func TestWithDepth(t *testing.T) {
	for _, tc := range []struct {
		rule  Rule
		depth int
		ok    bool
	}{
		{KrakenV2, 25, true}, {KrakenV1, 1000, true}, {KrakenV2, 20, false},
		{Bybit, 200, true}, {Bybit, 25, true}, {Bybit, 30, false}, // 25: Bybit options (r2)
		{OKX, 5, true}, {OKX, 25, false}, {OKX, 1, false}, // 1: bbo-tbt, BBO events (r10)
		{Binance, 1000, false}, {Coinbase, 50, false},
	} {
		r, err := tc.rule.WithDepth(tc.depth)
		if tc.ok {
			require.NoError(t, err)
			require.Equal(t, tc.depth, r.Depth)
		} else {
			require.Error(t, err, "%s %d", tc.rule.Venue, tc.depth)
		}
	}
	require.Equal(t, 10, KrakenV1.Depth)
	require.Equal(t, 50, Bybit.Depth)
	require.Equal(t, 400, OKX.Depth)
	require.Zero(t, Binance.Depth)
}

// OKX offers depth 1 only as bbo-tbt ("Order book channel": "bbo-tbt: 1
// depth level snapshot"), which the parser reads as best bid/offer events
// (schema.EventBBO), never as book messages: a book kept at depth 1 would
// ignore every message of a stream that is all there is at that depth and
// never go live. WithDepth refuses it with a *DepthError instead.
func TestOKXDepthOneRefused(t *testing.T) {
	events := schema.NewPools(nil).Events
	sink := &recSink{events: events}
	require.NoError(t, normalize.NewOKX(events, sink, nil).HandleBytes(context.Background(), readVenue(t, "okx_bbo_tbt.json"), 1))
	require.NotEmpty(t, sink.got)
	for _, ev := range sink.got {
		require.Equal(t, schema.EventBBO, ev.Type, "bbo-tbt is not a book message")
	}

	_, err := OKX.WithDepth(1)
	var de *DepthError
	require.ErrorAs(t, err, &de)
	require.Equal(t, schema.VenueOKX, de.Venue)
	require.Equal(t, 1, de.Depth)
	require.NotContains(t, de.Offered, 1)
	require.Contains(t, err.Error(), "bbo-tbt")
	for _, d := range []int{5, 50, 400} {
		r, err := OKX.WithDepth(d)
		require.NoError(t, err, "depth %d", d)
		require.Equal(t, d, r.Depth)
	}
}
