package book

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s39bybit is a pooled Bybit snapshot of depth view, received at ingest.
func s39bybit(t *testing.T, events poolOfEvents, view int, ingest int64) *schema.CanonicalEvent {
	t.Helper()
	ev, err := events.TryGet()
	require.NoError(t, err)
	ev.Venue, ev.Symbol, ev.Type, ev.IngestTS = schema.VenueBybit, "BTCUSDT", schema.EventBookSnapshot, ingest
	ev.Book.LastSeq, ev.Book.Depth = 10, view
	ev.Book.Bids = append(ev.Book.Bids[:0], lvl("100", "1"), lvl("99", "1"))
	ev.Book.Asks = append(ev.Book.Asks[:0], lvl("101", "1"), lvl("102", "1"))
	return ev
}

// A break's announcement still owed (the pool gave nothing) when Books.Add
// replaces the book is published by the replacement: its gap marker
// named the REPLACEMENT's view (Bybit orderbook.200), though the view
// that broke is the replaced book's (orderbook.50) — a book downstream
// following orderbook.50 ignored it, and the tops of view 50 had been
// left without a marker of their own as that gap marker's. The owed
// announcement keeps the view of the book that broke.
func TestS39bookReplacementAnnouncesTheReplacedBooksView(t *testing.T) {
	events, sink, books := s39books(t)
	ctx := context.Background()
	r50, r200 := Bybit, Bybit
	r50.Depth, r200.Depth = 50, 200
	old, err := NewBook(r50, "BTCUSDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(old)
	require.NoError(t, books.Publish(ctx, s39bybit(t, events, 50, 100)))
	require.True(t, old.Live())
	require.NoError(t, old.PublishTop(ctx, 1))
	require.NoError(t, old.PublishTop(ctx, 0)) // its own view, 50
	oweLoss(t, events, old, schema.VenueBybit, 1_000)
	require.False(t, old.Live())
	require.Empty(t, sink.ofType(schema.EventGap))

	nb, err := NewBook(r200, "BTCUSDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(nb)
	told := map[schema.EventType][]int{}
	for _, g := range sink.ofType(schema.EventGap) {
		told[g.Control.GapType] = append(told[g.Control.GapType], g.Book.Depth)
	}
	require.Equal(t, []int{50}, told[schema.EventBookUpdate], "the gap marker names the view that broke")
	require.Equal(t, []int{1}, told[schema.EventBookSnapshot], "the tops of view 1, and only they, get a marker of their own")
}

// A whole-book venue's gap marker names view 0, every view, and reaches
// the subscribers of snapshots too (the dispatcher routes a marker about
// diffs to them): the marker the book added about its tops of view 3
// (PublishTop(3)) told them of one break twice. One marker per break
// reaches a subscriber of snapshots (the rule of dispatch's union), for
// each way the book breaks.
func TestS39bookWholeBookTopsHearOneMarkerPerBreak(t *testing.T) {
	for _, how := range []string{"loss", "upstream gap", "silence", "replaced while owed"} {
		t.Run(how, func(t *testing.T) {
			clk := newStepClock()
			b, sink, events := newRecBook(t, Coinbase, "BTC-USDT", &Options{MaxSilence: time.Minute, Clock: clk})
			books := NewBooks(sink, events, nil)
			books.Add(b)
			require.NoError(t, b.Apply(context.Background(), tenLevels()))
			require.NoError(t, b.PublishTop(context.Background(), 3))
			require.NoError(t, b.PublishTop(context.Background(), 5))
			switch how {
			case "loss":
				require.NoError(t, b.Apply(context.Background(), lostConn(schema.VenueCoinbase, 2)))
			case "upstream gap":
				gap := &schema.CanonicalEvent{Venue: schema.VenueCoinbase, Symbol: "BTC-USDT", Type: schema.EventGap, IngestTS: 2,
					Control: &schema.Control{Kind: schema.ControlGap, GapType: schema.EventBookUpdate}}
				require.NoError(t, b.Apply(context.Background(), gap))
			case "silence":
				clk.step(time.Minute)
			case "replaced while owed":
				held := takeAll(events)
				done, cancel := context.WithCancel(context.Background())
				cancel()
				require.Error(t, b.Apply(done, lostConn(schema.VenueCoinbase, 2)))
				putAll(events, held)
				nb, err := NewBook(Coinbase, "BTC-USDT", &Options{Sink: sink, Events: events})
				require.NoError(t, err)
				books.Add(nb)
			}
			require.False(t, b.Live())
			var toSnapshots []int
			for _, g := range sink.ofType(schema.EventGap) {
				if g.Control.GapType == schema.EventBookUpdate || g.Control.GapType == schema.EventBookSnapshot {
					toSnapshots = append(toSnapshots, g.Book.Depth)
				}
			}
			require.Equal(t, []int{0}, toSnapshots, "a subscriber of snapshots hears one marker, about every view")
			books.Close()
		})
	}
}

// A book gone silent (Options.MaxSilence) on an exhausted pool owes its
// silence announcement (Book.Close publishes it). Replaced then
// (Books.Add), the owed silence marker was dropped: takeOver took on the
// break's announcement owed, the quote and the tops, not the silence's
// gap marker — the subscribers of diffs never heard that the book they
// follow stopped. The replacement publishes it, of the silent book's view.
func TestS39bookReplacementPublishesTheSilenceOwed(t *testing.T) {
	clk := newStepClock()
	events, sink, books := s39books(t)
	old, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events, MaxSilence: time.Minute, Clock: clk})
	require.NoError(t, err)
	books.Add(old)
	require.NoError(t, books.Publish(context.Background(), s38snap(t, events, "BTC-USDT", 100)))
	require.True(t, old.Live())
	held := takeAll(events)
	clk.step(time.Minute)
	require.False(t, old.Live())
	putAll(events, held)
	require.Empty(t, sink.ofType(schema.EventGap))

	nb, err := NewBook(OKX, "BTC-USDT", &Options{Sink: sink, Events: events})
	require.NoError(t, err)
	books.Add(nb)
	gaps := sink.ofType(schema.EventGap)
	require.Len(t, gaps, 1, "the silence marker owed was dropped by the replacement")
	require.Equal(t, schema.EventBookUpdate, gaps[0].Control.GapType)
	require.Equal(t, OKX.Depth, gaps[0].Book.Depth)
	require.Equal(t, []string{"100/101", "0/0"}, s31quoteBBOs(sink), "the silent book's quote withdrawn")
}
