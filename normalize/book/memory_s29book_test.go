package book

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/schema"
)

// Binance "How to manage a local order book correctly": the diff stream
// covers the whole book, the REST snapshot its best Limit levels a side,
// and "you won't learn the quantities for the levels outside of the
// initial snapshot unless they change". A fetched book neither serves a
// level beyond its snapshot's range (Top) nor keeps its top there (it
// resyncs, ReasonRange), so such a level can never be read: kept, every
// price the venue ever touched far from the top stayed in the book for
// as long as it lived — memory without bound, and an insertion at the far
// end of a side moves the whole side. The book keeps none of them.
func TestBinanceLevelsBeyondSnapshotRangeNotKept(t *testing.T) {
	snaps := &binanceSnapshots{bodies: []string{
		`{"lastUpdateId":10,"bids":[["100","1"],["99","1"]],"asks":[["101","1"],["102","1"]]}`,
	}}
	x := newPipe(t, normalize.NewBinance, Binance, "BTC-USDT", &Options{Fetcher: snaps})
	const n = 2000
	for i := range n {
		u := int64(11 + i)
		far := strconv.Itoa(i)
		x.feed(t, binanceDiff("BTCUSDT", u, u, -1,
			[][2]string{{"1." + far, "3"}}, [][2]string{{"1000" + far, "3"}}))
	}
	require.True(t, x.b.Live())
	require.Equal(t, uint64(n), x.b.Stats().Applied)
	x.b.mu.Lock()
	nb, na := x.b.bids.len(), x.b.asks.len()
	x.b.mu.Unlock()
	require.Equal(t, 2, nb, "bids beyond the snapshot's range were kept")
	require.Equal(t, 2, na, "asks beyond the snapshot's range were kept")
	requireTop(t, x.b, [][2]string{{"100", "1"}, {"99", "1"}}, [][2]string{{"101", "1"}, {"102", "1"}})

	// A level inside the range is still applied, at the range's edge too.
	x.feed(t, binanceDiff("BTCUSDT", 11+n, 11+n, -1, [][2]string{{"99.5", "2"}, {"99", "4"}}, [][2]string{{"102", "0"}}))
	require.True(t, x.b.Live())
	requireTop(t, x.b, [][2]string{{"100", "1"}, {"99.5", "2"}, {"99", "4"}}, [][2]string{{"101", "1"}})
}

// A venue whose stream is the whole book (Coinbase level2, a Binance
// side whose snapshot held all of it) sends every level it has: a venue
// — or a peer posing as one — that keeps adding prices far from the top
// grew the book without bound, each far insertion moving the whole side.
// A side keeps at most Options.MaxLevels levels: past it the worst go,
// and the book treats the rest as a truncated snapshot's range — it
// serves nothing beyond, keeps nothing beyond, and resyncs if its top
// ever gets there (ReasonRange), as it never serves a level it lacks.
func TestWholeBookSideBounded(t *testing.T) {
	const maxLevels = 64
	p, bks := cbBooks(t, &Options{MaxLevels: maxLevels})
	b := bks[0]
	ctx := context.Background()
	frame, ev := cbL2Frame, cbL2Event
	require.NoError(t, p.HandleBytes(ctx, frame(0, strings.Replace(ev("snapshot", "BTC-USD", "bid", "1000"), `"updates":[`, `"updates":[{"side":"offer","event_time":"2023-02-09T20:32:50.714964Z","price_level":"2000","new_quantity":"1"},`, 1)), 1))
	require.True(t, b.Live())
	seq := 1
	for i := range 1000 {
		require.NoError(t, p.HandleBytes(ctx, frame(seq, ev("update", "BTC-USD", "bid", strconv.Itoa(999-i%999)+"."+strconv.Itoa(i))), int64(seq+1)))
		seq++
		require.NoError(t, p.HandleBytes(ctx, frame(seq, ev("update", "BTC-USD", "offer", strconv.Itoa(2001+i))), int64(seq+1)))
		seq++
	}
	require.True(t, b.Live())
	b.mu.Lock()
	nb, na := b.bids.len(), b.asks.len()
	b.mu.Unlock()
	require.LessOrEqual(t, nb, maxLevels, "a whole-book side grew past MaxLevels")
	require.LessOrEqual(t, na, maxLevels, "a whole-book side grew past MaxLevels")
	requireTop(t, b, [][2]string{{"1000", "1"}}, [][2]string{{"2000", "1"}})
	var top schema.CanonicalEvent
	require.True(t, b.Top(0, &top))
	require.Len(t, top.Book.Asks, maxLevels)
	require.Equal(t, "2063", top.Book.Asks[maxLevels-1].Price.String())

	// The best asks go one by one: the top stays live down to the last
	// level kept, and resyncs when it would reach levels the book let go.
	for i := range maxLevels - 1 {
		price := "2000"
		if i > 0 {
			price = strconv.Itoa(2000 + i)
		}
		require.NoError(t, p.HandleBytes(ctx, frame(seq, strings.Replace(ev("update", "BTC-USD", "offer", price), `"new_quantity":"1"`, `"new_quantity":"0"`, 1)), int64(seq+1)))
		seq++
		require.True(t, b.Live(), "ask %s removed", price)
	}
	require.NoError(t, p.HandleBytes(ctx, frame(seq, strings.Replace(ev("update", "BTC-USD", "offer", "2063"), `"new_quantity":"1"`, `"new_quantity":"0"`, 1)), int64(seq+1)))
	require.False(t, b.Live(), "a top beyond the levels kept was served as live")
	require.Equal(t, uint64(1), b.Stats().Invalidations)
}

