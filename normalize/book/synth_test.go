package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// synthBook is a book of 500 levels a side under rule, and two diffs that
// take it back and forth between two states: the first inserts a level
// inside the top 10 bids and changes the best bid's quantity, the second
// deletes that level and changes the quantity back. Sequence ids and the
// checksum the rule needs are filled in by next.
type synthBook struct {
	b     *Book
	diffs [2]*schema.CanonicalEvent
	sums  [2]uint32
	seq   uint64
}

func newSynth(t testing.TB, rule Rule) *synthBook {
	t.Helper()
	events := schema.NewPools(nil).Events
	var sink sinkPut
	sink.events = events
	o := &Options{Sink: &sink, Events: events}
	if rule.Resync == ResyncFetch {
		o.Fetcher = FetcherFunc(func(context.Context, string, *schema.CanonicalEvent) error { return nil })
	}
	b, err := NewBook(rule, "BTC-USDT", o)
	require.NoError(t, err)
	snap := &schema.CanonicalEvent{Venue: rule.Venue, Symbol: "BTC-USDT", Type: schema.EventBookSnapshot}
	for i := range 500 {
		snap.Book.Bids = append(snap.Book.Bids, schema.Level{Price: schema.NewDecimal(int64(3000000-i*10), 2), Qty: schema.NewDecimal(int64(1000+i), 4)})
		snap.Book.Asks = append(snap.Book.Asks, schema.Level{Price: schema.NewDecimal(int64(3000010+i*10), 2), Qty: schema.NewDecimal(int64(2000+i), 4)})
	}
	snap.Book.LastSeq = 1000
	s := &synthBook{b: b, seq: 1000}
	mid := schema.NewDecimal(2999955, 2) // between the 5th and 6th bids
	for k := range 2 {
		d := &schema.CanonicalEvent{Venue: rule.Venue, Symbol: "BTC-USDT", Type: schema.EventBookUpdate}
		q := schema.NewDecimal(int64(5000*(1-k)), 4)
		d.Book.Bids = []schema.Level{{Price: mid, Qty: q}, {Price: schema.NewDecimal(3000000, 2), Qty: schema.NewDecimal(int64(1000+7*(1-k)), 4)}}
		d.Book.Asks = []schema.Level{{Price: schema.NewDecimal(3000020, 2), Qty: schema.NewDecimal(int64(2001+3*(1-k)), 4)}}
		s.diffs[k] = d
	}
	// Work out the checksum after each diff on a scratch book.
	scratch, err := NewBook(Rule{Venue: rule.Venue, Checksum: rule.Checksum, ChecksumDepth: rule.ChecksumDepth, Depth: rule.Depth, Resync: ResyncResubscribe}, "BTC-USDT", nil)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, scratch.Apply(ctx, snap))
	for k, d := range s.diffs {
		require.NoError(t, scratch.Apply(ctx, d))
		s.sums[k], _ = rule.Checksum.sum(scratch, nil)
	}
	require.NoError(t, b.Apply(ctx, snap))
	require.True(t, b.Live())
	return s
}

// next applies the i-th diff of the cycle with the sequence ids and
// checksum the rule expects.
func (s *synthBook) next(ctx context.Context, i int) error {
	d := s.diffs[i&1]
	d.Book.FirstSeq = s.seq + 1
	d.Book.PrevSeq = s.seq
	s.seq++
	d.Book.LastSeq = s.seq
	d.Book.Checksum, d.Book.HasChecksum = s.sums[i&1], s.b.rule.Checksum != ChecksumNone
	return s.b.Apply(ctx, d)
}

var venueRules = []struct {
	name string
	rule Rule
}{
	{"binance", Binance},
	{"okx", OKX},
	{"kraken", KrakenV1},
	{"bybit", Bybit},
	{"coinbase", Coinbase},
}

// TestZeroAllocsPerDiff: in steady state a diff — levels applied, sequence
// and checksum checked, a best bid/offer published through a pool — costs
// no allocation, for every venue's rule.
func TestZeroAllocsPerDiff(t *testing.T) {
	for _, v := range venueRules {
		t.Run(v.name, func(t *testing.T) {
			s := newSynth(t, v.rule)
			ctx := context.Background()
			i := 0
			for ; i < 4; i++ {
				require.NoError(t, s.next(ctx, i))
			}
			allocs := testing.AllocsPerRun(1000, func() {
				if err := s.next(ctx, i); err != nil {
					panic(err)
				}
				i++
			})
			require.Zero(t, allocs)
			st := s.b.Stats()
			require.True(t, s.b.Live())
			require.Zero(t, st.Invalidations)
			require.Zero(t, st.ChecksumErrors)
			require.GreaterOrEqual(t, st.BBOs, uint64(1000))
		})
	}
}

// BenchmarkDiff measures diffs applied per second for each venue's rule,
// checksums included (OKX over 25 levels, Kraken over 10), on a book of
// 500 levels a side, with a best bid/offer published on every diff.
func BenchmarkDiff(b *testing.B) {
	for _, v := range venueRules {
		b.Run(v.name, func(b *testing.B) {
			s := newSynth(b, v.rule)
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := s.next(ctx, i); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "diffs/s")
		})
	}
}
