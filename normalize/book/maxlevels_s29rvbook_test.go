package book

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// A side cut to Options.MaxLevels below the levels the venue's checksum
// covers (OKX 25, Kraken 10) can never match it: the book computed the
// checksum over fewer levels than the venue did, failed every snapshot,
// resubscribed under the backoff for as long as it lived and never went
// live — silently, a config the book could tell at once. NewBook refuses
// it.
func TestMaxLevelsBelowChecksumDepth(t *testing.T) {
	var bids, asks [][2]string
	for i := range 30 {
		bids = append(bids, [2]string{fmt.Sprintf("%d", 1000-i), "1"})
		asks = append(asks, [2]string{fmt.Sprintf("%d", 1001+i), "1"})
	}
	// The OKX book a MaxLevels 20 book never kept: what went wrong before.
	o := &Options{MaxLevels: 20, Resubscribe: func(context.Context, schema.Venue, string) error { return nil }}
	_, err := NewBook(OKX, "BTC-USDT", o)
	require.ErrorIs(t, err, ErrMaxLevels, "a MaxLevels below the checksum's depth can never verify a checksum")
	for _, r := range []Rule{OKX, KrakenV1, KrakenV2} {
		_, err := NewBook(r, "BTC-USDT", &Options{MaxLevels: r.ChecksumDepth - 1})
		require.ErrorIs(t, err, ErrMaxLevels, "%s", r.Venue)
		_, err = NewBook(r, "BTC-USDT", &Options{MaxLevels: r.ChecksumDepth})
		require.NoError(t, err, "%s", r.Venue)
	}
	// At the checksum's depth it verifies: the venue's top 25 are all kept.
	x := newPipe(t, normalize.NewOKX, OKX, "BTC-USDT", &Options{MaxLevels: 25})
	x.feed(t, okxBook("snapshot", "BTC-USDT", bids, asks, okxSum(bids, asks), -1, 100))
	require.True(t, x.b.Live())
	require.Zero(t, x.b.Stats().ChecksumErrors)
}

// A venue that never answers a resubscription with a snapshot — it
// accepts and sends nothing, or refuses every time — costs a bounded
// number of resubscriptions: an hour of diffs every 100 ms (36 000 of
// them) asks at most once per 64 × RetryInterval once the backoff has
// grown, on the book's clock.
func TestResubscribeNeverAnsweredBounded(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		var calls int
		o := &Options{RetryInterval: time.Second, Resubscribe: func(context.Context, schema.Venue, string) error {
			calls++
			if refuse {
				return fmt.Errorf("refused")
			}
			return nil
		}}
		b, _, _ := newRecBook(t, Bybit, "BTC-USDT", o)
		clock := time.Unix(1_700_000_000, 0)
		b.now = func() time.Time { return clock }
		ctx := context.Background()
		snap := bybitEvent(t, readVenue(t, "bybit_v5_orderbook_snapshot.json"))
		delta := bybitEvent(t, readVenue(t, "bybit_v5_orderbook_delta.json"))
		require.NoError(t, b.Apply(ctx, snap))
		require.True(t, b.Live())
		gap := *delta
		gap.Book.LastSeq = snap.Book.LastSeq + 5
		_ = b.Apply(ctx, &gap) // a gap: invalid, resubscribed
		require.False(t, b.Live())
		for range 36_000 {
			clock = clock.Add(100 * time.Millisecond)
			_ = b.Apply(ctx, delta)
		}
		require.False(t, b.Live())
		require.Equal(t, uint64(calls), b.Stats().Resubscribes)
		require.Positive(t, calls)
		require.LessOrEqual(t, calls, 3600/64+10, "refuse %v: %d resubscriptions in an hour", refuse, calls)
		t.Logf("refuse %v: %d resubscriptions in an hour, %+v", refuse, calls, b.Stats())
	}
}
