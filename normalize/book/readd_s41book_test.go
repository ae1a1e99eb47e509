package book

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// s41cbEvent is a pooled Coinbase book message of BTC-USD: a snapshot or
// a diff (Coinbase's carry no ids), one bid at px × qty and an ask at 200.
func s41cbEvent(t *testing.T, events poolOfEvents, typ schema.EventType, px, qty int64) *schema.CanonicalEvent {
	t.Helper()
	ev, err := events.TryGet()
	require.NoError(t, err)
	ev.Venue, ev.Symbol, ev.Type = schema.VenueCoinbase, "BTC-USD", typ
	ev.Book.Bids = append(ev.Book.Bids[:0], lvl1(px, qty)...)
	ev.Book.Asks = append(ev.Book.Asks[:0], lvl1(200, 1)...)
	return ev
}

// s41replaced adds to books a book a of rule and symbol, live on first
// (published through books), then a book c of the same options in its
// place: a is replaced.
func s41replaced(t *testing.T, books *Books, rule Rule, symbol string, o *Options, first *schema.CanonicalEvent) (a, c *Book) {
	t.Helper()
	a, err := NewBook(rule, symbol, o)
	require.NoError(t, err)
	books.Add(a)
	require.NoError(t, books.Publish(context.Background(), first))
	require.True(t, a.Live())
	c, err = NewBook(rule, symbol, o)
	require.NoError(t, err)
	books.Add(c)
	return a, c
}

// requireNotServed asserts b serves nothing as current: not live, no best
// bid/offer, no levels, no age.
func requireNotServed(t *testing.T, b *Book) {
	t.Helper()
	require.False(t, b.Live(), "a book added again served live on the state it had when replaced")
	_, ok := b.BBO()
	require.False(t, ok)
	var top schema.CanonicalEvent
	require.False(t, b.Top(0, &top))
	require.Empty(t, top.Book.Bids, "the stale levels still served")
	require.Empty(t, top.Book.Asks)
	ex, in := b.Updated()
	require.Zero(t, ex)
	require.Zero(t, in)
}

// A Binance book replaced in Books, then added again, was served live on
// the state it had when replaced (bid 100 × 11) while its replacement
// had applied diffs 12 and 13 meanwhile (100 × 13): a stale book served
// as fresh until its next diff. Now Add invalidates it — a gap marker
// (ReasonAddedAgain) through its Sink — and its next diff fetches a
// snapshot, live on that alone. Failed before: a.Live() true at Add,
// BBO 100 × 11.
func TestS41bookAddedAgainBinanceResyncs(t *testing.T) {
	ctx := context.Background()
	events, _, books := s39books(t)
	sinkA := &recSink{events: events}
	var last atomic.Uint64
	last.Store(10)
	o := &Options{Sink: sinkA, Events: events, Fetcher: s37rvFetcher(&last)}
	a, c := s41replaced(t, books, Binance, "BTC-USDT", o, s37rvDiff(t, events, 11))
	last.Store(12)
	require.NoError(t, books.Publish(ctx, s37rvDiff(t, events, 12)))
	require.NoError(t, books.Publish(ctx, s37rvDiff(t, events, 13)))
	bbo, ok := c.BBO()
	require.True(t, ok)
	require.Equal(t, "13", bbo.BidQty.String())
	fetches := a.Stats().Fetches

	books.Add(a) // added again: it missed 12 and 13
	requireNotServed(t, a)
	require.Equal(t, []string{ReasonAddedAgain}, s40gaps(sinkA)[len(s40gaps(sinkA))-1:], "the break untold to the book's subscribers")
	require.Equal(t, uint64(1), a.Stats().Invalidations)

	last.Store(14)
	require.NoError(t, books.Publish(ctx, s37rvDiff(t, events, 14)))
	require.NoError(t, books.Publish(ctx, s37rvDiff(t, events, 15)))
	require.Equal(t, fetches+1, a.Stats().Fetches, "not resynchronised by a fetch")
	require.True(t, a.Live())
	bbo, ok = a.BBO()
	require.True(t, ok)
	require.Equal(t, "15", bbo.BidQty.String())
}

// A Coinbase book (no ids: nothing in a diff tells a gap) replaced, then
// added again, applied its next diff on top of the levels it had when
// replaced — the bid its replacement's messages removed meanwhile served
// as live for good. Now it is invalidated at Add and its next diff asks
// for the snapshot (Options.Resubscribe), as after a lost connection;
// live on that snapshot only. Failed before: live after Add, the removed
// bid 100 still its best, no resubscription.
func TestS41bookAddedAgainWithoutIDsResubscribes(t *testing.T) {
	ctx := context.Background()
	events, books, sinkA, a, asked := s41rvCoinbaseReplaced(t)
	require.NoError(t, books.Publish(ctx, s41cbEvent(t, events, schema.EventBookUpdate, 90, 1)))

	books.Add(a)
	requireNotServed(t, a)
	require.Contains(t, s40gaps(sinkA), ReasonAddedAgain)
	require.Zero(t, asked.Load(), "Add calls no host callback")

	require.NoError(t, books.Publish(ctx, s41cbEvent(t, events, schema.EventBookUpdate, 95, 1)))
	requireNotServed(t, a)
	require.Equal(t, int32(1), asked.Load(), "the next diff asks for a snapshot")
	require.NoError(t, books.Publish(ctx, s41cbEvent(t, events, schema.EventBookSnapshot, 95, 1)))
	bbo, ok := a.BBO()
	require.True(t, ok)
	require.Equal(t, "95", bbo.BidPrice.String())
}