// The default bound takes the deepest real books whole.
func TestMaxLevelsDefault(t *testing.T) {
	b, err := NewBook(Coinbase, "BTC-USD", nil)
	require.NoError(t, err)
	require.Equal(t, 100_000, b.o.MaxLevels)
}

// A fetched (Binance) book buffers diffs while it waits for a snapshot,
// up to MaxBuffer diffs — but each diff may hold as many levels as a
// frame (wsclient's ReadLimit, 16 MiB: ~800 000 levels): a thousand such
// diffs buffered while the venue refused snapshots held gigabytes. The
// buffer holds at most MaxLevels levels in all (the oldest diffs go
// first, Stats.Overflowed, as past MaxBuffer: a later snapshot covers
// them), and a large diff's slices are not kept once it left the buffer.
func TestBufferedLevelsBounded(t *testing.T) {
	const maxLevels, perDiff = 5000, 1000
	fail := FetcherFunc(func(context.Context, string, *schema.CanonicalEvent) error {
		return errors.New("venue down")
	})
	b, _, _ := newRecBook(t, Binance, "BTC-USDT", &Options{Fetcher: fail, MaxLevels: maxLevels, RetryInterval: time.Hour})
	ctx := context.Background()
	big := make([]schema.Level, perDiff)
	for i := range big {
		big[i] = schema.Level{Price: schema.NewDecimal(int64(100000+i), 2), Qty: schema.NewDecimal(1, 0)}
	}
	for u := range uint64(50) {
		ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventBookUpdate}
		ev.Book.FirstSeq, ev.Book.LastSeq = 100+u, 100+u
		ev.Book.Bids = big
		_ = b.Apply(ctx, ev)
	}
	b.mu.Lock()
	held, capacity := 0, 0
	for i := range b.npend {
		held += len(b.pend(i).Bids) + len(b.pend(i).Asks)
	}
	for i := range b.pending {
		capacity += cap(b.pending[i].Bids) + cap(b.pending[i].Asks)
	}
	npend := b.npend
	b.mu.Unlock()
	require.LessOrEqual(t, held, maxLevels, "buffered levels past MaxLevels")
	require.LessOrEqual(t, capacity, 2*maxLevels, "buffer slots keep the slices of diffs gone")
	require.Equal(t, maxLevels/perDiff, npend)
	require.Equal(t, uint64(50-npend), b.Stats().Overflowed)
	require.Equal(t, uint64(50), b.Stats().Buffered)

}

// A buffer replayed keeps nothing of its large diffs: a book that
// resynced many times, a large diff buffered in another slot each time,
// held the largest in every slot it ever used.
func TestReplayedBufferReleasesLargeDiffs(t *testing.T) {
	down, from := false, uint64(0)
	f := FetcherFunc(func(_ context.Context, _ string, dst *schema.CanonicalEvent) error {
		if down {
			return errors.New("venue down")
		}
		dst.Book.LastSeq = from - 1 // joins the first diff buffered
		dst.Book.Bids = append(dst.Book.Bids, schema.Level{Price: schema.NewDecimal(100, 0), Qty: schema.NewDecimal(1, 0)})
		dst.Book.Asks = append(dst.Book.Asks, schema.Level{Price: schema.NewDecimal(101, 0), Qty: schema.NewDecimal(1, 0)})
		return nil
	})
	b, _, _ := newRecBook(t, Binance, "BTC-USDT", &Options{Fetcher: wholeBook{f}, RetryInterval: time.Hour})
	clock := time.Unix(1_700_000_000, 0)
	b.now = func() time.Time { return clock }
	ctx := context.Background()
	large := make([]schema.Level, 2*keepSlice)
	for i := range large {
		large[i] = schema.Level{Price: schema.NewDecimal(int64(50+i), 2), Qty: schema.NewDecimal(1, 0)}
	}
	u := uint64(1000)
	diff := func(levels []schema.Level) {
		ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventBookUpdate}
		u++
		ev.Book.FirstSeq, ev.Book.LastSeq = u, u
		ev.Book.Bids = levels
		_ = b.Apply(ctx, ev)
	}
	small := large[:1]
	const phases = 30
	for k := range phases {
		// The venue is down: k small diffs, then a large one, are
		// buffered (the first after a gap), then it is back.
		down = true
		u += 5 // a gap
		from = u + 1
		for range k {
			diff(small)
		}
		diff(large)
		down = false
		clock = clock.Add(100 * time.Hour) // past RetryInterval and the backoff
		diff(small)
		require.True(t, b.Live(), "phase %d", k)
	}
	b.mu.Lock()
	capacity := 0
	for i := range b.pending {
		capacity += cap(b.pending[i].Bids) + cap(b.pending[i].Asks)
	}
	b.mu.Unlock()
	require.LessOrEqual(t, capacity, 2*keepSlice, "buffer slots keep the slices of large diffs replayed")
}
