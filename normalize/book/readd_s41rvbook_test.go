package book

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s41rvCoinbaseReplaced adds to new Books a Coinbase book a of BTC-USD
// (its Sink sinkA, its Resubscribe counted in asked), live on a snapshot
// with bid 100, then a book in its place, fed a snapshot and a diff that
// removes bid 100: a missed that diff.
func s41rvCoinbaseReplaced(t *testing.T) (events poolOfEvents, books *Books, sinkA *recSink, a *Book, asked *atomic.Int32) {
	t.Helper()
	ctx := context.Background()
	events, _, books = s39books(t)
	sinkA = &recSink{events: events}
	asked = new(atomic.Int32)
	o := &Options{Sink: sinkA, Events: events, Resubscribe: func(context.Context, schema.Venue, string) error {
		asked.Add(1)
		return nil
	}}
	a, _ = s41replaced(t, books, Coinbase, "BTC-USD", o, s41cbEvent(t, events, schema.EventBookSnapshot, 100, 1))
	require.NoError(t, books.Publish(ctx, s41cbEvent(t, events, schema.EventBookSnapshot, 100, 1)))
	require.NoError(t, books.Publish(ctx, s41cbEvent(t, events, schema.EventBookUpdate, 100, 0))) // bid 100 gone
	return events, books, sinkA, a, asked
}

// A Coinbase book (no ids) replaced in Books and kept by a host that goes
// on feeding it its diffs: s41book leaves it not live (a diff without ids
// cannot prove it missed nothing), but it stayed so for good, its stale
// levels kept, and never asked for the snapshot that alone makes it
// current again — a book waiting for a snapshot that nothing requests.
// Now such a diff breaks it as any unprovable state would: levels
// dropped, Options.Resubscribe called (once: asked), and its snapshot
// makes it live. Failed before: asked 0 after three diffs, Top still the
// levels it had when replaced.
func TestS41rvbookReplacedBookHostDiffsAskForSnapshot(t *testing.T) {
	ctx := context.Background()
	events, _, _, a, asked := s41rvCoinbaseReplaced(t)
	before := asked.Load()

	for i := range int64(3) {
		diff := s41cbEvent(t, events, schema.EventBookUpdate, 95+i, 1)
		require.NoError(t, a.Apply(ctx, diff))
		events.Put(diff)
		require.False(t, a.Live(), "a replaced book made current by a diff that cannot tell what it missed")
	}
	require.Equal(t, before+1, asked.Load(), "a replaced book fed diffs without ids never asked for the snapshot that makes it current")
	var top schema.CanonicalEvent
	require.False(t, a.Top(0, &top))
	require.Empty(t, top.Book.Bids, "the levels it had when replaced still kept")

	s41rvHostSnapshotLive(t, events, a, 97)
}

// s41rvHostSnapshotLive applies a, as its host, a Coinbase snapshot with
// bid px and asserts it makes a current, px its best bid.
func s41rvHostSnapshotLive(t *testing.T, events poolOfEvents, a *Book, px int64) {
	t.Helper()
	snap := s41cbEvent(t, events, schema.EventBookSnapshot, px, 1)
	defer events.Put(snap)
	require.NoError(t, a.Apply(context.Background(), snap))
	require.True(t, a.Live(), "the host's snapshot makes it current")
	bbo, ok := a.BBO()
	require.True(t, ok)
	require.Equal(t, strconv.FormatInt(px, 10), bbo.BidPrice.String())
}

// A book replaced in Books, then added again, kept the Feed its own
// messages bound it to before it was replaced (inherit takes the
// replaced book's only for a book no message bound): the client whose
// connection now carries its stream — its replacement's Feed — was not
// its own, and that connection's loss passed it by. Made live by the
// host's snapshot meanwhile, it stayed live on the dead connection,
// while a loss of its former client (which carries it no more) would
// have broken it. Now a book added again takes its replacement's Feed,
// as a new one does. Failed before: live after its stream's connection
// was lost.
func TestS41rvbookAddedAgainJoinsItsReplacementsFeed(t *testing.T) {
	ctx := context.Background()
	events := newEventsPool()
	sink := &recSink{events: events}
	books := NewBooks(sink, events, nil)
	defer books.Close()
	fa, fb := books.Feed(schema.VenueOKX, nil), books.Feed(schema.VenueOKX, nil)
	a, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(a)
	require.NoError(t, fa.Publish(ctx, s38snap(t, events, "BTC-USDT", 100)))
	c, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(c)
	require.NoError(t, fb.Publish(ctx, s38snap(t, events, "BTC-USDT", 200))) // the stream moved to fb's client
	require.True(t, c.Live())

	books.Add(a) // added again: invalidated, its stream fb's
	require.False(t, a.Live())
	snap := s38snap(t, events, "BTC-USDT", 300)
	defer events.Put(snap)
	require.NoError(t, a.Apply(ctx, snap)) // the host's own snapshot
	require.True(t, a.Live())

	fb.OnEvent(s38loss(1_000)) // the connection that carries its stream
	require.False(t, a.Live(), "a book added again kept live across the loss of the connection its stream is on")
}
