package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
	"github.com/meltica/meltica/wsclient"
)

// s31rvquoteOKX returns an OKX book of BTC-USDT behind Books, live on a
// stream snapshot of top 100/102 at t0+100 ms, and a function that passes
// a quote stream's best bid/offer (bbo-tbt) through the Books.
func s31rvquoteOKX(t *testing.T) (*Book, *Books, *recSink, func(ms, ingest int64, bid string)) {
	t.Helper()
	b, sink, events, books := newOKXBooks(t)
	ctx := context.Background()
	const t0 = int64(1_700_000_000_000_000_000)
	snap := okxEvent(t, okxRaw("books", "snapshot", -1, 10, `["100","1","0","1"]`, `["102","1","0","1"]`, ""))
	snap.ExchangeTS, snap.IngestTS = t0+100_000_000, 1
	require.NoError(t, b.Apply(ctx, snap))
	bbo := func(ms, ingest int64, bid string) {
		ev, err := events.Get(ctx)
		require.NoError(t, err)
		ev.Venue, ev.Symbol, ev.Type = schema.VenueOKX, "BTC-USDT", schema.EventBBO
		ev.ExchangeTS, ev.IngestTS = t0+ms*1_000_000, ingest
		ev.BBO.BidPrice, ev.BBO.BidQty = schema.MustParseDecimal(bid), schema.MustParseDecimal("1")
		ev.BBO.AskPrice, ev.BBO.AskQty = schema.MustParseDecimal("102"), schema.MustParseDecimal("1")
		require.NoError(t, books.Publish(ctx, ev))
	}
	return b, books, sink, bbo
}

// A book that published its top and then broke withdraws it (an EventBBO
// with no bid and no ask), also when the venue's quote stream delivered a
// newer best bid/offer in between: the subscriber's latest must not stay
// a quote of a stream whose connection is gone, or of a book that broke.
// Failed before: the quote stream's delivery forgot the book's top
// (topKnown), which the break reads as "nothing published", so no
// withdrawal — the bbo-tbt's 101/102 stayed the latest.
func TestS31rvquoteBreakAfterAQuoteStreamBBOWithdraws(t *testing.T) {
	for _, tc := range []struct {
		name string
		brk  func(ctx context.Context, b *Book, books *Books) error
	}{
		{"gap", func(ctx context.Context, b *Book, _ *Books) error {
			return b.Apply(ctx, okxEvent(t, okxRaw("books", "update", 50, 51, `["100.5","1","0","1"]`, ``, "")))
		}},
		{"connection lost", func(_ context.Context, _ *Book, books *Books) error {
			on := books.OnEvent(schema.VenueOKX, nil)
			on(wsclient.Event{State: schema.ConnConnected, ConnID: 1})
			on(wsclient.Event{State: schema.ConnDisconnected, ConnID: 1})
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, books, sink, bbo := s31rvquoteOKX(t)
			bbo(200, 2, "101")
			require.Equal(t, []string{"100/102", "101/102"}, s31quoteBBOs(sink))
			require.NoError(t, tc.brk(context.Background(), b, books))
			require.False(t, b.Live())
			got := sink.ofType(schema.EventBBO)
			require.Len(t, got, 3, "a withdrawal after the quote stream's 101/102")
			assert.True(t, sameBBO(got[2].BBO, schema.BBO{}), "the last best bid/offer is the withdrawal: %v", got[2].BBO)
		})
	}
}

// A book withdrawn after a gap and live again on a snapshot older than the
// quote stream's last delivered: its top is dropped (older), and the first
// message newer than that quote publishes it, unchanged or not; the
// marks of before the gap silence nothing newer.
func TestS31rvquoteWithdrawnBookLiveAgainPublishesItsTop(t *testing.T) {
	b, _, sink, bbo := s31rvquoteOKX(t)
	ctx := context.Background()
	const t0 = int64(1_700_000_000_000_000_000)
	bbo(200, 2, "101")
	require.NoError(t, b.Apply(ctx, okxEvent(t, okxRaw("books", "update", 50, 51, `["100.5","1","0","1"]`, ``, ""))))
	require.False(t, b.Live())
	snap := okxEvent(t, okxRaw("books", "snapshot", -1, 60, `["100","1","0","1"]`, `["102","1","0","1"]`, ""))
	snap.ExchangeTS, snap.IngestTS = t0+150_000_000, 3 // older than the bbo-tbt of 200 ms
	require.NoError(t, b.Apply(ctx, snap))
	require.True(t, b.Live())
	assert.Equal(t, uint64(1), b.Stats().StaleQuotes)
	keep := okxEvent(t, okxRaw("books", "update", 60, 60, ``, ``, "")) // a keep-alive: the top unchanged
	keep.ExchangeTS, keep.IngestTS = t0+250_000_000, 4
	require.NoError(t, b.Apply(ctx, keep))
	assert.Equal(t, []string{"100/102", "101/102", "0/0", "100/102"}, s31quoteBBOs(sink))
}
