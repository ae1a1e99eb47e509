package book

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/schema"
)

// bufferingBook is a Binance book whose fetches fail for an hour, so that
// every diff it is given is buffered, with maxBuffer slots.
func bufferingBook(tb testing.TB, maxBuffer int, fetch FetcherFunc) *Book {
	tb.Helper()
	if fetch == nil {
		fetch = func(context.Context, string, *schema.CanonicalEvent) error { return errors.New("venue down") }
	}
	b, err := NewBook(Binance, "BTC-USDT", &Options{Fetcher: fetch, MaxBuffer: maxBuffer, RetryInterval: time.Hour})
	require.NoError(tb, err)
	return b
}

// diffEv is a Binance diff U = u = id with levels bids.
func diffEv(id uint64, bids []schema.Level) *schema.CanonicalEvent {
	ev := &schema.CanonicalEvent{Venue: schema.VenueBinance, Symbol: "BTC-USDT", Type: schema.EventBookUpdate}
	ev.Book.FirstSeq, ev.Book.LastSeq = id, id
	ev.Book.Bids = bids
	return ev
}

// The buffer keeps the newest MaxBuffer diffs in order through many
// overflows (its slots reused round and round), and a diff of many levels
// drops as many of the oldest as it must: the snapshot then replays
// exactly the diffs kept, in order.
func TestBufferKeepsNewestInOrder(t *testing.T) {
	ctx := context.Background()
	var snap schema.CanonicalEvent
	fetchOK := false
	b := bufferingBook(t, 7, func(_ context.Context, _ string, dst *schema.CanonicalEvent) error {
		if !fetchOK {
			return errors.New("venue down")
		}
		dst.Type = schema.EventBookSnapshot
		dst.Book = snap.Book
		return nil
	})
	clock := time.Unix(0, 0)
	b.now = func() time.Time { return clock }
	lv := func(p int64) []schema.Level {
		return []schema.Level{{Price: schema.NewDecimal(p, 0), Qty: schema.NewDecimal(1, 0)}}
	}
	for id := uint64(1); id <= 40; id++ {
		_ = b.Apply(ctx, diffEv(id, lv(int64(id)))) // failed or put off: buffered
		clock = clock.Add(2 * time.Hour)
	}
	require.Equal(t, uint64(40-7), b.Stats().Overflowed)
	// Diff 41 pushes 34 out: a snapshot at 34 joins diffs 35 … 41, kept
	// in order (a gap would leave the book not live).
	snap.Book = schema.Book{LastSeq: 34, Bids: lv(1), Asks: lv(1000)}
	fetchOK = true
	clock = clock.Add(1000 * time.Hour) // past any backoff
	require.NoError(t, b.Apply(ctx, diffEv(41, lv(41))))
	require.True(t, b.Live())
	require.Equal(t, uint64(41), b.LastSeq())
	var top schema.CanonicalEvent
	b.Top(0, &top)
	require.Len(t, top.Book.Bids, 8) // 35 … 41 and 1
	require.Equal(t, "41", top.Book.Bids[0].Price.String())
	require.Equal(t, "35", top.Book.Bids[6].Price.String())
	require.Equal(t, uint64(41-7), b.Stats().Overflowed)
}

// BenchmarkBufferOverflow buffers diffs into a full buffer of 1000 (a
// Binance book whose snapshot does not come): each diff drops the oldest.
// /wide: each diff holds MaxLevels levels, so it drops every other diff
// buffered (1000 one-level diffs buffered before it).
func BenchmarkBufferOverflow(b *testing.B) {
	ctx := context.Background()
	one := []schema.Level{{Price: schema.NewDecimal(100, 0), Qty: schema.NewDecimal(1, 0)}}
	b.Run("steady", func(b *testing.B) {
		bk := bufferingBook(b, 1000, nil)
		id := uint64(1)
		for range 1000 {
			_ = bk.Apply(ctx, diffEv(id, one))
			id++
		}
		ev := diffEv(0, one)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			ev.Book.FirstSeq, ev.Book.LastSeq = id, id
			_ = bk.Apply(ctx, ev)
			id++
		}
	})
	b.Run("wide", func(b *testing.B) {
		const maxLevels = 1000
		bk, err := NewBook(Binance, "BTC-USDT", &Options{
			Fetcher:   FetcherFunc(func(context.Context, string, *schema.CanonicalEvent) error { return errors.New("venue down") }),
			MaxBuffer: 1000, MaxLevels: maxLevels, RetryInterval: time.Hour,
		})
		require.NoError(b, err)
		wide := make([]schema.Level, maxLevels)
		for i := range wide {
			wide[i] = schema.Level{Price: schema.NewDecimal(int64(100+i), 0), Qty: schema.NewDecimal(1, 0)}
		}
		ev, w := diffEv(0, one), diffEv(0, wide)
		id := uint64(1)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			for range 999 {
				ev.Book.FirstSeq, ev.Book.LastSeq = id, id
				_ = bk.Apply(ctx, ev)
				id++
			}
			w.Book.FirstSeq, w.Book.LastSeq = id, id
			_ = bk.Apply(ctx, w)
			id++
		}
	})
}