// A replaced book the host closed (Book.Close: its timers for good), then
// added again, is invalidated all the same: routed its stream again, it
// must not be served on the state it had when replaced. Its Sink, let go
// when it was replaced, publishes nothing. Failed before: live after Add.
func TestS41bookClosedBookAddedAgainNotServedStale(t *testing.T) {
	ctx := context.Background()
	events, _, books := s39books(t)
	sinkA := &recSink{events: events}
	a, _ := s41replaced(t, books, OKX, "BTC-USDT", &Options{Sink: sinkA, Events: events}, s38snap(t, events, "BTC-USDT", 100))
	a.Close()
	n := len(sinkA.ofType(schema.EventGap))
	books.Add(a)
	requireNotServed(t, a)
	require.Len(t, sinkA.ofType(schema.EventGap), n, "a book the host closed published after it was replaced")
	require.NoError(t, books.Publish(ctx, s38snap(t, events, "BTC-USDT", 200)))
	require.True(t, a.Live(), "its stream's next snapshot makes it live")
}

// On a pool that gives nothing at Add (it never waits: no ctx), the
// added-again book's gap marker is owed, not lost: its retry timer
// publishes it RetryInterval later (by the Clock), the book not live
// meanwhile. Failed before: no marker ever, the book live.
func TestS41bookAddedAgainMarkerOwedOnExhaustedPool(t *testing.T) {
	clk := newStepClock()
	events, _, books := s39books(t)
	sinkA := &recSink{events: events}
	o := &Options{Sink: sinkA, Events: events, Clock: clk, RetryInterval: time.Second}
	a, _ := s41replaced(t, books, OKX, "BTC-USDT", o, s38snap(t, events, "BTC-USDT", 100))
	held := takeAll(events)
	books.Add(a)
	requireNotServed(t, a)
	require.NotContains(t, s40gaps(sinkA), ReasonAddedAgain, "the pool gave nothing")
	putAll(events, held)
	clk.step(time.Second)
	require.Contains(t, s40gaps(sinkA), ReasonAddedAgain, "the owed marker never told")
	requireNotServed(t, a)
}

// A replaced book reports not live until the host's own message proves
// it current. A Coinbase diff (no ids) applied by the host to a book
// replaced in Books made it current again on the levels it had when
// replaced, the messages routed to its replacement meanwhile missed:
// the bid they removed served as live. Now only a snapshot, or a diff
// whose ids chain on, does. Failed before: a.Live() true after the
// host's diff, bid 100 its best.
func TestS41bookReplacedBookHostDiffWithoutIDsNotCurrent(t *testing.T) {
	ctx := context.Background()
	events, _, _, a, _ := s41rvCoinbaseReplaced(t)
	diff := s41cbEvent(t, events, schema.EventBookUpdate, 95, 1)
	defer events.Put(diff)
	require.NoError(t, a.Apply(ctx, diff))
	require.False(t, a.Live(), "a replaced book made current by a diff that cannot tell what it missed")
	_, ok := a.BBO()
	require.False(t, ok)

	s41rvHostSnapshotLive(t, events, a, 95)
}

// A Binance book replaced while its fetch ran (without its lock), then
// added again before the fetch returned: the snapshot, asked for before
// the replacement, joined to the diffs it had buffered would make it
// live on a state older than the diffs routed to its replacement
// meanwhile (6, 7), which it never saw. Add marks the running fetch
// lost and drops the buffer: the fetch's snapshot is discarded and the
// next diff fetches again. Failed with the running fetch left alone
// (only the levels dropped): live at seq 5 after the fetch returned.
func TestS41bookAddedAgainDuringItsFetch(t *testing.T) {
	ctx := context.Background()
	entered, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	fetch := FetcherFunc(func(ctx context.Context, _ string, dst *schema.CanonicalEvent) error {
		last := uint64(8)
		if calls.Add(1) == 1 {
			close(entered)
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			last = 4
		}
		dst.Venue, dst.Symbol, dst.Type = schema.VenueBinance, "BTC-USDT", schema.EventBookSnapshot
		dst.Book.LastSeq = last
		dst.Book.Bids = append(dst.Book.Bids[:0], lvl("100", "1"))
		dst.Book.Asks = append(dst.Book.Asks[:0], lvl("101", "1"))
		return nil
	})
	events, _, books := s39books(t)
	sinkA := &recSink{events: events}
	old, err := NewBook(Binance, "BTC-USDT", &Options{Sink: sinkA, Events: events, Fetcher: fetch})
	require.NoError(t, err)
	books.Add(old)
	var perr error
	done, d5 := make(chan struct{}), s37rvDiff(t, events, 5)
	go func() {
		defer close(done)
		perr = books.Publish(ctx, d5)
	}()
	closesWithin(t, entered, "no fetch")
	var last atomic.Uint64
	last.Store(6)
	nb, err := NewBook(Binance, "BTC-USDT", &Options{Sink: sinkA, Events: events, Fetcher: s37rvFetcher(&last)})
	require.NoError(t, err)
	books.Add(nb)
	require.NoError(t, books.Publish(ctx, s37rvDiff(t, events, 6)))
	require.NoError(t, books.Publish(ctx, s37rvDiff(t, events, 7)))
	require.True(t, nb.Live())

	books.Add(old) // its fetch still on its way
	close(release)
	closesWithin(t, done, "the routed diff never returned")
	require.NoError(t, perr)
	requireNotServed(t, old)

	require.NoError(t, books.Publish(ctx, s37rvDiff(t, events, 9)))
	require.Equal(t, int32(2), calls.Load(), "the next diff fetches again")
	bbo, ok := old.BBO()
	require.True(t, ok)
	require.Equal(t, uint64(9), old.LastSeq())
	require.Equal(t, "9", bbo.BidQty.String())
}
