package book

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// s37rvFetcher answers every fetch with a Binance REST snapshot whose
// lastUpdateId is *last: bid 100, ask 101.
func s37rvFetcher(last *atomic.Uint64) FetcherFunc {
	return func(_ context.Context, _ string, dst *schema.CanonicalEvent) error {
		dst.Venue, dst.Symbol, dst.Type = schema.VenueBinance, "BTC-USDT", schema.EventBookSnapshot
		dst.Book.LastSeq = last.Load()
		dst.Book.Bids = append(dst.Book.Bids[:0], schema.Level{Price: schema.NewDecimal(100, 0), Qty: schema.NewDecimal(1, 0)})
		dst.Book.Asks = append(dst.Book.Asks[:0], schema.Level{Price: schema.NewDecimal(101, 0), Qty: schema.NewDecimal(1, 0)})
		return nil
	}
}

// s37rvDiff is a pooled Binance spot diff U = u = id: bid 100 × id.
func s37rvDiff(t *testing.T, events *pool.Pool[*schema.CanonicalEvent], id uint64) *schema.CanonicalEvent {
	t.Helper()
	ev, err := events.TryGet()
	require.NoError(t, err)
	ev.Venue, ev.Symbol, ev.Type = schema.VenueBinance, "BTC-USDT", schema.EventBookUpdate
	ev.Book.FirstSeq, ev.Book.LastSeq = id, id
	ev.Book.Bids = append(ev.Book.Bids[:0], schema.Level{Price: schema.NewDecimal(100, 0), Qty: schema.NewDecimal(int64(id), 0)})
	return ev
}

// s37rvTape names what sink got: S a snapshot (with its LastSeq and
// levels), U a diff (its id), G a gap marker, B a best bid/offer.
func s37rvTape(sink *recSink) string {
	sink.mu.Lock()
	defer sink.mu.Unlock()
	var out []string
	for _, ev := range sink.got {
		switch ev.Type {
		case schema.EventBookSnapshot:
			s := "S" + u64(ev.Book.LastSeq) + "["
			for _, l := range ev.Book.Bids {
				s += l.Price.String() + "x" + l.Qty.String() + " "
			}
			for _, l := range ev.Book.Asks {
				s += l.Price.String() + "x" + l.Qty.String() + " "
			}
			out = append(out, strings.TrimSpace(s)+"]")
		case schema.EventBookUpdate:
			out = append(out, "U"+u64(ev.Book.LastSeq))
		case schema.EventGap:
			out = append(out, "G")
		case schema.EventBBO:
			out = append(out, "B")
		}
	}
	return strings.Join(out, " ")
}

func u64(v uint64) string { return schema.NewDecimal(int64(v), 0).String() }

// A Binance book goes live on a REST snapshot its subscribers never see:
// a subscriber of the book's diffs (through Books) got diffs and, after a
// break, the book's marker then diffs — nothing to rebuild the book from
// (session doc "Lost market connections": the marker "is followed by a
// resynchronised snapshot"). The book now publishes the state it went
// live on (the snapshot and the buffered diffs replayed) as an
// EventBookSnapshot before the diff that made it live is handed on, at
// start and after each break. Failed before: no S on the tape.
func TestS37rvbookFetchedBookPublishesItsSnapshot(t *testing.T) {
	ctx := context.Background()
	events := schema.NewPools(&pool.Options{CaptureStacks: true}).Events
	sink := &recSink{events: events}
	var last atomic.Uint64
	last.Store(10)
	b, err := NewBook(Binance, "BTC-USDT", &Options{Sink: sink, Events: events, Fetcher: s37rvFetcher(&last)})
	require.NoError(t, err)
	books := NewBooks(sink, events, nil)
	books.Add(b)
	t.Cleanup(func() {
		books.Close()
		require.Zero(t, events.Stats().InUse, "events not returned to the pool")
	})

	require.NoError(t, books.Publish(ctx, s37rvDiff(t, events, 11)))
	require.True(t, b.Live())
	require.NoError(t, books.Publish(ctx, s37rvDiff(t, events, 12)))
	require.Equal(t, "S11[100x11 101x1] B U11 B U12", s37rvTape(sink), "at start: the fetched state, then the diffs")

	gap, err := events.TryGet()
	require.NoError(t, err)
	gap.Venue, gap.Symbol, gap.Type = schema.VenueBinance, "BTC-USDT", schema.EventGap
	gap.UseControl().Kind, gap.UseControl().GapType = schema.ControlGap, schema.EventBookUpdate
	require.NoError(t, books.Publish(ctx, gap))
	require.False(t, b.Live())
	last.Store(30)
	require.NoError(t, books.Publish(ctx, s37rvDiff(t, events, 25))) // covered by the snapshot
	require.True(t, b.Live())
	require.NoError(t, books.Publish(ctx, s37rvDiff(t, events, 31)))
	require.Equal(t, "S11[100x11 101x1] B U11 B U12 G B G S30[100x1 101x1] B U25 B U31", s37rvTape(sink),
		"after the break: the marker, the withdrawal, the upstream marker handed on, then the new state before any diff")
}

// On a pool that gives no event when the book goes live, the snapshot is
// owed: it goes out — the book's state then — before the next diff,
// never dropped. Failed before: no S on the tape.
func TestS37rvbookFetchedSnapshotOwedOnAnExhaustedPool(t *testing.T) {
	events := pool.New("events", 4, func() *schema.CanonicalEvent { return new(schema.CanonicalEvent) }, nil)
	sink := &recSink{events: events}
	var last atomic.Uint64
	last.Store(10)
	b, err := NewBook(Binance, "BTC-USDT", &Options{Sink: sink, Events: events, Fetcher: s37rvFetcher(&last)})
	require.NoError(t, err)
	t.Cleanup(b.Close)

	held := takeAll(events)
	done, cancel := context.WithCancel(context.Background())
	cancel() // the applying goroutine's ctx gives the pool no wait
	d11 := diffEv(11, []schema.Level{{Price: schema.NewDecimal(100, 0), Qty: schema.NewDecimal(11, 0)}})
	require.Error(t, b.Apply(done, d11), "the pool gave no event for the snapshot")
	require.True(t, b.Live())
	require.Empty(t, s37rvTape(sink))
	putAll(events, held)
	d12 := diffEv(12, []schema.Level{{Price: schema.NewDecimal(100, 0), Qty: schema.NewDecimal(12, 0)}})
	require.NoError(t, b.Apply(context.Background(), d12))
	require.Equal(t, "S11[100x11 101x1] B", s37rvTape(sink), "the owed snapshot before the diff, then the quote")
	require.NoError(t, b.Apply(context.Background(), diffEv(13, nil)))
	require.Equal(t, "S11[100x11 101x1] B", s37rvTape(sink), "once")
	require.Zero(t, events.Stats().InUse)
}
