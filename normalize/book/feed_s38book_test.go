package book

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s38snap is a pooled OKX books snapshot of symbol, seqId 10, bid 100,
// ask 101, no checksum.
func s38snap(t *testing.T, events poolOfEvents, symbol string, ingest int64) *schema.CanonicalEvent {
	t.Helper()
	ev, err := events.TryGet()
	require.NoError(t, err)
	ev.Venue, ev.Symbol, ev.Type, ev.IngestTS = schema.VenueOKX, symbol, schema.EventBookSnapshot, ingest
	ev.Book.LastSeq = 10
	ev.Book.Bids = append(ev.Book.Bids[:0], lvl("100", "1"))
	ev.Book.Asks = append(ev.Book.Asks[:0], lvl("101", "1"))
	return ev
}

// With one Books fed by two clients of a venue (each its symbols), a lost
// connection of one invalidated the other client's books too — a marker,
// its quote withdrawn, a resubscription — though their connection lives,
// and so did a connection-wide gap marker (no symbol: Coinbase's
// sequence_num) of the other connection. A book fed through a Feed
// belongs to that client's connections: only their losses and
// connection-wide markers concern it. (A book fed through Books.Publish,
// whose connection is not known, is still concerned by every one.)
func TestS38bookLossOfOneFeedLeavesTheOtherFeedsBooks(t *testing.T) {
	events := newEventsPool()
	sink := &recSink{events: events}
	books := NewBooks(sink, events, nil)
	defer books.Close()
	a, b := books.Feed(schema.VenueOKX, nil), books.Feed(schema.VenueOKX, nil)
	var mine, theirs, unknown *Book
	for _, x := range []struct {
		p   **Book
		sym string
	}{{&mine, "BTC-USDT"}, {&theirs, "ETH-USDT"}, {&unknown, "SOL-USDT"}} {
		bk, err := NewBook(OKX, x.sym, &Options{Sink: sink, Events: events})
		require.NoError(t, err)
		books.Add(bk)
		*x.p = bk
	}
	ctx := context.Background()
	require.NoError(t, a.Publish(ctx, s38snap(t, events, "BTC-USDT", 100)))
	require.NoError(t, b.Publish(ctx, s38snap(t, events, "ETH-USDT", 100)))
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "SOL-USDT", 100)))
	require.True(t, mine.Live() && theirs.Live() && unknown.Live())

	a.OnEvent(s38loss(1_000))
	require.False(t, mine.Live())
	require.False(t, unknown.Live(), "a book of no known connection: every loss of its venue concerns it")
	require.True(t, theirs.Live(), "the other client's book invalidated by this one's loss")

	require.NoError(t, b.Publish(ctx, s38snap(t, events, "SOL-USDT", 2_000))) // now the other client's
	require.NoError(t, a.Publish(ctx, s38snap(t, events, "BTC-USDT", 2_000)))
	require.True(t, mine.Live() && unknown.Live())
	gap, err := events.TryGet()
	require.NoError(t, err)
	gap.Venue, gap.Type, gap.IngestTS = schema.VenueOKX, schema.EventGap, 3_000
	gap.Control = &schema.Control{Kind: schema.ControlGap}
	require.NoError(t, a.Publish(ctx, gap)) // a connection-wide gap of a's connection
	require.False(t, mine.Live())
	require.True(t, theirs.Live(), "the other client's book invalidated by this one's connection-wide gap")
	require.True(t, unknown.Live(), "a book now fed by the other client")
	require.Zero(t, theirs.Stats().Invalidations)
}
