package book

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/meltica/meltica/normalize"
	"github.com/meltica/meltica/pool"
	"github.com/meltica/meltica/schema"
)

// A shallower view of the book's symbol on the same connection — Binance
// btcusdt@depth5 beside btcusdt@depth ("Partial Book Depth Streams"), OKX
// books5 beside books, Bybit orderbook.1 beside orderbook.50 (each depth
// its own u) — is not the book's stream: its top-5 snapshot must not cut
// the book to 5 levels (silently: its ids carry on from the diffs'), nor
// its ids break the book's chain. Through the real parsers and Books.
func TestShallowerViewIgnored(t *testing.T) {
	ctx := context.Background()
	t.Run("binance", func(t *testing.T) {
		srv := newDepthServer(t, BinanceUSDMDepth, `{"lastUpdateId":1000,"bids":[["100.0","1"],["99.0","2"],["98.0","3"],["97.0","4"],["96.0","5"],["95.0","6"]],"asks":[["101.0","3"]]}`)
		bk, sink, p := parsedBook(t, Binance, &Options{Fetcher: &BinanceREST{BaseURL: srv.srv.URL, Path: BinanceUSDMDepth}}, normalize.NewBinance)
		require.NoError(t, p.HandleBytes(ctx, futuresDiff(995, 1003, 990, "100.0", "5"), 1))
		require.True(t, bk.Live())
		view := `{"stream":"btcusdt@depth5@100ms","data":{"e":"depthUpdate","E":1700000000001,"T":1700000000001,"s":"BTCUSDT","U":1004,"u":1005,"pu":1003,"b":[["100.0","5"],["99.0","2"]],"a":[["101.0","3"]]}}`
		require.NoError(t, p.HandleBytes(ctx, []byte(view), 2))
		require.NoError(t, p.HandleBytes(ctx, futuresDiff(1004, 1008, 1003, "94.0", "1"), 3))
		require.Equal(t, uint64(1008), bk.LastSeq())
		requireKept(t, bk, sink, 7, 1)
	})
	t.Run("okx", func(t *testing.T) {
		bk, sink, p := parsedBook(t, OKX, nil, normalize.NewOKX)
		okx := func(ch, action string, prev, seq int, bids string) []byte {
			return fmt.Appendf(nil, `{"arg":{"channel":"%s","instId":"BTC-USDT"},"action":"%s","data":[{"asks":[["101","1","0","1"]],"bids":%s,"ts":"1597026383085","checksum":0,"prevSeqId":%d,"seqId":%d}]}`, ch, action, bids, prev, seq)
		}
		require.NoError(t, p.HandleBytes(ctx, okx("books", "snapshot", -1, 10, `[["100","1","0","1"],["99","1","0","1"],["98","1","0","1"],["97","1","0","1"],["96","1","0","1"],["95","1","0","1"]]`), 1))
		require.True(t, bk.Live())
		require.NoError(t, p.HandleBytes(ctx, fmt.Appendf(nil, `{"arg":{"channel":"books5","instId":"BTC-USDT"},"data":[{"asks":[["101","1","0","1"]],"bids":[["100","1","0","1"]],"instId":"BTC-USDT","ts":"1597026383086","seqId":11}]}`), 2))
		require.NoError(t, p.HandleBytes(ctx, okx("books", "update", 10, 12, `[["94","1","0","1"]]`), 3))
		requireKept(t, bk, sink, 7, 1)
	})
	t.Run("bybit", func(t *testing.T) {
		bk, sink, p := parsedBook(t, Bybit, nil, normalize.NewBybit)
		by := func(depth int, typ string, u int, bids string) []byte {
			return fmt.Appendf(nil, `{"topic":"orderbook.%d.BTCUSDT","type":"%s","ts":1672304484978,"data":{"s":"BTCUSDT","b":%s,"a":[["101","1"]],"u":%d,"seq":1},"cts":1672304484976}`, depth, typ, bids, u)
		}
		require.NoError(t, p.HandleBytes(ctx, by(50, "snapshot", 1000, `[["100","1"],["99","1"]]`), 1))
		require.NoError(t, p.HandleBytes(ctx, by(1, "snapshot", 5000, `[["100","1"]]`), 2))
		require.NoError(t, p.HandleBytes(ctx, by(50, "delta", 1001, `[["98","1"]]`), 3))
		require.NoError(t, p.HandleBytes(ctx, by(1, "delta", 5001, `[["100","2"]]`), 4))
		require.NoError(t, p.HandleBytes(ctx, by(50, "delta", 1002, `[["97","1"]]`), 5))
		require.Equal(t, uint64(1002), bk.LastSeq())
		requireKept(t, bk, sink, 4, 2)
	})
}

