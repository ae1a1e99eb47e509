package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// Books.Add hands what the replaced book has out (its quote, its tops)
// to the new book, to withdraw. A new book without a Sink (one the host
// reads, publishing nothing) dropped them: the replaced book's quote and
// tops stayed the subscribers' latest for good, unannounced. The
// replaced book's own Sink withdraws them then.
func TestS35rvbookReplacedByABookWithoutSink(t *testing.T) {
	old, sink, events := newRecBook(t, Coinbase, "BTC-USDT", nil)
	books := NewBooks(sink, events, nil)
	books.Add(old)
	p, err := events.Get(context.Background())
	require.NoError(t, err)
	bookEv(schema.VenueCoinbase, schema.EventBookSnapshot, 0, 0, 0, []schema.Level{lvl("100", "1")}, []schema.Level{lvl("101", "1")}).CloneInto(p)
	p.IngestTS = 100
	require.NoError(t, books.Publish(context.Background(), p))
	require.NoError(t, old.PublishTop(context.Background(), 5))
	require.Len(t, sink.ofType(schema.EventBBO), 1)

	nb, err := NewBook(Coinbase, "BTC-USDT", nil)
	require.NoError(t, err)
	books.Add(nb)
	quotes := sink.ofType(schema.EventBBO)
	require.True(t, quotes[len(quotes)-1].BBO.BidPrice.IsZero(), "the replaced book's quote is the subscribers' latest")
	var tops int
	for _, ev := range sink.ofType(schema.EventGap) {
		if ev.Control.GapType == schema.EventBookSnapshot {
			tops++
			require.Equal(t, ReasonReplaced, ev.Control.Reason)
		}
	}
	require.Equal(t, 1, tops, "the replaced book's tops announced")
	require.Empty(t, sink.markers(), "nothing was lost of the diffs")
	require.NoError(t, old.PublishTop(context.Background(), 5))
	require.Len(t, sink.ofType(schema.EventBBO), len(quotes), "the replaced book publishes nothing more")
}