// A book that keeps every level (Rule.Depth 0) of a venue with views
// follows the deepest view it has seen: Kraken's book-1000 alone is its
// stream, and a book-10 beside it is ignored.
func TestKeepAllFollowsDeepestView(t *testing.T) {
	rule := KrakenV1
	rule.Depth = 0
	bk, sink, p := parsedBook(t, rule, nil, normalize.NewKraken)
	ctx := context.Background()
	require.NoError(t, p.HandleBytes(ctx, []byte(`[1,{"as":[["101.0","1.0","1.1"]],"bs":[["100.0","1.0","1.1"],["99.0","1.0","1.1"]]},"book-1000","BTC/USDT"]`), 1))
	require.True(t, bk.Live())
	require.NoError(t, p.HandleBytes(ctx, []byte(`[2,{"as":[["101.0","1.0","1.1"]],"bs":[["100.0","1.0","1.1"]]},"book-10","BTC/USDT"]`), 2))
	requireKept(t, bk, sink, 2, 1)
}

// requireKept asserts a live book that kept its bids levels, ignored views
// messages of another view and published no gap marker.
func requireKept(t *testing.T, bk *Book, sink *recSink, bids int, views uint64) {
	t.Helper()
	require.True(t, bk.Live())
	var top schema.CanonicalEvent
	bk.Top(0, &top)
	require.Len(t, top.Book.Bids, bids, "the book keeps every level: the view's top N replaced nothing")
	require.Equal(t, views, bk.Stats().OtherViews)
	require.Zero(t, bk.Stats().Invalidations)
	require.Empty(t, sink.ofType(schema.EventGap))
}

// parsedBook returns a BTC-USDT book fed by a venue parser through Books.
func parsedBook(t *testing.T, rule Rule, o *Options, newParser func(*pool.Pool[*schema.CanonicalEvent], normalize.Sink, *normalize.Options) *normalize.Parser) (*Book, *recSink, *normalize.Parser) {
	t.Helper()
	bk, sink, events := newRecBook(t, rule, "BTC-USDT", o)
	books := NewBooks(nil, events, nil)
	books.Add(bk)
	return bk, sink, newParser(events, books, nil)
}

// A book kept shallower than the view it is fed (Rule.Depth 5 on OKX
// books, 400 levels) cannot follow it: truncated to 5, it loses the levels
// that come into view when a top level goes, which the venue never sends
// again (they were in its view all along), and OKX books carry no checksum
// ("checksum":0) to tell. It ignores a view of another depth, deeper or
// shallower, and warns, rather than serve a book with a hole.
func TestDeeperViewIgnored(t *testing.T) {
	ctx := context.Background()
	r, err := OKX.WithDepth(5)
	require.NoError(t, err)
	bk, _, p := parsedBook(t, r, nil, normalize.NewOKX)
	okx := func(action string, prev, seq int, bids string) []byte {
		return fmt.Appendf(nil, `{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"%s","data":[{"asks":[["101","1","0","1"]],"bids":%s,"ts":"1597026383085","checksum":0,"prevSeqId":%d,"seqId":%d}]}`, action, bids, prev, seq)
	}
	require.NoError(t, p.HandleBytes(ctx, okx("snapshot", -1, 10, `[["100","1","0","1"],["99","1","0","1"],["98","1","0","1"],["97","1","0","1"],["96","1","0","1"],["95","1","0","1"]]`), 1))
	require.NoError(t, p.HandleBytes(ctx, okx("update", 10, 11, `[["100","0","0","0"]]`), 2))
	require.False(t, bk.Live(), "a 5-level book of the 400-level stream would now show 4 bids where the venue has 5 (95 came into view)")
	require.Equal(t, uint64(2), bk.Stats().OtherViews)
}
